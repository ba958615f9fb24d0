-- once_take.lua: takes a once-key (a home, an old car) for a claim before the buyer's script decides.
--
-- KEYS[1] the once-key, or a serial key (Confirm takes serials the same way): "<claim id>|<hold end or 0 =
-- committed>". A: claim, now, hold (end), grace (ms).
-- Free, already this claim's, or held by a claim whose hold ended by now → held by this claim until the hold end
-- (a committed key stays committed) and OK, with fresh = true unless it already was this claim's; else TAKEN. The key's TTL (hold end + grace) is only garbage
-- collection: whether a hold is live is decided by its end against the caller's `now`.
local claim, now, hold_end, grace = A.claim, A.now, A.hold, A.grace
local function hold_until(t)
  redis.call('SET', KEYS[1], claim .. '|' .. t, 'PX', fmt(math.max(ms_of(t) - ms_of(now), 0) + grace))
end
local v = redis.call('GET', KEYS[1])
if v then
  local holder, hold = string.match(v, '^(.*)|(%d+)$')
  if holder == claim then
    if hold ~= '0' and le(hold, hold_end) then
      hold_until(hold_end)
    end
    return answer('OK', {fresh = false})
  end
  if hold == '0' or not le(hold, now) then
    return answer('TAKEN')
  end
end
hold_until(hold_end)
return answer('OK', {fresh = true})
