// tradein-loadgen end to end: the real binary for about a second per scenario against a real tradein-server
// (memory store, clock at 2025-06-01), reading back its --json. Checks that every scenario runs, answers
// without errors and measures something; not how fast (no timed assertions).
#include <signal.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tradein {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using testing::ServerProcess;
using testing::Subprocess;
using testing::SubprocessOptions;
using testing::TempDir;

std::string LoadgenPath() { return absl::StrCat(TRADEIN_BINARY_DIR, "/tools/loadgen/tradein-loadgen"); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// fields["a"]["b"]... as a number; -1 when absent.
double Number(const Struct& root, const std::vector<std::string>& path) {
  const Struct* at = &root;
  for (size_t i = 0; i < path.size(); ++i) {
    auto it = at->fields().find(path[i]);
    if (it == at->fields().end()) return -1;
    if (i + 1 == path.size()) return it->second.number_value();
    if (!it->second.has_struct_value()) return -1;
    at = &it->second.struct_value();
  }
  return -1;
}

struct LoadgenRun {
  int exit_code = -1;
  std::string stdout_text;
  std::string stderr_text;
  Struct json;
};

class LoadgenSmokeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start({"--simulated_now=2025-06-01T10:00:00+08:00"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Runs tradein-loadgen against the server with `args` (plus target, a short duration and --json).
  // With `interrupt_after`, SIGINT is sent that long after the start (as Ctrl-C would).
  LoadgenRun Loadgen(std::vector<std::string> args, absl::Duration interrupt_after = absl::ZeroDuration()) {
    LoadgenRun run;
    absl::StatusOr<TempDir> dir = TempDir::Create("tradein-loadgen-test-");
    EXPECT_TRUE(dir.ok()) << dir.status();
    if (!dir.ok()) return run;
    SubprocessOptions options;
    options.argv = {LoadgenPath(),   absl::StrCat("--target=", server_->address()),
                    "--duration=1s", "--warmup=200ms",
                    "--channels=2",  absl::StrCat("--json=", dir->Join("out.json"))};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.stdout_path = dir->Join("stdout");
    options.stderr_path = dir->Join("stderr");
    absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Spawn(std::move(options));
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return run;
    if (interrupt_after > absl::ZeroDuration()) {
      absl::SleepFor(interrupt_after);
      EXPECT_TRUE((*process)->Signal(SIGINT).ok());
    }
    absl::StatusOr<int> exit_code = (*process)->Wait(absl::Seconds(120));  // a generous sanity bound
    EXPECT_TRUE(exit_code.ok()) << exit_code.status();
    run.exit_code = exit_code.ok() ? *exit_code : -1;
    run.stdout_text = ReadFile(dir->Join("stdout"));
    run.stderr_text = ReadFile(dir->Join("stderr"));
    const std::string json = ReadFile(dir->Join("out.json"));
    if (run.exit_code == 0) {
      const auto parsed = google::protobuf::util::JsonStringToMessage(json, &run.json);
      EXPECT_TRUE(parsed.ok()) << parsed << "\n" << json;
    }
    return run;
  }

  // The checks every scenario must pass: it ran, measured something and saw no error.
  static void ExpectHealthyRun(const LoadgenRun& run, const std::string& call_kind) {
    ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
    EXPECT_GT(Number(run.json, {"ops_per_s"}), 0) << run.stdout_text;
    EXPECT_GT(Number(run.json, {"calls_per_s"}), 0) << run.stdout_text;
    EXPECT_EQ(Number(run.json, {"errors"}), 0) << run.stdout_text;
    EXPECT_GT(Number(run.json, {"calls_by_kind", call_kind, "count"}), 0) << run.stdout_text;
    EXPECT_GT(Number(run.json, {"calls_by_kind", call_kind, "latency_us", "p99"}), 0) << run.stdout_text;
    EXPECT_GE(Number(run.json, {"calls_by_kind", call_kind, "latency_us", "max"}),
              Number(run.json, {"calls_by_kind", call_kind, "latency_us", "p99"}));
    EXPECT_NE(run.stdout_text.find("errors: none"), std::string::npos) << run.stdout_text;
  }

  static ServerProcess* server_;
};

ServerProcess* LoadgenSmokeTest::server_ = nullptr;

TEST_F(LoadgenSmokeTest, Health) {
  const LoadgenRun run = Loadgen({"--scenario=health", "--concurrency=8", "--token=smoke-test-token"});
  ExpectHealthyRun(run, "health");
}

TEST_F(LoadgenSmokeTest, Quote) {
  const LoadgenRun run = Loadgen({"--scenario=quote", "--concurrency=8"});
  ExpectHealthyRun(run, "quote");
}

TEST_F(LoadgenSmokeTest, ClaimThenConfirmEveryReservedClaim) {
  const LoadgenRun run = Loadgen({"--scenario=claim", "--concurrency=8"});
  ExpectHealthyRun(run, "claim");
  const double reserved = Number(run.json, {"claim_outcomes", "RESERVED"});
  EXPECT_GT(reserved, 0) << run.stdout_text;
  EXPECT_EQ(Number(run.json, {"claim_outcomes", "REJECTED"}), -1) << "fresh buyers are never rejected";
  EXPECT_EQ(Number(run.json, {"confirm_outcomes", "CONFIRMED"}), reserved);
  EXPECT_EQ(Number(run.json, {"ops_by_kind", "claim+confirm", "count"}), reserved);
  EXPECT_EQ(Number(run.json, {"calls_by_kind", "confirm", "count"}), reserved);
}

TEST_F(LoadgenSmokeTest, HotBuyersAreMostlyRejected) {
  const LoadgenRun run = Loadgen({"--scenario=hot", "--concurrency=16", "--hot_buyers=2"});
  ExpectHealthyRun(run, "claim");
  // 2 buyers × 3 appliance types: at most 6 claims can be RESERVED, whoever wins the races.
  EXPECT_LE(Number(run.json, {"claim_outcomes", "RESERVED"}), 6) << run.stdout_text;
  EXPECT_GT(Number(run.json, {"claim_outcomes", "REJECTED"}), 6) << run.stdout_text;
}

TEST_F(LoadgenSmokeTest, MixedOpenLoop) {
  const LoadgenRun run = Loadgen({"--scenario=mixed", "--rate=300"});
  ExpectHealthyRun(run, "quote");
  EXPECT_EQ(run.json.fields().at("mode").string_value(), "open");
  EXPECT_GT(Number(run.json, {"calls_by_kind", "claim", "count"}), 0);
  EXPECT_GE(Number(run.json, {"open_loop", "max_in_flight"}), 1);
  // 300/s for 1 s: the schedule, not the answers, decides how many operations there are.
  EXPECT_NEAR(Number(run.json, {"ops"}), 300, 2);
}

TEST_F(LoadgenSmokeTest, CountStopsAfterThatManyOperations) {
  const LoadgenRun run = Loadgen({"--scenario=quote", "--count=500", "--concurrency=4"});
  ExpectHealthyRun(run, "quote");
  EXPECT_EQ(Number(run.json, {"ops"}), 500);
}

TEST_F(LoadgenSmokeTest, InterruptEndsTheRunAndStillReports) {
  const LoadgenRun run =
      Loadgen({"--scenario=quote", "--concurrency=4", "--duration=600s"}, absl::Seconds(2));
  ExpectHealthyRun(run, "quote");
  EXPECT_TRUE(run.json.fields().at("interrupted").bool_value());
  EXPECT_LT(Number(run.json, {"window_s"}), 600);
}

TEST_F(LoadgenSmokeTest, BadFlagsExitTwo) {
  EXPECT_EQ(Loadgen({"--scenario=nope"}).exit_code, 2);
  EXPECT_EQ(Loadgen({"--run_id=has space"}).exit_code, 2);
}

}  // namespace
}  // namespace tradein
