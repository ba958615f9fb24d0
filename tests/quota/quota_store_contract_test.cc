// The contract of services/quota/quota_store.h, run against every QuotaStore implementation.
#include "tests/quota/quota_store_contract.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/money.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/quota/redis_quota_store_factory.h"
#include "tests/testing/status_matchers.h"

namespace tradein::quota::testing {
namespace {

using pricing::ReasonCode;
using ::tradein::FieldViolation;
using ::tradein::testing::IsOk;
using ::tradein::testing::StatusIs;

constexpr int64_t kFridgeFen = 100000;

std::string ReasonOf(const absl::Status& status) { return tradein::ErrorReason(status); }

bool Has(const LineGrant& grant, ReasonCode code) { return grant.reasons.Contains(code); }

TEST_P(QuotaStoreContractTest, GrantsWhatTheCountersAllowAndCountsIt) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit fridge = Units("fridge", 1);
  absl::StatusOr<ClaimRecord> claim =
      sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_).Line("1", 1, kFridgeFen, {fridge}).Build());
  ASSERT_THAT(claim, IsOk());
  EXPECT_EQ(claim->state, ClaimState::kReserved);
  EXPECT_FALSE(claim->replayed);
  ASSERT_EQ(claim->grants.size(), 1u);
  EXPECT_EQ(claim->grants[0], (LineGrant{1, kFridgeFen, {}}));
  EXPECT_EQ(claim->expires_at, t0_ + absl::Minutes(30));
  EXPECT_EQ(claim->draft, "draft");
  EXPECT_EQ(*sync_->Usage(buyer, {fridge}, t0_), std::vector<int64_t>{1});
}

TEST_P(QuotaStoreContractTest, ASecondClaimOverTheLimitIsRejectedAndHoldsNothing) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit fridge = Units("fridge", 1);
  ASSERT_THAT(
      sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_).Line("1", 1, kFridgeFen, {fridge}).Build()),
      IsOk());
  absl::StatusOr<ClaimRecord> second =
      sync_->Reserve(ReserveBuilder(buyer, "shop", "r2", t0_).Line("1", 1, kFridgeFen, {fridge}).Build());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->state, ClaimState::kRejected);
  EXPECT_EQ(second->grants[0].units, 0);
  EXPECT_TRUE(Has(second->grants[0], ReasonCode::kQuotaExhausted));
  EXPECT_EQ(*sync_->Usage(buyer, {fridge}, t0_), std::vector<int64_t>{1});
  // Another buyer is not affected.
  absl::StatusOr<ClaimRecord> other = sync_->Reserve(
      ReserveBuilder(TestBuyer(2), "shop", "r3", t0_).Line("1", 1, kFridgeFen, {fridge}).Build());
  EXPECT_EQ(other->state, ClaimState::kReserved);
}

TEST_P(QuotaStoreContractTest, GrantsPartOfALineUpToTheUnitLimit) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit ac = Units("ac", 3);
  absl::StatusOr<ClaimRecord> claim =
      sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_).Line("ac", 4, 200000, {ac}).Build());
  ASSERT_THAT(claim, IsOk());
  EXPECT_EQ(claim->grants[0].units, 3);
  EXPECT_EQ(claim->grants[0].fen, 600000);
  EXPECT_TRUE(Has(claim->grants[0], ReasonCode::kQuotaExhausted));
  EXPECT_EQ(claim->state, ClaimState::kReserved);
}

TEST_P(QuotaStoreContractTest, LaterLinesOfOneClaimSeeEarlierLinesCounts) {
  const CounterLimit ac = Units("ac", 3);
  absl::StatusOr<ClaimRecord> claim = sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "r1", t0_)
                                                         .Line("a", 2, 100, {ac})
                                                         .Line("b", 2, 100, {ac})
                                                         .Build());
  ASSERT_THAT(claim, IsOk());
  EXPECT_EQ(claim->grants[0].units, 2);
  EXPECT_EQ(claim->grants[1].units, 1);
  EXPECT_TRUE(Has(claim->grants[1], ReasonCode::kQuotaExhausted));
}

TEST_P(QuotaStoreContractTest, CumulativeFenCapGrantsOnlyTheRest) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit cap = Fen("elderly", 2000000);
  absl::StatusOr<ClaimRecord> first =
      sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_).Line("1", 1, 1500000, {cap}).Build());
  absl::StatusOr<ClaimRecord> second =
      sync_->Reserve(ReserveBuilder(buyer, "shop", "r2", t0_).Line("1", 1, 900000, {cap}).Build());
  absl::StatusOr<ClaimRecord> third =
      sync_->Reserve(ReserveBuilder(buyer, "shop", "r3", t0_).Line("1", 1, 100, {cap}).Build());
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(first->grants[0].fen, 1500000);
  EXPECT_EQ(second->grants[0].units, 1);
  EXPECT_EQ(second->grants[0].fen, 500000);
  EXPECT_TRUE(Has(second->grants[0], ReasonCode::kAmountCapReached));
  EXPECT_EQ(third->state, ClaimState::kRejected);
  EXPECT_TRUE(Has(third->grants[0], ReasonCode::kQuotaExhausted));
  EXPECT_EQ(*sync_->Usage(buyer, {cap}, t0_), std::vector<int64_t>{2000000});
}

TEST_P(QuotaStoreContractTest, LinesTheRulesRefuseTakeNothing) {
  absl::StatusOr<ClaimRecord> claim = sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "r1", t0_)
                                                         .Line("refused", 0, 0, {Units("x", 1)})
                                                         .Line("ok", 1, 500, {Units("y", 1)})
                                                         .Build());
  ASSERT_THAT(claim, IsOk());
  EXPECT_EQ(claim->grants[0], LineGrant{});
  EXPECT_EQ(claim->grants[1].fen, 500);
  EXPECT_EQ(*sync_->Usage(TestBuyer(1), {Units("x", 1)}, t0_), std::vector<int64_t>{0});
}

TEST_P(QuotaStoreContractTest, ARejectedClaimIsStoredAndRepliedTheSame) {
  const ReserveRequest request = ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 0, 0).Build();
  absl::StatusOr<ClaimRecord> first = sync_->Reserve(request);
  absl::StatusOr<ClaimRecord> again = sync_->Reserve(request);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(first->state, ClaimState::kRejected);
  EXPECT_EQ(again->state, ClaimState::kRejected);
  EXPECT_TRUE(again->replayed);
  EXPECT_THAT(sync_->Confirm(first->claim_id, t0_), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(QuotaStoreContractTest, RetryReturnsTheSameClaimAndCountsOnce) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit ac = Units("ac", 3);
  const ReserveRequest request = ReserveBuilder(buyer, "shop", "r1", t0_).Line("1", 1, 100, {ac}).Build();
  absl::StatusOr<ClaimRecord> first = sync_->Reserve(request);
  absl::StatusOr<ClaimRecord> retry = sync_->Reserve(request);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->claim_id, first->claim_id);
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->grants, first->grants);
  EXPECT_EQ(*sync_->Usage(buyer, {ac}, t0_), std::vector<int64_t>{1});
}

TEST_P(QuotaStoreContractTest, ARequestIdReusedForOtherContentIsAlreadyExists) {
  ASSERT_THAT(sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 1, 100).Build()),
              IsOk());
  absl::StatusOr<ClaimRecord> reused =
      sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 2, 100).Build());
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReasonOf(reused.status()), "REQUEST_ID_REUSED");
  // Another buyer under the same retailer and request id is the same mistake.
  absl::StatusOr<ClaimRecord> other_buyer =
      sync_->Reserve(ReserveBuilder(TestBuyer(2), "shop", "r1", t0_).Line("1", 1, 100).Draft("x").Build());
  EXPECT_THAT(other_buyer, StatusIs(absl::StatusCode::kAlreadyExists));
  // The same request id from another retailer is another request.
  EXPECT_THAT(sync_->Reserve(ReserveBuilder(TestBuyer(1), "other-shop", "r1", t0_).Line("1", 1, 100).Build()),
              IsOk());
}

TEST_P(QuotaStoreContractTest, ConfirmIsIdempotentAndKeepsTheQuota) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit fridge = Units("fridge", 1);
  const ClaimRecord claim =
      *sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_).Line("1", 1, kFridgeFen, {fridge}).Build());
  absl::StatusOr<ClaimRecord> confirmed = sync_->Confirm(claim.claim_id, t0_ + absl::Minutes(5));
  ASSERT_THAT(confirmed, IsOk());
  EXPECT_EQ(confirmed->state, ClaimState::kConfirmed);
  EXPECT_EQ(confirmed->confirmation, "invoice-1");
  EXPECT_EQ(confirmed->updated_at, t0_ + absl::Minutes(5));
  absl::StatusOr<ClaimRecord> again = sync_->Confirm(claim.claim_id, t0_ + absl::Minutes(6));
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->state, ClaimState::kConfirmed);
  // Long after the hold would have ended, a confirmed claim still holds its quota.
  EXPECT_EQ(*sync_->Usage(buyer, {fridge}, t0_ + absl::Hours(48)), std::vector<int64_t>{1});
  EXPECT_EQ(sync_->Get(claim.claim_id, t0_ + absl::Hours(48))->state, ClaimState::kConfirmed);
}

TEST_P(QuotaStoreContractTest, ConfirmAfterTheHoldIsHoldExpired) {
  const ClaimRecord claim = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 1, 100, {Units("a", 1)}).Build());
  absl::StatusOr<ClaimRecord> late = sync_->Confirm(claim.claim_id, t0_ + absl::Minutes(30));
  EXPECT_THAT(late, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(late.status()), "HOLD_EXPIRED");
}

