// Redis faults seen through the real server: paused, stopped, restarted, killed with -9. A claim answers
// UNAVAILABLE or DEADLINE_EXCEEDED by its deadline and grants nothing; Quote keeps answering; ClaimService's
// health follows Redis; the service recovers without a restart; no confirmed claim is lost.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein {
namespace {

using grpc::health::v1::HealthCheckResponse;
using testing::ClaimE2eTest;
using testing::PrcId;

constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";
constexpr absl::Duration kClaimDeadline = absl::Seconds(2);

class FaultE2eTest : public ClaimE2eTest {
 protected:
  HealthCheckResponse::ServingStatus ClaimHealth() {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("tradein.v1.ClaimService");
    HealthCheckResponse response;
    if (!grpc::health::v1::Health::NewStub(channel())->Check(&context, request, &response).ok()) {
      return HealthCheckResponse::UNKNOWN;
    }
    return response.status();
  }

  // Waits (generously) until ClaimService's health is `status`.
  bool AwaitClaimHealth(HealthCheckResponse::ServingStatus status) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (absl::Now() < give_up) {
      if (ClaimHealth() == status) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  bool QuoteAnswers() {
    v1::QuoteRequest quote;
    quote.set_region_code("330381");
    quote.set_transaction_date("2025-06-01");
    v1::Item* item = quote.add_items();
    item->set_line_id("1");
    item->set_product_type("appliance.refrigerator");
    item->set_price_fen(500000);
    item->set_energy_grade(1);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::QuoteResponse response;
    return v1::SubsidyService::NewStub(channel())->Quote(&context, quote, &response).ok() &&
           response.total_subsidy_fen() == 100000;
  }

  // A claim made while Redis cannot answer: a retryable error, by (a generous multiple of) its deadline.
  void ExpectClaimFailsFast(const std::string& request_id) {
    const absl::Time start = absl::Now();
    absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest(request_id, PrcId(900), kFridge), kClaimDeadline);
    const absl::Duration took = absl::Now() - start;
    ASSERT_FALSE(claim.ok());
    EXPECT_TRUE(claim.status().code() == absl::StatusCode::kUnavailable ||
                claim.status().code() == absl::StatusCode::kDeadlineExceeded)
        << claim.status();
    EXPECT_LT(took, 5 * kClaimDeadline) << "must not hang past the caller's deadline";
    RecordNumber(absl::StrCat(request_id, "_ms"), absl::ToInt64Milliseconds(took));
  }
};

TEST_P(FaultE2eTest, PausedRedisFailsClaimsFastKeepsQuotesAndRecovers) {
  ASSERT_TRUE(StartServer({}));
  ASSERT_TRUE(AwaitClaimHealth(HealthCheckResponse::SERVING));
  ASSERT_TRUE(redis()->Pause().ok());
  ExpectClaimFailsFast("paused-1");
  EXPECT_TRUE(QuoteAnswers()) << "Quote works from the rules alone";
  EXPECT_TRUE(AwaitClaimHealth(HealthCheckResponse::NOT_SERVING));
  ASSERT_TRUE(redis()->Resume().ok());
  EXPECT_TRUE(AwaitClaimHealth(HealthCheckResponse::SERVING));
  // The failed attempt granted nothing that a retry could see twice: the retry is one claim, counted once.
  absl::StatusOr<v1::Claim> retry = Claim(ClaimRequest("paused-1", PrcId(900), kFridge));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->state(), v1::Claim::RESERVED);
  EXPECT_EQ(FridgeUnitsUsed(PrcId(900)), 1);
}

TEST_P(FaultE2eTest, StoppedRedisIsUnavailableAndTheServiceRecoversAfterRestart) {
  ASSERT_TRUE(StartServer({}));
  ASSERT_TRUE(redis()->Stop().ok());
  ExpectClaimFailsFast("stopped-1");
  EXPECT_TRUE(QuoteAnswers());
  EXPECT_TRUE(AwaitClaimHealth(HealthCheckResponse::NOT_SERVING));
  ASSERT_TRUE(redis()->Restart().ok());
  EXPECT_TRUE(AwaitClaimHealth(HealthCheckResponse::SERVING));
  absl::StatusOr<v1::Claim> after = Claim(ClaimRequest("stopped-2", PrcId(901), kFridge));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->state(), v1::Claim::RESERVED);
}

TEST_P(FaultE2eTest, KillNineWithAofLosesNoConfirmedClaim) {
  ASSERT_TRUE(StartServer({}));
  std::vector<std::string> confirmed;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest(absl::StrCat("kill-", i), PrcId(910 + i), kFridge));
    ASSERT_TRUE(claim.ok()) << claim.status();
    ASSERT_TRUE(Confirm(claim->claim_id(), absl::StrCat("INV-", i), {}).ok());
    confirmed.push_back(claim->claim_id());
  }
  redis()->Kill();
  ASSERT_TRUE(redis()->Restart().ok());
  int survived = 0;
  for (const std::string& claim_id : confirmed) {
    // UNAVAILABLE is what a client retries while the service reconnects; anything else is the answer.
    absl::StatusOr<v1::Claim> claim = Get(claim_id);
    for (const absl::Time give_up = absl::Now() + absl::Seconds(30);
         claim.status().code() == absl::StatusCode::kUnavailable && absl::Now() < give_up;
         claim = Get(claim_id)) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    if (claim.ok() && claim->state() == v1::Claim::CONFIRMED) {
      ++survived;
    } else {
      ADD_FAILURE() << claim_id << ": "
                    << (claim.ok() ? v1::Claim::State_Name(claim->state()) : claim.status().ToString());
    }
  }
  EXPECT_EQ(survived, 20);
  EXPECT_EQ(FridgeUnitsUsed(PrcId(910)), 1) << "counters survive too";
  RecordNumber("confirmed_claims_after_kill9", survived);
}

INSTANTIATE_TEST_SUITE_P(Redis, FaultE2eTest, ::testing::Values(testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
