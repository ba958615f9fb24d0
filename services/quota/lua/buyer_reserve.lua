-- buyer_reserve.lua: the decision of a claim, in the buyer's slot, checked and written at once.
--
-- ARGV: claim id, buyer key, retailer, request id, fingerprint, now, hold end, restores (0/1), draft,
--   QUOTA_EXHAUSTED bit, AMOUNT_CAP_REACHED bit, created (the now of the request id's first attempt: the claim's
--   place in the listing index, written before this script ran),
--   #counters, (field, 'u'|'f', limit)...,
--   #once-keys, (key, taken by this claim 0/1)...,
--   #budgets, (key, allocated to this claim 0/1)...,
--   #lines, (line id, units allowed by the once-keys and budgets, unit fen, reason bits so far,
--            #counters, counter index..., #once-keys, once-key index..., #budgets, budget index...)...
-- Indices are 1-based into the lists above.
--
-- Expires what is due, then: the claim exists → it (replayed), or REQUEST_ID_REUSED when its fingerprint differs.
-- Else each line in order meets the buyer's counters (counter_math.h), counters are charged, the claim is stored
-- RESERVED (held until the hold end) or REJECTED, and a ledger line is written. Returns reply().
local id, buyer, retailer, request, fp, now, hold_end = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local restores, draft = ARGV[8] == '1', ARGV[9]
local QUOTA_EXHAUSTED, AMOUNT_CAP_REACHED = tonumber(ARGV[10]), tonumber(ARGV[11])
local created = ARGV[12]
local at = 13
local function arg()
  local v = ARGV[at]
  at = at + 1
  return v
end
local function indices()
  local list = {}
  for i = 1, tonumber(arg()) do
    list[i] = tonumber(arg())
  end
  return list
end

local counters = {}
for i = 1, tonumber(arg()) do
  counters[i] = {k = arg(), kind = arg(), limit = tonumber(arg())}
end
local once_keys, taken_once, seen = {}, {}, {}
for i = 1, tonumber(arg()) do
  once_keys[i] = arg()
  if arg() == '1' and not seen[once_keys[i]] then
    seen[once_keys[i]] = true
    taken_once[#taken_once + 1] = once_keys[i]
  end
end
local budgets, allocated = {}, {}
seen = {}
for i = 1, tonumber(arg()) do
  budgets[i] = arg()
  if arg() == '1' and not seen[budgets[i]] then
    seen[budgets[i]] = true
    allocated[#allocated + 1] = budgets[i]
  end
end
local lines = {}
for i = 1, tonumber(arg()) do
  lines[i] = {id = arg(), units = tonumber(arg()), unit_fen = tonumber(arg()), reasons = tonumber(arg())}
  lines[i].counters = indices()
  lines[i].once_keys = indices()
  lines[i].budgets = indices()
end

expire_due(now)
local existing = load_claim(id)
if existing then
  if existing.fp ~= fp then
    return {'REQUEST_ID_REUSED'}
  end
  if existing.st == RESERVED and le(existing.ex, now) then
    expire_claim(id, existing)
  end
  return reply('OK', id, existing, true)
end

local function used(counter)
  return tonumber(redis.call('HGET', COUNTERS, counter.k) or '0')
end

local rec = {st = REJECTED, rt = retailer, rq = request, fp = fp, bu = buyer, cr = created, up = now, ex = hold_end,
  rs = restores and 1 or 0, ln = {}, rf = {}, vd = {}, co = {}, bk = allocated, ok = taken_once, okr = {}, sp = {}}
local total = 0
for i, line in ipairs(lines) do
  local ln = {id = line.id, u = 0, f = 0, r = line.reasons, ru = 0, rf = 0, ch = {}, ok = {}, bg = {}}
  if line.units > 0 then
    local units = line.units
    for _, c in ipairs(line.counters) do
      local counter = counters[c]
      if counter.kind == 'u' then
        units = math.max(0, math.min(counter.limit - used(counter), units))
      end
    end
    if units < line.units then
      ln.r = bit.bor(ln.r, QUOTA_EXHAUSTED)
    end
    local fen = units * line.unit_fen
    for _, c in ipairs(line.counters) do
      local counter = counters[c]
      if counter.kind == 'f' then
        local room = math.max(counter.limit - used(counter), 0)
        if fen > room then
          fen = room
          ln.r = bit.bor(ln.r, room == 0 and QUOTA_EXHAUSTED or AMOUNT_CAP_REACHED)
        end
      end
    end
    if fen == 0 then
      units = 0
    end
    ln.u, ln.f = units, fen
    if units > 0 then
      for _, c in ipairs(line.counters) do
        local counter = counters[c]
        local amount = counter.kind == 'u' and units or fen
        redis.call('HINCRBY', COUNTERS, counter.k, fmt(amount))
        ln.ch[#ln.ch + 1] = {k = counter.k, a = amount, u = counter.kind == 'u' and 1 or 0}
      end
      for _, o in ipairs(line.once_keys) do
        ln.ok[#ln.ok + 1] = once_keys[o]
      end
      for _, b in ipairs(line.budgets) do
        ln.bg[#ln.bg + 1] = {k = budgets[b], f = fen}
      end
      total = total + fen
    end
  end
  rec.ln[i] = ln
end

if total > 0 then
  rec.st = RESERVED
  redis.call('ZADD', HOLDS, fmt(ms_of(hold_end)), id)
end
save_claim(id, rec)
redis.call('HSET', CLAIMS, id .. ':d', draft)
ledger(now, id, rec, rec.st == RESERVED and 'reserve' or 'reject', total)
return reply('OK', id, rec, false)