TEST_P(QuotaStoreContractTest, ConfirmOfAnotherRetailersOrUnknownClaimIsNotFound) {
  const ClaimRecord claim = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 1, 100, {Units("a", 1)}).Build());
  EXPECT_THAT(sync_->Confirm(claim.claim_id, t0_, "other-shop"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(sync_->Confirm(ClaimIdFor(TestBuyer(9), std::string(64, 'a')), t0_),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(sync_->Confirm(claim.claim_id, t0_, "shop"), IsOk());
}

TEST_P(QuotaStoreContractTest, CancelGivesEverythingBack) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit fridge = Units("fridge", 1);
  const BudgetRef budget = Budget("b", 1000000);
  const ClaimRecord claim = *sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_)
                                                .Line("1", 1, kFridgeFen, {fridge}, {Home("h1")}, {budget})
                                                .Build());
  absl::StatusOr<ClaimRecord> cancelled = sync_->Cancel(claim.claim_id, t0_ + absl::Minutes(1));
  ASSERT_THAT(cancelled, IsOk());
  EXPECT_EQ(cancelled->state, ClaimState::kCancelled);
  EXPECT_EQ(*sync_->Usage(buyer, {fridge}, t0_), std::vector<int64_t>{0});
  EXPECT_EQ(*sync_->BudgetUsage({budget}, t0_), std::vector<int64_t>{0});
  // The home is free again, and the buyer may claim again.
  absl::StatusOr<ClaimRecord> again =
      sync_->Reserve(ReserveBuilder(buyer, "shop", "r2", t0_)
                         .Line("1", 1, kFridgeFen, {fridge}, {Home("h1")}, {budget})
                         .Build());
  EXPECT_EQ(again->state, ClaimState::kReserved);
  EXPECT_TRUE(sync_->Cancel(claim.claim_id, t0_ + absl::Minutes(2))->replayed);
}

TEST_P(QuotaStoreContractTest, CancelOfAConfirmedClaimIsWrongState) {
  const ClaimRecord claim = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 1, 100, {Units("a", 1)}).Build());
  ASSERT_THAT(sync_->Confirm(claim.claim_id, t0_), IsOk());
  absl::StatusOr<ClaimRecord> cancel = sync_->Cancel(claim.claim_id, t0_);
  EXPECT_THAT(cancel, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(cancel.status()), "WRONG_STATE");
}

TEST_P(QuotaStoreContractTest, AnUnconfirmedClaimExpiresAndGivesEverythingBack) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit fridge = Units("fridge", 1);
  const BudgetRef budget = Budget("b", 1000000);
  const ClaimRecord claim = *sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_)
                                                .Line("1", 1, kFridgeFen, {fridge}, {Home("h1")}, {budget})
                                                .Build());
  const absl::Time before = t0_ + absl::Minutes(30) - absl::Seconds(1);
  const absl::Time after = t0_ + absl::Minutes(30);
  EXPECT_EQ(*sync_->Usage(buyer, {fridge}, before), std::vector<int64_t>{1});
  EXPECT_EQ(*sync_->Usage(buyer, {fridge}, after), std::vector<int64_t>{0});
  EXPECT_EQ(*sync_->BudgetUsage({budget}, after), std::vector<int64_t>{0});
  EXPECT_EQ(sync_->Get(claim.claim_id, after)->state, ClaimState::kExpired);
  // Another buyer can now use the home.
  absl::StatusOr<ClaimRecord> other = sync_->Reserve(
      ReserveBuilder(TestBuyer(2), "shop", "r2", after).Line("1", 1, kFridgeFen, {}, {Home("h1")}).Build());
  EXPECT_EQ(other->state, ClaimState::kReserved);
}

TEST_P(QuotaStoreContractTest, SweepReportsEachExpiryOnce) {
  const ClaimRecord claim = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 1, 100, {Units("a", 1)}).Build());
  const ClaimRecord confirmed = *sync_->Reserve(
      ReserveBuilder(TestBuyer(2), "shop", "r2", t0_).Line("1", 1, 100, {Units("a", 1)}).Build());
  ASSERT_THAT(sync_->Confirm(confirmed.claim_id, t0_), IsOk());
  absl::StatusOr<SweepResult> early = sync_->Sweep(t0_ + absl::Minutes(29));
  ASSERT_THAT(early, IsOk());
  EXPECT_TRUE(early->expired.empty());
  absl::StatusOr<SweepResult> due = sync_->Sweep(t0_ + absl::Minutes(31));
  ASSERT_THAT(due, IsOk());
  ASSERT_EQ(due->expired.size(), 1u);
  EXPECT_EQ(due->expired[0].claim_id, claim.claim_id);
  EXPECT_EQ(due->expired[0].state, ClaimState::kExpired);
  EXPECT_TRUE(sync_->Sweep(t0_ + absl::Minutes(32))->expired.empty());
}

TEST_P(QuotaStoreContractTest, AnExpiryNoticedByAReadIsStillReportedBySweep) {
  const ClaimRecord claim = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 1, 100, {Units("a", 1)}).Build());
  EXPECT_EQ(sync_->Get(claim.claim_id, t0_ + absl::Hours(1))->state, ClaimState::kExpired);
  absl::StatusOr<SweepResult> swept = sync_->Sweep(t0_ + absl::Hours(1));
  ASSERT_THAT(swept, IsOk());
  ASSERT_EQ(swept->expired.size(), 1u);
  EXPECT_EQ(swept->expired[0].claim_id, claim.claim_id);
}

TEST_P(QuotaStoreContractTest, AHomeIsSubsidisedOnce) {
  const ClaimRecord first = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 1, 500, {}, {Home("h1")}).Build());
  ASSERT_THAT(sync_->Confirm(first.claim_id, t0_), IsOk());
  absl::StatusOr<ClaimRecord> second =
      sync_->Reserve(ReserveBuilder(TestBuyer(2), "shop", "r2", t0_ + absl::Hours(1))
                         .Line("1", 1, 500, {}, {Home("h1")})
                         .Line("2", 1, 700, {}, {Home("h2")})
                         .Build());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->grants[0].units, 0);
  EXPECT_TRUE(Has(second->grants[0], ReasonCode::kHomeAlreadyUsed));
  EXPECT_EQ(second->grants[1].fen, 700);
}

TEST_P(QuotaStoreContractTest, BudgetsGrantWholeUnitsUntilTheyRunOut) {
  const BudgetRef budget = Budget("b", 250);
  std::vector<ClaimState> states;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<ClaimRecord> claim =
        sync_->Reserve(ReserveBuilder(TestBuyer(i), "shop", absl::StrCat("r", i), t0_)
                           .Line("1", 1, 100, {}, {}, {budget})
                           .Build());
    ASSERT_THAT(claim, IsOk());
    states.push_back(claim->state);
    if (claim->state == ClaimState::kRejected) {
      EXPECT_TRUE(Has(claim->grants[0], ReasonCode::kBudgetExhausted));
    }
  }
  EXPECT_EQ(states, (std::vector<ClaimState>{ClaimState::kReserved, ClaimState::kReserved,
                                             ClaimState::kRejected, ClaimState::kRejected}));
  EXPECT_EQ(*sync_->BudgetUsage({budget}, t0_), std::vector<int64_t>{200});
  // A reload that raises the total keeps what was used.
  const BudgetRef raised = Budget("b", 1000);
  EXPECT_EQ(*sync_->BudgetUsage({raised}, t0_), std::vector<int64_t>{200});
  EXPECT_EQ(
      sync_
          ->Reserve(
              ReserveBuilder(TestBuyer(9), "shop", "r9", t0_).Line("1", 3, 100, {}, {}, {raised}).Build())
          ->grants[0]
          .units,
      3);
}

// A hold that ended gives its budget share back to the next claim that needs it, whether or not anything
// swept it first (the Redis store gives ended holds back only when a line would not fit without them).
TEST_P(QuotaStoreContractTest, AHoldThatEndedGivesItsBudgetShareToTheNextClaim) {
  const BudgetRef budget = Budget("b", 250);
  const ClaimRecord first = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 2, 100, {}, {}, {budget}).Build());
  EXPECT_EQ(first.grants[0].units, 2);
  const ClaimRecord meanwhile =
      *sync_->Reserve(ReserveBuilder(TestBuyer(2), "shop", "r2", t0_ + absl::Minutes(1))
                          .Line("1", 2, 100, {}, {}, {budget})
                          .Build());
  EXPECT_EQ(meanwhile.grants[0].units, 0) << "50 fen left while the first claim holds 200";
  const absl::Time later = t0_ + absl::Hours(2);
  const ClaimRecord after = *sync_->Reserve(
      ReserveBuilder(TestBuyer(3), "shop", "r3", later).Line("1", 2, 100, {}, {}, {budget}).Build());
  EXPECT_EQ(after.grants[0].units, 2) << "the first claim's hold ended: its 200 fen are free again";
  EXPECT_EQ(*sync_->BudgetUsage({budget}, later), std::vector<int64_t>{200});
}

TEST_P(QuotaStoreContractTest, BudgetIsAllocatedBeforeCountersAndUnusedPartGoesBack) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit one = Units("one", 1);
  const BudgetRef budget = Budget("b", 1000);
  absl::StatusOr<ClaimRecord> claim =
      sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_).Line("1", 3, 300, {one}, {}, {budget}).Build());
  ASSERT_THAT(claim, IsOk());
  EXPECT_EQ(claim->grants[0].units, 1);
  EXPECT_EQ(*sync_->BudgetUsage({budget}, t0_), std::vector<int64_t>{300});
}

