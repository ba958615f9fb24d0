-- prelude_buyer_keys.lua: embedded before every buyer_*.lua script, after prelude_time.lua: the buyer slot's keys
-- and the few functions a script's fast path needs (the lines of buyer_*.lua above its line
-- "-- (prelude_buyer.lua)", which run before the functions of prelude_buyer.lua are created: a fast path that
-- answers does not pay for the ~35 it does not use).
--
-- Buyer slot {b:<tag>} (every key below shares the buyer tag, so one script sees and changes them at once):
--   KEYS[1] claims   hash  <claim id> = the claim (cmsgpack, below), <claim id>:d = draft, <claim id>:k = confirmation,
--                          <claim id>:h = its history (add_event; absent until its first refund, void or correction)
--   KEYS[2] counters hash  <buyer key>:<programme>:<field> = units or fen used (held + committed)
--   KEYS[3] holds    zset  RESERVED claims by hold end (ms): lazy expiry
--   KEYS[4] ledger   list  one JSON line per money event
--
-- A claim: st state (1..8 as tradein.v1.Claim.State), rt retailer, rq request id, fp fingerprint, bu buyer key,
-- cr/up/ex created/updated/hold end (times), rs 1 when a refund restores quota, ln lines, rf refund id ->
-- fingerprint, vd void request id -> fingerprint, co correction request id -> fingerprint, bk budget keys it may
-- hold an entry in, ok once-keys and serial keys it may hold, okr those a refund or void released, sp serial keys a
-- confirmation in progress is taking (key -> true; held while the claim is RESERVED, cleared when it is confirmed).
-- A line: id, u/f units/fen granted, r reason bits, ru/rf units/fen refunded, ch counter charges {k field, a amount,
-- u 1 = units}, ok once-keys and serial keys held, bg budget charges {k budget key, f fen}. rp 1 once a sweeper
-- reported the claim's expiry (each expiry is reported once, by the sweeper that sets it). gf, in claims a full
-- grant stored (scripts.h FullGrant, since 2026-12-05): the fen granted, read only while the claim is RESERVED
-- (buyer_confirm.lua confirm_in_place); the scripts keep it as any other field.
local CLAIMS, COUNTERS, HOLDS, LEDGER = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local function ledger(at, id, rec, event, fen, extra)
  redis.call('RPUSH', LEDGER, '{"at":"' .. at .. '","claim":"' .. id .. '","buyer":"' .. rec.bu .. '","event":"' ..
    event .. '","fen":' .. fmt(fen) .. (extra or '') .. '}')
end

-- True when expire_due(now) may have something to do: a hold in this slot ended by now (to the millisecond).
local function anything_due(now)
  return redis.call('ZRANGEBYSCORE', HOLDS, '-inf', fmt(ms_of(now)), 'LIMIT', 0, 1)[1] ~= nil
end

-- A field beside the claim's record (':d' draft, ':k' confirmation, ':h' history), '' when it has none.
local function claim_field(id, suffix)
  return redis.call('HGET', CLAIMS, id .. suffix) or ''
end

