// -----------------------------------------------------------------------------
// File: loadgen.h
// -----------------------------------------------------------------------------
//
// The load generator's engine: opens --channels gRPC channels (each its own TCP connection: a local
// subchannel pool and a distinct channel argument per channel), then runs one scenario in a closed or an open
// loop with the gRPC callback API and returns what it measured (stats.h).
//
// Closed loop (concurrency > 0, rate == 0): `concurrency` slots, each with exactly one operation in flight;
// when an operation finishes its slot starts the next one from the completion callback. Latency is measured
// from the moment each call is sent. Throughput is what the server sustains at that much parallelism.
//
// Open loop (rate > 0): one sender thread starts operation i at start + i / rate (absolute-time sleeps, no
// drift), however many are still in flight, so a slow server cannot slow the arrivals down. The first call's
// latency and the operation's latency are measured from that intended start, not from when the sender got
// round to it: if the server (or the sender) falls behind, the queueing shows in the percentiles instead of
// being hidden (coordinated omission). Calls after the first of an operation (ConfirmClaim after Claim) are
// measured from their own send time. The sender's own lag behind the schedule is reported separately, and
// max_in_flight bounds memory (the sender waits; the wait counts in the latencies).
//
// Requests: quotes are drawn at random from 8,192 baskets built before the run starts (so building them costs
// the shared CPUs nothing while measuring); claims are built per operation (fresh buyer, unique request id).
//
// Warm-up: operations due before start + warmup run but are not recorded. A run ends after `duration` (no
// operation due after it starts) or after `count` recorded operations; calls still in flight then are awaited
// (each has a deadline) and recorded.
//
// Thread safety: RunLoad is a blocking call; RequestStop may be called from any thread or a signal handler.
// Errors: RunLoad fails (INVALID_ARGUMENT) for bad options and (UNAVAILABLE) when a channel cannot connect
// within 10 s; failed calls during the run are results, not errors.
#ifndef TRADEIN_TOOLS_LOADGEN_LOADGEN_H_
#define TRADEIN_TOOLS_LOADGEN_LOADGEN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/loadgen/histogram.h"
#include "tools/loadgen/stats.h"
#include "tools/loadgen/workload.h"

namespace tradein::loadgen {

enum class Scenario { kHealth, kQuote, kClaim, kHot, kMixed };
// "health", "quote", "claim", "hot", "mixed".
absl::string_view ScenarioName(Scenario scenario);
bool ParseScenario(absl::string_view name, Scenario& scenario);

struct LoadgenOptions {
  std::string target = "127.0.0.1:50051";
  Scenario scenario = Scenario::kHealth;
  int channels = 4;
  int concurrency = 32;  // closed loop: operations in flight
  double rate = 0;       // open loop when > 0: operations started per second
  absl::Duration duration = absl::Seconds(30);
  int64_t count = 0;  // when > 0: stop after this many recorded operations instead
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration deadline = absl::Seconds(10);  // per call
  std::string token;                            // sent as "authorization: Bearer <token>" when not empty
  std::string retailer_id;                      // every claim's retailer; empty: `retailers` tills
  int retailers = 256;                          // loadgen-till-0..retailers-1, when retailer_id is empty
  std::string run_id;                           // prefix of request ids; empty: random
  uint64_t seed = 0;                            // 0: derived from the run id
  std::string claim_date = "2025-06-01";
  int hot_buyers = 8;
  ClaimBasket claim_basket = ClaimBasket::kMixed;  // claim and mixed: what a claim holds (workload.h)
  double quote_with_buyer = 0.3;
  int64_t max_in_flight = 10000;  // open loop
  bool progress = false;          // a line a second on stderr
};

struct RunResult {
  std::string run_id;
  Stats stats;
  // The recorded window: from the end of the warm-up to `duration` later (or to the last recorded operation's
  // end with `count`). Throughput = recorded operations / window.
  double window_seconds = 0;
  // Open loop only: how late the sender started operations against the schedule, and the most in flight.
  LatencyHistogram send_lag;
  int64_t max_in_flight = 0;
  int64_t sender_throttled = 0;  // times the sender waited for max_in_flight
  // RequestStop() ended the run early: the window ends there.
  bool interrupted = false;
};

[[nodiscard]] absl::StatusOr<RunResult> RunLoad(const LoadgenOptions& options);

// RequestStop
//
// Ends a running RunLoad early, as if its duration were up: no operation starts after this, those in flight
// are awaited and recorded, and the result covers the time until now. Async-signal-safe (for SIGINT).
void RequestStop();

}  // namespace tradein::loadgen

#endif  // TRADEIN_TOOLS_LOADGEN_LOADGEN_H_
