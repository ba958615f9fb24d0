// -----------------------------------------------------------------------------
// File: budget_shards.h
// -----------------------------------------------------------------------------
//
// A budget spread over shards (RedisQuotaStoreOptions::budget_shards = N > 1; docs/quota-ledger.md, "Budgets at
// scale"), internal to services/quota/redis. The budget's hash (the parent) leases fen to N shard hashes in
// other slots, and a claim allocates on its own shard (RedisQuotaKeys::BudgetShardOf), so that one budget is the
// work of N slots, not of one. As exact as one hash:
//
//   1. budget_alloc on the claim's shard: every line its cap, or nothing;
//   2. nothing: budget_lease on the parent (the lines' fen, or a slice while the budget has room for one per
//      shard), then budget_alloc on the shard again;
//   3. the parent's room does not cover the lines, or the lease went to another claim: a drain — every shard the
//      parent ever leased to gives back what no claim holds (budget_giveback, in parallel), the parent takes it
//      back (budget_returned) — then budget_alloc on the parent itself, which now has every fen no claim holds
//      and decides the last one exactly, as an unsharded budget does.
//
// Every step is idempotent and only ever moves fen one way (a shard's `lease` and `ret`, the parent's l:<s> and
// r:<s> only grow), so a crash between two steps loses nothing: a lease the parent granted and the shard never
// applied is applied by the shard's next lease or the next drain. The parent's `used` counts what it leased and
// did not take back, so an instance that allocates on the parent directly (budget_shards = 1, or the version
// before shards) never takes what a shard may grant.
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
// parent's after a drain). Passes the protocol steps reserve.lease, reserve.lease_apply, reserve.drain,
// reserve.drain_return and reserve.direct.
void AllocateOnShards(CorePtr core, BudgetAllocation allocation,
                      absl::AnyInvocable<void(Reply, std::string) &&> done);

// A drain (step 3), answering the parent's use after it as budget_used's reply: what a joint allocation (a line
// on two budgets) computes from before it allocates on the parent. A budget that never leased is only read.
void DrainBudget(CorePtr core, std::string budget_key, absl::Time now, absl::Time deadline, ReplyCallback done);

// A budget's use: its own entries (the parent's used, less what shards hold of their leases) plus every
// shard's. No step of the ledger changes.
void ReadBudgetUse(const CorePtr& core, std::string budget_key, absl::Time now, absl::Time deadline,
                   absl::AnyInvocable<void(absl::StatusOr<int64_t>) &&> done);

}  // namespace tradein::quota::redis_quota_internal

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_BUDGET_SHARDS_H_
