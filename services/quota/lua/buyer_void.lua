-- buyer_void.lua: CONFIRMED or PARTIALLY_REFUNDED → VOIDED, in the buyer's slot: a refund of every unit not yet
-- refunded.
--
-- ARGV: claim id, request id, fingerprint, now.
-- A known request id → the claim, replayed (VOID_ID_REUSED when its fingerprint differs). Each line's refunds become
-- its grant; budgets come back (reconcile); the buyer's counters, the serials and the once-keys come back when the
-- claim says refunds restore quota. Errors change nothing: NOT_FOUND, WRONG_STATE. Returns reply() and then the fen
-- this call gave back (absent for a replay).
local id, request_id, fp, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local rec, answer = open_change(id, '', now, 'vd', request_id, fp, 'VOID_ID_REUSED')
if not rec then
  return answer
end

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
ledger(now, id, rec, 'void', -total, ',"request":' .. cjson.encode(request_id))
local out = reply('OK', id, rec, false)
out[#out + 1] = total  -- the fen this call gave back (ClaimRecord.last_change_fen)
return out
