-- buyer_sweep.lua: the sweeper's reads of a claim it found in the due index.
--
-- A: claim, now, mark. Without mark: as buyer_get (the claim expired when due). With mark, after the sweeper
-- reconciled the other slots: an EXPIRED claim's expiry is marked reported (rp), and `report` is true for the one
-- call that marked it — so each expiry is reported once, whichever sweeper and however many due entries the claim
-- had. Answers reply() (with `report`), or NOT_FOUND (a reservation that died before the buyer's script).
local rec = find_claim(A.claim, '', A.now)
if not rec then
  return answer('NOT_FOUND')
end
local report = false
if A.mark and rec.st == EXPIRED and rec.rp ~= 1 then
  rec.rp = 1
  save_claim(A.claim, rec)
  report = true
end
return reply('OK', A.claim, rec, false, {report = report})
