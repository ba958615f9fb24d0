-- due_settle.lua: the sweeper's last step on a due-index entry, only if no one moved it since it was read.
--
-- KEYS[1] a due shard (zset: claim ids by when the sweeper must look at them, ms). ARGV: member, score as read,
-- 'remove' | 'reschedule', new score.
-- Returns 1 when this call removed (or moved) the entry, else 0: the instance that removes an expiry's entry
-- reports it, so each expiry is reported once whichever instance sweeps.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or score ~= ARGV[2] then
  return 0
end
if ARGV[3] == 'remove' then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
return 1
