// The calculator against the shipped policies, as the service uses it: select the policy for (region, day)
// with PolicySnapshot::Select, resolve the product type in the catalogue, call PriceItem, and compare every
// field of the answer. One row per case; rows name the worked example (policy-reference.md §g) or the
// decision (§h) they check. Amounts are fen: Y(5000) is 5,000.00 yuan, Y(49999, 99) is 49,999.99 yuan.
#include "services/pricing/calculator.h"

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/civil_date.h"
#include "gtest/gtest.h"
#include "services/policy/policy_snapshot.h"
#include "services/pricing/reason.h"
#include "tests/policy/policy_test_util.h"
#include "tradein/v1/items.pb.h"

namespace tradein::pricing {
namespace {

using policy::CompiledPolicy;
using policy::PolicySnapshot;
using v1::Vehicle;

// Points of sale.
constexpr char kRuian[] = "330381";     // ra-2025 in 2025, wz-2026 in 2026
constexpr char kWenzhou[] = "330300";   // zj-2025 in 2025, wz-2026 in 2026
constexpr char kHangzhou[] = "330100";  // zj-2025 in 2025, cn-2026 in 2026
constexpr char kBeijing[] = "110000";   // cn-2025, cn-2026

constexpr char k2025[] = "2025-03-01";
constexpr char k2026[] = "2026-03-01";

constexpr int kScrap = Vehicle::TradeInKind::SCRAPPAGE;
constexpr int kReplace = Vehicle::TradeInKind::REPLACEMENT;
constexpr int kNev = Vehicle::NewEnergyType::NEV;
constexpr int kFuel = Vehicle::NewEnergyType::FUEL;
constexpr int kGasoline = Vehicle::OldFuelType::GASOLINE;
constexpr int kDiesel = Vehicle::OldFuelType::DIESEL;
constexpr int kOther = Vehicle::OldFuelType::OTHER;
constexpr int kOldNev = Vehicle::OldFuelType::NEV;

using RC = ReasonCode;

constexpr int64_t Y(int64_t yuan, int64_t fen = 0) { return yuan * 100 + fen; }

// The better (lower, non-zero) of two label grades, as the API contract defines it (energyGrade/waterGrade;
// the request validator in services/api does the same).
int32_t BestGrade(int32_t energy, int32_t water) {
  if (energy == 0) return water;
  if (water == 0) return energy;
  return std::min(energy, water);
}

struct Car {
  int kind = 0;
  int energy = 0;
  int old_fuel = kGasoline;
  std::string registered = "2010-01-01";
  std::string owned = "2015-01-01";
  int32_t ml = 0;
  bool catalogue = false;

  Car& Old(int fuel, std::string day) {
    old_fuel = fuel;
    registered = std::move(day);
    return *this;
  }
  Car& OwnedSince(std::string day) {
    owned = std::move(day);
    return *this;
  }
  Car& Ml(int32_t value) {
    ml = value;
    return *this;
  }
  Car& InCatalogue(bool value) {
    catalogue = value;
    return *this;
  }
};

// A car that passes every shipped condition: an old gasoline car registered 2010, owned since 2015; a new NEV
// in the catalogue, or a new fuel car of 1,998 ml.
Car NewCar(int kind, int energy) {
  Car car;
  car.kind = kind;
  car.energy = energy;
  if (energy == kNev) {
    car.catalogue = true;
  } else {
    car.ml = 1998;
  }
  return car;
}
Car Scrap(int energy) { return NewCar(kScrap, energy); }
Car Replace(int energy) { return NewCar(kReplace, energy); }

struct Row {
  explicit Row(std::string row_name) : name(std::move(row_name)) {}

  // Input.
  Row& At(std::string region_code, std::string day) {
    region = std::move(region_code);
    date = std::move(day);
    return *this;
  }
  // Prices with the policy `id` (a pinned policyId) instead of selecting one.
  Row& Pinned(std::string id, std::string day) {
    pinned = std::move(id);
    date = std::move(day);
    return *this;
  }
  Row& Item(std::string product_type, int64_t price_fen) {
    type = std::move(product_type);
    price = price_fen;
    return *this;
  }
  Row& Grade(int32_t energy_grade, int32_t water_grade = 0) {
    energy = energy_grade;
    water = water_grade;
    return *this;
  }
  Row& Qty(int32_t units) {
    quantity = units;
    return *this;
  }
  Row& Vehicle(Car facts) {
    car = std::move(facts);
    return *this;
  }
  Row& Home(std::string completed_on) {
    home_completed = std::move(completed_on);
    return *this;
  }
  Row& Ebike(bool surrendered, bool is_certified) {
    old_bike = surrendered;
    certified = is_certified;
    return *this;
  }

  // Expectations.
  Row& Policy(std::string policy_id, std::string rule_id) {
    want_policy = std::move(policy_id);
    want_rule = std::move(rule_id);
    return *this;
  }
  // Eligible under a percentage rule.
  Row& Pays(int64_t unit_fen, int32_t rate_bp, int64_t cap_fen, bool is_capped = false) {
    want_unit = unit_fen;
    want_rate = rate_bp;
    want_cap = cap_fen;
    want_capped = is_capped;
    return *this;
  }
  // Eligible under a flat or tiered rule.
  Row& PaysFixed(int64_t unit_fen) { return Pays(unit_fen, 0, 0, false); }
  Row& Uncapped(int64_t fen) {
    want_uncapped = fen;
    return *this;
  }
  Row& Line(int64_t fen) {
    want_line = fen;
    return *this;
  }
  Row& Refused(std::vector<RC> codes) {
    want_reasons = std::move(codes);
    want_unit = 0;
    want_line = 0;
    return *this;
  }
  Row& NotCovered(std::string policy_id) {
    want_policy = std::move(policy_id);
    want_rule.clear();
    return Refused({RC::kNotCovered});
  }

  std::string name;
  std::string region;
  std::string date;
  std::string pinned;
  std::string type;
  int64_t price = 0;
  int32_t quantity = 1;
  int32_t energy = 0;
  int32_t water = 0;
  std::optional<Car> car;
  std::string home_completed;
  bool old_bike = false;
  bool certified = false;

