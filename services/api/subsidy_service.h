// -----------------------------------------------------------------------------
// File: subsidy_service.h
// -----------------------------------------------------------------------------
//
// tradein.v1.SubsidyService: the gRPC adapter for quotes. Quote takes one policy snapshot, prices the basket
// (basket.h) and writes the reply; it never changes any state. Pricing runs inline on the gRPC callback
// thread (pure CPU, microseconds, no lock). With a buyer, it also reads the buyer's counters from the quota
// store — asynchronously, with a short deadline — and marks items the buyer has no quota left for
// (QUOTA_EXHAUSTED); if the store does not answer in time the quote is still answered, from the rules alone
// (quotaChecked false).
//
// Thread safety: all methods may be called concurrently.
#ifndef TRADEIN_SERVICES_API_SUBSIDY_SERVICE_H_
#define TRADEIN_SERVICES_API_SUBSIDY_SERVICE_H_

#include "absl/time/time.h"
#include "common/clock.h"
#include "services/api/arena_allocator.h"
#include "services/api/authorize.h"
#include "services/api/claim_events.h"
#include "services/identity/keyed_hash.h"
#include "services/policy/policy_registry.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein::api {

class SubsidyService final : public v1::SubsidyService::CallbackService {
 public:
  struct Options {
    // The longest a quote waits for the buyer's counters before answering without them.
    absl::Duration quota_check_timeout = absl::Milliseconds(300);
  };

  // REQUIRES: the references outlive the service.
  SubsidyService(const policy::PolicyRegistry& policies, const Clock& clock,
                 const identity::KeyedHasher& hasher, quota::QuotaStore& store, CallGate& gate,
                 ClaimEvents& events, Options options);

  grpc::ServerUnaryReactor* Quote(grpc::CallbackServerContext* context, const v1::QuoteRequest* request,
                                  v1::QuoteResponse* response) override;

 private:
  const policy::PolicyRegistry& policies_;
  const Clock& clock_;
  const identity::KeyedHasher& hasher_;
  quota::QuotaStore& store_;
  CallGate& gate_;
  ClaimEvents& events_;
  const Options options_;
  ArenaMessageAllocator<v1::QuoteRequest, v1::QuoteResponse> quote_allocator_;
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_SUBSIDY_SERVICE_H_
