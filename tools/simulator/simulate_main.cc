// tradein-simulate: the quota ledger's deterministic simulator (tests/quota/sim/simulation.h) outside CI, for
// as many histories as you like. Each history is a seed; a failure prints the seed, what broke and the shrunk
// history that reproduces it, and the run exits 1.
//
//   tools/simulate --histories=1000000 --seed=1 --store=redis
//   tools/simulate --seed=4711 --histories=1 --store=redis       # rerun one failing seed
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tests/quota/sim/simulation.h"

ABSL_FLAG(int64_t, histories, 1000, "How many histories (seeds --seed, --seed+1, ...).");
ABSL_FLAG(uint64_t, seed, 1, "The first seed.");
ABSL_FLAG(std::string, store, "both",
          "memory, redis (a throwaway redis-server of its own), redis-mixed (calls alternating between this "
          "version and the one before full grants, on one ledger), redis-shards (calls alternating between "
          "instances with budgets over 3 shards and one without) or both (memory and redis).");
ABSL_FLAG(int, rounds, 40, "Rounds per history.");
ABSL_FLAG(absl::Duration, progress, absl::Seconds(10), "How often to print a progress line (0: never).");

namespace {

using tradein::quota::sim::HistoryResult;
using tradein::quota::sim::MemoryTarget;
using tradein::quota::sim::RedisTarget;
using tradein::quota::sim::Script;
using tradein::quota::sim::SimulationOptions;
using tradein::quota::sim::SimulationStats;
using tradein::quota::sim::Simulator;
using tradein::quota::sim::Target;

void PrintStats(const Target& target, const SimulationStats& s, absl::Duration spent) {
  const double seconds = std::max(absl::ToDoubleSeconds(spent), 1e-9);
  std::printf(
      "%s: %lld histories, %lld rounds, %lld calls, %lld steps, %lld crashes, %lld lost answers, %lld "
      "restarts, "
      "%lld script flushes, %lld provisional refusals; %.1f s, %.1f histories/s, %.0f steps/s\n",
      target.name().c_str(), static_cast<long long>(s.histories), static_cast<long long>(s.rounds),
      static_cast<long long>(s.calls), static_cast<long long>(s.steps), static_cast<long long>(s.crashes),
      static_cast<long long>(s.lost_answers), static_cast<long long>(s.restarts),
      static_cast<long long>(s.script_flushes), static_cast<long long>(s.provisional_refusals), seconds,
      static_cast<double>(s.histories) / seconds, static_cast<double>(s.steps) / seconds);
  for (const auto& [step, count] : s.crashes_by_step) {
    std::printf("  crashed before %-18s %lld\n", step.c_str(), static_cast<long long>(count));
  }
  std::fflush(stdout);
}

// Runs the histories on one target; false after the first failure (printed, shrunk).
bool RunOn(Target& target) {
  SimulationOptions options;
  options.rounds = absl::GetFlag(FLAGS_rounds);
  Simulator simulator(target, options);
  const absl::Time start = absl::Now();
  absl::Time last_progress = start;
  const absl::Duration every = absl::GetFlag(FLAGS_progress);
  const uint64_t first = absl::GetFlag(FLAGS_seed);
  for (int64_t i = 0; i < absl::GetFlag(FLAGS_histories); ++i) {
    const uint64_t seed = first + static_cast<uint64_t>(i);
    const HistoryResult result = simulator.Run(seed);
    if (!result.ok) {
      const Script shrunk = simulator.Shrink(result.script);
      std::printf("%s: seed %llu FAILED: %s\nshrunk history:\n%sit fails with: %s\n", target.name().c_str(),
                  static_cast<unsigned long long>(seed), result.failure.c_str(),
                  tradein::quota::sim::ToText(shrunk).c_str(), simulator.Replay(shrunk).failure.c_str());
      PrintStats(target, simulator.stats(), absl::Now() - start);
      return false;
    }
    if (every > absl::ZeroDuration() && absl::Now() - last_progress >= every) {
      last_progress = absl::Now();
      std::fprintf(stderr, "%s: %lld histories, last seed %llu, trace %016llx\n", target.name().c_str(),
                   static_cast<long long>(i + 1), static_cast<unsigned long long>(seed),
                   static_cast<unsigned long long>(result.digest));
    }
  }
  PrintStats(target, simulator.stats(), absl::Now() - start);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "tradein-simulate: random histories against a real quota store, checked against the reference ledger.\n"
      "  --store=memory|redis|redis-mixed|redis-shards|both --histories=N --seed=S [--rounds=40]");
  absl::ParseCommandLine(argc, argv);
  const std::string store = absl::GetFlag(FLAGS_store);
  const std::map<std::string, RedisTarget::Versions> redis_targets = {
      {"redis", RedisTarget::Versions::kCurrent},
      {"both", RedisTarget::Versions::kCurrent},
      {"redis-mixed", RedisTarget::Versions::kMixed},
      {"redis-shards", RedisTarget::Versions::kBudgetShards}};
  if (store != "memory" && !redis_targets.count(store)) {
    std::fprintf(stderr, "--store must be memory, redis, redis-mixed, redis-shards or both, not \"%s\"\n",
                 store.c_str());
    return 2;
  }
  bool ok = true;
  if (store == "memory" || store == "both") {
    MemoryTarget memory;
    ok = RunOn(memory) && ok;
  }
  if (store != "memory" && ok) {
    absl::StatusOr<std::unique_ptr<RedisTarget>> redis = RedisTarget::Start(redis_targets.at(store));
    if (!redis.ok()) {
      std::fprintf(stderr, "cannot start a redis-server: %s\n", redis.status().ToString().c_str());
      return 2;
    }
    ok = RunOn(**redis) && ok;
  }
  return ok ? 0 : 1;
}
