// What an operator sees (issue 12, item 7): access lines that name the reason code, the claim and the
// request; the ports chosen for `:0` listeners in the JSON start line; grpc.reflection.v1 answered (grpcurl's
// first probe), neither an error in the log nor in grpc_server_handled_total; instances on one Redis whose
// clocks disagree refused, and --redis_key_prefix keeping ledgers apart.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/portal_service.grpc.pb.h"

namespace tradein {
namespace {

using testing::ClaimE2eTest;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::PrcId;

constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";

// The server's JSON log lines of `event`, once at least `count` are out (logs are written in batches).
std::vector<std::string> LogLines(testing::ServerProcess& server, const std::string& event,
                                  size_t count = 1) {
  std::vector<std::string> lines;
  testing::WaitUntil(
      [&] {
        lines.clear();
        for (absl::string_view line : absl::StrSplit(server.Stderr(), '\n', absl::SkipEmpty())) {
          if (absl::StrContains(line, absl::StrCat("\"event\":\"", event, "\""))) lines.emplace_back(line);
        }
        return lines.size() >= count;
      },
      absl::Seconds(10));
  return lines;
}

// The string value of `key` in a flat JSON log line ("" when absent).
std::string Field(absl::string_view line, absl::string_view key) {
  const std::string marker = absl::StrCat("\"", key, "\":\"");
  const size_t from = line.find(marker);
  if (from == absl::string_view::npos) return "";
  const size_t start = from + marker.size();
  return std::string(line.substr(start, line.find('"', start) - start));
}

// GET http://ADDRESS/PATH with curl; the body, or "" on failure.
std::string HttpGet(const std::string& address, const std::string& path) {
  const std::string out = absl::StrCat(::testing::TempDir(), "/ops-get-", absl::ToUnixNanos(absl::Now()));
  testing::SubprocessOptions options;
  options.argv = {"curl", "-s", "-o", out, absl::StrCat("http://", address, path)};
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> curl = testing::Subprocess::Spawn(options);
  if (!curl.ok() || !(*curl)->Wait(absl::Seconds(20)).ok()) return "";
  return testing::ReadFile(out);
}

class OpsE2eTest : public ClaimE2eTest {};

TEST_P(OpsE2eTest, AccessLinesNameTheReasonCodeTheClaimAndTheRequestId) {
  ASSERT_TRUE(StartServer({}));
  absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest("ops-access-1", PrcId(7100), kFridge));
  ASSERT_TRUE(claim.ok()) << claim.status();
  // A refusal with a reason code, on a claim id the caller named.
  auto stub = v1::ClaimService::NewStub(channel());
  grpc::ClientContext context;
  context.AddMetadata("x-request-id", "till-7-ops-0002");
  v1::CancelClaimRequest cancel;
  cancel.set_claim_id(claim->claim_id());
  cancel.set_retailer_id("shop-1");
  v1::Claim cancelled;
  ASSERT_TRUE(stub->CancelClaim(&context, cancel, &cancelled).ok());
  grpc::ClientContext again;
  again.AddMetadata("x-request-id", "till-7-ops-0003");
  v1::ConfirmClaimRequest confirm;
  confirm.set_claim_id(claim->claim_id());
  confirm.set_retailer_id("shop-1");
  confirm.set_invoice_number("INV-OPS-1");
  v1::Claim refused;
  const grpc::Status status = stub->ConfirmClaim(&again, confirm, &refused);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();

