-- prelude_time.lua: embedded before every script of RedisQuotaStore (see embed_lua.cmake).
--
-- Every script takes one argument, ARGV[1]: a MessagePack map of named fields (A below), and answers one MessagePack
-- map (answer()). The hottest calls send an empty map there and plain strings after it (buyer_reserve's full
-- grant, budget_alloc, budget_settle): a string argument costs Lua less than a field of a map. Each script's fields are defined once, by the C++ that encodes and decodes them
-- (services/quota/redis/scripts.h); the Lua reads them by name.
--
-- Times are the caller's `now` and hold ends, never Redis TIME: 19-digit zero-padded nanoseconds since the Unix
-- epoch, exact (a Lua number is a double, so a time is compared as its two halves). A hold end of "0" means
-- committed: no end. Scores of sorted sets are the milliseconds (the first 13 digits), a range that can only be
-- wider than the exact one, so scripts re-check with le(). Amounts are integers below 2^53 (common/money.h), exact
-- in a double.
local A = cmsgpack.unpack(ARGV[1])

-- The reply: a MessagePack map with status `s`.
local function answer(status, fields)
  local out = fields or {}
  out.s = status
  return cmsgpack.pack(out)
end

-- The millisecond score of time `t`.
local function ms_of(t)
  return tonumber(string.sub(t, 1, 13))
end

-- a <= b for two times (not "0").
local function le(a, b)
  local ah, bh = tonumber(string.sub(a, 1, 10)), tonumber(string.sub(b, 1, 10))
  if ah ~= bh then
    return ah < bh
  end
  return tonumber(string.sub(a, 11)) <= tonumber(string.sub(b, 11))
end

-- An integer as Redis arguments want it (tostring would print 1e+15).
local function fmt(n)
  return string.format('%d', n)
end
