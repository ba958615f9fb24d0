// -----------------------------------------------------------------------------
// File: redis_quota_store.h
// -----------------------------------------------------------------------------
//
// RedisQuotaStore is the production QuotaStore: the quota ledger in one Redis or a Redis Cluster, shared by
// every server instance. It gives the same answers as MemoryQuotaStore for the same calls (the contract suite
// and the randomised model test in tests/quota run against both), and no interleaving of concurrent calls
// from any number of instances grants more than the counters, once-keys and budgets allow.
// docs/quota-ledger.md is the full protocol; this header is its summary.
//
//   RedisQuotaStore store(*client);  // keys under "tq:"
//   store.Reserve(std::move(request), deadline, [](absl::StatusOr<ClaimRecord> claim) { ... });
//
// Keys and slots (P = the key prefix, "tq:" by default; <e> = the part %-escaped so that ':', '{', '}' and
// '%' cannot occur in it, which keeps every name unambiguous and every hash tag whole)
// ---------------
//   buyer slot {b:<tag>}  (tag = the buyer's 8-hex shard tag, also the first 8 characters of its claim ids)
//     P{b:T}:c   hash  <claim id> → the claim (cmsgpack), <claim id>:d → draft, <claim id>:k → confirmation
//     P{b:T}:q   hash  <buyer key>:<programme e>:<field> → units or fen used (held + committed)
//     P{b:T}:h   zset  RESERVED claims by hold end (lazy expiry)
//     P{b:T}:l   list  the ledger: one JSON line per money event
//   retailer request slot {r:<retailer e>:<request id e>}
//     P{r:R:Q}:r  string "<claim id>|t<first attempt's now>|<fingerprint>", TTL 90 days
//   once-key slot {o:<programme e>:<quota e>:<first 2 of the hash>}
//     P{o:..}:o:<hash e>  string "<claim id>|<hold end ns, or 0 = committed>", TTL hold end + 1 day unless
//     committed
//   serial slot {s:<programme e>:<first 2 of the hash>}
//     P{s:..}:s:<hash e>  string, as a once-key: a confirmed unit's serial number (committed: no TTL)
//   budget slot {g:<programme e>:<budget e>}
//     P{g:..}:g   hash  used → fen held + committed; c:<claim id> → "<fen>|<hold end or 0>|<line:units,...>"
//     P{g:..}:gh  zset  claim ids by hold end, to purge holds that ended
//   due shard slot {x:<n>}, n = FNV-1a(claim id) mod 16
//     P{x:n}:due  zset  claim ids, and reconcile-only "<claim id>#r:<refund id>" / "#v:<id>" / "#c:<id>" /
//                       "#confirm", by when the sweeper must look at them
//   listing index slots {d:<YYYY-MM-DD>:<n>} (n as above) and {rd:<retailer e>:<YYYY-MM-DD>}
//     P{d:..}:cd, P{rd:..}:cd  zset  claim ids created that China day (of any retailer / of one), by ns since
//                       00:00 China time (exact in a double); TTL end of the day + index_retention
// Only keyed hashes reach Redis (BuyerRef.key, once-key and serial value hashes); never a raw buyer id, home,
// VIN or serial number.
// Every key a script touches is in KEYS and in one slot; no script touches two hash tags. Every decision is
// made with the caller's `now` (times are kept as exact nanoseconds), never Redis TIME.
//
// Protocol (each step one EVALSHA or command with the call's deadline; steps marked ∥ run in parallel)
// --------
//   Reserve  1. retailer: SET NX GET "<claim>|t<now>|<fp>" → another fingerprint: ALREADY_EXISTS; a decided
//               claim: it, replayed (after 5). The stored now is the claim's created_at, whichever attempt
//               makes it.
//            2. ∥ due: ZADD at the hold end (the sweeper will find the claim whatever happens next);
//               ∥ index_add to the claim's day index shard and its retailer's day index (listings never miss
//               a claim; an entry with no claim behind it is skipped); ∥ once_take per once-key of a line the
//               rules grant ("<claim>|<hold end>": a crash leaves a hold that ends by itself).
//            3. ∥ budget_alloc per budget (whole units in line order; holds that end with the hold). When a
//               line draws on two budgets, a budget_used round first computes the memory store's allocation.
//            4. buyer_reserve: the decision, atomically per buyer: counters checked and charged, claim kept.
//            5. ∥ reconcile: budget_settle / once_settle bring the other slots in line with the claim (the
//               unused part of an allocation goes back, once-keys of lines that got nothing are released).
//   Confirm  buyer_confirm (serials checked and recorded as pending) → ∥ once_take per serial (one another
//            claim holds: those taken are released, SERIAL_ALREADY_SUBSIDISED) → due: ZADD "<claim>#confirm"
//            at the hold end → ∥ commit budget entries, once-keys and serials (no longer end with the hold; a
//            hold that already ended is HOLD_EXPIRED) → buyer_confirm "committed" → that entry removed.
//   Cancel   buyer_cancel (counters back) → ∥ reconcile (budgets and once-keys back) → due entry removed.
//   Refund, Void, Correct
//            due: ZADD "<claim>#<r|v|c>:<id>" at now + 5 s → buyer_refund / buyer_void / buyer_correct →
//            ∥ reconcile → that entry removed.
//   ListClaims  per day of the period: ∥ index_range on the day's 16 shards (or the retailer's key) after the
//            cursor → merged by (score, claim id) → ∥ buyer_list per buyer slot → missing and misplaced
//            entries skipped, filters applied, until the page and one more entry are found.
//   Sweep    ∥ the 16 due shards' entries due by now → per entry: buyer_get (expires it) → reconcile →
//            due_settle removes the entry only if unchanged; the instance whose removal succeeds reports the
//            expiry, so each expiry is reported once across instances.
// What each step guarantees: the buyer's script is the truth; every other slot only ever holds *at most* what
// it says (holds taken before it end with the hold, reconcile only lowers or releases, commits happen only
// for a live hold), so no interleaving over-grants, and a crash or deadline between steps leaves only holds
// that expire or that a retry (same ids) or the sweeper (the due entry) reconciles. Answers come after the
// last step: DEADLINE_EXCEEDED / UNAVAILABLE otherwise, and a retry with the same ids is safe.
//
// Thread safety: every method may be called from any thread, concurrently. Callbacks run exactly once, on the
// Redis client's loop thread (or inline for an argument error); they must not block. The client must outlive
// every call in flight (a store that owns its client destroys it first, which fails those calls UNAVAILABLE).
//
// Errors: as QuotaStore (quota_store.h); INVALID_ARGUMENT for a request that is not well-formed (a claim id
// that is not the buyer's, an index out of range); INTERNAL for a reply of an unexpected shape.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_QUOTA_STORE_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_QUOTA_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/quota/quota_store.h"
#include "services/quota/step_gate.h"
#include "services/redis/keyed_client.h"
#include "services/redis/redis_client.h"

