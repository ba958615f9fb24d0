// The settlement console's login, cookie and session over the wire, without a browser: the real
// tradein-server with HTTPS on the gateway port (a self-signed certificate made by the openssl CLI), a
// callers file and --console_session_lifetime, driven with curl. The cookie is Secure because the port is
// TLS, and carries the flag's lifetime; a wrong key sets none; the data path takes the cookie and the
// X-Console header, not a bearer key; logout ends the session. The page itself is
// tests/console/console_browser_test.py.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/temp_dir.h"

namespace tradein {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ServerProcess;

// What the tests share: one server for the suite.
struct ConsoleServer {
  testing::TempDir dir;
  std::string shop_key = testing::NewApiKey();
  std::string portal_key = testing::NewApiKey();
  std::unique_ptr<ServerProcess> process = nullptr;
  std::string address = "";  // the gateway's host:port
};

class ConsoleE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-console-e2e-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    server_ = new ConsoleServer{.dir = *std::move(dir)};
    const absl::Status certificate =
        testing::WriteLoopbackCertificate(Path("console.pem"), Path("console.key"));
    ASSERT_TRUE(certificate.ok()) << certificate;
    ASSERT_TRUE(testing::WriteFile(Path("callers.textproto"),
                                   testing::CallersFileText({
                                       {"shop-1", "RETAILER", "shop-1", {"330381"}, {server_->shop_key}, {}},
                                       {"watcher", "PORTAL", "", {}, {server_->portal_key}, {}},
                                   }))
                    .ok());
    absl::StatusOr<std::unique_ptr<ServerProcess>> process = ServerProcess::Start(
        {absl::StrCat("--callers_file=", Path("callers.textproto")), "--http_listen=127.0.0.1:0",
         absl::StrCat("--http_tls_cert=", Path("console.pem")),
         absl::StrCat("--http_tls_key=", Path("console.key")), "--console_session_lifetime=10m",
         "--simulated_now=2025-06-01T10:00:00+08:00"});
    ASSERT_TRUE(process.ok()) << process.status();
    server_->process = *std::move(process);
    ASSERT_TRUE(testing::WaitUntil([] {
      return server_->process->Stdout().find("console at /console/") != std::string::npos;
    })) << server_->process->Stdout();
    // The banner's "JSON gateway on https://127.0.0.1:PORT/v1/..." (the only https:// in it).
    const std::string banner = server_->process->Stdout();
    const size_t start = banner.find("https://") + std::string("https://").size();
    server_->address = banner.substr(start, banner.find('/', start) - start);
  }
  static void TearDownTestSuite() { delete server_; }

  static std::string Path(const std::string& name) { return server_->dir.Join(name); }

  // One HTTPS request with curl, trusting the test's certificate; `headers` are "Name: value" lines.
  static testing::HttpAnswer Https(const std::string& method, const std::string& path,
                                   const std::string& body, const std::vector<std::string>& headers) {
    std::vector<std::string> args = {"--cacert", Path("console.pem"), "-X", method,
                                     absl::StrCat("https://", server_->address, path)};
    for (const std::string& header : headers) args.insert(args.end(), {"-H", header});
    if (!body.empty()) args.insert(args.end(), {"--data-binary", body});
    absl::StatusOr<testing::HttpAnswer> answer = testing::Curl(args);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? *std::move(answer) : testing::HttpAnswer{};
  }

  static testing::HttpAnswer Login(const std::string& key) {
    return Https("POST", "/console/login", absl::StrCat(R"({"key":")", key, R"("})"),
                 {"Content-Type: application/json"});
  }

  // "Cookie: tradein_console=…" for a login's Set-Cookie.
  static std::string CookieHeader(const testing::HttpAnswer& login) {
    const std::string set_cookie = login.Header("Set-Cookie");
    return absl::StrCat("Cookie: ", set_cookie.substr(0, set_cookie.find(';')));
  }

  static ConsoleServer* server_;
};

ConsoleServer* ConsoleE2eTest::server_ = nullptr;

TEST_F(ConsoleE2eTest, APortalKeyGetsASecureHttpOnlyStrictCookieWithTheFlagsLifetime) {
  const testing::HttpAnswer login = Login(server_->portal_key);
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_THAT(login.body, HasSubstr(R"("callerId":"watcher")"));
  const std::string cookie = login.Header("Set-Cookie");
  EXPECT_TRUE(absl::StartsWith(cookie, "tradein_console=")) << cookie;
  EXPECT_THAT(cookie, HasSubstr("; Path=/; Max-Age=600; HttpOnly; SameSite=Strict; Secure"));
  EXPECT_THAT(cookie, Not(HasSubstr(server_->portal_key)));
  EXPECT_THAT(login.Header("Content-Security-Policy"), HasSubstr("script-src 'self'"));
  EXPECT_EQ(login.Header("X-Content-Type-Options"), "nosniff");
}

TEST_F(ConsoleE2eTest, AWrongKeyOrAShopsKeyIsRefusedInChineseWithoutACookie) {
  for (const std::string& key : {std::string("k-not-a-key"), server_->shop_key}) {
    const testing::HttpAnswer login = Login(key);
    EXPECT_EQ(login.status, 401) << login.body;
    EXPECT_THAT(login.body, HasSubstr("CONSOLE_LOGIN_REFUSED"));
    EXPECT_THAT(login.body, HasSubstr("此密钥不是本服务的监管平台或管理员密钥"));
    EXPECT_EQ(login.Header("Set-Cookie"), "");
  }
}

TEST_F(ConsoleE2eTest, TheDataPathTakesTheSessionAndTheHeaderNotABearerKeyAndLogoutEndsIt) {
  const std::string cookie = CookieHeader(Login(server_->portal_key));
  const std::string totals = R"({"fromDate":"2025-06-01","toDate":"2025-06-01"})";
  const std::string path = "/console/api/v1/portal/totals";
  const testing::HttpAnswer read =
      Https("POST", path, totals, {cookie, "X-Console: 1", "Content-Type: application/json"});
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.Header("Cache-Control"), "no-store");

  EXPECT_EQ(Https("POST", path, totals, {cookie, "Content-Type: application/json"}).status, 403);
  EXPECT_EQ(Https("POST", path, totals,
                  {absl::StrCat("Authorization: Bearer ", server_->portal_key), "X-Console: 1",
                   "Content-Type: application/json"})
                .status,
            401);
  EXPECT_EQ(Https("POST", "/console/api/v1/admin/policies:reload", "{}", {cookie, "X-Console: 1"}).status,
            403);

  const testing::HttpAnswer logout = Https("POST", "/console/logout", "", {cookie, "X-Console: 1"});
  EXPECT_EQ(logout.status, 200) << logout.body;
  EXPECT_THAT(logout.Header("Set-Cookie"), HasSubstr("Max-Age=0"));
  const testing::HttpAnswer after = Https("GET", "/console/session", "", {cookie, "X-Console: 1"});
  EXPECT_EQ(after.status, 401);
  EXPECT_THAT(after.body, HasSubstr("CONSOLE_SESSION_INVALID"));
}

}  // namespace
}  // namespace tradein
