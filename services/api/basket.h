// -----------------------------------------------------------------------------
// File: basket.h
// -----------------------------------------------------------------------------
//
// A basket is what QuoteRequest and ClaimRequest share: a point of sale's region, a transaction date, an
// optional pinned policy, and 1..100 items. PriceBasket validates all of it — every violation at once, each
// with its JSON field path and a stable reason — picks the policy, and prices every item with the calculator.
//
// Request limits (the proto documents them too):
//   items 1..100, lineId 1..64 characters and unique, priceFen 1..10^10, quantity 1..100, grades 0..5,
//   strings bounded (ids 64, property ids 128), cars need their vehicle data with a valid old VIN, renovation
//   of an old home needs the home, e-bikes their e-bike details. A new car's VIN (vehicle.newVin) is optional
//   here; given, it is checked like the old one, its line has quantity 1 and no other line has the same VIN
//   (DUPLICATE_VIN). Whether a Claim needs it is the policy's to say (claim_preparation.h).
//
// Errors: INVALID_ARGUMENT (BadRequest with every violation, the first one's reason in ErrorInfo);
// NOT_FOUND with reason POLICY_NOT_FOUND (unknown policyId) or NO_POLICY_IN_FORCE.
// Thread safety: pure functions of their arguments.
#ifndef TRADEIN_SERVICES_API_BASKET_H_
#define TRADEIN_SERVICES_API_BASKET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/money.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "services/policy/policy_snapshot.h"
#include "services/pricing/calculator.h"
#include "services/pricing/pricing_item.h"
#include "tradein/v1/items.pb.h"

namespace tradein::api {

inline constexpr int kMaxItems = 100;
inline constexpr int32_t kMaxQuantity = 100;
inline constexpr int64_t kMaxPriceFen =
    kMaxUnitFen;  // 100 million yuan (common/money.h: exact in the ledger)
inline constexpr size_t kMaxIdLength = 64;
inline constexpr size_t kMaxPropertyIdLength = 128;

// The basket fields of a QuoteRequest or ClaimRequest.
struct BasketRequest {
  const std::string& region_code;
  const std::string& transaction_date;
  const std::string& policy_id;
  const google::protobuf::RepeatedPtrField<v1::Item>& items;
};

struct Basket {
  const policy::CompiledPolicy* policy = nullptr;       // owned by the snapshot the caller holds
  const policy::ProductCatalogue* catalogue = nullptr;  // the same snapshot's
  absl::CivilDay day;
  std::vector<pricing::PricingItem> items;  // in request order
  std::vector<pricing::ItemPrice> prices;   // prices[i] is items[i]'s
  int64_t total_subsidy_fen = 0;
};

// PriceBasket
//
// Validates `request`, selects its policy in `snapshot` and prices every item.
[[nodiscard]] absl::StatusOr<Basket> PriceBasket(const BasketRequest& request,
                                                 const policy::PolicySnapshot& snapshot);

// SelectPolicy
//
// The policy `policy_id` pins (which must apply to `region_code` when one is given), or else the one in force
// for (`region_code`, `transaction_date`), both then required. Errors as PriceBasket's.
[[nodiscard]] absl::StatusOr<const policy::CompiledPolicy*> SelectPolicy(
    const std::string& region_code, const std::string& transaction_date, const std::string& policy_id,
    const policy::PolicySnapshot& snapshot);

// FillItemResult
//
// Writes item `index` of `basket` (priced from `source`) into `out`: amounts, rule, reasons with their
// English and Chinese messages, the product type's names and the explanation line in both languages.
void FillItemResult(const Basket& basket, size_t index, const v1::Item& source, v1::ItemResult& out);

// AddLedgerReason
//
// Appends a reason the claim service or quota ledger set (CLAIM_WINDOW_CLOSED, QUOTA_EXHAUSTED, ...) to
// `out`.
void AddLedgerReason(pricing::ReasonCode code, v1::ItemResult& out);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_BASKET_H_
