// -----------------------------------------------------------------------------
// File: json_gateway.h
// -----------------------------------------------------------------------------
//
// JSON over HTTP for backends and browsers that do not speak gRPC, grpc-gateway style: each public RPC has
// the path of its `google.api.http` annotation (proto/tradein/v1/*_service.proto; routes.h), the body is the
// request message in protobuf's JSON mapping (lowerCamelCase; int64 as strings on output, numbers or strings
// on input), and the answer is the response message in JSON. The routes and their schemas are published as
// an OpenAPI 3.0 document at GET /v1/openapi.json (openapi.h). The gateway is a client of the server it runs
// in: it calls the very gRPC method over an in-process channel, so authentication, validation, metrics,
// access lines and audit are exactly those of gRPC. It only translates (gateway_front.h: routing, 405 with
// Allow, CORS, /healthz and /readyz, the headers passed on as metadata, bad UTF-8):
//
//   POST /v1/quote                       SubsidyService/Quote
//   POST /v1/claims/{claim_id}:confirm   ClaimService/ConfirmClaim      ... (see /v1/openapi.json)
//
// Errors: the HTTP status of the gRPC code (400 INVALID_ARGUMENT/FAILED_PRECONDITION, 401, 403, 404, 409
// ALREADY_EXISTS, 429 RESOURCE_EXHAUSTED with Retry-After, 503 UNAVAILABLE, 504, 500) and the
// google.rpc.Status as JSON, with the same reasons and field violations as gRPC. The export answers NDJSON:
// one ExportedClaim per line, at most 10,000 per response; call again with the last resumeToken for the rest.
// With `Accept: text/csv` the claims export answers CSV instead (common/claims_csv.h: a BOM, Chinese headings,
// one row per claim, the same 10,000 cap; a cut answer names the last resume token in a Tradein-Resume-Token
// header). Answers are whole bodies (the HTTP server has no chunked writer yet).
//
// Thread safety: Handle may be called from any thread; answers come back through Respond.
#ifndef TRADEIN_SERVICES_GATEWAY_JSON_GATEWAY_H_
#define TRADEIN_SERVICES_GATEWAY_JSON_GATEWAY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "services/gateway/console.h"
#include "services/gateway/gateway_front.h"
#include "services/http/http_server.h"

namespace tradein::gateway {

class JsonGateway {
 public:
  // `channel` reaches the gRPC server (in-process); the gateway keeps it. Fails as GatewayFront::Create.
  // With a `console`, /console/ is the settlement console (console.h); without, those paths are 404.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<JsonGateway>> Create(
      std::shared_ptr<grpc::Channel> channel, GatewayOptions options,
      std::unique_ptr<Console> console = nullptr);
  ~JsonGateway();

  void Handle(http::HttpRequest request, http::Respond respond);

 private:
  JsonGateway(std::shared_ptr<grpc::Channel> channel, std::unique_ptr<GatewayFront> front,
              std::unique_ptr<Console> console);

  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  std::unique_ptr<GatewayFront> front_;
  std::unique_ptr<Console> console_;  // null: no console
};

}  // namespace tradein::gateway

#endif  // TRADEIN_SERVICES_GATEWAY_JSON_GATEWAY_H_
