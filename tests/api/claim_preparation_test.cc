// PrepareClaim for cars under the shipped policies: the new car's VIN is required where the policy declares
// one subsidy per new car (decision D9), and it becomes a once-key outside any programme; a replacement also
// counts against the buyer's calendar-year limit, the year of the transaction date.
#include "services/api/claim_preparation.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/policy/policy_loader.h"
#include "services/quota/ledger_plan.h"
#include "tests/policy/policy_test_util.h"

namespace tradein::api {
namespace {

using ::testing::Contains;
using ::testing::Not;

constexpr const char* kBuyer = "330381199001010019";

// A Rui'an claim on `date` of one NEV replacement (150,000 yuan), with `new_vin` unless empty, and a fridge.
v1::ClaimRequest CarClaim(const std::string& new_vin, const std::string& region = "330381",
                          const std::string& date = "2025-06-01") {
  v1::ClaimRequest request;
  const std::string json = absl::StrCat(
      R"({"requestId":"r-1","retailerId":"shop-1","regionCode":")", region, R"(","transactionDate":")", date,
      R"(","buyer":{"idType":"PRC_ID","idNumber":")", kBuyer, R"("},"items":[)",
      R"({"lineId":"fridge","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1},)",
      R"({"lineId":"car","productType":"car.new","priceFen":"15000000","vehicle":{"tradeInKind":"REPLACEMENT",)",
      R"("newEnergyType":"NEV","newInNevCatalogue":true,"oldFuelType":"GASOLINE","oldRegisteredOn":"2019-03-01",)",
      R"("oldOwnedSince":"2019-03-01","oldVin":"1M8GDM9AXKP042788")",
      new_vin.empty() ? "" : absl::StrCat(R"(,"newVin":")", new_vin, "\""), "}}]}");
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok()) << json;
  return request;
}

absl::Time Noon(absl::CivilDay day) { return StartOfChinaDay(day) + absl::Hours(12); }

const identity::KeyedHasher& Hasher() {
  static const auto* const hasher =
      new identity::KeyedHasher(identity::KeyedHasher::ForTesting("0123456789abcdef0123456789abcdef"));
  return *hasher;
}

TEST(PrepareClaimTest, ACarLineWithoutItsNewVinIsRefusedWhereThePolicySubsidisesEachNewCarOnce) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const absl::StatusOr<quota::ReserveRequest> reserve =
      PrepareClaim(CarClaim(""), *snapshot, Noon(absl::CivilDay(2025, 6, 1)), Hasher());
  ASSERT_EQ(reserve.status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<FieldViolation> violations = FieldViolations(reserve.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "items[1].vehicle.newVin");
  EXPECT_EQ(violations[0].reason, "FIELD_REQUIRED");
}

TEST(PrepareClaimTest, APolicyWithoutTheRuleDoesNotAskForTheNewVin) {
  const policy_test::PolicyDirCopy dir = policy_test::PolicyDirCopy::OfShipped();
  ASSERT_TRUE(dir.Replace("zj-2025.textproto", "removed_rule_ids: [\"N25-APPL\"]\n",
                          "removed_rule_ids: [\"N25-APPL\"]\nremoved_quota_ids: [\"car-new-vehicle\"]\n"));
  const absl::StatusOr<std::shared_ptr<const policy::PolicySnapshot>> snapshot =
      policy::LoadPolicyDirectory(dir.path(), absl::Now());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const absl::StatusOr<quota::ReserveRequest> reserve =
      PrepareClaim(CarClaim(""), **snapshot, Noon(absl::CivilDay(2025, 6, 1)), Hasher());
  ASSERT_TRUE(reserve.ok()) << reserve.status();
  for (const quota::OnceKey& key : reserve->once_keys) EXPECT_NE(key.quota_id, quota::kNewVehicleOnceKey);
}

