-- budget_alloc.lua: allocates a programme budget to a claim's lines before the buyer's script decides.
--
-- ARGV (scripts.h BudgetAllocArgs; ARGV[1] is an empty map, the prelude's A): claim, now, hold (end), the hold
-- end's score (ms), room, then per line in request order its index, cap (units at most) and unit fen — plain
-- strings, so that no table is built for them. Room is one of
--   <total>    the budget's total (fen, from the policy in force); when not every line gets its cap and the
--              budget leased to shards (field sh), nothing is written and the answer says drain = 1: the
--              shards may hold what the lines need (budget_shards.h);
--   x<total>   the same after a drain: whole units that fit, exactly;
--   s<leased>  on a shard: every line its cap or nothing, within the shard's lease (raised to <leased> first).
-- When the claim already has a live or committed entry (a retry) answers its allocation; else gives each line, in
-- order, the whole units that still fit (total − used), at most its cap, and holds their fen until the hold end.
-- Holds that ended (their claims expired) are given back first, but only when they could make a difference: a
-- line did not get its cap without them, or the claim's own entry is one of them (it is allocated again). A purge
-- only adds room, so every answer is the one a purge first would give. Answers {units = {units per line},
-- drain = 1 when it wrote nothing for the budget's shards}.
local claim, now, hold_end, hold_score = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local mode = string.sub(ARGV[6], 1, 1)
local total, leased = tonumber(ARGV[6]), 0
if mode == 's' then
  leased = tonumber(string.sub(ARGV[6], 2))
elseif mode == 'x' then
  total = tonumber(string.sub(ARGV[6], 2))
end

-- The fen this claim may still get.
local function free()
  if mode == 's' then
    return (shard_free(leased))
  end
  return total - used()
end
local n = (#ARGV - 6) / 3
local field = 'c:' .. claim
local out = {}
local entry = redis.call('HGET', BUDGET, field)
if entry then
  local fen, hold, lines = parse_entry(entry)
  if hold == '0' or not le(hold, now) then
    if hold ~= '0' and le(hold, hold_end) and hold ~= hold_end then
      redis.call('HSET', BUDGET, field, fmt(fen) .. '|' .. hold_end .. '|' .. lines)
      redis.call('ZADD', BUDGET_HOLDS, hold_score, claim)
    end
    local got = {}
    for index, units in string.gmatch(lines, '(%d+):(%d+)') do
      got[index] = tonumber(units)
    end
    for i = 1, n do
      out[i] = got[ARGV[4 + 3 * i]] or 0
    end
    return answer('OK', {units = out})
  end
end

-- Each line's units of `remaining` fen, in order (into `out`); the fen they hold, the entry's line parts, and
-- whether every line got its cap.
local function allocate(remaining)
  local fen, parts, all = 0, {}, true
  for i = 1, n do
    local cap, unit_fen = tonumber(ARGV[5 + 3 * i]), tonumber(ARGV[6 + 3 * i])
    local fit = cap
    if unit_fen > 0 then
      fit = math.max(0, math.min(math.floor(remaining / unit_fen), cap))
    end
    remaining = remaining - fit * unit_fen
    fen = fen + fit * unit_fen
    out[i] = fit
    parts[i] = ARGV[4 + 3 * i] .. ':' .. fmt(fit)
    all = all and fit == cap
  end
  return fen, parts, all
end

local fen, parts, all = 0, nil, false
if not entry then
  fen, parts, all = allocate(free())
end
if not all then
  purge(now)
  fen, parts, all = allocate(free())
end
if not all and (mode == 's' or (mode ~= 'x' and redis.call('HGET', BUDGET, 'sh'))) then
  for i = 1, n do
    out[i] = 0
  end
  return answer('OK', {units = out, drain = mode == 's' and 0 or 1})
end
if fen > 0 then
  redis.call('HSET', BUDGET, field, fmt(fen) .. '|' .. hold_end .. '|' .. table.concat(parts, ','))
  redis.call('HINCRBY', BUDGET, 'used', fmt(fen))
  redis.call('ZADD', BUDGET_HOLDS, hold_score, claim)
end
return answer('OK', {units = out})
