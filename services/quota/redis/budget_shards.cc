#include "services/quota/redis/budget_shards.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "services/quota/redis/keys.h"

namespace tradein::quota::redis_quota_internal {
namespace {

// A lease while the budget has room for one per shard: a 16th of a shard's even share, so that a shard asks
// the parent about 16 times while the budget lasts (and never for less than the claim needs).
constexpr int64_t kSlicesPerShard = 16;

// One allocation (steps 1–3 of budget_shards.h) or one drain.
class ShardedBudgetCall : public SteppedCall<ShardedBudgetCall> {
 public:
  using Allocated = absl::AnyInvocable<void(Reply, std::string) &&>;

  ShardedBudgetCall(CorePtr core, BudgetAllocation allocation, Allocated allocated)
      : SteppedCall(std::move(core)), allocation_(std::move(allocation)), allocated_(std::move(allocated)) {}
  ShardedBudgetCall(CorePtr core, BudgetAllocation budget, ReplyCallback drained)
      : SteppedCall(std::move(core)), allocation_(std::move(budget)), drained_(std::move(drained)) {}

  void Allocate() {
    const int shards = core_->options.budget_shards;
    if (shards <= 1) return AllocateOnParent(scripts::BudgetRoom::kTotal);
    suffix_ = RedisQuotaKeys::BudgetShardSuffix(
        allocation_.budget_key, RedisQuotaKeys::BudgetShardOf(allocation_.claim_id, shards), shards);
    AllocateOnShard(/*leased=*/0, /*after_lease=*/false);
  }

  void Drain() {
    const std::string& parent = allocation_.budget_key;
    core_->Read(scripts::Get().budget_used, {parent, RedisQuotaKeys::BudgetHolds(parent)},
                scripts::BudgetUsedArgs(allocation_.now), allocation_.deadline,
                [self = shared_from_this()](Reply reply) {
                  absl::StatusOr<scripts::BudgetUse> use = scripts::ParseBudgetUsedReply(reply);
                  if (!use.ok()) return self->Finish(use.status());
                  if (use->leases.empty()) return self->Drained(std::move(reply));
                  self->PassStep("reserve.drain", [leases = std::move(use->leases)](ShardedBudgetCall& call) {
                    call.GiveBack(leases);
                  });
                });
  }

  // An error, or the step gate abandoned the call (as if its instance died there).
  void Finish(absl::Status status) {
    if (allocated_) return std::move(allocated_)(std::move(status), allocation_.budget_key);
    std::move(drained_)(std::move(status));
  }

 private:
  std::string Shard(absl::string_view suffix) const {
    return RedisQuotaKeys::BudgetShard(allocation_.budget_key, suffix);
  }

  // Steps 1 and 2's second half: the shard grants every line or nothing.
  void AllocateOnShard(int64_t leased, bool after_lease) {
    const std::string shard = Shard(suffix_);
    core_->Write(
        scripts::Get().budget_alloc, {shard, RedisQuotaKeys::BudgetHolds(shard)},
        scripts::ShardAllocArgs(allocation_.claim_id, allocation_.now, allocation_.hold_end, leased,
                                allocation_.lines),
        allocation_.deadline, [self = shared_from_this(), shard, after_lease](Reply reply) mutable {
          absl::StatusOr<scripts::BudgetAllocReply> got =
              scripts::ParseBudgetAllocReply(reply, self->allocation_.lines.size());
          // An error, a grant, or (a retry) the claim's entry as it stands: the answer.
          if (!got.ok() || std::any_of(got->units.begin(), got->units.end(), [](int32_t u) { return u > 0; }))
            return std::move(self->allocated_)(std::move(reply), std::move(shard));
          if (after_lease) return self->Drain();
          self->PassStep("reserve.lease", [](ShardedBudgetCall& call) { call.Lease(); });
        });
  }

  void Lease() {
    const int shards = core_->options.budget_shards;
    scripts::BudgetLeaseRequest lease{suffix_, 0, 0, shards, allocation_.total_fen, allocation_.now};
    for (const scripts::BudgetLine& line : allocation_.lines)
      lease.want_fen += int64_t{line.cap} * line.unit_fen;
    lease.slice_fen = std::max<int64_t>(allocation_.total_fen / (kSlicesPerShard * shards), 1);
    const std::string& parent = allocation_.budget_key;
    core_->Write(scripts::Get().budget_lease, {parent, RedisQuotaKeys::BudgetHolds(parent)},
                 scripts::BudgetLeaseArgs(lease), allocation_.deadline,
                 [self = shared_from_this()](Reply reply) {
                   absl::StatusOr<scripts::BudgetLeaseReply> leased = scripts::ParseBudgetLeaseReply(reply);
                   if (!leased.ok()) return self->Finish(leased.status());
                   if (leased->granted == 0) return self->Drain();
                   self->PassStep("reserve.lease_apply", [total = leased->leased](ShardedBudgetCall& call) {
                     call.AllocateOnShard(total, /*after_lease=*/true);
                   });
                 });
  }