TEST_P(QuotaStoreContractTest, RefundOfTheWholeClaimGivesBudgetAndQuotaBack) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit fridge = Units("fridge", 1);
  const BudgetRef budget = Budget("b", 1000000);
  const ClaimRecord claim = *sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_)
                                                .Line("1", 1, kFridgeFen, {fridge}, {Home("h")}, {budget})
                                                .Build());
  ASSERT_THAT(sync_->Confirm(claim.claim_id, t0_), IsOk());
  const RefundRequest refund{claim.claim_id, "", "refund-1", "fp", {}, t0_ + absl::Hours(2)};
  absl::StatusOr<ClaimRecord> refunded = sync_->Refund(refund);
  ASSERT_THAT(refunded, IsOk());
  EXPECT_EQ(refunded->state, ClaimState::kRefunded);
  EXPECT_EQ(refunded->refunds[0], (LineRefund{1, kFridgeFen}));
  EXPECT_EQ(*sync_->Usage(buyer, {fridge}, t0_ + absl::Hours(2)), std::vector<int64_t>{0});
  EXPECT_EQ(*sync_->BudgetUsage({budget}, t0_ + absl::Hours(2)), std::vector<int64_t>{0});
  absl::StatusOr<ClaimRecord> retry = sync_->Refund(refund);
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(retry->replayed);
  RefundRequest another = refund;
  another.refund_id = "refund-2";
  EXPECT_THAT(sync_->Refund(another), StatusIs(absl::StatusCode::kFailedPrecondition));
  RefundRequest reused = refund;
  reused.fingerprint = "other";
  absl::StatusOr<ClaimRecord> conflict = sync_->Refund(reused);
  EXPECT_THAT(conflict, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReasonOf(conflict.status()), "REFUND_ID_REUSED");
}

TEST_P(QuotaStoreContractTest, PartialRefundsAreProportionalAndExact) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit cap = Fen("cap", 1000);  // three units of 400 capped to 1000 in total
  const ClaimRecord claim =
      *sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_).Line("1", 3, 400, {cap}).Build());
  ASSERT_EQ(claim.grants[0].fen, 1000);
  ASSERT_THAT(sync_->Confirm(claim.claim_id, t0_), IsOk());
  absl::StatusOr<ClaimRecord> one = sync_->Refund({claim.claim_id, "", "a", "fa", {{"1", 1}}, t0_});
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ(one->state, ClaimState::kPartiallyRefunded);
  EXPECT_EQ(one->refunds[0], (LineRefund{1, 333}));
  absl::StatusOr<ClaimRecord> rest = sync_->Refund({claim.claim_id, "", "b", "fb", {{"1", 0}}, t0_});
  ASSERT_THAT(rest, IsOk());
  EXPECT_EQ(rest->state, ClaimState::kRefunded);
  EXPECT_EQ(rest->refunds[0], (LineRefund{3, 1000}));
  EXPECT_EQ(*sync_->Usage(buyer, {cap}, t0_), std::vector<int64_t>{0});
}

TEST_P(QuotaStoreContractTest, RefundErrors) {
  const ClaimRecord claim = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 2, 100, {Units("a", 5)}).Build());
  absl::StatusOr<ClaimRecord> unconfirmed = sync_->Refund({claim.claim_id, "", "x", "f", {}, t0_});
  EXPECT_EQ(ReasonOf(unconfirmed.status()), "WRONG_STATE");
  ASSERT_THAT(sync_->Confirm(claim.claim_id, t0_), IsOk());
  absl::StatusOr<ClaimRecord> too_many = sync_->Refund({claim.claim_id, "", "y", "f", {{"1", 3}}, t0_});
  EXPECT_EQ(ReasonOf(too_many.status()), "REFUND_EXCEEDS_GRANT");
  absl::StatusOr<ClaimRecord> unknown_line =
      sync_->Refund({claim.claim_id, "", "z", "f", {{"nope", 1}}, t0_});
  EXPECT_THAT(unknown_line, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ReasonOf(unknown_line.status()), "LINE_NOT_FOUND");
  absl::StatusOr<ClaimRecord> other_retailer = sync_->Refund({claim.claim_id, "other", "w", "f", {}, t0_});
  EXPECT_THAT(other_retailer, StatusIs(absl::StatusCode::kNotFound));
  // None of the refused refunds changed anything.
  EXPECT_EQ(sync_->Get(claim.claim_id, t0_)->state, ClaimState::kConfirmed);
}

TEST_P(QuotaStoreContractTest, RefundKeepsTheQuotaWhenThePolicySaysSo) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit fridge = Units("fridge", 1);
  const BudgetRef budget = Budget("b", 1000000);
  const ClaimRecord claim = *sync_->Reserve(ReserveBuilder(buyer, "shop", "r1", t0_)
                                                .Line("1", 1, kFridgeFen, {fridge}, {}, {budget})
                                                .RestoresQuotaOnRefund(false)
                                                .Build());
  ASSERT_THAT(sync_->Confirm(claim.claim_id, t0_), IsOk());
  ASSERT_THAT(sync_->Refund({claim.claim_id, "", "r", "f", {}, t0_}), IsOk());
  EXPECT_EQ(*sync_->Usage(buyer, {fridge}, t0_), std::vector<int64_t>{1});
  EXPECT_EQ(*sync_->BudgetUsage({budget}, t0_), std::vector<int64_t>{0});
}

TEST_P(QuotaStoreContractTest, CountersOfOneProgrammeDoNotLeakIntoAnother) {
  const BuyerRef buyer = TestBuyer(1);
  ASSERT_THAT(
      sync_->Reserve(
          ReserveBuilder(buyer, "shop", "r1", t0_).Line("1", 1, 100, {Units("tv", 1, "cn-2025")}).Build()),
      IsOk());
  absl::StatusOr<ClaimRecord> next_year = sync_->Reserve(
      ReserveBuilder(buyer, "shop", "r2", t0_).Line("1", 1, 100, {Units("tv", 1, "cn-2026")}).Build());
  EXPECT_EQ(next_year->state, ClaimState::kReserved);
  EXPECT_EQ(*sync_->Usage(buyer, {Units("tv", 1, "cn-2025"), Units("tv", 1, "cn-2026")}, t0_),
            (std::vector<int64_t>{1, 1}));
}

TEST_P(QuotaStoreContractTest, GetOfAnUnknownClaimIsNotFound) {
  absl::StatusOr<ClaimRecord> missing = sync_->Get(ClaimIdFor(TestBuyer(3), std::string(64, 'b')), t0_);
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ReasonOf(missing.status()), "CLAIM_NOT_FOUND");
}

TEST_P(QuotaStoreContractTest, PingAnswers) {
  EXPECT_THAT(Await<bool>([&](QuotaStore::Callback<bool> done) {
                store_->Ping(absl::Now() + absl::Seconds(10), std::move(done));
              }),
              ::tradein::testing::IsOkAndHolds(true));
}

// ---------------------------------------------------------------------------------------------------------
// Refunds: homes shared by lines, amounts given back

// A home two lines of one claim use stays the claim's until no line with units left uses it.
TEST_P(QuotaStoreContractTest, AHomeOfTwoLinesIsReleasedOnlyWhenNoUnrefundedLineUsesIt) {
  const ClaimRecord first = *sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "r1", t0_)
                                                .Line("a", 1, 500, {}, {Home("h")})
                                                .Line("b", 1, 700, {}, {Home("h")})
                                                .Build());
  ASSERT_EQ(first.state, ClaimState::kReserved);
  ASSERT_THAT(sync_->Confirm(first.claim_id, t0_), IsOk());
  ASSERT_THAT(sync_->Refund({first.claim_id, "", "ra", "fa", {{"a", 0}}, t0_}), IsOk());
  const absl::StatusOr<ClaimRecord> refused = sync_->Reserve(
      ReserveBuilder(TestBuyer(2), "shop", "r2", t0_).Line("1", 1, 500, {}, {Home("h")}).Build());
  ASSERT_THAT(refused, IsOk());
  EXPECT_EQ(refused->state, ClaimState::kRejected) << "line b still uses the home";
  EXPECT_TRUE(Has(refused->grants[0], ReasonCode::kHomeAlreadyUsed));

  ASSERT_THAT(sync_->Refund({first.claim_id, "", "rb", "fb", {{"b", 0}}, t0_}), IsOk());
  const ClaimRecord second = *sync_->Reserve(
      ReserveBuilder(TestBuyer(2), "shop", "r3", t0_).Line("1", 1, 500, {}, {Home("h")}).Build());
  EXPECT_EQ(second.state, ClaimState::kReserved) << "no line of the first claim uses the home any more";
  ASSERT_THAT(sync_->Confirm(second.claim_id, t0_), IsOk());
  // Nothing the first claim does later frees the home the second one holds.
  EXPECT_THAT(sync_->Void({first.claim_id, "v", "fv", t0_}), StatusIs(absl::StatusCode::kFailedPrecondition));
  const absl::StatusOr<ClaimRecord> third = sync_->Reserve(
      ReserveBuilder(TestBuyer(3), "shop", "r4", t0_).Line("1", 1, 500, {}, {Home("h")}).Build());
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(third->state, ClaimState::kRejected) << "the home is the second claim's";
}

// Both lines refunded in one call: the shared home goes back.
TEST_P(QuotaStoreContractTest, AHomeOfTwoLinesRefundedInOneCallIsReleased) {
  const ClaimRecord first = *sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "r1", t0_)
                                                .Line("a", 1, 500, {}, {Home("h")})
                                                .Line("b", 1, 700, {}, {Home("h")})
                                                .Build());
  ASSERT_THAT(sync_->Confirm(first.claim_id, t0_), IsOk());
  ASSERT_THAT(sync_->Refund({first.claim_id, "", "r", "f", {{"a", 0}, {"b", 0}}, t0_}), IsOk());
  EXPECT_EQ(
      sync_->Reserve(ReserveBuilder(TestBuyer(2), "shop", "r2", t0_).Line("1", 1, 5, {}, {Home("h")}).Build())
          ->state,
      ClaimState::kReserved);
}

TEST_P(QuotaStoreContractTest, ARefundSaysWhatItGaveBack) {
  const ClaimRecord claim = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 3, 400, {Fen("cap", 1000)}).Build());
  ASSERT_THAT(sync_->Confirm(claim.claim_id, t0_), IsOk());
  const RefundRequest one{claim.claim_id, "", "a", "fa", {{"1", 1}}, t0_};
  EXPECT_EQ(sync_->Refund(one)->last_change_fen, 333);
  EXPECT_EQ(sync_->Refund({claim.claim_id, "", "b", "fb", {}, t0_})->last_change_fen, 667);
  const absl::StatusOr<ClaimRecord> replay = sync_->Refund(one);
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->last_change_fen, 0);
}

