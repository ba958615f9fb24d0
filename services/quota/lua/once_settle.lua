-- once_settle.lua: brings a once-key in line with what the buyer's slot says about the claim (reconcile), or
-- commits it for Confirm. Only ever changes the key while it is this claim's.
--
-- KEYS[1] the once-key (or a serial key). ARGV: claim id, mode, hold end, now, grace (ms).
--   release  the claim no longer holds it → deleted.
--   hold     the claim is RESERVED → held until its hold end (a committed key stays committed).
--   commit   the claim is (being) confirmed → committed: no end, no TTL; 'GONE' when the key is not this claim's
--            or its hold ended by now.
-- Returns {'OK' | 'GONE', 1 when a release found the key still live (something a crash left behind), else 0}.
local claim, mode, hold_end, now, grace = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local v = redis.call('GET', KEYS[1])
local holder, hold = nil, nil
if v then
  holder, hold = string.match(v, '^(.*)|(%d+)$')
end
if holder ~= claim then
  return {mode == 'commit' and 'GONE' or 'OK', 0}
end
local live = hold == '0' or not le(hold, now)
if mode == 'release' then
  redis.call('DEL', KEYS[1])
  return {'OK', live and 1 or 0}
elseif mode == 'commit' then
  if not live then
    return {'GONE', 0}
  end
  if hold ~= '0' then
    redis.call('SET', KEYS[1], claim .. '|0')
  end
  return {'OK', 0}
end
if hold ~= '0' and hold ~= hold_end then
  redis.call('SET', KEYS[1], claim .. '|' .. hold_end, 'PX', fmt(math.max(ms_of(hold_end) - ms_of(now), 0) + grace))
end
return {'OK', 0}
