-- buyer_void.lua: CONFIRMED or PARTIALLY_REFUNDED → VOIDED, in the buyer's slot: a refund of every unit not yet
-- refunded.
--
-- ARGV: claim id, request id, fingerprint, now.
-- A known request id → the claim, replayed (VOID_ID_REUSED when its fingerprint differs). Each line's refunds become
-- its grant; budgets come back (reconcile); the buyer's counters, the serials and the once-keys come back when the
-- claim says refunds restore quota. Errors change nothing: NOT_FOUND, WRONG_STATE. Returns reply() and then the fen
-- this call gave back (absent for a replay).
local id, request_id, fp, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local rec = find_claim(id, '', now)
if not rec then
  return {'NOT_FOUND'}
end
rec.vd = rec.vd or {}
local known = rec.vd[request_id]
if known then
  if known ~= fp then
    return {'VOID_ID_REUSED'}
  end
  return reply('OK', id, rec, true)
end
if rec.st ~= CONFIRMED and rec.st ~= PARTIALLY_REFUNDED then
  return {'WRONG_STATE', rec.st}
end

local total = 0
for i, ln in ipairs(rec.ln) do
  local units = ln.u - ln.ru
  if units > 0 then
    local fen = ln.f - ln.rf
    ln.ru, ln.rf = ln.u, ln.f
    total = total + fen
    for _, bg in ipairs(ln.bg) do
      bg.f = bg.f - fen
    end
    if rec.rs == 1 then
      for _, ch in ipairs(ln.ch) do
        local amount = ch.u == 1 and units or fen
        redis.call('HINCRBY', COUNTERS, ch.k, fmt(-amount))
        ch.a = ch.a - amount
      end
      release_refunded_line(rec, i)
    end
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