// ---------------------------------------------------------------------------------------------------------
// Serial numbers

TEST_P(QuotaStoreContractTest, ASerialIsSubsidisedOnceAndARefusedConfirmChangesNothing) {
  const ClaimRecord a = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "a", t0_).Line("tv", 2, 300, {Units("tv", 5)}).Build());
  ASSERT_THAT(sync_->ConfirmWith(a.claim_id, t0_, {Serial("S1", "tv", 0, 0), Serial("S2", "tv", 0, 1)}),
              IsOk());

  const ClaimRecord b = *sync_->Reserve(
      ReserveBuilder(TestBuyer(2), "shop", "b", t0_).Line("tv", 2, 300, {Units("tv", 5)}).Build());
  // The second unit's serial is the first claim's: refused, naming that field, and the first serial is let
  // go.
  const absl::StatusOr<ClaimRecord> refused =
      sync_->ConfirmWith(b.claim_id, t0_, {Serial("S3", "tv", 0, 0), Serial("S2", "tv", 0, 1)});
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                ::testing::HasSubstr("lineSerials[0].serialNumbers[1]")));
  EXPECT_EQ(ReasonOf(refused.status()), "SERIAL_ALREADY_SUBSIDISED");
  const absl::StatusOr<ClaimRecord> after = sync_->Get(b.claim_id, t0_);
  EXPECT_EQ(after->state, ClaimState::kReserved);
  EXPECT_EQ(after->confirmation, "");
  EXPECT_EQ(*sync_->Usage(TestBuyer(2), {Units("tv", 5)}, t0_), std::vector<int64_t>{2});
  // S3 was not kept by the refused attempt: a third claim takes it.
  const ClaimRecord c =
      *sync_->Reserve(ReserveBuilder(TestBuyer(3), "shop", "c", t0_).Line("tv", 1, 300).Build());
  EXPECT_THAT(sync_->ConfirmWith(c.claim_id, t0_, {Serial("S3", "tv")}), IsOk());
  // The refused claim confirms with serials of its own.
  const absl::StatusOr<ClaimRecord> b_confirmed =
      sync_->ConfirmWith(b.claim_id, t0_, {Serial("S4", "tv", 0, 0), Serial("S5", "tv", 0, 1)});
  ASSERT_THAT(b_confirmed, IsOk());
  EXPECT_EQ(b_confirmed->state, ClaimState::kConfirmed);
}

TEST_P(QuotaStoreContractTest, AConfirmRetryWithItsSerialsIsFineAndAConfirmedClaimIgnoresSerials) {
  const ClaimRecord a =
      *sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "a", t0_).Line("1", 1, 300).Build());
  const ClaimRecord b =
      *sync_->Reserve(ReserveBuilder(TestBuyer(2), "shop", "b", t0_).Line("1", 1, 300).Build());
  ASSERT_THAT(sync_->ConfirmWith(a.claim_id, t0_, {Serial("S1", "1")}), IsOk());
  const absl::StatusOr<ClaimRecord> again = sync_->ConfirmWith(a.claim_id, t0_, {Serial("S1", "1")});
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->replayed);
  ASSERT_THAT(sync_->ConfirmWith(b.claim_id, t0_, {Serial("S2", "1")}), IsOk());
  // Serials of a confirmed claim are not looked at again, even wrong ones.
  const absl::StatusOr<ClaimRecord> ignored =
      sync_->ConfirmWith(a.claim_id, t0_, {Serial("S2", "1"), Serial("S9", "nope")});
  ASSERT_THAT(ignored, IsOk());
  EXPECT_TRUE(ignored->replayed);
  // A claim whose first confirm was refused for its serials confirms with the same serials once they are
  // free.
  const ClaimRecord c =
      *sync_->Reserve(ReserveBuilder(TestBuyer(3), "shop", "c", t0_).Line("1", 1, 300).Build());
  EXPECT_THAT(sync_->ConfirmWith(c.claim_id, t0_, {Serial("S1", "1")}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(sync_->Refund({a.claim_id, "", "r", "f", {}, t0_}), IsOk());
  EXPECT_THAT(sync_->ConfirmWith(c.claim_id, t0_, {Serial("S1", "1")}), IsOk());
}

TEST_P(QuotaStoreContractTest, SerialsMustNumberTheGrantedUnitsOfKnownLines) {
  // Three units asked for, two granted.
  const ClaimRecord claim = *sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "r1", t0_)
                                                .Line("ac", 3, 300, {Units("ac", 2)})
                                                .Line("tv", 1, 500)
                                                .Build());
  ASSERT_EQ(claim.grants[0].units, 2);
  // One serial for two units.
  const absl::StatusOr<ClaimRecord> too_few =
      sync_->ConfirmWith(claim.claim_id, t0_, {Serial("T1", "tv", 0, 0), Serial("A1", "ac", 1, 0)});
  EXPECT_THAT(too_few, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ReasonOf(too_few.status()), "SERIAL_COUNT");
  const std::vector<FieldViolation> violations = tradein::FieldViolations(too_few.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "lineSerials[1]");
  // Three serials for two units.
  EXPECT_EQ(ReasonOf(sync_
                         ->ConfirmWith(
                             claim.claim_id, t0_,
                             {Serial("A1", "ac", 0, 0), Serial("A2", "ac", 0, 1), Serial("A3", "ac", 0, 2)})
                         .status()),
            "SERIAL_COUNT");
  // A line the claim does not have.
  const absl::StatusOr<ClaimRecord> unknown =
      sync_->ConfirmWith(claim.claim_id, t0_, {Serial("X", "fridge", 2, 0)});
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("lineSerials[2]")));
  EXPECT_EQ(ReasonOf(unknown.status()), "LINE_NOT_FOUND");
  // One device for two units.
  const absl::StatusOr<ClaimRecord> twice =
      sync_->ConfirmWith(claim.claim_id, t0_, {Serial("A1", "ac", 0, 0), Serial("A1", "ac", 0, 1)});
  EXPECT_THAT(twice, StatusIs(absl::StatusCode::kFailedPrecondition,
                              ::testing::HasSubstr("lineSerials[0].serialNumbers[1]")));
  EXPECT_EQ(ReasonOf(twice.status()), "SERIAL_ALREADY_SUBSIDISED");
  EXPECT_EQ(sync_->Get(claim.claim_id, t0_)->state, ClaimState::kReserved);
  // Serials of some lines only, numbering their units: fine.
  EXPECT_THAT(sync_->ConfirmWith(claim.claim_id, t0_, {Serial("A1", "ac", 0, 0), Serial("A2", "ac", 0, 1)}),
              IsOk());
}

