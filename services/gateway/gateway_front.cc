#include "services/gateway/gateway_front.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/reasons.h"
#include "common/status.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "services/gateway/openapi.h"

namespace tradein::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::Message;

// The headers passed on as gRPC metadata, and the most bytes each may hold (a bearer key is 64 hex digits; a
// request id up to 128 characters).
struct ForwardedHeader {
  const char* name;
  size_t max_bytes;
};
constexpr ForwardedHeader kForwardedHeaders[] = {{"authorization", 512}, {"x-request-id", 128}};
// What a browser may send on a CORS request, and how long it may cache a preflight's answer.
constexpr char kCorsAllowHeaders[] = "authorization, content-type, x-request-id";
constexpr char kCorsMaxAgeSeconds[] = "600";

std::string UrlDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size()) {
      int value = 0;
      if (absl::SimpleHexAtoi(text.substr(i + 1, 2), &value)) {
        out.push_back(static_cast<char>(value));
        i += 2;
      } else {
        out.push_back(text[i]);
      }
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code_point = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xe0) == 0xc0) {
      length = 2;
      code_point = byte & 0x1fu;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      code_point = byte & 0x0fu;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      code_point = byte & 0x07u;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3fu);
    }
    constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[length] || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff))
      return false;
    i += length;
  }
  return true;
}

// Errors the gateway raises itself (a bad query parameter, no such route) get the zh-CN
// google.rpc.LocalizedMessage every error of the service carries (services/api/grpc_status.h).
void AddChineseIfMissing(google::rpc::Status& details) {
  std::string reason;
  for (const google::protobuf::Any& any : details.details()) {
    if (any.Is<google::rpc::LocalizedMessage>()) return;
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) reason = info.reason();
  }
  google::rpc::LocalizedMessage localized;
  localized.set_locale(std::string(kErrorLocale));
  localized.set_message(std::string(ChineseTextFor(reason, static_cast<absl::StatusCode>(details.code()))));
  details.add_details()->PackFrom(localized);
}

std::string StatusJson(const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    details.set_code(status.error_code());
    details.set_message(status.error_message());
  }
  AddChineseIfMissing(details);
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(details, &json).ok()) {
    json = absl::StrCat("{\"code\":", status.error_code(), "}");
  }
  return json;
}

// Seconds of a google.rpc.RetryInfo in the status details, rounded up; 0 when none.
int64_t RetryAfterSeconds(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return 0;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry))
      return retry.retry_delay().seconds() + (retry.retry_delay().nanos() > 0 ? 1 : 0);
  }
  return 0;
}

}  // namespace

grpc::Status Refuse(grpc::StatusCode code, absl::string_view reason, absl::string_view message,
                    std::initializer_list<std::pair<const char*, std::string>> metadata) {
  google::rpc::Status details;
  details.set_code(code);
  details.set_message(std::string(message));
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain("tradein.v1");
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[key] = value;
  details.add_details()->PackFrom(info);
  return grpc::Status(code, std::string(message), details.SerializeAsString());
}

