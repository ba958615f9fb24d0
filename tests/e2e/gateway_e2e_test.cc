// The JSON gateway end to end: the real tradein-server with --http_listen and a callers file, driven with the
// curl binary as a backend would. Quote, claim, read, confirm and list policies as JSON; errors as HTTP
// statuses with the google.rpc.Status in the body (field violations and reasons, 401, 403, 404, 429 with
// Retry-After).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/policy_service.pb.h"
#include "tradein/v1/subsidy_service.pb.h"

namespace tradein {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::ServerProcess;

constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";

using testing::HttpAnswer;

// The google.rpc.Status of an error body, with its reason and field violations.
struct ErrorBody {
  int code = -1;
  std::string message;
  std::string reason;
  std::vector<std::string> fields;
};

ErrorBody ParseError(const std::string& json) {
  ErrorBody out;
  google::rpc::Status status;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &status);
  EXPECT_TRUE(parsed.ok()) << parsed.message() << ": " << json;
  out.code = status.code();
  out.message = status.message();
  for (const google::protobuf::Any& any : status.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&info)) out.reason = info.reason();
    if (any.UnpackTo(&bad)) {
      for (const auto& violation : bad.field_violations()) out.fields.push_back(violation.field());
    }
  }
  return out;
}

class GatewayE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-gateway-e2e-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = new testing::TempDir(*std::move(dir));
    keys_ = new Keys{testing::NewApiKey(), testing::NewApiKey(), testing::NewApiKey(), testing::NewApiKey()};
    const std::string callers = dir_->Join("callers.textproto");
    ASSERT_TRUE(
        testing::WriteFile(callers,
                           testing::CallersFileText({
                               {"shop-1", "RETAILER", "shop-1", {"330381"}, {keys_->shop1}, {}, 10000, 10000},
                               {"shop-2", "RETAILER", "shop-2", {"330381"}, {keys_->shop2}, {}, 10000, 10000},
                               {"portal", "PORTAL", "", {}, {keys_->portal}, {}, 10000, 10000},
                               {"tiny", "RETAILER", "shop-tiny", {"330381"}, {keys_->tiny}, {}, 1, 2},
                           }))
            .ok());
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start({absl::StrCat("--callers_file=", callers), "--http_listen=127.0.0.1:0",
                              "--simulated_now=2025-06-01T10:00:00+08:00"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    // Health answers before the side listeners are up; the banner names the gateway's bound address.
    const std::string kLine = "JSON gateway on http://";
    ASSERT_TRUE(testing::WaitUntil([] { return server_->Stdout().find("try:") != std::string::npos; }))
        << server_->Stdout();
    const std::string banner = server_->Stdout();
    const size_t at = banner.find(kLine);
    ASSERT_NE(at, std::string::npos) << banner;
    const size_t start = at + kLine.size();
    base_url_ =
        new std::string(absl::StrCat("http://", banner.substr(start, banner.find('/', start) - start)));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete base_url_;
    delete keys_;
    delete dir_;
  }

  // One request with curl.
  static HttpAnswer Http(const std::string& method, const std::string& path, const std::string& key,
                         const std::string& body = "", const std::string& request_id = "") {
    std::vector<std::string> args = {"-X", method, absl::StrCat(*base_url_, path)};
    if (!key.empty()) args.insert(args.end(), {"-H", absl::StrCat("Authorization: Bearer ", key)});
    if (!request_id.empty()) args.insert(args.end(), {"-H", absl::StrCat("X-Request-Id: ", request_id)});
    if (!body.empty())
      args.insert(args.end(), {"-H", "content-type: application/json", "--data-binary", body});
    absl::StatusOr<HttpAnswer> answer = testing::Curl(args);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? *std::move(answer) : HttpAnswer{};
  }

  static std::string ClaimJson(const std::string& request_id, int buyer,
                               const std::string& date = "2025-06-01") {
    return absl::StrCat(R"({"requestId":")", request_id, R"(","regionCode":"330381","transactionDate":")",
                        date, R"(","buyer":{"idType":"PRC_ID","idNumber":")", testing::PrcId(buyer),
                        R"("},"items":[)", kFridge, "]}");
  }

  struct Keys {
    std::string shop1, shop2, portal, tiny;
  };
  static testing::TempDir* dir_;
  static ServerProcess* server_;
  static std::string* base_url_;
  static Keys* keys_;
};

