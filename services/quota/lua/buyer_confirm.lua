-- buyer_confirm.lua: RESERVED → CONFIRMED, in the buyer's slot.
--
-- ARGV: claim id, retailer ('' = any), now, confirmation, committed (1 when the caller committed every budget entry
-- and once-key the claim holds in other slots).
-- RESERVED and not due: when it holds something elsewhere and committed ~= 1 → NEEDS_COMMIT (with the plan, no
-- change); else CONFIRMED (no longer in the holds, so it never expires). CONFIRMED → it, replayed. EXPIRED (or due)
-- → HOLD_EXPIRED. No such claim of this retailer → NOT_FOUND. Other states → WRONG_STATE.
local id, retailer, now, confirmation, committed = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local rec = find_claim(id, retailer, now)
if not rec then
  return {'NOT_FOUND'}
end
if rec.st == RESERVED then
  if committed ~= '1' and holds_elsewhere(rec) then
    return reply('NEEDS_COMMIT', id, rec, false)
  end
  rec.st = CONFIRMED
  rec.up = now
  save_claim(id, rec)
  redis.call('HSET', CLAIMS, id .. ':k', confirmation)
  redis.call('ZREM', HOLDS, id)
  ledger(now, id, rec, 'confirm', granted_fen(rec))
  return reply('OK', id, rec, false)
elseif rec.st == CONFIRMED then
  return reply('OK', id, rec, true)
elseif rec.st == EXPIRED then
  return {'HOLD_EXPIRED'}
end
return {'WRONG_STATE', rec.st}
