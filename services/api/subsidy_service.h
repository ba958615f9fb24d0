// -----------------------------------------------------------------------------
// File: subsidy_service.h
// -----------------------------------------------------------------------------
//
// tradein.v1.SubsidyService: the gRPC adapter for quotes. Quote takes one policy snapshot, prices the basket
// (basket.h) and writes the reply; it never changes any state. Runs inline on the gRPC callback thread:
// pricing is pure CPU (microseconds) and takes no lock.
//
// Thread safety: all methods may be called concurrently.
#ifndef TRADEIN_SERVICES_API_SUBSIDY_SERVICE_H_
#define TRADEIN_SERVICES_API_SUBSIDY_SERVICE_H_

#include "common/clock.h"
#include "services/policy/policy_registry.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein::api {

class SubsidyService final : public v1::SubsidyService::CallbackService {
 public:
  // REQUIRES: the arguments outlive the service.
  SubsidyService(const policy::PolicyRegistry& policies, const Clock& clock)
      : policies_(policies), clock_(clock) {}

  grpc::ServerUnaryReactor* Quote(grpc::CallbackServerContext* context, const v1::QuoteRequest* request,
                                  v1::QuoteResponse* response) override;

 private:
  const policy::PolicyRegistry& policies_;
  const Clock& clock_;
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_SUBSIDY_SERVICE_H_