namespace tradein::quota {

// The names of the store's keys (see above). Public for tests, operators and tools.
class RedisQuotaKeys {
 public:
  static constexpr int kDueShards = 16;
  static constexpr int kIndexShards = 16;

  explicit RedisQuotaKeys(std::string prefix) : prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }

  // Buyer slot: claims, counters, holds, ledger (the KEYS of every buyer script, in that order).
  std::vector<std::string> Buyer(absl::string_view tag) const;
  // The field of a counter in the buyer's counters hash.
  static std::string CounterField(absl::string_view buyer_key, absl::string_view programme,
                                  absl::string_view field);
  std::string Request(absl::string_view retailer_id, absl::string_view request_id) const;
  std::string Once(const OnceKey& once) const;
  // The budget's hash; its holds zset is the same name + "h".
  std::string Budget(absl::string_view programme, absl::string_view budget_id) const;
  static std::string BudgetHolds(absl::string_view budget_key) { return std::string(budget_key) + "h"; }
  std::string Due(int shard) const;
  static int DueShard(absl::string_view claim_id);
  // A confirmed unit's serial number; true for the names Serial() makes.
  std::string Serial(const SerialKey& serial) const;
  static bool IsSerial(absl::string_view key);
  // The listing indexes: claims created on a China day, in one of 16 shards / of one retailer.
  std::string DayIndex(absl::CivilDay day, int shard) const;
  static int IndexShard(absl::string_view claim_id) { return DueShard(claim_id); }
  std::string RetailerDayIndex(absl::string_view retailer_id, absl::CivilDay day) const;

