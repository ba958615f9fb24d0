-- buyer_void.lua: CONFIRMED or PARTIALLY_REFUNDED → VOIDED, in the buyer's slot: a refund of every unit not yet
-- refunded.
--
-- A: claim, request (id), fp, now, by / why (caller and reason, for the history).
-- A known request id → the claim, replayed (VOID_ID_REUSED when its fingerprint differs). Each line's refunds become
-- its grant; budgets come back (reconcile); the buyer's counters, the serials and the once-keys come back when the
-- claim says refunds restore quota. Errors change nothing: NOT_FOUND, WRONG_STATE. Answers reply() with ch = the fen
-- this call gave back (absent for a replay).
local id, request_id, fp, now = A.claim, A.request, A.fp, A.now
local rec, early = open_change(id, '', now, 'vd', request_id, fp, 'VOID_ID_REUSED')
if not rec then
  return early
end

local before = owed_by_line(rec)
local total = 0
for i, ln in ipairs(rec.ln) do
  local units = ln.u - ln.ru
  if units > 0 then
    local fen = ln.f - ln.rf
    total = total + fen
    give_back_line(rec, i, units, fen)
  end
end
rec.st = VOIDED
rec.up = now
rec.vd[request_id] = fp
save_claim(id, rec)
add_event(id, rec, 2, now, request_id, before)
ledger(now, id, rec, 'void', -total, ',"request":' .. cjson.encode(request_id))
return reply('OK', id, rec, false, {ch = total})  -- ch: ClaimRecord.last_change_fen
