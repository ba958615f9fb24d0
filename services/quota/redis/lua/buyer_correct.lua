-- buyer_correct.lua: lowers the granted fen of lines of a CONFIRMED or PARTIALLY_REFUNDED claim, in the buyer's slot.
--
-- A: claim, request (id), fp, now, lines {{id, fen (the new amount)}...}, by / why (caller and reason, for the
-- history); or, instead of lines, fix = {kind (4 invoice, 5 serial), expect (the confirmation it was computed
-- from), conf (the new confirmation), ob / nb (old and new invoice or serial, for the history), and for a serial:
-- line (id), old / new (serial key names)}: see fix_confirmation below.
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

local before = owed_by_line(rec)

-- A confirmation fix (quota_store.h CorrectRequest::Fix): LINE_NOT_FOUND, SERIAL_NOT_ON_LINE, the new serial already
-- one of the claim's → SERIAL_ALREADY_SUBSIDISED, a confirmation that is no longer `expect` → ABORTED; else the
-- confirmation replaced and, for a serial, the line's key swapped: the old one released and the new one (which the
-- C++ took before this script, held) committed by reconcile, as the plan says.
local function fix_confirmation(fix)
  local line, at = nil, nil
  if fix.kind == 5 then
    for _, ln in ipairs(rec.ln) do
      if ln.id == fix.line then
        line = ln
      end
    end
    if not line then
      return answer('LINE_NOT_FOUND')
    end
    for j, k in ipairs(line.ok) do
      if k == fix.old then
        at = j
      end
    end
    if not at then
      return answer('SERIAL_NOT_ON_LINE')
    end
    for _, ln in ipairs(rec.ln) do
      for _, k in ipairs(ln.ok) do
        if k == fix.new then
          return answer('SERIAL_ALREADY_SUBSIDISED')
        end
      end
    end
  end
  if (redis.call('HGET', CLAIMS, id .. ':k') or '') ~= fix.expect then
    return answer('ABORTED')
  end
  if line then
    line.ok[at] = fix.new
    rec.okr[fix.old] = true
    rec.okr[fix.new] = nil
    local listed = false
    for _, k in ipairs(rec.ok) do
      listed = listed or k == fix.new
    end
    if not listed then
      rec.ok[#rec.ok + 1] = fix.new
    end
  end
  redis.call('HSET', CLAIMS, id .. ':k', fix.conf)
  rec.up = now
  rec.co[request_id] = fp
  save_claim(id, rec)
  add_event(id, rec, fix.kind, now, request_id, before, fix.ob, fix.nb)
  return reply('OK', id, rec, false, {ch = 0})
end

if A.fix then
  return fix_confirmation(A.fix)
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
add_event(id, rec, 3, now, request_id, before)
ledger(now, id, rec, 'correct', -total, ',"request":' .. cjson.encode(request_id))
return reply('OK', id, rec, false, {ch = total})  -- ch: ClaimRecord.last_change_fen