TEST(PrepareClaimTest, TheNewCarIsOneOnceKeyForEveryProgrammeAndTheReplacementCountsItsCalendarYear) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const std::string vin = "LFV3A23C4P3000001";
  const absl::StatusOr<quota::ReserveRequest> in_2025 =
      PrepareClaim(CarClaim(vin), *snapshot, Noon(absl::CivilDay(2025, 6, 1)), Hasher());
  ASSERT_TRUE(in_2025.ok()) << in_2025.status();
  // A lower-case VIN is the same car; Hangzhou 2026 is another programme (cn-2026).
  const absl::StatusOr<quota::ReserveRequest> in_2026 =
      PrepareClaim(CarClaim("lfv3a23c4p3000001", "330106", "2026-02-01"), *snapshot,
                   Noon(absl::CivilDay(2026, 3, 1)), Hasher());
  ASSERT_TRUE(in_2026.ok()) << in_2026.status();

  const auto new_car = [](const quota::ReserveRequest& r) {
    std::vector<quota::OnceKey> out;
    for (const quota::OnceKey& key : r.once_keys) {
      if (key.quota_id == quota::kNewVehicleOnceKey) out.push_back(key);
    }
    return out;
  };
  ASSERT_EQ(new_car(*in_2025).size(), 1u);
  ASSERT_EQ(new_car(*in_2026).size(), 1u);
  const quota::OnceKey key = new_car(*in_2025)[0];
  EXPECT_EQ(key.programme, "");
  EXPECT_EQ(key.reason_when_taken, pricing::ReasonCode::kNewVehicleAlreadySubsidised);
  EXPECT_EQ(key, new_car(*in_2026)[0]);
  // Only the car line holds it, not the fridge.
  const auto index = static_cast<uint16_t>(
      std::find(in_2025->once_keys.begin(), in_2025->once_keys.end(), key) - in_2025->once_keys.begin());
  EXPECT_THAT(in_2025->lines[1].once_keys, Contains(index));
  EXPECT_THAT(in_2025->lines[0].once_keys, Not(Contains(index)));

  // The calendar-year replacement counter: the transaction date's year, outside any programme.
  const quota::CounterLimit y2025{"", "u:car-replacement-per-year:2025", quota::CounterLimit::Kind::kUnits,
                                  1};
  const quota::CounterLimit y2026{"", "u:car-replacement-per-year:2026", quota::CounterLimit::Kind::kUnits,
                                  1};
  EXPECT_THAT(in_2025->counters, Contains(y2025));
  EXPECT_THAT(in_2026->counters, Contains(y2026));
  EXPECT_THAT(in_2026->counters, Not(Contains(y2025)));
}

// Issue 11, item 2: a Wenzhou 2026 car line counts where the national file counts cars (cn-2026), checks the
// Wenzhou count its earlier claims charged, and holds its old car in cn-2026 and, for the claims made before
// the move, in wz-2026.
TEST(PrepareClaimTest, AWenzhouCarCountsInTheNationalProgrammeAndWhereItCountedBefore) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const absl::StatusOr<quota::ReserveRequest> reserve =
      PrepareClaim(CarClaim("LFV3A23C4P3000001", "330381", "2026-02-01"), *snapshot,
                   Noon(absl::CivilDay(2026, 3, 1)), Hasher());
  ASSERT_TRUE(reserve.ok()) << reserve.status();
  std::vector<std::string> car_counters;
  for (const uint16_t i : reserve->lines[1].counters) {
    const quota::CounterLimit& c = reserve->counters[i];
    car_counters.push_back(absl::StrCat(c.programme, "/", c.field, "/", c.limit));
  }
  EXPECT_THAT(car_counters,
              ::testing::UnorderedElementsAre("cn-2026/u:car-scrappage/1", "cn-2026/u:car-replacement/1",
                                              "/u:car-replacement-per-year:2026/1", "wz-2026/u:car/1"));
  std::vector<std::string> old_car;
  for (const uint16_t i : reserve->lines[1].once_keys) {
    const quota::OnceKey& key = reserve->once_keys[i];
    if (key.quota_id == "car-old-vehicle") old_car.push_back(key.programme);
  }
  EXPECT_THAT(old_car, ::testing::ElementsAre("cn-2026", "wz-2026"));

  // GetBuyerUsage reads both namespaces of a moved counter and shows the fuller.
  const policy::CompiledPolicy& wz = *snapshot->FindById("wz-2026");
  std::vector<quota::UsageCounter> usage =
      quota::UsageCountersOf(wz, snapshot->catalogue(), absl::CivilYear(2026));
  const quota::CounterLimit moved{"cn-2026", "u:x", quota::CounterLimit::Kind::kUnits, 2};
  usage = {{moved, usage[0].quota, std::nullopt, std::nullopt, {{"wz-2026", "u:x", moved.kind, 2}}},
           {moved, usage[0].quota, std::nullopt, std::nullopt, {}}};
  EXPECT_EQ(quota::UsageRequestCounters(usage).size(), 3u);
  EXPECT_THAT(quota::MostUsed(usage, {0, 1, 2}), ::testing::ElementsAre(1, 2));
}

}  // namespace
}  // namespace tradein::api
