// The settlement console's login, sessions, cookies and CSRF rules without a browser or a server: what
// Console::Decide answers or forwards for each request (services/gateway/console.h). The browser side is
// tests/console/console_browser_test.py.
#include "services/gateway/console.h"

#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/callers_table.h"

namespace tradein::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPortalKey[] = "portal-key-0123456789";
constexpr char kAdminKey[] = "admin-key-0123456789";
constexpr char kShopKey[] = "shop-key-0123456789";

std::shared_ptr<const auth::CallersTable> Callers(bool with_portal = true) {
  v1::CallersFile file;
  auto add = [&](const char* id, v1::CallerEntry::Role role, const char* key) {
    v1::CallerEntry* caller = file.add_callers();
    caller->set_id(id);
    caller->set_role(role);
    caller->add_api_key_sha256(auth::Sha256Hex(key));
    if (role == v1::CallerEntry::RETAILER) {
      caller->set_retailer_id("shop-1");
      caller->add_region_codes("330381");
    }
  };
  if (with_portal) add("portal", v1::CallerEntry::PORTAL, kPortalKey);
  add("admin", v1::CallerEntry::ADMIN, kAdminKey);
  add("shop", v1::CallerEntry::RETAILER, kShopKey);
  absl::StatusOr<std::shared_ptr<const auth::CallersTable>> table =
      auth::CallersTable::FromProto(file, "test");
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *table : nullptr;
}

http::HttpRequest Request(std::string method, std::string path, std::string body = "",
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.body = std::move(body);
  request.headers = std::move(headers);
  return request;
}

std::string Header(const http::HttpResponse& response, absl::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(ConsoleOptions{.session_lifetime = absl::Hours(1)}); }

  void Make(ConsoleOptions options) {
    absl::StatusOr<std::unique_ptr<Console>> console = Console::Create(
        options, [this] { return callers_; }, [this] { return now_; });
    ASSERT_TRUE(console.ok()) << console.status();
    console_ = *std::move(console);
  }

  http::HttpResponse Answer(http::HttpRequest request) {
    ConsoleDecision decision = console_->Decide(std::move(request));
    EXPECT_TRUE(decision.answer.has_value()) << "forwarded " << decision.forward.path;
    return decision.answer.value_or(http::HttpResponse{0, "", "", {}});
  }

  // Logs in with `key`; returns the Set-Cookie header.
  std::string Login(const std::string& key, std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    const http::HttpResponse answer =
        Answer(Request("POST", "/console/login", absl::StrCat(R"({"key":")", key, R"("})"), headers));
    EXPECT_EQ(answer.status, 200) << answer.body;
    return Header(answer, "Set-Cookie");
  }

  // The "Cookie" header a browser sends back for `set_cookie`.
  static std::pair<std::string, std::string> CookieFrom(const std::string& set_cookie) {
    return {"Cookie", absl::StrCat("theme=dark; ", set_cookie.substr(0, set_cookie.find(';')))};
  }

  ConsoleDecision Api(const std::string& method, const std::string& path,
                      std::vector<std::pair<std::string, std::string>> headers) {
    return console_->Decide(Request(method, absl::StrCat("/console/api", path), "{}", std::move(headers)));
  }

  std::shared_ptr<const auth::CallersTable> callers_ = Callers();
  absl::Time now_ = absl::FromUnixSeconds(1'750'000'000);
  std::unique_ptr<Console> console_;
};

