// The load generator's requests: buyer ids and VINs the server's own validators accept, unique per run;
// baskets of the stated shape; confirmations with one serial per granted unit; run ids.
#include "tools/loadgen/workload.h"

#include <set>
#include <string>

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "services/identity/prc_id.h"
#include "services/identity/vin.h"

namespace tradein::loadgen {
namespace {

const absl::CivilDay kServerToday(2025, 6, 1);  // the e2e tests' --simulated_now

TEST(WorkloadTest, BuyerIdsAreValidAndUniqueWithinARun) {
  const uint64_t key = RunKey("run-a");
  std::set<std::string> seen;
  // Across day and range boundaries too: 1,000 ids a day, 21,915,000 a range.
  for (uint64_t index :
       {0ULL, 1ULL, 999ULL, 1000ULL, 1001ULL, 21914999ULL, 21915000ULL, 21915001ULL, (1ULL << 40) + 17}) {
    const std::string id = BuyerPrcId(key, index);
    const absl::StatusOr<std::string> normalised = identity::NormalizePrcId(id, kServerToday, "buyer");
    EXPECT_TRUE(normalised.ok()) << id << ": " << normalised.status();
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
  for (uint64_t index = 0; index < 20000; ++index) {
    const std::string id = BuyerPrcId(key, index * 7919);
    ASSERT_TRUE(identity::NormalizePrcId(id, kServerToday, "buyer").ok()) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 9 + 20000 - 1);  // index 0 appears in both loops
}

TEST(WorkloadTest, RunsGetDisjointBuyers) {
  std::set<std::string> a, b;
  for (uint64_t index = 0; index < 5000; ++index) {
    a.insert(BuyerPrcId(RunKey("run-a"), index));
    b.insert(BuyerPrcId(RunKey("run-b"), index));
  }
  for (const std::string& id : a) EXPECT_EQ(b.count(id), 0u) << id;
}

TEST(WorkloadTest, VinsAreValid) {
  std::set<std::string> seen;
  for (uint64_t index = 0; index < 5000; ++index) {
    const std::string vin = OldCarVin(index * 104729);
    const absl::StatusOr<std::string> normalised = identity::NormalizeVin(vin, "vin");
    ASSERT_TRUE(normalised.ok()) << vin << ": " << normalised.status();
    EXPECT_EQ(*normalised, vin);
    seen.insert(vin);
  }
  EXPECT_EQ(seen.size(), 5000u);
}

TEST(WorkloadTest, QuoteMixHasTheStatedShape) {
  Rng rng(1);
  int single = 0, large = 0, with_buyer = 0, cars = 0, items = 0;
  std::set<std::string> regions;
  constexpr int kQuotes = 20000;
  for (int i = 0; i < kQuotes; ++i) {
    v1::QuoteRequest request;
    MakeQuote(rng, RunKey("r"), 0.3, request);
    ASSERT_GE(request.items_size(), 1);
    ASSERT_LE(request.items_size(), 20);
    if (request.items_size() == 1) ++single;
    if (request.items_size() >= 10) ++large;
    if (request.has_buyer()) {
      ++with_buyer;
      ASSERT_TRUE(identity::NormalizePrcId(request.buyer().id_number(), kServerToday, "b").ok());
    }
    regions.insert(request.region_code());
    std::set<std::string> lines;
    for (const v1::Item& item : request.items()) {
      ++items;
      EXPECT_TRUE(lines.insert(item.line_id()).second);
      EXPECT_GE(item.price_fen(), 1);
      if (item.product_type() == "car.new") {
        ++cars;
        ASSERT_TRUE(item.has_vehicle());
        EXPECT_TRUE(identity::NormalizeVin(item.vehicle().old_vin(), "v").ok());
      }
    }
  }
  EXPECT_EQ(regions, (std::set<std::string>{"330381", "330106", "110105"}));
  EXPECT_NEAR(single, kQuotes * 0.55, kQuotes * 0.03);
  EXPECT_NEAR(large, kQuotes * 0.02, kQuotes * 0.01);
  EXPECT_NEAR(with_buyer, kQuotes * 0.3, kQuotes * 0.03);
  EXPECT_NEAR(cars, items * 0.03, items * 0.01);
}

TEST(WorkloadTest, ClaimBasketsHaveDistinctTypesAndConfirmationsOneSerialPerUnit) {
  Rng rng(2);
  for (int i = 0; i < 1000; ++i) {
    v1::ClaimRequest request;
    MakeClaim(rng, ClaimBasket::kMixed, "run-c1", "till-1", BuyerPrcId(1, static_cast<uint64_t>(i)),
              "2025-06-01", request);
    ASSERT_GE(request.items_size(), 1);
    ASSERT_LE(request.items_size(), 3);
    std::set<std::string> types;
    for (const v1::Item& item : request.items()) EXPECT_TRUE(types.insert(item.product_type()).second);
    EXPECT_EQ(request.region_code(), "330381");
    EXPECT_EQ(request.transaction_date(), "2025-06-01");
  }
  v1::Claim claim;
  claim.set_claim_id("cl-1");
  claim.set_retailer_id("till-1");
  v1::ItemResult* two = claim.add_items();
  two->set_line_id("1");
  two->set_granted_quantity(2);
  v1::ItemResult* none = claim.add_items();
  none->set_line_id("2");
  none->set_granted_quantity(0);
  v1::ConfirmClaimRequest confirm;
  MakeConfirm(claim, "INV-run-c1", /*with_serials=*/true, confirm);
  EXPECT_EQ(confirm.claim_id(), "cl-1");
  EXPECT_EQ(confirm.retailer_id(), "till-1");
  ASSERT_EQ(confirm.line_serials_size(), 1);
  EXPECT_EQ(confirm.line_serials(0).line_id(), "1");
  EXPECT_EQ(confirm.line_serials(0).serial_numbers_size(), 2);
  v1::ConfirmClaimRequest bare;
  MakeConfirm(claim, "INV-run-c1", /*with_serials=*/false, bare);
  EXPECT_EQ(bare.invoice_number(), "INV-run-c1");
  EXPECT_EQ(bare.line_serials_size(), 0);
}

TEST(WorkloadTest, OneDigitalBasketsAreOnePhoneTabletOrWatch) {
  Rng rng(3);
  std::set<std::string> types;
  for (int i = 0; i < 300; ++i) {
    v1::ClaimRequest request;
    MakeClaim(rng, ClaimBasket::kOneDigital, "run-c1", "till-1", BuyerPrcId(1, static_cast<uint64_t>(i)),
              "2025-06-01", request);
    ASSERT_EQ(request.items_size(), 1);
    types.insert(request.items(0).product_type());
  }
  EXPECT_EQ(types, (std::set<std::string>{"digital.phone", "digital.tablet", "digital.smartwatch"}));
}

TEST(WorkloadTest, RunIds) {
  EXPECT_TRUE(IsValidRunId("bench-2025.06:01_a"));
  EXPECT_FALSE(IsValidRunId(""));
  EXPECT_FALSE(IsValidRunId("has space"));
  EXPECT_FALSE(IsValidRunId(std::string(25, 'a')));
  const std::string random = RandomRunId();
  EXPECT_TRUE(IsValidRunId(random)) << random;
  EXPECT_NE(RandomRunId(), RandomRunId());
  EXPECT_NE(RunKey("a"), RunKey("b"));
}

}  // namespace
}  // namespace tradein::loadgen
