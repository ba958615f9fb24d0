// -----------------------------------------------------------------------------
// File: claim_preparation.h
// -----------------------------------------------------------------------------
//
// Everything the claim service decides before it asks the quota store: the request is valid, the buyer is a
// real PRC id (turned into its keyed hash at once — the raw id goes no further), the basket is priced under
// the policy in force, every car line names its new car when that policy subsidises each new car once
// (Quota.once_per_new_vehicle), the transaction is not in the future and the claim window is open, and the
// result is a draft tradein.v1.Claim plus the ReserveRequest that asks the store for the buyer's quota, the
// once-keys (home, old car, new car) and the budgets.
//
// Errors: INVALID_ARGUMENT with field paths (as basket.h; FIELD_REQUIRED items[i].vehicle.newVin),
// NOT_FOUND for the policy, FAILED_PRECONDITION CLAIM_WINDOW_CLOSED when no item's claim window is open
// today. Thread safety: pure functions of their arguments.
#ifndef TRADEIN_SERVICES_API_CLAIM_PREPARATION_H_
#define TRADEIN_SERVICES_API_CLAIM_PREPARATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/identity/keyed_hash.h"
#include "services/policy/policy_snapshot.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/claim_service.pb.h"

namespace tradein::api {

// BuyerRefOf
//
// Validates `buyer` (field paths under `field`, e.g. "buyer") and returns its keyed hash and tag.
[[nodiscard]] absl::StatusOr<quota::BuyerRef> BuyerRefOf(const v1::Buyer& buyer, bool present,
                                                         absl::CivilDay today,
                                                         const identity::KeyedHasher& hasher);

// ValidateClientId
//
// A request or retailer id: 1..64 characters of [A-Za-z0-9._:-]. Returns the violation, if any.
[[nodiscard]] absl::Status ValidateClientId(const std::string& value, const std::string& field);

// StoredInputOf
//
// What a claim keeps of a line for a later simulation (ItemResult.priced_input): the item as priced, without
// its line id (the ItemResult has it) and identifiers (VINs, property id), which pricing never reads.
v1::Item StoredInputOf(const v1::Item& item);

// PrepareClaim
//
// The ReserveRequest for `request` at `now` (its draft is the priced tradein.v1.Claim, serialized, each line
// with its priced input).
[[nodiscard]] absl::StatusOr<quota::ReserveRequest> PrepareClaim(const v1::ClaimRequest& request,
                                                                 const policy::PolicySnapshot& snapshot,
                                                                 absl::Time now,
                                                                 const identity::KeyedHasher& hasher);

// Fingerprint
//
// A keyed hash of `message`'s deterministic serialisation: the same content gives the same fingerprint.
std::string Fingerprint(const google::protobuf::Message& message, absl::string_view scope,
                        const identity::KeyedHasher& hasher);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_CLAIM_PREPARATION_H_
