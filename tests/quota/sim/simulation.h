// -----------------------------------------------------------------------------
// File: simulation.h
// -----------------------------------------------------------------------------
//
// A deterministic simulator of the quota ledger, in the manner of FoundationDB's simulation and TigerBeetle's
// VOPR: a seeded driver runs random histories against a real QuotaStore and checks every answer and the state
// after every round against the reference ledger (tests/quota/model), an oracle that shares no code with the
// stores.
//
// A history is a sequence of rounds. Before a round the clock may jump (past holds, past the reconcile delay)
// and, on Redis, the server may restart (AOF, appendfsync always) or lose its script cache. A round starts
// 1–3 calls — claims, confirmations (with serial numbers), cancels, refunds, voids, corrections, reads,
// sweeps — like clients of several instances, one after the other, each until its first step or its answer;
// then a scheduler decides, step by step, whose protocol step runs next (RedisQuotaStore's steps pass a
// StepGate; the memory store's calls are atomic). Before any step the scheduler may crash the call there (its
// instance died); any answer may be lost (a timeout: the client retries later with the same ids). Crashes
// prefer steps never crashed yet, so every registered step gets crashed early.
//
// After the round the checker looks for a serial order of its calls — and, for each call whose outcome the
// client never learned, whether it took effect (told by reading the claim) — under which the model gives
// every answer the store gave and ends in the state the store shows (claims, buyer counters exactly; budgets
// up to the holds crashed calls may leave until they end). The documented provisional refusals (a home, old
// car, budget or serial held for a moment by a claim that is undecided, crashed or concurrent, or that a
// concurrent cancel, refund, void or correction is giving back) are accepted only when such a claim exists;
// never an over-grant. At the end of a history the clock passes every hold,
// sweeps run, and everything must match exactly: budgets, counters, every claim, the full listing, each
// expiry reported once.
//
// Deterministic: one thread drives; a call runs only when the scheduler resumes it and until its next step or
// its answer (the gate counts commands in flight, so the driver knows when the store is idle); everything
// random comes from the seed. The same seed gives the same trace digest. A failing history is shrunk (rounds,
// then calls, removed while it still fails) and printed with its seed.
//
//   MemoryTarget target;
//   Simulator simulator(target, {});
//   HistoryResult result = simulator.Run(/*seed=*/42);
//   if (!result.ok) std::cerr << result.failure << "\n" << ToText(simulator.Shrink(result.script));
//
// Thread safety: a Simulator and its Target belong to one thread.
#ifndef TRADEIN_TESTS_QUOTA_SIM_SIMULATION_H_
#define TRADEIN_TESTS_QUOTA_SIM_SIMULATION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/quota/quota_store.h"
#include "services/quota/step_gate.h"

namespace tradein::quota::sim {

// The store under test, fresh for each history, and the faults it can suffer.
class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  // A store that shares nothing with earlier ones; `gate` (may be ignored) outlives it.
  virtual std::unique_ptr<QuotaStore> MakeStore(StepGate* gate) = 0;
  // The registered protocol steps (empty: calls are atomic).
  virtual std::vector<std::string> ProtocolSteps() const { return {}; }
  virtual bool HasServerFaults() const { return false; }
  // The server restarts (keeping its data) / forgets its scripts. Called while the store is idle.
  virtual absl::Status Restart() { return absl::UnimplementedError("no server"); }
  virtual absl::Status FlushScripts() { return absl::UnimplementedError("no server"); }
};

class MemoryTarget final : public Target {
 public:
  std::string name() const override { return "memory"; }
  std::unique_ptr<QuotaStore> MakeStore(StepGate* gate) override;
};

// A throwaway redis-server (AOF, appendfsync always) and one client connection; each store under its own key
// prefix, its steps gated.
class RedisTarget final : public Target {
 public:
  // kMixed: the calls of a history alternate between an instance of this version and one of the version
  // before full grants (RedisQuotaStoreOptions::full_grants off), on one ledger — a rolling deploy.
  // kBudgetShards: calls alternate between two instances with budgets spread over 3 shards and one without
  // (RedisQuotaStoreOptions::budget_shards), on one ledger.
  enum class Versions : uint8_t { kCurrent, kMixed, kBudgetShards };
  static absl::StatusOr<std::unique_ptr<RedisTarget>> Start(Versions versions = Versions::kCurrent);
  ~RedisTarget() override;

