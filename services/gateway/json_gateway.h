// -----------------------------------------------------------------------------
// File: json_gateway.h
// -----------------------------------------------------------------------------
//
// JSON over HTTP for backends that do not speak gRPC, grpc-gateway style: each public RPC has a path, the
// body is the request message in protobuf's JSON mapping (lowerCamelCase; int64 as strings on output, numbers
// or strings on input), and the answer is the response message in JSON. The gateway is a client of the server
// it runs in: it calls the very gRPC method over an in-process channel, so authentication, validation,
// metrics, access lines and audit are exactly those of gRPC. It only translates:
//
//   POST /v1/quote                          SubsidyService/Quote
//   POST /v1/claims                         ClaimService/Claim
//   POST /v1/claims/{claimId}:confirm       ClaimService/ConfirmClaim     (also :cancel, :refund)
//   GET  /v1/claims/{claimId}               ClaimService/GetClaim
//   POST /v1/buyer-usage:query              ClaimService/GetBuyerUsage    (POST: a buyer id never goes in a
//   URL) POST /v1/budget-usage:query             ClaimService/GetBudgetUsage GET
//   /v1/policies[?regionCode=&transactionDate=]   PolicyService/ListPolicies GET  /v1/policies/{policyId}
//   PolicyService/GetPolicy POST /v1/portal/claims:list | :export, POST /v1/portal/totals      PortalService
//   POST /v1/admin/policies:reload, /v1/admin/claims/{claimId}:void | :correct
//
// `authorization` and `x-request-id` headers are passed on as gRPC metadata (bearer keys; mTLS identities do
// not cross the gateway) once checked: printable ASCII only (gRPC's rule for metadata values), at most 512
// and 128 bytes, else 400 HEADER_VALUE_INVALID naming the header. A query parameter or path variable that
// percent-decodes to bad UTF-8 is 400 NOT_UTF8 (protobuf strings are UTF-8). Errors: the HTTP status of the
// gRPC code (400 INVALID_ARGUMENT/FAILED_PRECONDITION, 401, 403, 404, 409 ALREADY_EXISTS, 429
// RESOURCE_EXHAUSTED with Retry-After, 503 UNAVAILABLE, 504, 500) and the google.rpc.Status as JSON, with the
// same reasons and field violations as gRPC. The export answers NDJSON: one ExportedClaim per line, at most
// 10,000 per response; call again with the last resumeToken for the rest.
//
// Thread safety: Handle may be called from any thread; answers come back through Respond.
#ifndef TRADEIN_SERVICES_GATEWAY_JSON_GATEWAY_H_
#define TRADEIN_SERVICES_GATEWAY_JSON_GATEWAY_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "services/http/http_server.h"

namespace tradein::gateway {

struct Route;

class JsonGateway {
 public:
  // `channel` reaches the gRPC server (in-process); the gateway keeps it.
  explicit JsonGateway(std::shared_ptr<grpc::Channel> channel);
  ~JsonGateway();

  void Handle(http::HttpRequest request, http::Respond respond);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  std::vector<Route> routes_;
};

// HttpStatusOf
//
// The HTTP status a gRPC code maps to (grpc-gateway's table).
int HttpStatusOf(int grpc_code);

}  // namespace tradein::gateway

#endif  // TRADEIN_SERVICES_GATEWAY_JSON_GATEWAY_H_
