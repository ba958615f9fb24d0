-- buyer_reserve.lua: the decision of a claim, in the buyer's slot, checked and written at once.
--
-- A (scripts.h ReserveArgs): claim, buyer, retailer, request, fp, now, created (the first attempt's now), hold (end),
-- restores, draft, qe / ac (the QUOTA_EXHAUSTED / AMOUNT_CAP_REACHED reason bits), counters {{k = field, u = true for units, limit}...},
-- once {{k = key, took = this claim holds it}...}, budgets {{k = key, took = this claim has an entry}...},
-- lines {{id, units (allowed by the once-keys and budgets), fen (per unit), r (reason bits so far),
-- c / o / b (1-based indices into counters / once / budgets)}...}.
--
-- With a full grant (scripts.h FullGrant), ARGV[1] is an empty map and A is ARGV[2] without its draft; ARGV[3..]
-- are the claim id, now, the hold end's score, the claim as stored, its draft, its ledger line, the number of
-- charges and per charge its counter field, amount and limit. When nothing in the slot is due, the claim is new
-- and every counter has room for its charge, the charges are added and the claim is written as given: the answer
-- is FULL (the caller has the claim). Else the script goes on as without it.
--
-- Expires what is due, then: the claim exists → it (replayed), or REQUEST_ID_REUSED when its fingerprint differs.
-- Else each line in order meets the buyer's counters (quota_store.h, "Amounts", step 4), counters are charged, the
-- claim is stored RESERVED (held until the hold end) or REJECTED, created at `created`, and a ledger line is
-- written. Answers reply().

-- The full grant, or nil when it does not apply (nothing was changed).
local function reserve_in_full()
  local id, now = ARGV[3], ARGV[4]
  -- (HGET, not HEXISTS: the commands the scripts run are the ones deploy/redis/users.acl grants.)
  if anything_due(now) or redis.call('HGET', CLAIMS, id) then
    return nil
  end
  local last = 9 + 3 * tonumber(ARGV[9])
  for i = 10, last, 3 do
    if tonumber(redis.call('HGET', COUNTERS, ARGV[i]) or '0') + tonumber(ARGV[i + 1]) > tonumber(ARGV[i + 2]) then
      return nil
    end
  end
  for i = 10, last, 3 do
    redis.call('HINCRBY', COUNTERS, ARGV[i], ARGV[i + 1])
  end
  redis.call('ZADD', HOLDS, ARGV[5], id)
  redis.call('HSET', CLAIMS, id, ARGV[6], id .. ':d', ARGV[7])
  redis.call('RPUSH', LEDGER, ARGV[8])
  return answer('FULL')
end
if #ARGV > 1 then
  local full = reserve_in_full()
  if full then
    return full
  end
  A = cmsgpack.unpack(ARGV[2])
end
-- (prelude_buyer.lua)

local id, buyer, retailer, request, fp, now, hold_end = A.claim, A.buyer, A.retailer, A.request, A.fp, A.now, A.hold
local created, restores, draft = A.created, A.restores, A.draft or ARGV[7]
local QUOTA_EXHAUSTED, AMOUNT_CAP_REACHED = A.qe, A.ac
-- The counters, lines, once-keys and budgets are read where they are, in A: every table built costs Redis's Lua
-- about 1 µs.
local counters, lines, once_keys, budgets = A.counters, A.lines, A.once, A.budgets

-- The keys of `entries` ({k, took}...) that this claim holds (took), each once, in order.
local function held_keys(entries)
  local out = {}
  if #entries == 0 then
    return out
  end
  local seen = {}
  for _, e in ipairs(entries) do
    if e.took and not seen[e.k] then
      seen[e.k] = true
      out[#out + 1] = e.k
    end
  end
  return out
end
local taken_once, allocated = held_keys(once_keys), held_keys(budgets)

expire_due(now)
local existing = load_claim(id)
if existing then
  if existing.fp ~= fp then
    return answer('REQUEST_ID_REUSED')
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
  local ln = {id = line.id, u = 0, f = 0, r = line.r, ru = 0, rf = 0, ch = {}, ok = {}, bg = {}}
  if line.units > 0 then
    local units = line.units
    for _, c in ipairs(line.c) do
      local counter = counters[c]
      if counter.u then
        units = math.max(0, math.min(counter.limit - used(counter), units))
      end
    end
    if units < line.units then
      ln.r = bit.bor(ln.r, QUOTA_EXHAUSTED)
    end
    local fen = units * line.fen
    for _, c in ipairs(line.c) do
      local counter = counters[c]
      if not counter.u then
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
      for _, c in ipairs(line.c) do
        local counter = counters[c]
        local amount = counter.u and units or fen
        redis.call('HINCRBY', COUNTERS, counter.k, fmt(amount))
        ln.ch[#ln.ch + 1] = {k = counter.k, a = amount, u = counter.u and 1 or 0}
      end
      for _, o in ipairs(line.o) do
        ln.ok[#ln.ok + 1] = once_keys[o].k
      end
      for _, b in ipairs(line.b) do
        ln.bg[#ln.bg + 1] = {k = budgets[b].k, f = fen}
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
-- A new claim: its draft was just written; it has no confirmation or history yet (claims are never deleted
-- from the hash, so nothing is left of an earlier claim with this id).
return reply('OK', id, rec, false, nil, draft, '', '')
