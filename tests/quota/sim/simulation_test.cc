// The quota ledger's deterministic simulator (simulation.h) in CI: a time budget of histories on each store,
// every registered protocol step crashed, a seed that replays to the same trace, and a broken store caught
// and shrunk. The budget is TRADEIN_SIM_SECONDS (default 30 per store); tools/simulate runs any number
// outside CI.
#include "tests/quota/sim/simulation.h"

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/quota/memory_quota_store.h"
#include "services/quota/redis_quota_store.h"

namespace tradein::quota::sim {
namespace {

absl::Duration Budget() {
  int seconds = 30;
  const char* env = std::getenv("TRADEIN_SIM_SECONDS");
  if (env != nullptr && !absl::SimpleAtoi(env, &seconds)) seconds = 30;
  return absl::Seconds(seconds);
}

std::string Report(const Simulator& simulator, absl::Duration spent) {
  const SimulationStats& s = simulator.stats();
  const double seconds = absl::ToDoubleSeconds(spent);
  std::string out = absl::StrCat(
      s.histories, " histories, ", s.rounds, " rounds, ", s.calls, " calls, ", s.steps, " protocol steps, ",
      s.crashes, " crashes, ", s.lost_answers, " lost answers, ", s.restarts, " restarts, ", s.script_flushes,
      " script flushes, ", s.provisional_refusals, " provisional refusals accepted; ",
      absl::StrFormat("%.1f s, %.1f histories/s, %.0f steps/s", seconds,
                      static_cast<double>(s.histories) / seconds, static_cast<double>(s.steps) / seconds));
  if (!s.crashes_by_step.empty()) {
    std::vector<std::string> steps;
    for (const auto& [step, count] : s.crashes_by_step) steps.push_back(absl::StrCat(step, "=", count));
    absl::StrAppend(&out, "\n  crashes by step: ", absl::StrJoin(steps, " "));
  }
  return out;
}

// Runs seeds 1, 2, ... until the budget is spent; a failing history is shrunk and printed with its seed.
void RunFor(Target& target, absl::Duration budget, Simulator& simulator) {
  const absl::Time start = absl::Now();
  for (uint64_t seed = 1; absl::Now() - start < budget; ++seed) {
    const HistoryResult result = simulator.Run(seed);
    if (!result.ok) {
      if (std::getenv("SIM_DEBUG") != nullptr) std::cerr << "FULL HISTORY\n" << ToText(result.script);
      const Script shrunk = simulator.Shrink(result.script);
      FAIL() << target.name() << " seed " << seed << ": " << result.failure << "\nshrunk history ("
             << shrunk.rounds.size() << " rounds; rerun with tools/simulate --store=" << target.name()
             << " --seed=" << seed << " --histories=1):\n"
             << ToText(shrunk) << "replayed: " << simulator.Replay(shrunk).failure;
    }
  }
  std::cout << target.name() << ": " << Report(simulator, absl::Now() - start) << "\n";
}

TEST(SimulationTest, MemoryStoreAnswersLikeTheModel) {
  MemoryTarget target;
  Simulator simulator(target, {});
  RunFor(target, Budget(), simulator);
  EXPECT_GT(simulator.stats().histories, 0);
}

TEST(SimulationTest, RedisStoreAnswersLikeTheModelThroughCrashesAndServerFaults) {
  absl::StatusOr<std::unique_ptr<RedisTarget>> target = RedisTarget::Start();
  ASSERT_TRUE(target.ok()) << target.status();
  Simulator simulator(**target, {});
  RunFor(**target, Budget(), simulator);
  // Every registered step of the protocol was crashed at least once.
  for (const std::string& step : (*target)->ProtocolSteps()) {
    EXPECT_GT(simulator.stats().crashes_by_step.count(step) ? simulator.stats().crashes_by_step.at(step) : 0,
              0)
        << "protocol step " << step << " was never crashed";
  }
  EXPECT_GT(simulator.stats().restarts, 0);
  EXPECT_GT(simulator.stats().script_flushes, 0);
}

// A rolling deploy: instances with and without full grants (the version before) share the ledger call by
// call. Half the budget: the protocol steps are the same as above; what is new is the mix.
TEST(SimulationTest, MixedVersionsOnOneRedisAnswerLikeTheModel) {
  absl::StatusOr<std::unique_ptr<RedisTarget>> target = RedisTarget::Start(RedisTarget::Versions::kMixed);
  ASSERT_TRUE(target.ok()) << target.status();
  Simulator simulator(**target, {});
  RunFor(**target, Budget() / 2, simulator);
  EXPECT_GT(simulator.stats().histories, 0);
  EXPECT_GT(simulator.stats().crashes, 0);
}

// Budgets spread over shards (leases, drains, allocations on the budget itself), beside an instance without:
// every step of theirs crashed at least once.
TEST(SimulationTest, BudgetShardsAnswerLikeTheModelThroughCrashes) {
  absl::StatusOr<std::unique_ptr<RedisTarget>> target =
      RedisTarget::Start(RedisTarget::Versions::kBudgetShards);
  ASSERT_TRUE(target.ok()) << target.status();
  Simulator simulator(**target, {});
  RunFor(**target, Budget() / 2, simulator);
  for (const std::string& step : RedisQuotaStore::BudgetShardSteps()) {
    EXPECT_GT(simulator.stats().crashes_by_step.count(step) ? simulator.stats().crashes_by_step.at(step) : 0,
              0)
        << "protocol step " << step << " was never crashed";
  }
}

TEST(SimulationTest, ASeedReplaysToTheSameTraceDigest) {
  MemoryTarget memory;
  absl::StatusOr<std::unique_ptr<RedisTarget>> redis = RedisTarget::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  for (Target* target : std::initializer_list<Target*>{&memory, redis->get()}) {
    SCOPED_TRACE(target->name());
    Simulator first(*target, {});
    Simulator second(*target, {});
    const HistoryResult a = first.Run(7);
    const HistoryResult b = second.Run(7);
    ASSERT_TRUE(a.ok) << a.failure;
    EXPECT_EQ(a.digest, b.digest);
    EXPECT_EQ(ToText(a.script), ToText(b.script));
    EXPECT_EQ(second.Replay(a.script).digest, a.digest) << "a recorded history replays to the same trace";
    EXPECT_NE(first.Run(8).digest, a.digest);
  }
}

// A memory store behind every call, for stores that change a few of its answers. Entered() runs first in
// every call.
class MemoryBackedStore : public QuotaStore {
 public:
  void Reserve(ReserveRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Entered();
    real_.Reserve(std::move(r), d, std::move(done));
  }
  void Confirm(ConfirmRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Entered();
    real_.Confirm(std::move(r), d, std::move(done));
  }
  void Cancel(CancelRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Entered();
    real_.Cancel(std::move(r), d, std::move(done));
  }
  void Refund(RefundRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Entered();
    real_.Refund(std::move(r), d, std::move(done));
  }
  void Void(VoidRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Entered();
    real_.Void(std::move(r), d, std::move(done));
  }
  void Correct(CorrectRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Entered();
    real_.Correct(std::move(r), d, std::move(done));
  }
  void ListClaims(ClaimPageRequest r, absl::Time d, Callback<ClaimPage> done) override {
    Entered();
    real_.ListClaims(std::move(r), d, std::move(done));
  }
  void Get(std::string id, absl::Time now, absl::Time d, Callback<ClaimRecord> done) override {
    Entered();
    real_.Get(std::move(id), now, d, std::move(done));
  }
  void GetUsage(UsageRequest r, absl::Time d, Callback<std::vector<int64_t>> done) override {
    Entered();
    real_.GetUsage(std::move(r), d, std::move(done));
  }
  void GetBudgetUsage(std::vector<BudgetRef> b, absl::Time now, absl::Time d,
                      Callback<std::vector<int64_t>> done) override {
    Entered();
    real_.GetBudgetUsage(std::move(b), now, d, std::move(done));
  }
  void Sweep(absl::Time now, int limit, absl::Time d, Callback<SweepResult> done) override {
    Entered();
    real_.Sweep(now, limit, d, std::move(done));
  }
  void Ping(absl::Time d, Callback<bool> done) override { real_.Ping(d, std::move(done)); }