namespace {

grpc::Status Invalid(absl::string_view reason, absl::string_view message,
                     std::initializer_list<std::pair<const char*, std::string>> metadata = {}) {
  return Refuse(grpc::StatusCode::INVALID_ARGUMENT, reason, message, metadata);
}

// A query parameter, the path variable: their decoded text must be UTF-8 (protobuf strings are).
grpc::Status NotUtf8(absl::string_view where) {
  return Invalid("NOT_UTF8", absl::StrCat(where, ": the decoded text is not valid UTF-8"),
                 {{"field", std::string(where)}});
}

const google::protobuf::FieldDescriptor* FieldByJsonName(const Descriptor& descriptor,
                                                         const std::string& name) {
  for (int i = 0; i < descriptor.field_count(); ++i) {
    if (descriptor.field(i)->json_name() == name) return descriptor.field(i);
  }
  return nullptr;
}

// Builds the request message of `route` from the HTTP request: the JSON body, query parameters (GET), and the
// path variable.
grpc::Status BuildRequest(const Route& route, const http::HttpRequest& http, const std::string& variable,
                          Message& out) {
  if (!http.body.empty()) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto parsed = google::protobuf::util::JsonStringToMessage(http.body, &out, options);
    if (!parsed.ok()) return Invalid("JSON_INVALID", absl::StrCat("body: ", parsed.message().as_string()));
  }
  for (absl::string_view pair : absl::StrSplit(http.query, '&', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    const std::string name = UrlDecode(kv[0]);
    const std::string value = kv.size() > 1 ? UrlDecode(kv[1]) : "";
    if (!IsUtf8(name)) return NotUtf8("query");
    const google::protobuf::FieldDescriptor* field = FieldByJsonName(*out.GetDescriptor(), name);
    if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
        field->is_repeated()) {
      return Invalid("QUERY_PARAMETER_UNKNOWN", absl::StrCat("query parameter \"", name, "\" is not known"));
    }
    if (!IsUtf8(value)) return NotUtf8(field->json_name());
    out.GetReflection()->SetString(&out, field, value);
  }
  if (!route.path_field.empty()) {
    const google::protobuf::FieldDescriptor* field = out.GetDescriptor()->FindFieldByName(route.path_field);
    const std::string value = UrlDecode(variable);
    if (!IsUtf8(value)) return NotUtf8(field->json_name());
    out.GetReflection()->SetString(&out, field, value);
  }
  return grpc::Status::OK;
}

// Checks the headers passed on as gRPC metadata and collects them. gRPC refuses (by aborting the process) a
// metadata value outside printable ASCII, so every byte is checked here first.
grpc::Status ForwardedMetadata(const http::HttpRequest& http,
                               std::vector<std::pair<std::string, std::string>>& metadata) {
  for (const ForwardedHeader& header : kForwardedHeaders) {
    const std::string value = http.Header(header.name);
    const bool printable =
        std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    if (!printable || value.size() > header.max_bytes) {
      return Invalid("HEADER_VALUE_INVALID",
                     absl::StrCat("header \"", header.name, "\": must be printable ASCII, at most ",
                                  header.max_bytes, " bytes"),
                     {{"header", header.name}});
    }
    if (!value.empty()) metadata.emplace_back(header.name, value);
  }
  return grpc::Status::OK;
}

http::HttpResponse Json200(std::string body) { return {200, "application/json", std::move(body), {}}; }

}  // namespace

