// The JSON gateway as production runs it, end to end: the real tradein-server with HTTPS on the gateway port
// (a self-signed certificate made by the openssl CLI at test time), a CORS origin list and a callers file,
// driven with curl verifying the certificate. The OpenAPI document it serves is the build's, valid against
// the OpenAPI 3.0 schema (Debian's openapi-specification, with python3-jsonschema), and every route it
// documents answers (never 404, 405 or 501); preflight and CORS headers; 405 with Allow; /healthz, /readyz;
// plain HTTP on the TLS port gets nothing.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/policy_service.pb.h"

namespace tradein {
namespace {

using ::testing::HasSubstr;
using testing::ServerProcess;

constexpr const char* kOrigin = "https://portal.example.cn";

using Answer = testing::HttpAnswer;

class GatewayOpenApiE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-gateway-tls-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = new testing::TempDir(*std::move(dir));
    // A self-signed certificate for 127.0.0.1; curl trusts exactly it (--cacert).
    const absl::Status certificate =
        testing::WriteLoopbackCertificate(dir_->Join("gateway.pem"), dir_->Join("gateway.key"));
    ASSERT_TRUE(certificate.ok()) << certificate;
    keys_ = new Keys{testing::NewApiKey(), testing::NewApiKey()};
    const std::string callers = dir_->Join("callers.textproto");
    ASSERT_TRUE(
        testing::WriteFile(callers, testing::CallersFileText({
                                        {"shop-1", "RETAILER", "shop-1", {"330381"}, {keys_->shop}, {}},
                                        {"ops", "ADMIN", "", {}, {keys_->admin}, {}},
                                    }))
            .ok());
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start({absl::StrCat("--callers_file=", callers), "--http_listen=127.0.0.1:0",
                              absl::StrCat("--http_tls_cert=", dir_->Join("gateway.pem")),
                              absl::StrCat("--http_tls_key=", dir_->Join("gateway.key")),
                              absl::StrCat("--http_cors_origins=", kOrigin, ",https://other.example.cn"),
                              "--simulated_now=2025-06-01T10:00:00+08:00"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    const std::string kLine = "JSON gateway on https://";
    ASSERT_TRUE(testing::WaitUntil([] { return server_->Stdout().find("try:") != std::string::npos; }))
        << server_->Stdout();
    const std::string banner = server_->Stdout();
    const size_t at = banner.find(kLine);
    ASSERT_NE(at, std::string::npos) << banner;
    const size_t start = at + kLine.size();
    address_ = new std::string(banner.substr(start, banner.find('/', start) - start));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete address_;
    delete keys_;
    delete dir_;
  }

  // One HTTPS request with curl, trusting the test's certificate; `headers` are "Name: value" lines.
  static Answer Https(const std::string& method, const std::string& path, const std::string& key,
                      const std::string& body = "", const std::vector<std::string>& headers = {}) {
    std::vector<std::string> args = {"--cacert", dir_->Join("gateway.pem"), "-X", method,
                                     absl::StrCat("https://", *address_, path)};
    if (!key.empty()) args.insert(args.end(), {"-H", absl::StrCat("Authorization: Bearer ", key)});
    for (const std::string& header : headers) args.insert(args.end(), {"-H", header});
    if (!body.empty())
      args.insert(args.end(), {"-H", "content-type: application/json", "--data-binary", body});
    absl::StatusOr<Answer> answer = testing::Curl(args);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? *std::move(answer) : Answer{};
  }

  struct Keys {
    std::string shop, admin;
  };
  static testing::TempDir* dir_;
  static ServerProcess* server_;
  static std::string* address_;
  static Keys* keys_;
};

testing::TempDir* GatewayOpenApiE2eTest::dir_ = nullptr;
ServerProcess* GatewayOpenApiE2eTest::server_ = nullptr;
std::string* GatewayOpenApiE2eTest::address_ = nullptr;
GatewayOpenApiE2eTest::Keys* GatewayOpenApiE2eTest::keys_ = nullptr;

TEST_F(GatewayOpenApiE2eTest, ServesTheBuildsDocumentValidAgainstTheOpenApi30SchemaAndEveryRouteAnswers) {
  const Answer document = Https("GET", "/v1/openapi.json", "");
  ASSERT_EQ(document.status, 200) << document.body;
  EXPECT_EQ(document.Header("Content-Type"), "application/json");
  EXPECT_EQ(document.body, testing::ReadFile(TRADEIN_OPENAPI_JSON)) << "the served document is the build's";
  const std::string path = dir_->Join("openapi.json");
  ASSERT_TRUE(testing::WriteFile(path, document.body).ok());
  absl::StatusOr<testing::ToolRun> validated = testing::RunTool({"python3", TRADEIN_VALIDATE_OPENAPI, path});
  ASSERT_TRUE(validated.ok()) << validated.status();
  ASSERT_EQ(validated->exit_code, 0) << validated->err;

  // Real ids for the path variables: a claim of shop-1, and a policy in force.
  const Answer claimed = Https(
      "POST", "/v1/claims", keys_->shop,
      absl::StrCat(
          R"({"requestId":"oa-1","regionCode":"330381","transactionDate":"2025-06-01","buyer":)",
          R"({"idType":"PRC_ID","idNumber":")", testing::PrcId(7001), R"("},"items":[)",
          R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1}]})"));
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  v1::Claim claim;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(claimed.body, &claim).ok());
  const Answer policies = Https("GET", "/v1/policies?regionCode=330381", keys_->shop);
  ASSERT_EQ(policies.status, 200) << policies.body;
  v1::ListPoliciesResponse list;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(policies.body, &list).ok());
  ASSERT_GT(list.policies_size(), 0);

  int routes = 0;
  for (absl::string_view line : absl::StrSplit(validated->out, '\n', absl::SkipEmpty())) {
    const std::vector<std::string> parts = absl::StrSplit(line, ' ');
    ASSERT_EQ(parts.size(), 2u) << line;
    const std::string target = absl::StrReplaceAll(
        parts[1], {{"{claim_id}", claim.claim_id()}, {"{policy_id}", list.policies(0).policy_id()}});
    ASSERT_EQ(target.find('{'), std::string::npos) << "a path variable this test does not know: " << line;
    // The admin key may call everything; an empty request is fine: bad input is a 400, not a missing route.
    const Answer answer = Https(parts[0], target, keys_->admin, parts[0] == "POST" ? "{}" : "");
    EXPECT_NE(answer.status, 404) << line << ": " << answer.body;
    EXPECT_NE(answer.status, 405) << line << ": " << answer.body;
    EXPECT_NE(answer.status, 501) << line << ": " << answer.body;
    EXPECT_LT(answer.status, 500) << line << ": " << answer.body;
    ++routes;
  }
  EXPECT_GE(routes, 19) << validated->out;  // 16 RPCs and the gateway's 3 own paths
}

