-- buyer_list.lua: several claims of the buyer slot at once, for listings, after expiring what is due (so a claim past
-- its hold reads EXPIRED, as with buyer_get).
--
-- ARGV: now, claim id... Returns one element per id: reply() of the claim, or {'NOT_FOUND'} (an index entry of a
-- reservation that died before the buyer's script).
local now = ARGV[1]
expire_due(now)
local out = {}
for n = 2, #ARGV do
  local id = ARGV[n]
  local rec = load_claim(id)
  if not rec then
    out[#out + 1] = {'NOT_FOUND'}
  else
    if rec.st == RESERVED and le(rec.ex, now) then
      expire_claim(id, rec)
    end
    out[#out + 1] = reply('OK', id, rec, false)
  end
end
return out