testing::TempDir* GatewayE2eTest::dir_ = nullptr;
ServerProcess* GatewayE2eTest::server_ = nullptr;
std::string* GatewayE2eTest::base_url_ = nullptr;
GatewayE2eTest::Keys* GatewayE2eTest::keys_ = nullptr;

TEST_F(GatewayE2eTest, QuoteAnswersTheContractExampleAsJson) {
  const HttpAnswer answer =
      Http("POST", "/v1/quote", keys_->shop1,
           absl::StrCat(R"({"regionCode":"330381","transactionDate":"2025-06-01","items":[)", kFridge, "]}"));
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_THAT(answer.Header("content-type"), HasSubstr("application/json"));
  EXPECT_THAT(answer.body, HasSubstr(R"("subsidyFen":"100000")"));
  EXPECT_THAT(answer.body, HasSubstr(R"("totalSubsidyFen":"100000")"));
  v1::QuoteResponse quote;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(answer.body, &quote).ok()) << answer.body;
  EXPECT_EQ(quote.policy_id(), "ra-2025");
  EXPECT_FALSE(quote.policy_version().empty());
  ASSERT_EQ(quote.items_size(), 1);
  EXPECT_TRUE(quote.items(0).eligible());
}

TEST_F(GatewayE2eTest, ClaimReadConfirmAsJson) {
  const int buyer = 501;
  const HttpAnswer created =
      Http("POST", "/v1/claims", keys_->shop1, ClaimJson("gw-claim-1", buyer), "gw-request-1");
  ASSERT_EQ(created.status, 200) << created.body;
  v1::Claim claim;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(created.body, &claim).ok()) << created.body;
  EXPECT_THAT(created.body, HasSubstr(R"("state":"RESERVED")"));
  EXPECT_THAT(created.body, HasSubstr(R"("totalSubsidyFen":"100000")"));
  EXPECT_EQ(claim.retailer_id(), "shop-1") << "the key's retailer, though the body named none";
  EXPECT_THAT(claim.buyer_ref(), MatchesRegex("[0-9a-f]{16}"));
  EXPECT_THAT(created.body, Not(HasSubstr(testing::PrcId(buyer)))) << "no raw buyer id in an answer";
  const std::string path = absl::StrCat("/v1/claims/", claim.claim_id());
  // The gateway passes X-Request-Id on: the gRPC access line (and the audit) carry it, with the caller.
  ASSERT_TRUE(testing::WaitUntil([] {
    return server_->Stderr().find(R"("request_id":"gw-request-1")") != std::string::npos;
  })) << server_->Stderr();
  const std::string log = server_->Stderr();
  const size_t at = log.find(R"("request_id":"gw-request-1")");
  const std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_THAT(line, HasSubstr(R"("method":"/tradein.v1.ClaimService/Claim")"));
  EXPECT_THAT(line, HasSubstr(R"("caller":"shop-1")"));

  // A retry is the same claim.
  const HttpAnswer retried = Http("POST", "/v1/claims", keys_->shop1, ClaimJson("gw-claim-1", buyer));
  ASSERT_EQ(retried.status, 200) << retried.body;
  v1::Claim again;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(retried.body, &again).ok());
  EXPECT_EQ(again.claim_id(), claim.claim_id());

  const HttpAnswer fetched = Http("GET", path, keys_->shop1);
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  v1::Claim read;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(fetched.body, &read).ok());
  EXPECT_EQ(read.claim_id(), claim.claim_id());
  EXPECT_EQ(read.state(), v1::Claim::RESERVED);

  // Another retailer: as if there were no such claim; the portal may read it.
  EXPECT_EQ(Http("GET", path, keys_->shop2).status, 404);
  EXPECT_EQ(Http("GET", path, keys_->portal).status, 200);
  EXPECT_EQ(Http("POST", absl::StrCat(path, ":confirm"), keys_->shop2, R"({"invoiceNumber":"INV-X"})").status,
            404);

  const HttpAnswer confirmed =
      Http("POST", absl::StrCat(path, ":confirm"), keys_->shop1, R"({"invoiceNumber":"INV-G1"})");
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  v1::Claim done;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(confirmed.body, &done).ok());
  EXPECT_EQ(done.state(), v1::Claim::CONFIRMED);
  EXPECT_EQ(done.invoice_number(), "INV-G1");
  EXPECT_EQ(done.total_subsidy_fen(), 100000);

  // Cancelling a confirmed claim is refused with its reason.
  const HttpAnswer cancel = Http("POST", absl::StrCat(path, ":cancel"), keys_->shop1, "{}");
  EXPECT_EQ(cancel.status, 400) << cancel.body;
  EXPECT_EQ(ParseError(cancel.body).code, 9);  // FAILED_PRECONDITION
}

