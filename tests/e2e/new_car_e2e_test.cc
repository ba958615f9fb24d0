// One car subsidy per new car, and one replacement per person per calendar year (商办消费函〔2025〕8号,
// decision D9), end to end on both stores: the shipped policies declare both (Quota.once_per_new_vehicle,
// Quota.per_calendar_year), the claim names the new car (vehicle.newVin), the ledger keys it across
// programmes.
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/portal_service.grpc.pb.h"

namespace tradein {
namespace {

using testing::ClaimE2eTest;
using testing::PrcId;

// Valid VINs (check digit in position 9). Old cars: two a buyer may own; new cars: one per test.
constexpr const char* kOldCar1 = "1M8GDM9AXKP042788";
constexpr const char* kOldCar2 = "LSVAU218XN2183294";
constexpr const char* kOldCar3 = "LSVAU2183N2183301";
constexpr const char* kOldCar4 = "LSVAU2189N2183318";
constexpr const char* kNewCar1 = "LFV3A23C4P3000001";
constexpr const char* kNewCar2 = "LFV3A23C6P3000002";
constexpr const char* kNewCar3 = "LFV3A23C8P3000003";
constexpr const char* kNewCar4 = "LFV3A23CXP3000004";
constexpr const char* kNewCar5 = "LFV3A23C1P3000005";

// A NEV bought for 150,000 yuan, trading in a 2010 gasoline car (scrappage) or a 2019 one (replacement).
std::string Car(const std::string& kind, const std::string& old_vin, const std::string& new_vin) {
  const bool scrappage = kind == "SCRAPPAGE";
  return absl::StrCat(R"({"lineId":"car","productType":"car.new","priceFen":"15000000","vehicle":{)",
                      R"("tradeInKind":")", kind, R"(","newEnergyType":"NEV","newInNevCatalogue":true,)",
                      R"("oldFuelType":"GASOLINE","oldRegisteredOn":")",
                      scrappage ? "2010-05-01" : "2019-03-01", R"(","oldOwnedSince":")",
                      scrappage ? "2010-05-01" : "2019-03-01", R"(","oldVin":")", old_vin, "\"",
                      !new_vin.empty() ? absl::StrCat(R"(,"newVin":")", new_vin, "\"") : "", "}}");
}

bool HasReason(const v1::ItemResult& item, const std::string& code) {
  for (const v1::Reason& reason : item.reasons()) {
    if (reason.code() == code) return !reason.message().empty() && !reason.message_zh().empty();
  }
  return false;
}

class NewCarE2eTest : public ClaimE2eTest {};

TEST_P(NewCarE2eTest, ScrappageThenReplacementOfTheSameNewCarTheSecondIsRefused) {
  ASSERT_TRUE(StartServer({}));
  const std::string buyer = PrcId(100);
  absl::StatusOr<v1::Claim> scrappage =
      Claim(ClaimRequest("car-1", buyer, Car("SCRAPPAGE", kOldCar1, kNewCar1)));
  ASSERT_TRUE(scrappage.ok()) << scrappage.status();
  EXPECT_EQ(scrappage->state(), v1::Claim::RESERVED);
  EXPECT_EQ(scrappage->total_subsidy_fen(), 2000000);

  // The buyer's second old car, traded in for the same new car: Zhejiang counts scrappage and replacement
  // separately, the new car's VIN does not.
  absl::StatusOr<v1::Claim> replacement =
      Claim(ClaimRequest("car-2", buyer, Car("REPLACEMENT", kOldCar2, kNewCar1)));
  ASSERT_TRUE(replacement.ok()) << replacement.status();
  EXPECT_EQ(replacement->state(), v1::Claim::REJECTED);
  EXPECT_EQ(replacement->total_subsidy_fen(), 0);
  EXPECT_FALSE(replacement->items(0).eligible());
  EXPECT_TRUE(HasReason(replacement->items(0), "NEW_VEHICLE_ALREADY_SUBSIDISED"));

  // Whoever claims it: another buyer with the same new car is refused too.
  absl::StatusOr<v1::Claim> other =
      Claim(ClaimRequest("car-3", PrcId(101), Car("REPLACEMENT", kOldCar2, kNewCar1)));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(HasReason(other->items(0), "NEW_VEHICLE_ALREADY_SUBSIDISED"));

  // It is the new car that is held: cancelled, the replacement may have it.
  ASSERT_TRUE(Cancel(scrappage->claim_id()).ok());
  absl::StatusOr<v1::Claim> again =
      Claim(ClaimRequest("car-4", buyer, Car("REPLACEMENT", kOldCar2, kNewCar1)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state(), v1::Claim::RESERVED);
  EXPECT_EQ(again->total_subsidy_fen(), 1200000);  // Zhejiang 2025 tier: NEV 100,000 – 200,000 yuan
}

TEST_P(NewCarE2eTest, ANewCarSubsidisedIn2025IsRefusedUnder2026Rules) {
  // On 2026-01-05 Zhejiang's 2025 car claims are still open (until 2026-01-10) and 2026 has begun.
  ASSERT_TRUE(StartServer({}, "2026-01-05T10:00:00+08:00"));
  const std::string buyer = PrcId(110);
  absl::StatusOr<v1::Claim> in_2025 =
      Claim(ClaimRequest("y-1", buyer, Car("SCRAPPAGE", kOldCar1, kNewCar2), "2025-12-30"));
  ASSERT_TRUE(in_2025.ok()) << in_2025.status();
  EXPECT_EQ(in_2025->policy_id(), "ra-2025");
  EXPECT_EQ(in_2025->state(), v1::Claim::RESERVED);
  ASSERT_TRUE(Confirm(in_2025->claim_id(), "INV-Y1", {}).ok());

  v1::ClaimRequest in_2026 = ClaimRequest("y-2", buyer, Car("REPLACEMENT", kOldCar2, kNewCar2), "2026-01-04");
  in_2026.set_region_code("330106");  // Hangzhou: the national 2026 policy, another programme
  absl::StatusOr<v1::Claim> refused = Claim(in_2026);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->policy_id(), "cn-2026");
  EXPECT_EQ(refused->state(), v1::Claim::REJECTED);
  EXPECT_TRUE(HasReason(refused->items(0), "NEW_VEHICLE_ALREADY_SUBSIDISED"));
}

