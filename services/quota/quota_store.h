// -----------------------------------------------------------------------------
// File: quota_store.h
// -----------------------------------------------------------------------------
//
// The quota ledger's port: everything the service remembers about claims lives behind QuotaStore. Two
// implementations behave identically (one contract test suite runs against both, plus a randomised model
// test): RedisQuotaStore (production; many instances share one Redis / Redis Cluster) and MemoryQuotaStore
// (one process, the default when no --redis is given).
//
// Amounts
// -------
// Every amount rule, as text: both stores implement it, and the reference model in tests/quota/model/ is
// written from this text alone. All amounts are integer fen; "⌊x⌋" rounds toward zero (every x here is ≥ 0).
//
// Reserve decides, atomically per buyer, what each line of a claim gets. Per line, in request order:
//   1. units = what the rules grant (LineRequest::units; 0 = the line takes nothing and none of what
//   follows).
//   2. Once-keys: if any once-key of the line is held by another claim, units = 0 and the line carries that
//      once-key's reason (HOME_ALREADY_USED / VEHICLE_ALREADY_USED).
//   3. Budgets (joint allocation): for each budget B of the line, room(B) = total(B) − used(B) − alloc(B),
//   where
//      used(B) is the budget's use before this claim and alloc(B) what earlier lines of this claim allocated
//      on B (0 before the first); fits(B) = units if unit_fen = 0, else min(units, max(0, ⌊room(B) /
//      unit_fen⌋)). units = min over the line's budgets of fits(B); BUDGET_EXHAUSTED when that is less than
//      before. Then alloc(B) += units × unit_fen on each budget of the line. (Allocation uses the units
//      before the counters of step 4, so a later line of the same claim sees the allocation, not the final
//      grant: one claim never allocates more than the budgets fit.)
//   4. Counters: for each unit counter C of the line, units = min(units, max(0, limit(C) − used(C)));
//      QUOTA_EXHAUSTED when that lowered units. fen = units × unit_fen; then for each fen counter C of the
//      line, room = max(0, limit(C) − used(C)); if fen > room: fen = room, and the reason is QUOTA_EXHAUSTED
//      when room = 0, else AMOUNT_CAP_REACHED. If fen = 0 then units = 0.
//   5. The line is granted (units, fen). If units > 0: every unit counter += units, every fen counter += fen
//      (so later lines of the claim see them), every budget's used += fen, every once-key is held by the
//      claim.
//   used(C) in step 4 includes what earlier lines of the same claim charged to C.
// The claim is RESERVED if Σ fen > 0, else REJECTED (it holds nothing).
//
// A line granted u units and f fen of which ru units and rf fen are refunded keeps 0 ≤ ru ≤ u and 0 ≤ rf ≤ f
// through every change below; a line with units left has fen left to refund of f − rf.
//   Refund k units of a line (0 < k ≤ u − ru): fen = f − rf if k = u − ru (the line's last units take the
//     rest), else ⌊(f − rf) · k / (u − ru)⌋ — the fen left, shared over the units left, so a refund after a
//     correction never gives back more than is left. ru += k, rf += fen. Every budget of the line: used −=
//     fen. If the claim's refunds restore quota: unit counters −= k, fen counters −= fen, and a line with no
//     units left releases its serials and every once-key no other line of the claim with units left still
//     uses.
//   Void: every line with units left, as a refund of all of them (fen = f − rf).
//   Correct a line to f' (rf ≤ f' ≤ f; units unchanged): every budget of the line used −= f − f', every fen
//     counter of the line −= f − f' (whether or not refunds restore quota), f = f'.
//   A claim's state after a refund: REFUNDED when every line has ru = u, else PARTIALLY_REFUNDED. A
//   correction keeps the state; a void makes it VOIDED.
// Cancel and expiry give back everything the claim holds: counters −= the line's charges, budgets −= f − rf,
// once-keys released. Confirm changes no amount.
//
// Lifecycle (api-contract.md): a claim that gets anything is RESERVED until expires_at, then EXPIRED (its
// counters, once-keys and budget come back, even if no one ever calls again: Sweep()); one that gets nothing
// is REJECTED and holds nothing. RESERVED → CONFIRMED (Confirm) | CANCELLED (Cancel) | EXPIRED;
// CONFIRMED/PARTIALLY_REFUNDED → PARTIALLY_REFUNDED | REFUNDED (Refund: budgets always come back, counters
// and once-keys when the request says so) | VOIDED (Void) | the same state with lower grants (Correct).
//
// Idempotency: Reserve on (retailer_id, request_id) — a retry with the same fingerprint and claim id returns
// the original claim (replayed = true); another fingerprint or claim id (another buyer) is ALREADY_EXISTS
// (REQUEST_ID_REUSED). The claim's created_at is the now of the request id's first attempt, whichever attempt
// decides it. Confirm of a
// CONFIRMED claim and Cancel of a CANCELLED one return it unchanged; Refund is idempotent on refund_id; Void
// and Correct on their request_id (below).
//
// Once-keys (homes, old cars) and serial numbers are held by one claim at a time. A line fully refunded, or a
// voided claim, releases them when the claim's refunds restore quota; a once-key that two lines of one claim
// use is released only when no line of the claim that still has unrefunded units uses it.
//
// Serial numbers (ConfirmRequest::serials) are checked in this order when a RESERVED claim is confirmed:
//   1. a serial naming a line the claim does not have: NOT_FOUND LINE_NOT_FOUND (the message names the
//      serial's `field`);
//   2. a line whose serials (the request's entries for its line id; lines in order of first mention) do not
//      number exactly its granted units: INVALID_ARGUMENT SERIAL_COUNT on field "lineSerials[i]" (the part
//      of the line's first serial's `field` before '.');
//   3. a serial given twice: FAILED_PRECONDITION SERIAL_ALREADY_SUBSIDISED naming the second `field` (one
//      device is one unit);
//   4. a serial another claim holds: FAILED_PRECONDITION SERIAL_ALREADY_SUBSIDISED naming the first such
//      `field`.
// Any of these changes nothing (the claim stays RESERVED). Else the claim becomes CONFIRMED holding its
// serials permanently (no TTL). A confirm retry with the same serials is fine; confirming a CONFIRMED claim
// returns it unchanged and ignores the serials. Lines without serials are fine (serials are optional).
//
// Void (VoidRequest) and Correct (CorrectRequest) are idempotent on request_id, each in its own id space
// (neither shares ids with refunds): the same fingerprint replays the record (replayed = true,
// last_change_fen = 0), another is ALREADY_EXISTS VOID_ID_REUSED / CORRECTION_ID_REUSED. The id is checked
// before the state, as for refunds.
//   Void: CONFIRMED/PARTIALLY_REFUNDED → VOIDED, as a refund of every unit not yet refunded (refunds
//     become the full grant; budgets back; counters, once-keys and serials back when the claim's refunds
//     restore quota). last_change_fen = fen given back. Other states: FAILED_PRECONDITION WRONG_STATE.
//   Correct: CONFIRMED/PARTIALLY_REFUNDED only (else WRONG_STATE). Lines are applied in request order (a line
//     named twice: the second amount is checked against the first); an unknown line is NOT_FOUND
//     LINE_NOT_FOUND; an amount above the line's current grant or below its refunded fen is
//     FAILED_PRECONDITION CORRECTION_NOT_A_REDUCTION; any error changes nothing. grants[i].fen is lowered
//     (units unchanged) and the difference goes back to the line's budgets and the buyer's fen counters
//     (whether or not refunds restore quota: the buyer was granted less). The state is unchanged (even when
//     the grant falls to what was refunded). last_change_fen = the total reduction. No lines = a no-op that
//     still records the id.
//     A correction may instead fix the recorded confirmation (CorrectRequest::fix, then no lines): an
//     invoice number, or one serial number of a line. Checked in this order, any error changing nothing:
//       1. a serial fix's fix.new_serial held by another claim: FAILED_PRECONDITION
//          SERIAL_ALREADY_SUBSIDISED naming its `field` (before the claim is looked up: the Redis store
//          takes the new serial's key first, as Confirm does);
//       2. the claim, the request id and the state, as for amounts (NOT_FOUND, replay /
//          CORRECTION_ID_REUSED, WRONG_STATE unless CONFIRMED/PARTIALLY_REFUNDED);
//       3. a serial fix: a line the claim lacks (fix.old_serial.line_id) is NOT_FOUND LINE_NOT_FOUND; an old
//          serial that line does not hold is FAILED_PRECONDITION SERIAL_NOT_ON_LINE (a line refunded whole
//          whose refunds restored quota holds none); a new serial one of the claim's lines already holds is
//          SERIAL_ALREADY_SUBSIDISED;
//       4. the claim's confirmation is no longer fix.expected_confirmation: ABORTED ABORTED (the caller reads
//          the claim again and retries).
//     Then the confirmation becomes fix.confirmation and, for a serial, the line gives up the old key (free
//     for any claim) and holds the new one permanently, atomically. No amount changes (last_change_fen = 0);
//     the state and updated_at as for amounts.
//
// History (ClaimRecord::history): every refund, void and correction that changes a claim appends one
// ClaimEvent in the same atomic step (a replay adds none): its kind, the request's `now`, the caller and the
// reason (ChangeNote), the change's id (refund id or request id), each line whose subsidy owed changed
// (units refunded by this event; fen owed = granted − refunded before and after, in line order), and for a
// confirmation fix the invoice or serial numbers before and after. At most kMaxClaimEvents are kept: a new
// event beyond them drops the oldest and counts it in history_omitted (the audit file keeps every one).
// Reserve, Confirm, Cancel and expiry add no event (their state and times say it). An event is at most
// some 2.5 KB (64-byte caller, 256-byte reason, 64-byte id, a few bytes per changed line, two 64-byte
// values); typically 150 bytes.
//
// Listings (ListClaims): claims (REJECTED ones too) created on [first_day, last_day] in China time
// (ChinaCivilDay(created_at)), ordered by (created_at, claim_id), newest or oldest first. Each entry's cursor
// ("<YYYY-MM-DD>|<14-digit ns since 00:00 China time>|<claim id>", EncodeClaimCursor) resumes strictly after
// that entry, so a walk sees every claim that existed when it started exactly once and a claim created
// meanwhile at most once, and a resume starts at the cursor's day. States are as of `now` (a RESERVED claim
// past its hold is listed — and stored — EXPIRED, as Get does). The state filter applies while scanning and
// the page is still filled up to `limit`; `more` is true when a further entry matching the filters exists.
// A malformed cursor is INVALID_ARGUMENT CURSOR_INVALID; limit < 1 is INVALID_ARGUMENT LIMIT_INVALID;
// last_day < first_day is an empty page. The cost of a page is that of the entries it scans.
//
// Time: every decision uses the `now` in the request (the server's injectable clock), never the store's own
// clock, so all instances and both stores agree; keys' own TTLs are only garbage collection, set long past.
//
// Errors (absl::Status with a reason from common/status.h):
//   UNAVAILABLE / DEADLINE_EXCEEDED  the store could not answer by `deadline`; nothing was granted that the
//                                    caller can see, and a retry with the same ids is safe.
//   NOT_FOUND (CLAIM_NOT_FOUND)       no such claim, or not the given retailer's; LINE_NOT_FOUND in a refund,
//                                     correction or serial.
//   FAILED_PRECONDITION               HOLD_EXPIRED, WRONG_STATE, REFUND_EXCEEDS_GRANT,
//                                     CORRECTION_NOT_A_REDUCTION, SERIAL_ALREADY_SUBSIDISED,
//                                     SERIAL_NOT_ON_LINE.
//   ABORTED (ABORTED)                 a confirmation fix whose expected confirmation is no longer the
//   claim's. INVALID_ARGUMENT                  SERIAL_COUNT, CURSOR_INVALID, LIMIT_INVALID. ALREADY_EXISTS
//   (REQUEST_ID_REUSED / REFUND_ID_REUSED / VOID_ID_REUSED / CORRECTION_ID_REUSED).
//
// Thread safety: every method may be called from any thread, concurrently. Callbacks run exactly once, on a
// store thread or inline in the call (MemoryQuotaStore); they must not block.
#ifndef TRADEIN_SERVICES_QUOTA_QUOTA_STORE_H_
#define TRADEIN_SERVICES_QUOTA_QUOTA_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/pricing/reason.h"

