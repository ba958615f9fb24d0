// -----------------------------------------------------------------------------
// File: claim_calls.h
// -----------------------------------------------------------------------------
//
// Pieces every handler that changes or shows a claim shares (ClaimService and PortalService): finishing a
// call with a stored claim and reporting the change, the audit context of a call, and the small validations.
//
// Thread safety: pure functions; the callbacks run once, on a store thread.
#ifndef TRADEIN_SERVICES_API_CLAIM_CALLS_H_
#define TRADEIN_SERVICES_API_CLAIM_CALLS_H_

#include <functional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "services/api/call_registry.h"
#include "services/api/claim_events.h"
#include "services/audit/audit_log.h"
#include "services/policy/product_catalogue.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/claim_service.pb.h"

namespace tradein::api {

// Reports a change the store made (never called for a replay: nothing changed).
using ChangeReport = std::function<void(const quota::ClaimRecord& record, const v1::Claim& claim)>;

// FinishWithClaim
//
// A store callback that writes the claim into `response`, counts a replay or reports the change, and
// finishes. With `call` (a call that makes the claim), the claim's id goes on the call's access line.
quota::QuotaStore::Callback<quota::ClaimRecord> FinishWithClaim(grpc::ServerUnaryReactor* reactor,
                                                                v1::Claim* response, ClaimEvents& events,
                                                                absl::string_view method, ChangeReport report,
                                                                CallInfo* call = nullptr);

// AuditContextOf
//
// Who made the call `context` and its request id, from the call registry.
audit::AuditContext AuditContextOf(CallRegistry& calls, const grpc::ServerContextBase* context,
                                   std::string reason = "");

// ImeiLines
//
// The ids of the record's lines whose product type wants IMEIs as serial numbers (serial_format: IMEI in
// `catalogue`); none when the draft does not parse (ViewClaim reports a bad draft).
absl::flat_hash_set<std::string> ImeiLines(const quota::ClaimRecord& record,
                                           const policy::ProductCatalogue& catalogue);

// NoteOf
//
// Who changed a paid claim and why, as its history keeps it: the audit context's caller and reason.
quota::ChangeNote NoteOf(const audit::AuditContext& audit);

// Refuse
//
// Finishes `reactor` with `status` and returns it (the one-line early exit of a handler).
grpc::ServerUnaryReactor* Refuse(grpc::ServerUnaryReactor* reactor, const absl::Status& status);

// ValidateClaimId
//
// NOT_FOUND (CLAIM_NOT_FOUND) for an id that cannot be one of ours: its format is not the caller's business.
[[nodiscard]] absl::Status ValidateClaimId(const std::string& claim_id);

// ValidateReason
//
// At most 256 bytes; with `required`, at least one.
[[nodiscard]] absl::Status ValidateReason(const std::string& reason, bool required = false);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_CLAIM_CALLS_H_
