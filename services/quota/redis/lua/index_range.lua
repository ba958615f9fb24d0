-- index_range.lua: the next entries of a listing index after a position, in one direction (a page step of
-- ListClaims).
--
-- KEYS[1] a listing index (zset: claim ids by nanoseconds in the day). A: dir ('asc' | 'desc'), after (true when
-- there is a position), score and id (the position), count.
-- Answers {entries = {{claim id, score}...}}: at most `count` entries strictly after (score, claim id) in the
-- direction, in order. Redis orders members of one score bytewise, as C++ compares strings; Lua's < on strings follows the locale,
-- so members are compared byte by byte here.
local dir, has_position, count = A.dir, A.after, A.count
local position_score, position_id = A.score, A.id

local function bytes_less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x < y
    end
  end
  return #a < #b
end

-- Whether the entry (score, id) comes strictly after the position in the direction.
local function after(score, id)
  if not has_position then
    return true
  end
  if score ~= position_score then
    return (dir == 'asc') == (score > position_score)
  end
  if dir == 'asc' then
    return bytes_less(position_id, id)
  end
  return bytes_less(id, position_id)
end

local out = {}
local offset = 0
local batch = count + 16
while #out < count do
  local got
  if dir == 'asc' then
    got = redis.call('ZRANGEBYSCORE', KEYS[1], has_position and fmt(position_score) or '-inf', '+inf', 'WITHSCORES', 'LIMIT',
      fmt(offset), fmt(batch))
  else
    got = redis.call('ZREVRANGEBYSCORE', KEYS[1], has_position and fmt(position_score) or '+inf', '-inf', 'WITHSCORES', 'LIMIT',
      fmt(offset), fmt(batch))
  end
  for i = 1, #got, 2 do
    local score = tonumber(got[i + 1])
    if #out < count and after(score, got[i]) then
      out[#out + 1] = {got[i], score}
    end
  end
  if #got < 2 * batch then
    break
  end
  offset = offset + batch
end
return answer('OK', {entries = out})
