-- buyer_cancel.lua: RESERVED → CANCELLED, in the buyer's slot; the buyer's counters come back at once, budgets
-- and once-keys by reconcile.
--
-- A: claim, retailer ('' = any), now.
-- CANCELLED → it, replayed. EXPIRED → HOLD_EXPIRED. No such claim → NOT_FOUND. Other states → WRONG_STATE.
local id, retailer, now = A.claim, A.retailer, A.now
local rec = find_claim(id, retailer, now)
if not rec then
  return answer('NOT_FOUND')
end
if rec.st == RESERVED then
  local fen = granted_fen(rec)
  for _, ln in ipairs(rec.ln) do
    release_line(ln)
  end
  rec.st = CANCELLED
  rec.up = now
  save_claim(id, rec)
  redis.call('ZREM', HOLDS, id)
  ledger(now, id, rec, 'cancel', -fen)
  return reply('OK', id, rec, false)
elseif rec.st == CANCELLED then
  return reply('OK', id, rec, true)
elseif rec.st == EXPIRED then
  return answer('HOLD_EXPIRED')
end
return answer('WRONG_STATE', {st = rec.st})
