// -----------------------------------------------------------------------------
// File: routes.h
// -----------------------------------------------------------------------------
//
// The JSON gateway's routes, read from the `google.api.http` annotations on the RPCs of the public services
// (proto/tradein/v1/*_service.proto) — the one source of the routes: the gateway and its OpenAPI document
// (openapi.h) both come from this table, so no second list of paths exists anywhere.
//
//   rpc ConfirmClaim(ConfirmClaimRequest) returns (.tradein.v1.Claim) {
//     option (google.api.http) = { post: "/v1/claims/{claim_id}:confirm" body: "*" };
//   }
//
// The subset of the HttpRule grammar we accept (Build() refuses anything else, naming the RPC, so a new
// annotation the gateway could not serve fails the server's start and the unit test, not a request): get or
// post; a path of literal segments with at most one variable `{field}` standing for one whole segment or the
// start of the last one (`{claim_id}:confirm`), naming a top-level string field of the request; body "*" (the
// whole request, for post) or none (for get: the other string fields come from the query).
//
// Thread safety: immutable after Build(); Find() may be called from any thread.
#ifndef TRADEIN_SERVICES_GATEWAY_ROUTES_H_
#define TRADEIN_SERVICES_GATEWAY_ROUTES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace tradein::gateway {

struct Route {
  std::string http_method;  // "GET" or "POST"
  std::string path;         // the template as annotated: "/v1/claims/{claim_id}:confirm"
  std::string prefix;       // the path before the variable, or the whole path: "/v1/claims/"
  std::string suffix;       // after the variable: ":confirm"
  std::string path_field;   // the request field the variable fills; "" when the path has none
  bool body = false;        // body: "*": the request message is the JSON body
  const google::protobuf::MethodDescriptor* method = nullptr;
};

class RouteTable {
 public:
  // The routes of every annotated method of `services`, in declaration order; INVALID_ARGUMENT naming the
  // method for an annotation outside the subset above, or two routes with one method and path.
  [[nodiscard]] static absl::StatusOr<RouteTable> Build(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  // The public services of tradein.v1 (those the gateway serves), from the generated descriptor pool.
  static std::vector<const google::protobuf::ServiceDescriptor*> PublicServices();

  struct Match {
    const Route* route = nullptr;      // null: no route for this method (see `allowed`)
    std::string variable;              // the path variable's raw (still percent-encoded) text
    std::vector<std::string> allowed;  // the methods the path has, when it is known: "GET", "POST"
  };
  Match Find(absl::string_view http_method, absl::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace tradein::gateway

#endif  // TRADEIN_SERVICES_GATEWAY_ROUTES_H_
