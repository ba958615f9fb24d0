// -----------------------------------------------------------------------------
// File: core.h
// -----------------------------------------------------------------------------
//
// What every RedisQuotaStore call shares (internal to services/quota/redis): the Core (options, key names,
// the Redis client, the step gate), the helpers that run steps in parallel and pass the step gate, reconcile
// (Settle) and the reading of one claim. Each operation lives in its own file (reserve.cc, confirm.cc,
// change.cc, listing.cc, sweep.cc, reads.cc) as a call object that owns itself through shared_ptr while Redis
// answers.
//
// Thread safety: Core is immutable but for its index expiry memo, which is thread-safe; calls' continuations
// run on the Redis client's threads, one at a time per call.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_CORE_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_CORE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/quota/quota_store.h"
#include "services/quota/redis/expiry_memo.h"
#include "services/quota/redis/keys.h"
#include "services/quota/redis/scripts.h"
#include "services/quota/redis_quota_store.h"
#include "services/quota/step_gate.h"
#include "services/redis/keyed_client.h"

namespace tradein::quota::redis_quota_internal {

using Reply = absl::StatusOr<redis::RedisValue>;
using ReplyCallback = redis::KeyedClient::Callback;

// What the store and every call in flight share.
class Core {
 public:
  Core(RedisQuotaStoreOptions options_in, redis::KeyedClient& client_in)
      : options(std::move(options_in)), keys(options.key_prefix), client_(client_in) {}

  // A script that changes state: answered once the write concern (options.write_concern) is met.
  void Write(const redis::RedisScript& script, std::vector<std::string> script_keys, std::string args,
             absl::Time deadline, ReplyCallback done) const;
  // The same with several ARGV (buyer_reserve's full grant).
  void Write(const redis::RedisScript& script, std::vector<std::string> script_keys,
             std::vector<std::string> argv, absl::Time deadline, ReplyCallback done) const;
  // A script that only reads (it may expire what is due, which any later call redoes).
  void Read(const redis::RedisScript& script, std::vector<std::string> script_keys, std::string args,
            absl::Time deadline, ReplyCallback done) const;
  // A plain command (args[1] is its key); `write` as for scripts.
  void Command(std::vector<std::string> args, bool write, absl::Time deadline, ReplyCallback done) const;
  // A write whose outcome does not matter (the sweeper cleans up after it); nothing waits for replicas.
  void FireAndForget(std::vector<std::string> args, absl::Time deadline) const;

  // Continues a call past protocol step `step`: at once, or when the step gate lets it (StepGate).
  void Pass(absl::string_view step, StepGate::Resume next) const;

  const RedisQuotaStoreOptions options;
  const RedisQuotaKeys keys;
  // The listing index keys whose TTL this instance set lately (Reserve sends a key's PEXPIRE once per
  // kIndexExpiryRefresh); the one thing calls change in a Core, thread-safe.
  static constexpr absl::Duration kIndexExpiryRefresh = absl::Minutes(10);
  mutable ExpiryMemo index_expiries{kIndexExpiryRefresh};

 private:
  // With a step gate, tells it about every command in flight, so that a simulator knows when the store is
  // idle.
  ReplyCallback Track(ReplyCallback done) const;

  redis::KeyedClient& client_;
};

using CorePtr = std::shared_ptr<const Core>;

// Answers a call exactly once.
template <typename T>
class Answer {
 public:
  explicit Answer(QuotaStore::Callback<T> done) : done_(std::move(done)) {}
  void operator()(absl::StatusOr<T> result) {
    if (answered_.exchange(true)) return;
    std::move(done_)(std::move(result));
  }

 private:
  QuotaStore::Callback<T> done_;
  std::atomic<bool> answered_{false};
};

// UNAVAILABLE: the step gate abandoned the call before `step`.
absl::Status Crashed(absl::string_view step);

// A call whose steps pass the step gate (Core::Pass): abandoned before one, it answers UNAVAILABLE, as if its
// instance crashed there. `Derived` has Finish(absl::Status).
template <typename Derived>
class SteppedCall : public std::enable_shared_from_this<Derived> {
 public:
  explicit SteppedCall(CorePtr core) : core_(std::move(core)) {}

 protected:
  // Runs `next` on this call past protocol step `step` (one of RedisQuotaStore::ProtocolSteps()).
  void PassStep(std::string step, absl::AnyInvocable<void(Derived&) &&> next) {
    core_->Pass(step, [self = this->shared_from_this(), step, next = std::move(next)](bool crash) mutable {
      if (crash) return self->Finish(Crashed(step));
      std::move(next)(*self);
    });
  }

  const CorePtr core_;
};

// One part of a parallel step, given the callback to answer (a StatusOr).
template <typename Result>
using StepOf = absl::AnyInvocable<void(absl::AnyInvocable<void(Result) &&>) &&>;

// Runs every step at once, then `then` (exactly once) with their results in step order.
template <typename Result>
void AllOf(std::vector<StepOf<Result>> steps, absl::AnyInvocable<void(std::vector<Result>) &&> then) {
  if (steps.empty()) {
    std::move(then)({});
    return;
  }
  struct Join {
    std::vector<Result> results;
    std::atomic<size_t> left{0};
    absl::AnyInvocable<void(std::vector<Result>) &&> then;
  };
  auto join = std::make_shared<Join>();
  join->results.assign(steps.size(), Result(absl::UnknownError("no reply")));
  join->left.store(steps.size());
  join->then = std::move(then);
  for (size_t i = 0; i < steps.size(); ++i) {
    std::move(steps[i])([join, i](Result result) {
      join->results[i] = std::move(result);
      if (join->left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::move(join->then)(std::move(join->results));
      }
    });
  }
}

// One command of a parallel step, and All: AllOf for Redis replies.
using Step = StepOf<Reply>;
void All(std::vector<Step> steps, absl::AnyInvocable<void(std::vector<Reply>) &&> then);

// The Status of a buyer script's error answer; `action` as in "cannot be <action>".
absl::Status AnswerError(const scripts::ClaimReply& answer, absl::string_view action);

// How reconcile treats the other slots of a claim in `state`.
scripts::SettleMode ModeFor(ClaimState state);

struct SettleOutcome {
  absl::Status status;  // the first error
  int changed = 0;      // entries that still held what the claim no longer holds
  bool gone = false;    // a commit found an entry missing or its hold ended
};

// Settle
//
// Reconcile: brings the budget entries and once-keys of `plan` in line with the claim (in parallel).
void Settle(const CorePtr& core, const std::string& claim_id, scripts::SettleMode mode, absl::Time hold_end,
            const scripts::Plan& plan, absl::Time now, absl::Time deadline,
            absl::AnyInvocable<void(SettleOutcome) &&> then);

// ReadClaim
//
// The claim (buyer_get: it expires when due). A claim id that cannot be ours answers NOT_FOUND.
void ReadClaim(const CorePtr& core, const std::string& claim_id, absl::Time now, absl::Time deadline,
               absl::AnyInvocable<void(absl::StatusOr<scripts::ClaimReply>) &&> then);

}  // namespace tradein::quota::redis_quota_internal

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_CORE_H_