TEST_P(QuotaStoreContractTest, SerialsComeBackWhenTheirLineIsRefundedWholeAndRefundsRestoreQuota) {
  auto confirm_elsewhere = [&](const std::string& request, const std::string& serial) {
    const ClaimRecord other =
        *sync_->Reserve(ReserveBuilder(TestBuyer(9), "shop", request, t0_).Line("1", 1, 100).Build());
    return sync_->ConfirmWith(other.claim_id, t0_, {Serial(serial, "1")});
  };
  const ClaimRecord a =
      *sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "a", t0_).Line("1", 2, 300).Build());
  ASSERT_THAT(sync_->ConfirmWith(a.claim_id, t0_, {Serial("S1", "1", 0, 0), Serial("S2", "1", 0, 1)}),
              IsOk());
  ASSERT_THAT(sync_->Refund({a.claim_id, "", "r1", "f", {{"1", 1}}, t0_}), IsOk());
  EXPECT_THAT(confirm_elsewhere("x1", "S1"), StatusIs(absl::StatusCode::kFailedPrecondition))
      << "the line still has a unit";
  ASSERT_THAT(sync_->Refund({a.claim_id, "", "r2", "f", {{"1", 1}}, t0_}), IsOk());
  EXPECT_THAT(confirm_elsewhere("x2", "S1"), IsOk());
  EXPECT_THAT(confirm_elsewhere("x3", "S2"), IsOk());

  // A claim whose refunds do not restore quota keeps its serials.
  const ClaimRecord kept = *sync_->Reserve(
      ReserveBuilder(TestBuyer(2), "shop", "k", t0_).Line("1", 1, 300).RestoresQuotaOnRefund(false).Build());
  ASSERT_THAT(sync_->ConfirmWith(kept.claim_id, t0_, {Serial("K1", "1")}), IsOk());
  ASSERT_THAT(sync_->Refund({kept.claim_id, "", "r", "f", {}, t0_}), IsOk());
  EXPECT_THAT(confirm_elsewhere("x4", "K1"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// ---------------------------------------------------------------------------------------------------------
// Void

class VoidAndCorrectTest : public QuotaStoreContractTest {
 protected:
  // A confirmed claim of buyer 1: line "tv" 2 units × 1000 with a unit counter, a fen cap, the home, the
  // budget, and a serial per unit; line "ac" 1 unit × 500 on the budget.
  ClaimRecord Confirmed(bool restores = true) {
    const ClaimRecord claim = *sync_->Reserve(ReserveBuilder(buyer_, "shop", "r1", t0_)
                                                  .Line("tv", 2, 1000, {tv_, cap_}, {Home("h")}, {budget_})
                                                  .Line("ac", 1, 500, {}, {}, {budget_})
                                                  .RestoresQuotaOnRefund(restores)
                                                  .Build());
    EXPECT_EQ(claim.GrantedFen(), 2500);
    EXPECT_THAT(sync_->ConfirmWith(claim.claim_id, t0_, {Serial("S1", "tv", 0, 0), Serial("S2", "tv", 0, 1)}),
                IsOk());
    return claim;
  }
  std::vector<int64_t> Usage() { return *sync_->Usage(buyer_, {tv_, cap_}, t0_); }
  int64_t BudgetUsed() { return sync_->BudgetUsage({budget_}, t0_)->at(0); }
  bool HomeIsFree(const std::string& request) {
    return sync_
               ->Reserve(ReserveBuilder(TestBuyer(7), "shop", request, t0_)
                             .Line("1", 1, 5, {}, {Home("h")})
                             .Build())
               ->state == ClaimState::kReserved;
  }
  bool SerialIsFree(const std::string& request, const std::string& serial) {
    const ClaimRecord other =
        *sync_->Reserve(ReserveBuilder(TestBuyer(8), "shop", request, t0_).Line("1", 1, 5).Build());
    return sync_->ConfirmWith(other.claim_id, t0_, {Serial(serial, "1")}).ok();
  }

  const BuyerRef buyer_ = TestBuyer(1);
  const CounterLimit tv_ = Units("tv", 5);
  const CounterLimit cap_ = Fen("cap", 100000);
  const BudgetRef budget_ = Budget("b", 1000000);
};

TEST_P(VoidAndCorrectTest, AVoidGivesBackEverythingNotYetRefunded) {
  const ClaimRecord claim = Confirmed();
  ASSERT_THAT(sync_->Refund({claim.claim_id, "", "r", "f", {{"tv", 1}}, t0_}), IsOk());
  ASSERT_EQ(Usage(), (std::vector<int64_t>{1, 1000}));
  const absl::StatusOr<ClaimRecord> voided = sync_->Void({claim.claim_id, "v1", "fv", t0_ + absl::Hours(1)});
  ASSERT_THAT(voided, IsOk());
  EXPECT_EQ(voided->state, ClaimState::kVoided);
  EXPECT_FALSE(voided->replayed);
  EXPECT_EQ(voided->last_change_fen, 1500);
  EXPECT_EQ(voided->refunds, (std::vector<LineRefund>{{2, 2000}, {1, 500}}));
  EXPECT_EQ(voided->updated_at, t0_ + absl::Hours(1));
  EXPECT_EQ(Usage(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(BudgetUsed(), 0);
  EXPECT_TRUE(HomeIsFree("h1"));
  EXPECT_TRUE(SerialIsFree("s1", "S2"));
  EXPECT_EQ(sync_->Get(claim.claim_id, t0_ + absl::Hours(2))->state, ClaimState::kVoided);

  const absl::StatusOr<ClaimRecord> replay = sync_->Void({claim.claim_id, "v1", "fv", t0_ + absl::Hours(3)});
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->last_change_fen, 0);
  EXPECT_EQ(replay->state, ClaimState::kVoided);
  const absl::StatusOr<ClaimRecord> reused = sync_->Void({claim.claim_id, "v1", "other", t0_});
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReasonOf(reused.status()), "VOID_ID_REUSED");
  const absl::StatusOr<ClaimRecord> twice = sync_->Void({claim.claim_id, "v2", "fv", t0_});
  EXPECT_EQ(ReasonOf(twice.status()), "WRONG_STATE");
  EXPECT_EQ(ReasonOf(sync_->Refund({claim.claim_id, "", "r2", "f", {}, t0_}).status()), "WRONG_STATE");
  EXPECT_EQ(ReasonOf(sync_->Correct({claim.claim_id, "c", "fc", {{"tv", 0}}, t0_}).status()), "WRONG_STATE");
}

TEST_P(VoidAndCorrectTest, AVoidKeepsTheQuotaWhenRefundsDoNotRestoreIt) {
  const ClaimRecord claim = Confirmed(/*restores=*/false);
  ASSERT_THAT(sync_->Void({claim.claim_id, "v", "fv", t0_}), IsOk());
  EXPECT_EQ(Usage(), (std::vector<int64_t>{2, 2000}));
  EXPECT_EQ(BudgetUsed(), 0);
  EXPECT_FALSE(HomeIsFree("h1"));
  EXPECT_FALSE(SerialIsFree("s1", "S1"));
}

TEST_P(VoidAndCorrectTest, OnlyAConfirmedOrPartlyRefundedClaimCanBeVoided) {
  const ClaimRecord reserved = *sync_->Reserve(
      ReserveBuilder(buyer_, "shop", "r1", t0_).Line("1", 1, 100, {tv_}, {}, {budget_}).Build());
  const absl::StatusOr<ClaimRecord> early = sync_->Void({reserved.claim_id, "v", "fv", t0_});
  EXPECT_THAT(early, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(early.status()), "WRONG_STATE");
  EXPECT_EQ(sync_->Get(reserved.claim_id, t0_)->state, ClaimState::kReserved);
  EXPECT_EQ(BudgetUsed(), 100);
  ASSERT_THAT(sync_->Confirm(reserved.claim_id, t0_), IsOk());
  ASSERT_THAT(sync_->Refund({reserved.claim_id, "", "r", "f", {}, t0_}), IsOk());
  EXPECT_EQ(ReasonOf(sync_->Void({reserved.claim_id, "v", "fv", t0_}).status()), "WRONG_STATE");
  const ClaimRecord rejected =
      *sync_->Reserve(ReserveBuilder(buyer_, "shop", "r2", t0_).Line("1", 0, 0).Build());
  EXPECT_EQ(ReasonOf(sync_->Void({rejected.claim_id, "v", "fv", t0_}).status()), "WRONG_STATE");
  EXPECT_THAT(sync_->Void({ClaimIdFor(TestBuyer(5), std::string(64, 'e')), "v", "fv", t0_}),
              StatusIs(absl::StatusCode::kNotFound));
}

// ---------------------------------------------------------------------------------------------------------
// Correct

TEST_P(VoidAndCorrectTest, ACorrectionLowersTheGrantAndGivesTheDifferenceBack) {
  const ClaimRecord claim = Confirmed();
  const CorrectRequest correct{claim.claim_id, "c1", "fc", {{"tv", 1200}, {"ac", 400}}, t0_ + absl::Hours(1)};
  const absl::StatusOr<ClaimRecord> corrected = sync_->Correct(correct);
  ASSERT_THAT(corrected, IsOk());
  EXPECT_EQ(corrected->state, ClaimState::kConfirmed);
  EXPECT_EQ(corrected->last_change_fen, 900);
  EXPECT_EQ(corrected->grants[0].units, 2);
  EXPECT_EQ(corrected->grants[0].fen, 1200);
  EXPECT_EQ(corrected->grants[1].fen, 400);
  EXPECT_EQ(corrected->updated_at, t0_ + absl::Hours(1));
  EXPECT_EQ(Usage(), (std::vector<int64_t>{2, 1200}))
      << "units stay counted; the fen cap gets the difference";
  EXPECT_EQ(BudgetUsed(), 1600);

  const absl::StatusOr<ClaimRecord> replay = sync_->Correct(correct);
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->last_change_fen, 0);
  EXPECT_EQ(replay->grants[0].fen, 1200);
  CorrectRequest other = correct;
  other.fingerprint = "other";
  const absl::StatusOr<ClaimRecord> reused = sync_->Correct(other);
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReasonOf(reused.status()), "CORRECTION_ID_REUSED");
  EXPECT_EQ(BudgetUsed(), 1600);

  // Refunds after a correction give back the corrected amounts.
  const absl::StatusOr<ClaimRecord> one = sync_->Refund({claim.claim_id, "", "r1", "f", {{"tv", 1}}, t0_});
  EXPECT_EQ(one->refunds[0], (LineRefund{1, 600}));
  const absl::StatusOr<ClaimRecord> rest = sync_->Refund({claim.claim_id, "", "r2", "f", {}, t0_});
  EXPECT_EQ(rest->state, ClaimState::kRefunded);
  EXPECT_EQ(rest->last_change_fen, 1000);
  EXPECT_EQ(Usage(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(BudgetUsed(), 0);
}

// ---------------------------------------------------------------------------------------------------------
// History

TEST_P(VoidAndCorrectTest, ARefundACorrectionAndAVoidEachLeaveOneEventInTheHistory) {
  const ClaimRecord claim = Confirmed();
  EXPECT_TRUE(sync_->Get(claim.claim_id, t0_)->history.empty()) << "reserve and confirm add no event";
  const RefundRequest refund{claim.claim_id,           "", "r1", "f", {{"tv", 1}}, t0_ + absl::Hours(1),
                             {"shop-till", "returned"}};
  ASSERT_THAT(sync_->Refund(refund), IsOk());
  ASSERT_THAT(sync_->Refund(refund), IsOk());  // a replay adds nothing
  ASSERT_THAT(sync_->Correct(
                  {claim.claim_id, "c1", "fc", {{"ac", 400}}, t0_ + absl::Hours(2), {"ops", "wrong price"}}),
              IsOk());
  EXPECT_EQ(
      ReasonOf(sync_->Correct({claim.claim_id, "c2", "fc", {{"ac", 900}}, t0_, {"ops", "up"}}).status()),
      "CORRECTION_NOT_A_REDUCTION")
      << "a refused change adds nothing";
  const absl::StatusOr<ClaimRecord> voided =
      sync_->Void({claim.claim_id, "v1", "fv", t0_ + absl::Hours(3), {"ops", "fraud"}});
  ASSERT_THAT(voided, IsOk());

  const std::vector<ClaimEvent> want = {
      {ClaimEvent::Kind::kRefunded,
       t0_ + absl::Hours(1),
       "shop-till",
       "returned",
       "r1",
       {{"tv", 1, 2000, 1000}},
       "",
       ""},
      {ClaimEvent::Kind::kCorrected,
       t0_ + absl::Hours(2),
       "ops",
       "wrong price",
       "c1",
       {{"ac", 0, 500, 400}},
       "",
       ""},
      {ClaimEvent::Kind::kVoided,
       t0_ + absl::Hours(3),
       "ops",
       "fraud",
       "v1",
       {{"tv", 1, 1000, 0}, {"ac", 1, 400, 0}},
       "",
       ""},
  };
  EXPECT_EQ(voided->history, want);
  EXPECT_EQ(voided->history_omitted, 0);
  EXPECT_EQ(sync_->Get(claim.claim_id, t0_)->history, want);
  EXPECT_EQ(sync_->Void({claim.claim_id, "v1", "fv", t0_, {"ops", "fraud"}})->history, want);
}

TEST_P(QuotaStoreContractTest, AClaimKeepsItsLastEventsAndCountsTheOlderOnes) {
  const ClaimRecord claim =
      *sync_->Reserve(ReserveBuilder(TestBuyer(1), "shop", "many", t0_).Line("1", 40, 10).Build());
  ASSERT_THAT(sync_->Confirm(claim.claim_id, t0_), IsOk());
  for (int r = 0; r < 40; ++r) {
    ASSERT_THAT(sync_->Refund({claim.claim_id, "", absl::StrCat("r", r), "f", {{"1", 1}}, t0_, {"till", ""}}),
                IsOk());
  }
  const absl::StatusOr<ClaimRecord> read = sync_->Get(claim.claim_id, t0_);
  ASSERT_EQ(read->history.size(), kMaxClaimEvents);
  EXPECT_EQ(read->history_omitted, 40 - static_cast<int>(kMaxClaimEvents));
  EXPECT_EQ(read->history.front().request_id, absl::StrCat("r", 40 - kMaxClaimEvents));
  EXPECT_EQ(read->history.back().request_id, "r39");
  EXPECT_EQ(read->history.back().lines, (std::vector<ClaimEvent::Line>{{"1", 1, 10, 0}}));
}

// ---------------------------------------------------------------------------------------------------------
// Confirmation fixes: an invoice or a serial number

CorrectRequest InvoiceFix(const std::string& claim_id, const std::string& request_id, const std::string& from,
                          const std::string& to, absl::Time now) {
  CorrectRequest::Fix fix;
  fix.kind = ClaimEvent::Kind::kInvoiceCorrected;
  fix.expected_confirmation = from;
  fix.confirmation = to;
  fix.before = from;
  fix.after = to;
  return {claim_id, request_id, absl::StrCat("fp-", to), {}, now, {"ops", "typo"}, std::move(fix)};
}

TEST_P(VoidAndCorrectTest, AnInvoiceFixReplacesTheConfirmationItWasComputedFrom) {
  const ClaimRecord claim = Confirmed();
  const absl::StatusOr<ClaimRecord> stale =
      sync_->Correct(InvoiceFix(claim.claim_id, "i0", "invoice-9", "INV-2", t0_));
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(sync_->Get(claim.claim_id, t0_)->confirmation, "invoice-1") << "an aborted fix changes nothing";

  const CorrectRequest fix = InvoiceFix(claim.claim_id, "i1", "invoice-1", "INV-2", t0_ + absl::Hours(1));
  const absl::StatusOr<ClaimRecord> fixed = sync_->Correct(fix);
  ASSERT_THAT(fixed, IsOk());
  EXPECT_EQ(fixed->confirmation, "INV-2");
  EXPECT_EQ(fixed->last_change_fen, 0);
  EXPECT_EQ(fixed->updated_at, t0_ + absl::Hours(1));
  EXPECT_EQ(fixed->history, (std::vector<ClaimEvent>{{ClaimEvent::Kind::kInvoiceCorrected,
                                                      t0_ + absl::Hours(1),
                                                      "ops",
                                                      "typo",
                                                      "i1",
                                                      {},
                                                      "invoice-1",
                                                      "INV-2"}}));
  EXPECT_EQ(fixed->GrantedFen(), 2500);
  EXPECT_EQ(BudgetUsed(), 2500);
  const absl::StatusOr<ClaimRecord> replay = sync_->Correct(fix);
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->history.size(), 1u);
}

TEST_P(VoidAndCorrectTest, ASerialFixSwapsTheLinesSerialAtOnce) {
  const ClaimRecord claim = Confirmed();
  EXPECT_EQ(ReasonOf(sync_->Correct(SerialFix(claim.claim_id, "s0", "tv", "S9", "S3", t0_)).status()),
            "SERIAL_NOT_ON_LINE");
  EXPECT_EQ(ReasonOf(sync_->Correct(SerialFix(claim.claim_id, "s0", "ac", "S1", "S3", t0_)).status()),
            "SERIAL_NOT_ON_LINE");
  EXPECT_EQ(ReasonOf(sync_->Correct(SerialFix(claim.claim_id, "s0", "zz", "S1", "S3", t0_)).status()),
            "LINE_NOT_FOUND");
  EXPECT_EQ(ReasonOf(sync_->Correct(SerialFix(claim.claim_id, "s0", "tv", "S1", "S2", t0_)).status()),
            "SERIAL_ALREADY_SUBSIDISED")
      << "the claim's own other unit";
  ASSERT_TRUE(SerialIsFree("taken", "S4"));
  const absl::StatusOr<ClaimRecord> taken =
      sync_->Correct(SerialFix(claim.claim_id, "s0", "tv", "S1", "S4", t0_));
  EXPECT_THAT(taken, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(taken.status()), "SERIAL_ALREADY_SUBSIDISED");
  EXPECT_THAT(std::string(taken.status().message()), ::testing::HasSubstr("serial.newSerialNumber"));
  EXPECT_TRUE(sync_->Get(claim.claim_id, t0_)->history.empty()) << "refused fixes change nothing";

  const CorrectRequest fix = SerialFix(claim.claim_id, "s1", "tv", "S1", "S3", t0_ + absl::Hours(1));
  const absl::StatusOr<ClaimRecord> fixed = sync_->Correct(fix);
  ASSERT_THAT(fixed, IsOk());
  EXPECT_EQ(fixed->history.size(), 1u);
  EXPECT_EQ(fixed->history[0].kind, ClaimEvent::Kind::kSerialCorrected);
  EXPECT_EQ(fixed->history[0].before, "S1");
  EXPECT_EQ(fixed->history[0].after, "S3");
  EXPECT_TRUE(sync_->Correct(fix)->replayed);
  EXPECT_FALSE(SerialIsFree("after1", "S3")) << "the new serial is the claim's";
  EXPECT_TRUE(SerialIsFree("after2", "S1")) << "the old one is free";
  // The new serial is the line's like the others: a whole refund gives it back.
  ASSERT_THAT(sync_->Refund({claim.claim_id, "", "r", "f", {{"tv", 0}}, t0_}), IsOk());
  EXPECT_TRUE(SerialIsFree("after3", "S3"));
}

// Issue 9, defect 1: 3 air conditioners at 200,000 each; refund 1; correct the line down to what was refunded;
// refund 1 more. Partial refunds used to share the *original* grant over the units (⌊f · k / u⌋ = 266,666 of a
// 200,000 grant, a negative total on the wire); they share what is left over the units left.
TEST_P(QuotaStoreContractTest, ARefundAfterACorrectionNeverGivesBackMoreThanIsLeft) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit ac = Units("ac", 3);
  const CounterLimit cap = Fen("cap", 10000000);
  const BudgetRef budget = Budget("b", 10000000);
  const ClaimRecord claim = *sync_->Reserve(
      ReserveBuilder(buyer, "shop", "r1", t0_).Line("1", 3, 200000, {ac, cap}, {}, {budget}).Build());
  ASSERT_EQ(claim.grants[0].fen, 600000);
  ASSERT_THAT(sync_->Confirm(claim.claim_id, t0_), IsOk());
  ASSERT_THAT(sync_->Refund({claim.claim_id, "", "r1", "f1", {{"1", 1}}, t0_}), IsOk());
  const absl::StatusOr<ClaimRecord> corrected = sync_->Correct({claim.claim_id, "c1", "fc", {{"1", 200000}}, t0_});
  ASSERT_THAT(corrected, IsOk());
  EXPECT_EQ(corrected->grants[0].fen, 200000);
  EXPECT_EQ(corrected->state, ClaimState::kPartiallyRefunded);

  const absl::StatusOr<ClaimRecord> second = sync_->Refund({claim.claim_id, "", "r2", "f2", {{"1", 1}}, t0_});
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->refunds[0], (LineRefund{2, 200000})) << "nothing was left to give back";
  EXPECT_EQ(second->last_change_fen, 0);
  EXPECT_EQ(second->state, ClaimState::kPartiallyRefunded) << "one unit is not refunded yet";
  EXPECT_EQ(second->GrantedFen() - second->RefundedFen(), 0);
  EXPECT_EQ(*sync_->Usage(buyer, {ac, cap}, t0_), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(sync_->BudgetUsage({budget}, t0_)->at(0), 0);

  const absl::StatusOr<ClaimRecord> last = sync_->Refund({claim.claim_id, "", "r3", "f3", {}, t0_});
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ(last->refunds[0], (LineRefund{3, 200000}));
  EXPECT_EQ(last->state, ClaimState::kRefunded) << "every unit back";
  EXPECT_EQ(*sync_->Usage(buyer, {ac, cap}, t0_), (std::vector<int64_t>{0, 0}));
}

