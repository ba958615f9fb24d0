// Running it like production: live policy reload under load, a Prometheus scrape that promtool accepts, and
// the structured logs.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/testing/free_port.h"
#include "tests/testing/subprocess.h"
#include "tradein/v1/policy_service.grpc.pb.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein {
namespace {

namespace fs = std::filesystem;
using testing::ClaimE2eTest;
using testing::PrcId;

constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void ReplaceInFile(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = ReadFile(path);
  ASSERT_NE(text.find(from), std::string::npos) << path << " has no " << from;
  absl::StrReplaceAll({{from, to}}, &text);
  const std::string temporary = path + ".tmp";
  std::ofstream(temporary) << text;
  fs::rename(temporary, path);  // atomic, as a ConfigMap update or `mv` would be
}

// The policy directory the server was started with (the fixture's edited copy).
std::string PolicyDirOf(const std::string& stdout_text) {
  const size_t from = stdout_text.find(" from ");
  const size_t end = stdout_text.find(" (snapshot", from);
  return stdout_text.substr(from + 6, end - from - 6);
}

v1::QuoteRequest FridgeQuote() {
  v1::QuoteRequest quote;
  quote.set_region_code("330381");
  quote.set_transaction_date("2025-06-01");
  v1::Item* item = quote.add_items();
  item->set_line_id("1");
  item->set_product_type("appliance.refrigerator");
  item->set_price_fen(500000);
  item->set_energy_grade(1);
  return quote;
}

std::string Scrape(int port) {
  testing::SubprocessOptions options;
  const std::string out = absl::StrCat(::testing::TempDir(), "/scrape-", port, ".txt");
  options.argv = {"curl", "-s", "-o", out, absl::StrCat("http://127.0.0.1:", port, "/metrics")};
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> curl = testing::Subprocess::Spawn(options);
  if (!curl.ok() || !(*curl)->Wait(absl::Seconds(20)).ok()) return "";
  return ReadFile(out);
}

class OperationsE2eTest : public ClaimE2eTest {};

// Claims and quotes run on 6 threads while the rules change twice (SIGHUP, then the file watch) and a broken
// file is dropped in: no call fails, and every answer is wholly one version — its amount is that version's.
TEST_P(OperationsE2eTest, ReloadUnderLoadFailsNoCallAndNeverMixesVersions) {
  ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00", {"--policy_watch"}));
  const std::string dir = PolicyDirOf(server().Stdout());
  const std::string zj = dir + "/zj-2025.textproto";

  std::atomic<bool> stop{false};
  absl::Mutex mu;
  std::map<std::string, std::set<int64_t>> amounts_by_version;  // policy version → amounts seen
  std::atomic<int> calls{0}, failures{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 6; ++t) {
    load.emplace_back([&, t] {
      auto stub = v1::SubsidyService::NewStub(channel());
      for (int i = 0; !stop.load(); ++i) {
        std::string version;
        int64_t fen = 0;
        bool ok = false;
        if (t % 2 == 0) {
          absl::StatusOr<v1::Claim> claim = Claim(
              ClaimRequest(absl::StrCat("reload-", t, "-", i), PrcId(100 * t + i % 100 + 1000), kFridge));
          ok = claim.ok();
          if (ok) version = claim->policy_version(), fen = claim->items(0).unit_subsidy_fen();
        } else {
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
          v1::QuoteResponse response;
          ok = stub->Quote(&context, FridgeQuote(), &response).ok();
          if (ok) version = response.policy_version(), fen = response.items(0).unit_subsidy_fen();
        }
        ++calls;
        if (!ok) {
          ++failures;
          continue;
        }
        absl::MutexLock lock(&mu);
        amounts_by_version[version].insert(fen);
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(500));
  ReplaceInFile(zj, "rate_bp: 2000", "rate_bp: 1900");  // grade 1: 20% → 19%
  ASSERT_TRUE(server().process().Signal(SIGHUP).ok());
  absl::SleepFor(absl::Milliseconds(700));
  ReplaceInFile(zj, "rate_bp: 1900", "rate_bp: 1800");  // picked up by --policy_watch
  absl::SleepFor(absl::Milliseconds(2000));
  ReplaceInFile(zj, "rate_bp: 1800", "rate_bp: 18000");  // broken: above 100%
  ASSERT_TRUE(server().process().Signal(SIGHUP).ok());
  absl::SleepFor(absl::Milliseconds(700));
  stop = true;
  for (std::thread& thread : load) thread.join();

  EXPECT_EQ(failures.load(), 0) << "of " << calls.load() << " calls";
  std::set<int64_t> seen;
  for (const auto& [version, amounts] : amounts_by_version) {
    EXPECT_EQ(amounts.size(), 1u) << "version " << version << " answered more than one amount";
    seen.insert(amounts.begin(), amounts.end());
  }
  EXPECT_EQ(seen, (std::set<int64_t>{100000, 95000, 90000}))
      << "each good version was served, the broken one never";
  RecordNumber("reload_calls", calls.load());
  RecordNumber("reload_failures", failures.load());
  RecordNumber("reload_versions_seen", static_cast<int64_t>(amounts_by_version.size()));

  // The broken file left the last good version in force, and said so.
  auto policies = v1::PolicyService::NewStub(channel());
  grpc::ClientContext context;
  v1::GetPolicyRequest request;
  request.set_policy_id("ra-2025");
  v1::Policy in_force;
  ASSERT_TRUE(policies->GetPolicy(&context, request, &in_force).ok());
  EXPECT_EQ(amounts_by_version.count(in_force.version()), 1u);
  absl::SleepFor(absl::Milliseconds(300));  // logs are written in batches
  EXPECT_TRUE(absl::StrContains(server().Stderr(), "\"event\":\"reload_failed\"")) << server().Stderr();
}

TEST_P(OperationsE2eTest, AScrapeDuringClaimsPassesPromtoolAndCarriesNoPerCallLabels) {
  const int metrics_port = testing::PickFreePort();
  ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00",
                          {absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port)}));
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<v1::Claim> claim =
        Claim(ClaimRequest(absl::StrCat("m-", i), PrcId(2000 + i % 5), kFridge));
    ASSERT_TRUE(claim.ok()) << claim.status();
    if (i % 3 == 0) {
      ASSERT_NE(Confirm(claim->claim_id(), "INV", {}).status().code(), absl::StatusCode::kInternal);
    }
  }
  const std::string scrape = Scrape(metrics_port);
  ASSERT_FALSE(scrape.empty());
  const std::string file = absl::StrCat(::testing::TempDir(), "/metrics-", metrics_port, ".prom");
  std::ofstream(file) << scrape;
  testing::SubprocessOptions promtool;
  promtool.argv = {"sh", "-c", absl::StrCat("promtool check metrics < ", file)};
  promtool.stdout_path = file + ".out";
  promtool.stderr_path = file + ".err";
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> check = testing::Subprocess::Spawn(promtool);
  ASSERT_TRUE(check.ok()) << check.status();
  absl::StatusOr<int> exit_code = (*check)->Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0) << ReadFile(file + ".out") << ReadFile(file + ".err");

  for (const char* name :
       {"grpc_server_started_total{", "grpc_server_handled_total{", "grpc_server_handling_seconds_bucket{",
        "tradein_claims_total{", "tradein_claim_items_total{", "tradein_granted_fen_total{",
        "tradein_confirmations_total{", "tradein_ledger_refusals_total{", "tradein_quota_store_up{",
        "tradein_policy_info{", "tradein_clock_simulated"}) {
    EXPECT_TRUE(absl::StrContains(scrape, name)) << name;
  }
  if (GetParam() == testing::StoreMode::kRedis) {
    EXPECT_TRUE(absl::StrContains(scrape, "tradein_redis_roundtrips_total"));
  }
  // Named: the c_str() of a temporary in the braced list would dangle once the loop starts.
  const std::string raw_id = PrcId(2000);
  for (const char* forbidden : {"buyer", "request_id", "claim_id", "idNumber", raw_id.c_str()}) {
    EXPECT_FALSE(absl::StrContains(scrape, forbidden)) << "per-call or personal label: " << forbidden;
  }
  EXPECT_TRUE(absl::StrContains(
      scrape,
      R"(grpc_server_handled_total{grpc_type="unary",grpc_service="tradein.v1.ClaimService",grpc_method="Claim",grpc_code="OK"} 20)"));
}