 protected:
  virtual void Entered() {}
  MemoryQuotaStore real_;
};

// A store that gives back one fen too many on a partial refund: the simulator must catch it and shrink the
// history to the few calls that show it.
class OverRefundingStore final : public MemoryBackedStore {
 public:
  void Refund(RefundRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    real_.Refund(std::move(r), d, [done = std::move(done)](absl::StatusOr<ClaimRecord> claim) mutable {
      if (claim.ok() && claim->state == ClaimState::kPartiallyRefunded && !claim->replayed) {
        claim->last_change_fen += 1;
      }
      std::move(done)(std::move(claim));
    });
  }
  absl::string_view kind() const override { return "broken"; }
};

class BrokenTarget final : public Target {
 public:
  std::string name() const override { return "broken"; }
  std::unique_ptr<QuotaStore> MakeStore(StepGate*) override { return std::make_unique<OverRefundingStore>(); }
};

TEST(SimulationTest, AStoreThatOverRefundsIsCaughtAndTheHistoryShrunk) {
  BrokenTarget target;
  Simulator simulator(target, {});
  std::optional<HistoryResult> failed;
  for (uint64_t seed = 1; seed < 200 && !failed.has_value(); ++seed) {
    HistoryResult result = simulator.Run(seed);
    if (!result.ok) failed = std::move(result);
  }
  ASSERT_TRUE(failed.has_value()) << "the simulator missed a store that over-refunds";
  EXPECT_NE(failed->failure.find("Refund"), std::string::npos) << failed->failure;
  const Script shrunk = simulator.Shrink(failed->script);
  size_t calls = 0;
  for (const Round& round : shrunk.rounds) calls += round.calls.size();
  EXPECT_LE(calls, 6u) << ToText(shrunk);
  EXPECT_FALSE(simulator.Replay(shrunk).ok) << "the shrunk history still fails";
  std::cout << "caught: " << failed->failure << "\nshrunk to " << calls << " calls:\n" << ToText(shrunk);
}

// A store whose reads and sweeps answer a moment later from a thread of their own, as a networked store's do
// (telling the gate about the work in flight), and that counts the calls that start while such work is still
// in flight.
class LaggingStore final : public MemoryBackedStore {
 public:
  LaggingStore(StepGate& gate, std::atomic<int>& overlaps) : gate_(gate), overlaps_(overlaps) {}
  ~LaggingStore() override {
    absl::MutexLock lock(&mu_);
    for (std::thread& thread : threads_) thread.join();
  }

