// -----------------------------------------------------------------------------
// File: claim_filter.h
// -----------------------------------------------------------------------------
//
// The portal's claim filters (tradein.v1.ClaimFilter: region and the regions within it, product types,
// confirmation days, invoice number, serial number) and the page tokens bound to their query. The store lists
// a period (and a retailer, states); these filters are applied here, to the claims it lists, so they need no
// store index and no ledger change.
//
//   absl::StatusOr<ClaimMatcher> matcher = ClaimMatcher::Create(request.filter());  // validated
//   if (matcher->Matches(record, view)) ...
//
//   const std::string digest = QueryDigest(normalised_request, "list-query", hasher);
//   std::string token = BoundToken(cursor, digest);          // "c2.<cursor>.<digest>"
//   absl::StatusOr<std::string> cursor = CursorOfToken(token, digest, legacy_ok, "pageToken");
//
// Thread safety: a ClaimMatcher is immutable after Create; the functions are pure.
#ifndef TRADEIN_SERVICES_API_CLAIM_FILTER_H_
#define TRADEIN_SERVICES_API_CLAIM_FILTER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/message.h"
#include "services/identity/keyed_hash.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/portal_service.pb.h"

namespace tradein::api {

class ClaimMatcher {
 public:
  // INVALID_ARGUMENT naming each bad field under `field` (e.g. "filter.regionCode"): a region code that is
  // not six digits (REGION_CODE_INVALID), a product type that is not a catalogue-shaped code (ID_INVALID), a
  // confirmation day that is not YYYY-MM-DD (DATE_INVALID) or a range that is reversed or longer than 366
  // days (PERIOD_INVALID), an invoice or serial number longer than 64 bytes (FIELD_TOO_LONG).
  [[nodiscard]] static absl::StatusOr<ClaimMatcher> Create(const v1::ClaimFilter& filter,
                                                           absl::string_view field = "filter");

  // Whether the claim (`record` as stored, `view` as ViewClaim shows it) passes every filter.
  bool Matches(const quota::ClaimRecord& record, const v1::Claim& view) const;

  // Whether any filter is set (else every claim matches).
  bool filters() const;

  // Whether a line of that product type counts (totals add only those lines).
  bool CountsProductType(const std::string& product_type) const;

 private:
  ClaimMatcher() = default;

  std::string region_code_;
  absl::flat_hash_set<std::string> product_types_;
  std::optional<absl::CivilDay> confirmed_first_;
  std::optional<absl::CivilDay> confirmed_last_;
  std::string invoice_number_;
  std::string serial_number_;
};

// ValidateStates
//
// INVALID_ARGUMENT STATE_INVALID naming `field`[i] for a state that is not a claim state (0 or unknown).
[[nodiscard]] absl::Status ValidateStates(const google::protobuf::RepeatedField<int>& states,
                                          absl::string_view field);

// ConfirmedAt
//
// When the claim (`record` as stored, `view` as ViewClaim shows it) was confirmed: nullopt for a claim never
// confirmed; else the view's confirmedAt (the time its confirmation keeps, exact). A claim confirmed before
// confirmations kept their time has none: its last change while it is CONFIRMED, its creation once refunded
// or voided (the confirmation came within the hold; docs/portal.md).
std::optional<absl::Time> ConfirmedAt(const quota::ClaimRecord& record, const v1::Claim& view);

// QueryDigest
//
// 16 hex characters identifying a query: a keyed hash (the instances' shared key) of `query` with its
// repeated fields of scalars sorted, so the same query in another order has the same digest. The caller
// clears what may change between pages (page token, page size) first.
std::string QueryDigest(google::protobuf::Message& query, absl::string_view scope,
                        const identity::KeyedHasher& hasher);

// BoundToken
//
// A page or resume token: the store's cursor bound to the query's digest.
std::string BoundToken(const std::string& cursor, const std::string& digest);

// CursorOfToken
//
// The cursor of `token` ("" for an empty token). INVALID_ARGUMENT naming `field`: TOKEN_INVALID for a token
// this service did not give out, TOKEN_QUERY_MISMATCH for one given out for another query (another period,
// retailer, states or filter). A token of the version before queries were bound ("c1.") is accepted only
// when `legacy_ok` (the query uses nothing that version did not have).
[[nodiscard]] absl::StatusOr<std::string> CursorOfToken(const std::string& token, const std::string& digest,
                                                        bool legacy_ok, absl::string_view field);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_CLAIM_FILTER_H_
