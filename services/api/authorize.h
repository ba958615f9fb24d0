// -----------------------------------------------------------------------------
// File: authorize.h
// -----------------------------------------------------------------------------
//
// The first line of every handler: asks AccessControl whether this call may do `action`, records who the
// caller is and the claim the request names (a `claim_id` field) on the call's CallInfo (for the access line
// and audit), then checks the request's field sizes (request_limits.h) before anything else reads it.
//
// Thread safety: as AccessControl.
#ifndef TRADEIN_SERVICES_API_AUTHORIZE_H_
#define TRADEIN_SERVICES_API_AUTHORIZE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "services/api/call_registry.h"
#include "services/api/request_limits.h"
#include "services/auth/access_control.h"

namespace tradein::api {

// Who may call, and the calls in flight: what every service needs to authorise a call.
struct CallGate {
  auth::AccessControl& access;
  CallRegistry& calls;
};

// The request's top-level string `claim_id`, or "" when its type has none.
inline std::string ClaimIdOf(const google::protobuf::Message& request) {
  const google::protobuf::FieldDescriptor* field = request.GetDescriptor()->FindFieldByName("claim_id");
  if (field == nullptr || field->is_repeated() ||
      field->type() != google::protobuf::FieldDescriptor::TYPE_STRING)
    return "";
  return request.GetReflection()->GetString(request, field);
}

inline absl::StatusOr<auth::Grant> AuthorizeCall(CallGate& gate, grpc::CallbackServerContext& context,
                                                 const google::protobuf::Message& request,
                                                 auth::Action action, absl::string_view retailer = "",
                                                 absl::string_view region = "") {
  std::string caller_id;
  absl::StatusOr<auth::Grant> grant = gate.access.Authorize(context, action, retailer, region, &caller_id);
  if (CallInfo* call = gate.calls.Find(&context); call != nullptr) {
    call->caller_id = std::move(caller_id);  // also when refused: the access line says who tried
    if (grant.ok()) call->retailer_id = grant->retailer_id;
    call->claim_id = ClaimIdOf(request);
  }
  if (!grant.ok()) return grant;
  if (absl::Status limits = CheckRequestLimits(request); !limits.ok()) return limits;
  return grant;
}

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_AUTHORIZE_H_
