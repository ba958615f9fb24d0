// The contract of services/quota/quota_store.h, run against every QuotaStore implementation.
#include "tests/quota/quota_store_contract.h"

#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/quota/redis_quota_store_factory.h"
#include "tests/testing/status_matchers.h"

namespace tradein::quota::testing {
namespace {

using pricing::ReasonCode;
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
INSTANTIATE_TEST_SUITE_P(Redis, QuotaStoreContractTest, ::testing::Values(RedisStoreFactory()), FactoryName);

}  // namespace
}  // namespace tradein::quota::testing
