// -----------------------------------------------------------------------------
// File: console.h
// -----------------------------------------------------------------------------
//
// The settlement console: a read-only web page for the people who watch the programme (budget burn-down,
// claims per hour, subsidy by product type and region, a claim lookup), served by the JSON gateway under
// /console/ for portal and admin callers. The page (services/gateway/console/: HTML, one hand-written JS
// file, CSS, charts drawn as SVG) is compiled into the binary, so an instance always serves the page of its
// own version and the container image needs no extra files. Its numbers come from the public read RPCs,
// called by the page through /console/api/v1/... with the caller's own key:
//
//   POST /console/login    {"key":"…"} as application/json → 200 and the session cookie, or 401
//                          CONSOLE_LOGIN_REFUSED (unknown key, or a key that is not portal or admin); no
//                          cookie
//   GET  /console/session  who is logged in (401 CONSOLE_SESSION_INVALID when nobody)
//   POST /console/logout   ends the session and clears the cookie
//   GET|POST /console/api/<route>   the gateway route /<route> with the session's key as its bearer key;
//                          only the read RPCs listed in console.cc (else 403 CONSOLE_READ_ONLY)
//
// Security: the key is only ever in a login request's body, never in a URL or a cookie; the cookie holds a
// random session id (console_sessions.h): HttpOnly, SameSite=Strict, Path=/, Max-Age = the session lifetime,
// Secure when the gateway serves TLS or the request came through a TLS proxy (X-Forwarded-Proto: https).
// CSRF: besides SameSite=Strict, every call but the login must carry the header `X-Console: 1` (a browser
// sends a custom header cross-origin only after a CORS preflight, which the gateway grants nothing for), and
// the login must be application/json (an HTML form cannot send that). Every console answer carries a strict
// Content-Security-Policy (no inline script or style, nothing from elsewhere), X-Content-Type-Options:
// nosniff, X-Frame-Options: DENY, Referrer-Policy: no-referrer and Cache-Control: no-store. A session is
// checked against the callers file in force on every call: a reload that removes the caller or its key ends
// it. Logins are logged (console_login, console_login_refused at warning: the peer and the caller, never the
// key).
//
// Without a callers file (no authentication, loopback only unless --allow_insecure) the console needs no
// login: /console/session says `"authentication": false`, the data calls go through as the anonymous caller
// and the page says so in a banner; the login answers the same without setting a cookie.
//
// Thread safety: Decide may be called from any thread.
#ifndef TRADEIN_SERVICES_GATEWAY_CONSOLE_H_
#define TRADEIN_SERVICES_GATEWAY_CONSOLE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/auth/callers_table.h"
#include "services/gateway/console_sessions.h"
#include "services/gateway/routes.h"
#include "services/http/http_session.h"

namespace tradein::gateway {

struct ConsoleOptions {
  absl::Duration session_lifetime = absl::Hours(8);
  size_t max_sessions = 10000;
  bool tls = false;  // the gateway's port serves TLS: cookies are Secure
};

// The callers table in force (null: no authentication).
using CallersSource = std::function<std::shared_ptr<const auth::CallersTable>()>;

// What to do with a console request: answer it now, or make the gateway call `forward` (a /v1/... request
// carrying the session's credentials) and answer with its result.
struct ConsoleDecision {
  std::optional<http::HttpResponse> answer;
  http::HttpRequest forward;
};

class Console {
 public:
  static constexpr absl::string_view kCookieName = "tradein_console";

  // Fails as RouteTable::Build does on the public services.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Console>> Create(
      ConsoleOptions options, CallersSource callers,
      std::function<absl::Time()> now = [] { return absl::Now(); });

  // True for "/console" and everything under "/console/".
  static bool Serves(absl::string_view path);

  ConsoleDecision Decide(http::HttpRequest request);

  // The headers every console answer carries (CSP and friends).
  static const std::vector<std::pair<std::string, std::string>>& SecurityHeaders();

  ConsoleSessions& sessions() { return sessions_; }

 private:
  Console(ConsoleOptions options, CallersSource callers, RouteTable routes, std::function<absl::Time()> now);
  http::HttpResponse Login(const http::HttpRequest& request);
  http::HttpResponse Logout(const http::HttpRequest& request);
  http::HttpResponse WhoAmI(const http::HttpRequest& request);
  ConsoleDecision Api(http::HttpRequest request);
  // The caller of the request's session when it is live and its key still names a portal or admin caller.
  std::optional<ConsoleSession> LiveSession(const http::HttpRequest& request);
  std::string Cookie(absl::string_view value, absl::Duration max_age, const http::HttpRequest& request) const;

  const ConsoleOptions options_;
  const CallersSource callers_;
  const RouteTable routes_;
  ConsoleSessions sessions_;
};

// The page's files, compiled in from services/gateway/console/ (console_assets.cc is generated).
struct ConsoleAsset {
  absl::string_view content_type;
  absl::string_view body;
};
// The asset named "index.html", "console.js", "console.css", "favicon.svg", or nothing.
std::optional<ConsoleAsset> FindConsoleAsset(absl::string_view name);

}  // namespace tradein::gateway

#endif  // TRADEIN_SERVICES_GATEWAY_CONSOLE_H_
