-- budget_lease.lua (on the parent): leases fen to shard <s> when the shard cannot pay a claim's lines.
--
-- ARGV (scripts.h BudgetLeaseArgs; ARGV[1] is an empty map): suffix, want (fen the claim's lines need), slice
-- (fen a lease is while the budget has room for a slice per shard), shards (how many), total (fen, from the
-- policy in force), now. Grants nothing unless the budget's room covers `want` (then the claim is decided on
-- the parent after a drain); else `want`, or a slice when that is more and the room has a slice for every
-- shard. The grant counts in `used` and in l:<s>. Answers {leased = l:<s> after, granted = fen}.
local s, want, slice = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local shards, total, now = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local field = 'l:' .. s
local room = total - used()
if room < want then
  purge(now)
  room = total - used()
end
local leased = redis.call('HGET', BUDGET, field)
if room < want or want <= 0 then
  return answer('OK', {leased = tonumber(leased or '0'), granted = 0})
end
local grant = want
if slice > want and room >= shards * slice then
  grant = slice
end
if not leased then
  local known = redis.call('HGET', BUDGET, 'sh')
  redis.call('HSET', BUDGET, 'sh', known and (known .. ',' .. s) or s)
end
redis.call('HINCRBY', BUDGET, 'used', fmt(grant))
return answer('OK', {leased = redis.call('HINCRBY', BUDGET, field, fmt(grant)), granted = grant})