// After a correction to an amount above what was refunded, partial refunds share the corrected rest exactly.
TEST_P(QuotaStoreContractTest, PartialRefundsAfterACorrectionShareTheRestOverTheUnitsLeft) {
  const ClaimRecord claim = *sync_->Reserve(
      ReserveBuilder(TestBuyer(1), "shop", "r1", t0_).Line("1", 4, 1000, {Fen("cap", 100000)}).Build());
  ASSERT_THAT(sync_->Confirm(claim.claim_id, t0_), IsOk());
  ASSERT_THAT(sync_->Refund({claim.claim_id, "", "a", "f", {{"1", 1}}, t0_}), IsOk());  // 1000 of 4000
  ASSERT_THAT(sync_->Correct({claim.claim_id, "c", "f", {{"1", 2000}}, t0_}), IsOk());  // 1000 left on 3 units
  const absl::StatusOr<ClaimRecord> one = sync_->Refund({claim.claim_id, "", "b", "f", {{"1", 1}}, t0_});
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ(one->refunds[0], (LineRefund{2, 1333}));  // ⌊1000 · 1 / 3⌋
  const absl::StatusOr<ClaimRecord> two = sync_->Refund({claim.claim_id, "", "c", "f", {{"1", 1}}, t0_});
  EXPECT_EQ(two->refunds[0], (LineRefund{3, 1666}));  // ⌊667 · 1 / 2⌋
  const absl::StatusOr<ClaimRecord> rest = sync_->Refund({claim.claim_id, "", "d", "f", {}, t0_});
  EXPECT_EQ(rest->refunds[0], (LineRefund{4, 2000}));
  EXPECT_EQ(rest->state, ClaimState::kRefunded);
}