  std::string name() const override;
  std::unique_ptr<QuotaStore> MakeStore(StepGate* gate) override;
  std::vector<std::string> ProtocolSteps() const override;
  bool HasServerFaults() const override { return true; }
  absl::Status Restart() override;
  absl::Status FlushScripts() override;

 private:
  struct Server;
  RedisTarget(std::unique_ptr<Server> server, Versions versions);
  absl::Status AwaitPing();
  std::unique_ptr<Server> server_;
  const Versions versions_;
  int stores_ = 0;
};

struct SimulationOptions {
  int rounds = 40;  // rounds per history
  int max_calls_per_round = 3;
  int crash_per_mille = 60;             // a step crashes
  int uncovered_crash_per_mille = 500;  // a step never crashed yet crashes
  int lost_answer_per_mille = 30;
  int fault_per_mille = 25;  // a restart or a script flush before a round (servers only)
};

// One call of a history, as data (so that a history can be replayed and shrunk).
struct Call {
  enum class Kind : uint8_t { kReserve, kConfirm, kCancel, kRefund, kVoid, kCorrect, kGet, kSweep };
  Kind kind = Kind::kGet;
  ReserveRequest reserve;
  ConfirmRequest confirm;
  CancelRequest cancel;
  RefundRequest refund;
  VoidRequest void_request;
  CorrectRequest correct;
  std::string claim_id;  // of every kind but sweeps
  absl::Time now;
  bool lose_answer = false;
};

struct Decision {
  uint32_t pick = 0;   // which parked step runs next (modulo how many are parked)
  bool crash = false;  // whether it crashes there
};

struct Round {
  enum class Fault : uint8_t { kNone, kRestart, kFlushScripts };
  Fault fault = Fault::kNone;
  std::vector<Call> calls;
  std::vector<Decision> decisions;  // in the order the scheduler made them
};

struct Script {
  uint64_t seed = 0;
  std::vector<Round> rounds;
};

// The history as text, a line per call: what a failure report prints.
std::string ToText(const Script& script);

struct HistoryResult {
  bool ok = true;
  std::string failure;  // the first broken check, with the round and call
  uint64_t digest = 0;  // of the whole trace: calls, decisions, answers
  Script script;        // what ran (replayable)
};

// Counts over every history a Simulator ran.
struct SimulationStats {
  int64_t histories = 0;
  int64_t rounds = 0;
  int64_t calls = 0;
  int64_t steps = 0;  // protocol steps passed or crashed
  int64_t crashes = 0;
  int64_t lost_answers = 0;
  int64_t restarts = 0;
  int64_t script_flushes = 0;
  int64_t provisional_refusals = 0;  // accepted as documented
  std::map<std::string, int64_t> crashes_by_step;
};

class Simulator {
 public:
  Simulator(Target& target, SimulationOptions options);
  ~Simulator();

  // Run
  //
  // Generates and runs the history of `seed` on a fresh store.
  HistoryResult Run(uint64_t seed);

  // Replay
  //
  // Runs a recorded history (calls and scheduler decisions as recorded) on a fresh store.
  HistoryResult Replay(const Script& script);

  // Shrink
  //
  // A smaller history that still fails: whole rounds, then single calls, removed while Replay still fails
  // (at most `attempts` replays).
  Script Shrink(const Script& failing, int attempts = 300);

  const SimulationStats& stats() const { return stats_; }

 private:
  class History;
  class Gate;
  Target& target_;
  // Outlives every store the histories make: a reply the last store of a history still owes lands here.
  std::unique_ptr<Gate> gate_;
  const SimulationOptions options_;
  SimulationStats stats_;
};

}  // namespace tradein::quota::sim

#endif  // TRADEIN_TESTS_QUOTA_SIM_SIMULATION_H_
