-- buyer_get.lua: the claim as stored, after expiring what is due (so a claim past its hold reads EXPIRED).
--
-- A: claim, now. Answers reply(), or NOT_FOUND.
local rec = find_claim(A.claim, '', A.now)
if not rec then
  return answer('NOT_FOUND')
end
return reply('OK', A.claim, rec, false)
