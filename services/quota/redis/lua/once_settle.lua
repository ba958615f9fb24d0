-- once_settle.lua: brings a once-key in line with what the buyer's slot says about the claim (reconcile), or
-- commits it for Confirm. Only ever changes the key while it is this claim's.
--
-- KEYS[1] the once-key (or a serial key). A: claim, mode, hold (end), now, grace (ms).
--   release  the claim no longer holds it → deleted.
--   drop     a call lets go of a hold it took and no longer needs → deleted unless committed (another call of
--            the claim may have committed it meanwhile).
--   hold     the claim is RESERVED → held until its hold end (a committed key stays committed).
--   commit   the claim is (being) confirmed → committed: no end, no TTL; 'GONE' when the key is not this claim's
--            or its hold ended by now.
-- Answers OK or GONE with changed = 1 when a release found the key still live (something a crash left behind).
local claim, mode, hold_end, now, grace = A.claim, A.mode, A.hold, A.now, A.grace
local v = redis.call('GET', KEYS[1])
local holder, hold = nil, nil
if v then
  holder, hold = string.match(v, '^(.*)|(%d+)$')
end
if holder ~= claim then
  return answer(mode == 'commit' and 'GONE' or 'OK', {changed = 0})
end
local live = hold == '0' or not le(hold, now)
if mode == 'release' or (mode == 'drop' and hold ~= '0') then
  redis.call('DEL', KEYS[1])
  return answer('OK', {changed = live and 1 or 0})
elseif mode == 'drop' then
  return answer('OK', {changed = 0})
elseif mode == 'commit' then
  if not live then
    return answer('GONE', {changed = 0})
  end
  if hold ~= '0' then
    redis.call('SET', KEYS[1], claim .. '|0')
  end
  return answer('OK', {changed = 0})
end
if hold ~= '0' and hold ~= hold_end then
  redis.call('SET', KEYS[1], claim .. '|' .. hold_end, 'PX', fmt(math.max(ms_of(hold_end) - ms_of(now), 0) + grace))
end
return answer('OK', {changed = 0})