 private:
  std::string prefix_;
};

struct RedisQuotaStoreOptions {
  std::string key_prefix = "tq:";
  // How long a (retailer, request id) is remembered for idempotent retries.
  absl::Duration request_id_ttl = absl::Hours(90 * 24);
  // Once-keys held for a reservation live this long past the hold end (garbage collection only).
  absl::Duration hold_grace = absl::Hours(24);
  // After a refund, void or correction the sweeper looks at the claim this long after `now`, finishing a
  // reconcile a crash cut off.
  absl::Duration refund_reconcile_delay = absl::Seconds(5);
  // How long after the end of its day a listing index key lives (garbage collection: claims older than this
  // drop out of listings and exports, not out of Get). Settlements span at most 366 days. Zero: forever.
  absl::Duration index_retention = absl::Hours(400 * 24);
  // Due entries one Sweep works on at once.
  int sweep_parallelism = 32;
  // Tests only (not owned; outlives the store): asked before each protocol step of every call
  // (RedisQuotaStore::ProtocolSteps()), to abandon the call there as if its instance crashed, or to order the
  // steps of concurrent calls (services/quota/step_gate.h). Null: every step follows the last at once.
  StepGate* step_gate = nullptr;
};

namespace redis_quota_internal {
class Core;
}  // namespace redis_quota_internal

class RedisQuotaStore final : public QuotaStore {
 public:
  // On one Redis (a RedisClient) or a Redis Cluster (any KeyedClient: services/redis/keyed_client.h, which
  // serves each key on the node of its slot; every call of the store names one slot). The clients passed by
  // reference must outlive the store; owned ones are destroyed first, failing the calls in flight
  // UNAVAILABLE.
  explicit RedisQuotaStore(redis::RedisClient& client, std::string key_prefix = "tq:");
  RedisQuotaStore(redis::RedisClient& client, RedisQuotaStoreOptions options);
  RedisQuotaStore(std::unique_ptr<redis::RedisClient> client, RedisQuotaStoreOptions options);
  RedisQuotaStore(redis::KeyedClient& client, RedisQuotaStoreOptions options);
  RedisQuotaStore(std::unique_ptr<redis::KeyedClient> client, RedisQuotaStoreOptions options);
  ~RedisQuotaStore() override;

  RedisQuotaStore(const RedisQuotaStore&) = delete;
  RedisQuotaStore& operator=(const RedisQuotaStore&) = delete;

  void Reserve(ReserveRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Confirm(ConfirmRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Cancel(CancelRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Refund(RefundRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Void(VoidRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Correct(CorrectRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void ListClaims(ClaimPageRequest request, absl::Time deadline, Callback<ClaimPage> done) override;
  void Get(std::string claim_id, absl::Time now, absl::Time deadline, Callback<ClaimRecord> done) override;
  void GetUsage(UsageRequest request, absl::Time deadline, Callback<std::vector<int64_t>> done) override;
  void GetBudgetUsage(std::vector<BudgetRef> budgets, absl::Time now, absl::Time deadline,
                      Callback<std::vector<int64_t>> done) override;
  void Sweep(absl::Time now, int limit, absl::Time deadline, Callback<SweepResult> done) override;
  void Ping(absl::Time deadline, Callback<bool> done) override;
  absl::string_view kind() const override { return "redis"; }

  const RedisQuotaKeys& keys() const;

  // ProtocolSteps
  //
  // The names of the points between the steps of every call (docs/quota-ledger.md), in protocol order: where
  // a StepGate is asked, and so where crashes are injected. A name is "<operation>.<the step that follows>".
  static const std::vector<std::string>& ProtocolSteps();

 private:
  std::shared_ptr<const redis_quota_internal::Core> core_;  // shared with the calls in flight
  std::unique_ptr<redis::KeyedClient> owned_client_;        // destroyed first
};

}  // namespace tradein::quota

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_QUOTA_STORE_H_
