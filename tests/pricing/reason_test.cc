#include "services/pricing/reason.h"

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tradein::pricing {
namespace {

using ::testing::ElementsAre;
using RC = ReasonCode;

// The wire codes fixed by the API contract (shared/design/api-contract.md, "Reason codes").
TEST(ReasonNameTest, ContractCodes) {
  EXPECT_EQ(ReasonName(RC::kNotCovered), "NOT_COVERED");
  EXPECT_EQ(ReasonName(RC::kOutsideProgrammeWindow), "OUTSIDE_PROGRAMME_WINDOW");
  EXPECT_EQ(ReasonName(RC::kGradeNotEligible), "GRADE_NOT_ELIGIBLE");
  EXPECT_EQ(ReasonName(RC::kPriceAboveCeiling), "PRICE_ABOVE_CEILING");
  EXPECT_EQ(ReasonName(RC::kPriceBelowMinimum), "PRICE_BELOW_MINIMUM");
  EXPECT_EQ(ReasonName(RC::kOldVehicleTooNew), "OLD_VEHICLE_TOO_NEW");
  EXPECT_EQ(ReasonName(RC::kOwnershipTooRecent), "OWNERSHIP_TOO_RECENT");
  EXPECT_EQ(ReasonName(RC::kDisplacementTooLarge), "DISPLACEMENT_TOO_LARGE");
  EXPECT_EQ(ReasonName(RC::kNotInNevCatalogue), "NOT_IN_NEV_CATALOGUE");
  EXPECT_EQ(ReasonName(RC::kFuelPairingNotAllowed), "FUEL_PAIRING_NOT_ALLOWED");
  EXPECT_EQ(ReasonName(RC::kHomeTooNew), "HOME_TOO_NEW");
  EXPECT_EQ(ReasonName(RC::kOldBikeRequired), "OLD_BIKE_REQUIRED");
  EXPECT_EQ(ReasonName(RC::kQuotaExhausted), "QUOTA_EXHAUSTED");
  EXPECT_EQ(ReasonName(RC::kHomeAlreadyUsed), "HOME_ALREADY_USED");
  EXPECT_EQ(ReasonName(RC::kVehicleAlreadyUsed), "VEHICLE_ALREADY_USED");
  EXPECT_EQ(ReasonName(RC::kAmountCapReached), "AMOUNT_CAP_REACHED");
  EXPECT_EQ(ReasonName(RC::kBudgetExhausted), "BUDGET_EXHAUSTED");
  EXPECT_EQ(ReasonName(RC::kSerialAlreadySubsidised), "SERIAL_ALREADY_SUBSIDISED");
  EXPECT_EQ(ReasonName(RC::kNewVehicleAlreadySubsidised), "NEW_VEHICLE_ALREADY_SUBSIDISED");
}

TEST(ReasonNameTest, EveryCodeRoundTripsAndNamesAreDistinctUpperSnake) {
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(RC::kCount); ++i) {
    const RC code = static_cast<RC>(i);
    const std::string name(ReasonName(code));
    SCOPED_TRACE(name);
    ASSERT_FALSE(name.empty());
    for (char c : name) EXPECT_TRUE((c >= 'A' && c <= 'Z') || c == '_') << name;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name";
    RC back = RC::kCount;
    ASSERT_TRUE(ReasonFromName(name, back));
    EXPECT_EQ(back, code);
  }
}

TEST(ReasonFromNameTest, UnknownNamesAreRefusedAndLeaveTheCodeAlone) {
  for (const char* name : {"", "not_covered", "NOT_COVERED ", "QUOTA", "UNKNOWN_REASON"}) {
    RC code = RC::kBudgetExhausted;
    EXPECT_FALSE(ReasonFromName(name, code)) << "\"" << name << "\"";
    EXPECT_EQ(code, RC::kBudgetExhausted);
  }
}

TEST(ReasonSetTest, AddRemoveAndIterateInCodeOrder) {
  ReasonSet set;
  EXPECT_TRUE(set.empty());
  set.Add(RC::kSerialAlreadySubsidised);
  set.Add(RC::kNotCovered);
  set.Add(RC::kHomeTooNew);
  set.Add(RC::kHomeTooNew);
  EXPECT_FALSE(set.empty());
  EXPECT_TRUE(set.Contains(RC::kHomeTooNew));
  EXPECT_FALSE(set.Contains(RC::kQuotaExhausted));
  std::vector<RC> order;
  set.ForEach([&order](RC code) { order.push_back(code); });
  EXPECT_THAT(order, ElementsAre(RC::kNotCovered, RC::kHomeTooNew, RC::kSerialAlreadySubsidised));
  set.Remove(RC::kNotCovered);
  set.Remove(RC::kSerialAlreadySubsidised);
  EXPECT_FALSE(set.HasOtherThan(RC::kHomeTooNew));
  EXPECT_TRUE(set.HasOtherThan(RC::kAmountCapReached));
  set.Remove(RC::kHomeTooNew);
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.bits(), 0u);
}

}  // namespace
}  // namespace tradein::pricing
