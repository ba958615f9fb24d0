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
// Keys and slots (P = the key prefix, "tq:" by default; <e> = the part %-escaped:
// services/quota/redis/keys.h)
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
//     P{g:..}:g   hash  used → fen held + committed; c:<claim id> → "<fen>|<hold end or 0>|<line:units,...>";
//                       with shards, sh → their suffixes, l:<suffix> / r:<suffix> → fen leased / taken back
//     P{g:..}:gh  zset  claim ids by hold end, to purge holds that ended
//   budget shard slots {g:<programme e>:<budget e>:<suffix>} (budget_shards > 1): budgets whose room is the
//   fen the parent leased them (lease − ret): services/quota/redis/budget_shards.h
//   due shard slot {x:<n>}, n = FNV-1a(claim id) mod 16
//     P{x:n}:due  zset  claim ids, and reconcile-only "<claim id>#r:<refund id>" / "#v:<id>" / "#c:<id>" /
//                       "#confirm", by when the sweeper must look at them
//   listing index slots {d:<YYYY-MM-DD>:<n>} (n as above) and {rd:<retailer e>:<YYYY-MM-DD>:<m>} (m = n mod
//   8; before 2026-12 {rd:<retailer e>:<YYYY-MM-DD>}, still read, and written while legacy_retailer_index is
//   on)
//     P{d:..}:cd, P{rd:..}:cd  zset  claim ids created that China day (of any retailer / of one), by ns since
//                       00:00 China time (exact in a double); TTL end of the day + index_retention
// Only keyed hashes reach Redis (BuyerRef.key, once-key and serial value hashes); never a raw buyer id, home,
// VIN or serial number.
// Every key a script touches is in KEYS and in one slot; no script touches two hash tags. Every decision is
// made with the caller's `now` (times are kept as exact nanoseconds), never Redis TIME. Every script takes
// one MessagePack map of named fields and answers one (services/quota/redis/scripts.h).
//
// Protocol (round trips; ∥ = in parallel within one; the common path of a claim — lines without once-keys or
// budgets — is two round trips for Reserve and one for Confirm)
// --------
//   Reserve  1. ∥ request id: SET NX GET "<claim>|t<now>|<fp>" (another fingerprint: REQUEST_ID_REUSED);
//               ∥ due: ZADD NX at the hold end (the sweeper will find the claim whatever happens next);
//               ∥ ZADD to the claim's day index shard and its retailer's shard (listings never miss a claim;
//               an entry with no claim behind it, or another attempt's, is skipped);
//               ∥ once_take per once-key of a line the rules grant ("<claim>|<hold end>": a crash leaves a
//               hold that ends by itself); ∥ budget_alloc per budget (whole units in line order; holds that
//               end with the hold) — after the once-keys, in a round trip of its own, when the request has
//               both; a line on two budgets first reads their use (budget_used) to allocate the memory
//               store's way. With budget shards, on the claim's shard, after a lease or a drain when it
//               cannot pay (budget_shards.h).
//            2. buyer_reserve: the decision, atomically per buyer: counters checked and charged, claim kept
//               (created now), or the decided claim replayed.
//            3. only when other slots hold more than the decision kept: ∥ reconcile (budget_settle /
//               once_settle lower the allocation to the grant, release once-keys of lines that got nothing).
//   Confirm  1. buyer_confirm: CONFIRMED at once when the claim holds nothing elsewhere and no serials are
//   given
//               (its due entry then removed). Else serials checked and recorded as pending, and:
//            2. ∥ once_take per serial (one another claim holds: those taken released,
//               SERIAL_ALREADY_SUBSIDISED) ∥ due: ZADD "<claim>#confirm" at the hold end;
//            3. ∥ commit budget entries, once-keys and this call's serials (no longer end with the hold; a
//            hold
//               that already ended: the answer is the claim's as it now is, after a reconcile);
//            4. buyer_confirm "committed" → CONFIRMED; the due entries removed.
//   Cancel   buyer_cancel (counters back) → ∥ reconcile, when it holds anything elsewhere → due entry
//   removed. Refund, Void, Correct
//            due: ZADD "<claim>#<r|v|c>:<id>" at now + 5 s → buyer_refund / buyer_void / buyer_correct →
//            ∥ reconcile, when it holds anything elsewhere → that entry removed.
//   ListClaims  per day of the period: ∥ index_range on the day's 16 shards (or the retailer's 8 and its old
//            key) after the cursor → merged by (score, claim id) → ∥ buyer_list per buyer slot → missing and
//            misplaced entries skipped, filters applied, until the page and one more entry are found.
//   Sweep    ∥ the 16 due shards' entries due by now → per entry: buyer_sweep (expires it) → reconcile →
//            buyer_sweep "mark": an expired claim's expiry marked reported, by the one call that reports it →
//            due_settle removes the entry only if unchanged. Each expiry is reported once, whoever sweeps and
//            however many due entries a claim got (retries add it again).
// What each step guarantees: the buyer's script is the truth; every other slot only ever holds *at most* what
// it says (holds taken before it end with the hold, reconcile only lowers or releases, commits happen only
// for a live hold), so no interleaving over-grants, and a crash or deadline between steps leaves only holds
// that expire or that a retry (same ids) or the sweeper (the due entry) reconciles. Answers come after the
// last step: DEADLINE_EXCEEDED / UNAVAILABLE otherwise, and a retry with the same ids is safe. With a write
// concern (RedisQuotaStoreOptions::write_concern), every write of a call is followed by WAIT on its
// connection, and the call answers only once every write reached that many replicas: a state change the
// caller is told about survives the loss of any one node.
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
#include "services/quota/redis/keys.h"
#include "services/quota/step_gate.h"
#include "services/redis/keyed_client.h"
#include "services/redis/redis_client.h"

