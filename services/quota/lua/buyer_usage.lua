-- buyer_usage.lua: what the buyer's counters have used (held + committed), after expiring what is due.
--
-- ARGV: now, counter field... Returns one integer per field.
expire_due(ARGV[1])
local out = {}
for i = 2, #ARGV do
  out[#out + 1] = tonumber(redis.call('HGET', COUNTERS, ARGV[i]) or '0')
end
return out
