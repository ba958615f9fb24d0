-- prelude_buyer.lua: embedded before every buyer_*.lua script, after prelude_buyer_keys.lua (the slot's keys and
-- layout are described there); before the script's own line "-- (prelude_buyer.lua)" when it has one.
local RESERVED, CONFIRMED, CANCELLED, EXPIRED, REFUNDED, PARTIALLY_REFUNDED, REJECTED, VOIDED = 1, 2, 3, 4, 5, 6, 7, 8

local function load_claim(id)
  local packed = redis.call('HGET', CLAIMS, id)
  if not packed then
    return nil
  end
  return cmsgpack.unpack(packed)
end

local function save_claim(id, rec)
  redis.call('HSET', CLAIMS, id, cmsgpack.pack(rec))
end

local function granted_fen(rec)
  local fen = 0
  for _, ln in ipairs(rec.ln) do
    fen = fen + ln.f - ln.rf
  end
  return fen
end

-- Gives back the buyer's counters a line holds; its budget and once-key holdings are zeroed here and released in
-- their own slots by reconcile.
local function release_line(ln)
  for _, ch in ipairs(ln.ch) do
    if ch.a ~= 0 then
      redis.call('HINCRBY', COUNTERS, ch.k, fmt(-ch.a))
      ch.a = 0
    end
  end
  for _, bg in ipairs(ln.bg) do
    bg.f = 0
  end
  ln.ok = {}
end

local function expire_claim(id, rec)
  local fen = granted_fen(rec)
  for _, ln in ipairs(rec.ln) do
    release_line(ln)
  end
  rec.st = EXPIRED
  rec.up = rec.ex
  save_claim(id, rec)
  redis.call('ZREM', HOLDS, id)
  ledger(rec.ex, id, rec, 'expire', -fen)
end

-- Expires every RESERVED claim of this slot whose hold ended by `now`.
local function expire_due(now)
  local ids = redis.call('ZRANGEBYSCORE', HOLDS, '-inf', fmt(ms_of(now)))
  for _, id in ipairs(ids) do
    local rec = load_claim(id)
    if not rec or rec.st ~= RESERVED then
      redis.call('ZREM', HOLDS, id)
    elseif le(rec.ex, now) then
      expire_claim(id, rec)
    end
  end
end

-- Line i was refunded whole (or voided) and the claim's refunds restore quota: it lets go of its serials, and of
-- its once-keys that no other line of the claim still uses (a line refunded whole has none left).
local function release_refunded_line(rec, i)
  for _, k in ipairs(rec.ln[i].ok) do
    local shared = false
    for j, other in ipairs(rec.ln) do
      if j ~= i then
        for _, k2 in ipairs(other.ok) do
          if k2 == k then
            shared = true
          end
        end
      end
    end
    if not shared then
      rec.okr[k] = true
    end
  end
  rec.ln[i].ok = {}
end

