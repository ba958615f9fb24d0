// The what-if simulator on a small hand-computed case: Rui'an claims of June 2025, replayed under a draft
// that lowers Zhejiang's appliance cap from 2,000 to 1,500 yuan (issue 11, item 4).
#include "services/api/policy_simulation.h"

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/civil_date.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/api/claim_preparation.h"
#include "services/policy/policy_loader.h"
#include "tests/policy/policy_test_util.h"

namespace tradein::api {
namespace {

using ::testing::IsEmpty;

const identity::KeyedHasher& Hasher() {
  static const auto* const hasher =
      new identity::KeyedHasher(identity::KeyedHasher::ForTesting("0123456789abcdef0123456789abcdef"));
  return *hasher;
}

constexpr const char* kFridge5000 =
    R"({"lineId":"f","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";
constexpr const char* kFridge12000 =
    R"({"lineId":"f","productType":"appliance.refrigerator","priceFen":"1200000","energyGrade":1})";
constexpr const char* kTv9000 =
    R"({"lineId":"tv","productType":"appliance.television","priceFen":"900000","energyGrade":2})";
constexpr const char* kTwoAirConditioners20000 =
    R"({"lineId":"ac","productType":"appliance.air_conditioner","priceFen":"2000000","quantity":2,)"
    R"("energyGrade":1})";
constexpr const char* kEbike2000 =
    R"({"lineId":"e","productType":"ebike.new","priceFen":"200000","ebike":{"oldBikeSurrendered":true,)"
    R"("newBikeCertified":true}})";

// A claim of `items` made in Rui'an on 2025-06-`day`, stored as the ledger decided: every line granted what
// the rules gave it, in `state`.
quota::ClaimRecord Recorded(const std::string& id, const std::vector<std::string>& items, int day,
                            quota::ClaimState state = quota::ClaimState::kConfirmed) {
  const std::string date = absl::StrCat("2025-06-", day < 10 ? "0" : "", day);
  const std::string json =
      absl::StrCat(R"({"requestId":")", id, R"(","retailerId":"shop-1","regionCode":"330381",)",
                   R"("transactionDate":")", date, R"(","buyer":{"idType":"PRC_ID","idNumber":)",
                   R"("330381199001010019"},"items":[)", absl::StrJoin(items, ","), "]}");
  v1::ClaimRequest request;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok()) << json;
  const auto snapshot = policy_test::ShippedSnapshot();
  const absl::StatusOr<quota::ReserveRequest> reserve = PrepareClaim(
      request, *snapshot, StartOfChinaDay(absl::CivilDay(2025, 6, day)) + absl::Hours(12), Hasher());
  EXPECT_TRUE(reserve.ok()) << reserve.status();
  quota::ClaimRecord record;
  record.claim_id = absl::StrCat("claim-", id);
  record.state = state;
  record.draft = reserve->draft;
  record.created_at = StartOfChinaDay(absl::CivilDay(2025, 6, day)) + absl::Hours(12);
  for (const quota::LineRequest& line : reserve->lines) {
    record.grants.push_back({line.units, line.units * line.unit_fen, {}});
    record.refunds.push_back({});
  }
  return record;
}

// The shipped policies with Zhejiang's appliance cap at 1,500 yuan.
std::shared_ptr<const policy::PolicySnapshot> LowerApplianceCap(const policy_test::PolicyDirCopy& dir) {
  std::string text = dir.Read("zj-2025.textproto");
  const size_t rule = text.find("id: \"Z25-APPL\"");
  const size_t cap = text.find("fen: 200000", rule);
  EXPECT_NE(rule, std::string::npos);
  EXPECT_NE(cap, std::string::npos);
  text.replace(cap, std::string("fen: 200000").size(), "fen: 150000");
  dir.Write("zj-2025.textproto", text);
  const absl::StatusOr<std::shared_ptr<const policy::PolicySnapshot>> draft =
      policy::LoadPolicyDirectory(dir.path(), absl::Now());
  EXPECT_TRUE(draft.ok()) << draft.status();
  return draft.ok() ? *draft : nullptr;
}

const v1::SimulationRow* Row(const v1::SimulationReport& report, const std::string& type) {
  for (const v1::SimulationRow& row : report.rows()) {
    if (row.product_type() == type) return &row;
  }
  return nullptr;
}

TEST(PolicySimulationTest, ALowerApplianceCapGivesTheHandComputedDifferences) {
  const policy_test::PolicyDirCopy dir = policy_test::PolicyDirCopy::OfShipped();
  const auto draft = LowerApplianceCap(dir);
  ASSERT_NE(draft, nullptr);
  PolicySimulation simulation(draft, "330300", absl::CivilDay(2025, 6, 1), absl::CivilDay(2025, 6, 30));

  // A: a 5,000 yuan fridge: 20% = 1,000 under either cap.
  ASSERT_TRUE(simulation.Add(Recorded("a", {kFridge5000}, 2)).ok());
  // B: a 12,000 yuan fridge: 20% = 2,400, capped at 2,000 today and 1,500 under the draft; a 9,000 yuan TV at
  // 15% = 1,350 either way.
  ASSERT_TRUE(simulation.Add(Recorded("b", {kFridge12000, kTv9000}, 3)).ok());
  // C: two 20,000 yuan air conditioners: 4,000 each, capped at 2,000 (today) and 1,500 (draft).
  ASSERT_TRUE(simulation.Add(Recorded("c", {kTwoAirConditioners20000}, 4)).ok());
  // D: made before claims kept their inputs: not replayable, never guessed.
  quota::ClaimRecord old = Recorded("d", {kFridge12000}, 5);
  v1::Claim stored;
  ASSERT_TRUE(stored.ParseFromString(old.draft));
  stored.mutable_items(0)->clear_priced_input();
  old.draft = stored.SerializeAsString();
  ASSERT_TRUE(simulation.Add(old).ok());
  // E: cancelled (no sale): read, not replayed.
  ASSERT_TRUE(simulation.Add(Recorded("e", {kFridge12000}, 6, quota::ClaimState::kCancelled)).ok());
  // F: an e-bike at 2,000 yuan: 40% = 800, drawing on Rui'an's e-bike budget.
  ASSERT_TRUE(simulation.Add(Recorded("f", {kEbike2000}, 7)).ok());

  const std::vector<quota::BudgetRef> budgets = simulation.Budgets();
  ASSERT_EQ(budgets.size(), 1u);
  EXPECT_EQ(budgets[0].budget_id, "ra-2025-ebike");
  EXPECT_EQ(budgets[0].total_fen, 200000000);
  const v1::SimulationReport report = simulation.Report({150000000});

  EXPECT_EQ(report.period_days(), 30);
  EXPECT_EQ(report.claims_scanned(), 6);
  EXPECT_EQ(report.claims_replayed(), 4);
  EXPECT_EQ(report.claims_not_replayable(), 1);
  ASSERT_EQ(report.rows_size(), 4);
  const v1::SimulationRow* fridges = Row(report, "appliance.refrigerator");
  ASSERT_NE(fridges, nullptr);
  EXPECT_EQ(fridges->rule_id(), "Z25-APPL");
  EXPECT_EQ(fridges->region_code(), "330381");
  EXPECT_EQ(fridges->claims(), 2);
  EXPECT_EQ(fridges->units(), 2);
  EXPECT_EQ(fridges->subsidy_today_fen(), 100000 + 200000);
  EXPECT_EQ(fridges->subsidy_draft_fen(), 100000 + 150000);
  EXPECT_EQ(fridges->difference_fen(), -50000);
  const v1::SimulationRow* tv = Row(report, "appliance.television");
  ASSERT_NE(tv, nullptr);
  EXPECT_EQ(tv->subsidy_today_fen(), 135000);
  EXPECT_EQ(tv->difference_fen(), 0);
  const v1::SimulationRow* ac = Row(report, "appliance.air_conditioner");
  ASSERT_NE(ac, nullptr);
  EXPECT_EQ(ac->units(), 2);
  EXPECT_EQ(ac->subsidy_today_fen(), 400000);
  EXPECT_EQ(ac->subsidy_draft_fen(), 300000);
  EXPECT_EQ(ac->difference_fen(), -100000);
  const v1::SimulationRow* ebike = Row(report, "ebike.new");
  ASSERT_NE(ebike, nullptr);
  EXPECT_EQ(ebike->rule_id(), "RA25-EBIKE");
  EXPECT_EQ(ebike->subsidy_today_fen(), 80000);
  EXPECT_EQ(ebike->difference_fen(), 0);
  for (const v1::SimulationRow& row : report.rows()) {
    EXPECT_EQ(row.lines_becoming_eligible(), 0) << row.product_type();
    EXPECT_EQ(row.lines_becoming_ineligible(), 0) << row.product_type();
  }
  EXPECT_EQ(report.subsidy_today_fen(), 300000 + 135000 + 400000 + 80000);
  EXPECT_EQ(report.difference_fen(), -150000);

  // 500,000 yuan left, 800 yuan drawn in 30 days: 18,750 days at either pace.
  ASSERT_EQ(report.budgets_size(), 1);
  EXPECT_EQ(report.budgets(0).used_fen(), 150000000);
  EXPECT_EQ(report.budgets(0).period_today_fen(), 80000);
  EXPECT_EQ(report.budgets(0).days_to_exhaustion_today(), 18750);
  EXPECT_EQ(report.budgets(0).days_to_exhaustion_draft(), 18750);
}

// A rule the draft drops: the lines it priced become ineligible and are worth nothing under the draft; a
// region filter leaves other regions' claims out.
TEST(PolicySimulationTest, LinesARemovedRuleRefusesChangeEligibilityAndOtherRegionsAreLeftOut) {
  const policy_test::PolicyDirCopy dir = policy_test::PolicyDirCopy::OfShipped();
  ASSERT_TRUE(dir.Replace("ra-2025.textproto", "removed_rule_ids: [\"ZJ25-EBIKE-EXAMPLE\"]",
                          "removed_rule_ids: [\"ZJ25-EBIKE-EXAMPLE\", \"Z25-APPL\"]"));
  const absl::StatusOr<std::shared_ptr<const policy::PolicySnapshot>> draft =
      policy::LoadPolicyDirectory(dir.path(), absl::Now());
  ASSERT_TRUE(draft.ok()) << draft.status();
  PolicySimulation simulation(*draft, "", absl::CivilDay(2025, 6, 1), absl::CivilDay(2025, 6, 30));
  ASSERT_TRUE(simulation.Add(Recorded("a", {kFridge5000}, 2)).ok());
  const v1::SimulationReport report = simulation.Report(std::vector<int64_t>(simulation.Budgets().size()));
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).lines_becoming_ineligible(), 1);
  EXPECT_EQ(report.rows(0).subsidy_draft_fen(), 0);
  EXPECT_EQ(report.rows(0).difference_fen(), -100000);

  PolicySimulation elsewhere(*draft, "110000", absl::CivilDay(2025, 6, 1), absl::CivilDay(2025, 6, 30));
  ASSERT_TRUE(elsewhere.Add(Recorded("a", {kFridge5000}, 2)).ok());
  EXPECT_THAT(elsewhere.Report({}).rows(), IsEmpty());
  EXPECT_EQ(elsewhere.Report({}).claims_scanned(), 1);
}

