// -----------------------------------------------------------------------------
// File: claim_view.h
// -----------------------------------------------------------------------------
//
// A stored claim (quota::ClaimRecord: the priced draft plus what the ledger decided) as the API shows it:
// each item's granted units and fen with the ledger's reasons, refunds, state and times.
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_API_CLAIM_VIEW_H_
#define TRADEIN_SERVICES_API_CLAIM_VIEW_H_

#include "absl/status/status.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/claim_service.pb.h"

namespace tradein::api {

// ViewClaim
//
// Fills `out`. INTERNAL if the record's draft does not parse (a store written by a different build).
[[nodiscard]] absl::Status ViewClaim(const quota::ClaimRecord& record, v1::Claim& out);

// WasConfirmed
//
// Whether a claim in `state` has been confirmed: CONFIRMED, or a state only a confirmed claim reaches
// (PARTIALLY_REFUNDED, REFUNDED, VOIDED).
bool WasConfirmed(quota::ClaimState state);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_CLAIM_VIEW_H_
