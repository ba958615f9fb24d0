#include "services/pricing/calculator.h"

#include <algorithm>
#include <optional>

#include "common/money.h"
#include "tradein/v1/items.pb.h"

namespace tradein::pricing {
namespace {

using policy::CompiledPolicy;
using policy::CompiledRule;

bool Matches(const CompiledRule& rule, const PricingItem& item) {
  return (rule.trade_in_kind == 0 || rule.trade_in_kind == item.vehicle.trade_in_kind) &&
         (rule.new_energy_type == 0 || rule.new_energy_type == item.vehicle.new_energy_type);
}

const CompiledRule* FindRule(const PricingItem& item, const CompiledPolicy& policy) {
  for (uint16_t index : policy.RulesFor(item.product_type)) {
    const CompiledRule& rule = policy.rules()[index];
    if (Matches(rule, item)) return &rule;
  }
  return nullptr;
}

void CheckVehicle(const CompiledRule& rule, const VehicleFacts& car, ReasonSet& reasons) {
  const auto fuel = static_cast<size_t>(car.old_fuel_type);
  if (fuel < rule.registered_on_or_before.size() && rule.registered_on_or_before[fuel].has_value() &&
      car.old_registered_on > *rule.registered_on_or_before[fuel]) {
    reasons.Add(ReasonCode::kOldVehicleTooNew);
  }
  if (rule.owned_since_on_or_before.has_value() && car.old_owned_since > *rule.owned_since_on_or_before) {
    reasons.Add(ReasonCode::kOwnershipTooRecent);
  }
  if (rule.max_displacement_ml.has_value() && car.new_displacement_ml > *rule.max_displacement_ml) {
    reasons.Add(ReasonCode::kDisplacementTooLarge);
  }
  if (rule.require_nev_catalogue && !car.new_in_nev_catalogue) reasons.Add(ReasonCode::kNotInNevCatalogue);
  if (rule.allowed_old_fuels != 0 && (rule.allowed_old_fuels & policy::FuelBit(car.old_fuel_type)) == 0) {
    reasons.Add(ReasonCode::kFuelPairingNotAllowed);
  }
}

void CheckEligibility(const CompiledRule& rule, const PricingItem& item, const CompiledPolicy& policy,
                      ReasonSet& reasons) {
  const absl::CivilDay day = item.transaction_day;
  if (!policy.transaction_window().Contains(day) ||
      (rule.transaction_window.has_value() && !rule.transaction_window->Contains(day))) {
    reasons.Add(ReasonCode::kOutsideProgrammeWindow);
  }
  if (rule.min_price_fen.has_value() && item.price_fen < *rule.min_price_fen) {
    reasons.Add(ReasonCode::kPriceBelowMinimum);
  }
  if (rule.max_price_fen.has_value() && item.price_fen > *rule.max_price_fen) {
    reasons.Add(ReasonCode::kPriceAboveCeiling);
  }
  CheckVehicle(rule, item.vehicle, reasons);
  if (rule.home_completed_before.has_value() && item.home.completed_on >= *rule.home_completed_before) {
    reasons.Add(ReasonCode::kHomeTooNew);
  }
  if (rule.require_old_bike && !item.ebike.old_bike_surrendered) reasons.Add(ReasonCode::kOldBikeRequired);
  if (rule.require_new_bike_certified && !item.ebike.new_bike_certified) {
    reasons.Add(ReasonCode::kNewBikeNotCertified);
  }
}

// The percentage rate for the item's grade, or std::nullopt (GRADE_NOT_ELIGIBLE).
std::optional<int32_t> RateFor(const CompiledRule& rule, const PricingItem& item) {
  if (item.best_grade > 0) {
    for (const CompiledRule::GradeRate& g : rule.grade_rates) {
      if (item.best_grade <= g.max_grade) return g.rate_bp;
    }
  } else if (rule.ungraded_rate_bp.has_value() &&
             std::find(rule.ungraded_types.begin(), rule.ungraded_types.end(), item.product_type) !=
                 rule.ungraded_types.end()) {
    return rule.ungraded_rate_bp;
  }
  return rule.other_rate_bp;
}

// Fills the amount fields of `price`; adds a reason when the amount rule itself refuses the item.
void ComputeUnitAmount(const CompiledRule& rule, const PricingItem& item, RoundingRule rounding,
                       ItemPrice& price) {
  switch (rule.amount_kind) {
    case CompiledRule::AmountKind::kPercentage: {
      const std::optional<int32_t> rate = RateFor(rule, item);
      price.cap_fen = rule.cap_fen.value_or(0);
      if (!rate.has_value()) {
        price.reasons.Add(ReasonCode::kGradeNotEligible);
        return;
      }
      price.rate_bp = *rate;
      // Prices are validated ≤ 10^10 fen and rates ≤ 10^4 bp, so this cannot overflow; 0 is the safe answer.
      price.uncapped_unit_fen = PercentOf(item.price_fen, *rate, rounding).value_or(0);
      price.capped = rule.cap_fen.has_value() && price.uncapped_unit_fen > *rule.cap_fen;
      price.unit_subsidy_fen = price.capped ? *rule.cap_fen : price.uncapped_unit_fen;
      return;
    }
    case CompiledRule::AmountKind::kFlat:
      price.uncapped_unit_fen = price.unit_subsidy_fen = rule.flat_fen;
      return;
    case CompiledRule::AmountKind::kTiers: {
      const auto above = std::upper_bound(
          rule.tiers.begin(), rule.tiers.end(), item.price_fen,
          [](int64_t price_fen, const CompiledRule::Tier& tier) { return price_fen < tier.min_price_fen; });
      if (above == rule.tiers.begin()) {
        price.reasons.Add(ReasonCode::kPriceBelowMinimum);
        return;
      }
      price.uncapped_unit_fen = price.unit_subsidy_fen = std::prev(above)->amount_fen;
      return;
    }
  }
}

}  // namespace

ItemPrice PriceItem(const PricingItem& item, const CompiledPolicy& policy) {
  ItemPrice price;
  price.rule = FindRule(item, policy);
  if (price.rule == nullptr) {
    price.reasons.Add(ReasonCode::kNotCovered);
    return price;
  }
  CheckEligibility(*price.rule, item, policy, price.reasons);
  ComputeUnitAmount(*price.rule, item, policy.rounding(), price);
  if (!price.eligible()) {
    price.unit_subsidy_fen = 0;
    return price;
  }
  price.line_subsidy_fen = CheckedMul(price.unit_subsidy_fen, item.quantity).value_or(0);
  return price;
}

}  // namespace tradein::pricing
