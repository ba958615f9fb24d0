-- budget_used.lua: fen used (held + committed) of a budget or a shard, after purging holds that ended by now.
--
-- A: now. Answers {used = fen, out = fen leased to shards and not taken back (Σ l − r; in `used`), leases =
-- {suffix, fen ever leased, ...} per shard}. The budget's whole use is used − out + each shard's used.
purge(A.now)
local out, leases = 0, {}
local shards = redis.call('HGET', BUDGET, 'sh')
if shards then
  for s in string.gmatch(shards, '[^,]+') do
    local v = redis.call('HMGET', BUDGET, 'l:' .. s, 'r:' .. s)
    local leased = tonumber(v[1] or '0')
    out = out + leased - tonumber(v[2] or '0')
    leases[#leases + 1] = s
    leases[#leases + 1] = leased
  end
end
return answer('OK', {used = used(), out = out, leases = leases})
