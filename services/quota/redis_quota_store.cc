#include "services/quota/redis_quota_store.h"

#include <utility>

#include "services/quota/redis/budget_shards.h"
#include "services/quota/redis/change.h"
#include "services/quota/redis/confirm.h"
#include "services/quota/redis/core.h"
#include "services/quota/redis/listing.h"
#include "services/quota/redis/reserve.h"
#include "services/quota/redis/sweep.h"
#include "services/redis/single_node_client.h"

namespace tradein::quota {

using redis_quota_internal::AllOf;
using redis_quota_internal::AnswerError;
using redis_quota_internal::Core;
using redis_quota_internal::ReadBudgetUse;
using redis_quota_internal::ReadClaim;
using redis_quota_internal::Reply;
using redis_quota_internal::StepOf;

RedisQuotaStore::RedisQuotaStore(redis::RedisClient& client, std::string key_prefix)
    : RedisQuotaStore(client, [&] {
        RedisQuotaStoreOptions options;
        options.key_prefix = std::move(key_prefix);
        return options;
      }()) {}

RedisQuotaStore::RedisQuotaStore(redis::RedisClient& client, RedisQuotaStoreOptions options)
    : RedisQuotaStore(std::make_unique<redis::SingleNodeClient>(client), std::move(options)) {}

RedisQuotaStore::RedisQuotaStore(std::unique_ptr<redis::RedisClient> client, RedisQuotaStoreOptions options)
    : RedisQuotaStore(std::make_unique<redis::SingleNodeClient>(std::move(client)), std::move(options)) {}

RedisQuotaStore::RedisQuotaStore(std::unique_ptr<redis::KeyedClient> client, RedisQuotaStoreOptions options)
    : RedisQuotaStore(*client, std::move(options)) {
  owned_client_ = std::move(client);
}

RedisQuotaStore::RedisQuotaStore(redis::KeyedClient& client, RedisQuotaStoreOptions options)
    : core_(std::make_shared<const Core>(std::move(options), client)) {}

RedisQuotaStore::~RedisQuotaStore() { owned_client_.reset(); }

const RedisQuotaKeys& RedisQuotaStore::keys() const { return core_->keys; }

const std::vector<std::string>& RedisQuotaStore::ProtocolSteps() {
  static const std::vector<std::string>* const steps = [] {
    auto* all = new std::vector<std::string>{
        "reserve.request",   "reserve.holds",   "reserve.budgets", "reserve.buyer",    "reserve.reconcile",
        "confirm.buyer",     "confirm.serials", "confirm.commit",  "confirm.final",    "cancel.buyer",
        "cancel.reconcile",  "refund.due",      "refund.buyer",    "refund.reconcile", "void.due",
        "void.buyer",        "void.reconcile",  "correct.due",     "correct.serial",   "correct.buyer",
        "correct.reconcile", "sweep.reconcile", "sweep.settle"};
    all->insert(all->end(), BudgetShardSteps().begin(), BudgetShardSteps().end());
    return all;
  }();
  return *steps;
}

const std::vector<std::string>& RedisQuotaStore::BudgetShardSteps() {
  static const std::vector<std::string>* const steps = new std::vector<std::string>{
      "reserve.lease", "reserve.lease_apply", "reserve.drain", "reserve.drain_return", "reserve.direct"};
  return *steps;
}

void RedisQuotaStore::Reserve(ReserveRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  redis_quota_internal::StartReserve(core_, std::move(request), deadline, std::move(done));
}

void RedisQuotaStore::Confirm(ConfirmRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  redis_quota_internal::StartConfirm(core_, std::move(request), deadline, std::move(done));
}

void RedisQuotaStore::Cancel(CancelRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  redis_quota_internal::StartCancel(core_, request, deadline, std::move(done));
}

void RedisQuotaStore::Refund(RefundRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  redis_quota_internal::StartRefund(core_, request, deadline, std::move(done));
}

void RedisQuotaStore::Void(VoidRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  redis_quota_internal::StartVoid(core_, request, deadline, std::move(done));
}

void RedisQuotaStore::Correct(CorrectRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  redis_quota_internal::StartCorrect(core_, request, deadline, std::move(done));
}

void RedisQuotaStore::ListClaims(ClaimPageRequest request, absl::Time deadline, Callback<ClaimPage> done) {
  redis_quota_internal::StartListClaims(core_, std::move(request), deadline, std::move(done));
}

void RedisQuotaStore::Get(std::string claim_id, absl::Time now, absl::Time deadline,
                          Callback<ClaimRecord> done) {
  ReadClaim(core_, claim_id, now, deadline,
            [done = std::move(done)](absl::StatusOr<scripts::ClaimReply> answer) mutable {
              if (!answer.ok()) return std::move(done)(answer.status());
              if (answer->status != "OK") return std::move(done)(AnswerError(*answer, "read"));
              std::move(done)(std::move(answer->record));
            });
}

void RedisQuotaStore::GetUsage(UsageRequest request, absl::Time deadline,
                               Callback<std::vector<int64_t>> done) {
  std::vector<std::string> fields;
  for (const CounterLimit& counter : request.counters) {
    fields.push_back(RedisQuotaKeys::CounterField(request.buyer.key, counter.programme, counter.field));
  }
  const size_t n = fields.size();
  core_->Read(scripts::Get().buyer_usage, core_->keys.Buyer(request.buyer.tag),
              scripts::UsageArgs(request.now, fields), deadline,
              [done = std::move(done), n](Reply reply) mutable {
                std::move(done)(scripts::ParseUsageReply(reply, n));
              });
}

void RedisQuotaStore::GetBudgetUsage(std::vector<BudgetRef> budgets, absl::Time now, absl::Time deadline,
                                     Callback<std::vector<int64_t>> done) {
  using Use = absl::StatusOr<int64_t>;
  std::vector<StepOf<Use>> steps;
  for (const BudgetRef& budget : budgets) {
    steps.push_back([core = core_, key = core_->keys.Budget(budget.programme, budget.budget_id), now,
                     deadline](absl::AnyInvocable<void(Use) &&> step_done) mutable {
      ReadBudgetUse(core, std::move(key), now, deadline, std::move(step_done));
    });
  }
  AllOf<Use>(std::move(steps), [done = std::move(done)](std::vector<Use> uses) mutable {
    std::vector<int64_t> used;
    for (const Use& use : uses) {
      if (!use.ok()) return std::move(done)(use.status());
      used.push_back(*use);
    }
    std::move(done)(std::move(used));
  });
}

void RedisQuotaStore::Sweep(absl::Time now, int limit, absl::Time deadline, Callback<SweepResult> done) {
  if (limit <= 0) return std::move(done)(SweepResult());
  redis_quota_internal::StartSweep(core_, now, limit, deadline, std::move(done));
}

void RedisQuotaStore::Ping(absl::Time deadline, Callback<bool> done) {
  // A key-less script: served by the one server (or any node of a cluster).
  core_->Read(scripts::Get().ping, {}, scripts::PingArgs(), deadline,
              [done = std::move(done)](Reply reply) mutable {
                const absl::Status status = scripts::ParsePingReply(reply);
                if (!status.ok()) return std::move(done)(status);
                std::move(done)(true);
              });
}

}  // namespace tradein::quota
