// ExplainPrice and DescribeReason on items priced with the shipped policies, as the reply builder uses them.
#include "services/pricing/explanation.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/civil_date.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/policy/policy_snapshot.h"
#include "services/pricing/calculator.h"
#include "services/pricing/reason.h"
#include "tests/policy/policy_test_util.h"
#include "tradein/v1/items.pb.h"

namespace tradein::pricing {
namespace {

using policy::CompiledPolicy;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using v1::Vehicle;
using RC = ReasonCode;

constexpr int64_t Y(int64_t yuan, int64_t fen = 0) { return yuan * 100 + fen; }

// One priced item: the policy in force in `region` on `date`, or the pinned policy `region` names when it is
// not a region code (e.g. "ra-2025").
struct Priced {
  const CompiledPolicy* policy = nullptr;
  PricingItem item;
  ItemPrice price;
};

struct Case {
  std::string region;
  std::string date;
  std::string type;
  int64_t price_fen = 0;
  int32_t grade = 0;
  int32_t quantity = 1;
  std::function<void(PricingItem&)> details = nullptr;
};

std::optional<Priced> Price(const Case& c) {
  const auto snapshot = policy_test::ShippedSnapshot();
  if (snapshot == nullptr) {
    ADD_FAILURE() << "the shipped policies do not load";
    return std::nullopt;
  }
  const std::optional<absl::CivilDay> day = ParseCivilDay(c.date);
  const std::optional<policy::ProductTypeId> type = snapshot->catalogue().Find(c.type);
  if (!day.has_value() || !type.has_value()) {
    ADD_FAILURE() << "bad case: " << c.date << " " << c.type;
    return std::nullopt;
  }
  Priced out;
  out.policy = c.region.find('-') == std::string::npos ? snapshot->Select(c.region, *day)
                                                       : snapshot->FindById(c.region);
  if (out.policy == nullptr) {
    ADD_FAILURE() << "no policy for " << c.region << " on " << c.date;
    return std::nullopt;
  }
  out.item.product_type = *type;
  out.item.price_fen = c.price_fen;
  out.item.quantity = c.quantity;
  out.item.best_grade = c.grade;
  out.item.transaction_day = *day;
  if (c.details) c.details(out.item);
  out.price = PriceItem(out.item, *out.policy);
  return out;
}

absl::CivilDay D(const char* text) { return ParseCivilDay(text).value_or(absl::CivilDay()); }

std::function<void(PricingItem&)> Car(int kind, int energy, int old_fuel, const char* registered,
                                      const char* owned, int32_t ml, bool catalogue) {
  return [=](PricingItem& item) {
    item.vehicle.trade_in_kind = kind;
    item.vehicle.new_energy_type = energy;
    item.vehicle.old_fuel_type = old_fuel;
    item.vehicle.old_registered_on = D(registered);
    item.vehicle.old_owned_since = D(owned);
    item.vehicle.new_displacement_ml = ml;
    item.vehicle.new_in_nev_catalogue = catalogue;
  };
}

constexpr int kScrap = Vehicle::TradeInKind::SCRAPPAGE;
constexpr int kReplace = Vehicle::TradeInKind::REPLACEMENT;
constexpr int kNev = Vehicle::NewEnergyType::NEV;
constexpr int kFuel = Vehicle::NewEnergyType::FUEL;
constexpr int kGasoline = Vehicle::OldFuelType::GASOLINE;
constexpr int kOldNev = Vehicle::OldFuelType::NEV;

const std::function<void(PricingItem&)> kGoodScrapNev =
    Car(kScrap, kNev, kGasoline, "2010-01-01", "2015-01-01", 0, true);
const std::function<void(PricingItem&)> kGoodReplaceNev =
    Car(kReplace, kNev, kGasoline, "2010-01-01", "2015-01-01", 0, true);

std::function<void(PricingItem&)> Ebike(bool surrendered, bool certified) {
  return [=](PricingItem& item) { item.ebike = {surrendered, certified}; };
}

std::function<void(PricingItem&)> Home(const char* completed) {
  return [=](PricingItem& item) { item.home.completed_on = D(completed); };
}

struct ExplainRow {
  std::string name;
  Case item;
  std::string want;
  bool exact = true;  // false: `want` is a prefix
};

TEST(ExplainPriceTest, Lines) {
  const ExplainRow rows[] = {
      {"percentage below the cap (the API contract's example)",
       {"330381", "2025-03-01", "appliance.refrigerator", Y(5000), 1},
       "5000.00 × 20% = 1000.00; cap 2000.00 not reached"},
      {"percentage over the cap",
       {"330381", "2025-03-01", "appliance.air_conditioner", Y(12000), 1},
       "12000.00 × 20% = 2400.00; capped at 2000.00"},
      {"percentage one fen over the cap after flooring",
       {"330381", "2025-03-01", "digital.phone", Y(3333, 40)},
       "3333.40 × 15% = 500.01; capped at 500.00"},
      {"D1: the floored amount is shown",
       {"110000", "2025-03-01", "digital.phone", Y(1999, 99)},
       "1999.99 × 15% = 299.99; cap 500.00 not reached"},
      {"fractional rate",
       {"330300", "2026-03-01", "digital.smart_glasses", Y(2999)},
       "2999.00 × 15% = 449.85; cap 500.00 not reached"},
      {"percentage without a per-unit cap",
       {"330381", "2025-03-01", "renovation.elderly_friendly", Y(10000)},
       "10000.00 × 30% = 3000.00; no per-unit cap"},
      {"flat amount", {"330381", "2025-06-01", "car.new", Y(150000), 0, 1, kGoodScrapNev}, "flat 20000.00"},
      {"tier",
       {"330381", "2025-05-01", "car.new", Y(150000), 0, 1, kGoodReplaceNev},
       "price 150000.00 in the tier from 100000.00: 12000.00"},
      {"tier at its lower bound",
       {"330381", "2025-05-01", "car.new", Y(200000), 0, 1, kGoodReplaceNev},
       "price 200000.00 in the tier from 200000.00: 15000.00"},
      {"several units",
       {"330381", "2025-03-01", "appliance.refrigerator", Y(5000), 1, 2},
       "5000.00 × 20% = 1000.00; cap 2000.00 not reached; × 2 units = 2000.00"},
      {"several units, each capped",
       {"330381", "2025-03-01", "appliance.air_conditioner", Y(12000), 1, 3},
       "12000.00 × 20% = 2400.00; capped at 2000.00; × 3 units = 6000.00"},
      {"not eligible: grade",
       {"330381", "2025-03-01", "appliance.refrigerator", Y(4000), 3},
       "not eligible (GRADE_NOT_ELIGIBLE)"},
      {"not eligible: below the lowest tier",
       {"330381", "2025-05-01", "car.new", Y(49999, 99), 0, 1, kGoodReplaceNev},
       "not eligible (PRICE_BELOW_MINIMUM): price 49999.99 is below the lowest tier 50000.00"},
      {"not eligible: several reasons, in reason-code order",
       {"330381", "2025-01-19", "digital.phone", Y(6000, 1)},
       "not eligible (OUTSIDE_PROGRAMME_WINDOW, PRICE_ABOVE_CEILING)",
       false},
      {"not eligible: e-bike",
       {"330381", "2025-03-01", "ebike.new", Y(2500), 0, 1, Ebike(false, false)},
       "not eligible (OLD_BIKE_REQUIRED, NEW_BIKE_NOT_CERTIFIED)",
       false},
      {"not covered", {"330381", "2026-03-01", "furniture.bed", Y(5000)}, "not covered by policy wz-2026"},
      {"not covered nationally",
       {"110000", "2025-03-01", "appliance.projector", Y(5000)},
       "not covered by policy cn-2025"},
  };
  for (const ExplainRow& row : rows) {
    SCOPED_TRACE(row.name);
    const std::optional<Priced> priced = Price(row.item);
    ASSERT_TRUE(priced.has_value());
    const std::string line = ExplainPrice(priced->item, priced->price, *priced->policy);
    if (row.exact) {
      EXPECT_EQ(line, row.want);
    } else {
      EXPECT_THAT(line, StartsWith(row.want));
    }
  }
}

// 3,333.34 × 15% = 500.001, floored to 500.00: exactly the cap. The amount is right (not capped, 500.00);
// the line must not tell the till that the cap was "not reached" when the subsidy equals it.
TEST(ExplainPriceTest, ExactlyAtTheCapDoesNotSayNotReached) {
  for (const Case& c : {Case{"330381", "2025-03-01", "digital.phone", Y(3333, 34)},
                        Case{"330381", "2025-03-01", "appliance.television", Y(10000), 1},
                        Case{"330300", "2026-03-01", "appliance.refrigerator", Y(10000), 1}}) {
    SCOPED_TRACE(c.type);
    const std::optional<Priced> priced = Price(c);
    ASSERT_TRUE(priced.has_value());
    ASSERT_TRUE(priced->price.eligible());
    ASSERT_EQ(priced->price.unit_subsidy_fen, priced->price.cap_fen);
    const std::string line = ExplainPrice(priced->item, priced->price, *priced->policy);
    EXPECT_THAT(line, HasSubstr(" = " + FormatYuan(priced->price.cap_fen)));
    EXPECT_THAT(line, Not(HasSubstr("not reached")));
  }
}

// For every ReasonCode: an item that really carries it (the ledger's codes: any priced item), and what the
// messages must mention about it.
struct ReasonRow {
  RC code;
  Case item;
  std::vector<std::string> english_mentions;
};

std::vector<ReasonRow> ReasonRows() {
  const Case fridge{"330381", "2025-03-01", "appliance.refrigerator", Y(5000), 1};
  return {
      {RC::kNotCovered, {"330381", "2026-03-01", "furniture.bed", Y(5000)}, {"wz-2026"}},
      {RC::kOutsideProgrammeWindow,
       {"330381", "2025-01-19", "digital.phone", Y(3000)},
       {"2025-01-19", "2025-01-20"}},
      {RC::kGradeNotEligible,
       {"330381", "2025-03-01", "appliance.refrigerator", Y(4000), 3},
       {"grade 3", "2"}},
      {RC::kPriceAboveCeiling, {"330381", "2025-03-01", "digital.phone", Y(6000, 1)}, {"6000.01", "6000.00"}},
      {RC::kPriceBelowMinimum,
       {"330381", "2025-05-01", "car.new", Y(49999, 99), 0, 1, kGoodReplaceNev},
       {"49999.99", "50000.00"}},
      {RC::kOldVehicleTooNew,
       {"330381", "2025-06-01", "car.new", Y(150000), 0, 1,
        Car(kScrap, kNev, kGasoline, "2012-07-01", "2015-01-01", 0, true)},
       {"2012-07-01", "2012-06-30", "GASOLINE"}},
      {RC::kOwnershipTooRecent,
       {"330381", "2025-06-01", "car.new", Y(150000), 0, 1,
        Car(kScrap, kNev, kGasoline, "2010-01-01", "2025-01-09", 0, true)},
       {"2025-01-09", "2025-01-08"}},
      {RC::kDisplacementTooLarge,
       {"330381", "2025-06-01", "car.new", Y(150000), 0, 1,
        Car(kScrap, kFuel, kGasoline, "2010-01-01", "2015-01-01", 2001, false)},
       {"2001 ml", "2000 ml"}},
      {RC::kNotInNevCatalogue,
       {"330381", "2025-06-01", "car.new", Y(150000), 0, 1,
        Car(kScrap, kNev, kGasoline, "2010-01-01", "2015-01-01", 0, false)},
       {"catalogue"}},
      {RC::kFuelPairingNotAllowed,
       {"330381", "2025-06-01", "car.new", Y(150000), 0, 1,
        Car(kScrap, kFuel, kOldNev, "2018-01-01", "2018-01-01", 1998, false)},
       {"NEV", "N25-SCRAP-FUEL"}},
      {RC::kHomeTooNew,
       {"330381", "2025-03-01", "renovation.old_home", Y(50000), 0, 1, Home("2023-01-01")},
       {"2023-01-01"}},
      {RC::kOldBikeRequired,
       {"330381", "2025-03-01", "ebike.new", Y(2500), 0, 1, Ebike(false, true)},
       {"old"}},
      {RC::kNewBikeNotCertified,
       {"330381", "2025-03-01", "ebike.new", Y(2500), 0, 1, Ebike(true, false)},
       {"CCC"}},
      {RC::kQuotaExhausted, fridge, {"quota"}},
      {RC::kHomeAlreadyUsed, fridge, {"home"}},
      {RC::kVehicleAlreadyUsed, fridge, {"car"}},
      {RC::kAmountCapReached, fridge, {"cap"}},
      {RC::kBudgetExhausted, fridge, {"budget"}},
      {RC::kSerialAlreadySubsidised, fridge, {"serial"}},
      {RC::kNewVehicleAlreadySubsidised, fridge, {"new car", "VIN"}},
  };
}

bool HasNonAscii(const std::string& text) {
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0x80) != 0) return true;
  }
  return false;
}

