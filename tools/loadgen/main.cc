// tradein-loadgen: a gRPC load generator for tradein-server. See kUsage below (--help) and
// docs/performance.md.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tools/loadgen/loadgen.h"
#include "tools/loadgen/report.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "host:port of tradein-server (plaintext).");
ABSL_FLAG(std::string, scenario, "health", "health, quote, claim, hot or mixed (see above).");
ABSL_FLAG(int, concurrency, 32, "Closed loop: operations in flight at all times. Ignored with --rate.");
ABSL_FLAG(double, rate, 0,
          "Open loop: operations started per second on a fixed schedule, however slow the answers; latency "
          "counts from each operation's scheduled start (no coordinated omission). 0: closed loop.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(30), "How long to record (after the warm-up).");
ABSL_FLAG(int64_t, count, 0,
          "Stop after this many recorded operations instead of --duration (0: use --duration).");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2), "Load run first and left out of the results.");
ABSL_FLAG(int, channels, 4, "gRPC channels, each its own TCP connection; operations are spread over them.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10), "Deadline of every call.");
ABSL_FLAG(std::string, token, "", "Bearer token, sent as `authorization: Bearer <token>` metadata.");
ABSL_FLAG(std::string, retailer_id, "",
          "retailerId of every claim: the retailer of --token's caller when the server has a callers file. "
          "Default: --retailers tills loadgen-till-<n> (a server without authentication).");
ABSL_FLAG(int, retailers, 256,
          "Without --retailer_id: claims spread evenly at random over this many tills, loadgen-till-0..N-1.");
ABSL_FLAG(
    std::string, run_id, "",
    "Prefix of every request id, invoice and serial, and the seed of the run's buyer ids (1-24 of "
    "A-Za-z0-9._:-). Default: random, so runs against the same Redis never collide. Reusing one replays "
    "the same buyers and request ids.");
ABSL_FLAG(uint64_t, seed, 0, "Seed of the request mix; 0: derived from --run_id.");
ABSL_FLAG(
    std::string, claim_date, "2025-06-01",
    "transactionDate of claims and usage reads (Rui'an). Must be inside a claim window and not after the "
    "server's today: 2025 dates need a server started with --simulated_now=2025-06-01T10:00:00+08:00; on "
    "a real clock in 2026 use e.g. 2026-03-01.");
ABSL_FLAG(int, hot_buyers, 8, "hot: how many buyers all the tills race for.");
ABSL_FLAG(std::string, claim_basket, "mixed",
          "claim and mixed: `mixed` (1-3 items, confirmed with serial numbers) or `one_digital` (one phone, "
          "tablet or watch, confirmed without serials: the quota ledger's common path).");
ABSL_FLAG(
    double, quote_with_buyer, 0.3,
    "quote/mixed: fraction of quotes that name a buyer (the server then reads the buyer's counters in the "
    "quota store).");
ABSL_FLAG(int64_t, max_in_flight, 10000,
          "Open loop: the sender waits when this many operations are in flight.");
ABSL_FLAG(std::string, json, "",
          "Also write the results as JSON to this file (`-`: stdout, table to stderr).");
ABSL_FLAG(bool, progress, false, "Print a progress line every second on stderr.");

namespace {

constexpr char kUsage[] = R"(load for tradein-server over gRPC, for capacity planning.

  tradein-loadgen --target=HOST:PORT --scenario=quote [--concurrency=32 | --rate=2000] [--duration=30s]

Scenarios (an "operation" is what one till does; ops/s counts those, calls/s counts RPCs):
  health  grpc.health.v1.Health/Check: a no-op call, the baseline of gRPC, the network and this machine.
  quote   SubsidyService/Quote with a realistic mix: mostly 1-3 appliances and phones, some furniture,
          occasional cars and 10-20 item baskets; Rui'an, Hangzhou and Beijing; 2025 and 2026 invoice dates;
          30% name a buyer (--quote_with_buyer), which adds a quota-store read. 8,192 baskets are built
          before the run and drawn at random.
  claim   a fresh buyer per operation: Claim (1-3 items at Rui'an) then, once RESERVED, ConfirmClaim with the
          invoice and serial numbers. One operation, two calls; both latencies and the pair's are reported.
  hot     many tills racing for --hot_buyers buyers (one appliance each claim): the first claim per buyer and
          type is RESERVED (and confirmed), nearly all others come back REJECTED (quota used): contention.
  mixed   70% quote, 20% claim+confirm, 5% GetClaim, 5% GetBuyerUsage of claims made in the run.
Buyers (valid PRC ids) and request ids are unique per --run_id. Claims use --claim_date (see below).

Modes:
  closed loop (--concurrency=N): N operations always in flight; each starts when the previous one ends.
    Measures the throughput the server sustains at that parallelism; latency counts from each send.
  open loop (--rate=R): operations start at a fixed schedule of R per second whatever the server does.
    Latency counts from the *scheduled* start, so when the server (or this tool) falls behind, the wait
    shows in the percentiles instead of being silently skipped (coordinated omission). The sender's own lag
    behind the schedule is printed: if it is large, this machine, not the server, is the limit.

Capacity planning:
  1. Run health and your scenario closed-loop at the same --concurrency (tools/bench does that): the
     ratio scenario/health of throughput tells how much of the gRPC ceiling the service's own work leaves
     (1.0 = the service costs nothing beyond a no-op call; 0.5 = it doubles the cost of a call), and the p99
     ratio how much latency it adds. Both are relative to this machine and this client.
  2. Find the knee open-loop: run --rate at rising steps (e.g. 25%, 50%, 70%, 85%, 100% of the closed-loop
     throughput) for --duration=60s each. Below the knee p99 stays flat; at the knee it climbs steeply and
     keeps climbing with the run length. Plan for a rate well below the knee (for example 70% of it), and
     read the claim p99 at that rate against your tills' timeouts.
  3. Watch errors: any UNAVAILABLE / DEADLINE_EXCEEDED means the point is past capacity (or a store is down).
Ctrl-C ends a run early (operations in flight are awaited) and still prints the results; twice exits.
Latencies are nearest-rank percentiles from a log-linear histogram: at most 0.79% above the exact value and
never below it. Failed calls are included in the latencies and counted by status code.
)";

void OnInterrupt(int) { tradein::loadgen::RequestStop(); }

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, so absl::Mutex (which gRPC's locks are) keeps a global
  // deadlock-detection graph, updated on every lock created and destroyed: a few % of a call's CPU here.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(kUsage);
  absl::FlagsUsageConfig usage_config;
  // --help lists this tool's flags (absl's default matches only a file named after the binary).
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "tools/loadgen/");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);

  tradein::loadgen::LoadgenOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  if (!tradein::loadgen::ParseScenario(absl::GetFlag(FLAGS_scenario), options.scenario)) {
    std::cerr << "tradein-loadgen: --scenario must be health, quote, claim, hot or mixed\n";
    return 2;
  }
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.count = absl::GetFlag(FLAGS_count);
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.channels = absl::GetFlag(FLAGS_channels);
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.token = absl::GetFlag(FLAGS_token);
  options.retailer_id = absl::GetFlag(FLAGS_retailer_id);
  options.retailers = absl::GetFlag(FLAGS_retailers);
  if (options.retailers < 1) {
    std::cerr << "tradein-loadgen: --retailers must be at least 1\n";
    return 2;
  }
  options.run_id = absl::GetFlag(FLAGS_run_id);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.claim_date = absl::GetFlag(FLAGS_claim_date);
  options.hot_buyers = absl::GetFlag(FLAGS_hot_buyers);
  if (const std::string basket = absl::GetFlag(FLAGS_claim_basket); basket == "one_digital") {
    options.claim_basket = tradein::loadgen::ClaimBasket::kOneDigital;
  } else if (basket != "mixed") {
    std::cerr << "tradein-loadgen: --claim_basket must be mixed or one_digital\n";
    return 2;
  }
  options.quote_with_buyer = absl::GetFlag(FLAGS_quote_with_buyer);
  options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  options.progress = absl::GetFlag(FLAGS_progress);

  // Ctrl-C once: stop starting operations, wait for those in flight, report. Twice: the default (exit).
  struct sigaction interrupt = {};
  interrupt.sa_handler = OnInterrupt;
  interrupt.sa_flags = static_cast<int>(SA_RESETHAND);
  sigaction(SIGINT, &interrupt, nullptr);

  absl::StatusOr<tradein::loadgen::RunResult> result = tradein::loadgen::RunLoad(options);
  if (!result.ok()) {
    std::cerr << "tradein-loadgen: " << result.status().message() << "\n";
    return result.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  const std::string json_path = absl::GetFlag(FLAGS_json);
  const std::string table = tradein::loadgen::FormatTable(options, *result);
  if (json_path == "-") {
    std::cerr << table;
    std::cout << tradein::loadgen::FormatJson(options, *result) << std::flush;
  } else {
    std::cout << table << std::flush;
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << tradein::loadgen::FormatJson(options, *result);
      out.close();
      if (!out) {
        std::cerr << "tradein-loadgen: cannot write " << json_path << "\n";
        return 1;
      }
    }
  }
  return 0;
}
