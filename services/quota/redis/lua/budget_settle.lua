-- budget_settle.lua: brings a claim's budget entry in line with what the buyer's slot says (reconcile), or
-- commits it for Confirm. Never creates an entry, and only ever lowers one: a claim's share of a budget only
-- shrinks over its life (allocation → granted → granted − refunded → 0), so a late, stale call cannot undo a newer
-- one.
--
-- ARGV (scripts.h BudgetSettleArgs; ARGV[1] is an empty map, the prelude's A): claim, mode ('hold' | 'commit'),
-- target (fen), hold (end), the hold end's score (ms), now — plain strings.
--   target 0   the claim holds nothing here → entry deleted, its fen given back.
--   hold       (RESERVED) fen lowered to the target, held until the claim's hold end (a committed entry stays).
--   commit     (confirmed) fen lowered to the target, committed: purges no longer touch it; 'GONE' when there is
--              no entry or its hold ended by now.
-- Answers OK or GONE with changed = 1 when it gave back fen that was still live (something a crash left behind).
local claim, mode, target, hold_end, hold_score, now = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local field = 'c:' .. claim
local entry = redis.call('HGET', BUDGET, field)
if not entry then
  return answer(mode == 'commit' and target > 0 and 'GONE' or 'OK', {changed = 0})
end
local fen, hold, lines = parse_entry(entry)
local live = hold == '0' or not le(hold, now)
if mode == 'commit' and not live then
  return answer('GONE', {changed = 0})
end
if target <= 0 then
  redis.call('HINCRBY', BUDGET, 'used', fmt(-fen))
  redis.call('HDEL', BUDGET, field)
  redis.call('ZREM', BUDGET_HOLDS, claim)
  return answer('OK', {changed = (live and fen > 0) and 1 or 0})
end
local changed = 0
local new_fen = math.min(fen, target)
if new_fen ~= fen then
  redis.call('HINCRBY', BUDGET, 'used', fmt(new_fen - fen))
  changed = live and 1 or 0
end
local new_hold = hold
if mode == 'commit' then
  new_hold = '0'
  redis.call('ZREM', BUDGET_HOLDS, claim)
elseif hold ~= '0' and hold ~= hold_end then
  new_hold = hold_end
  redis.call('ZADD', BUDGET_HOLDS, hold_score, claim)
end
redis.call('HSET', BUDGET, field, fmt(new_fen) .. '|' .. new_hold .. '|' .. lines)
return answer('OK', {changed = changed})