namespace tradein::quota {

// The wire values of tradein.v1.Claim.State.
enum class ClaimState : uint8_t {
  kReserved = 1,
  kConfirmed = 2,
  kCancelled = 3,
  kExpired = 4,
  kRefunded = 5,
  kPartiallyRefunded = 6,
  kRejected = 7,
  kVoided = 8,
};

// Whose quota: the keyed hash of the buyer's id, never the id.
struct BuyerRef {
  std::string key;  // 64 hex characters (identity::KeyedHasher::BuyerKey)
  std::string tag;  // its first 8: one buyer's keys share a Redis Cluster slot
};

// A per-buyer counter of units or fen, kept under (programme, field).
struct CounterLimit {
  enum class Kind : uint8_t { kUnits, kFen };
  std::string programme;  // e.g. "cn-2025"
  std::string field;      // e.g. "u:appliance-per-type:appliance.refrigerator", "f:elderly-amount"
  Kind kind = Kind::kUnits;
  int64_t limit = 0;

  friend bool operator==(const CounterLimit&, const CounterLimit&) = default;
};

// Something one claim at a time may hold in a programme: a home, an old car (Quota.once_per_*).
struct OnceKey {
  std::string programme;
  std::string quota_id;
  std::string value_hash;                 // keyed hash of the property id or VIN
  pricing::ReasonCode reason_when_taken;  // kHomeAlreadyUsed or kVehicleAlreadyUsed