TEST_F(ConsoleTest, LoginSetsAnHttpOnlyStrictCookieWithTheLifetimeAndNoKeyInIt) {
  const std::string cookie = Login(kPortalKey);
  EXPECT_TRUE(absl::StartsWith(cookie, "tradein_console=")) << cookie;
  EXPECT_THAT(cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(cookie, HasSubstr("; Max-Age=3600"));
  EXPECT_THAT(cookie, Not(HasSubstr("Secure")));  // plain HTTP: a Secure cookie would never come back
  EXPECT_THAT(cookie, Not(HasSubstr(kPortalKey)));
  const std::string id = cookie.substr(cookie.find('=') + 1, cookie.find(';') - cookie.find('=') - 1);
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST_F(ConsoleTest, CookiesAreSecureOnTlsOrBehindATlsProxy) {
  EXPECT_THAT(Login(kPortalKey, {{"X-Forwarded-Proto", "https"}}), HasSubstr("; Secure"));
  Make(ConsoleOptions{.tls = true});
  EXPECT_THAT(Login(kPortalKey), HasSubstr("; Secure"));
}

TEST_F(ConsoleTest, AWrongKeyOrARetailerKeyIsRefusedWithoutACookie) {
  for (const char* key : {"not-a-key", kShopKey, ""}) {
    const http::HttpResponse answer =
        Answer(Request("POST", "/console/login", absl::StrCat(R"({"key":")", key, R"("})"),
                       {{"Content-Type", "application/json"}}));
    EXPECT_EQ(answer.status, 401) << key;
    EXPECT_THAT(answer.body, HasSubstr("CONSOLE_LOGIN_REFUSED"));
    EXPECT_THAT(answer.body, HasSubstr("zh-CN"));
    EXPECT_EQ(Header(answer, "Set-Cookie"), "") << key;
  }
  EXPECT_EQ(console_->sessions().size(), 0u);
}

TEST_F(ConsoleTest, TheLoginTakesJsonOnlySoAPlainHtmlFormCannotPostIt) {
  for (const auto& [type, body] : std::vector<std::pair<std::string, std::string>>{
           {"application/x-www-form-urlencoded", absl::StrCat("key=", kPortalKey)},
           {"text/plain", absl::StrCat(R"({"key":")", kPortalKey, R"("})")},
           {"application/json", R"({"key":42})"},
           {"application/json", "not json"}}) {
    const http::HttpResponse answer =
        Answer(Request("POST", "/console/login", body, {{"Content-Type", type}}));
    EXPECT_EQ(answer.status, 400) << type << " " << body;
    EXPECT_THAT(answer.body, HasSubstr("CONSOLE_LOGIN_INVALID"));
    EXPECT_EQ(Header(answer, "Set-Cookie"), "");
  }
  EXPECT_EQ(Answer(Request("GET", "/console/login")).status, 405);
}

TEST_F(ConsoleTest, DataCallsGoOutWithTheSessionsKeyInsteadOfAnyTheyCarried) {
  const auto cookie = CookieFrom(Login(kPortalKey));
  ConsoleDecision decision = Api("POST", "/v1/portal/totals",
                                 {cookie, {"X-Console", "1"}, {"Authorization", "Bearer someone-else"}});
  ASSERT_FALSE(decision.answer.has_value()) << decision.answer->body;
  EXPECT_EQ(decision.forward.path, "/v1/portal/totals");
  EXPECT_EQ(decision.forward.body, "{}");
  EXPECT_EQ(decision.forward.Header("authorization"), absl::StrCat("Bearer ", kPortalKey));
  int authorizations = 0;
  for (const auto& header : decision.forward.headers)
    authorizations += absl::EqualsIgnoreCase(header.first, "authorization");
  EXPECT_EQ(authorizations, 1);

  decision = Api("GET", "/v1/claims/c-1", {cookie, {"X-Console", "1"}});
  ASSERT_FALSE(decision.answer.has_value());
  EXPECT_EQ(decision.forward.path, "/v1/claims/c-1");
}

TEST_F(ConsoleTest, DataCallsWithoutTheCustomHeaderOrTheCookieAreRefused) {
  const auto cookie = CookieFrom(Login(kPortalKey));
  ConsoleDecision decision = Api("POST", "/v1/portal/totals", {cookie});  // a cross-site form could send this
  ASSERT_TRUE(decision.answer.has_value());
  EXPECT_EQ(decision.answer->status, 403);
  EXPECT_THAT(decision.answer->body, HasSubstr("CONSOLE_HEADER_MISSING"));

  decision = Api("POST", "/v1/portal/totals",
                 {{"X-Console", "1"}, {"Authorization", absl::StrCat("Bearer ", kPortalKey)}});
  ASSERT_TRUE(decision.answer.has_value());  // the console takes its sessions only, not bearer keys
  EXPECT_EQ(decision.answer->status, 401);
  EXPECT_THAT(decision.answer->body, HasSubstr("CONSOLE_SESSION_INVALID"));

  decision = Api("POST", "/v1/portal/totals", {{"Cookie", "tradein_console=0000"}, {"X-Console", "1"}});
  ASSERT_TRUE(decision.answer.has_value());
  EXPECT_EQ(decision.answer->status, 401);
}

TEST_F(ConsoleTest, TheConsoleOnlyReadsEvenForAnAdmin) {
  const auto cookie = CookieFrom(Login(kAdminKey));
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/v1/admin/claims/c-1:void"},
                                                        {"POST", "/v1/admin/policies:reload"},
                                                        {"POST", "/v1/claims"},
                                                        {"POST", "/v1/claims/c-1:refund"},
                                                        {"POST", "/v1/portal/claims:export"},
                                                        {"GET", "/v1/portal/totals"},
                                                        {"GET", "/v1/nothing"}}) {
    const ConsoleDecision decision = Api(method, path, {cookie, {"X-Console", "1"}});
    ASSERT_TRUE(decision.answer.has_value()) << method << " " << path;
    EXPECT_EQ(decision.answer->status, 403) << method << " " << path;
    EXPECT_THAT(decision.answer->body, HasSubstr("CONSOLE_READ_ONLY"));
  }
}

