#include "services/api/basket.h"

#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "services/identity/vin.h"
#include "services/policy/region.h"
#include "services/pricing/explanation.h"

namespace tradein::api {
namespace {

using policy::PolicySnapshot;
using pricing::PricingItem;

constexpr int32_t kMaxGrade = 5;
constexpr int32_t kMaxDisplacementMl = 10'000;
// Enough to show every problem of a bad basket without letting a hostile one build a megabyte of errors.
constexpr size_t kMaxViolations = 50;

// Gathers every violation of a request.
class Violations {
 public:
  void Add(std::string field, absl::string_view reason, std::string description) {
    if (list_.size() < kMaxViolations)
      list_.push_back({std::move(field), std::string(reason), std::move(description)});
  }
  void AddAll(const absl::Status& status) {
    for (FieldViolation& v : FieldViolations(status))
      Add(std::move(v.field), v.reason, std::move(v.description));
  }
  bool empty() const { return list_.empty(); }
  absl::Status ToStatus() const { return InvalidArgumentError(list_); }

  // Checks a required, bounded string field. Returns true when present and within bounds.
  bool Text(const std::string& value, const std::string& field, size_t max_length) {
    if (value.empty()) {
      Add(field, "FIELD_REQUIRED", "is required");
      return false;
    }
    if (value.size() > max_length) {
      Add(field, "FIELD_TOO_LONG", absl::StrCat("is ", value.size(), " bytes; at most ", max_length));
      return false;
    }
    return true;
  }

  std::optional<absl::CivilDay> Date(const std::string& value, const std::string& field) {
    if (!Text(value, field, kMaxIdLength)) return std::nullopt;
    std::optional<absl::CivilDay> day = ParseCivilDay(value);
    if (!day.has_value()) Add(field, "DATE_INVALID", "must be a real date written YYYY-MM-DD");
    return day;
  }

