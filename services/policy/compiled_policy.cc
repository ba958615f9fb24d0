#include "services/policy/compiled_policy.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/civil_date.h"
#include "common/status.h"

namespace tradein::policy {
namespace {

absl::StatusOr<absl::CivilDay> Day(const std::string& text, absl::string_view what) {
  std::optional<absl::CivilDay> day = ParseCivilDay(text);
  if (!day.has_value()) return absl::InternalError(absl::StrCat(what, ": \"", text, "\" is not a date"));
  return *day;
}

absl::StatusOr<DayWindow> Window(const v1::DateWindow& window, absl::string_view what) {
  TRADEIN_ASSIGN_OR_RETURN(absl::CivilDay first, Day(window.first_day(), what));
  TRADEIN_ASSIGN_OR_RETURN(absl::CivilDay last, Day(window.last_day(), what));
  return DayWindow{first, last};
}

absl::StatusOr<ProductTypeId> TypeId(const std::string& code, const ProductCatalogue& catalogue) {
  std::optional<ProductTypeId> id = catalogue.Find(code);
  if (!id.has_value()) return absl::InternalError(absl::StrCat("unknown product type ", code));
  return *id;
}

absl::StatusOr<std::vector<bool>> TypeBitmap(const google::protobuf::RepeatedPtrField<std::string>& codes,
                                             const ProductCatalogue& catalogue) {
  std::vector<bool> bitmap(catalogue.size(), false);
  for (const std::string& code : codes) {
    TRADEIN_ASSIGN_OR_RETURN(ProductTypeId id, TypeId(code, catalogue));
    bitmap[id] = true;
  }
  return bitmap;
}

std::vector<bool> RuleBitmap(const google::protobuf::RepeatedPtrField<std::string>& rule_ids,
                             const std::vector<CompiledRule>& rules) {
  std::vector<bool> bitmap(rules.size(), false);
  for (const CompiledRule& rule : rules) {
    const bool member = std::find(rule_ids.begin(), rule_ids.end(), rule.id()) != rule_ids.end();
    bitmap[static_cast<size_t>(rule.index)] = member;
  }
  return bitmap;
}

bool Member(const std::vector<bool>& types, const std::vector<bool>& rules, ProductTypeId type,
            int rule_index) {
  return types[type] || (rule_index >= 0 && rules[static_cast<size_t>(rule_index)]);
}

absl::Status CompileVehicleConditions(const v1::VehicleConditions& v, CompiledRule& out) {
  for (const v1::RegistrationCutoff& cutoff : v.old_registered_on_or_before()) {
    TRADEIN_ASSIGN_OR_RETURN(absl::CivilDay last, Day(cutoff.last_day(), "old_registered_on_or_before"));
    for (int fuel : cutoff.old_fuel_types()) out.registered_on_or_before.at(static_cast<size_t>(fuel)) = last;
  }
  if (v.has_old_owned_since_on_or_before()) {
    TRADEIN_ASSIGN_OR_RETURN(out.owned_since_on_or_before,
                             Day(v.old_owned_since_on_or_before().day(), "old_owned_since_on_or_before"));
  }
  if (v.has_new_displacement()) out.max_displacement_ml = v.new_displacement().max_ml();
  out.require_nev_catalogue = v.new_in_nev_catalogue().required();
  for (int fuel : v.allowed_old_fuel_types().old_fuel_types()) out.allowed_old_fuels |= FuelBit(fuel);
  return absl::OkStatus();
}

absl::Status CompileEligibility(const v1::Eligibility& e, CompiledRule& out) {
  if (e.has_min_price()) out.min_price_fen = e.min_price().fen();
  if (e.has_max_price()) out.max_price_fen = e.max_price().fen();
  TRADEIN_RETURN_IF_ERROR(CompileVehicleConditions(e.vehicle(), out));
  if (e.has_home()) {
    TRADEIN_ASSIGN_OR_RETURN(out.home_completed_before,
                             Day(e.home().completed_before().day(), "completed_before"));
  }
  out.require_old_bike = e.ebike().old_bike_surrendered().required();
  out.require_new_bike_certified = e.ebike().new_bike_certified().required();
  return absl::OkStatus();
}

absl::Status CompileAmount(const v1::Rule& rule, const ProductCatalogue& catalogue, CompiledRule& out) {
  switch (rule.amount_case()) {
    case v1::Rule::kPercentage: {
      const v1::Percentage& p = rule.percentage();
      out.amount_kind = CompiledRule::AmountKind::kPercentage;
      for (const v1::GradeRate& g : p.grade_rates()) out.grade_rates.push_back({g.max_grade(), g.rate_bp()});
      if (p.has_other_rate()) out.other_rate_bp = p.other_rate().bp();
      if (p.has_ungraded()) {
        out.ungraded_rate_bp = p.ungraded().rate_bp();
        for (const std::string& code : p.ungraded().product_types()) {
          TRADEIN_ASSIGN_OR_RETURN(ProductTypeId id, TypeId(code, catalogue));
          out.ungraded_types.push_back(id);
        }
      }
      if (p.has_cap()) out.cap_fen = p.cap().fen();
      return absl::OkStatus();
    }
    case v1::Rule::kFlat:
      out.amount_kind = CompiledRule::AmountKind::kFlat;
      out.flat_fen = rule.flat().amount_fen();
      return absl::OkStatus();
    case v1::Rule::kTiers:
      out.amount_kind = CompiledRule::AmountKind::kTiers;
      for (const v1::PriceTier& t : rule.tiers().tiers())
        out.tiers.push_back({t.min_price_fen(), t.amount_fen()});
      return absl::OkStatus();
    case v1::Rule::AMOUNT_NOT_SET:
      break;
  }
  return absl::InternalError(absl::StrCat("rule ", rule.id(), " has no amount"));
}

absl::StatusOr<CompiledRule> CompileRule(const v1::Rule& rule, int index, DayWindow policy_claim_window,
                                         const ProductCatalogue& catalogue) {
  CompiledRule out;
  out.source = &rule;
  out.index = index;
  out.trade_in_kind = rule.trade_in_kind();
  out.new_energy_type = rule.new_energy_type();
  if (rule.has_transaction_window()) {
    TRADEIN_ASSIGN_OR_RETURN(out.transaction_window, Window(rule.transaction_window(), "transaction_window"));
  }
  out.claim_window = policy_claim_window;
  if (rule.has_claim_window()) {
    TRADEIN_ASSIGN_OR_RETURN(out.claim_window, Window(rule.claim_window(), "claim_window"));
  }
  TRADEIN_RETURN_IF_ERROR(CompileEligibility(rule.eligibility(), out));
  TRADEIN_RETURN_IF_ERROR(CompileAmount(rule, catalogue, out));
  return out;
}

absl::StatusOr<CompiledQuota> CompileQuota(const v1::Quota& quota, const std::string& programme,
                                           const std::vector<CompiledRule>& rules,
                                           const ProductCatalogue& catalogue) {
  CompiledQuota out;
  out.source = &quota;
  out.programme = quota.programme().empty() ? programme : quota.programme();
  out.counted_before_in.assign(quota.counted_before_in().begin(), quota.counted_before_in().end());
  out.per_product_type = quota.per_product_type();
  if (quota.has_max_units()) out.max_units = quota.max_units();
  for (const v1::UnitLimitOverride& o : quota.unit_overrides()) {
    TRADEIN_ASSIGN_OR_RETURN(ProductTypeId id, TypeId(o.product_type(), catalogue));
    out.unit_overrides.emplace_back(id, o.max_units());
  }
  for (const v1::CountsAs& alias : quota.counts_as()) {
    TRADEIN_ASSIGN_OR_RETURN(ProductTypeId type, TypeId(alias.product_type(), catalogue));
    TRADEIN_ASSIGN_OR_RETURN(ProductTypeId as, TypeId(alias.as_product_type(), catalogue));
    out.counts_as.emplace_back(type, as);
  }
  if (quota.has_max_amount()) out.max_amount_fen = quota.max_amount().fen();
  out.once_per_home = quota.once_per_home();
  out.once_per_old_vehicle = quota.once_per_old_vehicle();
  out.once_per_new_vehicle = quota.once_per_new_vehicle().required();
  if (quota.has_per_calendar_year()) out.calendar_year_max_units = quota.per_calendar_year().max_units();
  TRADEIN_ASSIGN_OR_RETURN(out.member_types, TypeBitmap(quota.product_types(), catalogue));
  out.member_rules = RuleBitmap(quota.rule_ids(), rules);
  return out;
}

absl::StatusOr<CompiledBudget> CompileBudget(const v1::Budget& budget, const std::string& programme,
                                             const std::vector<CompiledRule>& rules,
                                             const ProductCatalogue& catalogue) {
  CompiledBudget out;
  out.source = &budget;
  out.programme = programme;
  out.total_fen = budget.total_fen();
  if (budget.product_types().empty() && budget.rule_ids().empty()) {
    out.member_types.assign(catalogue.size(), true);
    out.member_rules.assign(rules.size(), true);
    return out;
  }
  TRADEIN_ASSIGN_OR_RETURN(out.member_types, TypeBitmap(budget.product_types(), catalogue));
  out.member_rules = RuleBitmap(budget.rule_ids(), rules);
  return out;
}

}  // namespace

bool CompiledQuota::Covers(ProductTypeId type, int rule_index) const {
  return Member(member_types, member_rules, type, rule_index);
}

std::optional<int32_t> CompiledQuota::UnitLimit(ProductTypeId type) const {
  for (const auto& [override_type, limit] : unit_overrides) {
    if (override_type == type) return limit;
  }
  return max_units;
}

ProductTypeId CompiledQuota::CounterType(ProductTypeId type) const {
  for (const auto& [from, as] : counts_as) {
    if (from == type) return as;
  }
  return type;
}

bool CompiledBudget::Covers(ProductTypeId type, int rule_index) const {
  return Member(member_types, member_rules, type, rule_index);
}

absl::StatusOr<std::unique_ptr<CompiledPolicy>> CompiledPolicy::Compile(v1::Policy merged,
                                                                        const ProductCatalogue& catalogue) {
  std::unique_ptr<CompiledPolicy> out(new CompiledPolicy());
  out->proto_ = std::move(merged);
  const v1::Policy& p = out->proto_;
  TRADEIN_ASSIGN_OR_RETURN(out->transaction_window_, Window(p.transaction_window(), "transaction_window"));
  out->claim_window_ = out->transaction_window_;
  if (p.has_claim_window()) {
    TRADEIN_ASSIGN_OR_RETURN(out->claim_window_, Window(p.claim_window(), "claim_window"));
  }
  out->rounding_.unit =
      p.rounding().unit() == v1::Rounding::YUAN ? RoundingRule::Unit::kYuan : RoundingRule::Unit::kFen;
  out->rounding_.mode =
      p.rounding().mode() == v1::Rounding::HALF_UP ? RoundingRule::Mode::kHalfUp : RoundingRule::Mode::kFloor;
  out->hold_ = absl::Seconds(p.hold().seconds());

  out->rules_by_type_.resize(catalogue.size());
  for (int i = 0; i < p.rules_size(); ++i) {
    TRADEIN_ASSIGN_OR_RETURN(CompiledRule rule, CompileRule(p.rules(i), i, out->claim_window_, catalogue));
    for (const std::string& code : p.rules(i).product_types()) {
      TRADEIN_ASSIGN_OR_RETURN(ProductTypeId id, TypeId(code, catalogue));
      out->rules_by_type_[id].push_back(static_cast<uint16_t>(i));
    }
    out->rules_.push_back(std::move(rule));
  }
  for (const v1::Quota& quota : p.quotas()) {
    TRADEIN_ASSIGN_OR_RETURN(CompiledQuota q, CompileQuota(quota, p.programme(), out->rules_, catalogue));
    out->requires_new_vin_ = out->requires_new_vin_ || q.once_per_new_vehicle;
    out->quotas_.push_back(std::move(q));
  }
  for (const v1::Budget& budget : p.budgets()) {
    TRADEIN_ASSIGN_OR_RETURN(CompiledBudget b, CompileBudget(budget, p.programme(), out->rules_, catalogue));
    out->budgets_.push_back(std::move(b));
  }
  return out;
}

}  // namespace tradein::policy