-- What reconcile must bring about in the other slots: per budget key the fen the claim holds there (0 = no
-- entry), per once-key (or serial key) whether the claim keeps it. {b = {{key, fen}...}, o = {{key, keep}...}}.
local function plan(rec)
  local out = {b = {}, o = {}}
  if #rec.bk == 0 and #rec.ok == 0 then
    return out  -- the common path: the claim never held anything in another slot
  end
  local final = rec.st == CANCELLED or rec.st == EXPIRED or rec.st == REJECTED
  local target, held = {}, {}
  for _, ln in ipairs(rec.ln) do
    for _, bg in ipairs(ln.bg) do
      target[bg.k] = (target[bg.k] or 0) + bg.f
    end
    for _, k in ipairs(ln.ok) do
      held[k] = true
    end
  end
  if rec.st == RESERVED and rec.sp then
    for k, _ in pairs(rec.sp) do
      held[k] = true
    end
  end
  for _, k in ipairs(rec.bk) do
    out.b[#out.b + 1] = {k, final and 0 or (target[k] or 0)}
  end
  for _, k in ipairs(rec.ok) do
    out.o[#out.o + 1] = {k, (not final) and held[k] and not rec.okr[k] or false}
  end
  return out
end

-- True when the claim holds something in another slot (a budget entry or a once-key) that Confirm must commit.
local function holds_elsewhere(rec)
  for _, ln in ipairs(rec.ln) do
    if #ln.ok > 0 then
      return true
    end
    for _, bg in ipairs(ln.bg) do
      if bg.f > 0 then
        return true
      end
    end
  end
  return false
end

-- The refunded units and the fen owed (granted − refunded) of each line, for add_event to compare with after a
-- change.
local function owed_by_line(rec)
  local out = {}
  for i, ln in ipairs(rec.ln) do
    out[i] = {ln.ru, ln.f - ln.rf}
  end
  return out
end

local MAX_EVENTS = 32  -- quota_store.h kMaxClaimEvents

-- Appends a change's event to the claim's history, the field <claim id>:h = cmsgpack {o = events dropped, e =
-- {event...}} (the last MAX_EVENTS): {k = kind (quota_store.h ClaimEvent::Kind), at = now, by = A.by (caller),
-- why = A.why (reason), id = the change's id, ln = {{line id, units refunded, fen owed before, after}...} for
-- each line whose refunded units or fen owed changed since `before` (owed_by_line), ob / nb = the old and new
-- invoice or serial number of a confirmation fix ('' otherwise)}. Kept outside the claim's record, so that
-- instances that do not know it (before 2026-12) neither read nor lose it.
local function add_event(id, rec, kind, now, change_id, before, old_value, new_value)
  local lines = {}
  for i, ln in ipairs(rec.ln) do
    local units, owed = ln.ru - before[i][1], ln.f - ln.rf
    if units ~= 0 or owed ~= before[i][2] then
      lines[#lines + 1] = {ln.id, units, before[i][2], owed}
    end
  end
  local packed = redis.call('HGET', CLAIMS, id .. ':h')
  local h = packed and cmsgpack.unpack(packed) or {o = 0, e = {}}
  h.e[#h.e + 1] = {k = kind, at = now, by = A.by or '', why = A.why or '', id = change_id, ln = lines,
    ob = old_value or '', nb = new_value or ''}
  if #h.e > MAX_EVENTS then
    table.remove(h.e, 1)
    h.o = h.o + 1
  end
  redis.call('HSET', CLAIMS, id .. ':h', cmsgpack.pack(h))
end

-- The claim's field `id .. suffix` of the claims hash, '' when absent.
-- The claim as the C++ reads it (scripts.h ClaimReply): {rp = replayed, c = claim, p = plan, plus `extra` fields};
-- c = {id, st, rt, rq, cr, up, ex, d = draft, k = confirmation, h = history (add_event, '' when none),
-- ln = {{u, f, r, ru, rf}...}}. A script that has just written (or knows there is no) draft, confirmation or
-- history passes it as `draft`, `conf` or `hist`; nil reads it from the claims hash.
local function claim_view(id, rec, replayed, extra, draft, conf, hist)
  local lines = {}
  for i, ln in ipairs(rec.ln) do
    lines[i] = {ln.u, ln.f, ln.r, ln.ru, ln.rf}
  end
  local out = extra or {}
  out.rp = replayed
  out.c = {id = id, st = rec.st, rt = rec.rt, rq = rec.rq, cr = rec.cr, up = rec.up, ex = rec.ex,
    d = draft or claim_field(id, ':d'), k = conf or claim_field(id, ':k'), h = hist or claim_field(id, ':h'),
    ln = lines}
  out.p = plan(rec)
  return out
end

-- The answer of a buyer script about a claim: claim_view() with status `status`.
local function reply(status, id, rec, replayed, extra, draft, conf, hist)
  return answer(status, claim_view(id, rec, replayed, extra, draft, conf, hist))
end

-- The claim `id` of `retailer` (any when ''), after expiring what is due; nil when there is none.
local function find_claim(id, retailer, now)
  expire_due(now)
  local rec = load_claim(id)
  if not rec or (retailer ~= '' and rec.rt ~= retailer) then
    return nil
  end
  if rec.st == RESERVED and le(rec.ex, now) then
    expire_claim(id, rec)
  end
  return rec
end

-- The claim `id` (of `retailer`, any when '') for a change of money after payment — a refund, void or correction
-- — idempotent on `change_id`, kept with its fingerprint in the record's table `ids` ('rf', 'vd' or 'co').
-- Returns the record when the change may go ahead, else nil and the answer: NOT_FOUND, `reused` for a known id
-- with another fingerprint, the claim replayed for a known id, WRONG_STATE unless CONFIRMED/PARTIALLY_REFUNDED.
local function open_change(id, retailer, now, ids, change_id, fp, reused)
  local rec = find_claim(id, retailer, now)
  if not rec then
    return nil, answer('NOT_FOUND')
  end
  rec[ids] = rec[ids] or {}
  local known = rec[ids][change_id]
  if known then
    if known ~= fp then
      return nil, answer(reused)
    end
    return nil, reply('OK', id, rec, true)
  end
  if rec.st ~= CONFIRMED and rec.st ~= PARTIALLY_REFUNDED then
    return nil, answer('WRONG_STATE', {st = rec.st})
  end
  return rec
end

-- Line `i` of a paid claim gives back `units` and `fen` (a refund or a void): its budget entries always (the
-- reconcile returns them to the budgets); when the claim's refunds restore quota, the buyer's counters, and —
-- when the line has nothing left — its serials and the once-keys no other line still uses.
local function give_back_line(rec, i, units, fen)
  local ln = rec.ln[i]
  ln.ru = ln.ru + units
  ln.rf = ln.rf + fen
  for _, bg in ipairs(ln.bg) do
    bg.f = bg.f - fen
  end
  if rec.rs == 1 then
    for _, ch in ipairs(ln.ch) do
      local amount = ch.u == 1 and units or fen
      redis.call('HINCRBY', COUNTERS, ch.k, fmt(-amount))
      ch.a = ch.a - amount
    end
    if ln.ru == ln.u then
      release_refunded_line(rec, i)
    end
  end
end
