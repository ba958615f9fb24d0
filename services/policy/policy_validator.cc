#include "services/policy/policy_validator.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/civil_date.h"
#include "common/money.h"
#include "services/policy/region.h"

namespace tradein::policy {
namespace {

constexpr int kMaxGrade = 5;
constexpr int32_t kMaxHoldSeconds = 7 * 24 * 60 * 60;

using google::protobuf::RepeatedPtrField;

bool IsIdentifier(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Collects the problems of one file, locating each field path in its text.
class Checker {
 public:
  Checker(const PolicyFile& file, std::vector<PolicyProblem>& problems) : file_(file), problems_(problems) {}

  void Fail(const FieldPath& path, absl::string_view message) {
    problems_.push_back({file_.path, file_.LineOf(path), path.ToString(), std::string(message)});
  }
  bool Expect(bool ok, const FieldPath& path, absl::string_view message) {
    if (!ok) Fail(path, message);
    return ok;
  }

  void Ref(const v1::LegalReference& ref, bool present, const FieldPath& path) {
    Expect(!present || !ref.document().empty(), path.Then("ref").Then("document"),
           "every number needs its legal reference (ref.document)");
  }

  std::optional<absl::CivilDay> Day(const std::string& text, const FieldPath& path) {
    std::optional<absl::CivilDay> day = ParseCivilDay(text);
    Expect(day.has_value(), path, absl::StrCat("\"", text, "\" is not a date YYYY-MM-DD"));
    return day;
  }

  void Window(const v1::DateWindow& window, const FieldPath& path) {
    const std::optional<absl::CivilDay> first = Day(window.first_day(), path.Then("first_day"));
    const std::optional<absl::CivilDay> last = Day(window.last_day(), path.Then("last_day"));
    if (first && last) {
      Expect(
          *first <= *last, path.Then("last_day"),
          absl::StrCat("window ends (", window.last_day(), ") before it starts (", window.first_day(), ")"));
    }
    Ref(window.ref(), true, path);
  }

  void DateBound(const v1::DateBound& bound, const FieldPath& path) {
    Day(bound.day(), path.Then("day"));
    Ref(bound.ref(), true, path);
  }

  void Rate(int32_t bp, const FieldPath& path) {
    Expect(bp >= 0 && bp <= kFullRateBp, path, absl::StrCat(bp, " bp is outside 0 .. 10000 (0% .. 100%)"));
  }

  // An amount of at most `max_fen` (common/money.h: the bounds that keep the ledger's sums exact).
  void Money(const v1::Money& money, const FieldPath& path, int64_t max_fen) {
    Fen(money.fen(), path.Then("fen"), max_fen);
    Ref(money.ref(), true, path);
  }

  void Fen(int64_t fen, const FieldPath& path, int64_t max_fen) {
    Expect(fen >= 0 && fen <= max_fen, path, absl::StrCat(fen, " is outside 0 .. ", max_fen, " fen"));
  }

  // `codes` is the repeated field `field` of the message at `parent`.
  void ProductTypes(const RepeatedPtrField<std::string>& codes, const ProductCatalogue& catalogue,
                    const FieldPath& parent, absl::string_view field) {
    absl::flat_hash_set<std::string> seen;
    for (int i = 0; i < codes.size(); ++i) {
      Expect(catalogue.Find(codes[i]).has_value(), parent.Then(field, i),
             absl::StrCat("unknown product type \"", codes[i], "\""));
      Expect(seen.insert(codes[i]).second, parent.Then(field, i),
             absl::StrCat("\"", codes[i], "\" listed twice"));
    }
  }

 private:
  const PolicyFile& file_;
  std::vector<PolicyProblem>& problems_;
};

void CheckPercentage(Checker& c, const v1::Rule& rule, const FieldPath& path) {
  const v1::Percentage& p = rule.percentage();
  int previous_grade = 0;
  for (int i = 0; i < p.grade_rates_size(); ++i) {
    const v1::GradeRate& g = p.grade_rates(i);
    const FieldPath at = path.Then("grade_rates", i);
    c.Expect(g.max_grade() >= 1 && g.max_grade() <= kMaxGrade, at.Then("max_grade"),
             absl::StrCat("grade ", g.max_grade(), " is outside 1 .. 5"));
    c.Expect(g.max_grade() > previous_grade, at.Then("max_grade"),
             "grade_rates must be in strictly ascending max_grade order (best grade first)");
    previous_grade = g.max_grade();
    c.Rate(g.rate_bp(), at.Then("rate_bp"));
    c.Ref(g.ref(), true, at);
  }
  if (p.has_other_rate()) {
    c.Rate(p.other_rate().bp(), path.Then("other_rate").Then("bp"));
    c.Ref(p.other_rate().ref(), true, path.Then("other_rate"));
  }
  if (p.has_ungraded()) {
    const FieldPath at = path.Then("ungraded");
    for (int i = 0; i < p.ungraded().product_types_size(); ++i) {
      const std::string& code = p.ungraded().product_types(i);
      c.Expect(std::find(rule.product_types().begin(), rule.product_types().end(), code) !=
                   rule.product_types().end(),
               at.Then("product_types", i),
               absl::StrCat("\"", code, "\" is not one of the rule's product types"));
    }
    c.Rate(p.ungraded().rate_bp(), at.Then("rate_bp"));
    c.Ref(p.ungraded().ref(), true, at);
  }
  c.Expect(p.grade_rates_size() > 0 || p.has_other_rate() || p.has_ungraded(), path,
           "a percentage needs grade_rates, other_rate or ungraded");
  if (p.has_cap()) c.Money(p.cap(), path.Then("cap"), kMaxUnitFen);
}

void CheckTiers(Checker& c, const v1::PriceTiers& tiers, const FieldPath& path) {
  c.Expect(tiers.tiers_size() > 0, path.Then("tiers"), "at least one tier is needed");
  int64_t previous = -1;
  for (int i = 0; i < tiers.tiers_size(); ++i) {
    const v1::PriceTier& t = tiers.tiers(i);
    const FieldPath at = path.Then("tiers", i);
    c.Fen(t.min_price_fen(), at.Then("min_price_fen"), kMaxUnitFen);
    c.Expect(t.min_price_fen() > previous, at.Then("min_price_fen"),
             "tiers out of order: min_price_fen must be strictly ascending");
    c.Fen(t.amount_fen(), at.Then("amount_fen"), kMaxUnitFen);
    c.Ref(t.ref(), true, at);
    previous = t.min_price_fen();
  }
}

void CheckAmount(Checker& c, const v1::Rule& rule, const FieldPath& path) {
  switch (rule.amount_case()) {
    case v1::Rule::kPercentage:
      CheckPercentage(c, rule, path.Then("percentage"));
      break;
    case v1::Rule::kFlat:
      c.Fen(rule.flat().amount_fen(), path.Then("flat").Then("amount_fen"), kMaxUnitFen);
      c.Ref(rule.flat().ref(), true, path.Then("flat"));
      break;
    case v1::Rule::kTiers:
      CheckTiers(c, rule.tiers(), path.Then("tiers"));
      break;
    case v1::Rule::AMOUNT_NOT_SET:
      c.Fail(path, "a rule needs an amount: percentage, flat or tiers");
      break;
  }
}

void CheckVehicleConditions(Checker& c, const v1::VehicleConditions& v, const FieldPath& path) {
  std::set<int> fuels_with_cutoff;
  for (int i = 0; i < v.old_registered_on_or_before_size(); ++i) {
    const v1::RegistrationCutoff& cutoff = v.old_registered_on_or_before(i);
    const FieldPath at = path.Then("old_registered_on_or_before", i);
    c.Expect(!cutoff.old_fuel_types().empty(), at.Then("old_fuel_types"), "name at least one fuel type");
    for (int fuel : cutoff.old_fuel_types()) {
      c.Expect(fuel != v1::Vehicle::OldFuelType::OLD_FUEL_TYPE_UNSPECIFIED, at.Then("old_fuel_types"),
               "OLD_FUEL_TYPE_UNSPECIFIED is not a fuel type");
      c.Expect(fuels_with_cutoff.insert(fuel).second, at.Then("old_fuel_types"),
               "a fuel type has two registration cut-offs");
    }
    c.Day(cutoff.last_day(), at.Then("last_day"));
    c.Ref(cutoff.ref(), true, at);
  }
  if (v.has_old_owned_since_on_or_before()) {
    c.DateBound(v.old_owned_since_on_or_before(), path.Then("old_owned_since_on_or_before"));
  }
  if (v.has_new_displacement()) {
    c.Expect(v.new_displacement().max_ml() > 0, path.Then("new_displacement").Then("max_ml"),
             "must be above 0");
    c.Ref(v.new_displacement().ref(), true, path.Then("new_displacement"));
  }
  if (v.has_new_in_nev_catalogue()) {
    c.Ref(v.new_in_nev_catalogue().ref(), true, path.Then("new_in_nev_catalogue"));
  }
  if (v.has_allowed_old_fuel_types()) {
    const FieldPath at = path.Then("allowed_old_fuel_types");
    c.Expect(!v.allowed_old_fuel_types().old_fuel_types().empty(), at.Then("old_fuel_types"),
             "name at least one fuel type");
    c.Ref(v.allowed_old_fuel_types().ref(), true, at);
  }
}

void CheckEligibility(Checker& c, const v1::Rule& rule, v1::ProductType::Details details,
                      const FieldPath& path) {
  const v1::Eligibility& e = rule.eligibility();
  if (e.has_min_price()) c.Money(e.min_price(), path.Then("min_price"), kMaxUnitFen);
  if (e.has_max_price()) c.Money(e.max_price(), path.Then("max_price"), kMaxUnitFen);
  if (e.has_min_price() && e.has_max_price()) {
    c.Expect(e.min_price().fen() <= e.max_price().fen(), path.Then("max_price").Then("fen"),
             "max_price is below min_price");
  }
  if (e.has_vehicle() && c.Expect(details == v1::ProductType::VEHICLE, path.Then("vehicle"),
                                  "vehicle conditions on a rule whose product types are not cars")) {
    CheckVehicleConditions(c, e.vehicle(), path.Then("vehicle"));
  }
  if (e.has_home() && c.Expect(details == v1::ProductType::HOME, path.Then("home"),
                               "home conditions on a rule whose product types have no home")) {
    c.DateBound(e.home().completed_before(), path.Then("home").Then("completed_before"));
  }
  if (e.has_ebike() && c.Expect(details == v1::ProductType::EBIKE, path.Then("ebike"),
                                "e-bike conditions on a rule whose product types are not e-bikes")) {
    c.Ref(e.ebike().old_bike_surrendered().ref(), e.ebike().old_bike_surrendered().required(),
          path.Then("ebike").Then("old_bike_surrendered"));
    c.Ref(e.ebike().new_bike_certified().ref(), e.ebike().new_bike_certified().required(),
          path.Then("ebike").Then("new_bike_certified"));
  }
}

// The details kind shared by the rule's product types; problems if they mix kinds.
v1::ProductType::Details RuleDetails(Checker& c, const v1::Rule& rule, const ProductCatalogue& catalogue,
                                     const FieldPath& path) {
  std::optional<v1::ProductType::Details> details;
  for (const std::string& code : rule.product_types()) {
    const std::optional<ProductTypeId> id = catalogue.Find(code);
    if (!id.has_value()) continue;
    const v1::ProductType::Details d = catalogue.Get(*id).details();
    if (details.has_value() && *details != d) {
      c.Fail(path.Then("product_types"),
             "mixes product types that need different details (e.g. cars and homes)");
    }
    details = d;
  }
  return details.value_or(v1::ProductType::NONE);
}

void CheckRule(Checker& c, const v1::Rule& rule, const ProductCatalogue& catalogue, const FieldPath& path) {
  c.Expect(IsIdentifier(rule.id()), path.Then("id"), "a rule needs an id of letters, digits, '-' or '_'");
  c.Expect(!rule.product_types().empty(), path.Then("product_types"),
           "a rule needs at least one product type");
  c.ProductTypes(rule.product_types(), catalogue, path, "product_types");
  c.Ref(rule.ref(), true, path);
  const v1::ProductType::Details details = RuleDetails(c, rule, catalogue, path);
  const bool is_car = details == v1::ProductType::VEHICLE;
  c.Expect(is_car == (rule.trade_in_kind() != v1::Vehicle::TradeInKind::TRADE_IN_KIND_UNSPECIFIED),
           path.Then("trade_in_kind"),
           is_car ? "a car rule needs trade_in_kind" : "only car rules set trade_in_kind");
  c.Expect(is_car == (rule.new_energy_type() != v1::Vehicle::NewEnergyType::NEW_ENERGY_TYPE_UNSPECIFIED),
           path.Then("new_energy_type"),
           is_car ? "a car rule needs new_energy_type" : "only car rules set new_energy_type");
  if (rule.has_transaction_window()) c.Window(rule.transaction_window(), path.Then("transaction_window"));
  if (rule.has_claim_window()) c.Window(rule.claim_window(), path.Then("claim_window"));
  CheckEligibility(c, rule, details, path.Then("eligibility"));
  CheckAmount(c, rule, path);
}

void CheckQuota(Checker& c, const v1::Quota& quota, const ProductCatalogue& catalogue,
                const FieldPath& path) {
  c.Expect(IsIdentifier(quota.id()), path.Then("id"), "a quota needs an id of letters, digits, '-' or '_'");
  c.Expect(quota.product_types_size() + quota.rule_ids_size() > 0, path.Then("product_types"),
           "a quota needs members: product_types or rule_ids");
  c.ProductTypes(quota.product_types(), catalogue, path, "product_types");
  c.Ref(quota.ref(), true, path);
  c.Expect(quota.has_max_units() || quota.has_max_amount() || quota.once_per_home() ||
               quota.once_per_old_vehicle(),
           path, "a quota needs a limit: max_units, max_amount, once_per_home or once_per_old_vehicle");
  if (quota.has_max_units()) {
    c.Expect(quota.max_units() >= 1, path.Then("max_units"), "must be at least 1 (drop the rule instead)");
  }
  if (quota.has_max_amount()) c.Money(quota.max_amount(), path.Then("max_amount"), kMaxTotalFen);
  for (int i = 0; i < quota.unit_overrides_size(); ++i) {
    const v1::UnitLimitOverride& o = quota.unit_overrides(i);
    const FieldPath at = path.Then("unit_overrides", i);
    c.Expect(quota.per_product_type(), at, "unit_overrides need per_product_type: true");
    c.Expect(std::find(quota.product_types().begin(), quota.product_types().end(), o.product_type()) !=
                 quota.product_types().end(),
             at.Then("product_type"),
             absl::StrCat("\"", o.product_type(), "\" is not one of the quota's product types"));
    c.Expect(o.max_units() >= 1, at.Then("max_units"), "must be at least 1");
    c.Ref(o.ref(), true, at);
  }
  auto is_member = [&quota](const std::string& type) {
    return std::find(quota.product_types().begin(), quota.product_types().end(), type) !=
           quota.product_types().end();
  };
  for (int i = 0; i < quota.counts_as_size(); ++i) {
    const v1::CountsAs& alias = quota.counts_as(i);
    const FieldPath at = path.Then("counts_as", i);
    c.Expect(quota.per_product_type(), at, "counts_as needs per_product_type: true");
    c.Expect(is_member(alias.product_type()), at.Then("product_type"),
             absl::StrCat("\"", alias.product_type(), "\" is not one of the quota's product types"));
    c.Expect(is_member(alias.as_product_type()), at.Then("as_product_type"),
             absl::StrCat("\"", alias.as_product_type(), "\" is not one of the quota's product types"));
    c.Ref(alias.ref(), true, at);
  }
  if (!quota.programme().empty()) {
    c.Expect(IsIdentifier(quota.programme()), path.Then("programme"), "letters, digits, '-' or '_'");
  }
}

void CheckBudget(Checker& c, const v1::Budget& budget, const ProductCatalogue& catalogue,
                 const FieldPath& path) {
  c.Expect(IsIdentifier(budget.id()), path.Then("id"), "a budget needs an id of letters, digits, '-' or '_'");
  c.Fen(budget.total_fen(), path.Then("total_fen"), kMaxTotalFen);
  c.ProductTypes(budget.product_types(), catalogue, path, "product_types");
  c.Ref(budget.ref(), true, path);
}

template <typename T>
void CheckUniqueIds(Checker& c, const RepeatedPtrField<T>& items, absl::string_view field) {
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < items.size(); ++i) {
    c.Expect(seen.insert(items[i].id()).second, FieldPath().Then(field, i).Then("id"),
             absl::StrCat("duplicate id \"", items[i].id(), "\""));
  }
}

void CheckPolicySettings(Checker& c, const v1::Policy& p) {
  const FieldPath root;
  c.Expect(IsIdentifier(p.id()), root.Then("id"), "a policy needs an id of letters, digits, '-' or '_'");
  c.Expect(IsRegionCode(p.region_code()), root.Then("region_code"),
           absl::StrCat("\"", p.region_code(), "\" is not a 6-digit GB/T 2260 code (\"000000\" = national)"));
  c.Ref(p.ref(), true, root);
  if (!p.programme().empty()) {
    c.Expect(IsIdentifier(p.programme()), root.Then("programme"), "letters, digits, '-' or '_'");
  }
  if (p.has_transaction_window()) c.Window(p.transaction_window(), root.Then("transaction_window"));
  if (p.has_claim_window()) c.Window(p.claim_window(), root.Then("claim_window"));
  if (p.has_rounding()) {
    c.Expect(p.rounding().unit() != v1::Rounding::UNIT_UNSPECIFIED, root.Then("rounding").Then("unit"),
             "FEN or YUAN");
    c.Expect(p.rounding().mode() != v1::Rounding::MODE_UNSPECIFIED, root.Then("rounding").Then("mode"),
             "FLOOR or HALF_UP");
    c.Ref(p.rounding().ref(), true, root.Then("rounding"));
  }
  if (p.has_hold()) {
    c.Expect(p.hold().seconds() > 0 && p.hold().seconds() <= kMaxHoldSeconds,
             root.Then("hold").Then("seconds"),
             absl::StrCat(p.hold().seconds(), " is outside 1 .. ", kMaxHoldSeconds, " seconds"));
    c.Ref(p.hold().ref(), true, root.Then("hold"));
  }
  if (p.has_refund()) c.Ref(p.refund().ref(), true, root.Then("refund"));
  c.Expect(p.version().empty(), root.Then("version"), "is filled by the server; a file must not set it");
  c.Expect(p.source_files().empty(), root.Then("source_files"),
           "is filled by the server; a file must not set it");
}

// The ids in `removed` that `parent_items` does not have.
template <typename T>
void CheckRemovedIds(Checker& c, const RepeatedPtrField<std::string>& removed,
                     const RepeatedPtrField<T>* parent_items, absl::string_view field) {
  for (int i = 0; i < removed.size(); ++i) {
    const bool found =
        parent_items != nullptr && std::any_of(parent_items->begin(), parent_items->end(),
                                               [&](const T& item) { return item.id() == removed[i]; });
    c.Expect(found, FieldPath().Then(field, i),
             absl::StrCat("\"", removed[i], "\" is not in the parent policy"));
  }
}

// Index of the merged element with `id` in the file's own list, for locating problems (-1: inherited).
template <typename T>
int OwnIndex(const RepeatedPtrField<T>& own, absl::string_view id) {
  for (int i = 0; i < own.size(); ++i) {
    if (own[i].id() == id) return i;
  }
  return -1;
}

void CheckMemberRuleIds(Checker& c, const RepeatedPtrField<std::string>& rule_ids,
                        const absl::flat_hash_set<std::string>& rules, const FieldPath& path) {
  for (int i = 0; i < rule_ids.size(); ++i) {
    c.Expect(rules.contains(rule_ids[i]), path.Then("rule_ids", i),
             absl::StrCat("no rule \"", rule_ids[i], "\" in the merged policy"));
  }
}

// A rule this file removes must not still be named by an inherited quota or budget (the parent's own
// problems were reported against the parent).
void CheckRemovedRulesStillNamed(Checker& c, const v1::Policy& own, const v1::Policy& merged) {
  for (int i = 0; i < own.removed_rule_ids_size(); ++i) {
    const std::string& removed = own.removed_rule_ids(i);
    auto names = [&removed](const auto& item) {
      return std::find(item.rule_ids().begin(), item.rule_ids().end(), removed) != item.rule_ids().end();
    };
    for (const v1::Quota& quota : merged.quotas()) {
      if (OwnIndex(own.quotas(), quota.id()) >= 0 || !names(quota)) continue;
      c.Fail(FieldPath().Then("removed_rule_ids", i),
             absl::StrCat("removes rule \"", removed, "\" but inherited quota \"", quota.id(),
                          "\" still names it: override or remove the quota too"));
    }
    for (const v1::Budget& budget : merged.budgets()) {
      if (OwnIndex(own.budgets(), budget.id()) >= 0 || !names(budget)) continue;
      c.Fail(FieldPath().Then("removed_rule_ids", i),
             absl::StrCat("removes rule \"", removed, "\" but inherited budget \"", budget.id(),
                          "\" still names it: override or remove the budget too"));
    }
  }
}

void CheckShadowedRules(Checker& c, const v1::Policy& own, const v1::Policy& merged) {
  // (product type, trade-in kind, energy type) → first rule id that prices it.
  absl::flat_hash_map<std::string, std::string> first_rule;
  for (const v1::Rule& rule : merged.rules()) {
    bool reachable = false;
    for (const std::string& code : rule.product_types()) {
      const std::string key = absl::StrCat(code, "/", rule.trade_in_kind(), "/", rule.new_energy_type());
      reachable |= first_rule.emplace(key, rule.id()).second;
    }
    const int index = OwnIndex(own.rules(), rule.id());
    if (!reachable && index >= 0) {
      c.Fail(FieldPath().Then("rules", index).Then("product_types"),
             "every product type of this rule is already priced by an earlier rule: it can never apply");
    }
  }
}

}  // namespace

void ValidatePolicyFile(const PolicyFile& file, const ProductCatalogue& catalogue,
                        std::vector<PolicyProblem>& problems) {
  Checker c(file, problems);
  const v1::Policy& p = file.policy;
  CheckPolicySettings(c, p);
  CheckUniqueIds(c, p.rules(), "rules");
  CheckUniqueIds(c, p.quotas(), "quotas");
  CheckUniqueIds(c, p.budgets(), "budgets");
  for (int i = 0; i < p.rules_size(); ++i) CheckRule(c, p.rules(i), catalogue, FieldPath().Then("rules", i));
  for (int i = 0; i < p.quotas_size(); ++i)
    CheckQuota(c, p.quotas(i), catalogue, FieldPath().Then("quotas", i));
  for (int i = 0; i < p.budgets_size(); ++i) {
    CheckBudget(c, p.budgets(i), catalogue, FieldPath().Then("budgets", i));
  }
}

void ValidateMergedPolicy(const PolicyFile& file, const v1::Policy* parent, const v1::Policy& merged,
                          std::vector<PolicyProblem>& problems) {
  Checker c(file, problems);
  const v1::Policy& own = file.policy;
  const FieldPath root;
  CheckRemovedIds(c, own.removed_rule_ids(), parent ? &parent->rules() : nullptr, "removed_rule_ids");
  CheckRemovedIds(c, own.removed_quota_ids(), parent ? &parent->quotas() : nullptr, "removed_quota_ids");
  CheckRemovedIds(c, own.removed_budget_ids(), parent ? &parent->budgets() : nullptr, "removed_budget_ids");

  c.Expect(!merged.programme().empty(), root.Then("programme"), "a root policy needs a programme");
  c.Expect(merged.has_transaction_window(), root.Then("transaction_window"), "a root policy needs one");
  c.Expect(merged.has_rounding(), root.Then("rounding"), "a root policy needs one");
  c.Expect(merged.has_hold(), root.Then("hold"), "a root policy needs one");
  c.Expect(merged.has_refund(), root.Then("refund"), "a root policy needs one");

  const std::optional<absl::CivilDay> first = ParseCivilDay(merged.transaction_window().first_day());
  const std::optional<absl::CivilDay> last = ParseCivilDay(merged.transaction_window().last_day());
  if (parent != nullptr && own.has_transaction_window() && first && last) {
    const std::optional<absl::CivilDay> parent_first =
        ParseCivilDay(parent->transaction_window().first_day());
    const std::optional<absl::CivilDay> parent_last = ParseCivilDay(parent->transaction_window().last_day());
    c.Expect(parent_first && parent_last && *first >= *parent_first && *last <= *parent_last,
             root.Then("transaction_window"),
             absl::StrCat("must lie inside the parent's window ", parent->transaction_window().first_day(),
                          " .. ", parent->transaction_window().last_day()));
  }
  for (int i = 0; i < own.rules_size(); ++i) {
    const v1::Rule& rule = own.rules(i);
    if (!rule.has_transaction_window() || !first || !last) continue;
    const std::optional<absl::CivilDay> rule_first = ParseCivilDay(rule.transaction_window().first_day());
    const std::optional<absl::CivilDay> rule_last = ParseCivilDay(rule.transaction_window().last_day());
    c.Expect(rule_first && rule_last && *rule_first >= *first && *rule_last <= *last,
             root.Then("rules", i).Then("transaction_window"),
             "must lie inside the policy's transaction window");
  }

  absl::flat_hash_set<std::string> rule_ids;
  for (const v1::Rule& rule : merged.rules()) rule_ids.insert(rule.id());
  for (int i = 0; i < own.quotas_size(); ++i) {
    CheckMemberRuleIds(c, own.quotas(i).rule_ids(), rule_ids, root.Then("quotas", i));
  }
  for (int i = 0; i < own.budgets_size(); ++i) {
    CheckMemberRuleIds(c, own.budgets(i).rule_ids(), rule_ids, root.Then("budgets", i));
  }
  CheckRemovedRulesStillNamed(c, own, merged);
  CheckShadowedRules(c, own, merged);
}

void ValidateRegionWindows(const std::vector<const PolicyFile*>& files, const std::vector<v1::Policy>& merged,
                           std::vector<PolicyProblem>& problems) {
  for (size_t i = 0; i < merged.size(); ++i) {
    for (size_t j = i + 1; j < merged.size(); ++j) {
      if (merged[i].region_code() != merged[j].region_code()) continue;
      const auto& a = merged[i].transaction_window();
      const auto& b = merged[j].transaction_window();
      const std::optional<absl::CivilDay> a_first = ParseCivilDay(a.first_day()),
                                          a_last = ParseCivilDay(a.last_day());
      const std::optional<absl::CivilDay> b_first = ParseCivilDay(b.first_day()),
                                          b_last = ParseCivilDay(b.last_day());
      if (!a_first || !a_last || !b_first || !b_last) continue;
      if (*a_first <= *b_last && *b_first <= *a_last) {
        Checker c(*files[j], problems);
        c.Fail(FieldPath().Then("transaction_window"),
               absl::StrCat("region ", merged[j].region_code(), " would have two policies in force on ",
                            FormatCivilDay(std::max(*a_first, *b_first)), ": \"", merged[i].id(), "\" (",
                            files[i]->path, ") and \"", merged[j].id(), "\""));
      }
    }
  }
}

}  // namespace tradein::policy
