// -----------------------------------------------------------------------------
// File: policy_service.h
// -----------------------------------------------------------------------------
//
// tradein.v1.PolicyService: the loaded policies as data, and the reason catalogue (common/reasons.h).
// Read-only; answers from one snapshot.
//
// Thread safety: all methods may be called concurrently.
#ifndef TRADEIN_SERVICES_API_POLICY_SERVICE_H_
#define TRADEIN_SERVICES_API_POLICY_SERVICE_H_

#include "services/api/authorize.h"
#include "services/policy/policy_registry.h"
#include "tradein/v1/policy_service.grpc.pb.h"

namespace tradein::api {

class PolicyService final : public v1::PolicyService::CallbackService {
 public:
  PolicyService(const policy::PolicyRegistry& policies, CallGate& gate) : policies_(policies), gate_(gate) {}

  grpc::ServerUnaryReactor* ListPolicies(grpc::CallbackServerContext* context,
                                         const v1::ListPoliciesRequest* request,
                                         v1::ListPoliciesResponse* response) override;
  grpc::ServerUnaryReactor* GetPolicy(grpc::CallbackServerContext* context,
                                      const v1::GetPolicyRequest* request, v1::Policy* response) override;
  grpc::ServerUnaryReactor* ListReasons(grpc::CallbackServerContext* context,
                                        const v1::ListReasonsRequest* request,
                                        v1::ListReasonsResponse* response) override;

 private:
  const policy::PolicyRegistry& policies_;
  CallGate& gate_;
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_POLICY_SERVICE_H_
