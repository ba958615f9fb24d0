-- buyer_confirm.lua: RESERVED → CONFIRMED, in the buyer's slot.
--
-- ARGV (scripts.h ConfirmArgs; ARGV[1] is an empty map, the prelude's A): claim, retailer ('' = any), now,
-- confirmation, committed ('1' when the caller committed every budget entry, once-key and serial key the claim
-- holds in other slots), in_place ('1': a full grant's claim may be confirmed in place, confirm_in_place below),
-- then per serial its key and its line id — plain strings, so that the common path unpacks no map.
-- RESERVED and not due:
--   not committed: the serials are checked, in order: a serial of an unknown line → LINE_NOT_FOUND {n}; a line
--     whose serials do not number its granted units → SERIAL_COUNT {n of its first serial, u = its units}; a
--     serial key given twice → SERIAL_DUPLICATE {n of the second} (n is 1-based into the serials); nothing
--     changes on an error. With serials, they are recorded as the claim's pending serial keys (sp, also in ok so
--     that every later reconcile knows them) and the answer is NEEDS_COMMIT; without, NEEDS_COMMIT when the claim
--     holds something elsewhere (no change), else CONFIRMED at once.
--   committed: CONFIRMED (no longer in the holds, so it never expires); each serial key joins its line's held
--     keys; the pending serials are cleared.
-- CONFIRMED → it, replayed (the serials are ignored). EXPIRED (or due) → HOLD_EXPIRED. No such claim of this
-- retailer → NOT_FOUND. Other states → WRONG_STATE.
local id, retailer, now, confirmation = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local committed, in_place = ARGV[6] == '1', ARGV[7] == '1'
local serials = {}
for i = 8, #ARGV - 1, 2 do
  serials[#serials + 1] = {k = ARGV[i], line = ARGV[i + 1]}
end

-- The MessagePack unsigned integer at byte p of s (as the C++ writes one: fixint, uint16, uint32 or int64), and
-- the position after it; nil for another type.
local function uint_at(s, p)
  local b = string.byte(s, p)
  if b < 128 then
    return b, p + 1
  end
  local size = (b == 205 and 2) or (b == 206 and 4) or (b == 211 and 8) or nil
  if not size then
    return nil
  end
  local n = 0
  for i = p + 1, p + size do
    n = n * 256 + string.byte(s, i)
  end
  return n, p + 1 + size
end

-- The MessagePack string at byte p of s (fixstr or str8: ids and keys are shorter than 256 bytes), and the
-- position after it; nil for another type.
local function str_at(s, p)
  local b = string.byte(s, p)
  local size, from
  if b >= 160 and b <= 191 then
    size, from = b - 160, p + 1
  elseif b == 217 then
    size, from = string.byte(s, p + 1), p + 2
  else
    return nil
  end
  return string.sub(s, from, from + size - 1), from + size
end

-- The number of strings in the MessagePack array at byte p of s (a fixarray of strings as str_at reads them), and
-- the position after it; nil for another type.
local function strings_at(s, p)
  local b = string.byte(s, p)
  if b < 144 or b > 159 then
    return nil
  end
  p = p + 1
  for _ = 1, b - 144 do
    local item
    item, p = str_at(s, p)
    if not item then
      return nil
    end
  end
  return b - 144, p
end

-- The confirmation of a claim as a full grant stored it (scripts.cc ReserveArgs::Stored: a map of 18 whose first
-- fields are st, up, ex, gf, bk, ok, rt and bu), with no unpacking or packing. Taken when no serials are given,
-- nothing in the slot is due, the claim is RESERVED and live and is this retailer's; else nil (nothing changed)
-- and the general path below decides. Then:
--   the claim holds something elsewhere (bk or ok not empty: a full grant's claim then has a line that holds it,
--     so this is the general path's holds_elsewhere()) that the caller has not committed: NEEDS_COMMIT, with
--     the stored record (the caller reads only its hold end and plan: no draft, confirmation or history);
--   else RESERVED -> CONFIRMED is a change of the bytes of st and up, answered as reply() would, with the stored
--     record itself in place of the claim's fields (scripts.cc ReadClaim).
local function confirm_in_place()
  if #serials > 0 then
    return nil
  end
  local packed = redis.call('HGET', CLAIMS, id)
  if not packed or string.sub(packed, 1, 11) ~= '\222\0\18\162st\1\162up\179' or
      string.sub(packed, 31, 34) ~= '\162ex\179' or string.sub(packed, 54, 56) ~= '\162gf' then
    return nil
  end
  if le(string.sub(packed, 35, 53), now) then
    return nil
  end
  local granted, p = uint_at(packed, 57)
  if not granted then
    return nil
  end
  -- bk and ok: both empty on the common path, else counted (the claim holds something elsewhere when either is not).
  local elsewhere, rt_at = false, p + 11
  if string.sub(packed, p, p + 10) ~= '\162bk\144\162ok\144\162rt' then
    local budgets, onces, at
    if string.sub(packed, p, p + 2) == '\162bk' then
      budgets, at = strings_at(packed, p + 3)
    end
    if not budgets or string.sub(packed, at, at + 2) ~= '\162ok' then
      return nil
    end
    onces, at = strings_at(packed, at + 3)
    if not onces or string.sub(packed, at, at + 2) ~= '\162rt' then
      return nil
    end
    elsewhere, rt_at = budgets + onces > 0, at + 3
  end
  local rt, q = str_at(packed, rt_at)
  if not rt or (retailer ~= '' and rt ~= retailer) or string.sub(packed, q, q + 2) ~= '\162bu' then
    return nil
  end
  local buyer = str_at(packed, q + 3)
  -- Last, as the dearest check: anything due in the slot is expired first, by the general path.
  if not buyer or anything_due(now) then
    return nil
  end
  if elsewhere and not committed then
    return answer('NEEDS_COMMIT', {rp = false, c = {id = id, r = packed}})
  end
  local confirmed = string.sub(packed, 1, 6) .. '\2\162up\179' .. now .. string.sub(packed, 31)
  redis.call('HSET', CLAIMS, id, confirmed, id .. ':k', confirmation)
  redis.call('ZREM', HOLDS, id)
  ledger(now, id, {bu = buyer}, 'confirm', granted)
  return answer('OK', {rp = false,
    c = {id = id, r = confirmed, d = claim_field(id, ':d'), k = confirmation, h = claim_field(id, ':h')}})
end
if in_place then
  local done = confirm_in_place()
  if done then
    return done
  end
end
-- (prelude_buyer.lua)

local rec = find_claim(id, retailer, now)
if not rec then
  return answer('NOT_FOUND')
end
if rec.st == CONFIRMED then
  return reply('OK', id, rec, true)
elseif rec.st == EXPIRED then
  return answer('HOLD_EXPIRED')
elseif rec.st ~= RESERVED then
  return answer('WRONG_STATE', {st = rec.st})
end

-- The line index of each serial.
local index = {}
for n, s in ipairs(serials) do
  for i, ln in ipairs(rec.ln) do
    if ln.id == s.line then
      index[n] = i
      break
    end
  end
end

if not committed then
  for n = 1, #serials do
    if not index[n] then
      return answer('LINE_NOT_FOUND', {n = n})
    end
  end
  local count, first, order = {}, {}, {}
  for n = 1, #serials do
    local i = index[n]
    if not count[i] then
      count[i], first[i] = 0, n
      order[#order + 1] = i
    end
    count[i] = count[i] + 1
  end
  for _, i in ipairs(order) do
    if count[i] ~= rec.ln[i].u then
      return answer('SERIAL_COUNT', {n = first[i], u = rec.ln[i].u})
    end
  end
  local seen = {}
  for n, s in ipairs(serials) do
    if seen[s.k] then
      return answer('SERIAL_DUPLICATE', {n = n})
    end
    seen[s.k] = true
  end
  if #serials > 0 then
    rec.sp = {}
    local known = {}
    for _, k in ipairs(rec.ok) do
      known[k] = true
    end
    for _, s in ipairs(serials) do
      rec.sp[s.k] = true
      if not known[s.k] then
        rec.ok[#rec.ok + 1] = s.k
        known[s.k] = true
      end
    end
    save_claim(id, rec)
    return reply('NEEDS_COMMIT', id, rec, false)
  end
  if holds_elsewhere(rec) then
    return reply('NEEDS_COMMIT', id, rec, false)
  end
end

if #serials > 0 then
  local known = {}
  for _, k in ipairs(rec.ok) do
    known[k] = true
  end
  for n, s in ipairs(serials) do
    local i = index[n]
    if i then
      local ln = rec.ln[i]
      ln.ok[#ln.ok + 1] = s.k
      if not known[s.k] then
        rec.ok[#rec.ok + 1] = s.k
        known[s.k] = true
      end
    end
  end
end
rec.sp = {}
rec.st = CONFIRMED
rec.up = now
save_claim(id, rec)
redis.call('HSET', CLAIMS, id .. ':k', confirmation)
redis.call('ZREM', HOLDS, id)
ledger(now, id, rec, 'confirm', granted_fen(rec))
return reply('OK', id, rec, false, nil, nil, confirmation)