constexpr const char* kCar =
    R"({"lineId":"car","productType":"car.new","priceFen":"15000000","vehicle":{"tradeInKind":"REPLACEMENT",)"
    R"("newEnergyType":"NEV","newInNevCatalogue":true,"oldFuelType":"GASOLINE","oldRegisteredOn":"2019-03-01",)"
    R"("oldOwnedSince":"2019-03-01","oldVin":"1M8GDM9AXKP042788","newVin":"LFV3A23C4P3000001"}})";

// The bytes a stored claim (its draft) grows by: printed for the closing note, bounded for the ledger.
TEST(PolicySimulationTest, KeepingTheInputsCostsAFewDozenBytesALine) {
  for (const std::vector<std::string>& items :
       std::vector<std::vector<std::string>>{{kFridge5000},
                                             {kFridge12000, kTv9000},
                                             {kCar},
                                             {kFridge12000, kTv9000, kTwoAirConditioners20000}}) {
    const quota::ClaimRecord record = Recorded("m", items, 2);
    v1::Claim without;
    ASSERT_TRUE(without.ParseFromString(record.draft));
    for (v1::ItemResult& item : *without.mutable_items()) item.clear_priced_input();
    const size_t before = without.ByteSizeLong();
    const size_t after = record.draft.size();
    std::cout << items.size() << " line(s): draft " << before << " bytes before, " << after << " after (+"
              << (after - before) << ")\n";
    EXPECT_LE(after - before, 80 * items.size());
  }
}