int HttpStatusOf(int grpc_code) {
  switch (grpc_code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

http::HttpResponse ErrorResponse(const grpc::Status& status) {
  http::HttpResponse response{HttpStatusOf(status.error_code()), "application/json", StatusJson(status), {}};
  if (const int64_t retry = RetryAfterSeconds(status); retry > 0) {
    response.headers.emplace_back("Retry-After", absl::StrCat(retry));
  }
  return response;
}

absl::StatusOr<std::unique_ptr<GatewayFront>> GatewayFront::Create(GatewayOptions options) {
  absl::StatusOr<RouteTable> routes = RouteTable::Build(RouteTable::PublicServices());
  if (!routes.ok()) return routes.status();
  return std::unique_ptr<GatewayFront>(new GatewayFront(std::move(options), *std::move(routes)));
}

GatewayFront::GatewayFront(GatewayOptions options, RouteTable routes)
    : options_(std::move(options)), routes_(std::move(routes)), openapi_(OpenApiDocument(routes_)) {}

bool GatewayFront::OriginAllowed(const std::string& origin) const {
  return !origin.empty() &&
         std::any_of(options_.cors_origins.begin(), options_.cors_origins.end(),
                     [&](const std::string& allowed) { return allowed == "*" || allowed == origin; });
}

std::vector<std::pair<std::string, std::string>> GatewayFront::CorsHeaders(const std::string& origin) const {
  if (!OriginAllowed(origin)) return {};
  const bool any = std::find(options_.cors_origins.begin(), options_.cors_origins.end(), "*") !=
                   options_.cors_origins.end();
  return {{"Access-Control-Allow-Origin", any ? "*" : origin},
          {"Vary", "Origin"},
          {"Access-Control-Expose-Headers", "Retry-After, Tradein-Resume-Token"}};
}

Translation GatewayFront::Options(const http::HttpRequest& request, const RouteTable::Match& match,
                                  Translation translation) const {
  std::vector<std::string> methods = match.allowed;
  methods.push_back("OPTIONS");
  const std::string allow = absl::StrJoin(methods, ", ");
  const std::string origin = request.Header("origin");
  const bool preflight = !origin.empty() && !request.Header("access-control-request-method").empty();
  if (preflight && !OriginAllowed(origin)) {
    translation.answer = ErrorResponse(
        Refuse(grpc::StatusCode::PERMISSION_DENIED, "CORS_ORIGIN_NOT_ALLOWED",
               absl::StrCat("origin \"", origin, "\" may not call this gateway"), {{"origin", origin}}));
    return translation;
  }
  http::HttpResponse answer{204, "", "", {{"Allow", allow}}};
  if (preflight) {
    answer.headers.emplace_back("Access-Control-Allow-Methods", allow);
    answer.headers.emplace_back("Access-Control-Allow-Headers", kCorsAllowHeaders);
    answer.headers.emplace_back("Access-Control-Max-Age", kCorsMaxAgeSeconds);
  }
  translation.answer = std::move(answer);
  return translation;
}

Translation GatewayFront::Translate(const http::HttpRequest& request) const {
  Translation translation;
  translation.cors_headers = CorsHeaders(request.Header("origin"));
  RouteTable::Match match = routes_.Find(request.method, request.path);
  // The gateway's own paths, GET only.
  if (request.path == "/healthz" || request.path == "/readyz" || request.path == "/v1/openapi.json") {
    match.allowed = {"GET"};
    if (request.method == "GET" && request.path == "/healthz") {
      translation.answer = Json200("{\"status\":\"SERVING\"}");
      return translation;
    }
    if (request.method == "GET" && request.path == "/v1/openapi.json") {
      translation.answer = Json200(openapi_);
      return translation;
    }
    if (request.method == "GET") {
      translation.method = grpc::health::v1::HealthCheckRequest::descriptor()
                               ->file()
                               ->FindServiceByName("Health")
                               ->FindMethodByName("Check");
      translation.request = std::make_unique<grpc::health::v1::HealthCheckRequest>();
      translation.readiness = true;
      return translation;
    }
  }
  if (request.method == "OPTIONS" && !match.allowed.empty())
    return Options(request, match, std::move(translation));
  if (match.route == nullptr) {
    if (match.allowed.empty()) {
      translation.answer = ErrorResponse(Refuse(grpc::StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND",
                                                absl::StrCat("no route for ", request.path)));
      return translation;
    }
    translation.answer = ErrorResponse(Refuse(
        grpc::StatusCode::UNIMPLEMENTED, "METHOD_NOT_ALLOWED",
        absl::StrCat(request.method, " ", request.path, ": allowed ", absl::StrJoin(match.allowed, ", ")),
        {{"allow", absl::StrJoin(match.allowed, ", ")}}));
    translation.answer->status = 405;
    translation.answer->headers.emplace_back("Allow", absl::StrJoin(match.allowed, ", ") + ", OPTIONS");
    return translation;
  }
  const Route& route = *match.route;
  std::unique_ptr<Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(route.method->input_type())->New());
  grpc::Status status = BuildRequest(route, request, match.variable, *message);
  if (status.ok()) status = ForwardedMetadata(request, translation.metadata);
  if (!status.ok()) {
    translation.answer = ErrorResponse(status);
    return translation;
  }
  translation.method = route.method;
  translation.request = std::move(message);
  return translation;
}

}  // namespace tradein::gateway
