-- buyer_usage.lua: what the buyer's counters have used (held + committed), after expiring what is due.
--
-- A: now, fields {counter field...}. Answers {used = {integer per field}}.
expire_due(A.now)
local used = {}
for i, field in ipairs(A.fields) do
  used[i] = tonumber(redis.call('HGET', COUNTERS, field) or '0')
end
return answer('OK', {used = used})