TEST_F(ConsoleTest, ASessionEndsAtItsLifetimeAtLogoutAndWhenTheCallersFileDropsItsKey) {
  auto cookie = CookieFrom(Login(kPortalKey));
  const auto session = [&] {
    return Answer(Request("GET", "/console/session", "", {cookie, {"X-Console", "1"}}));
  };
  EXPECT_EQ(session().status, 200);
  EXPECT_THAT(session().body, HasSubstr(R"("callerId":"portal")"));
  EXPECT_THAT(session().body, HasSubstr(R"("role":"PORTAL")"));
  now_ += absl::Minutes(59);
  EXPECT_EQ(session().status, 200);  // no sliding renewal, but alive until its end
  now_ += absl::Minutes(1);
  EXPECT_EQ(session().status, 401);
  EXPECT_EQ(console_->sessions().size(), 0u);

  cookie = CookieFrom(Login(kPortalKey));
  const http::HttpResponse logout =
      Answer(Request("POST", "/console/logout", "", {cookie, {"X-Console", "1"}}));
  EXPECT_EQ(logout.status, 200);
  EXPECT_THAT(Header(logout, "Set-Cookie"), HasSubstr("tradein_console=; Path=/; Max-Age=0; HttpOnly"));
  EXPECT_EQ(session().status, 401);

  cookie = CookieFrom(Login(kPortalKey));
  EXPECT_EQ(session().status, 200);
  callers_ = Callers(/*with_portal=*/false);  // a reload without the portal caller
  EXPECT_EQ(session().status, 401);
  EXPECT_EQ(Api("POST", "/v1/portal/totals", {cookie, {"X-Console", "1"}}).answer->status, 401);
}

TEST_F(ConsoleTest, WithoutACallersFileTheConsoleNeedsNoLoginAndSaysSo) {
  callers_ = std::shared_ptr<const auth::CallersTable>();
  const http::HttpResponse session = Answer(Request("GET", "/console/session"));
  EXPECT_EQ(session.status, 200);
  EXPECT_THAT(session.body, HasSubstr(R"("authentication":false)"));
  const http::HttpResponse login =
      Answer(Request("POST", "/console/login", R"({"key":"x"})", {{"Content-Type", "application/json"}}));
  EXPECT_EQ(login.status, 200);
  EXPECT_EQ(Header(login, "Set-Cookie"), "");
  const ConsoleDecision decision = Api("POST", "/v1/portal/totals", {{"X-Console", "1"}});
  ASSERT_FALSE(decision.answer.has_value());
  EXPECT_EQ(decision.forward.Header("authorization"), "");
  // Still read-only, still the custom header.
  EXPECT_EQ(Api("POST", "/v1/claims", {{"X-Console", "1"}}).answer->status, 403);
  EXPECT_EQ(Api("POST", "/v1/portal/totals", {}).answer->status, 403);
}

TEST_F(ConsoleTest, ThePageIsServedWithoutInlineScriptOrStyle) {
  const http::HttpResponse page = Answer(Request("GET", "/console/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(page.body, HasSubstr(R"(<script src="console.js" defer></script>)"));
  EXPECT_THAT(page.body, HasSubstr(R"(id="login-form")"));
  // The CSP below forbids inline script, handlers and style attributes: the page must not need them.
  EXPECT_THAT(page.body, Not(HasSubstr("<script>")));
  EXPECT_THAT(page.body, Not(HasSubstr(" style=")));
  EXPECT_THAT(page.body, Not(HasSubstr(" onclick=")));
  EXPECT_EQ(Answer(Request("GET", "/console/console.js")).content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Answer(Request("GET", "/console/console.css")).content_type, "text/css; charset=utf-8");
  EXPECT_EQ(Answer(Request("GET", "/console/../etc/passwd")).status, 404);
  EXPECT_EQ(Answer(Request("GET", "/console/secret.txt")).status, 404);
  EXPECT_EQ(Answer(Request("POST", "/console/")).status, 405);
  const http::HttpResponse bare = Answer(Request("GET", "/console"));
  EXPECT_EQ(bare.status, 308);
  EXPECT_EQ(Header(bare, "Location"), "/console/");

  std::string csp;
  for (const auto& [name, value] : Console::SecurityHeaders()) {
    if (name == "Content-Security-Policy") csp = value;
  }
  EXPECT_THAT(csp, HasSubstr("default-src 'none'"));
  EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
  EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
  EXPECT_THAT(csp, Not(HasSubstr("unsafe")));
}

TEST(ConsoleSessionsTest, IdsAreRandomAndTheFullestStoreEvictsTheSessionClosestToItsEnd) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(NewSessionId());
  EXPECT_EQ(ids.size(), 100u);

  absl::Time now = absl::FromUnixSeconds(1'000);
  ConsoleSessions sessions(absl::Minutes(10), 2, [&] { return now; });
  const std::string first = sessions.Create("k1", "a");
  now += absl::Minutes(1);
  const std::string second = sessions.Create("k2", "b");
  const std::string third = sessions.Create("k3", "c");
  EXPECT_EQ(sessions.size(), 2u);
  EXPECT_FALSE(sessions.Find(first).has_value());
  ASSERT_TRUE(sessions.Find(second).has_value());
  EXPECT_EQ(sessions.Find(second)->api_key, "k2");
  EXPECT_EQ(sessions.Find(third)->caller_id, "c");
}

}  // namespace
}  // namespace tradein::gateway
