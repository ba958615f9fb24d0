// ClaimService end to end: the real server over loopback, with the embedded memory store and with a real
// redis-server. Races, idempotency, expiry, budgets and the whole lifecycle, through real gRPC calls.
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein {
namespace {

using testing::ClaimE2eTest;
using testing::PrcId;

constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";
constexpr const char* kAirConditioner =
    R"({"lineId":"1","productType":"appliance.air_conditioner","priceFen":"500000","energyGrade":1})";

TEST_P(ClaimE2eTest, LifecycleClaimUsageConfirmRefundUsage) {
  ASSERT_TRUE(StartServer({}));
  const std::string buyer = PrcId(1);
  absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest("life-1", buyer, kFridge));
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->state(), v1::Claim::RESERVED);
  EXPECT_EQ(claim->total_subsidy_fen(), 100000);
  EXPECT_TRUE(claim->has_expires_at());
  EXPECT_FALSE(claim->has_confirmed_at());
  EXPECT_EQ(FridgeUnitsUsed(buyer), 1);

  absl::StatusOr<v1::Claim> confirmed = Confirm(claim->claim_id(), "INV-001", {{"1", {"SN-1"}}});
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(confirmed->state(), v1::Claim::CONFIRMED);
  EXPECT_EQ(confirmed->invoice_number(), "INV-001");
  EXPECT_EQ(confirmed->items(0).serial_numbers(0), "SN-1");
  ASSERT_TRUE(confirmed->has_confirmed_at());
  EXPECT_EQ(confirmed->confirmed_at().SerializeAsString(), confirmed->updated_at().SerializeAsString())
      << "confirmed at the confirmation's own time";

  absl::StatusOr<v1::Claim> refunded = Refund(claim->claim_id(), "refund-1");
  ASSERT_TRUE(refunded.ok()) << refunded.status();
  EXPECT_EQ(refunded->state(), v1::Claim::REFUNDED);
  EXPECT_EQ(refunded->refunded_fen(), 100000);
  EXPECT_EQ(refunded->total_subsidy_fen(), 0);
  EXPECT_EQ(refunded->confirmed_at().SerializeAsString(), confirmed->confirmed_at().SerializeAsString())
      << "a refund keeps the confirmation's time";
  EXPECT_EQ(FridgeUnitsUsed(buyer), 0);  // Zhejiang 2025: a refund gives the quota back (D8)

  absl::StatusOr<v1::Claim> fetched = Get(claim->claim_id());
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched->state(), v1::Claim::REFUNDED);
}

TEST_P(ClaimE2eTest, FiveHundredConcurrentClaimsForOneBuyerGrantExactlyTheLimit) {
  ASSERT_TRUE(StartServer({}));
  for (const auto& [item, limit] : {std::pair{kFridge, 1}, std::pair{kAirConditioner, 3}}) {
    SCOPED_TRACE(item);
    const std::string buyer = PrcId(limit == 1 ? 10 : 11);
    std::vector<v1::ClaimRequest> requests;
    for (int i = 0; i < 500; ++i)
      requests.push_back(ClaimRequest(absl::StrCat("race-", limit, "-", i), buyer, item));
    const std::vector<absl::StatusOr<v1::Claim>> answers = ClaimConcurrently(requests);
    int granted_units = 0, rejected = 0, errors = 0;
    absl::Status first_error;
    for (const auto& answer : answers) {
      if (!answer.ok()) {
        if (errors++ == 0) first_error = answer.status();
        continue;
      }
      granted_units += answer->items(0).granted_quantity();
      if (answer->state() == v1::Claim::REJECTED) {
        ++rejected;
        EXPECT_EQ(answer->items(0).reasons(0).code(), "QUOTA_EXHAUSTED");
      }
    }
    EXPECT_EQ(errors, 0) << "the first: " << first_error;
    EXPECT_EQ(granted_units, limit);
    EXPECT_EQ(rejected, 500 - limit);
    RecordNumber(absl::StrCat("race_limit_", limit, "_granted"), granted_units);
  }
}

TEST_P(ClaimE2eTest, FiveHundredConcurrentClaimsAgainstABudgetThatFitsTenGrantExactlyTen) {
  // Rui'an's e-bike budget cut to 12,000 yuan: ten e-bikes at the 1,200-yuan cap.
  ASSERT_TRUE(StartServer({{"ra-2025.textproto", "total_fen: 200000000", "total_fen: 1200000"}}));
  constexpr const char* kEbike =
      R"({"lineId":"1","productType":"ebike.new","priceFen":"400000","ebike":{"oldBikeSurrendered":true,"newBikeCertified":true}})";
  std::vector<v1::ClaimRequest> requests;
  for (int i = 0; i < 500; ++i)
    requests.push_back(ClaimRequest(absl::StrCat("budget-", i), PrcId(100 + i), kEbike));
  int granted = 0, budget_exhausted = 0, errors = 0;
  absl::Status first_error;
  for (const auto& answer : ClaimConcurrently(requests)) {
    if (!answer.ok()) {
      if (errors++ == 0) first_error = answer.status();
      continue;
    }
    if (answer->state() == v1::Claim::RESERVED) ++granted;
    if (answer->state() == v1::Claim::REJECTED && answer->items(0).reasons(0).code() == "BUDGET_EXHAUSTED") {
      ++budget_exhausted;
    }
  }
  EXPECT_EQ(errors, 0) << "the first: " << first_error;
  EXPECT_EQ(granted, 10);
  EXPECT_EQ(budget_exhausted, 490);
  absl::StatusOr<v1::BudgetUsage> usage = BudgetUsage("330381", "2025-06-01");
  ASSERT_TRUE(usage.ok()) << usage.status();
  ASSERT_EQ(usage->budgets_size(), 1);
  EXPECT_EQ(usage->budgets(0).used_fen(), 1200000);
  EXPECT_EQ(usage->budgets(0).remaining_fen(), 0);
  RecordNumber("budget_race_granted", granted);
}