TEST_F(GatewayE2eTest, ListPoliciesByRegionAndDateFromTheQuery) {
  const HttpAnswer all = Http("GET", "/v1/policies?regionCode=330381", keys_->shop1);
  ASSERT_EQ(all.status, 200) << all.body;
  v1::ListPoliciesResponse listed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(all.body, &listed).ok()) << all.body;
  std::vector<std::string> ids;
  for (const auto& policy : listed.policies()) {
    ids.push_back(policy.policy_id());
    EXPECT_FALSE(policy.version().empty());
  }
  EXPECT_THAT(ids, IsSupersetOf({"ra-2025", "zj-2025", "cn-2025"}));
  EXPECT_FALSE(listed.snapshot_version().empty());

  const HttpAnswer dated =
      Http("GET", "/v1/policies?regionCode=330381&transactionDate=2025-06-01", keys_->shop1);
  ASSERT_EQ(dated.status, 200) << dated.body;
  v1::ListPoliciesResponse in_force;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(dated.body, &in_force).ok());
  std::vector<std::string> dated_ids;
  for (const auto& policy : in_force.policies()) dated_ids.push_back(policy.policy_id());
  EXPECT_THAT(dated_ids, Contains("ra-2025"));
  EXPECT_THAT(dated_ids, Not(Contains("cn-2026")));

  const HttpAnswer one = Http("GET", "/v1/policies/ra-2025", keys_->shop1);
  EXPECT_EQ(one.status, 200);
  EXPECT_THAT(one.body, HasSubstr(R"("id":"ra-2025")"));
  EXPECT_EQ(Http("GET", "/v1/policies?noSuchParameter=1", keys_->shop1).status, 400);
}

TEST_F(GatewayE2eTest, BadDateIsBadRequestWithTheFieldAndTheReason) {
  const HttpAnswer answer =
      Http("POST", "/v1/quote", keys_->shop1,
           absl::StrCat(R"({"regionCode":"330381","transactionDate":"2025-02-30","items":[)", kFridge, "]}"));
  ASSERT_EQ(answer.status, 400) << answer.body;
  EXPECT_THAT(answer.Header("content-type"), HasSubstr("application/json"));
  const ErrorBody error = ParseError(answer.body);
  EXPECT_EQ(error.code, 3);  // INVALID_ARGUMENT
  EXPECT_THAT(error.fields, Contains("transactionDate"));
  EXPECT_EQ(error.reason, "DATE_INVALID");
  EXPECT_THAT(answer.body, HasSubstr(R"("field":"transactionDate")"));

  // A claim's date in the future: the same shape.
  const HttpAnswer future =
      Http("POST", "/v1/claims", keys_->shop1, ClaimJson("gw-future", 502, "2025-06-02"));
  ASSERT_EQ(future.status, 400) << future.body;
  EXPECT_THAT(ParseError(future.body).fields, Contains("transactionDate"));

  // Not JSON at all.
  const HttpAnswer garbage = Http("POST", "/v1/quote", keys_->shop1, "{not json");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(ParseError(garbage.body).reason, "JSON_INVALID");
}

