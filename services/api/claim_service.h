// -----------------------------------------------------------------------------
// File: claim_service.h
// -----------------------------------------------------------------------------
//
// tradein.v1.ClaimService: the gRPC adapter of the quota ledger. Each method validates and prepares on the
// gRPC thread (pure CPU), hands one call to the QuotaStore with a deadline no later than the caller's, and
// finishes the call from the store's callback — never blocking a gRPC thread on Redis.
//
// The contract of every method is in proto/tradein/v1/claim_service.proto; the ledger's semantics in
// services/quota/quota_store.h.
//
// Thread safety: all methods may be called concurrently.
#ifndef TRADEIN_SERVICES_API_CLAIM_SERVICE_H_
#define TRADEIN_SERVICES_API_CLAIM_SERVICE_H_

#include "absl/time/time.h"
#include "common/clock.h"
#include "services/api/arena_allocator.h"
#include "services/api/authorize.h"
#include "services/api/claim_events.h"
#include "services/identity/keyed_hash.h"
#include "services/policy/policy_registry.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/claim_service.grpc.pb.h"

namespace tradein::api {

class ClaimService final : public v1::ClaimService::CallbackService {
 public:
  struct Options {
    // The longest a call waits for the store, whatever the caller's deadline.
    absl::Duration store_timeout = absl::Seconds(2);
  };

  // REQUIRES: the references outlive the service.
  ClaimService(const policy::PolicyRegistry& policies, const Clock& clock,
               const identity::KeyedHasher& hasher, quota::QuotaStore& store, CallGate& gate,
               ClaimEvents& events, Options options);

  grpc::ServerUnaryReactor* Claim(grpc::CallbackServerContext* context, const v1::ClaimRequest* request,
                                  v1::Claim* response) override;
  grpc::ServerUnaryReactor* ConfirmClaim(grpc::CallbackServerContext* context,
                                         const v1::ConfirmClaimRequest* request,
                                         v1::Claim* response) override;
  grpc::ServerUnaryReactor* CancelClaim(grpc::CallbackServerContext* context,
                                        const v1::CancelClaimRequest* request, v1::Claim* response) override;
  grpc::ServerUnaryReactor* RefundClaim(grpc::CallbackServerContext* context,
                                        const v1::RefundClaimRequest* request, v1::Claim* response) override;
  grpc::ServerUnaryReactor* GetClaim(grpc::CallbackServerContext* context, const v1::GetClaimRequest* request,
                                     v1::Claim* response) override;
  grpc::ServerUnaryReactor* GetBuyerUsage(grpc::CallbackServerContext* context,
                                          const v1::GetBuyerUsageRequest* request,
                                          v1::BuyerUsage* response) override;
  grpc::ServerUnaryReactor* GetBudgetUsage(grpc::CallbackServerContext* context,
                                           const v1::GetBudgetUsageRequest* request,
                                           v1::BudgetUsage* response) override;

 private:
  // The store half of ConfirmClaim (after the serials' forms were checked); finishes `reactor`.
  void ConfirmInStore(grpc::CallbackServerContext* context, const v1::ConfirmClaimRequest* request,
                      const std::string& retailer_id, grpc::ServerUnaryReactor* reactor, v1::Claim* response);
  // The deadline of a store call made for `context`.
  absl::Time StoreDeadline(const grpc::CallbackServerContext& context) const;

  const policy::PolicyRegistry& policies_;
  const Clock& clock_;
  const identity::KeyedHasher& hasher_;
  quota::QuotaStore& store_;
  CallGate& gate_;
  ClaimEvents& events_;
  const Options options_;
  ArenaMessageAllocator<v1::ClaimRequest, v1::Claim> claim_allocator_;
  ArenaMessageAllocator<v1::ConfirmClaimRequest, v1::Claim> confirm_allocator_;
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_CLAIM_SERVICE_H_