TEST_P(ClaimE2eTest, TheSameClaimFiftyTimesAtOnceIsOneClaimCountedOnce) {
  ASSERT_TRUE(StartServer({}));
  const std::string buyer = PrcId(20);
  const std::vector<v1::ClaimRequest> requests(50, ClaimRequest("same-request", buyer, kAirConditioner));
  std::set<std::string> claim_ids;
  for (const auto& answer : ClaimConcurrently(requests)) {
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->state(), v1::Claim::RESERVED);
    claim_ids.insert(answer->claim_id());
  }
  EXPECT_EQ(claim_ids.size(), 1u);
  EXPECT_EQ(AirConditionerUnitsUsed(buyer), 1);
}

TEST_P(ClaimE2eTest, ARequestIdReusedWithOtherContentIsAlreadyExists) {
  ASSERT_TRUE(StartServer({}));
  ASSERT_TRUE(Claim(ClaimRequest("reuse", PrcId(30), kFridge)).ok());
  absl::StatusOr<v1::Claim> reused = Claim(ClaimRequest("reuse", PrcId(31), kFridge));
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_P(ClaimE2eTest, AnUnconfirmedClaimExpiresAndItsQuotaComesBack) {
  ASSERT_TRUE(StartServer({{"cn-2025.textproto", "seconds: 1800", "seconds: 2"}}));
  const std::string buyer = PrcId(40);
  absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest("expire-1", buyer, kFridge));
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(FridgeUnitsUsed(buyer), 1);
  // No one calls; the sweeper alone gives the quota back. Generous bound: 10× the hold.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (FridgeUnitsUsed(buyer) != 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(FridgeUnitsUsed(buyer), 0);
  EXPECT_EQ(Get(claim->claim_id())->state(), v1::Claim::EXPIRED);
  absl::StatusOr<v1::Claim> late = Confirm(claim->claim_id(), "INV", {});
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("expired"), std::string::npos) << late.status();
  EXPECT_TRUE(Claim(ClaimRequest("expire-2", buyer, kFridge)).ok());
}

TEST_P(ClaimE2eTest, CancelGivesTheQuotaBackAndIsSafeToRetry) {
  ASSERT_TRUE(StartServer({}));
  const std::string buyer = PrcId(50);
  absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest("cancel-1", buyer, kFridge));
  ASSERT_TRUE(claim.ok());
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<v1::Claim> cancelled = Cancel(claim->claim_id());
    ASSERT_TRUE(cancelled.ok()) << cancelled.status();
    EXPECT_EQ(cancelled->state(), v1::Claim::CANCELLED);
  }
  EXPECT_EQ(FridgeUnitsUsed(buyer), 0);
  EXPECT_EQ(Confirm(claim->claim_id(), "INV", {}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(ClaimE2eTest, QuoteWithABuyerMarksWhatTheBuyerHasUsed) {
  ASSERT_TRUE(StartServer({}));
  const std::string buyer = PrcId(60);
  ASSERT_TRUE(Claim(ClaimRequest("quote-1", buyer, kFridge)).ok());
  v1::QuoteRequest quote;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(
          absl::StrCat(
              R"({"regionCode":"330381","transactionDate":"2025-06-01","buyer":{"idType":"PRC_ID","idNumber":")",
              buyer, R"("},"items":[)", kFridge, "]}"),
          &quote)
          .ok());
  v1::QuoteResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(v1::SubsidyService::NewStub(channel())->Quote(&context, quote, &response).ok());
  EXPECT_TRUE(response.quota_checked());
  EXPECT_FALSE(response.items(0).eligible());
  EXPECT_EQ(response.items(0).reasons(0).code(), "QUOTA_EXHAUSTED");
  EXPECT_EQ(response.total_subsidy_fen(), 0);
}

TEST_P(ClaimE2eTest, ClaimsAreRefusedInTheFutureAndAfterTheClaimWindow) {
  ASSERT_TRUE(StartServer({}, "2026-01-05T10:00:00+08:00"));
  // 2025 appliances: claim window over on 2026-01-05.
  absl::StatusOr<v1::Claim> closed = Claim(ClaimRequest("window-1", PrcId(70), kFridge, "2025-12-30"));
  EXPECT_EQ(closed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(closed.status().message().find("cannot be made"), std::string::npos) << closed.status();
  absl::StatusOr<v1::Claim> future = Claim(ClaimRequest("window-2", PrcId(70), kFridge, "2026-01-06"));
  EXPECT_EQ(future.status().code(), absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Stores, ClaimE2eTest,
                         ::testing::Values(testing::StoreMode::kMemory, testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
