-- buyer_refund.lua: a refund of a CONFIRMED or PARTIALLY_REFUNDED claim, in the buyer's slot.
--
-- ARGV: claim id, retailer ('' = any), refund id, fingerprint, now, #lines, (line id, units; 0 = all not yet
-- refunded)... (no lines = the whole claim).
-- A known refund id → the claim, replayed (REFUND_ID_REUSED when its fingerprint differs). Each refunded line
-- gives back its fen left in proportion to its units left (all of it for the last unit); budgets always come back (reconcile),
-- the buyer's counters and, for a line refunded whole, its serials and the once-keys no other line still uses,
-- only when the claim says refunds restore quota. Errors change nothing: NOT_FOUND, WRONG_STATE, LINE_NOT_FOUND,
-- REFUND_EXCEEDS_GRANT. Returns reply() and then the fen this refund gave back (absent for a replay).
local id, retailer, refund_id, fp, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local rec, answer = open_change(id, retailer, now, 'rf', refund_id, fp, 'REFUND_ID_REUSED')
if not rec then
  return answer
end

local n = #rec.ln
local refund_units = {}
for i = 1, n do
  refund_units[i] = 0
end
local requested = tonumber(ARGV[6])
if requested == 0 then
  for i = 1, n do
    refund_units[i] = rec.ln[i].u - rec.ln[i].ru
  end
end
for r = 1, requested do
  local line_id, units = ARGV[5 + 2 * r], tonumber(ARGV[6 + 2 * r])
  local index = nil
  for i = 1, n do
    if rec.ln[i].id == line_id then
      index = i
      break
    end
  end
  if not index then
    return {'LINE_NOT_FOUND'}
  end
  local ln = rec.ln[index]
  local remaining = ln.u - ln.ru - refund_units[index]
  local wanted = units == 0 and remaining or units
  if wanted <= 0 or wanted > remaining then
    return {'REFUND_EXCEEDS_GRANT'}
  end
  refund_units[index] = refund_units[index] + wanted
end

local total = 0
for i = 1, n do
  local units = refund_units[i]
  if units > 0 then
    local ln = rec.ln[i]
    local whole = ln.ru + units == ln.u
    local fen
    if whole then
      fen = ln.f - ln.rf
    else
      -- What is left of the line, shared over the units left (quota_store.h, "Amounts"); every operand is an
      -- integer below 2^47, so the product is exact in a double.
      fen = math.floor((ln.f - ln.rf) * units / (ln.u - ln.ru))
    end
    total = total + fen
    give_back_line(rec, i, units, fen)
  end
end
local every_unit = true
for _, ln in ipairs(rec.ln) do
  if ln.ru ~= ln.u then
    every_unit = false
  end
end
rec.st = every_unit and REFUNDED or PARTIALLY_REFUNDED
rec.up = now
rec.rf[refund_id] = fp
save_claim(id, rec)
ledger(now, id, rec, 'refund', -total, ',"refund":' .. cjson.encode(refund_id))
local out = reply('OK', id, rec, false)
out[#out + 1] = total  -- the fen this call refunded (ClaimRecord.last_change_fen)
return out
