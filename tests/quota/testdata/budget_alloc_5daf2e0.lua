-- The budget_alloc script of the version before budget shards (commit 5daf2e0), as that version ran it:
-- prelude_time.lua, prelude_budget.lua and budget_alloc.lua of that commit, joined as embed_lua.cmake joins them.
-- Test data for RedisQuotaStoreTest.TheVersionBeforeShardsNeverGrantsWhatTheShardsHold (a rolling deploy);
-- never loaded by the service.
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
-- prelude_budget.lua: embedded before every budget_*.lua script.
--
-- Budget slot {g:<programme>:<budget>}:
--   KEYS[1] hash  used = fen held + committed; c:<claim id> = "<fen>|<hold end or 0 = committed>|<line:units,...>"
--   KEYS[2] zset  claim ids by hold end (ms), to purge holds that ended
local BUDGET, BUDGET_HOLDS = KEYS[1], KEYS[2]

local function parse_entry(v)
  local fen, hold, lines = string.match(v, '^(%-?%d+)|(%d+)|(.*)$')
  return tonumber(fen), hold, lines
end

-- Gives back every hold that ended by `now` (its claim expired; a confirmed claim's entry is committed).
local function purge(now)
  local ids = redis.call('ZRANGEBYSCORE', BUDGET_HOLDS, '-inf', fmt(ms_of(now)))
  for _, id in ipairs(ids) do
    local v = redis.call('HGET', BUDGET, 'c:' .. id)
    if not v then
      redis.call('ZREM', BUDGET_HOLDS, id)
    else
      local fen, hold = parse_entry(v)
      if hold == '0' then
        redis.call('ZREM', BUDGET_HOLDS, id)
      elseif le(hold, now) then
        redis.call('HINCRBY', BUDGET, 'used', fmt(-fen))
        redis.call('HDEL', BUDGET, 'c:' .. id)
        redis.call('ZREM', BUDGET_HOLDS, id)
      end
    end
  end
end

local function used()
  return tonumber(redis.call('HGET', BUDGET, 'used') or '0')
end
-- budget_alloc.lua: allocates a programme budget to a claim's lines before the buyer's script decides.
--
-- ARGV (scripts.h BudgetAllocArgs; ARGV[1] is an empty map, the prelude's A): claim, now, hold (end), the hold
-- end's score (ms), total (fen, from the policy in force), then per line in request order its index, cap (units
-- at most) and unit fen — plain strings, so that no table is built for them.
-- When the claim already has a live or committed entry (a retry) answers its allocation; else gives each line, in
-- order, the whole units that still fit (total − used), at most its cap, and holds their fen until the hold end.
-- Holds that ended (their claims expired) are given back first, but only when they could make a difference: a
-- line did not get its cap without them, or the claim's own entry is one of them (it is allocated again). A purge
-- only adds room, so every answer is the one a purge first would give. Answers {units = {units per line}}.
local claim, now, hold_end, hold_score, total = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local n = (#ARGV - 6) / 3
local field = 'c:' .. claim
local out = {}
local entry = redis.call('HGET', BUDGET, field)
if entry then
  local fen, hold, lines = parse_entry(entry)
  if hold == '0' or not le(hold, now) then
    if hold ~= '0' and le(hold, hold_end) and hold ~= hold_end then
      redis.call('HSET', BUDGET, field, fmt(fen) .. '|' .. hold_end .. '|' .. lines)
      redis.call('ZADD', BUDGET_HOLDS, hold_score, claim)
    end
    local got = {}
    for index, units in string.gmatch(lines, '(%d+):(%d+)') do
      got[index] = tonumber(units)
    end
    for i = 1, n do
      out[i] = got[ARGV[4 + 3 * i]] or 0
    end
    return answer('OK', {units = out})
  end
end

-- Each line's units of `remaining` fen, in order (into `out`); the fen they hold, the entry's line parts, and
-- whether every line got its cap.
local function allocate(remaining)
  local fen, parts, all = 0, {}, true
  for i = 1, n do
    local cap, unit_fen = tonumber(ARGV[5 + 3 * i]), tonumber(ARGV[6 + 3 * i])
    local fit = cap
    if unit_fen > 0 then
      fit = math.max(0, math.min(math.floor(remaining / unit_fen), cap))
    end
    remaining = remaining - fit * unit_fen
    fen = fen + fit * unit_fen
    out[i] = fit
    parts[i] = ARGV[4 + 3 * i] .. ':' .. fmt(fit)
    all = all and fit == cap
  end
  return fen, parts, all
end

local fen, parts, all = 0, nil, false
if not entry then
  fen, parts, all = allocate(total - used())
end
if not all then
  purge(now)
  fen, parts = allocate(total - used())
end
if fen > 0 then
  redis.call('HSET', BUDGET, field, fmt(fen) .. '|' .. hold_end .. '|' .. table.concat(parts, ','))
  redis.call('HINCRBY', BUDGET, 'used', fmt(fen))
  redis.call('ZADD', BUDGET_HOLDS, hold_score, claim)
end
return answer('OK', {units = out})