TEST_P(OperationsE2eTest, LogsAreJsonLinesWithARequestIdAndNoRawBuyerId) {
  ASSERT_TRUE(StartServer({}));
  const std::string buyer = PrcId(3000);
  ASSERT_TRUE(Claim(ClaimRequest("log-1", buyer, kFridge)).ok());
  absl::SleepFor(absl::Milliseconds(500));  // logs are written in batches
  const std::string logs = server().Stderr();
  int access_lines = 0;
  for (absl::string_view line : absl::StrSplit(logs, '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::StartsWith(line, "{\"ts\":\"") && absl::EndsWith(line, "}")) << line;
    if (!absl::StrContains(line, "\"event\":\"access\"")) continue;
    ++access_lines;
    EXPECT_TRUE(absl::StrContains(line, "\"request_id\":\"")) << line;
    EXPECT_TRUE(absl::StrContains(line, "\"latency_us\":")) << line;
  }
  EXPECT_GE(access_lines, 1);
  EXPECT_TRUE(absl::StrContains(logs, "/tradein.v1.ClaimService/Claim"));
  EXPECT_FALSE(absl::StrContains(logs, buyer)) << "the raw id must never be logged";
  EXPECT_FALSE(absl::StrContains(server().Stdout(), buyer));
}

INSTANTIATE_TEST_SUITE_P(Stores, OperationsE2eTest,
                         ::testing::Values(testing::StoreMode::kMemory, testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
