-- prelude_budget.lua: embedded before every budget_*.lua script.
--
-- Budget slot {g:<programme>:<budget>}:
--   KEYS[1] hash  used = fen held + committed; c:<claim id> = "<fen>|<hold end or 0 = committed>|<line:units,...>"
--   KEYS[2] zset  claim ids by hold end (ms), to purge holds that ended
local BUDGET, BUDGET_HOLDS = KEYS[1], KEYS[2]

local function parse_entry(v)
  local fen, hold, lines = string.match(v, '^(%-?%d+)|(%d+)|(.*)$')
  return tonumber(fen), hold, lines
end

-- Gives back every hold that ended by `now` (its claim expired; a confirmed claim's entry is committed).
local function purge(now)
  local ids = redis.call('ZRANGEBYSCORE', BUDGET_HOLDS, '-inf', fmt(ms_of(now)))
  for _, id in ipairs(ids) do
    local v = redis.call('HGET', BUDGET, 'c:' .. id)
    if not v then
      redis.call('ZREM', BUDGET_HOLDS, id)
    else
      local fen, hold = parse_entry(v)
      if hold == '0' then
        redis.call('ZREM', BUDGET_HOLDS, id)
      elseif le(hold, now) then
        redis.call('HINCRBY', BUDGET, 'used', fmt(-fen))
        redis.call('HDEL', BUDGET, 'c:' .. id)
        redis.call('ZREM', BUDGET_HOLDS, id)
      end
    end
  end
end

local function used()
  return tonumber(redis.call('HGET', BUDGET, 'used') or '0')
end
