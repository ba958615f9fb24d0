#include "services/pricing/explanation.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/civil_date.h"
#include "common/money.h"
#include "common/reasons.h"
#include "tradein/v1/items.pb.h"

namespace tradein::pricing {
namespace {

using policy::CompiledPolicy;
using policy::CompiledRule;

// The words of an explanation in one language; AmountPart and ExplainIn fill them in.
struct Phrases {
  absl::string_view no_cap;            // "; no per-unit cap"
  absl::string_view capped_at;         // "; capped at "
  absl::string_view cap;               // "; cap "
  absl::string_view cap_reached;       // " reached"
  absl::string_view cap_not_reached;   // " not reached"
  absl::string_view flat;              // "flat "
  absl::string_view price;             // "price "
  absl::string_view below_lowest;      // " is below the lowest tier "
  absl::string_view in_tier_from;      // " in the tier from "
  absl::string_view tier_amount;       // ": "
  absl::string_view not_covered;       // "not covered by policy "
  absl::string_view not_eligible;      // "not eligible ("
  absl::string_view not_eligible_end;  // ")"
  absl::string_view units;             // " units = "
  absl::string_view separator;         // "; "
  absl::string_view colon;             // ": "
};

constexpr Phrases kEnglish = {"; no per-unit cap",
                              "; capped at ",
                              "; cap ",
                              " reached",
                              " not reached",
                              "flat ",
                              "price ",
                              " is below the lowest tier ",
                              " in the tier from ",
                              ": ",
                              "not covered by policy ",
                              "not eligible (",
                              ")",
                              " units = ",
                              "; ",
                              ": "};
constexpr Phrases kChinese = {"；无单件上限",
                              "；按单件上限 ",
                              "；单件上限 ",
                              " 已达到",
                              " 未达到",
                              "定额 ",
                              "售价 ",
                              " 低于最低档 ",
                              " 属于起点为 ",
                              " 的档位：",
                              "不在补贴政策范围内：",
                              "不符合补贴条件（",
                              "）",
                              " 件 = ",
                              "；",
                              "："};

std::string AmountPart(const PricingItem& item, const ItemPrice& price, const Phrases& words) {
  const CompiledRule& rule = *price.rule;
  switch (rule.amount_kind) {
    case CompiledRule::AmountKind::kPercentage: {
      if (price.rate_bp == 0 && price.reasons.Contains(ReasonCode::kGradeNotEligible)) return "";
      std::string out = absl::StrCat(FormatYuan(item.price_fen), " × ", FormatRate(price.rate_bp), " = ",
                                     FormatYuan(price.uncapped_unit_fen));
      if (!rule.cap_fen.has_value()) return absl::StrCat(out, words.no_cap);
      if (price.capped) return absl::StrCat(out, words.capped_at, FormatYuan(*rule.cap_fen));
      return absl::StrCat(
          out, words.cap, FormatYuan(*rule.cap_fen),
          price.uncapped_unit_fen == *rule.cap_fen ? words.cap_reached : words.cap_not_reached);
    }
    case CompiledRule::AmountKind::kFlat:
      return absl::StrCat(words.flat, FormatYuan(rule.flat_fen));
    case CompiledRule::AmountKind::kTiers: {
      if (price.reasons.Contains(ReasonCode::kPriceBelowMinimum)) {
        return absl::StrCat(words.price, FormatYuan(item.price_fen), words.below_lowest,
                            FormatYuan(rule.tiers.front().min_price_fen));
      }
      const CompiledRule::Tier* tier = &rule.tiers.front();
      for (const CompiledRule::Tier& t : rule.tiers) {
        if (t.min_price_fen <= item.price_fen) tier = &t;
      }
      return absl::StrCat(words.price, FormatYuan(item.price_fen), words.in_tier_from,
                          FormatYuan(tier->min_price_fen), words.tier_amount, FormatYuan(tier->amount_fen));
    }
  }
  return "";
}

// The catalogue's Chinese text of `code` (common/reasons.h, the one source of reason texts).
std::string Zh(ReasonCode code) {
  const Reason* reason = FindReason(ReasonName(code));
  return reason == nullptr ? std::string(ReasonName(code)) : std::string(reason->message_zh);
}

std::string ReasonNames(const ReasonSet& reasons) {
  std::string out;
  reasons.ForEach(
      [&out](ReasonCode code) { absl::StrAppend(&out, out.empty() ? "" : ", ", ReasonName(code)); });
  return out;
}

std::string OldFuelName(int fuel) {
  return v1::Vehicle::OldFuelType::Value_Name(static_cast<v1::Vehicle::OldFuelType::Value>(fuel));
}

std::string GradeRequirement(const CompiledRule& rule) {
  if (rule.grade_rates.empty()) return "no grade qualifies";
  return absl::StrCat("grade ", rule.grade_rates.back().max_grade, " or better");
}

std::string ExplainIn(const PricingItem& item, const ItemPrice& price, const CompiledPolicy& policy,
                      const Phrases& words) {
  if (price.rule == nullptr) return absl::StrCat(words.not_covered, policy.id());
  const std::string amount = AmountPart(item, price, words);
  if (!price.eligible()) {
    return absl::StrCat(words.not_eligible, ReasonNames(price.reasons), words.not_eligible_end,
                        amount.empty() ? "" : words.colon, amount);
  }
  if (item.quantity == 1) return amount;
  return absl::StrCat(amount, words.separator, "× ", item.quantity, words.units,
                      FormatYuan(price.line_subsidy_fen));
}

}  // namespace

std::string ExplainPrice(const PricingItem& item, const ItemPrice& price, const CompiledPolicy& policy) {
  return ExplainIn(item, price, policy, kEnglish);
}

std::string ExplainPriceZh(const PricingItem& item, const ItemPrice& price, const CompiledPolicy& policy) {
  return ExplainIn(item, price, policy, kChinese);
}

ReasonText DescribeReason(ReasonCode code, const PricingItem& item, const ItemPrice& price,
                          const CompiledPolicy& policy) {
  const CompiledRule* rule = price.rule;
  switch (code) {
    case ReasonCode::kNotCovered:
      return {absl::StrCat("policy ", policy.id(), " does not subsidise this product type"), Zh(code)};
    case ReasonCode::kOutsideProgrammeWindow: {
      const policy::DayWindow w = rule->transaction_window.value_or(policy.transaction_window());
      return {absl::StrCat("transaction date ", FormatCivilDay(item.transaction_day), " is outside ",
                           FormatCivilDay(w.first), " .. ", FormatCivilDay(w.last)),
              Zh(code)};
    }
    case ReasonCode::kGradeNotEligible:
      return {
          item.best_grade == 0
              ? absl::StrCat("no efficiency label: this product type needs ", GradeRequirement(*rule))
              : absl::StrCat("grade ", item.best_grade, " is not eligible: needs ", GradeRequirement(*rule)),
          Zh(code)};
    case ReasonCode::kPriceAboveCeiling:
      return {absl::StrCat("unit price ", FormatYuan(item.price_fen), " is above the ceiling ",
                           FormatYuan(rule->max_price_fen.value_or(0))),
              Zh(code)};
    case ReasonCode::kPriceBelowMinimum: {
      const int64_t minimum = rule->min_price_fen.has_value() ? *rule->min_price_fen
                              : rule->tiers.empty()           ? 0
                                                              : rule->tiers.front().min_price_fen;
      return {absl::StrCat("unit price ", FormatYuan(item.price_fen), " is below the minimum ",
                           FormatYuan(minimum)),
              Zh(code)};
    }
    case ReasonCode::kOldVehicleTooNew:
      return {
          absl::StrCat(
              "old car first registered ", FormatCivilDay(item.vehicle.old_registered_on),
              ", after the cut-off ",
              FormatCivilDay(*rule->registered_on_or_before[static_cast<size_t>(item.vehicle.old_fuel_type)]),
              " for ", OldFuelName(item.vehicle.old_fuel_type)),
          Zh(code)};
    case ReasonCode::kOwnershipTooRecent:
      return {absl::StrCat("old car in the buyer's name since ", FormatCivilDay(item.vehicle.old_owned_since),
                           ", after ", FormatCivilDay(*rule->owned_since_on_or_before)),
              Zh(code)};
    case ReasonCode::kDisplacementTooLarge:
      return {absl::StrCat("new car's displacement ", item.vehicle.new_displacement_ml, " ml is above ",
                           *rule->max_displacement_ml, " ml"),
              Zh(code)};
    case ReasonCode::kNotInNevCatalogue:
      return {"the new car is not in the NEV purchase-tax exemption catalogue", Zh(code)};
    case ReasonCode::kFuelPairingNotAllowed:
      return {absl::StrCat("an old ", OldFuelName(item.vehicle.old_fuel_type),
                           " car does not qualify for this new car under rule ", rule->id()),
              Zh(code)};
    case ReasonCode::kHomeTooNew:
      return {absl::StrCat("home completed ", FormatCivilDay(item.home.completed_on), ", not before ",
                           FormatCivilDay(*rule->home_completed_before)),
              Zh(code)};
    case ReasonCode::kOldBikeRequired:
      return {"an old e-bike must be handed in for scrapping", Zh(code)};
    case ReasonCode::kNewBikeNotCertified:
      return {"the new e-bike needs its certificate of conformity and CCC certification", Zh(code)};
    case ReasonCode::kClaimWindowClosed:
    case ReasonCode::kQuotaExhausted:
    case ReasonCode::kHomeAlreadyUsed:
    case ReasonCode::kVehicleAlreadyUsed:
    case ReasonCode::kAmountCapReached:
    case ReasonCode::kBudgetExhausted:
    case ReasonCode::kSerialAlreadySubsidised:
    case ReasonCode::kNewVehicleAlreadySubsidised:
      return DescribeLedgerReason(code);
    case ReasonCode::kCount:
      break;
  }
  return {std::string(ReasonName(code)), std::string(ReasonName(code))};
}

ReasonText DescribeLedgerReason(ReasonCode code) {
  const Reason* reason = FindReason(ReasonName(code));
  if (reason == nullptr) return {std::string(ReasonName(code)), std::string(ReasonName(code))};
  return {std::string(reason->message), std::string(reason->message_zh)};
}

}  // namespace tradein::pricing
