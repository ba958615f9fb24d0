-- buyer_confirm.lua: RESERVED → CONFIRMED, in the buyer's slot.
--
-- A (scripts.h ConfirmArgs): claim, retailer ('' = any), now, confirmation, committed (true when the caller
-- committed every budget entry, once-key and serial key the claim holds in other slots), serials {{k = serial key,
-- line = line id}...}.
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
local id, retailer, now, confirmation, committed = A.claim, A.retailer, A.now, A.confirmation, A.committed
local serials = A.serials
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