  // Step 3: every shard gives back what no claim holds, then the parent takes it back.
  void GiveBack(const std::vector<scripts::BudgetUse::Lease>& leases) {
    std::vector<Step> steps;
    for (const scripts::BudgetUse::Lease& lease : leases) {
      steps.push_back([core = core_, shard = Shard(lease.suffix), leased = lease.leased,
                       now = allocation_.now, deadline = allocation_.deadline](ReplyCallback done) mutable {
        core->Write(scripts::Get().budget_giveback, {shard, RedisQuotaKeys::BudgetHolds(shard)},
                    scripts::BudgetGivebackArgs(leased, now), deadline, std::move(done));
      });
    }
    All(std::move(steps), [self = shared_from_this(), leases](std::vector<Reply> replies) {
      std::vector<scripts::ShardReturn> returns;
      for (size_t j = 0; j < replies.size(); ++j) {
        absl::StatusOr<int64_t> returned = scripts::ParseBudgetGivebackReply(replies[j]);
        if (!returned.ok()) return self->Finish(returned.status());
        returns.push_back({leases[j].suffix, *returned});
      }
      self->PassStep("reserve.drain_return",
                     [returns = std::move(returns)](ShardedBudgetCall& call) { call.TakeBack(returns); });
    });
  }

  void TakeBack(const std::vector<scripts::ShardReturn>& returns) {
    const std::string& parent = allocation_.budget_key;
    core_->Write(scripts::Get().budget_returned, {parent, RedisQuotaKeys::BudgetHolds(parent)},
                 scripts::BudgetReturnedArgs(allocation_.now, returns), allocation_.deadline,
                 [self = shared_from_this()](Reply reply) { self->Drained(std::move(reply)); });
  }

  // The drain's answer (the parent's budget_used or budget_returned reply): a drain's caller gets it; an
  // allocation goes on, on the parent.
  void Drained(Reply reply) {
    if (!allocated_) return std::move(drained_)(std::move(reply));
    if (!reply.ok()) return Finish(reply.status());
    PassStep("reserve.direct",
             [](ShardedBudgetCall& call) { call.AllocateOnParent(scripts::BudgetRoom::kAfterDrain); });
  }

  // With budget_shards = 1 (kTotal: a drain when the budget answers it), or after a drain.
  void AllocateOnParent(scripts::BudgetRoom room) {
    const std::string& parent = allocation_.budget_key;
    core_->Write(scripts::Get().budget_alloc, {parent, RedisQuotaKeys::BudgetHolds(parent)},
                 scripts::BudgetAllocArgs(allocation_.claim_id, allocation_.now, allocation_.hold_end,
                                          allocation_.total_fen, allocation_.lines, room),
                 allocation_.deadline, [self = shared_from_this()](Reply reply) {
                   absl::StatusOr<scripts::BudgetAllocReply> got =
                       scripts::ParseBudgetAllocReply(reply, self->allocation_.lines.size());
                   if (got.ok() && got->drain) return self->Drain();
                   std::move(self->allocated_)(std::move(reply), self->allocation_.budget_key);
                 });
  }

  const BudgetAllocation allocation_;
  Allocated allocated_;    // an allocation's answer; empty for a drain
  ReplyCallback drained_;  // a drain's answer
  std::string suffix_;     // the claim's shard (an allocation)
};

}  // namespace

void AllocateOnBudget(CorePtr core, BudgetAllocation allocation,
                      absl::AnyInvocable<void(Reply, std::string) &&> done) {
  std::make_shared<ShardedBudgetCall>(std::move(core), std::move(allocation), std::move(done))->Allocate();
}

void DrainBudget(CorePtr core, std::string budget_key, absl::Time now, absl::Time deadline,
                 ReplyCallback done) {
  BudgetAllocation budget;
  budget.budget_key = std::move(budget_key);
  budget.now = now;
  budget.deadline = deadline;
  std::make_shared<ShardedBudgetCall>(std::move(core), std::move(budget), std::move(done))->Drain();
}

void AddShardUse(const CorePtr& core, const std::string& budget_key, const scripts::BudgetUse& parent,
                 absl::Time now, absl::Time deadline,
                 absl::AnyInvocable<void(absl::StatusOr<int64_t>) &&> done) {
  std::vector<Step> steps;
  for (const scripts::BudgetUse::Lease& lease : parent.leases) {
    steps.push_back([core, shard = RedisQuotaKeys::BudgetShard(budget_key, lease.suffix), now,
                     deadline](ReplyCallback step_done) mutable {
      core->Read(scripts::Get().budget_used, {shard, RedisQuotaKeys::BudgetHolds(shard)},
                 scripts::BudgetUsedArgs(now), deadline, std::move(step_done));
    });
  }
  All(std::move(steps),
      [own = parent.used - parent.leased_out, done = std::move(done)](std::vector<Reply> replies) mutable {
        int64_t used = own;
        for (const Reply& reply : replies) {
          absl::StatusOr<scripts::BudgetUse> shard = scripts::ParseBudgetUsedReply(reply);
          if (!shard.ok()) return std::move(done)(shard.status());
          used += shard->used;
        }
        std::move(done)(used);
      });
}

void ReadBudgetUse(const CorePtr& core, std::string budget_key, absl::Time now, absl::Time deadline,
                   absl::AnyInvocable<void(absl::StatusOr<int64_t>) &&> done) {
  const std::string parent = budget_key;
  core->Read(
      scripts::Get().budget_used, {parent, RedisQuotaKeys::BudgetHolds(parent)}, scripts::BudgetUsedArgs(now),
      deadline,
      [core, budget_key = std::move(budget_key), now, deadline, done = std::move(done)](Reply reply) mutable {
        absl::StatusOr<scripts::BudgetUse> use = scripts::ParseBudgetUsedReply(reply);
        if (!use.ok()) return std::move(done)(use.status());
        AddShardUse(core, budget_key, *use, now, deadline, std::move(done));
      });
}

}  // namespace tradein::quota::redis_quota_internal
