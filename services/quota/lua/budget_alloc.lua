-- budget_alloc.lua: allocates a programme budget to a claim's lines before the buyer's script decides.
--
-- ARGV: claim id, now, hold end, total fen (from the policy in force), #lines, (line index, units at most, unit
-- fen)... in request order.
-- Purges holds that ended; when the claim already has an entry (a retry) answers its allocation; else gives each
-- line, in order, the whole units that still fit (total − used), at most its cap, and holds their fen until the
-- hold end. Returns the units per line, in ARGV order.
local claim, now, hold_end, total = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local n = tonumber(ARGV[5])
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
    out[i] = got[ARGV[3 + 3 * i]] or 0
  end
  return out
end
local remaining = total - used()
local fen, parts = 0, {}
for i = 1, n do
  local index, cap, unit_fen = ARGV[3 + 3 * i], tonumber(ARGV[4 + 3 * i]), tonumber(ARGV[5 + 3 * i])
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
return out