 private:
  std::vector<FieldViolation> list_;
};

// What one request may not repeat across its lines.
struct SeenInRequest {
  absl::flat_hash_set<absl::string_view> line_ids;
  absl::flat_hash_set<std::string> new_vins;  // normalised
};

// The new car's VIN is optional here (a Claim requires it where the policy says so: claim_preparation.h);
// when given it is one car: a valid VIN, quantity 1, on no other line.
void ValidateNewVin(const v1::Vehicle& v, const std::string& item_at, int32_t quantity, SeenInRequest& seen,
                    Violations& violations) {
  if (v.new_vin().empty()) return;
  const std::string at = item_at + ".vehicle.newVin";
  if (!violations.Text(v.new_vin(), at, kMaxIdLength)) return;
  const absl::StatusOr<std::string> vin = identity::NormalizeVin(v.new_vin(), at);
  if (!vin.ok()) {
    violations.AddAll(vin.status());
    return;
  }
  if (!seen.new_vins.insert(*vin).second) {
    violations.Add(at, "DUPLICATE_VIN", "another line of the request is the same new car");
  }
  if (quantity != 1) {
    violations.Add(item_at + ".quantity", "QUANTITY_OUT_OF_RANGE",
                   "a car line with vehicle.newVin is one car: quantity must be 1");
  }
}

void ValidateVehicle(const v1::Vehicle& v, const std::string& item_at, SeenInRequest& seen,
                     Violations& violations, PricingItem& out) {
  const std::string at = item_at + ".vehicle";
  using Kind = v1::Vehicle::TradeInKind;
  using Energy = v1::Vehicle::NewEnergyType;
  using Fuel = v1::Vehicle::OldFuelType;
  if (v.trade_in_kind() == Kind::TRADE_IN_KIND_UNSPECIFIED) {
    violations.Add(at + ".tradeInKind", "FIELD_REQUIRED", "SCRAPPAGE or REPLACEMENT");
  }
  if (v.new_energy_type() == Energy::NEW_ENERGY_TYPE_UNSPECIFIED) {
    violations.Add(at + ".newEnergyType", "FIELD_REQUIRED", "NEV or FUEL");
  }
  if (v.old_fuel_type() == Fuel::OLD_FUEL_TYPE_UNSPECIFIED) {
    violations.Add(at + ".oldFuelType", "FIELD_REQUIRED", "GASOLINE, DIESEL, OTHER or NEV");
  }
  if (v.new_energy_type() == Energy::FUEL && v.new_displacement_ml() <= 0) {
    violations.Add(at + ".newDisplacementMl", "FIELD_REQUIRED",
                   "a fuel car's displacement in ml is required");
  } else if (v.new_displacement_ml() < 0 || v.new_displacement_ml() > kMaxDisplacementMl) {
    violations.Add(at + ".newDisplacementMl", "DISPLACEMENT_OUT_OF_RANGE",
                   absl::StrCat("must be 0 .. ", kMaxDisplacementMl));
  }
  const std::optional<absl::CivilDay> registered =
      violations.Date(v.old_registered_on(), at + ".oldRegisteredOn");
  const std::optional<absl::CivilDay> owned = violations.Date(v.old_owned_since(), at + ".oldOwnedSince");
  if (registered && owned && *owned < *registered) {
    violations.Add(at + ".oldOwnedSince", "DATE_INVALID",
                   "the old car cannot be owned before it was registered");
  }
  if (violations.Text(v.old_vin(), at + ".oldVin", kMaxIdLength)) {
    const absl::StatusOr<std::string> vin = identity::NormalizeVin(v.old_vin(), at + ".oldVin");
    if (!vin.ok()) violations.AddAll(vin.status());
  }
  ValidateNewVin(v, item_at, out.quantity, seen, violations);
  out.vehicle = {v.trade_in_kind(),
                 v.new_energy_type(),
                 v.new_displacement_ml(),
                 v.new_in_nev_catalogue(),
                 v.old_fuel_type(),
                 registered.value_or(absl::CivilDay()),
                 owned.value_or(absl::CivilDay())};
}

void ValidateHome(const v1::Home& home, const std::string& at, Violations& violations, PricingItem& out) {
  violations.Text(home.property_id(), at + ".propertyId", kMaxPropertyIdLength);
  out.home.completed_on =
      violations.Date(home.completed_on(), at + ".completedOn").value_or(absl::CivilDay());
}

v1::Item::DetailsCase DetailsCaseOf(v1::ProductType::Details details) {
  switch (details) {
    case v1::ProductType::VEHICLE:
      return v1::Item::kVehicle;
    case v1::ProductType::HOME:
      return v1::Item::kHome;
    case v1::ProductType::EBIKE:
      return v1::Item::kEbike;
    default:
      return v1::Item::DETAILS_NOT_SET;
  }
}

const char* DetailsName(v1::Item::DetailsCase details) {
  return details == v1::Item::kVehicle ? "vehicle" : details == v1::Item::kHome ? "home" : "ebike";
}

// Checks that the item carries the details its product type needs (or ones it may carry, decision D19) and
// nothing else, and reads them.
void ValidateDetails(const v1::Item& item, const v1::ProductType& type, const std::string& at,
                     SeenInRequest& seen, Violations& violations, PricingItem& out) {
  const v1::Item::DetailsCase expected = DetailsCaseOf(type.details());
  const bool optional = item.details_case() != v1::Item::DETAILS_NOT_SET &&
                        item.details_case() == DetailsCaseOf(type.optional_details());
  if (item.details_case() != expected && !optional) {
    if (expected == v1::Item::DETAILS_NOT_SET) {
      violations.Add(at, "DETAILS_NOT_EXPECTED",
                     absl::StrCat(item.product_type(), " takes no ", DetailsName(item.details_case())));
    } else {
      const char* name = DetailsName(expected);
      violations.Add(absl::StrCat(at, ".", name), "FIELD_REQUIRED",
                     absl::StrCat(item.product_type(), " needs ", name));
    }
    return;
  }
  switch (item.details_case()) {
    case v1::Item::kVehicle:
      ValidateVehicle(item.vehicle(), at, seen, violations, out);
      break;
    case v1::Item::kHome:
      ValidateHome(item.home(), at + ".home", violations, out);
      break;
    case v1::Item::kEbike:
      out.ebike = {item.ebike().old_bike_surrendered(), item.ebike().new_bike_certified()};
      break;
    case v1::Item::DETAILS_NOT_SET:
      break;
  }
}

int32_t BestGrade(int32_t energy, int32_t water) {
  if (energy == 0) return water;
  if (water == 0) return energy;
  return std::min(energy, water);
}

void ValidateGrade(int32_t grade, const std::string& field, Violations& violations) {
  if (grade < 0 || grade > kMaxGrade) {
    violations.Add(field, "GRADE_OUT_OF_RANGE", "must be 1 (best) .. 5, or 0 for no label");
  }
}

PricingItem ValidateItem(const v1::Item& item, const std::string& at,
                         const policy::ProductCatalogue& catalogue, SeenInRequest& seen,
                         Violations& violations) {
  PricingItem out;
  if (violations.Text(item.line_id(), at + ".lineId", kMaxIdLength) &&
      !seen.line_ids.insert(item.line_id()).second) {
    violations.Add(at + ".lineId", "DUPLICATE_LINE_ID",
                   absl::StrCat("\"", item.line_id(), "\" is used twice"));
  }
  if (item.price_fen() < 1 || item.price_fen() > kMaxPriceFen) {
    violations.Add(at + ".priceFen", "PRICE_OUT_OF_RANGE",
                   absl::StrCat("must be 1 .. ", kMaxPriceFen, " fen"));
  }
  out.price_fen = item.price_fen();
  out.quantity = item.has_quantity() ? item.quantity() : 1;
  if (out.quantity < 1 || out.quantity > kMaxQuantity) {
    violations.Add(at + ".quantity", "QUANTITY_OUT_OF_RANGE", absl::StrCat("must be 1 .. ", kMaxQuantity));
  }
  ValidateGrade(item.energy_grade(), at + ".energyGrade", violations);
  ValidateGrade(item.water_grade(), at + ".waterGrade", violations);
  out.best_grade = BestGrade(item.energy_grade(), item.water_grade());
  if (!violations.Text(item.product_type(), at + ".productType", kMaxIdLength)) return out;
  const std::optional<policy::ProductTypeId> type = catalogue.Find(item.product_type());
  if (!type.has_value()) {
    violations.Add(at + ".productType", "UNKNOWN_PRODUCT_TYPE",
                   absl::StrCat("\"", item.product_type(), "\" is not a known product type"));
    return out;
  }
  out.product_type = *type;
  ValidateDetails(item, catalogue.Get(*type), at, seen, violations, out);
  return out;
}

absl::StatusOr<const policy::CompiledPolicy*> PinnedPolicy(const std::string& region_code,
                                                           const std::string& policy_id,
                                                           const PolicySnapshot& snapshot) {
  const policy::CompiledPolicy* pinned = snapshot.FindById(policy_id);
  if (pinned == nullptr) {
    return ReasonError(absl::StatusCode::kNotFound, "POLICY_NOT_FOUND",
                       absl::StrCat("policyId: no policy \"", policy_id, "\""));
  }
  if (!region_code.empty() && !PolicySnapshot::AppliesToRegion(*pinned, region_code)) {
    return InvalidArgumentError({{"policyId", "POLICY_NOT_FOR_REGION",
                                  absl::StrCat("policy ", policy_id, " is for region ", pinned->region_code(),
                                               ", not for ", region_code, " or its parents")}});
  }
  return pinned;
}

absl::StatusOr<const policy::CompiledPolicy*> PolicyInForce(const std::string& region_code,
                                                            absl::CivilDay day,
                                                            const PolicySnapshot& snapshot) {
  const policy::CompiledPolicy* selected = snapshot.Select(region_code, day);
  if (selected == nullptr) {
    return ReasonError(
        absl::StatusCode::kNotFound, "NO_POLICY_IN_FORCE",
        absl::StrCat("no policy is in force for region ", region_code, " on ", FormatCivilDay(day)));
  }
  return selected;
}

void ValidateRegion(const std::string& region_code, Violations& violations) {
  if (violations.Text(region_code, "regionCode", kMaxIdLength) && !policy::IsPointOfSaleRegion(region_code)) {
    violations.Add("regionCode", "REGION_CODE_INVALID", "must be a 6-digit GB/T 2260 code such as 330381");
  }
}

}  // namespace

absl::StatusOr<const policy::CompiledPolicy*> SelectPolicy(const std::string& region_code,
                                                           const std::string& transaction_date,
                                                           const std::string& policy_id,
                                                           const PolicySnapshot& snapshot) {
  Violations violations;
  if (policy_id.size() > kMaxIdLength)
    violations.Add("policyId", "FIELD_TOO_LONG", absl::StrCat("at most ", kMaxIdLength));
  if (!policy_id.empty()) {
    if (!region_code.empty()) ValidateRegion(region_code, violations);
    if (!violations.empty()) return violations.ToStatus();
    return PinnedPolicy(region_code, policy_id, snapshot);
  }
  ValidateRegion(region_code, violations);
  const std::optional<absl::CivilDay> day = violations.Date(transaction_date, "transactionDate");
  if (!violations.empty()) return violations.ToStatus();
  return PolicyInForce(region_code, *day, snapshot);
}

absl::StatusOr<Basket> PriceBasket(const BasketRequest& request, const PolicySnapshot& snapshot) {
  Violations violations;
  ValidateRegion(request.region_code, violations);
  const std::optional<absl::CivilDay> day = violations.Date(request.transaction_date, "transactionDate");
  if (request.policy_id.size() > kMaxIdLength) {
    violations.Add("policyId", "FIELD_TOO_LONG", absl::StrCat("at most ", kMaxIdLength, " bytes"));
  }
  if (request.items.empty()) violations.Add("items", "ITEMS_REQUIRED", "at least one item is required");
  if (request.items.size() > kMaxItems) {
    violations.Add("items", "TOO_MANY_ITEMS",
                   absl::StrCat(request.items.size(), " items; at most ", kMaxItems));
    return violations.ToStatus();
  }
  Basket basket;
  basket.catalogue = &snapshot.catalogue();
  basket.items.reserve(static_cast<size_t>(request.items.size()));
  SeenInRequest seen;
  for (int i = 0; i < request.items.size(); ++i) {
    basket.items.push_back(ValidateItem(request.items[i], absl::StrCat("items[", i, "]"),
                                        snapshot.catalogue(), seen, violations));
  }
  if (!violations.empty()) return violations.ToStatus();

  if (request.policy_id.empty()) {
    TRADEIN_ASSIGN_OR_RETURN(basket.policy, PolicyInForce(request.region_code, *day, snapshot));
  } else {
    TRADEIN_ASSIGN_OR_RETURN(basket.policy, PinnedPolicy(request.region_code, request.policy_id, snapshot));
  }
  basket.day = *day;
  basket.prices.reserve(basket.items.size());
  for (PricingItem& item : basket.items) {
    item.transaction_day = *day;
    basket.prices.push_back(pricing::PriceItem(item, *basket.policy));
    basket.total_subsidy_fen += basket.prices.back().line_subsidy_fen;
  }
  return basket;
}

void AddLedgerReason(pricing::ReasonCode code, v1::ItemResult& out) {
  const pricing::ReasonText text = pricing::DescribeLedgerReason(code);
  v1::Reason* reason = out.add_reasons();
  reason->set_code(std::string(pricing::ReasonName(code)));
  reason->set_message(text.message);
  reason->set_message_zh(text.message_zh);
}

void FillItemResult(const Basket& basket, size_t index, const v1::Item& source, v1::ItemResult& out) {
  const PricingItem& item = basket.items[index];
  const pricing::ItemPrice& price = basket.prices[index];
  out.set_line_id(source.line_id());
  out.set_product_type(source.product_type());
  const v1::ProductType& type = basket.catalogue->Get(item.product_type);
  out.set_product_name(type.name());
  out.set_product_name_zh(type.name_zh());
  out.set_quantity(item.quantity);
  out.set_price_fen(item.price_fen);
  out.set_eligible(price.eligible());
  out.set_subsidy_fen(price.line_subsidy_fen);
  out.set_unit_subsidy_fen(price.unit_subsidy_fen);
  if (price.rule != nullptr) out.set_rule_id(price.rule->id());
  out.set_rate_bp(price.rate_bp);
  out.set_cap_fen(price.cap_fen);
  out.set_capped(price.capped);
  price.reasons.ForEach([&](pricing::ReasonCode code) {
    const pricing::ReasonText text = pricing::DescribeReason(code, item, price, *basket.policy);
    v1::Reason* reason = out.add_reasons();
    reason->set_code(std::string(pricing::ReasonName(code)));
    reason->set_message(text.message);
    reason->set_message_zh(text.message_zh);
  });
  out.set_explanation(pricing::ExplainPrice(item, price, *basket.policy));
  out.set_explanation_zh(pricing::ExplainPriceZh(item, price, *basket.policy));
}

}  // namespace tradein::api
