#include "services/gateway/console.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/gateway/gateway_front.h"

namespace tradein::gateway {
namespace {

constexpr absl::string_view kApiPrefix = "/console/api/";
// The header every console call but the login carries (CSRF: a cross-origin page cannot add it
// unpreflighted).
constexpr char kConsoleHeader[] = "x-console";

// What the console may call: reads only, whatever the caller's role would allow.
constexpr absl::string_view kReadMethods[] = {
    "tradein.v1.PortalService.GetTotals",    "tradein.v1.PortalService.ListClaims",
    "tradein.v1.ClaimService.GetClaim",      "tradein.v1.ClaimService.GetBudgetUsage",
    "tradein.v1.PolicyService.ListPolicies", "tradein.v1.PolicyService.GetPolicy",
    "tradein.v1.PolicyService.ListReasons",
};

http::HttpResponse Refused(grpc::StatusCode code, absl::string_view reason, absl::string_view message) {
  return ErrorResponse(Refuse(code, reason, message));
}

http::HttpResponse SessionInvalid() {
  return Refused(grpc::StatusCode::UNAUTHENTICATED, "CONSOLE_SESSION_INVALID",
                 "no console session, or it ended: log in again");
}

bool IsConsoleCaller(const auth::Caller* caller) {
  return caller != nullptr &&
         (caller->role() == v1::CallerEntry::PORTAL || caller->role() == v1::CallerEntry::ADMIN);
}

// The value of cookie `name` in the request's Cookie header, or "".
std::string CookieValue(const http::HttpRequest& request, absl::string_view name) {
  for (absl::string_view pair : absl::StrSplit(request.Header("cookie"), ';')) {
    pair = absl::StripAsciiWhitespace(pair);
    if (absl::ConsumePrefix(&pair, name) && absl::ConsumePrefix(&pair, "=")) return std::string(pair);
  }
  return "";
}

std::string JsonString(absl::string_view text) {
  google::protobuf::Value value;
  value.set_string_value(std::string(text));
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(value, &json);
  return json;
}

std::string CallerJson(bool authentication, absl::string_view caller_id, absl::string_view role) {
  return absl::StrCat("{\"authentication\":", authentication ? "true" : "false",
                      ",\"callerId\":", JsonString(caller_id), ",\"role\":", JsonString(role), "}");
}

http::HttpResponse MethodNotAllowed(const http::HttpRequest& request, absl::string_view allowed) {
  http::HttpResponse answer =
      ErrorResponse(Refuse(grpc::StatusCode::UNIMPLEMENTED, "METHOD_NOT_ALLOWED",
                           absl::StrCat(request.method, " ", request.path, ": allowed ", allowed),
                           {{"allow", std::string(allowed)}}));
  answer.status = 405;
  answer.headers.emplace_back("Allow", std::string(allowed));
  return answer;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Console>> Console::Create(ConsoleOptions options, CallersSource callers,
                                                         std::function<absl::Time()> now) {
  absl::StatusOr<RouteTable> routes = RouteTable::Build(RouteTable::PublicServices());
  if (!routes.ok()) return routes.status();
  return std::unique_ptr<Console>(
      new Console(options, std::move(callers), *std::move(routes), std::move(now)));
}

Console::Console(ConsoleOptions options, CallersSource callers, RouteTable routes,
                 std::function<absl::Time()> now)
    : options_(options),
      callers_(std::move(callers)),
      routes_(std::move(routes)),
      sessions_(options.session_lifetime, options.max_sessions, std::move(now)) {}

bool Console::Serves(absl::string_view path) {
  return path == "/console" || absl::StartsWith(path, "/console/");
}

const std::vector<std::pair<std::string, std::string>>& Console::SecurityHeaders() {
  static const auto* const kHeaders = new std::vector<std::pair<std::string, std::string>>{
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"},
  };
  return *kHeaders;
}

ConsoleDecision Console::Decide(http::HttpRequest request) {
  if (absl::StartsWith(request.path, kApiPrefix)) return Api(std::move(request));
  ConsoleDecision decision;
  absl::string_view name = request.path;
  if (name == "/console") {
    decision.answer =
        http::HttpResponse{308, "text/plain; charset=utf-8", "/console/\n", {{"Location", "/console/"}}};
    return decision;
  }
  absl::ConsumePrefix(&name, "/console/");
  if (name == "login" || name == "logout") {
    if (request.method != "POST") {
      decision.answer = MethodNotAllowed(request, "POST");
    } else {
      decision.answer = name == "login" ? Login(request) : Logout(request);
    }
    return decision;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    decision.answer = MethodNotAllowed(request, "GET");
    return decision;
  }
  if (name == "session") {
    decision.answer = WhoAmI(request);
    return decision;
  }
  const std::optional<ConsoleAsset> asset = FindConsoleAsset(name.empty() ? "index.html" : name);
  if (!asset.has_value()) {
    decision.answer =
        Refused(grpc::StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND", absl::StrCat("no route for ", request.path));
    return decision;
  }
  decision.answer = http::HttpResponse{200, std::string(asset->content_type), std::string(asset->body), {}};
  return decision;
}

http::HttpResponse Console::Login(const http::HttpRequest& request) {
  const std::string content_type = absl::AsciiStrToLower(request.Header("content-type"));
  google::protobuf::Struct body;
  if (!absl::StartsWith(content_type, "application/json") ||
      !google::protobuf::util::JsonStringToMessage(request.body, &body).ok() ||
      body.fields().find("key") == body.fields().end() ||
      body.fields().at("key").kind_case() != google::protobuf::Value::kStringValue) {
    return Refused(grpc::StatusCode::INVALID_ARGUMENT, "CONSOLE_LOGIN_INVALID",
                   "the login takes {\"key\":\"…\"} with Content-Type: application/json");
  }
  const std::shared_ptr<const auth::CallersTable> callers = callers_();
  if (callers == nullptr) return {200, "application/json", CallerJson(false, "anonymous", ""), {}};
  const std::string& key = body.fields().at("key").string_value();
  const auth::Caller* caller = callers->FindByApiKey(key);
  if (!IsConsoleCaller(caller)) {
    Log(LogLevel::kWarning, "console_login_refused",
        {{"peer", request.peer}, {"caller", caller == nullptr ? "" : caller->id()}});
    return Refused(grpc::StatusCode::UNAUTHENTICATED, "CONSOLE_LOGIN_REFUSED",
                   "this key is not a portal or admin key of this service");
  }
  const std::string id = sessions_.Create(key, caller->id());
  Log(LogLevel::kInfo, "console_login", {{"peer", request.peer}, {"caller", caller->id()}});
  return {200,
          "application/json",
          CallerJson(true, caller->id(), v1::CallerEntry::Role_Name(caller->role())),
          {{"Set-Cookie", Cookie(id, sessions_.lifetime(), request)}}};
}

http::HttpResponse Console::Logout(const http::HttpRequest& request) {
  if (request.Header(kConsoleHeader) != "1") {
    return Refused(grpc::StatusCode::PERMISSION_DENIED, "CONSOLE_HEADER_MISSING",
                   "console calls carry the header X-Console: 1");
  }
  sessions_.Remove(CookieValue(request, kCookieName));
  return {200, "application/json", "{}", {{"Set-Cookie", Cookie("", absl::ZeroDuration(), request)}}};
}

http::HttpResponse Console::WhoAmI(const http::HttpRequest& request) {
  if (callers_() == nullptr) return {200, "application/json", CallerJson(false, "anonymous", ""), {}};
  const std::optional<ConsoleSession> session = LiveSession(request);
  if (!session.has_value()) return SessionInvalid();
  return {200, "application/json", CallerJson(true, session->caller_id, session->role), {}};
}

ConsoleDecision Console::Api(http::HttpRequest request) {
  ConsoleDecision decision;
  if (request.Header(kConsoleHeader) != "1") {
    decision.answer = Refused(grpc::StatusCode::PERMISSION_DENIED, "CONSOLE_HEADER_MISSING",
                              "console calls carry the header X-Console: 1");
    return decision;
  }
  request.path = request.path.substr(kApiPrefix.size() - 1);  // "/v1/..."
  const RouteTable::Match match = routes_.Find(request.method, request.path);
  if (match.route == nullptr || std::find(std::begin(kReadMethods), std::end(kReadMethods),
                                          match.route->method->full_name()) == std::end(kReadMethods)) {
    decision.answer = Refused(grpc::StatusCode::PERMISSION_DENIED, "CONSOLE_READ_ONLY",
                              absl::StrCat("the console reads only (", absl::StrJoin(kReadMethods, ", "),
                                           "): not ", request.method, " ", request.path));
    return decision;
  }
  // Only the session's credentials: whatever authorization the request carried is dropped.
  std::erase_if(request.headers,
                [](const auto& header) { return absl::EqualsIgnoreCase(header.first, "authorization"); });
  if (callers_() != nullptr) {
    const std::optional<ConsoleSession> session = LiveSession(request);
    if (!session.has_value()) {
      decision.answer = SessionInvalid();
      return decision;
    }
    request.headers.emplace_back("authorization", absl::StrCat("Bearer ", session->api_key));
  }
  decision.forward = std::move(request);
  return decision;
}

std::optional<ConsoleSession> Console::LiveSession(const http::HttpRequest& request) {
  const std::string id = CookieValue(request, kCookieName);
  if (id.empty()) return std::nullopt;
  std::optional<ConsoleSession> session = sessions_.Find(id);
  if (!session.has_value()) return std::nullopt;
  const std::shared_ptr<const auth::CallersTable> callers = callers_();
  const auth::Caller* caller = callers == nullptr ? nullptr : callers->FindByApiKey(session->api_key);
  if (!IsConsoleCaller(caller) || caller->id() != session->caller_id) {
    sessions_.Remove(id);  // the callers file no longer lets this key in
    return std::nullopt;
  }
  session->role = v1::CallerEntry::Role_Name(caller->role());
  return session;
}

std::string Console::Cookie(absl::string_view value, absl::Duration max_age,
                            const http::HttpRequest& request) const {
  const bool secure = options_.tls || absl::EqualsIgnoreCase(request.Header("x-forwarded-proto"), "https");
  return absl::StrCat(kCookieName, "=", value, "; Path=/; Max-Age=", absl::ToInt64Seconds(max_age),
                      "; HttpOnly; SameSite=Strict", secure ? "; Secure" : "");
}

}  // namespace tradein::gateway