// Every ReasonCode, including ledger codes added after this test was written (they get a granted fridge as
// context): non-empty English, Chinese text in Chinese, not the bare code, and no two codes alike.
TEST(DescribeReasonTest, EveryCodeHasEnglishAndChineseText) {
  const std::vector<ReasonRow> rows = ReasonRows();
  const Case fridge{"330381", "2025-03-01", "appliance.refrigerator", Y(5000), 1};
  std::set<std::string> english;
  std::set<std::string> chinese;
  for (int i = 0; i < static_cast<int>(RC::kCount); ++i) {
    const RC code = static_cast<RC>(i);
    SCOPED_TRACE(std::string(ReasonName(code)));
    const auto row =
        std::find_if(rows.begin(), rows.end(), [code](const ReasonRow& r) { return r.code == code; });
    // The calculator's own codes come from a real refusal; they need a row.
    const bool calculator_code = code <= RC::kNewBikeNotCertified;
    if (calculator_code) {
      ASSERT_TRUE(row != rows.end()) << "no test row";
    }
    const std::optional<Priced> priced = Price(row != rows.end() ? row->item : fridge);
    ASSERT_TRUE(priced.has_value());
    if (calculator_code) {
      ASSERT_TRUE(priced->price.reasons.Contains(code))
          << ExplainPrice(priced->item, priced->price, *priced->policy);
    }
    const ReasonText text = DescribeReason(code, priced->item, priced->price, *priced->policy);
    EXPECT_FALSE(text.message.empty());
    EXPECT_FALSE(text.message_zh.empty());
    EXPECT_TRUE(HasNonAscii(text.message_zh)) << text.message_zh;
    EXPECT_NE(text.message, ReasonName(code)) << "fallback text";
    if (row != rows.end()) {
      for (const std::string& mention : row->english_mentions) EXPECT_THAT(text.message, HasSubstr(mention));
    }
    EXPECT_TRUE(english.insert(text.message).second) << "English text shared with another code";
    EXPECT_TRUE(chinese.insert(text.message_zh).second) << "Chinese text shared with another code";
  }
}

TEST(DescribeReasonTest, GradeTextSaysWhatTheRuleNeeds) {
  const std::optional<Priced> no_label =
      Price({"330381", "2025-03-01", "appliance.refrigerator", Y(4000), 0});
  ASSERT_TRUE(no_label.has_value());
  EXPECT_THAT(
      DescribeReason(RC::kGradeNotEligible, no_label->item, no_label->price, *no_label->policy).message,
      HasSubstr("no efficiency label"));
  EXPECT_THAT(
      DescribeReason(RC::kGradeNotEligible, no_label->item, no_label->price, *no_label->policy).message,
      HasSubstr("grade 2 or better"));
  const std::optional<Priced> grade2_2026 =
      Price({"330300", "2026-03-01", "appliance.refrigerator", Y(4000), 2});
  ASSERT_TRUE(grade2_2026.has_value());
  EXPECT_THAT(
      DescribeReason(RC::kGradeNotEligible, grade2_2026->item, grade2_2026->price, *grade2_2026->policy)
          .message,
      HasSubstr("grade 2 is not eligible: needs grade 1 or better"));
}

}  // namespace
}  // namespace tradein::pricing
