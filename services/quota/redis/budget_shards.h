// -----------------------------------------------------------------------------
// File: budget_shards.h
// -----------------------------------------------------------------------------
//
// A budget spread over shards (RedisQuotaStoreOptions::budget_shards = N > 1; docs/quota-ledger.md, "Budgets
// at scale"), internal to services/quota/redis. The budget's hash (the parent) leases fen to N shard hashes
// in other slots, and a claim allocates on its own shard (RedisQuotaKeys::BudgetShardOf), so that one budget
// is the work of N slots, not of one. As exact as one hash:
//
//   1. budget_alloc on the claim's shard: every line its cap, or nothing (with budget_shards = 1, on the
//      budget itself, which answers drain when the lines do not all fit while it leased to shards: step 3);
//   2. nothing: budget_lease on the parent (the lines' fen, or a slice while the budget has room for one per
//      shard), then budget_alloc on the shard again;
//   3. the parent's room does not cover the lines, or the lease went to another claim: a drain — every
//      shard the parent ever leased to gives back what no claim holds (budget_giveback, in parallel), the
//      parent takes it back (budget_returned) — then budget_alloc on the parent itself, which now has every
//      fen no claim holds and decides the last one exactly, as an unsharded budget does.
//
// Every step is idempotent and only ever moves fen one way (a shard's `lease` and `ret`, the parent's l:<s>
// and r:<s> only grow), so a crash between two steps loses nothing: a lease the parent granted and the shard
// never applied is applied by the shard's next lease or the next drain. The parent's `used` counts what it
// leased and did not take back, so an instance that allocates on the parent directly (budget_shards = 1, or
// the version before shards) never takes what a shard may grant.
//
// Thread safety: as every call of the store (core.h): continuations on the Redis client's threads, one at a
// time per call.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_BUDGET_SHARDS_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_BUDGET_SHARDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/quota/redis/core.h"
#include "services/quota/redis/scripts.h"

namespace tradein::quota::redis_quota_internal {

// A claim's allocation on one budget: budget_alloc's arguments.
struct BudgetAllocation {
  std::string budget_key;  // the parent's (RedisQuotaKeys::Budget)
  int64_t total_fen = 0;   // from the policy in force
  std::vector<scripts::BudgetLine> lines;
  std::string claim_id;
  absl::Time now;
  absl::Time hold_end;
  absl::Time deadline;
};

// Steps 1–3 above. `done` gets budget_alloc's reply and the key the claim's entry is in (its shard's, or the
// parent's). Passes the protocol steps reserve.lease, reserve.lease_apply, reserve.drain,
// reserve.drain_return and reserve.direct.
void AllocateOnBudget(CorePtr core, BudgetAllocation allocation,
                      absl::AnyInvocable<void(Reply, std::string) &&> done);

// A drain (step 3) on its own, answering budget_returned's reply (or budget_used's when the budget never
// leased): a joint allocation (a line on two budgets) drains a budget whose own room cannot pay what it
// computed from the budget's whole use, then allocates on the parent.
void DrainBudget(CorePtr core, std::string budget_key, absl::Time now, absl::Time deadline,
                 ReplyCallback done);

// A budget's whole use from its parent's budget_used answer `parent`: the parent's own entries (its used less
// what it leased out) plus every shard's used (read now, in parallel; nothing more when it never leased).
void AddShardUse(const CorePtr& core, const std::string& budget_key, const scripts::BudgetUse& parent,
                 absl::Time now, absl::Time deadline,
                 absl::AnyInvocable<void(absl::StatusOr<int64_t>) &&> done);

// A budget's whole use: budget_used on the parent, then AddShardUse. No step of the ledger changes.
void ReadBudgetUse(const CorePtr& core, std::string budget_key, absl::Time now, absl::Time deadline,
                   absl::AnyInvocable<void(absl::StatusOr<int64_t>) &&> done);

}  // namespace tradein::quota::redis_quota_internal

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_BUDGET_SHARDS_H_