TEST_P(NewCarE2eTest, TwoReplacementsInOneCalendarYearForOnePersonTheSecondIsRefused) {
  ASSERT_TRUE(StartServer({}, "2026-03-01T10:00:00+08:00"));
  const std::string buyer = PrcId(120);
  v1::ClaimRequest hangzhou =
      ClaimRequest("r-1", buyer, Car("REPLACEMENT", kOldCar1, kNewCar3), "2026-02-01");
  hangzhou.set_region_code("330106");
  absl::StatusOr<v1::Claim> first = Claim(hangzhou);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->policy_id(), "cn-2026");
  EXPECT_EQ(first->state(), v1::Claim::RESERVED);
  EXPECT_EQ(first->total_subsidy_fen(), 1200000);  // 8% of 150,000 yuan

  // Another car, another old car, another programme (Wenzhou 2026), the same year: 8号 allows one.
  absl::StatusOr<v1::Claim> second =
      Claim(ClaimRequest("r-2", buyer, Car("REPLACEMENT", kOldCar2, kNewCar4), "2026-02-15"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->policy_id(), "wz-2026");
  EXPECT_EQ(second->state(), v1::Claim::REJECTED);
  EXPECT_TRUE(HasReason(second->items(0), "QUOTA_EXHAUSTED"));

  // GetBuyerUsage shows the calendar-year count, shared by both programmes.
  for (const char* region : {"330106", "330381"}) {
    v1::GetBuyerUsageRequest request;
    request.mutable_buyer()->set_id_type(v1::Buyer::PRC_ID);
    request.mutable_buyer()->set_id_number(buyer);
    request.set_region_code(region);
    request.set_transaction_date("2026-02-20");
    v1::BuyerUsage usage;
    ASSERT_TRUE(
        v1::ClaimService::NewStub(channel())->GetBuyerUsage(NewContext().get(), request, &usage).ok());
    bool found = false;
    for (const v1::QuotaUsage& quota : usage.quotas()) {
      if (quota.calendar_year() != 2026) continue;
      found = true;
      EXPECT_EQ(quota.programme(), "");
      EXPECT_EQ(quota.used_units(), 1) << region;
      EXPECT_EQ(quota.remaining_units(), 0) << region;
    }
    EXPECT_TRUE(found) << region;
  }
}

// 2026: one car subsidy per person across the national and the Wenzhou files (D9), whichever comes first.
// Wenzhou's car rules take cn-2026's per-kind counts, which a Wenzhou file with its own programme used to
// move into wz-2026 (issue 11, item 2).
TEST_P(NewCarE2eTest, ACarUnderWenzhou2026ThenUnderTheNationalFileTheSecondIsRefused) {
  ASSERT_TRUE(StartServer({}, "2026-03-01T10:00:00+08:00"));
  const std::string buyer = PrcId(140);
  absl::StatusOr<v1::Claim> wenzhou =
      Claim(ClaimRequest("w-1", buyer, Car("SCRAPPAGE", kOldCar1, kNewCar1), "2026-02-01"));
  ASSERT_TRUE(wenzhou.ok()) << wenzhou.status();
  EXPECT_EQ(wenzhou->policy_id(), "wz-2026");
  EXPECT_EQ(wenzhou->state(), v1::Claim::RESERVED);

  // Another old car, another new car, a replacement (another kind) in Hangzhou: the national file.
  v1::ClaimRequest hangzhou =
      ClaimRequest("w-2", buyer, Car("REPLACEMENT", kOldCar2, kNewCar2), "2026-02-10");
  hangzhou.set_region_code("330106");
  absl::StatusOr<v1::Claim> national = Claim(hangzhou);
  ASSERT_TRUE(national.ok()) << national.status();
  EXPECT_EQ(national->policy_id(), "cn-2026");
  EXPECT_EQ(national->state(), v1::Claim::REJECTED);
  EXPECT_TRUE(HasReason(national->items(0), "QUOTA_EXHAUSTED"));

  // The other way round: a national scrappage first, then a Wenzhou replacement.
  const std::string other = PrcId(141);
  v1::ClaimRequest first = ClaimRequest("w-3", other, Car("SCRAPPAGE", kOldCar3, kNewCar3), "2026-02-01");
  first.set_region_code("330106");
  absl::StatusOr<v1::Claim> taken = Claim(first);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->state(), v1::Claim::RESERVED);
  absl::StatusOr<v1::Claim> refused =
      Claim(ClaimRequest("w-4", other, Car("REPLACEMENT", kOldCar4, kNewCar4), "2026-02-10"));
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->policy_id(), "wz-2026");
  EXPECT_EQ(refused->state(), v1::Claim::REJECTED);
  EXPECT_TRUE(HasReason(refused->items(0), "QUOTA_EXHAUSTED"));
}

