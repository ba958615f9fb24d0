-- budget_returned.lua (on the parent): takes back what shards gave back (budget_giveback.lua), for a drain.
--
-- ARGV (scripts.h BudgetReturnedArgs; ARGV[1] is an empty map): now, then per shard its suffix and its `ret`.
-- r:<s> only grows (to the shard's ret), and `used` falls by what it grew, so a retry or a stale answer takes
-- back nothing twice. Answers {used = fen} after (with every shard drained: what no shard may grant).
local now = ARGV[2]
for i = 3, #ARGV - 1, 2 do
  local field, returned = 'r:' .. ARGV[i], tonumber(ARGV[i + 1])
  local before = tonumber(redis.call('HGET', BUDGET, field) or '0')
  if returned > before then
    redis.call('HSET', BUDGET, field, fmt(returned))
    redis.call('HINCRBY', BUDGET, 'used', fmt(before - returned))
  end
end
purge(now)
return answer('OK', {used = used()})