  void Get(std::string id, absl::Time now, absl::Time d, Callback<ClaimRecord> done) override {
    Entered();
    Later([this, id = std::move(id), now, d, done = std::move(done)]() mutable {
      real_.Get(std::move(id), now, d, std::move(done));
    });
  }
  void Sweep(absl::Time now, int limit, absl::Time d, Callback<SweepResult> done) override {
    Entered();
    Later([this, now, limit, d, done = std::move(done)]() mutable {
      real_.Sweep(now, limit, d, std::move(done));
    });
  }
  absl::string_view kind() const override { return "lagging"; }

 private:
  void Entered() override {
    if (in_flight_.load() > 0) ++overlaps_;
  }

  void Later(absl::AnyInvocable<void() &&> answer) {
    gate_.Work(+1);
    ++in_flight_;
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, answer = std::move(answer)]() mutable {
      absl::SleepFor(absl::Milliseconds(2));
      --in_flight_;
      std::move(answer)();
      gate_.Work(-1);
    });
  }

  StepGate& gate_;
  std::atomic<int>& overlaps_;
  std::atomic<int> in_flight_{0};
  absl::Mutex mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

class LaggingTarget final : public Target {
 public:
  std::string name() const override { return "lagging"; }
  std::unique_ptr<QuotaStore> MakeStore(StepGate* gate) override {
    return std::make_unique<LaggingStore>(*gate, overlaps_);
  }
  int overlaps() const { return overlaps_.load(); }

 private:
  std::atomic<int> overlaps_{0};
};

// A round's calls start one at a time, each running until its first step or its answer: otherwise what a
// call sends before its first step (all of a read, a sweep's first pass) races the next call's, and the trace
// depends on timing, not on the seed (on Redis, two sweeps in one round gave different schedules).
TEST(SimulationTest, ARoundStartsItsCallsOneAtATime) {
  LaggingTarget target;
  Simulator simulator(target, {});
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const HistoryResult result = simulator.Run(seed);
    ASSERT_TRUE(result.ok) << result.failure;
  }
  EXPECT_EQ(target.overlaps(), 0) << "calls started while a read or sweep of the same round was in flight";
}

}  // namespace
}  // namespace tradein::quota::sim
