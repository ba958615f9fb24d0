-- index_add.lua: adds a claim to a listing index key before the buyer's script may create it (Reserve step 2).
--
-- KEYS[1] a listing index (zset: claim ids by nanoseconds since 00:00 China time of the key's day, exact: < 2^53).
-- ARGV: score, claim id, TTL in ms (0 = none). The TTL is garbage collection only, counted from the caller's now to
-- the end of the key's day plus the retention, so every write of one day sets about the same expiry.
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
