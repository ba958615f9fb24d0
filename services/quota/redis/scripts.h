// -----------------------------------------------------------------------------
// File: scripts.h
// -----------------------------------------------------------------------------
//
// The quota ledger's Lua scripts (services/quota/redis/lua/*.lua) as C++ sees them: for each, its embedded
// source and one typed definition of its argument (a MessagePack map of named fields, built here) and its
// answer (a MessagePack map, read here). The .lua files read the same names; nothing is positional, so the
// layout is written once. The KEYS of each script are in its .lua header and built by keys.h.
//
//   const std::string args = scripts::CancelArgs(request);
//   client.EvalScript(scripts::Get().buyer_cancel, keys, {args}, ...);
//   absl::StatusOr<ClaimReply> reply = ParseClaimReply(value, "buyer_cancel");
//
// Exceptions to "one map", on the hot paths: buyer_reserve's full grant (FullGrant), buyer_confirm's argument
// and the budget scripts' travel as plain ARGV strings after an empty map, because unpacking a map costs
// Redis's Lua more than the rest of those paths.
//
// Thread safety: the scripts are immutable; the rest are pure functions of their arguments.
// Errors: the Parse functions answer INTERNAL for an answer of an unexpected shape (never quoting it: it may
// carry a draft).
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_SCRIPTS_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_SCRIPTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/quota/quota_store.h"
#include "services/quota/redis/keys.h"
#include "services/redis/redis_script.h"
#include "services/redis/redis_value.h"

namespace tradein::quota::scripts {

struct Scripts {
  redis::RedisScript buyer_reserve, buyer_confirm, buyer_cancel, buyer_refund, buyer_void, buyer_correct,
      buyer_get, buyer_sweep, buyer_list, buyer_usage, once_take, once_settle, budget_alloc, budget_settle,
      budget_used, budget_lease, budget_giveback, budget_returned, due_settle, index_range, ping;
};
const Scripts& Get();

// A time as the scripts keep it: 19-digit zero-padded nanoseconds since the epoch (exact; before 1970 is 0).
std::string TimeText(absl::Time t);
// The sorted-set score of a time (the scripts' ms_of()).
int64_t Millis(absl::Time t);

// ---------------------------------------------------------------------------------------------------------
// Buyer scripts (KEYS: RedisQuotaKeys::Buyer(tag))

// What the other slots must hold for a claim (prelude_buyer.lua plan()).
struct Plan {
  struct Budget {
    std::string key;
    int64_t target = 0;  // fen the claim holds there; 0 = no entry
  };
  struct Once {
    std::string key;
    bool keep = false;
  };
  std::vector<Budget> budgets;
  std::vector<Once> once;
  bool empty() const { return budgets.empty() && once.empty(); }
};

// The answer of every buyer script about one claim.
struct ClaimReply {
  std::string status;  // "OK", "NEEDS_COMMIT" or an error reason ("NOT_FOUND", "WRONG_STATE", ...)
  int64_t state = 0;   // WRONG_STATE: the claim's state
  int64_t serial = 0;  // serial errors: the serial (1-based into the request's)
  int64_t units = 0;   // SERIAL_COUNT: the line's granted units
  // OK / NEEDS_COMMIT (record.replayed, record.last_change_fen included). A NEEDS_COMMIT of a confirmation in
  // place carries no draft, confirmation or history: the caller needs only the hold end and the plan.
  ClaimRecord record;
  Plan plan;
  bool report = false;  // buyer_sweep: this call reports the claim's expiry
};
absl::StatusOr<ClaimReply> ParseClaimReply(const absl::StatusOr<redis::RedisValue>& reply,
                                           absl::string_view script);

// buyer_reserve.lua's full grant. When the buyer's counters have room for every line, the claim the script
// stores is known before it runs: each line gets what the once-keys and budgets allowed (step 1). The caller
// works it out and sends it whole; the script, when the claim is new, nothing in its slot is due and every
// counter has room, only adds the charges and writes it — no unpacking of its argument, no claim built in Lua
// (docs/quota-ledger.md, "Claim (Reserve)"). Otherwise it decides as usual. The stored claim is the one the
// script itself would store, so instances with and without this share one Redis.
struct FullGrant {
  struct Charge {
    std::string field;   // the counter's field
    int64_t amount = 0;  // what the grant adds to it (units or fen)
    int64_t limit = 0;
  };
  ClaimRecord record;  // the answer: RESERVED, every line granted what step 1 allowed
  Plan plan;           // what the other slots must hold for it (as the script's answer would say)
  std::string stored;  // the claim as prelude_buyer.lua stores it (MessagePack)
  std::string ledger;  // its ledger line (prelude_buyer.lua ledger())
  std::vector<Charge> charges;
};

// buyer_reserve.lua
struct ReserveArgs {
  const ReserveRequest& request;
  absl::Time created;                  // the first attempt's now
  std::vector<std::string> once_keys;  // per request once-key: its key
  std::vector<bool> once_taken;        // per request once-key: this claim holds it
  std::vector<std::string> budget_keys;
  std::vector<bool> budget_taken;  // per request budget: this claim has an entry
  std::vector<int32_t> units;      // per line: what the once-keys and budgets allow
  std::vector<uint32_t> reasons;   // per line: reason bits so far
  // The full grant; nullopt when the claim would be granted nothing (REJECTED: the script decides), or holds
  // a once-key or budget entry only for lines granted nothing (the general path confirms that one at once).
  std::optional<FullGrant> FullGrantOf() const;
  // The script's ARGV: its argument map, or (with `full`) an empty map, the argument map and the full grant.
  // The draft is sent once: in the map, or with the full grant (ARGV[7]) and not in the map.
  std::vector<std::string> Encode(const FullGrant* full) const;

