// -----------------------------------------------------------------------------
// File: portal_service.h
// -----------------------------------------------------------------------------
//
// tradein.v1.PortalService: listings, the settlement export (a resumable server stream), totals computed from
// the very claims the export streams, the what-if simulation of a draft policy (simulation_stream.h), and the
// administrative actions (reload, void, correct). Every store
// call is asynchronous; the export writes one claim at a time and fetches the next page only when the client
// has taken the last one, so a slow reader holds one page in memory, never the period.
//
// Page and resume tokens are opaque to clients ("c1." + the store's cursor): stable while new claims arrive.
//
// Thread safety: all methods may be called concurrently.
#ifndef TRADEIN_SERVICES_API_PORTAL_SERVICE_H_
#define TRADEIN_SERVICES_API_PORTAL_SERVICE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "services/api/authorize.h"
#include "services/api/claim_events.h"
#include "services/identity/keyed_hash.h"
#include "services/policy/policy_snapshot.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/portal_service.grpc.pb.h"

namespace tradein::api {

class PortalService final : public v1::PortalService::CallbackService {
 public:
  struct Options {
    absl::Duration store_timeout = absl::Seconds(2);
    // Reloads policies and callers (the server's Reload); returns the problems on failure.
    std::function<absl::Status()> reload;
    // The policy snapshot's versions, for ReloadPolicies' answer.
    std::function<v1::ReloadPoliciesResponse()> describe_policies;
    // The policies in force: their product catalogue says which serial numbers are IMEIs (a serial fix is
    // checked as a confirmation is). Unset: no serial format is checked.
    std::function<std::shared_ptr<const policy::PolicySnapshot>()> policies;
  };

  PortalService(const Clock& clock, const identity::KeyedHasher& hasher, quota::QuotaStore& store,
                CallGate& gate, ClaimEvents& events, Options options);

  grpc::ServerUnaryReactor* ListClaims(grpc::CallbackServerContext* context,
                                       const v1::ListClaimsRequest* request,
                                       v1::ListClaimsResponse* response) override;
  grpc::ServerWriteReactor<v1::ExportedClaim>* ExportClaims(grpc::CallbackServerContext* context,
                                                            const v1::ExportClaimsRequest* request) override;
  grpc::ServerUnaryReactor* GetTotals(grpc::CallbackServerContext* context,
                                      const v1::GetTotalsRequest* request, v1::Totals* response) override;
  grpc::ServerUnaryReactor* ReloadPolicies(grpc::CallbackServerContext* context,
                                           const v1::ReloadPoliciesRequest* request,
                                           v1::ReloadPoliciesResponse* response) override;
  grpc::ServerUnaryReactor* VoidClaim(grpc::CallbackServerContext* context,
                                      const v1::VoidClaimRequest* request, v1::Claim* response) override;
  grpc::ServerUnaryReactor* CorrectClaim(grpc::CallbackServerContext* context,
                                         const v1::CorrectClaimRequest* request,
                                         v1::Claim* response) override;
  grpc::ServerWriteReactor<v1::SimulationUpdate>* SimulatePolicy(
      grpc::CallbackServerContext* context, const v1::SimulatePolicyRequest* request) override;

 private:
  absl::Time StoreDeadline(const grpc::CallbackServerContext& context) const;
  // CorrectClaim of an invoice or serial number: reads the claim, computes the fix, has the store apply it.
  void FixConfirmation(grpc::CallbackServerContext* context, const v1::CorrectClaimRequest* request,
                       audit::AuditContext audit, grpc::ServerUnaryReactor* reactor, v1::Claim* response);
  // The store's request for `request`'s fix of `record`'s confirmation; INVALID_ARGUMENT IMEI_INVALID for a
  // new serial that must be an IMEI and is not.
  absl::StatusOr<quota::CorrectRequest> ConfirmationFix(const v1::CorrectClaimRequest& request,
                                                        const quota::ClaimRecord& record) const;
  // The key of a serial number, as ConfirmClaim makes it (one namespace for every programme).
  quota::SerialKey SerialKeyOf(const std::string& line_id, const std::string& serial,
                               const std::string& field) const;

  const Clock& clock_;
  const identity::KeyedHasher& hasher_;
  quota::QuotaStore& store_;
  CallGate& gate_;
  ClaimEvents& events_;
  const Options options_;
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_PORTAL_SERVICE_H_
