-- budget_giveback.lua (on a shard): gives back every fen of the shard's lease that no claim holds, for a drain.
--
-- ARGV (scripts.h BudgetGivebackArgs; ARGV[1] is an empty map): leased (l:<s> as the parent has it, applied
-- first when the shard has not), now. Holds that ended are purged first. `ret` only grows, so a retry gives back
-- nothing twice. Answers {returned = ret after}: the parent takes back ret − r:<s> (budget_returned.lua).
purge(ARGV[3])
local free, ret = shard_free(tonumber(ARGV[2]))
if free > 0 then
  ret = ret + free
  redis.call('HSET', BUDGET, 'ret', fmt(ret))
end
return answer('OK', {returned = ret})