// wz-2026 is in force: claims made before its inherited old-car quota moved to cn-2026 hold their once-keys
// under wz-2026. The store below holds such a claim (made with the old namespace, as the previous version
// counted it); after the new files are loaded that old car is still used, and a new claim is held in both
// namespaces, so the national file sees it too.
TEST_P(NewCarE2eTest, OldCarsUsedBeforeTheQuotaMovedToTheNationalProgrammeStayUsed) {
  ASSERT_TRUE(StartServer(
      {{"wz-2026.textproto", "  counted_before_in: [\"wz-2026\"]\n", "  programme: \"wz-2026\"\n"}},
      "2026-03-01T10:00:00+08:00"));
  absl::StatusOr<v1::Claim> before =
      Claim(ClaimRequest("m-1", PrcId(150), Car("SCRAPPAGE", kOldCar1, kNewCar1), "2026-02-01"));
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->state(), v1::Claim::RESERVED);
  ASSERT_TRUE(Confirm(before->claim_id(), "INV-M1", {}).ok());

  // The new version of the files, loaded into the running server (its store keeps the claim above).
  std::filesystem::copy_file(std::filesystem::path(testing::ShippedPolicyDir()) / "wz-2026.textproto",
                             std::filesystem::path(policy_dir()) / "wz-2026.textproto",
                             std::filesystem::copy_options::overwrite_existing);
  v1::ReloadPoliciesResponse reloaded;
  const grpc::Status reload =
      v1::PortalService::NewStub(channel())->ReloadPolicies(NewContext().get(), {}, &reloaded);
  ASSERT_TRUE(reload.ok()) << reload.error_message();

  absl::StatusOr<v1::Claim> again =
      Claim(ClaimRequest("m-2", PrcId(151), Car("REPLACEMENT", kOldCar1, kNewCar2), "2026-02-10"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->policy_id(), "wz-2026");
  EXPECT_EQ(again->state(), v1::Claim::REJECTED);
  EXPECT_TRUE(HasReason(again->items(0), "VEHICLE_ALREADY_USED"));

  // Claimed now, under Wenzhou: the national file sees the old car as used.
  absl::StatusOr<v1::Claim> now =
      Claim(ClaimRequest("m-3", PrcId(152), Car("REPLACEMENT", kOldCar2, kNewCar3), "2026-02-10"));
  ASSERT_TRUE(now.ok()) << now.status();
  ASSERT_EQ(now->state(), v1::Claim::RESERVED);
  v1::ClaimRequest hangzhou =
      ClaimRequest("m-4", PrcId(153), Car("REPLACEMENT", kOldCar2, kNewCar4), "2026-02-12");
  hangzhou.set_region_code("330106");
  absl::StatusOr<v1::Claim> national = Claim(hangzhou);
  ASSERT_TRUE(national.ok()) << national.status();
  EXPECT_EQ(national->policy_id(), "cn-2026");
  EXPECT_EQ(national->state(), v1::Claim::REJECTED);
  EXPECT_TRUE(HasReason(national->items(0), "VEHICLE_ALREADY_USED"));
}

TEST_P(NewCarE2eTest, AClaimNeedsAValidNewVinOnEveryCarLine) {
  ASSERT_TRUE(StartServer({}));
  absl::StatusOr<v1::Claim> missing = Claim(ClaimRequest("v-1", PrcId(130), Car("SCRAPPAGE", kOldCar1, "")));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("items[0].vehicle.newVin: FIELD_REQUIRED"), std::string::npos)
      << missing.status();

  absl::StatusOr<v1::Claim> bad =
      Claim(ClaimRequest("v-2", PrcId(130), Car("SCRAPPAGE", kOldCar1, "LFV3A23C5P3000005")));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("items[0].vehicle.newVin: VIN_CHECK_DIGIT"), std::string::npos)
      << bad.status();

  // Nothing was held by the refused requests: the car can still be claimed.
  absl::StatusOr<v1::Claim> good =
      Claim(ClaimRequest("v-3", PrcId(130), Car("SCRAPPAGE", kOldCar1, kNewCar5)));
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->state(), v1::Claim::RESERVED);
}

INSTANTIATE_TEST_SUITE_P(Stores, NewCarE2eTest,
                         ::testing::Values(testing::StoreMode::kMemory, testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
