#include "services/pricing/explanation.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/civil_date.h"
#include "common/money.h"
#include "tradein/v1/items.pb.h"

namespace tradein::pricing {
namespace {

using policy::CompiledPolicy;
using policy::CompiledRule;

std::string AmountPart(const PricingItem& item, const ItemPrice& price) {
  const CompiledRule& rule = *price.rule;
  switch (rule.amount_kind) {
    case CompiledRule::AmountKind::kPercentage: {
      if (price.rate_bp == 0 && price.reasons.Contains(ReasonCode::kGradeNotEligible)) return "";
      std::string out = absl::StrCat(FormatYuan(item.price_fen), " × ", FormatRate(price.rate_bp), " = ",
                                     FormatYuan(price.uncapped_unit_fen));
      if (!rule.cap_fen.has_value()) return absl::StrCat(out, "; no per-unit cap");
      if (price.capped) return absl::StrCat(out, "; capped at ", FormatYuan(*rule.cap_fen));
      return absl::StrCat(out, "; cap ", FormatYuan(*rule.cap_fen),
                          price.uncapped_unit_fen == *rule.cap_fen ? " reached" : " not reached");
    }
    case CompiledRule::AmountKind::kFlat:
      return absl::StrCat("flat ", FormatYuan(rule.flat_fen));
    case CompiledRule::AmountKind::kTiers: {
      if (price.reasons.Contains(ReasonCode::kPriceBelowMinimum)) {
        return absl::StrCat("price ", FormatYuan(item.price_fen), " is below the lowest tier ",
                            FormatYuan(rule.tiers.front().min_price_fen));
      }
      const CompiledRule::Tier* tier = &rule.tiers.front();
      for (const CompiledRule::Tier& t : rule.tiers) {
        if (t.min_price_fen <= item.price_fen) tier = &t;
      }
      return absl::StrCat("price ", FormatYuan(item.price_fen), " in the tier from ",
                          FormatYuan(tier->min_price_fen), ": ", FormatYuan(tier->amount_fen));
    }
  }
  return "";
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

}  // namespace

std::string ExplainPrice(const PricingItem& item, const ItemPrice& price, const CompiledPolicy& policy) {
  if (price.rule == nullptr) return absl::StrCat("not covered by policy ", policy.id());
  const std::string amount = AmountPart(item, price);
  if (!price.eligible()) {
    return absl::StrCat("not eligible (", ReasonNames(price.reasons), ")", amount.empty() ? "" : ": ",
                        amount);
  }
  if (item.quantity == 1) return amount;
  return absl::StrCat(amount, "; × ", item.quantity, " units = ", FormatYuan(price.line_subsidy_fen));
}

ReasonText DescribeReason(ReasonCode code, const PricingItem& item, const ItemPrice& price,
                          const CompiledPolicy& policy) {
  const CompiledRule* rule = price.rule;
  switch (code) {
    case ReasonCode::kNotCovered:
      return {absl::StrCat("policy ", policy.id(), " does not subsidise this product type"),
              "本政策不补贴该品类"};
    case ReasonCode::kOutsideProgrammeWindow: {
      const policy::DayWindow w = rule->transaction_window.value_or(policy.transaction_window());
      return {absl::StrCat("transaction date ", FormatCivilDay(item.transaction_day), " is outside ",
                           FormatCivilDay(w.first), " .. ", FormatCivilDay(w.last)),
              "交易日期不在活动期内"};
    }
    case ReasonCode::kGradeNotEligible:
      return {
          item.best_grade == 0
              ? absl::StrCat("no efficiency label: this product type needs ", GradeRequirement(*rule))
              : absl::StrCat("grade ", item.best_grade, " is not eligible: needs ", GradeRequirement(*rule)),
          "能效或水效等级不符合补贴条件"};
    case ReasonCode::kPriceAboveCeiling:
      return {absl::StrCat("unit price ", FormatYuan(item.price_fen), " is above the ceiling ",
                           FormatYuan(rule->max_price_fen.value_or(0))),
              "单件售价超过补贴限价"};
    case ReasonCode::kPriceBelowMinimum: {
      const int64_t minimum = rule->min_price_fen.has_value() ? *rule->min_price_fen
                              : rule->tiers.empty()           ? 0
                                                              : rule->tiers.front().min_price_fen;
      return {absl::StrCat("unit price ", FormatYuan(item.price_fen), " is below the minimum ",
                           FormatYuan(minimum)),
              "售价低于补贴最低标准"};
    }
    case ReasonCode::kOldVehicleTooNew:
      return {
          absl::StrCat(
              "old car first registered ", FormatCivilDay(item.vehicle.old_registered_on),
              ", after the cut-off ",
              FormatCivilDay(*rule->registered_on_or_before[static_cast<size_t>(item.vehicle.old_fuel_type)]),
              " for ", OldFuelName(item.vehicle.old_fuel_type)),
          "旧车注册登记日期晚于规定日期"};
    case ReasonCode::kOwnershipTooRecent:
      return {absl::StrCat("old car in the buyer's name since ", FormatCivilDay(item.vehicle.old_owned_since),
                           ", after ", FormatCivilDay(*rule->owned_since_on_or_before)),
              "旧车登记在本人名下的时间晚于规定日期"};
    case ReasonCode::kDisplacementTooLarge:
      return {absl::StrCat("new car's displacement ", item.vehicle.new_displacement_ml, " ml is above ",
                           *rule->max_displacement_ml, " ml"),
              "新车排量超过规定上限"};
    case ReasonCode::kNotInNevCatalogue:
      return {"the new car is not in the NEV purchase-tax exemption catalogue",
              "新车不在《减免车辆购置税的新能源汽车车型目录》内"};
    case ReasonCode::kFuelPairingNotAllowed:
      return {absl::StrCat("an old ", OldFuelName(item.vehicle.old_fuel_type),
                           " car does not qualify for this new car under rule ", rule->id()),
              "旧车与新车的燃料类型组合不符合规定"};
    case ReasonCode::kHomeTooNew:
      return {absl::StrCat("home completed ", FormatCivilDay(item.home.completed_on), ", not before ",
                           FormatCivilDay(*rule->home_completed_before)),
              "房屋竣工验收时间不符合旧房条件"};
    case ReasonCode::kOldBikeRequired:
      return {"an old e-bike must be handed in for scrapping", "须交售旧电动自行车"};
    case ReasonCode::kNewBikeNotCertified:
      return {"the new e-bike needs its certificate of conformity and CCC certification",
              "新车须具备合格证和CCC认证"};
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
  switch (code) {
    case ReasonCode::kClaimWindowClosed:
      return {"the rule's claim window is not open today", "不在补贴申领期内"};
    case ReasonCode::kQuotaExhausted:
      return {"the buyer has no quota left for this product type", "该品类补贴名额已用完"};
    case ReasonCode::kHomeAlreadyUsed:
      return {"this home has already been subsidised in this programme", "该房屋已享受过补贴"};
    case ReasonCode::kVehicleAlreadyUsed:
      return {"this old car has already been used for a subsidy in this programme", "该旧车已用于申领补贴"};
    case ReasonCode::kAmountCapReached:
      return {"granted only the rest of the buyer's cumulative cap", "已达累计补贴上限，仅补贴剩余额度"};
    case ReasonCode::kBudgetExhausted:
      return {"the programme's budget is used up", "补贴资金已用完"};
    case ReasonCode::kSerialAlreadySubsidised:
      return {"this unit's serial number has already been subsidised", "该商品序列号已享受过补贴"};
    case ReasonCode::kNewVehicleAlreadySubsidised:
      return {
          "this new car (its VIN) has already taken a car subsidy: one per new car, scrappage or replacement",
          "该新车(车架号)已享受过汽车以旧换新补贴，每辆新车只能享受报废更新或置换更新补贴中的一项"};
    default:
      return {std::string(ReasonName(code)), std::string(ReasonName(code))};
  }
}

}  // namespace tradein::pricing