namespace tradein::quota {

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
  // The replicas that must acknowledge each state-changing write before the call is answered (a WAIT after
  // the write on its connection: services/redis/keyed_client.h); replicas = 0: none (a master's crash before
  // it replicated can lose an acknowledged write). Reads and pings never wait. tradein-server sets it from
  // --redis_min_replicas.
  redis::WriteConcern write_concern;
  // Due entries one Sweep works on at once.
  int sweep_parallelism = 32;
  // Also write each claim to its retailer's unsharded day index (the layout before 2026-12), so that
  // instances of the earlier version, which read only that key, list claims this version makes. On while a
  // rolling deploy may mix versions; off once every instance runs this one. This version always reads both.
  bool legacy_retailer_index = true;
  // Send buyer_reserve the claim worked out beforehand when it can only be granted in full (scripts.h
  // FullGrant), and let buyer_confirm confirm such a claim in place: the common path's cheapest form. Off:
  // every claim is decided and confirmed by the scripts' general path, as instances before it did (tests and
  // the simulator compare the two).
  bool full_grants = true;
  // Spread each budget over this many slots (services/quota/redis/budget_shards.h; docs/quota-ledger.md,
  // "Budgets at scale"): a claim allocates on its shard, which leases fen from the budget, so that on a Redis
  // Cluster one budget is not one master's work. 1: every claim allocates on the budget itself, as instances
  // before shards did; instances with any setting share one ledger (the budget counts what it leased). 1–64.
  int budget_shards = 1;
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
  // Those of BudgetShardSteps() only with RedisQuotaStoreOptions::budget_shards > 1 (or, for the drain's, on
  // a budget some instance spread over shards).
  static const std::vector<std::string>& ProtocolSteps();
  static const std::vector<std::string>& BudgetShardSteps();

 private:
  std::shared_ptr<const redis_quota_internal::Core> core_;  // shared with the calls in flight
  std::unique_ptr<redis::KeyedClient> owned_client_;        // destroyed first
};

}  // namespace tradein::quota

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_QUOTA_STORE_H_