  std::string want_policy;
  std::string want_rule;
  std::vector<RC> want_reasons;
  int64_t want_unit = 0;
  std::optional<int64_t> want_line;
  std::optional<int32_t> want_rate;
  std::optional<int64_t> want_cap;
  std::optional<bool> want_capped;
  std::optional<int64_t> want_uncapped;
};

Row R(std::string name) { return Row(std::move(name)); }

std::vector<std::string> Names(const ReasonSet& reasons) {
  std::vector<std::string> out;
  reasons.ForEach([&out](RC code) { out.emplace_back(ReasonName(code)); });
  return out;
}

std::vector<std::string> Names(std::vector<RC> codes) {
  std::sort(codes.begin(), codes.end());
  std::vector<std::string> out;
  for (RC code : codes) out.emplace_back(ReasonName(code));
  return out;
}

const PolicySnapshot* Shipped() { return policy_test::ShippedSnapshot().get(); }

absl::CivilDay Day(const std::string& text) {
  const std::optional<absl::CivilDay> day = ParseCivilDay(text);
  EXPECT_TRUE(day.has_value()) << text;
  return day.value_or(absl::CivilDay());
}

void CheckRow(const Row& row) {
  SCOPED_TRACE(row.name);
  const PolicySnapshot* snapshot = Shipped();
  ASSERT_NE(snapshot, nullptr) << "the shipped policies do not load";

  const absl::CivilDay day = Day(row.date);
  const CompiledPolicy* selected =
      row.pinned.empty() ? snapshot->Select(row.region, day) : snapshot->FindById(row.pinned);
  ASSERT_NE(selected, nullptr) << "no policy for region " << row.region << " on " << row.date;
  EXPECT_EQ(selected->id(), row.want_policy);

  PricingItem item;
  const std::optional<policy::ProductTypeId> type = snapshot->catalogue().Find(row.type);
  ASSERT_TRUE(type.has_value()) << row.type << " is not in the catalogue";
  item.product_type = *type;
  item.price_fen = row.price;
  item.quantity = row.quantity;
  item.best_grade = BestGrade(row.energy, row.water);
  item.transaction_day = day;
  if (row.car.has_value()) {
    item.vehicle.trade_in_kind = row.car->kind;
    item.vehicle.new_energy_type = row.car->energy;
    item.vehicle.new_displacement_ml = row.car->ml;
    item.vehicle.new_in_nev_catalogue = row.car->catalogue;
    item.vehicle.old_fuel_type = row.car->old_fuel;
    item.vehicle.old_registered_on = Day(row.car->registered);
    item.vehicle.old_owned_since = Day(row.car->owned);
  }
  if (!row.home_completed.empty()) item.home.completed_on = Day(row.home_completed);
  item.ebike.old_bike_surrendered = row.old_bike;
  item.ebike.new_bike_certified = row.certified;

  const ItemPrice price = PriceItem(item, *selected);
  EXPECT_EQ(price.rule == nullptr ? std::string() : price.rule->id(), row.want_rule);
  EXPECT_EQ(Names(price.reasons), Names(row.want_reasons));
  EXPECT_EQ(price.eligible(), row.want_reasons.empty());
  EXPECT_EQ(price.unit_subsidy_fen, row.want_unit);
  EXPECT_EQ(price.line_subsidy_fen, row.want_line.value_or(row.want_unit * row.quantity));
  if (row.want_rate.has_value()) {
    EXPECT_EQ(price.rate_bp, *row.want_rate);
  }
  if (row.want_cap.has_value()) {
    EXPECT_EQ(price.cap_fen, *row.want_cap);
  }
  if (row.want_capped.has_value()) {
    EXPECT_EQ(price.capped, *row.want_capped);
  }
  if (row.want_uncapped.has_value()) {
    EXPECT_EQ(price.uncapped_unit_fen, *row.want_uncapped);
  }
}

void CheckRows(const std::vector<Row>& rows) {
  for (const Row& row : rows) CheckRow(row);
}

// ---------------------------------------------------------------------------------------------------------
// §g worked examples, in the region each names, and from Beijing (110000) where national 2025 differs.
// ---------------------------------------------------------------------------------------------------------
std::vector<Row> WorkedExamples() {
  std::vector<Row> rows = {
      R("§g #1 Rui'an fridge grade 1, 5,000 → 1,000")
          .At(kRuian, k2025)
          .Item("appliance.refrigerator", Y(5000))
          .Grade(1)
          .Policy("ra-2025", "Z25-APPL")
          .Pays(Y(1000), 2000, Y(2000))
          .Uncapped(Y(1000)),
      R("§g #1 Beijing: national N25-APPL pays the same")
          .At(kBeijing, k2025)
          .Item("appliance.refrigerator", Y(5000))
          .Grade(1)
          .Policy("cn-2025", "N25-APPL")
          .Pays(Y(1000), 2000, Y(2000)),
      R("§g #2 Rui'an washing machine grade 2, 3,000 → 450")
          .At(kRuian, k2025)
          .Item("appliance.washing_machine", Y(3000))
          .Grade(2)
          .Policy("ra-2025", "Z25-APPL")
          .Pays(Y(450), 1500, Y(2000)),
      R("§g #2 Beijing")
          .At(kBeijing, k2025)
          .Item("appliance.washing_machine", Y(3000))
          .Grade(2)
          .Policy("cn-2025", "N25-APPL")
          .Pays(Y(450), 1500, Y(2000)),
      R("§g #3 Rui'an air conditioner grade 1, 12,000 → 2,400 capped at 2,000")
          .At(kRuian, k2025)
          .Item("appliance.air_conditioner", Y(12000))
          .Grade(1)
          .Policy("ra-2025", "Z25-APPL")
          .Pays(Y(2000), 2000, Y(2000), true)
          .Uncapped(Y(2400)),
      R("§g #3 Beijing")
          .At(kBeijing, k2025)
          .Item("appliance.air_conditioner", Y(12000))
          .Grade(1)
          .Policy("cn-2025", "N25-APPL")
          .Pays(Y(2000), 2000, Y(2000), true)
          .Uncapped(Y(2400)),
      R("§g #7 Rui'an fridge grade 3, 4,000 → not eligible")
          .At(kRuian, k2025)
          .Item("appliance.refrigerator", Y(4000))
          .Grade(3)
          .Policy("ra-2025", "Z25-APPL")
          .Refused({RC::kGradeNotEligible}),
      R("§g #7 Beijing")
          .At(kBeijing, k2025)
          .Item("appliance.refrigerator", Y(4000))
          .Grade(3)
          .Policy("cn-2025", "N25-APPL")
          .Refused({RC::kGradeNotEligible}),
      R("§g #11 Rui'an 2025-02 phone 3,000 → 450")
          .At(kRuian, "2025-02-01")
          .Item("digital.phone", Y(3000))
          .Policy("ra-2025", "N25-DIG")
          .Pays(Y(450), 1500, Y(500)),
      R("§g #11 Beijing")
          .At(kBeijing, "2025-02-01")
          .Item("digital.phone", Y(3000))
          .Policy("cn-2025", "N25-DIG")
          .Pays(Y(450), 1500, Y(500)),
      R("§g #13 Rui'an phone exactly 6,000 → 900 capped at 500 (D2: the ceiling is inclusive)")
          .At(kRuian, "2025-02-01")
          .Item("digital.phone", Y(6000))
          .Policy("ra-2025", "N25-DIG")
          .Pays(Y(500), 1500, Y(500), true)
          .Uncapped(Y(900)),
      R("§g #13 Beijing")
          .At(kBeijing, "2025-02-01")
          .Item("digital.phone", Y(6000))
          .Policy("cn-2025", "N25-DIG")
          .Pays(Y(500), 1500, Y(500), true)
          .Uncapped(Y(900)),
      R("§g #14 Rui'an phone 6,000.01 → over the ceiling")
          .At(kRuian, "2025-02-01")
          .Item("digital.phone", Y(6000, 1))
          .Policy("ra-2025", "N25-DIG")
          .Refused({RC::kPriceAboveCeiling}),
      R("§g #14 Beijing")
          .At(kBeijing, "2025-02-01")
          .Item("digital.phone", Y(6000, 1))
          .Policy("cn-2025", "N25-DIG")
          .Refused({RC::kPriceAboveCeiling}),
      R("§g #20 Rui'an bed frame, no label, 5,000 → 750")
          .At(kRuian, "2025-05-01")
          .Item("furniture.bed", Y(5000))
          .Policy("ra-2025", "Z25-FURN")
          .Pays(Y(750), 1500, Y(2000)),
      R("§g #20 Beijing: no furniture nationally")
          .At(kBeijing, "2025-05-01")
          .Item("furniture.bed", Y(5000))
          .NotCovered("cn-2025"),
      R("§g #22 Rui'an smart toilet, water grade 1, 6,000 → 1,200")
          .At(kRuian, "2025-05-01")
          .Item("furniture.smart_toilet", Y(6000))
          .Grade(0, 1)
          .Policy("ra-2025", "Z25-FURN")
          .Pays(Y(1200), 2000, Y(2000)),
      R("§g #22 Beijing")
          .At(kBeijing, "2025-05-01")
          .Item("furniture.smart_toilet", Y(6000))
          .Grade(0, 1)
          .NotCovered("cn-2025"),
      R("§g #24 Rui'an renovation 50,000, home completed 2015 → 7,500")
          .At(kRuian, "2025-05-01")
          .Item("renovation.old_home", Y(50000))
          .Home("2015-06-01")
          .Policy("ra-2025", "Z25-RENO")
          .Pays(Y(7500), 1500, Y(20000)),
      R("§g #24 Beijing: no renovation nationally")
          .At(kBeijing, "2025-05-01")
          .Item("renovation.old_home", Y(50000))
          .Home("2015-06-01")
          .NotCovered("cn-2025"),
      R("§g #28 Rui'an elderly-friendly 10,000 → 3,000")
          .At(kRuian, "2025-05-01")
          .Item("renovation.elderly_friendly", Y(10000))
          .Policy("ra-2025", "Z25-AGE")
          .Pays(Y(3000), 3000, 0),
      R("§g #28 Beijing")
          .At(kBeijing, "2025-05-01")
          .Item("renovation.elderly_friendly", Y(10000))
          .NotCovered("cn-2025"),
      R("§g #30 Rui'an 2025-05 replacement, owned since 2019, new NEV 150,000 → 12,000")
          .At(kRuian, "2025-05-01")
          .Item("car.new", Y(150000))
          .Vehicle(Replace(kNev).Old(kGasoline, "2018-03-01").OwnedSince("2019-03-01"))
          .Policy("ra-2025", "Z25-REPL-NEV")
          .PaysFixed(Y(12000)),
      R("§g #30 Beijing: replacement is provincial in 2025")
          .At(kBeijing, "2025-05-01")
          .Item("car.new", Y(150000))
          .Vehicle(Replace(kNev).Old(kGasoline, "2018-03-01").OwnedSince("2019-03-01"))
          .NotCovered("cn-2025"),
      R("§g #36 Rui'an 2025-06 scrappage, 2010 gasoline car → catalogue NEV → 20,000")
          .At(kRuian, "2025-06-01")
          .Item("car.new", Y(150000))
          .Vehicle(Scrap(kNev).Old(kGasoline, "2010-05-01").OwnedSince("2010-05-01"))
          .Policy("ra-2025", "N25-SCRAP-NEV")
          .PaysFixed(Y(20000)),
      R("§g #36 Beijing")
          .At(kBeijing, "2025-06-01")
          .Item("car.new", Y(150000))
          .Vehicle(Scrap(kNev).Old(kGasoline, "2010-05-01").OwnedSince("2010-05-01"))
          .Policy("cn-2025", "N25-SCRAP-NEV")
          .PaysFixed(Y(20000)),
      R("§g #41 Wenzhou 2026-03 scrappage, gasoline 2013-05-01 → NEV 100,000 → 12,000")
          .At(kWenzhou, k2026)
          .Item("car.new", Y(100000))
          .Vehicle(Scrap(kNev).Old(kGasoline, "2013-05-01").OwnedSince("2013-05-01"))
          .Policy("wz-2026", "N26-SCRAP-NEV")
          .Pays(Y(12000), 1200, Y(20000)),
      R("§g #41 Rui'an in 2026 gets Wenzhou's policy")
          .At(kRuian, k2026)
          .Item("car.new", Y(100000))
          .Vehicle(Scrap(kNev).Old(kGasoline, "2013-05-01").OwnedSince("2013-05-01"))
          .Policy("wz-2026", "N26-SCRAP-NEV")
          .Pays(Y(12000), 1200, Y(20000)),
      R("§g #41 Beijing")
          .At(kBeijing, k2026)
          .Item("car.new", Y(100000))
          .Vehicle(Scrap(kNev).Old(kGasoline, "2013-05-01").OwnedSince("2013-05-01"))
          .Policy("cn-2026", "N26-SCRAP-NEV")
          .Pays(Y(12000), 1200, Y(20000)),
      R("§g #47 Wenzhou 2026-02 fridge grade 1, 8,000 → 1,200")
          .At(kWenzhou, "2026-02-01")
          .Item("appliance.refrigerator", Y(8000))
          .Grade(1)
          .Policy("wz-2026", "N26-APPL")
          .Pays(Y(1200), 1500, Y(1500)),
      R("§g #47 Wenzhou fridge grade 1, 12,000 → 1,800 capped at 1,500")
          .At(kWenzhou, "2026-02-01")
          .Item("appliance.refrigerator", Y(12000))
          .Grade(1)
          .Policy("wz-2026", "N26-APPL")
          .Pays(Y(1500), 1500, Y(1500), true)
          .Uncapped(Y(1800)),
      R("§g #47 Beijing 8,000")
          .At(kBeijing, "2026-02-01")
          .Item("appliance.refrigerator", Y(8000))
          .Grade(1)
          .Policy("cn-2026", "N26-APPL")
          .Pays(Y(1200), 1500, Y(1500)),
      R("§g #47 Beijing 12,000")
          .At(kBeijing, "2026-02-01")
          .Item("appliance.refrigerator", Y(12000))
          .Grade(1)
          .Policy("cn-2026", "N26-APPL")
          .Pays(Y(1500), 1500, Y(1500), true)
          .Uncapped(Y(1800)),
      R("§g #50 Wenzhou 2026-02 smart glasses 2,999 → 449.85")
          .At(kWenzhou, "2026-02-01")
          .Item("digital.smart_glasses", Y(2999))
          .Policy("wz-2026", "N26-DIG")
          .Pays(Y(449, 85), 1500, Y(500)),
      R("§g #50 Beijing")
          .At(kBeijing, "2026-02-01")
          .Item("digital.smart_glasses", Y(2999))
          .Policy("cn-2026", "N26-DIG")
          .Pays(Y(449, 85), 1500, Y(500)),
  };
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// Appliances 2025: Z25-APPL (Zhejiang, incl. the ungraded projector) and N25-APPL (national).
// ---------------------------------------------------------------------------------------------------------
std::vector<Row> Appliances2025() {
  std::vector<Row> rows;
  // Every grade, Zhejiang and national: grade 1 → 20%, grade 2 → 15%, anything else not eligible (D12).
  for (int grade = 0; grade <= 5; ++grade) {
    const std::tuple<const char*, const char*, const char*> places[] = {{kRuian, "ra-2025", "Z25-APPL"},
                                                                        {kHangzhou, "zj-2025", "Z25-APPL"},
                                                                        {kBeijing, "cn-2025", "N25-APPL"}};
    for (const auto& [region, policy, rule] : places) {
      Row row = R(absl::StrCat(rule, " ", region, " fridge 5,000, energy grade ", grade))
                    .At(region, k2025)
                    .Item("appliance.refrigerator", Y(5000))
                    .Grade(grade)
                    .Policy(policy, rule);
      if (grade == 1) {
        row.Pays(Y(1000), 2000, Y(2000));
      } else if (grade == 2) {
        row.Pays(Y(750), 1500, Y(2000));
      } else {
        row.Refused({RC::kGradeNotEligible});
      }
      rows.push_back(row);
    }
  }
  // The projector (Zhejiang only): no label → the ungraded 15% (D12); a label is graded like the rest.
  for (int grade = 0; grade <= 5; ++grade) {
    Row row = R(absl::StrCat("Z25-APPL projector 4,000, grade ", grade))
                  .At(kRuian, k2025)
                  .Item("appliance.projector", Y(4000))
                  .Grade(grade)
                  .Policy("ra-2025", "Z25-APPL");
    if (grade == 0 || grade == 2) {
      row.Pays(Y(600), 1500, Y(2000));
    } else if (grade == 1) {
      row.Pays(Y(800), 2000, Y(2000));
    } else {
      row.Refused({RC::kGradeNotEligible});
    }
    rows.push_back(row);
    rows.push_back(R(absl::StrCat("N25-APPL Beijing: no projector nationally, grade ", grade))
                       .At(kBeijing, k2025)
                       .Item("appliance.projector", Y(4000))
                       .Grade(grade)
                       .NotCovered("cn-2025"));
  }
  rows.push_back(R("Z25-APPL Hangzhou projector without a label → 15%")
                     .At(kHangzhou, k2025)
                     .Item("appliance.projector", Y(4000))
                     .Policy("zj-2025", "Z25-APPL")
                     .Pays(Y(600), 1500, Y(2000)));
  // Every product type of the rules, grade 1.
  const std::vector<std::string> national = {
      "appliance.refrigerator",    "appliance.washing_machine", "appliance.television",
      "appliance.air_conditioner", "appliance.computer",        "appliance.water_heater",
      "appliance.cooktop",         "appliance.range_hood",      "appliance.dishwasher",
      "appliance.water_purifier",  "appliance.microwave",       "appliance.rice_cooker"};
  for (const std::string& type : national) {
    rows.push_back(R(absl::StrCat("Z25-APPL ", type, " grade 1, 3,000 → 600"))
                       .At(kRuian, k2025)
                       .Item(type, Y(3000))
                       .Grade(1)
                       .Policy("ra-2025", "Z25-APPL")
                       .Pays(Y(600), 2000, Y(2000)));
    rows.push_back(R(absl::StrCat("N25-APPL ", type, " grade 2, 3,000 → 450"))
                       .At(kBeijing, k2025)
                       .Item(type, Y(3000))
                       .Grade(2)
                       .Policy("cn-2025", "N25-APPL")
                       .Pays(Y(450), 1500, Y(2000)));
    rows.push_back(R(absl::StrCat("Z25-APPL ", type, " without a label is graded: not eligible (D12)"))
                       .At(kRuian, k2025)
                       .Item(type, Y(3000))
                       .Policy("ra-2025", "Z25-APPL")
                       .Refused({RC::kGradeNotEligible}));
  }
  // Energy vs water label: the better one counts.
  rows.push_back(R("Z25-APPL dishwasher energy 3, water 1 → grade 1, 20%")
                     .At(kRuian, k2025)
                     .Item("appliance.dishwasher", Y(4000))
                     .Grade(3, 1)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(800), 2000, Y(2000)));
  rows.push_back(R("Z25-APPL washing machine energy 1, water 4 → grade 1, 20%")
                     .At(kRuian, k2025)
                     .Item("appliance.washing_machine", Y(4000))
                     .Grade(1, 4)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(800), 2000, Y(2000)));
  rows.push_back(R("Z25-APPL water purifier water label 2 only → 15%")
                     .At(kRuian, k2025)
                     .Item("appliance.water_purifier", Y(4000))
                     .Grade(0, 2)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(600), 1500, Y(2000)));
  rows.push_back(R("Z25-APPL washing machine energy 4, water 3 → grade 3, not eligible")
                     .At(kRuian, k2025)
                     .Item("appliance.washing_machine", Y(4000))
                     .Grade(4, 3)
                     .Policy("ra-2025", "Z25-APPL")
                     .Refused({RC::kGradeNotEligible}));
  rows.push_back(R("N25-APPL water heater energy 3, water 2 → grade 2, 15%")
                     .At(kBeijing, k2025)
                     .Item("appliance.water_heater", Y(4000))
                     .Grade(3, 2)
                     .Policy("cn-2025", "N25-APPL")
                     .Pays(Y(600), 1500, Y(2000)));
  // Cap edges: 20% reaches 2,000.00 at 10,000.00; 10,000.04 still rounds down to 2,000.00; 10,000.05 is over.
  rows.push_back(R("Z25-APPL grade 1 at 9,999.99 → 1,999.99")
                     .At(kRuian, k2025)
                     .Item("appliance.television", Y(9999, 99))
                     .Grade(1)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(1999, 99), 2000, Y(2000)));
  rows.push_back(R("Z25-APPL grade 1 at 10,000.00 → exactly the cap")
                     .At(kRuian, k2025)
                     .Item("appliance.television", Y(10000))
                     .Grade(1)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(2000), 2000, Y(2000), false)
                     .Uncapped(Y(2000)));
  rows.push_back(R("Z25-APPL grade 1 at 10,000.04 → 2,000.008 floors to the cap")
                     .At(kRuian, k2025)
                     .Item("appliance.television", Y(10000, 4))
                     .Grade(1)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(2000), 2000, Y(2000), false)
                     .Uncapped(Y(2000)));
  rows.push_back(R("Z25-APPL grade 1 at 10,000.05 → 2,000.01 capped")
                     .At(kRuian, k2025)
                     .Item("appliance.television", Y(10000, 5))
                     .Grade(1)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(2000), 2000, Y(2000), true)
                     .Uncapped(Y(2000, 1)));
  // 15% reaches 2,000.00 at 13,333.34 (13,333.33 → 1,999.9995 → 1,999.99); over from 13,333.40.
  rows.push_back(R("Z25-APPL grade 2 at 13,333.33 → 1,999.99 (D1 floor)")
                     .At(kRuian, k2025)
                     .Item("appliance.computer", Y(13333, 33))
                     .Grade(2)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(1999, 99), 1500, Y(2000)));
  rows.push_back(R("Z25-APPL grade 2 at 13,333.34 → exactly the cap")
                     .At(kRuian, k2025)
                     .Item("appliance.computer", Y(13333, 34))
                     .Grade(2)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(2000), 1500, Y(2000), false)
                     .Uncapped(Y(2000)));
  rows.push_back(R("Z25-APPL grade 2 at 13,333.39 → 2,000.0085 floors to the cap")
                     .At(kRuian, k2025)
                     .Item("appliance.computer", Y(13333, 39))
                     .Grade(2)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(2000), 1500, Y(2000), false)
                     .Uncapped(Y(2000)));
  rows.push_back(R("Z25-APPL grade 2 at 13,333.40 → 2,000.01 capped")
                     .At(kRuian, k2025)
                     .Item("appliance.computer", Y(13333, 40))
                     .Grade(2)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(2000), 1500, Y(2000), true)
                     .Uncapped(Y(2000, 1)));
  rows.push_back(R("N25-APPL grade 1 at 10,000.05 → capped")
                     .At(kBeijing, k2025)
                     .Item("appliance.television", Y(10000, 5))
                     .Grade(1)
                     .Policy("cn-2025", "N25-APPL")
                     .Pays(Y(2000), 2000, Y(2000), true)
                     .Uncapped(Y(2000, 1)));
  // D1: 1,999.99 × 15% = 299.9985 → 299.99.
  rows.push_back(R("D1 Z25-APPL grade 2 at 1,999.99 → 299.99")
                     .At(kRuian, k2025)
                     .Item("appliance.microwave", Y(1999, 99))
                     .Grade(2)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(299, 99), 1500, Y(2000)));
  // D6: each unit is an item; the cap applies per unit.
  rows.push_back(R("D6 Z25-APPL 3 air conditioners grade 1 at 12,000 → 2,000 each, 6,000")
                     .At(kRuian, k2025)
                     .Item("appliance.air_conditioner", Y(12000))
                     .Grade(1)
                     .Qty(3)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(2000), 2000, Y(2000), true)
                     .Line(Y(6000)));
  rows.push_back(R("D6 Z25-APPL 2 fridges grade 1 at 5,000 → 1,000 each, 2,000")
                     .At(kRuian, k2025)
                     .Item("appliance.refrigerator", Y(5000))
                     .Grade(1)
                     .Qty(2)
                     .Policy("ra-2025", "Z25-APPL")
                     .Pays(Y(1000), 2000, Y(2000))
                     .Line(Y(2000)));
  rows.push_back(R("D6 Z25-APPL 4 fridges grade 3: nothing for any")
                     .At(kRuian, k2025)
                     .Item("appliance.refrigerator", Y(5000))
                     .Grade(3)
                     .Qty(4)
                     .Policy("ra-2025", "Z25-APPL")
                     .Refused({RC::kGradeNotEligible}));
  rows.push_back(R("D6 N25-APPL 3 air conditioners grade 2 at 4,000 → 600 each, 1,800")
                     .At(kBeijing, k2025)
                     .Item("appliance.air_conditioner", Y(4000))
                     .Grade(2)
                     .Qty(3)
                     .Policy("cn-2025", "N25-APPL")
                     .Pays(Y(600), 1500, Y(2000))
                     .Line(Y(1800)));
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// Digital 2025: N25-DIG (Zhejiang inherits it unchanged). Price ceiling (D2), cap, window from 2025-01-20.
// ---------------------------------------------------------------------------------------------------------
std::vector<Row> Digital2025() {
  std::vector<Row> rows;
  const std::pair<const char*, const char*> places[] = {
      {kRuian, "ra-2025"}, {kHangzhou, "zj-2025"}, {kBeijing, "cn-2025"}};
  for (const auto& [region, policy] : places) {
    const std::string where = absl::StrCat(" (", region, ")");
    rows.push_back(R("N25-DIG window: phone on 2025-01-19 is before the start" + where)
                       .At(region, "2025-01-19")
                       .Item("digital.phone", Y(3000))
                       .Policy(policy, "N25-DIG")
                       .Refused({RC::kOutsideProgrammeWindow}));
    rows.push_back(R("N25-DIG window: phone on 2025-01-20, the first day" + where)
                       .At(region, "2025-01-20")
                       .Item("digital.phone", Y(3000))
                       .Policy(policy, "N25-DIG")
                       .Pays(Y(450), 1500, Y(500)));
    rows.push_back(R("N25-DIG window: phone on 2025-12-31, the last day" + where)
                       .At(region, "2025-12-31")
                       .Item("digital.phone", Y(3000))
                       .Policy(policy, "N25-DIG")
                       .Pays(Y(450), 1500, Y(500)));
    rows.push_back(R("N25-DIG ceiling: tablet 6,000.00 qualifies (D2)" + where)
                       .At(region, k2025)
                       .Item("digital.tablet", Y(6000))
                       .Policy(policy, "N25-DIG")
                       .Pays(Y(500), 1500, Y(500), true)
                       .Uncapped(Y(900)));
    rows.push_back(R("N25-DIG ceiling: tablet 6,000.01 does not (D2)" + where)
                       .At(region, k2025)
                       .Item("digital.tablet", Y(6000, 1))
                       .Policy(policy, "N25-DIG")
                       .Refused({RC::kPriceAboveCeiling}));
  }
  rows.push_back(R("N25-DIG smartwatch 5,999.99 → capped at 500")
                     .At(kRuian, k2025)
                     .Item("digital.smartwatch", Y(5999, 99))
                     .Policy("ra-2025", "N25-DIG")
                     .Pays(Y(500), 1500, Y(500), true)
                     .Uncapped(Y(899, 99)));
  rows.push_back(R("N25-DIG smartwatch 1,000 → 150")
                     .At(kRuian, k2025)
                     .Item("digital.smartwatch", Y(1000))
                     .Policy("ra-2025", "N25-DIG")
                     .Pays(Y(150), 1500, Y(500)));
  rows.push_back(R("N25-DIG tablet 2,000 → 300")
                     .At(kBeijing, k2025)
                     .Item("digital.tablet", Y(2000))
                     .Policy("cn-2025", "N25-DIG")
                     .Pays(Y(300), 1500, Y(500)));
  // Cap edge: 15% of 3,333.33 = 499.9995 → 499.99; 3,333.34 → 500.001 → 500.00 (the cap, not over it);
  // 3,333.39 → 500.0085 → 500.00; 3,333.40 → 500.01 is the first amount over the cap.
  rows.push_back(R("N25-DIG phone 3,333.33 → 499.99 (D1: floor, half-up would give 500.00)")
                     .At(kRuian, k2025)
                     .Item("digital.phone", Y(3333, 33))
                     .Policy("ra-2025", "N25-DIG")
                     .Pays(Y(499, 99), 1500, Y(500), false)
                     .Uncapped(Y(499, 99)));
  rows.push_back(R("N25-DIG phone 3,333.34 → exactly 500.00")
                     .At(kRuian, k2025)
                     .Item("digital.phone", Y(3333, 34))
                     .Policy("ra-2025", "N25-DIG")
                     .Pays(Y(500), 1500, Y(500), false)
                     .Uncapped(Y(500)));
  rows.push_back(R("N25-DIG phone 3,333.39 → 500.0085 floors to 500.00, not over the cap")
                     .At(kRuian, k2025)
                     .Item("digital.phone", Y(3333, 39))
                     .Policy("ra-2025", "N25-DIG")
                     .Pays(Y(500), 1500, Y(500), false)
                     .Uncapped(Y(500)));
  rows.push_back(R("N25-DIG phone 3,333.40 → 500.01 capped at 500.00")
                     .At(kRuian, k2025)
                     .Item("digital.phone", Y(3333, 40))
                     .Policy("ra-2025", "N25-DIG")
                     .Pays(Y(500), 1500, Y(500), true)
                     .Uncapped(Y(500, 1)));
  rows.push_back(R("D1 N25-DIG phone 1,999.99 × 15% = 299.9985 → 299.99")
                     .At(kBeijing, k2025)
                     .Item("digital.phone", Y(1999, 99))
                     .Policy("cn-2025", "N25-DIG")
                     .Pays(Y(299, 99), 1500, Y(500)));
  // No grade involved: a label changes nothing.
  rows.push_back(R("N25-DIG phone with energy grade 1 → still 15%")
                     .At(kRuian, k2025)
                     .Item("digital.phone", Y(3000))
                     .Grade(1)
                     .Policy("ra-2025", "N25-DIG")
                     .Pays(Y(450), 1500, Y(500)));
  rows.push_back(R("N25-DIG phone with energy grade 5 → still 15%")
                     .At(kRuian, k2025)
                     .Item("digital.phone", Y(3000))
                     .Grade(5)
                     .Policy("ra-2025", "N25-DIG")
                     .Pays(Y(450), 1500, Y(500)));
  rows.push_back(R("D6 N25-DIG 2 phones at 6,000 → 500 each, 1,000")
                     .At(kRuian, k2025)
                     .Item("digital.phone", Y(6000))
                     .Qty(2)
                     .Policy("ra-2025", "N25-DIG")
                     .Pays(Y(500), 1500, Y(500), true)
                     .Line(Y(1000)));
  rows.push_back(R("N25-DIG 2 phones at 6,000.01: neither")
                     .At(kRuian, k2025)
                     .Item("digital.phone", Y(6000, 1))
                     .Qty(2)
                     .Policy("ra-2025", "N25-DIG")
                     .Refused({RC::kPriceAboveCeiling}));
  rows.push_back(R("smart glasses are not covered in 2025 (Rui'an)")
                     .At(kRuian, k2025)
                     .Item("digital.smart_glasses", Y(2999))
                     .NotCovered("ra-2025"));
  rows.push_back(R("smart glasses are not covered in 2025 (Beijing)")
                     .At(kBeijing, k2025)
                     .Item("digital.smart_glasses", Y(2999))
                     .NotCovered("cn-2025"));
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// Furniture, renovation and elderly-friendly adaptation: Zhejiang 2025 only.
// ---------------------------------------------------------------------------------------------------------
std::vector<Row> HomeRules2025() {
  std::vector<Row> rows;
  const std::vector<std::string> furniture = {
      "furniture.bed",           "furniture.mattress",   "furniture.table_chair", "furniture.sofa",
      "furniture.massage_chair", "furniture.smart_lock", "furniture.smart_toilet"};
  for (const std::string& type : furniture) {
    rows.push_back(R(absl::StrCat("Z25-FURN ", type, " without a label, 4,000 → 600"))
                       .At(kRuian, k2025)
                       .Item(type, Y(4000))
                       .Policy("ra-2025", "Z25-FURN")
                       .Pays(Y(600), 1500, Y(2000)));
    rows.push_back(R(absl::StrCat("Z25-FURN ", type, " in Beijing: not covered"))
                       .At(kBeijing, k2025)
                       .Item(type, Y(4000))
                       .NotCovered("cn-2025"));
  }
  for (int grade = 0; grade <= 5; ++grade) {
    Row row = R(absl::StrCat("Z25-FURN sofa 5,000, energy grade ", grade))
                  .At(kRuian, k2025)
                  .Item("furniture.sofa", Y(5000))
                  .Grade(grade)
                  .Policy("ra-2025", "Z25-FURN");
    if (grade == 1) {
      row.Pays(Y(1000), 2000, Y(2000));
    } else {
      row.Pays(Y(750), 1500, Y(2000));
    }
    rows.push_back(row);
  }
  rows.push_back(R("Z25-FURN smart lock energy 3, water 1 → grade 1, 20%")
                     .At(kRuian, k2025)
                     .Item("furniture.smart_lock", Y(3000))
                     .Grade(3, 1)
                     .Policy("ra-2025", "Z25-FURN")
                     .Pays(Y(600), 2000, Y(2000)));
  rows.push_back(R("Z25-FURN smart toilet energy 2, water 4 → 15%")
                     .At(kRuian, k2025)
                     .Item("furniture.smart_toilet", Y(3000))
                     .Grade(2, 4)
                     .Policy("ra-2025", "Z25-FURN")
                     .Pays(Y(450), 1500, Y(2000)));
  rows.push_back(R("Z25-FURN Hangzhou massage chair → zj-2025")
                     .At(kHangzhou, k2025)
                     .Item("furniture.massage_chair", Y(8000))
                     .Policy("zj-2025", "Z25-FURN")
                     .Pays(Y(1200), 1500, Y(2000)));
  rows.push_back(R("Z25-FURN grade 1 at 10,000.00 → exactly the cap")
                     .At(kRuian, k2025)
                     .Item("furniture.massage_chair", Y(10000))
                     .Grade(1)
                     .Policy("ra-2025", "Z25-FURN")
                     .Pays(Y(2000), 2000, Y(2000), false));
  rows.push_back(R("Z25-FURN grade 1 at 10,000.05 → capped")
                     .At(kRuian, k2025)
                     .Item("furniture.massage_chair", Y(10000, 5))
                     .Grade(1)
                     .Policy("ra-2025", "Z25-FURN")
                     .Pays(Y(2000), 2000, Y(2000), true)
                     .Uncapped(Y(2000, 1)));
  rows.push_back(R("Z25-FURN no label at 13,333.34 → exactly the cap")
                     .At(kRuian, k2025)
                     .Item("furniture.sofa", Y(13333, 34))
                     .Policy("ra-2025", "Z25-FURN")
                     .Pays(Y(2000), 1500, Y(2000), false)
                     .Uncapped(Y(2000)));
  rows.push_back(R("Z25-FURN no label at 13,333.40 → capped")
                     .At(kRuian, k2025)
                     .Item("furniture.sofa", Y(13333, 40))
                     .Policy("ra-2025", "Z25-FURN")
                     .Pays(Y(2000), 1500, Y(2000), true)
                     .Uncapped(Y(2000, 1)));
  rows.push_back(R("D6 Z25-FURN 4 chairs at 2,000 → 300 each, 1,200")
                     .At(kRuian, k2025)
                     .Item("furniture.table_chair", Y(2000))
                     .Qty(4)
                     .Policy("ra-2025", "Z25-FURN")
                     .Pays(Y(300), 1500, Y(2000))
                     .Line(Y(1200)));
  rows.push_back(R("D6 Z25-FURN 2 sofas at 20,000 → 2,000 each (per-unit cap), 4,000")
                     .At(kRuian, k2025)
                     .Item("furniture.sofa", Y(20000))
                     .Qty(2)
                     .Policy("ra-2025", "Z25-FURN")
                     .Pays(Y(2000), 1500, Y(2000), true)
                     .Line(Y(4000)));

  // Renovation: home completed strictly before 2023-01-01.
  rows.push_back(R("Z25-RENO home completed 2022-12-31 → eligible")
                     .At(kRuian, k2025)
                     .Item("renovation.old_home", Y(50000))
                     .Home("2022-12-31")
                     .Policy("ra-2025", "Z25-RENO")
                     .Pays(Y(7500), 1500, Y(20000)));
  rows.push_back(R("Z25-RENO home completed 2023-01-01 → too new")
                     .At(kRuian, k2025)
                     .Item("renovation.old_home", Y(50000))
                     .Home("2023-01-01")
                     .Policy("ra-2025", "Z25-RENO")
                     .Refused({RC::kHomeTooNew}));
  rows.push_back(R("Z25-RENO home completed 2024-06-01 → too new (Hangzhou)")
                     .At(kHangzhou, k2025)
                     .Item("renovation.old_home", Y(50000))
                     .Home("2024-06-01")
                     .Policy("zj-2025", "Z25-RENO")
                     .Refused({RC::kHomeTooNew}));
  rows.push_back(R("Z25-RENO 133,333.33 → 19,999.99")
                     .At(kRuian, k2025)
                     .Item("renovation.old_home", Y(133333, 33))
                     .Home("2000-01-01")
                     .Policy("ra-2025", "Z25-RENO")
                     .Pays(Y(19999, 99), 1500, Y(20000)));
  rows.push_back(R("Z25-RENO 133,333.34 → exactly the cap")
                     .At(kRuian, k2025)
                     .Item("renovation.old_home", Y(133333, 34))
                     .Home("2000-01-01")
                     .Policy("ra-2025", "Z25-RENO")
                     .Pays(Y(20000), 1500, Y(20000), false)
                     .Uncapped(Y(20000)));
  rows.push_back(R("Z25-RENO 133,333.39 → floors to the cap")
                     .At(kRuian, k2025)
                     .Item("renovation.old_home", Y(133333, 39))
                     .Home("2000-01-01")
                     .Policy("ra-2025", "Z25-RENO")
                     .Pays(Y(20000), 1500, Y(20000), false)
                     .Uncapped(Y(20000)));
  rows.push_back(R("Z25-RENO 133,333.40 → capped")
                     .At(kRuian, k2025)
                     .Item("renovation.old_home", Y(133333, 40))
                     .Home("2000-01-01")
                     .Policy("ra-2025", "Z25-RENO")
                     .Pays(Y(20000), 1500, Y(20000), true)
                     .Uncapped(Y(20000, 1)));
  rows.push_back(R("Z25-RENO grade 5 label changes nothing")
                     .At(kRuian, k2025)
                     .Item("renovation.old_home", Y(10000))
                     .Home("2000-01-01")
                     .Grade(5)
                     .Policy("ra-2025", "Z25-RENO")
                     .Pays(Y(1500), 1500, Y(20000)));

  // Elderly-friendly: 30%, no per-unit cap (the 20,000 is the ledger's cumulative cap, D16).
  rows.push_back(
      R("Z25-AGE 80,000 → 24,000 from the calculator (the ledger's cumulative cap makes it 20,000)")
          .At(kRuian, k2025)
          .Item("renovation.elderly_friendly", Y(80000))
          .Policy("ra-2025", "Z25-AGE")
          .Pays(Y(24000), 3000, 0, false)
          .Uncapped(Y(24000)));
  rows.push_back(R("D1 Z25-AGE 333.33 × 30% = 99.999 → 99.99")
                     .At(kRuian, k2025)
                     .Item("renovation.elderly_friendly", Y(333, 33))
                     .Policy("ra-2025", "Z25-AGE")
                     .Pays(Y(99, 99), 3000, 0));
  rows.push_back(R("Z25-AGE grade 1 label changes nothing (Hangzhou)")
                     .At(kHangzhou, k2025)
                     .Item("renovation.elderly_friendly", Y(1000))
                     .Grade(1)
                     .Policy("zj-2025", "Z25-AGE")
                     .Pays(Y(300), 3000, 0));
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// E-bikes: RA25-EBIKE (Rui'an) and ZJ25-EBIKE-EXAMPLE (other Zhejiang cities); none nationally or in 2026.
// ---------------------------------------------------------------------------------------------------------
std::vector<Row> Ebikes() {
  std::vector<Row> rows = {
      R("RA25-EBIKE 2,500 → 40% = 1,000")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(2500))
          .Ebike(true, true)
          .Policy("ra-2025", "RA25-EBIKE")
          .Pays(Y(1000), 4000, Y(1200)),
      R("RA25-EBIKE 2,999.99 → 1,199.99")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(2999, 99))
          .Ebike(true, true)
          .Policy("ra-2025", "RA25-EBIKE")
          .Pays(Y(1199, 99), 4000, Y(1200)),
      R("RA25-EBIKE 3,000.00 → exactly the cap")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(3000))
          .Ebike(true, true)
          .Policy("ra-2025", "RA25-EBIKE")
          .Pays(Y(1200), 4000, Y(1200), false)
          .Uncapped(Y(1200)),
      R("RA25-EBIKE 3,000.02 → 1,200.008 floors to the cap")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(3000, 2))
          .Ebike(true, true)
          .Policy("ra-2025", "RA25-EBIKE")
          .Pays(Y(1200), 4000, Y(1200), false)
          .Uncapped(Y(1200)),
      R("RA25-EBIKE 3,000.03 → capped")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(3000, 3))
          .Ebike(true, true)
          .Policy("ra-2025", "RA25-EBIKE")
          .Pays(Y(1200), 4000, Y(1200), true)
          .Uncapped(Y(1200, 1)),
      R("RA25-EBIKE without an old bike")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(2500))
          .Ebike(false, true)
          .Policy("ra-2025", "RA25-EBIKE")
          .Refused({RC::kOldBikeRequired}),
      R("RA25-EBIKE new bike not certified")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(2500))
          .Ebike(true, false)
          .Policy("ra-2025", "RA25-EBIKE")
          .Refused({RC::kNewBikeNotCertified}),
      R("RA25-EBIKE neither: both reasons")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(2500))
          .Ebike(false, false)
          .Policy("ra-2025", "RA25-EBIKE")
          .Refused({RC::kOldBikeRequired, RC::kNewBikeNotCertified}),
      R("RA25-EBIKE grade 3 label changes nothing")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(2500))
          .Grade(3)
          .Ebike(true, true)
          .Policy("ra-2025", "RA25-EBIKE")
          .Pays(Y(1000), 4000, Y(1200)),
      R("D6 RA25-EBIKE 2 bikes at 4,000 → 1,200 each, 2,400")
          .At(kRuian, k2025)
          .Item("ebike.new", Y(4000))
          .Qty(2)
          .Ebike(true, true)
          .Policy("ra-2025", "RA25-EBIKE")
          .Pays(Y(1200), 4000, Y(1200), true)
          .Line(Y(2400)),
      R("ZJ25-EBIKE-EXAMPLE Hangzhou 2,500 → 1,000")
          .At(kHangzhou, k2025)
          .Item("ebike.new", Y(2500))
          .Ebike(true, true)
          .Policy("zj-2025", "ZJ25-EBIKE-EXAMPLE")
          .Pays(Y(1000), 4000, Y(1200)),
      R("ZJ25-EBIKE-EXAMPLE Wenzhou city in 2025 (no file of its own) → zj-2025")
          .At(kWenzhou, k2025)
          .Item("ebike.new", Y(3500))
          .Ebike(true, true)
          .Policy("zj-2025", "ZJ25-EBIKE-EXAMPLE")
          .Pays(Y(1200), 4000, Y(1200), true)
          .Uncapped(Y(1400)),
      R("ZJ25-EBIKE-EXAMPLE without an old bike, uncertified")
          .At(kHangzhou, k2025)
          .Item("ebike.new", Y(2500))
          .Ebike(false, false)
          .Policy("zj-2025", "ZJ25-EBIKE-EXAMPLE")
          .Refused({RC::kOldBikeRequired, RC::kNewBikeNotCertified}),
      R("e-bike in Beijing 2025: not covered")
          .At(kBeijing, k2025)
          .Item("ebike.new", Y(2500))
          .Ebike(true, true)
          .NotCovered("cn-2025"),
      R("e-bike in Rui'an 2026: not covered")
          .At(kRuian, k2026)
          .Item("ebike.new", Y(2500))
          .Ebike(true, true)
          .NotCovered("wz-2026"),
      R("e-bike in Beijing 2026: not covered")
          .At(kBeijing, k2026)
          .Item("ebike.new", Y(2500))
          .Ebike(true, true)
          .NotCovered("cn-2026"),
  };
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// Cars 2025: Zhejiang replacement tiers (Z25-REPL-*, D3, D13) and national scrappage (N25-SCRAP-*, D4).
// ---------------------------------------------------------------------------------------------------------
std::vector<Row> Cars2025() {
  std::vector<Row> rows;
  // Tier edges (D3: lower bounds inclusive, below 50,000 nothing).
  struct Tier {
    int64_t price;
    int64_t nev;
    int64_t fuel;
  };
  const Tier tiers[] = {{Y(49999, 99), 0, 0},
                        {Y(50000), Y(10000), Y(8000)},
                        {Y(99999, 99), Y(10000), Y(8000)},
                        {Y(100000), Y(12000), Y(10000)},
                        {Y(199999, 99), Y(12000), Y(10000)},
                        {Y(200000), Y(15000), Y(13000)},
                        {Y(1000000), Y(15000), Y(13000)}};
  for (const Tier& tier : tiers) {
    for (const int energy : {kNev, kFuel}) {
      const char* rule = energy == kNev ? "Z25-REPL-NEV" : "Z25-REPL-FUEL";
      Row row = R(absl::StrCat("D3 ", rule, " at ", tier.price, " fen"))
                    .At(kRuian, "2025-05-01")
                    .Item("car.new", tier.price)
                    .Vehicle(Replace(energy))
                    .Policy("ra-2025", rule);
      const int64_t amount = energy == kNev ? tier.nev : tier.fuel;
      if (amount == 0) {
        row.Refused({RC::kPriceBelowMinimum});
      } else {
        row.PaysFixed(amount);
      }
      rows.push_back(row);
    }
  }
  rows.push_back(R("Z25-REPL-NEV Hangzhou 120,000 → zj-2025, 12,000")
                     .At(kHangzhou, "2025-05-01")
                     .Item("car.new", Y(120000))
                     .Vehicle(Replace(kNev))
                     .Policy("zj-2025", "Z25-REPL-NEV")
                     .PaysFixed(Y(12000)));
  // Ownership (D4, revised): in the buyer's name on or before 2025-01-08, the day itself included.
  for (const int energy : {kNev, kFuel}) {
    const char* rule = energy == kNev ? "Z25-REPL-NEV" : "Z25-REPL-FUEL";
    rows.push_back(R(absl::StrCat("D4 ", rule, " owned since 2025-01-08 → eligible"))
                       .At(kRuian, "2025-05-01")
                       .Item("car.new", Y(150000))
                       .Vehicle(Replace(energy).OwnedSince("2025-01-08"))
                       .Policy("ra-2025", rule)
                       .PaysFixed(energy == kNev ? Y(12000) : Y(10000)));
    rows.push_back(R(absl::StrCat("D4 ", rule, " owned since 2025-01-09 → too recent"))
                       .At(kRuian, "2025-05-01")
                       .Item("car.new", Y(150000))
                       .Vehicle(Replace(energy).OwnedSince("2025-01-09"))
                       .Policy("ra-2025", rule)
                       .Refused({RC::kOwnershipTooRecent}));
  }
  // D13: no catalogue, displacement, registration cut-off or fuel pairing requirement in Zhejiang 2025.
  rows.push_back(R("D13 Z25-REPL-NEV new NEV not in the catalogue → still 12,000")
                     .At(kRuian, "2025-05-01")
                     .Item("car.new", Y(150000))
                     .Vehicle(Replace(kNev).InCatalogue(false))
                     .Policy("ra-2025", "Z25-REPL-NEV")
                     .PaysFixed(Y(12000)));
  rows.push_back(R("D13 Z25-REPL-FUEL 3,000 ml → still 10,000")
                     .At(kRuian, "2025-05-01")
                     .Item("car.new", Y(150000))
                     .Vehicle(Replace(kFuel).Ml(3000))
                     .Policy("ra-2025", "Z25-REPL-FUEL")
                     .PaysFixed(Y(10000)));
  rows.push_back(R("D13 Z25-REPL-FUEL 2,001 ml → still 10,000")
                     .At(kRuian, "2025-05-01")
                     .Item("car.new", Y(150000))
                     .Vehicle(Replace(kFuel).Ml(2001))
                     .Policy("ra-2025", "Z25-REPL-FUEL")
                     .PaysFixed(Y(10000)));
  rows.push_back(R("D13 Z25-REPL-NEV old gasoline car registered 2024 (no cut-off) → 15,000")
                     .At(kRuian, "2025-05-01")
                     .Item("car.new", Y(250000))
                     .Vehicle(Replace(kNev).Old(kGasoline, "2024-03-01").OwnedSince("2024-03-01"))
                     .Policy("ra-2025", "Z25-REPL-NEV")
                     .PaysFixed(Y(15000)));
  rows.push_back(R("D13 Z25-REPL-FUEL old NEV → new fuel car: no pairing rule in Zhejiang 2025")
                     .At(kRuian, "2025-05-01")
                     .Item("car.new", Y(80000))
                     .Vehicle(Replace(kFuel).Old(kOldNev, "2022-03-01").OwnedSince("2022-03-01"))
                     .Policy("ra-2025", "Z25-REPL-FUEL")
                     .PaysFixed(Y(8000)));
  rows.push_back(R("Z25-REPL-FUEL 49,999.99 and owned since 2025-01-09: both reasons")
                     .At(kRuian, "2025-05-01")
                     .Item("car.new", Y(49999, 99))
                     .Vehicle(Replace(kFuel).OwnedSince("2025-01-09"))
                     .Policy("ra-2025", "Z25-REPL-FUEL")
                     .Refused({RC::kPriceBelowMinimum, RC::kOwnershipTooRecent}));

  // Scrappage: registration cut-offs per old fuel type, inclusive of the day (D4), for both new-car rules,
  // as Zhejiang restates them (Rui'an) and as the national file has them (Beijing).
  struct Cutoff {
    int fuel;
    const char* last_ok;
    const char* first_late;
    bool fuel_rule_too;  // N25-SCRAP-FUEL takes this old fuel type too
  };
  const Cutoff cutoffs[] = {{kGasoline, "2012-06-30", "2012-07-01", true},
                            {kDiesel, "2014-06-30", "2014-07-01", true},
                            {kOther, "2014-06-30", "2014-07-01", true},
                            {kOldNev, "2018-12-31", "2019-01-01", false}};
  const std::pair<const char*, const char*> scrap_places[] = {{kRuian, "ra-2025"}, {kBeijing, "cn-2025"}};
  for (const auto& [region, policy] : scrap_places) {
    for (const Cutoff& cutoff : cutoffs) {
      for (const int energy : {kNev, kFuel}) {
        if (energy == kFuel && !cutoff.fuel_rule_too) continue;
        const char* rule = energy == kNev ? "N25-SCRAP-NEV" : "N25-SCRAP-FUEL";
        const int64_t amount = energy == kNev ? Y(20000) : Y(15000);
        const std::string what = absl::StrCat(
            rule, " ", region, " old ",
            Vehicle::OldFuelType::Value_Name(static_cast<Vehicle::OldFuelType::Value>(cutoff.fuel)));
        rows.push_back(R(absl::StrCat("D4 ", what, " registered ", cutoff.last_ok, " → eligible"))
                           .At(region, "2025-06-01")
                           .Item("car.new", Y(120000))
                           .Vehicle(Scrap(energy).Old(cutoff.fuel, cutoff.last_ok).OwnedSince("2020-01-01"))
                           .Policy(policy, rule)
                           .PaysFixed(amount));
        rows.push_back(
            R(absl::StrCat("D4 ", what, " registered ", cutoff.first_late, " → too new"))
                .At(region, "2025-06-01")
                .Item("car.new", Y(120000))
                .Vehicle(Scrap(energy).Old(cutoff.fuel, cutoff.first_late).OwnedSince("2020-01-01"))
                .Policy(policy, rule)
                .Refused({RC::kOldVehicleTooNew}));
      }
    }
    for (const int energy : {kNev, kFuel}) {
      const char* rule = energy == kNev ? "N25-SCRAP-NEV" : "N25-SCRAP-FUEL";
      const int64_t amount = energy == kNev ? Y(20000) : Y(15000);
      rows.push_back(R(absl::StrCat("D4 ", rule, " ", region, " owned since 2025-01-08 → eligible"))
                         .At(region, "2025-06-01")
                         .Item("car.new", Y(120000))
                         .Vehicle(Scrap(energy).OwnedSince("2025-01-08"))
                         .Policy(policy, rule)
                         .PaysFixed(amount));
      rows.push_back(R(absl::StrCat("D4 ", rule, " ", region, " owned since 2025-01-09 → too recent"))
                         .At(region, "2025-06-01")
                         .Item("car.new", Y(120000))
                         .Vehicle(Scrap(energy).OwnedSince("2025-01-09"))
                         .Policy(policy, rule)
                         .Refused({RC::kOwnershipTooRecent}));
    }
    rows.push_back(R(absl::StrCat("N25-SCRAP-NEV ", region, " new NEV not in the catalogue"))
                       .At(region, "2025-06-01")
                       .Item("car.new", Y(120000))
                       .Vehicle(Scrap(kNev).InCatalogue(false))
                       .Policy(policy, "N25-SCRAP-NEV")
                       .Refused({RC::kNotInNevCatalogue}));
    rows.push_back(R(absl::StrCat("N25-SCRAP-NEV ", region, " old NEV (2018) → new NEV: allowed"))
                       .At(region, "2025-06-01")
                       .Item("car.new", Y(120000))
                       .Vehicle(Scrap(kNev).Old(kOldNev, "2018-06-01").OwnedSince("2018-06-01"))
                       .Policy(policy, "N25-SCRAP-NEV")
                       .PaysFixed(Y(20000)));
    rows.push_back(R(absl::StrCat("N25-SCRAP-FUEL ", region, " 2,000 ml → eligible"))
                       .At(region, "2025-06-01")
                       .Item("car.new", Y(120000))
                       .Vehicle(Scrap(kFuel).Ml(2000))
                       .Policy(policy, "N25-SCRAP-FUEL")
                       .PaysFixed(Y(15000)));
    rows.push_back(R(absl::StrCat("N25-SCRAP-FUEL ", region, " 2,001 ml → too large"))
                       .At(region, "2025-06-01")
                       .Item("car.new", Y(120000))
                       .Vehicle(Scrap(kFuel).Ml(2001))
                       .Policy(policy, "N25-SCRAP-FUEL")
                       .Refused({RC::kDisplacementTooLarge}));
    rows.push_back(R(absl::StrCat("N25-SCRAP-FUEL ", region, " old NEV → new fuel car: refused"))
                       .At(region, "2025-06-01")
                       .Item("car.new", Y(120000))
                       .Vehicle(Scrap(kFuel).Old(kOldNev, "2018-06-01").OwnedSince("2018-06-01"))
                       .Policy(policy, "N25-SCRAP-FUEL")
                       .Refused({RC::kFuelPairingNotAllowed}));
    rows.push_back(R(absl::StrCat("N25-SCRAP-FUEL ", region, " flat whatever the price (30,000)"))
                       .At(region, "2025-06-01")
                       .Item("car.new", Y(30000))
                       .Vehicle(Scrap(kFuel))
                       .Policy(policy, "N25-SCRAP-FUEL")
                       .PaysFixed(Y(15000)));
  }
  // Several failing conditions: every reason is reported.
  rows.push_back(
      R("N25-SCRAP-NEV registered 2013, owned since 2025-01-09, not in the catalogue: 3 reasons")
          .At(kRuian, "2025-06-01")
          .Item("car.new", Y(120000))
          .Vehicle(Scrap(kNev).Old(kGasoline, "2013-01-01").OwnedSince("2025-01-09").InCatalogue(false))
          .Policy("ra-2025", "N25-SCRAP-NEV")
          .Refused({RC::kOldVehicleTooNew, RC::kOwnershipTooRecent, RC::kNotInNevCatalogue}));
  rows.push_back(
      R("N25-SCRAP-FUEL old NEV, owned since 2025-02-01, 2,500 ml: 3 reasons")
          .At(kBeijing, "2025-06-01")
          .Item("car.new", Y(120000))
          .Vehicle(Scrap(kFuel).Old(kOldNev, "2019-06-01").OwnedSince("2025-02-01").Ml(2500))
          .Policy("cn-2025", "N25-SCRAP-FUEL")
          .Refused({RC::kFuelPairingNotAllowed, RC::kOwnershipTooRecent, RC::kDisplacementTooLarge}));
  rows.push_back(R("N25-SCRAP-FUEL diesel 2015, owned since 2025-01-09, 2,001 ml: 3 reasons")
                     .At(kRuian, "2025-06-01")
                     .Item("car.new", Y(120000))
                     .Vehicle(Scrap(kFuel).Old(kDiesel, "2015-01-01").OwnedSince("2025-01-09").Ml(2001))
                     .Policy("ra-2025", "N25-SCRAP-FUEL")
                     .Refused({RC::kOldVehicleTooNew, RC::kOwnershipTooRecent, RC::kDisplacementTooLarge}));
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// 2026: cn-2026 and Wenzhou's wz-2026 (Rui'an uses it); appliances grade 1 only, cars by percentage.
// ---------------------------------------------------------------------------------------------------------
std::vector<Row> Rules2026() {
  std::vector<Row> rows;
  const std::tuple<const char*, const char*> places[] = {
      {kWenzhou, "wz-2026"}, {kRuian, "wz-2026"}, {kHangzhou, "cn-2026"}, {kBeijing, "cn-2026"}};
  for (int grade = 0; grade <= 5; ++grade) {
    for (const auto& [region, policy] : places) {
      Row row = R(absl::StrCat("N26-APPL ", region, " fridge 8,000, energy grade ", grade))
                    .At(region, k2026)
                    .Item("appliance.refrigerator", Y(8000))
                    .Grade(grade)
                    .Policy(policy, "N26-APPL");
      if (grade == 1) {
        row.Pays(Y(1200), 1500, Y(1500));
      } else {
        row.Refused({RC::kGradeNotEligible});
      }
      rows.push_back(row);
    }
  }
  for (const std::string type :
       {"appliance.refrigerator", "appliance.washing_machine", "appliance.television",
        "appliance.air_conditioner", "appliance.computer", "appliance.water_heater"}) {
    rows.push_back(R(absl::StrCat("N26-APPL ", type, " grade 1, 5,000 → 750"))
                       .At(kWenzhou, k2026)
                       .Item(type, Y(5000))
                       .Grade(1)
                       .Policy("wz-2026", "N26-APPL")
                       .Pays(Y(750), 1500, Y(1500)));
  }
  for (const std::string type :
       {"appliance.cooktop", "appliance.range_hood", "appliance.dishwasher", "appliance.water_purifier",
        "appliance.microwave", "appliance.rice_cooker", "appliance.projector"}) {
    rows.push_back(R(absl::StrCat(type, " grade 1 is not covered in 2026 (Wenzhou)"))
                       .At(kWenzhou, k2026)
                       .Item(type, Y(5000))
                       .Grade(1)
                       .NotCovered("wz-2026"));
    rows.push_back(R(absl::StrCat(type, " grade 1 is not covered in 2026 (Beijing)"))
                       .At(kBeijing, k2026)
                       .Item(type, Y(5000))
                       .Grade(1)
                       .NotCovered("cn-2026"));
  }
  rows.push_back(R("N26-APPL projector without a label: not covered in 2026")
                     .At(kRuian, k2026)
                     .Item("appliance.projector", Y(5000))
                     .NotCovered("wz-2026"));
  rows.push_back(R("N26-APPL water heater energy 2, water 1 → grade 1")
                     .At(kWenzhou, k2026)
                     .Item("appliance.water_heater", Y(4000))
                     .Grade(2, 1)
                     .Policy("wz-2026", "N26-APPL")
                     .Pays(Y(600), 1500, Y(1500)));
  rows.push_back(R("N26-APPL washing machine energy 1, water 2 → grade 1")
                     .At(kWenzhou, k2026)
                     .Item("appliance.washing_machine", Y(4000))
                     .Grade(1, 2)
                     .Policy("wz-2026", "N26-APPL")
                     .Pays(Y(600), 1500, Y(1500)));
  rows.push_back(R("N26-APPL washing machine energy 2, water 2 → not eligible")
                     .At(kWenzhou, k2026)
                     .Item("appliance.washing_machine", Y(4000))
                     .Grade(2, 2)
                     .Policy("wz-2026", "N26-APPL")
                     .Refused({RC::kGradeNotEligible}));
  rows.push_back(R("N26-APPL 9,999.99 → 1,499.99")
                     .At(kWenzhou, k2026)
                     .Item("appliance.television", Y(9999, 99))
                     .Grade(1)
                     .Policy("wz-2026", "N26-APPL")
                     .Pays(Y(1499, 99), 1500, Y(1500)));
  rows.push_back(R("N26-APPL 10,000.00 → exactly the cap")
                     .At(kWenzhou, k2026)
                     .Item("appliance.television", Y(10000))
                     .Grade(1)
                     .Policy("wz-2026", "N26-APPL")
                     .Pays(Y(1500), 1500, Y(1500), false)
                     .Uncapped(Y(1500)));
  rows.push_back(R("N26-APPL 10,000.06 → floors to the cap")
                     .At(kWenzhou, k2026)
                     .Item("appliance.television", Y(10000, 6))
                     .Grade(1)
                     .Policy("wz-2026", "N26-APPL")
                     .Pays(Y(1500), 1500, Y(1500), false)
                     .Uncapped(Y(1500)));
  rows.push_back(R("N26-APPL 10,000.07 → capped")
                     .At(kWenzhou, k2026)
                     .Item("appliance.television", Y(10000, 7))
                     .Grade(1)
                     .Policy("wz-2026", "N26-APPL")
                     .Pays(Y(1500), 1500, Y(1500), true)
                     .Uncapped(Y(1500, 1)));
  rows.push_back(R("D6 N26-APPL 2 fridges grade 1 at 12,000 → 1,500 each, 3,000")
                     .At(kWenzhou, k2026)
                     .Item("appliance.refrigerator", Y(12000))
                     .Grade(1)
                     .Qty(2)
                     .Policy("wz-2026", "N26-APPL")
                     .Pays(Y(1500), 1500, Y(1500), true)
                     .Line(Y(3000)));
  rows.push_back(R("D6 N26-APPL 3 air conditioners grade 1 at 5,000 → 750 each (D14 is the ledger's)")
                     .At(kBeijing, k2026)
                     .Item("appliance.air_conditioner", Y(5000))
                     .Grade(1)
                     .Qty(3)
                     .Policy("cn-2026", "N26-APPL")
                     .Pays(Y(750), 1500, Y(1500))
                     .Line(Y(2250)));

  // Digital 2026: four types, no late start, same ceiling and cap.
  for (const std::string type :
       {"digital.phone", "digital.tablet", "digital.smartwatch", "digital.smart_glasses"}) {
    rows.push_back(R(absl::StrCat("N26-DIG ", type, " on 2026-01-01 → 15%"))
                       .At(kWenzhou, "2026-01-01")
                       .Item(type, Y(2000))
                       .Policy("wz-2026", "N26-DIG")
                       .Pays(Y(300), 1500, Y(500)));
  }
  rows.push_back(R("D2 N26-DIG phone 6,000.00 → capped at 500")
                     .At(kWenzhou, k2026)
                     .Item("digital.phone", Y(6000))
                     .Policy("wz-2026", "N26-DIG")
                     .Pays(Y(500), 1500, Y(500), true)
                     .Uncapped(Y(900)));
  rows.push_back(R("D2 N26-DIG phone 6,000.01 → over the ceiling")
                     .At(kWenzhou, k2026)
                     .Item("digital.phone", Y(6000, 1))
                     .Policy("wz-2026", "N26-DIG")
                     .Refused({RC::kPriceAboveCeiling}));
  rows.push_back(R("D2 N26-DIG Beijing smart glasses 6,000.01 → over the ceiling")
                     .At(kBeijing, k2026)
                     .Item("digital.smart_glasses", Y(6000, 1))
                     .Policy("cn-2026", "N26-DIG")
                     .Refused({RC::kPriceAboveCeiling}));
  rows.push_back(R("N26-DIG smart glasses 3,333.33 → 499.99")
                     .At(kWenzhou, k2026)
                     .Item("digital.smart_glasses", Y(3333, 33))
                     .Policy("wz-2026", "N26-DIG")
                     .Pays(Y(499, 99), 1500, Y(500)));
  rows.push_back(R("N26-DIG smart glasses 3,333.34 → exactly the cap")
                     .At(kWenzhou, k2026)
                     .Item("digital.smart_glasses", Y(3333, 34))
                     .Policy("wz-2026", "N26-DIG")
                     .Pays(Y(500), 1500, Y(500), false)
                     .Uncapped(Y(500)));
  rows.push_back(R("N26-DIG smart glasses 3,333.40 → capped")
                     .At(kWenzhou, k2026)
                     .Item("digital.smart_glasses", Y(3333, 40))
                     .Policy("wz-2026", "N26-DIG")
                     .Pays(Y(500), 1500, Y(500), true)
                     .Uncapped(Y(500, 1)));

  // Not covered in 2026.
  for (const std::string type :
       {"furniture.bed", "furniture.smart_toilet", "renovation.old_home", "renovation.elderly_friendly"}) {
    rows.push_back(R(absl::StrCat(type, " is not covered in 2026 (Rui'an)"))
                       .At(kRuian, k2026)
                       .Item(type, Y(5000))
                       .Home("2000-01-01")
                       .NotCovered("wz-2026"));
    rows.push_back(R(absl::StrCat(type, " is not covered in 2026 (Beijing)"))
                       .At(kBeijing, k2026)
                       .Item(type, Y(5000))
                       .Home("2000-01-01")
                       .NotCovered("cn-2026"));
  }

  // Cars 2026: registration cut-offs (scrappage only), per fuel type, inclusive (D4).
  struct Cutoff {
    int fuel;
    const char* last_ok;
    const char* first_late;
    bool fuel_rule_too;
  };
  const Cutoff cutoffs[] = {{kGasoline, "2013-06-30", "2013-07-01", true},
                            {kDiesel, "2015-06-30", "2015-07-01", true},
                            {kOther, "2015-06-30", "2015-07-01", true},
                            {kOldNev, "2019-12-31", "2020-01-01", false}};
  const std::pair<const char*, const char*> scrap_places[] = {{kWenzhou, "wz-2026"}, {kBeijing, "cn-2026"}};
  for (const auto& [region, policy] : scrap_places) {
    for (const Cutoff& cutoff : cutoffs) {
      for (const int energy : {kNev, kFuel}) {
        if (energy == kFuel && !cutoff.fuel_rule_too) continue;
        const char* rule = energy == kNev ? "N26-SCRAP-NEV" : "N26-SCRAP-FUEL";
        // 100,000: NEV 12% = 12,000; fuel 10% = 10,000.
        const int64_t amount = energy == kNev ? Y(12000) : Y(10000);
        const int32_t rate = energy == kNev ? 1200 : 1000;
        const int64_t cap = energy == kNev ? Y(20000) : Y(15000);
        const std::string what = absl::StrCat(
            rule, " ", region, " old ",
            Vehicle::OldFuelType::Value_Name(static_cast<Vehicle::OldFuelType::Value>(cutoff.fuel)));
        rows.push_back(R(absl::StrCat("D4 ", what, " registered ", cutoff.last_ok, " → eligible"))
                           .At(region, k2026)
                           .Item("car.new", Y(100000))
                           .Vehicle(Scrap(energy).Old(cutoff.fuel, cutoff.last_ok).OwnedSince("2020-06-01"))
                           .Policy(policy, rule)
                           .Pays(amount, rate, cap));
        rows.push_back(
            R(absl::StrCat("D4 ", what, " registered ", cutoff.first_late, " → too new"))
                .At(region, k2026)
                .Item("car.new", Y(100000))
                .Vehicle(Scrap(energy).Old(cutoff.fuel, cutoff.first_late).OwnedSince("2020-06-01"))
                .Policy(policy, rule)
                .Refused({RC::kOldVehicleTooNew}));
      }
    }
  }
  // Ownership, all four rules.
  struct CarRule {
    const char* rule;
    int kind;
    int energy;
    int32_t rate;
    int64_t cap;
  };
  const CarRule car_rules[] = {{"N26-SCRAP-NEV", kScrap, kNev, 1200, Y(20000)},
                               {"N26-SCRAP-FUEL", kScrap, kFuel, 1000, Y(15000)},
                               {"N26-REPL-NEV", kReplace, kNev, 800, Y(15000)},
                               {"N26-REPL-FUEL", kReplace, kFuel, 600, Y(13000)}};
  for (const CarRule& r : car_rules) {
    const int64_t at_100k = Y(100000) * r.rate / 10000;
    rows.push_back(R(absl::StrCat("D4 ", r.rule, " owned since 2025-01-08 → eligible"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", Y(100000))
                       .Vehicle(NewCar(r.kind, r.energy).OwnedSince("2025-01-08"))
                       .Policy("wz-2026", r.rule)
                       .Pays(at_100k, r.rate, r.cap));
    rows.push_back(R(absl::StrCat("D4 ", r.rule, " owned since 2025-01-09 → too recent"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", Y(100000))
                       .Vehicle(NewCar(r.kind, r.energy).OwnedSince("2025-01-09"))
                       .Policy("wz-2026", r.rule)
                       .Refused({RC::kOwnershipTooRecent}));
    rows.push_back(R(absl::StrCat(r.rule, " Beijing 100,000"))
                       .At(kBeijing, k2026)
                       .Item("car.new", Y(100000))
                       .Vehicle(NewCar(r.kind, r.energy))
                       .Policy("cn-2026", r.rule)
                       .Pays(at_100k, r.rate, r.cap));
  }
  // Cap edges of the four percentages (the first price whose floored amount exceeds the cap).
  struct CapEdge {
    const char* rule;
    int kind;
    int energy;
    int32_t rate;
    int64_t cap;
    int64_t reach;            // the first price paying exactly the cap
    int64_t last_not_capped;  // the last price still paying exactly the cap
  };
  const CapEdge edges[] = {
      {"N26-SCRAP-NEV", kScrap, kNev, 1200, Y(20000), Y(166666, 67), Y(166666, 74)},
      {"N26-SCRAP-FUEL", kScrap, kFuel, 1000, Y(15000), Y(150000), Y(150000, 9)},
      {"N26-REPL-NEV", kReplace, kNev, 800, Y(15000), Y(187500), Y(187500, 12)},
      {"N26-REPL-FUEL", kReplace, kFuel, 600, Y(13000), Y(216666, 67), Y(216666, 83)},
  };
  for (const CapEdge& e : edges) {
    rows.push_back(R(absl::StrCat(e.rule, " one fen below the cap price (", e.reach - 1, " fen)"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", e.reach - 1)
                       .Vehicle(NewCar(e.kind, e.energy))
                       .Policy("wz-2026", e.rule)
                       .Pays(e.cap - 1, e.rate, e.cap, false));
    rows.push_back(R(absl::StrCat(e.rule, " at ", e.reach, " fen → exactly the cap"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", e.reach)
                       .Vehicle(NewCar(e.kind, e.energy))
                       .Policy("wz-2026", e.rule)
                       .Pays(e.cap, e.rate, e.cap, false)
                       .Uncapped(e.cap));
    rows.push_back(R(absl::StrCat(e.rule, " at ", e.last_not_capped, " fen → floors to the cap"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", e.last_not_capped)
                       .Vehicle(NewCar(e.kind, e.energy))
                       .Policy("wz-2026", e.rule)
                       .Pays(e.cap, e.rate, e.cap, false)
                       .Uncapped(e.cap));
    rows.push_back(R(absl::StrCat(e.rule, " at ", e.last_not_capped + 1, " fen → capped"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", e.last_not_capped + 1)
                       .Vehicle(NewCar(e.kind, e.energy))
                       .Policy("wz-2026", e.rule)
                       .Pays(e.cap, e.rate, e.cap, true)
                       .Uncapped(e.cap + 1));
  }
  // Catalogue, displacement, pairing.
  for (const char* rule : {"N26-SCRAP-NEV", "N26-REPL-NEV"}) {
    const int kind = std::string(rule) == "N26-SCRAP-NEV" ? kScrap : kReplace;
    rows.push_back(R(absl::StrCat(rule, " new NEV not in the catalogue"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", Y(100000))
                       .Vehicle(NewCar(kind, kNev).InCatalogue(false))
                       .Policy("wz-2026", rule)
                       .Refused({RC::kNotInNevCatalogue}));
    rows.push_back(R(absl::StrCat(rule, " old NEV → new NEV: allowed"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", Y(100000))
                       .Vehicle(NewCar(kind, kNev).Old(kOldNev, "2019-06-01").OwnedSince("2019-06-01"))
                       .Policy("wz-2026", rule)
                       .Pays(kind == kScrap ? Y(12000) : Y(8000), kind == kScrap ? 1200 : 800,
                             kind == kScrap ? Y(20000) : Y(15000)));
  }
  for (const char* rule : {"N26-SCRAP-FUEL", "N26-REPL-FUEL"}) {
    const bool scrap = std::string(rule) == "N26-SCRAP-FUEL";
    const int kind = scrap ? kScrap : kReplace;
    const int64_t amount = scrap ? Y(10000) : Y(6000);
    const int32_t rate = scrap ? 1000 : 600;
    const int64_t cap = scrap ? Y(15000) : Y(13000);
    rows.push_back(R(absl::StrCat(rule, " 2,000 ml → eligible"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", Y(100000))
                       .Vehicle(NewCar(kind, kFuel).Ml(2000))
                       .Policy("wz-2026", rule)
                       .Pays(amount, rate, cap));
    rows.push_back(R(absl::StrCat(rule, " 2,001 ml → too large"))
                       .At(kWenzhou, k2026)
                       .Item("car.new", Y(100000))
                       .Vehicle(NewCar(kind, kFuel).Ml(2001))
                       .Policy("wz-2026", rule)
                       .Refused({RC::kDisplacementTooLarge}));
    // D18: the old-NEV-only-for-a-new-NEV pairing is a scrappage rule; replacement takes any old car.
    if (scrap) {
      rows.push_back(R(absl::StrCat(rule, " old NEV → new fuel car: refused"))
                         .At(kWenzhou, k2026)
                         .Item("car.new", Y(100000))
                         .Vehicle(NewCar(kind, kFuel).Old(kOldNev, "2019-06-01").OwnedSince("2019-06-01"))
                         .Policy("wz-2026", rule)
                         .Refused({RC::kFuelPairingNotAllowed}));
    } else {
      for (const char* region : {kWenzhou, kBeijing}) {
        rows.push_back(R(absl::StrCat("D18 ", rule, " ", region, " old NEV → new fuel car: allowed"))
                           .At(region, k2026)
                           .Item("car.new", Y(100000))
                           .Vehicle(NewCar(kind, kFuel).Old(kOldNev, "2019-06-01").OwnedSince("2019-06-01"))
                           .Policy(std::string(region) == kWenzhou ? "wz-2026" : "cn-2026", rule)
                           .Pays(amount, rate, cap));
      }
    }
    rows.push_back(R(absl::StrCat(rule, " old DIESEL car → new fuel car: allowed"))
                       .At(kBeijing, k2026)
                       .Item("car.new", Y(100000))
                       .Vehicle(NewCar(kind, kFuel).Old(kDiesel, "2012-06-01").OwnedSince("2012-06-01"))
                       .Policy("cn-2026", rule)
                       .Pays(amount, rate, cap));
  }
  rows.push_back(R("N26-REPL-NEV old car registered 2024 (no cut-off for replacement) → 8%")
                     .At(kWenzhou, k2026)
                     .Item("car.new", Y(100000))
                     .Vehicle(Replace(kNev).Old(kGasoline, "2024-06-01").OwnedSince("2024-06-01"))
                     .Policy("wz-2026", "N26-REPL-NEV")
                     .Pays(Y(8000), 800, Y(15000)));
  rows.push_back(R("N26-REPL-FUEL old OTHER-fuel car registered 2024 → 6%")
                     .At(kWenzhou, k2026)
                     .Item("car.new", Y(100000))
                     .Vehicle(Replace(kFuel).Old(kOther, "2024-06-01").OwnedSince("2024-06-01"))
                     .Policy("wz-2026", "N26-REPL-FUEL")
                     .Pays(Y(6000), 600, Y(13000)));
  rows.push_back(
      R("N26-REPL-FUEL old NEV, 2,500 ml, owned since 2025-03-01: 2 reasons (no pairing rule, D18)")
          .At(kWenzhou, k2026)
          .Item("car.new", Y(100000))
          .Vehicle(Replace(kFuel).Old(kOldNev, "2020-06-01").OwnedSince("2025-03-01").Ml(2500))
          .Policy("wz-2026", "N26-REPL-FUEL")
          .Refused({RC::kOwnershipTooRecent, RC::kDisplacementTooLarge}));
  rows.push_back(R("N26-SCRAP-FUEL gasoline 2014, owned since 2025-03-01, 2,001 ml: 3 reasons")
                     .At(kBeijing, k2026)
                     .Item("car.new", Y(100000))
                     .Vehicle(Scrap(kFuel).Old(kGasoline, "2014-01-01").OwnedSince("2025-03-01").Ml(2001))
                     .Policy("cn-2026", "N26-SCRAP-FUEL")
                     .Refused({RC::kOldVehicleTooNew, RC::kOwnershipTooRecent, RC::kDisplacementTooLarge}));
  rows.push_back(
      R("N26-SCRAP-NEV old NEV 2020, not in the catalogue: 2 reasons")
          .At(kWenzhou, k2026)
          .Item("car.new", Y(100000))
          .Vehicle(Scrap(kNev).Old(kOldNev, "2020-01-01").OwnedSince("2020-01-01").InCatalogue(false))
          .Policy("wz-2026", "N26-SCRAP-NEV")
          .Refused({RC::kOldVehicleTooNew, RC::kNotInNevCatalogue}));
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// The policy window: 2025-12-31 and 2026-01-01 select different policies; a pinned policy outside its window.
// ---------------------------------------------------------------------------------------------------------
std::vector<Row> Windows() {
  std::vector<Row> rows = {
      R("Rui'an 2025-01-01, the first day → ra-2025")
          .At(kRuian, "2025-01-01")
          .Item("appliance.refrigerator", Y(5000))
          .Grade(1)
          .Policy("ra-2025", "Z25-APPL")
          .Pays(Y(1000), 2000, Y(2000)),
      R("Rui'an 2025-12-31 → ra-2025, Zhejiang's 20%")
          .At(kRuian, "2025-12-31")
          .Item("appliance.refrigerator", Y(5000))
          .Grade(1)
          .Policy("ra-2025", "Z25-APPL")
          .Pays(Y(1000), 2000, Y(2000)),
      R("Rui'an 2026-01-01 → wz-2026, the national 15%")
          .At(kRuian, "2026-01-01")
          .Item("appliance.refrigerator", Y(5000))
          .Grade(1)
          .Policy("wz-2026", "N26-APPL")
          .Pays(Y(750), 1500, Y(1500)),
      R("Rui'an 2026-12-31, the last day → wz-2026")
          .At(kRuian, "2026-12-31")
          .Item("appliance.refrigerator", Y(5000))
          .Grade(1)
          .Policy("wz-2026", "N26-APPL")
          .Pays(Y(750), 1500, Y(1500)),
      R("Rui'an grade-2 fridge 2025-12-31 → 15%")
          .At(kRuian, "2025-12-31")
          .Item("appliance.refrigerator", Y(5000))
          .Grade(2)
          .Policy("ra-2025", "Z25-APPL")
          .Pays(Y(750), 1500, Y(2000)),
      R("Rui'an grade-2 fridge 2026-01-01 → not eligible")
          .At(kRuian, "2026-01-01")
          .Item("appliance.refrigerator", Y(5000))
          .Grade(2)
          .Policy("wz-2026", "N26-APPL")
          .Refused({RC::kGradeNotEligible}),
      R("Hangzhou 2025-12-31 → zj-2025")
          .At(kHangzhou, "2025-12-31")
          .Item("furniture.bed", Y(5000))
          .Policy("zj-2025", "Z25-FURN")
          .Pays(Y(750), 1500, Y(2000)),
      R("Hangzhou 2026-01-01 → cn-2026: no furniture")
          .At(kHangzhou, "2026-01-01")
          .Item("furniture.bed", Y(5000))
          .NotCovered("cn-2026"),
      R("Wenzhou 2025-12-31 → zj-2025")
          .At(kWenzhou, "2025-12-31")
          .Item("furniture.bed", Y(5000))
          .Policy("zj-2025", "Z25-FURN")
          .Pays(Y(750), 1500, Y(2000)),
      R("Wenzhou 2026-01-01 → wz-2026")
          .At(kWenzhou, "2026-01-01")
          .Item("furniture.bed", Y(5000))
          .NotCovered("wz-2026"),
      R("Beijing 2025-12-31 → cn-2025")
          .At(kBeijing, "2025-12-31")
          .Item("appliance.cooktop", Y(5000))
          .Grade(2)
          .Policy("cn-2025", "N25-APPL")
          .Pays(Y(750), 1500, Y(2000)),
      R("Beijing 2026-01-01 → cn-2026: no cooktops")
          .At(kBeijing, "2026-01-01")
          .Item("appliance.cooktop", Y(5000))
          .Grade(2)
          .NotCovered("cn-2026"),
      R("Rui'an phone 2025-12-31 → N25-DIG")
          .At(kRuian, "2025-12-31")
          .Item("digital.phone", Y(4000))
          .Policy("ra-2025", "N25-DIG")
          .Pays(Y(500), 1500, Y(500), true),
      R("Rui'an phone 2026-01-01 → N26-DIG")
          .At(kRuian, "2026-01-01")
          .Item("digital.phone", Y(4000))
          .Policy("wz-2026", "N26-DIG")
          .Pays(Y(500), 1500, Y(500), true),
      R("Rui'an car replacement 2025-12-31 → Zhejiang tiers")
          .At(kRuian, "2025-12-31")
          .Item("car.new", Y(150000))
          .Vehicle(Replace(kNev))
          .Policy("ra-2025", "Z25-REPL-NEV")
          .PaysFixed(Y(12000)),
      R("Rui'an car replacement 2026-01-01 → 8%")
          .At(kRuian, "2026-01-01")
          .Item("car.new", Y(150000))
          .Vehicle(Replace(kNev))
          .Policy("wz-2026", "N26-REPL-NEV")
          .Pays(Y(12000), 800, Y(15000)),
      // A pinned policy priced on a day outside its transaction window.
      R("pinned ra-2025 on 2026-01-01 → outside the window")
          .Pinned("ra-2025", "2026-01-01")
          .Item("appliance.refrigerator", Y(5000))
          .Grade(1)
          .Policy("ra-2025", "Z25-APPL")
          .Refused({RC::kOutsideProgrammeWindow}),
      R("pinned cn-2026 on 2025-12-31 → outside the window")
          .Pinned("cn-2026", "2025-12-31")
          .Item("appliance.refrigerator", Y(5000))
          .Grade(1)
          .Policy("cn-2026", "N26-APPL")
          .Refused({RC::kOutsideProgrammeWindow}),
      R("pinned cn-2025 on 2024-12-31 → outside the window")
          .Pinned("cn-2025", "2024-12-31")
          .Item("car.new", Y(150000))
          .Vehicle(Scrap(kNev))
          .Policy("cn-2025", "N25-SCRAP-NEV")
          .Refused({RC::kOutsideProgrammeWindow}),
      R("pinned ra-2025 on 2026-01-01, fridge grade 3: both reasons")
          .Pinned("ra-2025", "2026-01-01")
          .Item("appliance.refrigerator", Y(5000))
          .Grade(3)
          .Policy("ra-2025", "Z25-APPL")
          .Refused({RC::kOutsideProgrammeWindow, RC::kGradeNotEligible}),
      R("pinned zj-2025 on 2026-01-01, home completed 2023-06-01: both reasons")
          .Pinned("zj-2025", "2026-01-01")
          .Item("renovation.old_home", Y(50000))
          .Home("2023-06-01")
          .Policy("zj-2025", "Z25-RENO")
          .Refused({RC::kOutsideProgrammeWindow, RC::kHomeTooNew}),
      R("Rui'an 2025-01-19 phone 6,000.01: before the digital start and over the ceiling")
          .At(kRuian, "2025-01-19")
          .Item("digital.phone", Y(6000, 1))
          .Policy("ra-2025", "N25-DIG")
          .Refused({RC::kOutsideProgrammeWindow, RC::kPriceAboveCeiling}),
      R("pinned ra-2025 e-bike on 2026-01-01 with nothing handed in: 3 reasons")
          .Pinned("ra-2025", "2026-01-01")
          .Item("ebike.new", Y(2500))
          .Ebike(false, false)
          .Policy("ra-2025", "RA25-EBIKE")
          .Refused({RC::kOutsideProgrammeWindow, RC::kOldBikeRequired, RC::kNewBikeNotCertified}),
  };
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// Every rule as other Zhejiang cities (zj-2025) and Beijing see it, granted and refused.
// ---------------------------------------------------------------------------------------------------------
std::vector<Row> OtherRegions() {
  std::vector<Row> rows = {
      R("zj-2025 Hangzhou scrappage → catalogue NEV: 20,000")
          .At(kHangzhou, "2025-06-01")
          .Item("car.new", Y(150000))
          .Vehicle(Scrap(kNev))
          .Policy("zj-2025", "N25-SCRAP-NEV")
          .PaysFixed(Y(20000)),
      R("zj-2025 Hangzhou scrappage → NEV not in the catalogue")
          .At(kHangzhou, "2025-06-01")
          .Item("car.new", Y(150000))
          .Vehicle(Scrap(kNev).InCatalogue(false))
          .Policy("zj-2025", "N25-SCRAP-NEV")
          .Refused({RC::kNotInNevCatalogue}),
      R("zj-2025 Wenzhou city scrappage → fuel car 2,000 ml: 15,000")
          .At(kWenzhou, "2025-06-01")
          .Item("car.new", Y(90000))
          .Vehicle(Scrap(kFuel).Ml(2000))
          .Policy("zj-2025", "N25-SCRAP-FUEL")
          .PaysFixed(Y(15000)),
      R("zj-2025 Wenzhou city scrappage → fuel car 2,001 ml")
          .At(kWenzhou, "2025-06-01")
          .Item("car.new", Y(90000))
          .Vehicle(Scrap(kFuel).Ml(2001))
          .Policy("zj-2025", "N25-SCRAP-FUEL")
          .Refused({RC::kDisplacementTooLarge}),
      R("zj-2025 Wenzhou city replacement NEV 49,999.99 → below the lowest tier")
          .At(kWenzhou, "2025-05-01")
          .Item("car.new", Y(49999, 99))
          .Vehicle(Replace(kNev))
          .Policy("zj-2025", "Z25-REPL-NEV")
          .Refused({RC::kPriceBelowMinimum}),
      R("zj-2025 Wenzhou city replacement fuel 200,000 → 13,000")
          .At(kWenzhou, "2025-05-01")
          .Item("car.new", Y(200000))
          .Vehicle(Replace(kFuel))
          .Policy("zj-2025", "Z25-REPL-FUEL")
          .PaysFixed(Y(13000)),
      R("zj-2025 Hangzhou replacement fuel, owned since 2025-01-09")
          .At(kHangzhou, "2025-05-01")
          .Item("car.new", Y(200000))
          .Vehicle(Replace(kFuel).OwnedSince("2025-01-09"))
          .Policy("zj-2025", "Z25-REPL-FUEL")
          .Refused({RC::kOwnershipTooRecent}),
      R("zj-2025 Hangzhou renovation, home completed 2010 → 15%")
          .At(kHangzhou, k2025)
          .Item("renovation.old_home", Y(30000))
          .Home("2010-01-01")
          .Policy("zj-2025", "Z25-RENO")
          .Pays(Y(4500), 1500, Y(20000)),
      R("zj-2025 pinned on 2026-01-01: bed outside the window")
          .Pinned("zj-2025", "2026-01-01")
          .Item("furniture.bed", Y(5000))
          .Policy("zj-2025", "Z25-FURN")
          .Refused({RC::kOutsideProgrammeWindow}),
      R("zj-2025 pinned on 2024-12-31: elderly-friendly outside the window")
          .Pinned("zj-2025", "2024-12-31")
          .Item("renovation.elderly_friendly", Y(5000))
          .Policy("zj-2025", "Z25-AGE")
          .Refused({RC::kOutsideProgrammeWindow}),
      R("zj-2025 Hangzhou smart glasses: not covered in 2025")
          .At(kHangzhou, k2025)
          .Item("digital.smart_glasses", Y(2000))
          .NotCovered("zj-2025"),
      R("ra-2025 pinned on 2024-12-31: sofa outside the window")
          .Pinned("ra-2025", "2024-12-31")
          .Item("furniture.sofa", Y(5000))
          .Policy("ra-2025", "Z25-FURN")
          .Refused({RC::kOutsideProgrammeWindow}),
      R("ra-2025 pinned on 2026-01-01: elderly-friendly outside the window")
          .Pinned("ra-2025", "2026-01-01")
          .Item("renovation.elderly_friendly", Y(5000))
          .Policy("ra-2025", "Z25-AGE")
          .Refused({RC::kOutsideProgrammeWindow}),
      R("cn-2026 Beijing replacement → NEV not in the catalogue")
          .At(kBeijing, k2026)
          .Item("car.new", Y(100000))
          .Vehicle(Replace(kNev).InCatalogue(false))
          .Policy("cn-2026", "N26-REPL-NEV")
          .Refused({RC::kNotInNevCatalogue}),
      R("cn-2026 Beijing replacement → fuel car 2,001 ml")
          .At(kBeijing, k2026)
          .Item("car.new", Y(100000))
          .Vehicle(Replace(kFuel).Ml(2001))
          .Policy("cn-2026", "N26-REPL-FUEL")
          .Refused({RC::kDisplacementTooLarge}),
      R("cn-2026 Hangzhou phone 3,000 → 450")
          .At(kHangzhou, k2026)
          .Item("digital.phone", Y(3000))
          .Policy("cn-2026", "N26-DIG")
          .Pays(Y(450), 1500, Y(500)),
  };
  return rows;
}

const std::vector<std::pair<std::string, std::vector<Row>>>& Groups() {
  static const auto* const groups = new std::vector<std::pair<std::string, std::vector<Row>>>{
      {"WorkedExamples", WorkedExamples()},
      {"Appliances2025", Appliances2025()},
      {"Digital2025", Digital2025()},
      {"HomeRules2025", HomeRules2025()},
      {"Ebikes", Ebikes()},
      {"Cars2025", Cars2025()},
      {"Rules2026", Rules2026()},
      {"Windows", Windows()},
      {"OtherRegions", OtherRegions()},
  };
  return *groups;
}

const std::vector<Row>& Group(absl::string_view name) {
  for (const auto& [group, rows] : Groups()) {
    if (group == name) return rows;
  }
  static const std::vector<Row> kNone;
  ADD_FAILURE() << "no group " << name;
  return kNone;
}

TEST(CalculatorTest, WorkedExamples) { CheckRows(Group("WorkedExamples")); }
TEST(CalculatorTest, Appliances2025) { CheckRows(Group("Appliances2025")); }
TEST(CalculatorTest, Digital2025) { CheckRows(Group("Digital2025")); }
TEST(CalculatorTest, FurnitureRenovationElderly2025) { CheckRows(Group("HomeRules2025")); }
TEST(CalculatorTest, Ebikes) { CheckRows(Group("Ebikes")); }
TEST(CalculatorTest, Cars2025) { CheckRows(Group("Cars2025")); }
TEST(CalculatorTest, Rules2026) { CheckRows(Group("Rules2026")); }
TEST(CalculatorTest, PolicyWindows) { CheckRows(Group("Windows")); }
TEST(CalculatorTest, OtherRegions) { CheckRows(Group("OtherRegions")); }

// The table covers every rule of every shipped policy, each with a granted and a refused row, and every
// reason the calculator can give.
TEST(CalculatorTest, TableCoversEveryShippedRuleAndReason) {
  const PolicySnapshot* snapshot = Shipped();
  ASSERT_NE(snapshot, nullptr);
  std::map<std::string, int> rows_per_policy;
  std::set<std::pair<std::string, std::string>> granted;  // (policy, rule)
  std::set<std::pair<std::string, std::string>> refused;
  std::set<RC> reasons;
  for (const auto& [group, rows] : Groups()) {
    for (const Row& row : rows) {
      ++rows_per_policy[row.want_policy];
      (row.want_reasons.empty() ? granted : refused).emplace(row.want_policy, row.want_rule);
      reasons.insert(row.want_reasons.begin(), row.want_reasons.end());
    }
  }
  for (const auto& shipped : snapshot->policies()) {
    const std::string& id = shipped->id();
    EXPECT_GT(rows_per_policy[id], 0) << id;
    EXPECT_TRUE(refused.contains({id, ""})) << id << " has no NOT_COVERED row";
    for (const policy::CompiledRule& rule : shipped->rules()) {
      EXPECT_TRUE(granted.contains({id, rule.id()})) << id << " " << rule.id() << " has no granted row";
      EXPECT_TRUE(refused.contains({id, rule.id()})) << id << " " << rule.id() << " has no refused row";
    }
  }
  for (int code = 0; code <= static_cast<int>(RC::kNewBikeNotCertified); ++code) {
    EXPECT_TRUE(reasons.contains(static_cast<RC>(code))) << ReasonName(static_cast<RC>(code));
  }
  std::cout << "calculator rows per policy: "
            << absl::StrJoin(rows_per_policy, ", ", absl::PairFormatter("=")) << "\n";
}

}  // namespace
}  // namespace tradein::pricing
