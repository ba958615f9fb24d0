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

  const PolicyFile& file() const { return file_; }

  void Fail(const FieldPath& path, absl::string_view message) {
    problems_.push_back({file_.path, file_.LineOf(path), path.ToString(), std::string(message)});
  }
  void Fail(PolicyProblem problem) { problems_.push_back(std::move(problem)); }
  bool Expect(bool ok, const FieldPath& path, absl::string_view message) {
    if (!ok) Fail(path, message);
    return ok;
  }

  void Ref(const v1::LegalReference& ref, bool present, const FieldPath& path) {
    if (present) EntryRef(ref, path, "");
  }

  // A rule's, quota's or budget's own reference; `hint` follows the message (why the entry may lack one).
  void EntryRef(const v1::LegalReference& ref, const FieldPath& path, absl::string_view hint) {
    if (!Expect(!ref.document().empty(), path.Then("ref").Then("document"),
                absl::StrCat("every number needs its legal reference (ref.document)", hint))) {
      return;
    }
    Expect(
        !ref.article().empty(), path.Then("ref").Then("article"),
        "a legal reference names where in the document it is (ref.article): the article or section, or the "
        "section by subject where the text numbers none (and ref.note says so)");
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

void CheckRule(Checker& c, const v1::Rule& rule, const ProductCatalogue& catalogue, const FieldPath& path,
               absl::string_view ref_hint) {
  c.Expect(IsIdentifier(rule.id()), path.Then("id"), "a rule needs an id of letters, digits, '-' or '_'");
  c.Expect(!rule.product_types().empty(), path.Then("product_types"),
           "a rule needs at least one product type");
  c.ProductTypes(rule.product_types(), catalogue, path, "product_types");
  c.EntryRef(rule.ref(), path, ref_hint);
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

// Members of a once_per_new_vehicle quota must be cars: the new car's VIN is all it counts.
void CheckNewVehicleMembers(Checker& c, const v1::Quota& quota, const v1::Policy& merged,
                            const ProductCatalogue& catalogue, const FieldPath& path) {
  auto is_car = [&catalogue](const std::string& code) {
    const std::optional<ProductTypeId> id = catalogue.Find(code);
    return !id.has_value() || catalogue.Get(*id).details() == v1::ProductType::VEHICLE;
  };
  for (int i = 0; i < quota.product_types_size(); ++i) {
    c.Expect(
        is_car(quota.product_types(i)), path.Then("product_types", i),
        absl::StrCat("once_per_new_vehicle counts cars only; \"", quota.product_types(i), "\" is not a car"));
  }
  for (int i = 0; i < quota.rule_ids_size(); ++i) {
    for (const v1::Rule& rule : merged.rules()) {
      if (rule.id() != quota.rule_ids(i)) continue;
      c.Expect(
          std::all_of(rule.product_types().begin(), rule.product_types().end(), is_car),
          path.Then("rule_ids", i),
          absl::StrCat("once_per_new_vehicle counts cars only; rule \"", rule.id(), "\" prices other items"));
    }
  }
}

// Quota.counted_before_in: other programmes, of a quota that keeps something in its programme.
void CheckCountedBefore(Checker& c, const v1::Quota& quota, const v1::Policy& merged, const FieldPath& path) {
  if (quota.counted_before_in().empty()) return;
  // An inherited quota has its origin's programme written in (policy_merge.h); one still without is the
  // child's own, or its parent's programme is missing (reported there).
  const std::string programme = !quota.programme().empty()  ? quota.programme()
                                : merged.inherits().empty() ? merged.programme()
                                                            : "";
  c.Expect(quota.has_max_units() || quota.has_max_amount() || quota.once_per_home() ||
               quota.once_per_old_vehicle(),
           path.Then("counted_before_in"),
           "only counters and once-keys kept in a programme (max_units, max_amount, once_per_home, "
           "once_per_old_vehicle) can have counted elsewhere before");
  for (int i = 0; i < quota.counted_before_in_size(); ++i) {
    const std::string& before = quota.counted_before_in(i);
    const FieldPath at = path.Then("counted_before_in", i);
    if (!c.Expect(IsIdentifier(before), at, "letters, digits, '-' or '_'")) continue;
    // (Naming its own programme would be harmless: the ledger plan charges a counter once.)
    if (!programme.empty()) {
      c.Expect(before != programme, at, absl::StrCat("the quota counts in \"", programme, "\" now"));
    }
  }
}

void CheckQuota(Checker& c, const v1::Quota& quota, const v1::Policy& merged,
                const ProductCatalogue& catalogue, const FieldPath& path, absl::string_view ref_hint) {
  c.Expect(IsIdentifier(quota.id()), path.Then("id"), "a quota needs an id of letters, digits, '-' or '_'");
  c.Expect(quota.product_types_size() + quota.rule_ids_size() > 0, path.Then("product_types"),
           "a quota needs members: product_types or rule_ids");
  c.ProductTypes(quota.product_types(), catalogue, path, "product_types");
  c.EntryRef(quota.ref(), path, ref_hint);
  const bool once_per_new_vehicle = quota.once_per_new_vehicle().required();
  c.Expect(quota.has_max_units() || quota.has_max_amount() || quota.once_per_home() ||
               quota.once_per_old_vehicle() || once_per_new_vehicle || quota.has_per_calendar_year(),
           path,
           "a quota needs a limit: max_units, max_amount, once_per_home, once_per_old_vehicle, "
           "once_per_new_vehicle or per_calendar_year");
  if (quota.has_max_units()) {
    c.Expect(quota.max_units() >= 1, path.Then("max_units"), "must be at least 1 (drop the rule instead)");
  }
  if (quota.has_max_amount()) c.Money(quota.max_amount(), path.Then("max_amount"), kMaxTotalFen);
  if (quota.has_once_per_new_vehicle()) {
    c.Ref(quota.once_per_new_vehicle().ref(), once_per_new_vehicle, path.Then("once_per_new_vehicle"));
    if (once_per_new_vehicle) CheckNewVehicleMembers(c, quota, merged, catalogue, path);
  }
  if (quota.has_per_calendar_year()) {
    const FieldPath at = path.Then("per_calendar_year");
    c.Expect(quota.per_calendar_year().max_units() >= 1, at.Then("max_units"), "must be at least 1");
    c.Ref(quota.per_calendar_year().ref(), true, at);
  }
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
  CheckCountedBefore(c, quota, merged, path);
}

void CheckBudget(Checker& c, const v1::Budget& budget, const ProductCatalogue& catalogue,
                 const FieldPath& path, absl::string_view ref_hint) {
  c.Expect(IsIdentifier(budget.id()), path.Then("id"), "a budget needs an id of letters, digits, '-' or '_'");
  c.Fen(budget.total_fen(), path.Then("total_fen"), kMaxTotalFen);
  c.ProductTypes(budget.product_types(), catalogue, path, "product_types");
  c.EntryRef(budget.ref(), path, ref_hint);
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

// The parse tree of entry `index` of `list` ("rules", "quotas", "budgets") in the file's own text.
const google::protobuf::TextFormat::ParseInfoTree* EntryTree(const PolicyFile& file, absl::string_view list,
                                                             int index) {
  const google::protobuf::FieldDescriptor* field =
      v1::Policy::descriptor()->FindFieldByName(std::string(list));
  return file.locations->GetTreeForNested(field, index);
}

bool Writes(const google::protobuf::TextFormat::ParseInfoTree* tree, const google::protobuf::Descriptor* type,
            absl::string_view field) {
  return WrittenLine(tree, type->FindFieldByName(std::string(field))) > 0;
}

// Every rule a quota or budget names must be in the merged policy. An entry whose text writes rule_ids is
// blamed there; an inherited list naming a rule this file removes is blamed on the removal (the parent's own
// problems were reported against the parent).
template <typename T>
void CheckMemberRules(Checker& c, absl::string_view list, absl::string_view kind,
                      const RepeatedPtrField<T>& own, const RepeatedPtrField<T>& merged,
                      const RepeatedPtrField<std::string>& removed_rule_ids,
                      const absl::flat_hash_set<std::string>& rule_ids) {
  for (const T& item : merged) {
    const int index = OwnIndex(own, item.id());
    const bool written = index >= 0 && Writes(EntryTree(c.file(), list, index), T::descriptor(), "rule_ids");
    for (int j = 0; j < item.rule_ids_size(); ++j) {
      const std::string& id = item.rule_ids(j);
      if (rule_ids.contains(id)) continue;
      if (written) {
        c.Fail(FieldPath().Then(list, index).Then("rule_ids", j),
               absl::StrCat("no rule \"", id, "\" in the merged policy"));
        continue;
      }
      const int removal = static_cast<int>(std::find(removed_rule_ids.begin(), removed_rule_ids.end(), id) -
                                           removed_rule_ids.begin());
      if (removal == removed_rule_ids.size()) continue;
      c.Fail(FieldPath().Then("removed_rule_ids", removal),
             absl::StrCat("removes rule \"", id, "\" but inherited ", kind, " \"", item.id(),
                          "\" still names it: override its rule_ids or remove the ", kind, " too"));
    }
  }
}

// Whether own entry `id` overrides the parent's (rather than being new, or removed and declared again).
template <typename T>
bool IsOverride(absl::string_view id, const RepeatedPtrField<T>* parent_items,
                const RepeatedPtrField<std::string>& removed) {
  return parent_items != nullptr && OwnIndex(*parent_items, id) >= 0 &&
         std::find(removed.begin(), removed.end(), id) == removed.end();
}

// An override that writes a plain field of the entry (product_types, max_units, total_fen, ...) changes what
// the entry's `ref` vouches for, so it must restate the ref. Messages carry or contain their own refs.
void CheckOverrideRestatesRef(Checker& c, const google::protobuf::Descriptor* type, absl::string_view list,
                              int index, absl::string_view kind, absl::string_view id) {
  const google::protobuf::TextFormat::ParseInfoTree* tree = EntryTree(c.file(), list, index);
  if (Writes(tree, type, "ref")) return;
  for (int i = 0; i < type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type->field(i);
    // Names and namespaces are no number a reference vouches for.
    if (field->name() == "id" || field->name() == "title" || field->name() == "title_zh" ||
        field->name() == "programme" || field->name() == "counted_before_in" ||
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
        WrittenLine(tree, field) == 0) {
      continue;
    }
    c.Fail(FieldPath().Then(list, index).Then(field->name()),
           absl::StrCat("overrides ", field->name(), " of the parent's ", kind, " \"", id,
                        "\": restate its ref too (the parent's ref vouches for the parent's value)"));
    return;
  }
}

// Checks each rule, quota and budget this file writes, as merged: an override is complete only with the
// parent's fields. Of an override's problems, those its parent's entry has too were the parent's to report,
// so the override reports only what it breaks. A duplicate id is checked once (the duplicate itself is
// reported). `check(checker, entry, policy, path, hint)` checks `entry` of `policy`.
template <typename T, typename Check>
void CheckOwnEntries(Checker& c, absl::string_view list, absl::string_view kind,
                     const RepeatedPtrField<T>& own, const RepeatedPtrField<T>& merged_items,
                     const v1::Policy& merged, const RepeatedPtrField<T>* parent_items,
                     const v1::Policy* parent, const RepeatedPtrField<std::string>& removed, Check check) {
  for (int i = 0; i < own.size(); ++i) {
    const std::string& id = own[i].id();
    const int in_merged = OwnIndex(merged_items, id);
    if (OwnIndex(own, id) != i || in_merged < 0) continue;
    const FieldPath path = FieldPath().Then(list, i);
    if (!IsOverride(id, parent_items, removed)) {
      check(
          c, merged_items[in_merged], merged, path,
          parent != nullptr ? absl::StrCat(" (the parent has no ", kind, " \"", id, "\" to override)") : "");
      continue;
    }
    CheckOverrideRestatesRef(c, T::descriptor(), list, i, kind, id);
    std::vector<PolicyProblem> found, inherited;
    Checker as_merged(c.file(), found), as_inherited(c.file(), inherited);
    check(as_merged, merged_items[in_merged], merged, path, "");
    check(as_inherited, (*parent_items)[OwnIndex(*parent_items, id)], *parent, path, "");
    for (const PolicyProblem& problem : found) {
      const bool parents =
          std::any_of(inherited.begin(), inherited.end(), [&problem](const PolicyProblem& p) {
            return p.field == problem.field && p.message == problem.message;
          });
      if (!parents) c.Fail(problem);
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
    if (!reachable && index >= 0 && !rule.product_types().empty()) {  // none: reported as such
      c.Fail(FieldPath().Then("rules", index).Then("product_types"),
             "every product type of this rule is already priced by an earlier rule: it can never apply");
    }
  }
}

}  // namespace

void ValidatePolicyFile(const PolicyFile& file, std::vector<PolicyProblem>& problems) {
  Checker c(file, problems);
  const v1::Policy& p = file.policy;
  CheckPolicySettings(c, p);
  CheckUniqueIds(c, p.rules(), "rules");
  CheckUniqueIds(c, p.quotas(), "quotas");
  CheckUniqueIds(c, p.budgets(), "budgets");
}

void ValidateMergedPolicy(const PolicyFile& file, const v1::Policy* parent, const v1::Policy& merged,
                          const ProductCatalogue& catalogue, std::vector<PolicyProblem>& problems) {
  Checker c(file, problems);
  const v1::Policy& own = file.policy;
  const FieldPath root;
  CheckRemovedIds(c, own.removed_rule_ids(), parent ? &parent->rules() : nullptr, "removed_rule_ids");
  CheckRemovedIds(c, own.removed_quota_ids(), parent ? &parent->quotas() : nullptr, "removed_quota_ids");
  CheckRemovedIds(c, own.removed_budget_ids(), parent ? &parent->budgets() : nullptr, "removed_budget_ids");
  CheckOwnEntries(c, "rules", "rule", own.rules(), merged.rules(), merged,
                  parent ? &parent->rules() : nullptr, parent, own.removed_rule_ids(),
                  [&](Checker& checker, const v1::Rule& rule, const v1::Policy&, const FieldPath& path,
                      const std::string& hint) { CheckRule(checker, rule, catalogue, path, hint); });
  CheckOwnEntries(
      c, "quotas", "quota", own.quotas(), merged.quotas(), merged, parent ? &parent->quotas() : nullptr,
      parent, own.removed_quota_ids(),
      [&](Checker& checker, const v1::Quota& quota, const v1::Policy& policy, const FieldPath& path,
          const std::string& hint) { CheckQuota(checker, quota, policy, catalogue, path, hint); });
  CheckOwnEntries(c, "budgets", "budget", own.budgets(), merged.budgets(), merged,
                  parent ? &parent->budgets() : nullptr, parent, own.removed_budget_ids(),
                  [&](Checker& checker, const v1::Budget& budget, const v1::Policy&, const FieldPath& path,
                      const std::string& hint) { CheckBudget(checker, budget, catalogue, path, hint); });

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
  CheckMemberRules(c, "quotas", "quota", own.quotas(), merged.quotas(), own.removed_rule_ids(), rule_ids);
  CheckMemberRules(c, "budgets", "budget", own.budgets(), merged.budgets(), own.removed_rule_ids(), rule_ids);
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
