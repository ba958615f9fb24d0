-- buyer_correct.lua: lowers the granted fen of lines of a CONFIRMED or PARTIALLY_REFUNDED claim, in the buyer's slot.
--
-- A: claim, request (id), fp, now, lines {{id, fen (the new amount)}...}.
-- A known request id → the claim, replayed (CORRECTION_ID_REUSED when its fingerprint differs). Lines are checked
-- in order, each against the amount before it (a line named twice: against the first): an unknown line →
-- LINE_NOT_FOUND, an amount above the grant or below what was refunded → CORRECTION_NOT_A_REDUCTION; errors change
-- nothing. Each line's grant is lowered (units unchanged); the difference comes back to its budgets (reconcile) and
-- to the buyer's fen counters; the state is unchanged. Answers reply() with ch = the total reduction (absent for a
-- replay).
local id, request_id, fp, now = A.claim, A.request, A.fp, A.now
local rec, early = open_change(id, '', now, 'co', request_id, fp, 'CORRECTION_ID_REUSED')
if not rec then
  return early
end

local fen = {}
for i, ln in ipairs(rec.ln) do
  fen[i] = ln.f
end
for _, wanted in ipairs(A.lines) do
  local line_id, amount = wanted.id, wanted.fen
  local index = nil
  for i, ln in ipairs(rec.ln) do
    if ln.id == line_id then
      index = i
      break
    end
  end
  if not index then
    return answer('LINE_NOT_FOUND')
  end
  if amount > fen[index] or amount < rec.ln[index].rf then
    return answer('CORRECTION_NOT_A_REDUCTION')
  end
  fen[index] = amount
end

local total = 0
for i, ln in ipairs(rec.ln) do
  local delta = ln.f - fen[i]
  if delta ~= 0 then
    ln.f = fen[i]
    total = total + delta
    for _, bg in ipairs(ln.bg) do
      bg.f = bg.f - delta
    end
    for _, ch in ipairs(ln.ch) do
      if ch.u ~= 1 then
        redis.call('HINCRBY', COUNTERS, ch.k, fmt(-delta))
        ch.a = ch.a - delta
      end
    end
  end
end
rec.up = now
rec.co[request_id] = fp
save_claim(id, rec)
ledger(now, id, rec, 'correct', -total, ',"request":' .. cjson.encode(request_id))
return reply('OK', id, rec, false, {ch = total})  -- ch: ClaimRecord.last_change_fen