TEST(PolicySimulationTest, AClaimKeepsEachLinesInputsWithoutIdentifiers) {
  const quota::ClaimRecord record = Recorded("s", {kFridge12000, kEbike2000}, 2);
  v1::Claim stored;
  ASSERT_TRUE(stored.ParseFromString(record.draft));
  ASSERT_TRUE(stored.items(0).has_priced_input());
  EXPECT_EQ(stored.items(0).priced_input().price_fen(), 1200000);
  EXPECT_EQ(stored.items(0).priced_input().energy_grade(), 1);
  EXPECT_TRUE(stored.items(1).priced_input().ebike().old_bike_surrendered());
  v1::Item car;
  car.mutable_vehicle()->set_old_vin("1M8GDM9AXKP042788");
  car.mutable_vehicle()->set_new_vin("LFV3A23C4P3000001");
  car.mutable_vehicle()->set_old_registered_on("2019-03-01");
  const v1::Item kept = StoredInputOf(car);
  EXPECT_EQ(kept.vehicle().old_vin(), "");
  EXPECT_EQ(kept.vehicle().new_vin(), "");
  EXPECT_EQ(kept.vehicle().old_registered_on(), "2019-03-01");
}

TEST(PolicySimulationTest, ADraftIsValidatedAsAReloadIs) {
  google::protobuf::RepeatedPtrField<v1::PolicyFileText> files;
  v1::PolicyFileText* bad = files.Add();
  bad->set_name("../x.textproto");
  EXPECT_EQ(LoadDraftPolicies(files, absl::Now()).status().code(), absl::StatusCode::kInvalidArgument);
  bad->set_name("x.textproto");
  bad->set_text("id: \"x\"\n");
  const absl::Status broken = LoadDraftPolicies(files, absl::Now()).status();
  EXPECT_EQ(broken.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(broken.message()), ::testing::HasSubstr("DRAFT_INVALID"));
}

}  // namespace
}  // namespace tradein::api