// The largest amounts requests and policies may carry (common/money.h): 100 lines of 100 units at 100 million
// yuan each, against a budget of 10 trillion yuan. Every sum stays exact (Redis keeps them in Lua doubles).
TEST_P(QuotaStoreContractTest, AmountsAtTheExactnessBoundsStayExact) {
  const BudgetRef budget = Budget("national", kMaxTotalFen);
  const CounterLimit cap = Fen("cap", kMaxTotalFen);
  constexpr int64_t kClaimFen = 100 * 100 * kMaxUnitFen;  // 10^14
  std::vector<std::string> claims;
  for (int c = 0; c < 10; ++c) {
    ReserveBuilder builder(TestBuyer(c % 3), "shop", absl::StrCat("big", c), t0_);
    for (int line = 0; line < 100; ++line) builder.Line(absl::StrCat(line), 100, kMaxUnitFen, {cap}, {}, {budget});
    const absl::StatusOr<ClaimRecord> claim = sync_->Reserve(builder.Build());
    ASSERT_THAT(claim, IsOk());
    ASSERT_EQ(claim->GrantedFen(), kClaimFen) << "claim " << c;
    claims.push_back(claim->claim_id);
  }
  EXPECT_EQ(sync_->BudgetUsage({budget}, t0_)->at(0), kMaxTotalFen);
  const absl::StatusOr<ClaimRecord> one_fen_more = sync_->Reserve(
      ReserveBuilder(TestBuyer(4), "shop", "more", t0_).Line("1", 1, 1, {}, {}, {budget}).Build());
  ASSERT_THAT(one_fen_more, IsOk());
  EXPECT_EQ(one_fen_more->state, ClaimState::kRejected);
  EXPECT_TRUE(Has(one_fen_more->grants[0], ReasonCode::kBudgetExhausted));

  // A correction and a partial refund at the edge: ⌊(10^12 − 1) · 1 / 100⌋.
  ASSERT_THAT(sync_->Confirm(claims[0], t0_), IsOk());
  ASSERT_THAT(sync_->Correct({claims[0], "c", "f", {{"0", 100 * kMaxUnitFen - 1}}, t0_}), IsOk());
  const absl::StatusOr<ClaimRecord> refund = sync_->Refund({claims[0], "", "r", "f", {{"0", 1}}, t0_});
  ASSERT_THAT(refund, IsOk());
  EXPECT_EQ(refund->refunds[0], (LineRefund{1, (100 * kMaxUnitFen - 1) / 100}));
  EXPECT_EQ(sync_->BudgetUsage({budget}, t0_)->at(0), kMaxTotalFen - 1 - (100 * kMaxUnitFen - 1) / 100);
  EXPECT_EQ(sync_->Usage(TestBuyer(0), {cap}, t0_)->at(0),
            4 * kClaimFen - 1 - (100 * kMaxUnitFen - 1) / 100);  // buyer 0 made claims 0, 3, 6, 9
}

TEST_P(VoidAndCorrectTest, ACorrectionThatIsNotAReductionChangesNothing) {
  const ClaimRecord claim = Confirmed();
  ASSERT_THAT(sync_->Refund({claim.claim_id, "", "r", "f", {{"tv", 1}}, t0_}), IsOk());  // 1000 of 2000 back
  const absl::StatusOr<ClaimRecord> up = sync_->Correct({claim.claim_id, "c1", "f", {{"tv", 2001}}, t0_});
  EXPECT_THAT(up, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(up.status()), "CORRECTION_NOT_A_REDUCTION");
  EXPECT_EQ(ReasonOf(sync_->Correct({claim.claim_id, "c2", "f", {{"tv", 999}}, t0_}).status()),
            "CORRECTION_NOT_A_REDUCTION")
      << "below what was refunded";
  EXPECT_EQ(ReasonOf(sync_->Correct({claim.claim_id, "c3", "f", {{"ac", 100}, {"ac", 200}}, t0_}).status()),
            "CORRECTION_NOT_A_REDUCTION")
      << "a line named twice is checked against its first amount";
  const absl::StatusOr<ClaimRecord> unknown =
      sync_->Correct({claim.claim_id, "c4", "f", {{"ac", 100}, {"nope", 0}}, t0_});
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ReasonOf(unknown.status()), "LINE_NOT_FOUND");
  const absl::StatusOr<ClaimRecord> now = sync_->Get(claim.claim_id, t0_);
  EXPECT_EQ(now->grants[0].fen, 2000);
  EXPECT_EQ(now->grants[1].fen, 500);
  EXPECT_EQ(BudgetUsed(), 1500);
  // Down to exactly what was refunded is allowed; the state stays.
  const absl::StatusOr<ClaimRecord> floor = sync_->Correct({claim.claim_id, "c5", "f", {{"tv", 1000}}, t0_});
  ASSERT_THAT(floor, IsOk());
  EXPECT_EQ(floor->state, ClaimState::kPartiallyRefunded);
  EXPECT_EQ(floor->last_change_fen, 1000);
  EXPECT_EQ(BudgetUsed(), 500);
  // A reserved claim cannot be corrected.
  const ClaimRecord reserved =
      *sync_->Reserve(ReserveBuilder(TestBuyer(4), "shop", "r9", t0_).Line("1", 1, 100).Build());
  EXPECT_EQ(ReasonOf(sync_->Correct({reserved.claim_id, "c", "f", {{"1", 50}}, t0_}).status()),
            "WRONG_STATE");
}

// ---------------------------------------------------------------------------------------------------------
// Listings

class ListingTest : public QuotaStoreContractTest {
 protected:
  // China day of t0_ (10:00 UTC = 18:00 China).
  const absl::CivilDay day_ = absl::CivilDay(2025, 6, 1);

  ClaimPageRequest Page(absl::CivilDay first, absl::CivilDay last, bool newest_first, int limit,
                        std::string cursor = "") const {
    ClaimPageRequest page;
    page.first_day = first;
    page.last_day = last;
    page.newest_first = newest_first;
    page.limit = limit;
    page.cursor = std::move(cursor);
    page.now = t0_;
    return page;
  }

  ClaimRecord Claim(int buyer, const std::string& retailer, const std::string& request, absl::Time at,
                    int32_t units = 1) {
    absl::StatusOr<ClaimRecord> claim =
        sync_->Reserve(ReserveBuilder(TestBuyer(buyer), retailer, request, at).Line("1", units, 100).Build());
    EXPECT_THAT(claim, IsOk());
    return *claim;
  }

  // Every entry of a listing, page by page.
  std::vector<std::string> Walk(ClaimPageRequest request, std::vector<int>* page_sizes = nullptr) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 1000; ++pages) {
      const absl::StatusOr<ClaimPage> page = sync_->List(request);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      if (page_sizes != nullptr) page_sizes->push_back(static_cast<int>(page->entries.size()));
      for (const ClaimPage::Entry& e : page->entries) ids.push_back(e.record.claim_id);
      if (!page->more) break;
      EXPECT_FALSE(page->entries.empty());
      if (page->entries.empty()) break;
      request.cursor = page->entries.back().cursor;
    }
    return ids;
  }
};

TEST_P(ListingTest, ClaimsComeNewestOrOldestFirstByCreationThenId) {
  std::vector<ClaimRecord> claims;
  // Several at one instant (ordered by id), others before and after, a rejected one, two retailers.
  for (int i = 0; i < 5; ++i) claims.push_back(Claim(i, "shop", absl::StrCat("same", i), t0_));
  claims.push_back(Claim(5, "shop", "early", t0_ - absl::Hours(3)));
  claims.push_back(Claim(6, "mall", "late", t0_ + absl::Hours(2)));
  claims.push_back(Claim(7, "mall", "rejected", t0_ + absl::Nanoseconds(1), /*units=*/0));
  ASSERT_EQ(claims.back().state, ClaimState::kRejected);
  std::vector<std::pair<absl::Time, std::string>> expected;
  for (const ClaimRecord& c : claims) expected.emplace_back(c.created_at, c.claim_id);
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> oldest;
  for (const auto& [at, id] : expected) oldest.push_back(id);
  const std::vector<std::string> newest(oldest.rbegin(), oldest.rend());

  const absl::StatusOr<ClaimPage> page = sync_->List(Page(day_, day_, true, 50));
  ASSERT_THAT(page, IsOk());
  EXPECT_FALSE(page->more);
  std::vector<std::string> listed;
  for (const ClaimPage::Entry& e : page->entries) listed.push_back(e.record.claim_id);
  EXPECT_EQ(listed, newest);
  EXPECT_EQ(Walk(Page(day_, day_, false, 3)), oldest);
  EXPECT_EQ(Walk(Page(day_, day_, true, 2)), newest);
  // Entries are whole records.
  EXPECT_EQ(page->entries.front().record.retailer_id, "mall");
  EXPECT_EQ(page->entries.front().record.draft, "draft");
  EXPECT_EQ(page->entries.front().record.grants.size(), 1u);
}

