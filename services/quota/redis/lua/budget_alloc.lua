-- budget_alloc.lua: allocates a programme budget to a claim's lines before the buyer's script decides.
--
-- A (scripts.h BudgetAllocArgs): claim, now, hold (end), total (fen, from the policy in force), lines {{i = line
-- index, cap = units at most, fen = unit fen}...} in request order.
-- Purges holds that ended; when the claim already has an entry (a retry) answers its allocation; else gives each
-- line, in order, the whole units that still fit (total − used), at most its cap, and holds their fen until the
-- hold end. Answers {units = {units per line, in the order of `lines`}}.
local claim, now, hold_end, total = A.claim, A.now, A.hold, A.total
local n = #A.lines
purge(now)
local out = {}
local entry = redis.call('HGET', BUDGET, 'c:' .. claim)
if entry then
  local fen, hold, lines = parse_entry(entry)
  if hold ~= '0' and le(hold, hold_end) and hold ~= hold_end then
    redis.call('HSET', BUDGET, 'c:' .. claim, fmt(fen) .. '|' .. hold_end .. '|' .. lines)
    redis.call('ZADD', BUDGET_HOLDS, fmt(ms_of(hold_end)), claim)
  end
  local got = {}
  for index, units in string.gmatch(lines, '(%d+):(%d+)') do
    got[index] = tonumber(units)
  end
  for i = 1, n do
    out[i] = got[fmt(A.lines[i].i)] or 0
  end
  return answer('OK', {units = out})
end
local remaining = total - used()
local fen, parts = 0, {}
for i = 1, n do
  local index, cap, unit_fen = fmt(A.lines[i].i), A.lines[i].cap, A.lines[i].fen
  local fit = cap
  if unit_fen > 0 then
    fit = math.max(0, math.min(math.floor(remaining / unit_fen), cap))
  end
  remaining = remaining - fit * unit_fen
  fen = fen + fit * unit_fen
  out[i] = fit
  parts[#parts + 1] = index .. ':' .. fmt(fit)
end
if fen > 0 then
  redis.call('HSET', BUDGET, 'c:' .. claim, fmt(fen) .. '|' .. hold_end .. '|' .. table.concat(parts, ','))
  redis.call('HINCRBY', BUDGET, 'used', fmt(fen))
  redis.call('ZADD', BUDGET_HOLDS, fmt(ms_of(hold_end)), claim)
end
return answer('OK', {units = out})