  friend bool operator==(const OnceKey&, const OnceKey&) = default;
};

// A programme budget; `total_fen` comes from the policy in force, `used` from the store (so a reload that
// changes the total keeps what was used).
struct BudgetRef {
  std::string programme;
  std::string budget_id;
  int64_t total_fen = 0;

  friend bool operator==(const BudgetRef&, const BudgetRef&) = default;
};

struct LineRequest {
  std::string line_id;              // the client's line id (refunds name lines by it)
  int32_t units = 0;                // units the rules grant; 0 = the line takes nothing
  int64_t unit_fen = 0;             // subsidy per unit by the rules
  std::vector<uint16_t> counters;   // indices into ReserveRequest::counters
  std::vector<uint16_t> once_keys;  // indices into ReserveRequest::once_keys
  std::vector<uint16_t> budgets;    // indices into ReserveRequest::budgets
};

struct ReserveRequest {
  std::string claim_id;  // from ClaimIdFor(): deterministic in (buyer tag, retailer, request id)
  BuyerRef buyer;
  std::string retailer_id;
  std::string request_id;
  std::string fingerprint;  // hash of the request's content: same id + other content = ALREADY_EXISTS
  absl::Time now;
  absl::Time expires_at;  // end of the hold
  // Whether a later refund gives the buyer's counters and once-keys back (Policy.refund.restores_quota of the
  // policy the claim was made under; the budget always comes back).
  bool refund_restores_quota = false;
  std::string draft;  // opaque bytes kept with the claim (the priced tradein.v1.Claim)
  std::vector<CounterLimit> counters;
  std::vector<OnceKey> once_keys;
  std::vector<BudgetRef> budgets;
  std::vector<LineRequest> lines;
};

struct LineGrant {
  int32_t units = 0;
  int64_t fen = 0;
  pricing::ReasonSet reasons;  // ledger reasons only (QUOTA_EXHAUSTED, BUDGET_EXHAUSTED, ...)

