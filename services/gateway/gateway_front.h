// -----------------------------------------------------------------------------
// File: gateway_front.h
// -----------------------------------------------------------------------------
//
// Everything the JSON gateway decides about an HTTP request before any gRPC call, as a pure function of the
// request (no I/O), so that tests and the fuzz target (tests/fuzz/http_request_fuzzer.cc) drive the whole
// request path without a server:
//
//   - routing by the `google.api.http` annotations (routes.h): an unknown path is 404; a known path asked
//     with another method is 405 with `Allow` (the path's methods and OPTIONS);
//   - CORS: with `cors_origins` set, a request whose Origin is listed gets Access-Control-Allow-Origin (and
//     Vary: Origin) on whatever it is answered; a preflight (OPTIONS with Access-Control-Request-Method) from
//     a listed origin is 204 with the path's methods, the headers a client may send (authorization,
//     content-type, x-request-id) and a max age; from an origin not listed it is 403 CORS_ORIGIN_NOT_ALLOWED.
//     A plain OPTIONS is 204 with Allow. "*" in the list allows every origin (and answers "*");
//   - GET /healthz (liveness: 200 while the process answers), GET /readyz (a call of grpc.health.v1.Health
//     /Check: 200 while the server is SERVING, else 503), GET /v1/openapi.json (openapi.h);
//   - the request message: the JSON body (body "*"), string query parameters by JSON name (GET), the path
//     variable; percent-decoded text that is not UTF-8 is 400 NOT_UTF8, an unknown parameter 400
//     QUERY_PARAMETER_UNKNOWN, a bad body 400 JSON_INVALID;
//   - the headers passed on as gRPC metadata (`authorization`, `x-request-id`): printable ASCII only (gRPC's
//     rule; anything else would abort the process inside gRPC), at most 512 and 128 bytes, else 400
//     HEADER_VALUE_INVALID naming the header.
//
// Errors are the google.rpc.Status as JSON with the HTTP status of its gRPC code (HttpStatusOf).
//
// Thread safety: immutable after Create(); Translate() may be called from any thread.
#ifndef TRADEIN_SERVICES_GATEWAY_GATEWAY_FRONT_H_
#define TRADEIN_SERVICES_GATEWAY_GATEWAY_FRONT_H_

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"
#include "services/gateway/routes.h"
#include "services/http/http_session.h"

namespace tradein::gateway {

struct GatewayOptions {
  // Origins whose browsers may call the gateway ("https://portal.example.cn", scheme://host[:port] exactly as
  // the browser sends it), or "*". Empty: no CORS headers at all.
  std::vector<std::string> cors_origins;
};

// What to do with one request: answer it now, or make a gRPC call and answer with its result.
struct Translation {
  std::optional<http::HttpResponse> answer;
  const google::protobuf::MethodDescriptor* method = nullptr;  // the call, when there is no answer
  std::unique_ptr<google::protobuf::Message> request;
  std::vector<std::pair<std::string, std::string>> metadata;  // gRPC metadata (lower-case keys)
  bool readiness = false;  // the call is the readiness check of GET /readyz
  // CORS headers for the answer, whichever it is.
  std::vector<std::pair<std::string, std::string>> cors_headers;
};

class GatewayFront {
 public:
  // INVALID_ARGUMENT when an annotation is outside what the gateway serves (routes.h).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<GatewayFront>> Create(GatewayOptions options);

  Translation Translate(const http::HttpRequest& request) const;

  const RouteTable& routes() const { return routes_; }
  const std::string& openapi() const { return openapi_; }

 private:
  GatewayFront(GatewayOptions options, RouteTable routes);
  // The CORS headers for `origin` ("" when it is not allowed or absent).
  std::vector<std::pair<std::string, std::string>> CorsHeaders(const std::string& origin) const;
  bool OriginAllowed(const std::string& origin) const;
  Translation Options(const http::HttpRequest& request, const RouteTable::Match& match,
                      Translation translation) const;

  const GatewayOptions options_;
  const RouteTable routes_;
  const std::string openapi_;
};

// HttpStatusOf
//
// The HTTP status a gRPC code maps to (grpc-gateway's table).
int HttpStatusOf(int grpc_code);

// Refuse
//
// An error the gateway raises itself: `code` with a google.rpc.ErrorInfo of `reason` (domain tradein.v1) and
// its metadata (e.g. {"header", "x-request-id"}).
grpc::Status Refuse(grpc::StatusCode code, absl::string_view reason, absl::string_view message,
                    std::initializer_list<std::pair<const char*, std::string>> metadata = {});

// ErrorResponse
//
// The HTTP answer for a gRPC error: HttpStatusOf(code), the google.rpc.Status as JSON, Retry-After from a
// google.rpc.RetryInfo.
http::HttpResponse ErrorResponse(const grpc::Status& status);

}  // namespace tradein::gateway

#endif  // TRADEIN_SERVICES_GATEWAY_GATEWAY_FRONT_H_