  const std::vector<std::string> lines = LogLines(server(), "access", 3);
  std::string made, refusal;
  for (const std::string& line : lines) {
    if (absl::StrContains(line, "/tradein.v1.ClaimService/Claim\"")) made = line;
    if (Field(line, "request_id") == "till-7-ops-0003") refusal = line;
  }
  ASSERT_FALSE(made.empty()) << server().Stderr();
  EXPECT_EQ(Field(made, "claim_id"), claim->claim_id()) << "the claim a Claim made: " << made;
  EXPECT_EQ(Field(made, "code"), "OK") << made;
  EXPECT_EQ(Field(made, "reason"), "") << made;
  EXPECT_FALSE(Field(made, "request_id").empty()) << made;
  ASSERT_FALSE(refusal.empty()) << server().Stderr();
  EXPECT_EQ(Field(refusal, "code"), "FAILED_PRECONDITION") << refusal;
  EXPECT_FALSE(Field(refusal, "reason").empty()) << "the refusal's reason code: " << refusal;
  EXPECT_EQ(Field(refusal, "claim_id"), claim->claim_id()) << refusal;
  EXPECT_EQ(Field(refusal, "retailer"), "shop-1") << refusal;
}

TEST_P(OpsE2eTest, TheStartLineNamesThePortsChosenForListenersOnPortZero) {
  ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00", {"--http_listen=127.0.0.1:0"}));
  const std::vector<std::string> started = LogLines(server(), "server_started");
  ASSERT_EQ(started.size(), 1u) << server().Stderr();
  const std::string metrics = Field(started[0], "metrics_listen");
  const std::string http = Field(started[0], "http_listen");
  EXPECT_EQ(Field(started[0], "listen"), server().address());
  ASSERT_TRUE(absl::StartsWith(metrics, "127.0.0.1:") && !absl::EndsWith(metrics, ":0")) << started[0];
  ASSERT_TRUE(absl::StartsWith(http, "127.0.0.1:") && !absl::EndsWith(http, ":0")) << started[0];
  EXPECT_EQ(Field(started[0], "health_listen"), "") << "off: named empty";
  EXPECT_THAT(HttpGet(metrics, "/metrics"), HasSubstr("grpc_server_started_total"))
      << "the logged metrics address is the one serving";
  EXPECT_THAT(HttpGet(http, "/v1/policies"), HasSubstr("policies")) << "the logged gateway address serves";
}

// A crash leaves what an operator needs on stderr: the signal and a symbolized stack (Abseil's failure signal
// handler), before the process dies of it.
TEST_P(OpsE2eTest, ACrashWritesTheSignalAndAStackToStderr) {
  ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00"));
  // A real fault is delivered to the thread that made it. A kill(2) would go to whichever thread the kernel
  // picks (under load, often one of gRPC's), so the signal goes to the main thread, whose stack is known.
  const pid_t pid = server().process().pid();
  ASSERT_EQ(syscall(SYS_tgkill, pid, pid, SIGSEGV), 0) << std::strerror(errno);
  const absl::StatusOr<int> exit_code = server().process().Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_NE(*exit_code, 0);
  const std::string stderr_text = server().Stderr();
  EXPECT_THAT(stderr_text, HasSubstr("*** SIGSEGV received at time="));
  // Where it was, by name (here the thread that took the signal: main, waiting in sigwait).
  EXPECT_THAT(stderr_text, ::testing::ContainsRegex("PC: @ +0x[0-9a-f]+ +[^ ]+ +[A-Za-z_]"));
  // And the whole stack, unwound from the tables: libc's sigwait called from the server's main.
  EXPECT_THAT(stderr_text, HasSubstr("*** stack (glibc backtrace):"));
  EXPECT_THAT(stderr_text, ::testing::ContainsRegex("libc\\.so\\.6\\(__libc_start_main"));
}

TEST_P(OpsE2eTest, ReflectionV1AnswersAndIsNeitherAnErrorLineNorAnErrorMetric) {
  ASSERT_TRUE(StartServer({}));
  namespace reflection = grpc::reflection::v1;
  auto stub = reflection::ServerReflection::NewStub(channel());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("x-request-id", "grpcurl-probe-1");
  auto stream = stub->ServerReflectionInfo(&context);
  reflection::ServerReflectionRequest list;
  list.set_list_services("*");
  ASSERT_TRUE(stream->Write(list));
  reflection::ServerReflectionResponse listed;
  ASSERT_TRUE(stream->Read(&listed));
  std::vector<std::string> services;
  for (const reflection::ServiceResponse& service : listed.list_services_response().service())
    services.push_back(service.name());
  EXPECT_THAT(services,
              ::testing::IsSupersetOf({"tradein.v1.ClaimService", "tradein.v1.SubsidyService",
                                       "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                                       "grpc.reflection.v1alpha.ServerReflection"}));
  reflection::ServerReflectionRequest describe;
  describe.set_file_containing_symbol("tradein.v1.ClaimService");
  ASSERT_TRUE(stream->Write(describe));
  reflection::ServerReflectionResponse described;
  ASSERT_TRUE(stream->Read(&described));
  EXPECT_GT(described.file_descriptor_response().file_descriptor_proto_size(), 0);
  EXPECT_EQ(described.original_request().file_containing_symbol(), "tradein.v1.ClaimService");
  reflection::ServerReflectionRequest unknown;
  unknown.set_file_containing_symbol("no.such.Service");
  ASSERT_TRUE(stream->Write(unknown));
  reflection::ServerReflectionResponse not_found;
  ASSERT_TRUE(stream->Read(&not_found));
  EXPECT_EQ(not_found.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();

  for (const std::string& line : LogLines(server(), "access")) {
    if (absl::StrContains(line, "ServerReflection")) {
      EXPECT_EQ(Field(line, "code"), "OK") << line;
    }
  }
  const std::string scrape =
      HttpGet(Field(LogLines(server(), "server_started")[0], "metrics_listen"), "/metrics");
  EXPECT_THAT(scrape, HasSubstr(R"(grpc_server_handled_total{grpc_type="bidi_stream",)"
                                R"(grpc_service="grpc.reflection.v1.ServerReflection",)"
                                R"(grpc_method="ServerReflectionInfo",grpc_code="OK"} 1)"));
  EXPECT_THAT(scrape, Not(HasSubstr(R"(grpc_code="UNIMPLEMENTED"} 1)")));
}

INSTANTIATE_TEST_SUITE_P(Stores, OpsE2eTest, ::testing::Values(testing::StoreMode::kMemory),
                         testing::StoreModeName);

// Instances sharing one Redis: each publishes its clock's offset; clocks apart must not share a ledger, and
// --redis_key_prefix keeps ledgers apart on one Redis.
class SharedRedisE2eTest : public ClaimE2eTest {
 protected:
  // Another server on the fixture's Redis with the same buyer key (`args` added).
  absl::StatusOr<std::unique_ptr<testing::ServerProcess>> StartNeighbour(std::vector<std::string> args) {
    if (!key_dir_.has_value()) {
      TRADEIN_ASSIGN_OR_RETURN(key_dir_, testing::TempDir::Create("tradein-ops-key-"));
      std::ofstream(key_dir_->Join("buyer.key"))
          << "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
      std::filesystem::permissions(key_dir_->Join("buyer.key"),
                                   std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
    args.push_back(absl::StrCat("--redis=", redis()->url()));
    args.push_back(absl::StrCat("--buyer_key_file=", key_dir_->Join("buyer.key")));
    return testing::ServerProcess::Start(std::move(args));
  }

  std::vector<std::string> Keys(const std::string& pattern) {
    std::vector<std::string> keys;
    absl::StatusOr<redis::RedisValue> reply = redis()->Run({"KEYS", pattern});
    if (reply.ok()) {
      for (const redis::RedisValue& key : reply->elements()) keys.push_back(key.str());
    }
    return keys;
  }

 private:
  std::optional<testing::TempDir> key_dir_;
};

TEST_P(SharedRedisE2eTest, AnInstanceWhoseClockDisagreesRefusesToStartAndAPrefixKeepsLedgersApart) {
  ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00"));  // a rehearsal of 2025
  EXPECT_THAT(Keys("tq:{instances}:*"),
              ::testing::UnorderedElementsAre("tq:{instances}:hb", "tq:{instances}:hbx"))
      << "the rehearsal published its heartbeat";

  // A real-clock instance on the same Redis and the same keys: refused, saying what to do.
  absl::StatusOr<std::unique_ptr<testing::ServerProcess>> real = StartNeighbour({});
  ASSERT_FALSE(real.ok()) << "a real-clock instance started beside a simulated 2025 on one ledger";
  EXPECT_THAT(std::string(real.status().message()), HasSubstr("another Redis"));
  EXPECT_THAT(std::string(real.status().message()), HasSubstr("--redis_key_prefix"));
  EXPECT_THAT(std::string(real.status().message()), HasSubstr(server().address()))
      << "names the instance it disagrees with";

  // Started with the same --simulated_now (one rehearsal, started later): takes the first one's clock.
  absl::StatusOr<std::unique_ptr<testing::ServerProcess>> twin =
      StartNeighbour({"--simulated_now=2025-06-01T10:00:00+08:00"});
  ASSERT_TRUE(twin.ok()) << twin.status();
  const std::vector<std::string> adopted = LogLines(**twin, "clock_adopted");
  ASSERT_EQ(adopted.size(), 1u) << (*twin)->Stderr();
  EXPECT_THAT(adopted[0], HasSubstr(server().address())) << "names whose clock it took";

  // Its own prefix: starts, and every key its claims write carries the prefix.
  const std::vector<std::string> before = Keys("*");
  absl::StatusOr<std::unique_ptr<testing::ServerProcess>> apart =
      StartNeighbour({"--simulated_now=2025-06-03T10:00:00+08:00", "--redis_key_prefix=rehearsal-2"});
  ASSERT_TRUE(apart.ok()) << apart.status() << " (two days ahead, on its own keys)";
  EXPECT_THAT((*apart)->Stdout(), HasSubstr(", keys tq:rehearsal-2:*\n")) << "the banner names its keys";
  EXPECT_THAT((*twin)->Stdout(), Not(HasSubstr("tq:"))) << "no prefix, no keys named";
  auto stub = v1::ClaimService::NewStub((*apart)->channel());
  const v1::ClaimRequest request = ClaimRequest("ops-prefix-1", PrcId(7200), kFridge, "2025-06-02");
  grpc::ClientContext context;
  v1::Claim claim;
  const grpc::Status claimed = stub->Claim(&context, request, &claim);
  ASSERT_TRUE(claimed.ok()) << claimed.error_message();
  grpc::ClientContext confirm_context;
  v1::ConfirmClaimRequest confirm;
  confirm.set_claim_id(claim.claim_id());
  confirm.set_retailer_id("shop-1");
  confirm.set_invoice_number("INV-PREFIX-1");
  v1::Claim confirmed;
  ASSERT_TRUE(stub->ConfirmClaim(&confirm_context, confirm, &confirmed).ok());
  std::vector<std::string> added;
  for (const std::string& key : Keys("*")) {
    if (std::find(before.begin(), before.end(), key) == before.end()) added.push_back(key);
  }
  ASSERT_FALSE(added.empty());
  bool buyer_key = false;
  for (const std::string& key : added) {
    EXPECT_TRUE(absl::StartsWith(key, "tq:rehearsal-2:{")) << "a key without the prefix: " << key;
    buyer_key = buyer_key || absl::StartsWith(key, "tq:rehearsal-2:{b:");
  }
  EXPECT_TRUE(buyer_key) << "the claim's buyer keys are among them";
}

TEST_P(SharedRedisE2eTest, ReloadPoliciesReloadsEveryInstanceAndNamesThoseThatDidNotReport) {
  ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00"));
  absl::StatusOr<std::unique_ptr<testing::ServerProcess>> other =
      StartNeighbour({"--simulated_now=2025-06-01T10:00:00+08:00"});
  ASSERT_TRUE(other.ok()) << other.status();

  auto portal = v1::PortalService::NewStub(channel());
  grpc::ClientContext context;
  v1::ReloadPoliciesResponse reloaded;
  const grpc::Status status = portal->ReloadPolicies(&context, v1::ReloadPoliciesRequest(), &reloaded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(reloaded.instances_size(), 2) << reloaded.DebugString();
  EXPECT_EQ(reloaded.not_reported_size(), 0) << reloaded.DebugString();
  std::vector<std::string> addresses;
  for (const v1::InstancePolicies& instance : reloaded.instances()) {
    EXPECT_TRUE(instance.reloaded()) << instance.DebugString();
    EXPECT_EQ(instance.snapshot_version(), reloaded.snapshot_version()) << instance.DebugString();
    EXPECT_EQ(instance.policy_versions_size(), reloaded.policy_versions_size());
    addresses.push_back(instance.address());
  }
  EXPECT_THAT(addresses, ::testing::UnorderedElementsAre(server().address(), (*other)->address()));
  EXPECT_FALSE(LogLines(**other, "reloaded").empty())
      << "the other instance reloaded: " << (*other)->Stderr();

  // An instance that died without leaving is live until its report lapses: named as not reporting.
  (*other)->Kill();
  grpc::ClientContext again;
  const grpc::Status second = portal->ReloadPolicies(&again, v1::ReloadPoliciesRequest(), &reloaded);
  ASSERT_TRUE(second.ok()) << second.error_message();
  ASSERT_EQ(reloaded.not_reported_size(), 1) << reloaded.DebugString();
  EXPECT_THAT(reloaded.not_reported(0), HasSubstr((*other)->address()));
}

INSTANTIATE_TEST_SUITE_P(Stores, SharedRedisE2eTest, ::testing::Values(testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