  friend bool operator==(const LineGrant& a, const LineGrant& b) {
    return a.units == b.units && a.fen == b.fen && a.reasons.bits() == b.reasons.bits();
  }
};

struct LineRefund {
  int32_t units = 0;
  int64_t fen = 0;
  friend bool operator==(const LineRefund&, const LineRefund&) = default;
};

// Who changed a paid claim and why: kept in the claim's history (the caller id as authenticated, the reason
// as given; both as the audit file has them).
struct ChangeNote {
  std::string actor;
  std::string reason;
};

// One change of a paid claim, as its history keeps it (see "History" above).
struct ClaimEvent {
  enum class Kind : uint8_t {
    kRefunded = 1,
    kVoided = 2,
    kCorrected = 3,         // granted amounts lowered
    kInvoiceCorrected = 4,  // the invoice number fixed
    kSerialCorrected = 5,   // a serial number fixed
  };
  struct Line {
    std::string line_id;
    int32_t units = 0;       // units this event refunded (0 for a correction)
    int64_t fen_before = 0;  // the line's fen owed (granted − refunded) before the event
    int64_t fen_after = 0;   // and after it
    friend bool operator==(const Line&, const Line&) = default;
  };
  Kind kind = Kind::kCorrected;
  absl::Time at;            // the request's now
  std::string actor;        // ChangeNote::actor
  std::string reason;       // ChangeNote::reason
  std::string request_id;   // the refund id, or the void / correction request id
  std::vector<Line> lines;  // lines whose fen owed or refunded units changed, in line order
  std::string before;       // kInvoiceCorrected / kSerialCorrected: the old invoice or serial number
  std::string after;        // and the new one
  friend bool operator==(const ClaimEvent&, const ClaimEvent&) = default;
};

// The bound of a claim's history (ClaimRecord::history).
inline constexpr size_t kMaxClaimEvents = 32;

struct ClaimRecord {
  std::string claim_id;
  ClaimState state = ClaimState::kRejected;
  std::string retailer_id;
  std::string request_id;
  std::string draft;
  std::vector<LineGrant> grants;    // one per line of the request
  std::vector<LineRefund> refunds;  // one per line: refunded so far
  absl::Time created_at;
  absl::Time updated_at;
  absl::Time expires_at;
  std::string confirmation;  // opaque bytes recorded by Confirm (invoice, serial numbers)
  bool replayed = false;     // this answer repeats an earlier call (idempotent retry)
  // Refund, Void and Correct: the fen this call gave back (0 for a replay). Lets the audit line say what
  // moved.
  int64_t last_change_fen = 0;
  // The refunds, voids and corrections, oldest first: the last kMaxClaimEvents of them, after
  // history_omitted older ones.
  std::vector<ClaimEvent> history;
  int32_t history_omitted = 0;

