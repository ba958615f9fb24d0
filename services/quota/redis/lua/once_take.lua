-- once_take.lua: takes a once-key (a home, an old car) for a claim before the buyer's script decides.
--
-- KEYS[1] the once-key, or a serial key (Confirm takes serials the same way): "<claim id>|<hold end or 0 =
-- committed>". A: claim, now, hold (end), grace (ms).
-- Free, already this claim's (held live or committed), or held by any claim whose hold ended by now → held by
-- this claim until the hold end (a committed key stays committed) and OK, with fresh = true unless this claim
-- held it live or committed; else TAKEN. A hold of this claim's that ended is no longer the claim's: whoever
-- takes it now takes it fresh, so a call refused later lets it go (a serial fix retried after its first
-- attempt's hold ended kept the serial for 10 more minutes: the simulator, seed 20070). The key's TTL (hold
-- end + grace) is only garbage collection: whether a hold is live is decided by its end against the caller's
-- `now`.
local claim, now, hold_end, grace = A.claim, A.now, A.hold, A.grace
local function hold_until(t)
  redis.call('SET', KEYS[1], claim .. '|' .. t, 'PX', fmt(math.max(ms_of(t) - ms_of(now), 0) + grace))
end
local v = redis.call('GET', KEYS[1])
if v then
  local holder, hold = string.match(v, '^(.*)|(%d+)$')
  if hold == '0' or not le(hold, now) then
    if holder ~= claim then
      return answer('TAKEN')
    end
    if hold ~= '0' and le(hold, hold_end) then
      hold_until(hold_end)
    end
    return answer('OK', {fresh = false})
  end
end
hold_until(hold_end)
return answer('OK', {fresh = true})
