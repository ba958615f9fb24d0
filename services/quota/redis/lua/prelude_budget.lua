-- prelude_budget.lua: embedded before every budget_*.lua script.
--
-- Budget slot {g:<programme>:<budget>} (the parent) or one of its shards {g:<programme>:<budget>:<s>}:
--   KEYS[1] hash  used = fen held + committed; c:<claim id> = "<fen>|<hold end or 0 = committed>|<line:units,...>"
--                 The parent also: sh = the shards' suffixes it ever leased to ("s1,s2,..."), and per shard
--                 l:<s> = fen ever leased to it, r:<s> = fen it gave back and the parent took back; its `used`
--                 counts every lease not given back (l − r), so that a claim allocating on the parent directly
--                 never takes what a shard may grant.
--                 A shard also: lease = fen the parent leased it (applied so far), ret = fen it gave back; it
--                 grants at most lease − ret (docs/quota-ledger.md, "Budgets at scale").
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

-- A shard's free fen (lease − ret − used), after applying a lease of `leased` fen in all when the parent
-- leased more than the shard applied yet (a crash between the parent's lease and its first use loses nothing:
-- the next use, or a drain, applies it). Also answers its ret.
local function shard_free(leased)
  local v = redis.call('HMGET', BUDGET, 'used', 'lease', 'ret')
  local lease, ret = tonumber(v[2] or '0'), tonumber(v[3] or '0')
  if leased > lease then
    redis.call('HSET', BUDGET, 'lease', fmt(leased))
    lease = leased
  end
  return lease - ret - tonumber(v[1] or '0'), ret
end