  int64_t GrantedFen() const;   // sum of grants
  int64_t RefundedFen() const;  // sum of refunds
};

// A unit's serial number (IMEI or SN), which one claim at a time may hold in a programme once confirmed.
struct SerialKey {
  std::string programme;
  std::string value_hash;  // keyed hash of the normalised serial number
  std::string line_id;     // the line it belongs to
  std::string field;       // the request field, for the error ("lineSerials[0].serialNumbers[1]")

  friend bool operator==(const SerialKey&, const SerialKey&) = default;
};

struct ConfirmRequest {
  std::string claim_id;
  std::string retailer_id;  // when non-empty the claim must be this retailer's (else NOT_FOUND)
  absl::Time now;
  std::string confirmation;
  // Held from confirmation on; one already held by another claim is FAILED_PRECONDITION
  // SERIAL_ALREADY_SUBSIDISED (naming `field`) and nothing changes. Released when their line is fully
  // refunded or the claim voided, if the claim's refunds restore quota.
  std::vector<SerialKey> serials;
};

struct CancelRequest {
  std::string claim_id;
  std::string retailer_id;
  absl::Time now;
};

struct RefundLine {
  std::string line_id;  // an unknown line id is NOT_FOUND (LINE_NOT_FOUND)
  int32_t units = 0;    // 0 = every unit not yet refunded
};

struct RefundRequest {
  std::string claim_id;
  std::string retailer_id;
  std::string refund_id;  // idempotency key of this refund
  std::string fingerprint;
  std::vector<RefundLine> lines;  // empty = the whole claim
  absl::Time now;
  ChangeNote note = {};  // for the history
};

// VOIDED by an administrator: like a refund of everything left (budget always back, counters, once-keys and
// serials as refunds do), from CONFIRMED or PARTIALLY_REFUNDED. Idempotent on request_id (its own id space).
struct VoidRequest {
  std::string claim_id;
  std::string request_id;
  std::string fingerprint;
  absl::Time now;
  ChangeNote note = {};  // for the history
};

// Lowers the granted fen of lines of a CONFIRMED or PARTIALLY_REFUNDED claim (units unchanged): the
// difference returns to the budget and the buyer's fen counters. A new amount above the line's current grant,
// or below what was already refunded, is FAILED_PRECONDITION CORRECTION_NOT_A_REDUCTION. Idempotent on
// request_id (its own id space). See the top of this file for the details.
struct CorrectRequest {
  struct Line {
    std::string line_id;
    int64_t fen = 0;
  };
  // Fixes the recorded confirmation instead (an invoice or serial number); see the top of this file.
  struct Fix {
    ClaimEvent::Kind kind = ClaimEvent::Kind::kInvoiceCorrected;  // or kSerialCorrected
    std::string expected_confirmation;  // the claim's confirmation the fix was computed from
    std::string confirmation;           // what it becomes
    std::string before;                 // the old invoice or serial number, for the history
    std::string after;                  // the new one
    SerialKey old_serial;  // kSerialCorrected: the key the line gives up (line_id names the line)
    SerialKey new_serial;  // and the one it takes (`field` is named if another claim holds it)
  };
  std::string claim_id;
  std::string request_id;
  std::string fingerprint;
  std::vector<Line> lines;
  absl::Time now;
  ChangeNote note = {};                   // for the history
  std::optional<Fix> fix = std::nullopt;  // set: `lines` is empty
};

// AppendClaimEvent
//
// Appends `event` to `record`'s history, dropping the oldest beyond kMaxClaimEvents (history_omitted counts
// them). Both stores and the reference model keep their history with it.
void AppendClaimEvent(ClaimRecord& record, ClaimEvent event);

// ChangedLines
//
// The history's lines of a change from `before` to `after` (the same claim's grants and refunds): each line
// whose refunded units or fen owed differ, in line order, named by `line_ids` (one per line).
std::vector<ClaimEvent::Line> ChangedLines(const ClaimRecord& before, const ClaimRecord& after,
                                           const std::vector<std::string>& line_ids);

// A page of claims created on [first_day, last_day] (China time), for listings and the settlement export.
// Order: newest first (created_at, then claim id, descending) or oldest first. `cursor` continues after the
// record it came from; a malformed cursor is INVALID_ARGUMENT (CURSOR_INVALID). See "Listings" above.
struct ClaimPageRequest {
  std::string retailer_id;  // "" = every retailer
  absl::CivilDay first_day;
  absl::CivilDay last_day;
  std::vector<ClaimState> states;  // empty = every state
  bool newest_first = true;
  std::string cursor;  // "" = from the start
  int limit = 50;
  // States as of this instant (a RESERVED claim whose hold ended by then is listed EXPIRED, as Get does).
  // InfinitePast = as stored, which the two stores may not agree on for holds that ended: callers pass their
  // clock's now.
  absl::Time now = absl::InfinitePast();
};

struct ClaimPage {
  struct Entry {
    ClaimRecord record;
    std::string cursor;  // resumes right after this record
  };
  std::vector<Entry> entries;
  bool more = false;  // entries after the last one exist
};

struct UsageRequest {
  BuyerRef buyer;
  std::vector<CounterLimit> counters;  // limits are ignored; `used` is read
  absl::Time now;                      // holds past it are not counted
};

struct SweepResult {
  std::vector<ClaimRecord> expired;  // claims this sweep moved RESERVED → EXPIRED
  int reconciled = 0;                // claims whose budgets/once-keys were brought in line
};

class QuotaStore {
 public:
  template <typename T>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