 private:
  std::string Map(bool with_draft) const;
  // `fields`: per counter, its field (RedisQuotaKeys::CounterField).
  std::string Stored(const std::vector<LineGrant>& grants, const std::vector<std::string>& fields,
                     const std::vector<std::string>& held_budgets,
                     const std::vector<std::string>& held_once) const;
};

// buyer_confirm.lua: `committed` = the claim's other slots are committed (the last step).
struct ConfirmArgs {
  const ConfirmRequest& request;
  const std::vector<std::string>& serial_keys;  // per request serial: its key
  bool committed = false;
  bool in_place = true;  // may confirm a full grant's claim in place (buyer_confirm.lua confirm_in_place)
  // Its ARGV: an empty map, then plain strings (the common path unpacks no map).
  std::vector<std::string> Encode() const;
};

std::string CancelArgs(const CancelRequest& request);
std::string RefundArgs(const RefundRequest& request);
std::string VoidArgs(const VoidRequest& request);
// A serial fix (request.fix, kSerialCorrected) names the serial keys by `keys`' names.
std::string CorrectArgs(const CorrectRequest& request, const RedisQuotaKeys& keys);
// buyer_get.lua.
std::string ClaimArgs(absl::string_view claim_id, absl::Time now);
// buyer_sweep.lua: `mark` = mark an EXPIRED claim's expiry reported (ClaimReply.report: this call did).
std::string SweepArgs(absl::string_view claim_id, absl::Time now, bool mark);

// buyer_list.lua: the claims of one buyer slot; per id the claim, or nullopt when missing.
std::string ListArgs(absl::Time now, const std::vector<std::string>& claim_ids);
absl::StatusOr<std::vector<std::optional<ClaimRecord>>> ParseListReply(
    const absl::StatusOr<redis::RedisValue>& reply, size_t count);

// buyer_usage.lua: used of each counter field.
std::string UsageArgs(absl::Time now, const std::vector<std::string>& fields);
absl::StatusOr<std::vector<int64_t>> ParseUsageReply(const absl::StatusOr<redis::RedisValue>& reply,
                                                     size_t count);

// ---------------------------------------------------------------------------------------------------------
// Other slots

// once_take.lua (KEYS: the once-key or serial key): true = this claim holds it, false = TAKEN.
std::string OnceTakeArgs(absl::string_view claim_id, absl::Time now, absl::Time hold_end,
                         absl::Duration grace);
struct OnceTakeReply {
  bool held = false;   // the claim holds the key (else another claim does: TAKEN)
  bool fresh = false;  // held by this call: it was not the claim's before
};
absl::StatusOr<OnceTakeReply> ParseOnceTakeReply(const absl::StatusOr<redis::RedisValue>& reply);

// once_settle.lua and budget_settle.lua (KEYS: the key; the budget's hash and holds).
// kDrop (once_settle only): a call lets go of a hold it took, never of a committed key.
enum class SettleMode { kHold, kCommit, kRelease, kDrop };
std::string OnceSettleArgs(absl::string_view claim_id, SettleMode mode, absl::Time hold_end, absl::Time now,
                           absl::Duration grace);
// budget_settle's ARGV: an empty map, then plain strings (budget_settle.lua).
std::vector<std::string> BudgetSettleArgs(absl::string_view claim_id, SettleMode mode, int64_t target,
                                          absl::Time hold_end, absl::Time now);
struct SettleReply {
  bool gone = false;     // a commit found the entry missing or its hold over
  bool changed = false;  // it released something still live
};
absl::StatusOr<SettleReply> ParseSettleReply(const absl::StatusOr<redis::RedisValue>& reply);

// budget_alloc.lua (KEYS: the budget's hash and holds): units per line, in `lines` order.
struct BudgetLine {
  size_t index = 0;  // the line's index in the request
  int32_t cap = 0;   // units at most
  int64_t unit_fen = 0;
};
// Its ARGV: an empty map, then plain strings (budget_alloc.lua). On a budget, at most `total_fen` in all —
// kTotal: nothing at all, answering drain, when not every line fits and the budget leased to shards;
// kAfterDrain: exactly what fits. On a shard (ShardAllocArgs), every line its cap or nothing, within the
// shard's lease (raised to `leased_fen` first).
enum class BudgetRoom : uint8_t { kTotal, kAfterDrain };
std::vector<std::string> BudgetAllocArgs(absl::string_view claim_id, absl::Time now, absl::Time hold_end,
                                         int64_t total_fen, const std::vector<BudgetLine>& lines,
                                         BudgetRoom room = BudgetRoom::kTotal);
std::vector<std::string> ShardAllocArgs(absl::string_view claim_id, absl::Time now, absl::Time hold_end,
                                        int64_t leased_fen, const std::vector<BudgetLine>& lines);
struct BudgetAllocReply {
  std::vector<int32_t> units;  // per line, in `lines` order
  bool drain = false;          // nothing written: the budget's shards may hold what the lines need
};
absl::StatusOr<BudgetAllocReply> ParseBudgetAllocReply(const absl::StatusOr<redis::RedisValue>& reply,
                                                       size_t count);

// budget_used.lua: fen used (held + committed) after purging holds that ended; on a budget with shards, also
// what it leased them. budget_returned.lua answers `used` alone.
struct BudgetUse {
  struct Lease {
    std::string suffix;  // the shard's (RedisQuotaKeys::BudgetShard)
    int64_t leased = 0;  // fen ever leased to it
  };
  int64_t used = 0;        // fen held + committed here, leases not given back included
  int64_t leased_out = 0;  // of which leased to shards (their own `used` says how much of it claims hold)
  std::vector<Lease> leases;
};
std::string BudgetUsedArgs(absl::Time now);
absl::StatusOr<BudgetUse> ParseBudgetUsedReply(const absl::StatusOr<redis::RedisValue>& reply);

// budget_lease.lua (KEYS: the budget's hash and holds): fen for shard `suffix`. Answers the fen ever leased
// to it, and what this call granted (0: the budget's room does not cover `want_fen`).
struct BudgetLeaseRequest {
  std::string suffix;
  int64_t want_fen = 0;   // what the claim's lines need
  int64_t slice_fen = 0;  // a lease while the budget has room for one per shard
  int shards = 0;
  int64_t total_fen = 0;
  absl::Time now;
};
std::vector<std::string> BudgetLeaseArgs(const BudgetLeaseRequest& request);
struct BudgetLeaseReply {
  int64_t leased = 0;
  int64_t granted = 0;
};
absl::StatusOr<BudgetLeaseReply> ParseBudgetLeaseReply(const absl::StatusOr<redis::RedisValue>& reply);

// budget_giveback.lua (KEYS: a shard's hash and holds): gives back what no claim holds; answers the shard's
// `ret` (fen it ever gave back).
std::vector<std::string> BudgetGivebackArgs(int64_t leased_fen, absl::Time now);
absl::StatusOr<int64_t> ParseBudgetGivebackReply(const absl::StatusOr<redis::RedisValue>& reply);

// budget_returned.lua (KEYS: the budget's hash and holds): takes back each shard's `ret`; answers as
// budget_used (used only).
struct ShardReturn {
  std::string suffix;
  int64_t returned = 0;
};
std::vector<std::string> BudgetReturnedArgs(absl::Time now, const std::vector<ShardReturn>& returns);

// due_settle.lua (KEYS: the due shard): true when this call removed (or moved) the entry.
std::string DueSettleArgs(absl::string_view member, absl::string_view score_as_read, bool remove,
                          int64_t new_score);
absl::StatusOr<bool> ParseDueSettleReply(const absl::StatusOr<redis::RedisValue>& reply);

// index_range.lua (KEYS: a listing index): the next entries after a position.
struct IndexEntry {
  std::string claim_id;
  int64_t score = 0;  // nanoseconds in the day
};
std::string IndexRangeArgs(bool descending, const IndexEntry* after, size_t count);
absl::StatusOr<std::vector<IndexEntry>> ParseIndexRangeReply(const absl::StatusOr<redis::RedisValue>& reply);

// ping.lua
std::string PingArgs();
absl::Status ParsePingReply(const absl::StatusOr<redis::RedisValue>& reply);

}  // namespace tradein::quota::scripts

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_SCRIPTS_H_
