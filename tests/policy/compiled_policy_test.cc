#include "services/policy/compiled_policy.h"

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "common/civil_date.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/policy/policy_test_util.h"

namespace tradein::policy {
namespace {

const CompiledPolicy& Shipped(const char* id) {
  static const auto snapshot = policy_test::ShippedSnapshot();
  const CompiledPolicy* policy = snapshot == nullptr ? nullptr : snapshot->FindById(id);
  if (policy == nullptr) {
    ADD_FAILURE() << "no shipped policy " << id;
    std::abort();
  }
  return *policy;
}

ProductTypeId Type(const char* code) {
  const std::optional<ProductTypeId> id = policy_test::ShippedSnapshot()->catalogue().Find(code);
  if (!id.has_value()) {
    ADD_FAILURE() << "unknown " << code;
    return 0;
  }
  return *id;
}

const CompiledQuota& Quota(const CompiledPolicy& policy, const std::string& id) {
  for (const CompiledQuota& q : policy.quotas()) {
    if (q.id() == id) return q;
  }
  ADD_FAILURE() << policy.id() << " has no quota " << id;
  std::abort();
}

int RuleIndex(const CompiledPolicy& policy, const std::string& id) {
  for (const CompiledRule& r : policy.rules()) {
    if (r.id() == id) return r.index;
  }
  ADD_FAILURE() << policy.id() << " has no rule " << id;
  return -1;
}

TEST(CompiledQuotaTest, UnitLimitOverridesFirst) {
  const CompiledPolicy& ra = Shipped("ra-2025");
  const CompiledQuota& appliances = Quota(ra, "appliance-per-type");
  EXPECT_EQ(appliances.UnitLimit(Type("appliance.air_conditioner")), 3);  // 空调最多3件
  EXPECT_EQ(appliances.UnitLimit(Type("appliance.refrigerator")), 1);
  EXPECT_TRUE(appliances.per_product_type);
  EXPECT_EQ(appliances.programme, "cn-2025");
  // D14: no air-conditioner exception in 2026.
  EXPECT_EQ(Quota(Shipped("wz-2026"), "appliance-per-type").UnitLimit(Type("appliance.air_conditioner")), 1);
  EXPECT_EQ(Quota(Shipped("cn-2026"), "appliance-per-type").UnitLimit(Type("appliance.air_conditioner")), 1);
  // Quotas without a count limit.
  EXPECT_EQ(Quota(ra, "car-old-vehicle").UnitLimit(Type("car.new")), std::nullopt);
  EXPECT_TRUE(Quota(ra, "car-old-vehicle").once_per_old_vehicle);
  const CompiledQuota& elderly = Quota(ra, "elderly-amount");
  EXPECT_EQ(elderly.UnitLimit(Type("renovation.elderly_friendly")), std::nullopt);
  EXPECT_EQ(elderly.max_amount_fen, 2000000);  // D16
  const CompiledQuota& renovation = Quota(ra, "renovation");
  EXPECT_EQ(renovation.UnitLimit(Type("renovation.old_home")), 1);
  EXPECT_TRUE(renovation.once_per_home);
}

TEST(CompiledQuotaTest, CoversByProductTypeOrRule) {
  const CompiledPolicy& ra = Shipped("ra-2025");
  const int appl = RuleIndex(ra, "Z25-APPL");
  const CompiledQuota& appliances = Quota(ra, "appliance-per-type");
  EXPECT_TRUE(appliances.Covers(Type("appliance.refrigerator"), appl));
  EXPECT_TRUE(appliances.Covers(Type("appliance.air_conditioner"), appl));
  EXPECT_FALSE(appliances.Covers(Type("furniture.bed"), RuleIndex(ra, "Z25-FURN")));
  EXPECT_FALSE(appliances.Covers(Type("digital.phone"), RuleIndex(ra, "N25-DIG")));
  EXPECT_TRUE(Quota(ra, "furniture-per-type").Covers(Type("furniture.bed"), RuleIndex(ra, "Z25-FURN")));
  EXPECT_TRUE(Quota(ra, "digital-per-type").Covers(Type("digital.phone"), RuleIndex(ra, "N25-DIG")));
  EXPECT_FALSE(Quota(ra, "digital-per-type").Covers(Type("digital.smart_glasses"), -1));
  // Rule members: every car rule of Zhejiang shares one use per old car; the kind quotas split them.
  const ProductTypeId car = Type("car.new");
  for (const char* rule : {"N25-SCRAP-NEV", "N25-SCRAP-FUEL", "Z25-REPL-NEV", "Z25-REPL-FUEL"}) {
    SCOPED_TRACE(rule);
    EXPECT_TRUE(Quota(ra, "car-old-vehicle").Covers(car, RuleIndex(ra, rule)));
    const bool scrap = std::string(rule).find("SCRAP") != std::string::npos;
    EXPECT_EQ(Quota(ra, "car-scrappage").Covers(car, RuleIndex(ra, rule)), scrap);
    EXPECT_EQ(Quota(ra, "car-replacement").Covers(car, RuleIndex(ra, rule)), !scrap);
  }
  // National 2025's old-car quota covers scrappage only (there is no national replacement).
  const CompiledPolicy& cn = Shipped("cn-2025");
  EXPECT_TRUE(Quota(cn, "car-old-vehicle").Covers(car, RuleIndex(cn, "N25-SCRAP-FUEL")));
  EXPECT_FALSE(
      Quota(cn, "car-old-vehicle").Covers(Type("appliance.refrigerator"), RuleIndex(cn, "N25-APPL")));
  // Wenzhou 2026: one car quota over all four rules.
  const CompiledPolicy& wz = Shipped("wz-2026");
  for (const char* rule : {"N26-SCRAP-NEV", "N26-SCRAP-FUEL", "N26-REPL-NEV", "N26-REPL-FUEL"}) {
    EXPECT_TRUE(Quota(wz, "car").Covers(car, RuleIndex(wz, rule))) << rule;
  }
  EXPECT_FALSE(Quota(wz, "car").Covers(Type("appliance.refrigerator"), RuleIndex(wz, "N26-APPL")));
}

TEST(CompiledBudgetTest, Covers) {
  const CompiledPolicy& ra = Shipped("ra-2025");
  ASSERT_EQ(ra.budgets().size(), 1u);
  const CompiledBudget& ebike = ra.budgets()[0];
  EXPECT_EQ(ebike.id(), "ra-2025-ebike");
  EXPECT_EQ(ebike.programme, "zj-2025");
  EXPECT_EQ(ebike.total_fen, 200000000);
  EXPECT_TRUE(ebike.Covers(Type("ebike.new"), RuleIndex(ra, "RA25-EBIKE")));
  EXPECT_FALSE(ebike.Covers(Type("appliance.refrigerator"), RuleIndex(ra, "Z25-APPL")));
}

// A small policy compiled against the shipped catalogue: what Compile resolves.
TEST(CompiledPolicyTest, CompilesWindowsRulesQuotasAndBudgets) {
  v1::Policy p;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        id: "t"
        region_code: "330000"
        programme: "t-2025"
        transaction_window { first_day: "2025-01-01" last_day: "2025-12-31" }
        rounding { unit: YUAN mode: HALF_UP }
        hold { seconds: 900 }
        refund { restores_quota: false }
        rules {
          id: "R1"
          product_types: [ "digital.phone", "digital.tablet" ]
          transaction_window { first_day: "2025-02-01" last_day: "2025-11-30" }
          claim_window { first_day: "2025-02-01" last_day: "2026-01-31" }
          eligibility {
            max_price { fen: 600000 }
            min_price { fen: 100 }
          }
          percentage {
            grade_rates { max_grade: 1 rate_bp: 2000 }
            grade_rates { max_grade: 3 rate_bp: 1000 }
            other_rate { bp: 500 }
            cap { fen: 50000 }
          }
        }
        rules {
          id: "R2"
          product_types: "car.new"
          trade_in_kind: REPLACEMENT
          new_energy_type: FUEL
          eligibility {
            vehicle {
              old_registered_on_or_before {
                old_fuel_types: [ DIESEL, OTHER ]
                last_day: "2014-06-30"
              }
              old_owned_since_on_or_before { day: "2025-01-07" }
              new_displacement { max_ml: 2000 }
              allowed_old_fuel_types { old_fuel_types: [ GASOLINE, DIESEL ] }
            }
          }
          tiers {
            tiers { min_price_fen: 100 amount_fen: 10 }
            tiers { min_price_fen: 200 amount_fen: 20 }
          }
        }
        rules {
          id: "R3"
          product_types: "renovation.old_home"
          eligibility { home { completed_before { day: "2023-01-01" } } }
          flat { amount_fen: 7 }
        }
        quotas {
          id: "all-digital"
          product_types: [ "digital.phone", "digital.tablet" ]
          per_product_type: true
          max_units: 1
          unit_overrides { product_type: "digital.tablet" max_units: 2 }
        }
        quotas { id: "cars" rule_ids: "R2" max_units: 1 programme: "other" }
        budgets { id: "everything" total_fen: 1000 }
      )pb",
      &p));
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  absl::StatusOr<std::unique_ptr<CompiledPolicy>> compiled =
      CompiledPolicy::Compile(p, snapshot->catalogue());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const CompiledPolicy& c = **compiled;
  EXPECT_EQ(c.transaction_window().first, absl::CivilDay(2025, 1, 1));
  EXPECT_EQ(c.claim_window().last, absl::CivilDay(2025, 12, 31));  // defaults to the transaction window
  EXPECT_EQ(c.rounding().unit, RoundingRule::Unit::kYuan);
  EXPECT_EQ(c.rounding().mode, RoundingRule::Mode::kHalfUp);
  EXPECT_EQ(c.hold(), absl::Seconds(900));
  EXPECT_FALSE(c.refund_restores_quota());
  ASSERT_EQ(c.rules().size(), 3u);

  const CompiledRule& r1 = c.rules()[0];
  EXPECT_EQ(r1.amount_kind, CompiledRule::AmountKind::kPercentage);
  ASSERT_TRUE(r1.transaction_window.has_value());
  EXPECT_EQ(r1.transaction_window->first, absl::CivilDay(2025, 2, 1));
  EXPECT_EQ(r1.claim_window.last, absl::CivilDay(2026, 1, 31));
  EXPECT_EQ(r1.max_price_fen, 600000);
  EXPECT_EQ(r1.min_price_fen, 100);
  ASSERT_EQ(r1.grade_rates.size(), 2u);
  EXPECT_EQ(r1.grade_rates[1].max_grade, 3);
  EXPECT_EQ(r1.other_rate_bp, 500);
  EXPECT_EQ(r1.cap_fen, 50000);
  EXPECT_THAT(c.RulesFor(snapshot->catalogue().Find("digital.tablet").value()), ::testing::ElementsAre(0));
  EXPECT_THAT(c.RulesFor(snapshot->catalogue().Find("digital.smartwatch").value()), ::testing::IsEmpty());

  const CompiledRule& r2 = c.rules()[1];
  EXPECT_EQ(r2.trade_in_kind, v1::Vehicle::TradeInKind::REPLACEMENT);
  EXPECT_EQ(r2.new_energy_type, v1::Vehicle::NewEnergyType::FUEL);
  EXPECT_EQ(r2.registered_on_or_before[static_cast<size_t>(v1::Vehicle::OldFuelType::DIESEL)],
            absl::CivilDay(2014, 6, 30));
  EXPECT_EQ(r2.registered_on_or_before[static_cast<size_t>(v1::Vehicle::OldFuelType::OTHER)],
            absl::CivilDay(2014, 6, 30));
  EXPECT_EQ(r2.registered_on_or_before[static_cast<size_t>(v1::Vehicle::OldFuelType::GASOLINE)],
            std::nullopt);
  EXPECT_EQ(r2.owned_since_on_or_before, absl::CivilDay(2025, 1, 7));
  EXPECT_EQ(r2.max_displacement_ml, 2000);
  EXPECT_EQ(int{r2.allowed_old_fuels},
            FuelBit(v1::Vehicle::OldFuelType::GASOLINE) | FuelBit(v1::Vehicle::OldFuelType::DIESEL));
  EXPECT_EQ(r2.claim_window.last, absl::CivilDay(2025, 12, 31));
  ASSERT_EQ(r2.tiers.size(), 2u);
  EXPECT_EQ(r2.tiers[1].amount_fen, 20);
  EXPECT_EQ(c.rules()[2].home_completed_before, absl::CivilDay(2023, 1, 1));
  EXPECT_EQ(c.rules()[2].flat_fen, 7);

  ASSERT_EQ(c.quotas().size(), 2u);
  const CompiledQuota& digital = c.quotas()[0];
  EXPECT_EQ(digital.programme, "t-2025");
  EXPECT_EQ(digital.UnitLimit(snapshot->catalogue().Find("digital.tablet").value()), 2);
  EXPECT_EQ(digital.UnitLimit(snapshot->catalogue().Find("digital.phone").value()), 1);
  EXPECT_EQ(c.quotas()[1].programme, "other");
  EXPECT_TRUE(c.quotas()[1].Covers(snapshot->catalogue().Find("car.new").value(), 1));
  EXPECT_FALSE(c.quotas()[1].Covers(snapshot->catalogue().Find("car.new").value(), 2));
  // A budget with no members draws on every item.
  ASSERT_EQ(c.budgets().size(), 1u);
  EXPECT_TRUE(c.budgets()[0].Covers(snapshot->catalogue().Find("furniture.bed").value(), 0));
  EXPECT_TRUE(c.budgets()[0].Covers(snapshot->catalogue().Find("car.new").value(), 1));
  EXPECT_EQ(c.budgets()[0].programme, "t-2025");
}

TEST(CompiledPolicyTest, CompileReportsUnresolvableDataInsteadOfCrashing) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  v1::Policy bad_day;
  bad_day.set_id("t");
  bad_day.mutable_transaction_window()->set_first_day("2025-02-30");
  bad_day.mutable_transaction_window()->set_last_day("2025-12-31");
  EXPECT_FALSE(CompiledPolicy::Compile(bad_day, snapshot->catalogue()).ok());

  v1::Policy bad_type = bad_day;
  bad_type.mutable_transaction_window()->set_first_day("2025-01-01");
  v1::Rule* rule = bad_type.add_rules();
  rule->set_id("R");
  rule->add_product_types("appliance.hologram");
  rule->mutable_flat()->set_amount_fen(1);
  EXPECT_FALSE(CompiledPolicy::Compile(bad_type, snapshot->catalogue()).ok());
}

}  // namespace
}  // namespace tradein::policy