  virtual ~QuotaStore() = default;

  virtual void Reserve(ReserveRequest request, absl::Time deadline, Callback<ClaimRecord> done) = 0;
  virtual void Confirm(ConfirmRequest request, absl::Time deadline, Callback<ClaimRecord> done) = 0;
  virtual void Cancel(CancelRequest request, absl::Time deadline, Callback<ClaimRecord> done) = 0;
  virtual void Refund(RefundRequest request, absl::Time deadline, Callback<ClaimRecord> done) = 0;
  virtual void Void(VoidRequest request, absl::Time deadline, Callback<ClaimRecord> done) = 0;
  virtual void Correct(CorrectRequest request, absl::Time deadline, Callback<ClaimRecord> done) = 0;
  virtual void ListClaims(ClaimPageRequest request, absl::Time deadline, Callback<ClaimPage> done) = 0;
  // The claim as stored; a RESERVED claim past its hold is returned EXPIRED (and expired in the store).
  virtual void Get(std::string claim_id, absl::Time now, absl::Time deadline, Callback<ClaimRecord> done) = 0;
  // `used` of each counter (units or fen), in request order.
  virtual void GetUsage(UsageRequest request, absl::Time deadline, Callback<std::vector<int64_t>> done) = 0;
  // Fen used (held + committed) of each budget, in request order.
  virtual void GetBudgetUsage(std::vector<BudgetRef> budgets, absl::Time now, absl::Time deadline,
                              Callback<std::vector<int64_t>> done) = 0;
  // Expires every claim whose hold ended by `now` (at most `limit`) and brings budgets and once-keys in line
  // with the claims (finishing what a crash interrupted). Run periodically by the server.
  virtual void Sweep(absl::Time now, int limit, absl::Time deadline, Callback<SweepResult> done) = 0;
  // A real round trip through the store's scripts (health).
  virtual void Ping(absl::Time deadline, Callback<bool> done) = 0;
  // "memory" or "redis", for logs and metrics.
  virtual absl::string_view kind() const = 0;
};

// ClaimIdFor
//
// "<buyer tag>-<20 base32 characters of a hash of (retailer, request id)>": deterministic, so a retry finds
// its claim; the tag routes a claim id to its buyer's slot without revealing more than 32 bits of the HMAC.
// `request_key` is the keyed hash of "retailer\0request_id" (identity::KeyedHasher::ScopedKey).
std::string ClaimIdFor(const BuyerRef& buyer, absl::string_view request_key);

// TagOfClaimId
//
// The buyer tag of a well-formed claim id, or "" when `claim_id` is not one (callers answer NOT_FOUND).
std::string TagOfClaimId(absl::string_view claim_id);

// A claim's place in listings: its China day, the nanoseconds since 00:00 China time of that day (exact, and
// below 2^53 so that a Redis sorted-set score holds it exactly), its id. Ordered like (created_at, claim_id).
struct ClaimPosition {
  absl::CivilDay day;
  int64_t nanos_in_day = 0;
  std::string claim_id;

  absl::Time created_at() const;
  friend bool operator==(const ClaimPosition&, const ClaimPosition&) = default;
};

ClaimPosition PositionOf(absl::Time created_at, absl::string_view claim_id);

// EncodeClaimCursor / ParseClaimCursor
//
// "<YYYY-MM-DD>|<14-digit nanoseconds in the day>|<claim id>", the same in both stores. ParseClaimCursor
// answers INVALID_ARGUMENT (CURSOR_INVALID) for anything else (a real day, 0 <= nanoseconds < one day, a
// well-formed claim id).
std::string EncodeClaimCursor(const ClaimPosition& position);
absl::StatusOr<ClaimPosition> ParseClaimCursor(absl::string_view cursor);

// "lineSerials[2]" of "lineSerials[2].serialNumbers[0]": the field SERIAL_COUNT names for a line's serials.
std::string SerialLineField(absl::string_view serial_field);

}  // namespace tradein::quota

#endif  // TRADEIN_SERVICES_QUOTA_QUOTA_STORE_H_
