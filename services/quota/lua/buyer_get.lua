-- buyer_get.lua: the claim as stored, after expiring what is due (so a claim past its hold reads EXPIRED).
--
-- ARGV: claim id, now. Returns reply(), or {'NOT_FOUND'}.
local rec = find_claim(ARGV[1], '', ARGV[2])
if not rec then
  return {'NOT_FOUND'}
end
return reply('OK', ARGV[1], rec, false)