TEST_F(GatewayE2eTest, CredentialsAndRolesAreThoseOfGrpc) {
  const std::string quote =
      absl::StrCat(R"({"regionCode":"330381","transactionDate":"2025-06-01","items":[)", kFridge, "]}");
  const HttpAnswer none = Http("POST", "/v1/quote", "", quote);
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(ParseError(none.body).code, 16);
  const HttpAnswer unknown = Http("POST", "/v1/quote", testing::NewApiKey(), quote);
  EXPECT_EQ(unknown.status, 401) << unknown.body;

  const HttpAnswer portal_claims = Http("POST", "/v1/claims", keys_->portal, ClaimJson("gw-portal", 503));
  EXPECT_EQ(portal_claims.status, 403) << portal_claims.body;
  const ErrorBody denied = ParseError(portal_claims.body);
  EXPECT_EQ(denied.code, 7);
  EXPECT_EQ(denied.reason, "ROLE_NOT_ALLOWED");
  const HttpAnswer retailer_reload = Http("POST", "/v1/admin/policies:reload", keys_->shop1, "{}");
  EXPECT_EQ(retailer_reload.status, 403) << retailer_reload.body;
  const HttpAnswer other_retailer =
      Http("POST", "/v1/claims", keys_->shop2,
           absl::StrCat(R"({"retailerId":"shop-1",)", ClaimJson("gw-other", 504).substr(1)));
  EXPECT_EQ(other_retailer.status, 403) << other_retailer.body;
  EXPECT_EQ(ParseError(other_retailer.body).reason, "RETAILER_MISMATCH");

  EXPECT_EQ(Http("GET", "/v1/no-such-route", keys_->shop1).status, 404);
}

TEST_F(GatewayE2eTest, RateLimitIsTooManyRequestsWithRetryAfter) {
  // 1 request/s, burst 2. One curl making 30 requests over one kept-alive connection: a burst that could only
  // all pass if it took 28 seconds, however loaded the machine.
  constexpr int kRequests = 30;
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-curl-");
  ASSERT_TRUE(dir.ok());
  std::vector<std::string> argv = {"curl",       "-sS",
                                   "--max-time", "60",
                                   "-H",         absl::StrCat("Authorization: Bearer ", keys_->tiny),
                                   "-w",         "%{http_code} %header{retry-after}\\n"};
  for (int i = 0; i < kRequests; ++i) {
    argv.insert(argv.end(),
                {"-o", dir->Join(absl::StrCat("body.", i)), absl::StrCat(*base_url_, "/v1/policies")});
  }
  absl::StatusOr<testing::ToolRun> run = testing::RunTool(argv);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->exit_code, 0) << run->err;
  const std::vector<std::string> answers = absl::StrSplit(run->out, '\n', absl::SkipEmpty());
  ASSERT_EQ(answers.size(), static_cast<size_t>(kRequests)) << run->out;
  int passed = 0;
  int limited = -1;
  for (int i = 0; i < kRequests && limited < 0; ++i) {
    if (absl::StartsWith(answers[static_cast<size_t>(i)], "200")) {
      ++passed;
    } else {
      limited = i;
    }
  }
  ASSERT_GE(limited, 0) << "never limited:\n" << run->out;
  EXPECT_GE(passed, 2) << "the burst is 2";
  const std::vector<std::string> code_and_retry =
      absl::StrSplit(answers[static_cast<size_t>(limited)], ' ', absl::SkipEmpty());
  ASSERT_EQ(code_and_retry.size(), 2u)
      << "429 needs a Retry-After: " << answers[static_cast<size_t>(limited)];
  EXPECT_EQ(code_and_retry[0], "429");
  int retry_after = 0;
  ASSERT_TRUE(absl::SimpleAtoi(code_and_retry[1], &retry_after)) << code_and_retry[1];
  EXPECT_EQ(retry_after, 1) << "one token a second: never more than a second away, rounded up";
  const std::string body = testing::ReadFile(dir->Join(absl::StrCat("body.", limited)));
  const ErrorBody error = ParseError(body);
  EXPECT_EQ(error.code, 8);  // RESOURCE_EXHAUSTED
  EXPECT_EQ(error.reason, "RATE_LIMITED");
  EXPECT_THAT(body, HasSubstr("google.rpc.RetryInfo"));
}

}  // namespace
}  // namespace tradein