TEST_P(ListingTest, FiltersByRetailerAndStateAndStillFillsThePage) {
  std::vector<std::string> confirmed_newest_first;
  for (int i = 0; i < 12; ++i) {
    const ClaimRecord c =
        Claim(i, i % 3 == 0 ? "mall" : "shop", absl::StrCat("r", i), t0_ + absl::Minutes(i));
    if (i % 2 == 0) {
      ASSERT_THAT(sync_->Confirm(c.claim_id, t0_ + absl::Minutes(i)), IsOk());
      confirmed_newest_first.insert(confirmed_newest_first.begin(), c.claim_id);
    }
  }
  ClaimPageRequest confirmed = Page(day_, day_, true, 4);
  confirmed.states = {ClaimState::kConfirmed};
  std::vector<int> sizes;
  EXPECT_EQ(Walk(confirmed, &sizes), confirmed_newest_first);
  EXPECT_EQ(sizes, (std::vector<int>{4, 2})) << "pages are filled although half the claims do not match";
  // Exactly a page's worth: no further page.
  confirmed.limit = 6;
  const absl::StatusOr<ClaimPage> exact = sync_->List(confirmed);
  ASSERT_THAT(exact, IsOk());
  EXPECT_EQ(exact->entries.size(), 6u);
  EXPECT_FALSE(exact->more);

  ClaimPageRequest mall = Page(day_, day_, false, 2);
  mall.retailer_id = "mall";
  const std::vector<std::string> mall_ids = Walk(mall);
  ASSERT_EQ(mall_ids.size(), 4u);
  for (const std::string& id : mall_ids) EXPECT_EQ(sync_->Get(id, t0_)->retailer_id, "mall");
  mall.states = {ClaimState::kReserved, ClaimState::kConfirmed};
  EXPECT_EQ(Walk(mall).size(), 4u);
  mall.states = {ClaimState::kVoided};
  EXPECT_TRUE(Walk(mall).empty());
  mall.retailer_id = "nobody";
  mall.states = {};
  EXPECT_TRUE(Walk(mall).empty());
}

TEST_P(ListingTest, ListedStatesAreCurrentAsOfNow) {
  const ClaimRecord c = Claim(1, "shop", "r1", t0_);
  ClaimPageRequest later = Page(day_, day_, true, 10);
  later.now = t0_ + absl::Hours(1);
  later.states = {ClaimState::kExpired};
  const absl::StatusOr<ClaimPage> page = sync_->List(later);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].record.claim_id, c.claim_id);
  EXPECT_EQ(page->entries[0].record.state, ClaimState::kExpired);
  // As Get does, the listing expired it in the store: its quota is back.
  EXPECT_EQ(sync_->Get(c.claim_id, t0_)->state, ClaimState::kExpired);
}

TEST_P(ListingTest, ACursorWalkSeesEveryClaimOnceWhileClaimsAreAdded) {
  for (bool newest_first : {true, false}) {
    SCOPED_TRACE(newest_first ? "newest first" : "oldest first");
    // Each direction on a day of its own.
    const int offset = newest_first ? 0 : 1;
    const absl::Time t0 = t0_ + absl::Hours(24 * offset);
    std::set<std::string> before;
    const std::string tag = newest_first ? "n" : "o";
    for (int i = 0; i < 30; ++i) {
      // Groups of three claims at one instant, over the day.
      before.insert(
          Claim(i, "shop", absl::StrCat(tag, i), t0 - absl::Hours(6) + absl::Minutes(20 * (i / 3))).claim_id);
    }
    std::set<std::string> added;
    std::map<std::string, int> seen;
    ClaimPageRequest request = Page(day_ + offset, day_ + offset, newest_first, 4);
    int extra = 0;
    for (int pages = 0; pages < 100; ++pages) {
      const absl::StatusOr<ClaimPage> page = sync_->List(request);
      ASSERT_THAT(page, IsOk());
      for (const ClaimPage::Entry& e : page->entries) ++seen[e.record.claim_id];
      if (!page->more) break;
      request.cursor = page->entries.back().cursor;
      // New claims between pages: at the cursor's instant, before it, after it, and at the ends of the day.
      const absl::Time at = page->entries.back().record.created_at;
      for (absl::Time t :
           {at, at - absl::Minutes(1), at + absl::Minutes(1), t0 - absl::Hours(7), t0 + absl::Hours(5)}) {
        added.insert(Claim(100 + extra % 7, "shop", absl::StrCat(tag, "new", extra), t).claim_id);
        ++extra;
      }
    }
    for (const std::string& id : before) EXPECT_EQ(seen[id], 1) << id;
    for (const auto& [id, times] : seen) {
      EXPECT_EQ(times, 1) << id;
      EXPECT_TRUE(before.contains(id) || added.contains(id)) << id;
    }
    EXPECT_GT(extra, 20);
  }
}

TEST_P(ListingTest, DaysAreChinaDays) {
  // 00:00 China time (UTC+8) of 2025-06-02, and the instants around it.
  const absl::Time midnight = absl::FromCivil(absl::CivilSecond(2025, 6, 1, 16, 0, 0), absl::UTCTimeZone());
  const ClaimRecord next = Claim(1, "shop", "next", midnight);  // 06-02 00:00 China
  const ClaimRecord late =
      Claim(2, "shop", "late", midnight - absl::Nanoseconds(1));  // 06-01 23:59:59.999999999
  const ClaimRecord early = Claim(3, "shop", "early", midnight - absl::Hours(23));  // 06-01 01:00 (05-31 UTC)
  const ClaimRecord before =
      Claim(4, "shop", "before", midnight - absl::Hours(25));  // 05-31 23:00 (05-31 UTC)
  auto ids = [&](absl::CivilDay first, absl::CivilDay last, bool newest_first, std::string cursor = "") {
    return Walk(Page(first, last, newest_first, 1, std::move(cursor)));
  };
  EXPECT_EQ(ids(day_, day_, true), (std::vector<std::string>{late.claim_id, early.claim_id}));
  EXPECT_EQ(ids(day_ + 1, day_ + 1, true), std::vector<std::string>{next.claim_id});
  EXPECT_EQ(ids(day_ - 1, day_ - 1, true), std::vector<std::string>{before.claim_id});
  EXPECT_EQ(ids(day_ - 1, day_ + 1, false),
            (std::vector<std::string>{before.claim_id, early.claim_id, late.claim_id, next.claim_id}));
  EXPECT_EQ(ids(day_ - 1, day_ + 1, true),
            (std::vector<std::string>{next.claim_id, late.claim_id, early.claim_id, before.claim_id}));
  EXPECT_TRUE(ids(day_ + 2, day_ + 30, true).empty());
  EXPECT_TRUE(ids(day_ + 1, day_, true).empty()) << "a period that ends before it starts";
  // A cursor from another period resumes at this period's edge, or ends the walk.
  const std::string cursor = sync_->List(Page(day_ + 1, day_ + 1, true, 1))->entries[0].cursor;
  EXPECT_EQ(ids(day_ - 1, day_, true, cursor),
            (std::vector<std::string>{late.claim_id, early.claim_id, before.claim_id}));
  EXPECT_TRUE(ids(day_ - 1, day_, false, cursor).empty());
}

TEST_P(ListingTest, AMalformedCursorOrLimitIsInvalidArgument) {
  Claim(1, "shop", "r1", t0_);
  const std::string good = sync_->List(Page(day_, day_, true, 1))->entries[0].cursor;
  ASSERT_THAT(sync_->List(Page(day_, day_, true, 1, good)), IsOk());
  for (const std::string& bad :
       {std::string("x"), std::string("2025-06-01|00000000000000"),
        std::string("2025-02-30|00000000000000|") + good.substr(good.rfind('|') + 1),
        std::string("2025-06-01|99999999999999|") + good.substr(good.rfind('|') + 1),
        std::string("2025-06-01|0000000000000a|") + good.substr(good.rfind('|') + 1),
        std::string("2025-06-01|00000000000000|not-a-claim"), good + "|", "|" + good}) {
    const absl::StatusOr<ClaimPage> page = sync_->List(Page(day_, day_, true, 1, bad));
    EXPECT_THAT(page, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_EQ(ReasonOf(page.status()), "CURSOR_INVALID") << bad;
  }
  EXPECT_EQ(ReasonOf(sync_->List(Page(day_, day_, true, 0)).status()), "LIMIT_INVALID");
}

INSTANTIATE_TEST_SUITE_P(Memory, VoidAndCorrectTest, ::testing::Values(MemoryStoreFactory()), FactoryName);
INSTANTIATE_TEST_SUITE_P(Redis, VoidAndCorrectTest,
                         ::testing::Values(RedisStoreFactory(), RedisGeneralPathStoreFactory()), FactoryName);
INSTANTIATE_TEST_SUITE_P(Memory, ListingTest, ::testing::Values(MemoryStoreFactory()), FactoryName);
INSTANTIATE_TEST_SUITE_P(Redis, ListingTest,
                         ::testing::Values(RedisStoreFactory(), RedisGeneralPathStoreFactory()), FactoryName);

// The test helper itself: claim ids from the whole of long retailer and request ids.
TEST(ReserveBuilderTest, LongIdsSharingAPrefixGetTheirOwnClaimIds) {
  const std::string prefix(40, 'x');
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    ids.insert(
        ReserveBuilder(TestBuyer(1), "a-national-retail-chain", absl::StrCat(prefix, i), absl::UnixEpoch())
            .Build()
            .claim_id);
  }
  ids.insert(
      ReserveBuilder(TestBuyer(1), "a-national-retail-chain-2", prefix, absl::UnixEpoch()).Build().claim_id);
  EXPECT_EQ(ids.size(), 101u);
  EXPECT_EQ(ReserveBuilder(TestBuyer(1), "shop", "r1", absl::UnixEpoch()).Build().claim_id,
            ReserveBuilder(TestBuyer(1), "shop", "r1", absl::UnixEpoch() + absl::Hours(1)).Build().claim_id);
  EXPECT_NE(ReserveBuilder(TestBuyer(1), "shop", "r1", absl::UnixEpoch()).Build().claim_id,
            ReserveBuilder(TestBuyer(2), "shop", "r1", absl::UnixEpoch()).Build().claim_id);
}

INSTANTIATE_TEST_SUITE_P(Memory, QuotaStoreContractTest, ::testing::Values(MemoryStoreFactory()),
                         FactoryName);
INSTANTIATE_TEST_SUITE_P(Redis, QuotaStoreContractTest,
                         ::testing::Values(RedisStoreFactory(), RedisGeneralPathStoreFactory(),
                                           RedisBudgetShardsStoreFactory()),
                         FactoryName);

}  // namespace
}  // namespace tradein::quota::testing
