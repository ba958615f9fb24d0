#include "services/gateway/routes.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/policy_service.pb.h"
#include "tradein/v1/portal_service.pb.h"
#include "tradein/v1/subsidy_service.pb.h"

namespace tradein::gateway {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;

absl::Status Unsupported(const MethodDescriptor& method, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(method.full_name(), ": google.api.http annotation the gateway cannot serve: ", why));
}

// Splits `route.path` into prefix, variable and suffix, and checks the variable names a string field.
absl::Status ParseTemplate(const MethodDescriptor& method, Route& route) {
  const std::string& path = route.path;
  if (!absl::StartsWith(path, "/")) return Unsupported(method, "the path must start with /");
  const size_t open = path.find('{');
  if (open == std::string::npos) {
    if (path.find('}') != std::string::npos) return Unsupported(method, "unbalanced }");
    route.prefix = path;
    return absl::OkStatus();
  }
  const size_t close = path.find('}', open);
  if (close == std::string::npos || path[open - 1] != '/')
    return Unsupported(method, "a variable must be a segment");
  route.prefix = path.substr(0, open);
  route.path_field = path.substr(open + 1, close - open - 1);
  route.suffix = path.substr(close + 1);
  if (route.suffix.find_first_of("/{}") != std::string::npos ||
      route.path_field.find('=') != std::string::npos) {
    return Unsupported(method, "one variable of one segment, optionally followed by :verb");
  }
  const FieldDescriptor* field = method.input_type()->FindFieldByName(route.path_field);
  if (field == nullptr || field->type() != FieldDescriptor::TYPE_STRING || field->is_repeated()) {
    return Unsupported(method, absl::StrCat("{", route.path_field, "} is not a string field of the request"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Route> RouteOf(const MethodDescriptor& method, const google::api::HttpRule& rule) {
  Route route;
  route.method = &method;
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      route.http_method = "GET";
      route.path = rule.get();
      break;
    case google::api::HttpRule::kPost:
      route.http_method = "POST";
      route.path = rule.post();
      break;
    default:
      return Unsupported(method, "only get and post");
  }
  if (!rule.additional_bindings().empty() || !rule.response_body().empty()) {
    return Unsupported(method, "additional_bindings and response_body");
  }
  if (rule.body() != "" && rule.body() != "*") return Unsupported(method, "body must be \"*\" or absent");
  route.body = rule.body() == "*";
  if (route.body != (route.http_method == "POST"))
    return Unsupported(method, "post takes body \"*\", get none");
  if (method.client_streaming()) return Unsupported(method, "client streaming");
  if (absl::Status parsed = ParseTemplate(method, route); !parsed.ok()) return parsed;
  return route;
}

// True when `path` fits `route`'s template; the variable's text in `variable`.
bool Fits(const Route& route, absl::string_view path, std::string& variable) {
  if (route.path_field.empty()) return path == route.prefix;
  if (path.size() <= route.prefix.size() + route.suffix.size()) return false;
  if (!absl::StartsWith(path, route.prefix) || !absl::EndsWith(path, route.suffix)) return false;
  const absl::string_view value =
      path.substr(route.prefix.size(), path.size() - route.prefix.size() - route.suffix.size());
  if (value.find_first_of("/:") != absl::string_view::npos) return false;
  variable = std::string(value);
  return true;
}

}  // namespace

absl::StatusOr<RouteTable> RouteTable::Build(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  RouteTable table;
  for (const google::protobuf::ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor& method = *service->method(i);
      if (!method.options().HasExtension(google::api::http)) continue;
      absl::StatusOr<Route> route = RouteOf(method, method.options().GetExtension(google::api::http));
      if (!route.ok()) return route.status();
      for (const Route& other : table.routes_) {
        if (other.http_method == route->http_method && other.path == route->path) {
          return Unsupported(method, absl::StrCat(route->http_method, " ", route->path, " is also ",
                                                  other.method->full_name()));
        }
      }
      table.routes_.push_back(*std::move(route));
    }
  }
  return table;
}

std::vector<const google::protobuf::ServiceDescriptor*> RouteTable::PublicServices() {
  // Through a message of each file, so that the generated code (and its descriptors) is linked in.
  return {v1::QuoteRequest::descriptor()->file()->FindServiceByName("SubsidyService"),
          v1::ClaimRequest::descriptor()->file()->FindServiceByName("ClaimService"),
          v1::ListPoliciesRequest::descriptor()->file()->FindServiceByName("PolicyService"),
          v1::ListClaimsRequest::descriptor()->file()->FindServiceByName("PortalService")};
}

RouteTable::Match RouteTable::Find(absl::string_view http_method, absl::string_view path) const {
  Match match;
  for (const Route& route : routes_) {
    std::string variable;
    if (!Fits(route, path, variable)) continue;
    if (route.http_method == http_method) {
      match.route = &route;
      match.variable = std::move(variable);
      match.allowed.clear();
      return match;
    }
    if (std::find(match.allowed.begin(), match.allowed.end(), route.http_method) == match.allowed.end()) {
      match.allowed.push_back(route.http_method);
    }
  }
  return match;
}

}  // namespace tradein::gateway
