-- buyer_refund.lua: a refund of a CONFIRMED or PARTIALLY_REFUNDED claim, in the buyer's slot.
--
-- A: claim, retailer ('' = any), refund (id), fp, now, lines {{id, units (0 = all not yet refunded)}...} (none =
-- the whole claim), by / why (caller and reason, for the history).
-- A known refund id → the claim, replayed (REFUND_ID_REUSED when its fingerprint differs). Each refunded line
-- gives back its fen left in proportion to its units left (all of it for the last unit); budgets always come back (reconcile),
-- the buyer's counters and, for a line refunded whole, its serials and the once-keys no other line still uses,
-- only when the claim says refunds restore quota. Errors change nothing: NOT_FOUND, WRONG_STATE, LINE_NOT_FOUND,
-- REFUND_EXCEEDS_GRANT. Answers reply() with ch = the fen this refund gave back (absent for a replay).
local id, retailer, refund_id, fp, now = A.claim, A.retailer, A.refund, A.fp, A.now
local rec, early = open_change(id, retailer, now, 'rf', refund_id, fp, 'REFUND_ID_REUSED')
if not rec then
  return early
end

local n = #rec.ln
local refund_units = {}
for i = 1, n do
  refund_units[i] = 0
end
local requested = #A.lines
if requested == 0 then
  for i = 1, n do
    refund_units[i] = rec.ln[i].u - rec.ln[i].ru
  end
end
for r = 1, requested do
  local line_id, units = A.lines[r].id, A.lines[r].units
  local index = nil
  for i = 1, n do
    if rec.ln[i].id == line_id then
      index = i
      break
    end
  end
  if not index then
    return answer('LINE_NOT_FOUND')
  end
  local ln = rec.ln[index]
  local remaining = ln.u - ln.ru - refund_units[index]
  local wanted = units == 0 and remaining or units
  if wanted <= 0 or wanted > remaining then
    return answer('REFUND_EXCEEDS_GRANT')
  end
  refund_units[index] = refund_units[index] + wanted
end

local before = owed_by_line(rec)
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
add_event(id, rec, 1, now, refund_id, before)
ledger(now, id, rec, 'refund', -total, ',"refund":' .. cjson.encode(refund_id))
return reply('OK', id, rec, false, {ch = total})  -- ch: ClaimRecord.last_change_fen
