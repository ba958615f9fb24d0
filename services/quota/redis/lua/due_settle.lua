-- due_settle.lua: the sweeper's last step on a due-index entry, only if no one moved it since it was read.
--
-- KEYS[1] a due shard (zset: claim ids by when the sweeper must look at them, ms). A: member, score (as read),
-- mode ('remove' | 'reschedule'), to (the new score).
-- Answers {done = true} when this call removed (or moved) the entry: a retry that moved it wins.
local score = redis.call('ZSCORE', KEYS[1], A.member)
if not score or score ~= A.score then
  return answer('OK', {done = false})
end
if A.mode == 'remove' then
  redis.call('ZREM', KEYS[1], A.member)
else
  redis.call('ZADD', KEYS[1], A.to, A.member)
end
return answer('OK', {done = true})
