-- buyer_list.lua: several claims of the buyer slot at once, for listings, after expiring what is due (so a claim past
-- its hold reads EXPIRED, as with buyer_get).
--
-- A: now, claims {id...}. Answers {claims = {claim_view() of each, or {missing = true} (an index entry of a
-- reservation that died before the buyer's script)}...}.
local now = A.now
expire_due(now)
local out = {}
for n, id in ipairs(A.claims) do
  local rec = load_claim(id)
  if not rec then
    out[n] = {missing = true}
  else
    if rec.st == RESERVED and le(rec.ex, now) then
      expire_claim(id, rec)
    end
    out[n] = claim_view(id, rec, false)
  end
end
return answer('OK', {claims = out})