TEST_F(GatewayOpenApiE2eTest, HealthAndReadinessWithoutCredentials) {
  const Answer health = Https("GET", "/healthz", "");
  EXPECT_EQ(health.status, 200) << health.body;
  const Answer ready = Https("GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_THAT(ready.body, HasSubstr("SERVING"));
}

TEST_F(GatewayOpenApiE2eTest, PreflightAndCorsHeadersForListedOriginsOnly) {
  const Answer preflight = Https("OPTIONS", "/v1/quote", "", "",
                                 {absl::StrCat("Origin: ", kOrigin), "Access-Control-Request-Method: POST",
                                  "Access-Control-Request-Headers: authorization, content-type"});
  EXPECT_EQ(preflight.status, 204) << preflight.body;
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Origin"), kOrigin);
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Methods"), "POST, OPTIONS");
  EXPECT_THAT(preflight.Header("Access-Control-Allow-Headers"), HasSubstr("authorization"));
  EXPECT_EQ(preflight.Header("Vary"), "Origin");

  const Answer refused = Https("OPTIONS", "/v1/quote", "", "",
                               {"Origin: https://evil.example", "Access-Control-Request-Method: POST"});
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("CORS_ORIGIN_NOT_ALLOWED"));
  EXPECT_EQ(refused.Header("Access-Control-Allow-Origin"), "");

  // An actual request from a listed origin carries the header, errors included.
  const Answer listed = Https("GET", "/v1/policies", keys_->shop, "", {"Origin: https://other.example.cn"});
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.Header("Access-Control-Allow-Origin"), "https://other.example.cn");
  const Answer unauthenticated = Https("GET", "/v1/policies", "", "", {absl::StrCat("Origin: ", kOrigin)});
  EXPECT_EQ(unauthenticated.status, 401) << unauthenticated.body;
  EXPECT_EQ(unauthenticated.Header("Access-Control-Allow-Origin"), kOrigin);
}

TEST_F(GatewayOpenApiE2eTest, AWrongMethodIs405WithAllow) {
  const Answer wrong = Https("DELETE", "/v1/policies", keys_->shop);
  EXPECT_EQ(wrong.status, 405) << wrong.body;
  EXPECT_EQ(wrong.Header("Allow"), "GET, OPTIONS");
  EXPECT_THAT(wrong.body, HasSubstr("METHOD_NOT_ALLOWED"));
  EXPECT_EQ(Https("GET", "/v1/quote", keys_->shop).Header("Allow"), "POST, OPTIONS");
  EXPECT_EQ(Https("GET", "/v1/no-such-route", keys_->shop).status, 404);
}

TEST_F(GatewayOpenApiE2eTest, PlainHttpOnTheTlsPortGetsNoAnswer) {
  absl::StatusOr<testing::ToolRun> run =
      testing::RunTool({"curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                        absl::StrCat("http://", *address_, "/healthz")});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_NE(run->exit_code, 0) << run->out;
  EXPECT_EQ(run->out, "000");
  // And the gateway still serves TLS afterwards.
  EXPECT_EQ(Https("GET", "/healthz", "").status, 200);
}

}  // namespace
}  // namespace tradein
