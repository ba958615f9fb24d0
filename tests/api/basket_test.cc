// PriceBasket's request checks that the end-to-end tables do not reach: which item details a product type
// accepts (decision D19), the new car's VIN (decision D9) — against the shipped catalogue and policies.
#include "services/api/basket.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/policy/policy_test_util.h"
#include "tradein/v1/subsidy_service.pb.h"

namespace tradein::api {
namespace {

// A Rui'an 2025 basket of one line (the JSON of an Item without its lineId).
absl::StatusOr<Basket> PriceOneLine(const std::string& line) {
  v1::QuoteRequest request;
  const std::string json = absl::StrCat(R"({"regionCode":"330381","transactionDate":"2025-06-01",)",
                                        R"("items":[{"lineId":"1",)", line, "}]}");
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok()) << json;
  const auto snapshot = policy_test::ShippedSnapshot();
  EXPECT_NE(snapshot, nullptr);
  return PriceBasket(
      {request.region_code(), request.transaction_date(), request.policy_id(), request.items()}, *snapshot);
}

TEST(BasketTest, ElderlyFriendlyLineWithAHomeIsAcceptedAndPricedAsWithout) {  // D19
  const absl::StatusOr<Basket> without =
      PriceOneLine(R"("productType":"renovation.elderly_friendly","priceFen":"1000000")");
  const absl::StatusOr<Basket> with =
      PriceOneLine(R"("productType":"renovation.elderly_friendly","priceFen":"1000000",)"
                   R"("home":{"propertyId":"P-1","completedOn":"2024-06-01"})");
  ASSERT_TRUE(without.ok()) << without.status();
  ASSERT_TRUE(with.ok()) << with.status();
  ASSERT_TRUE(with->prices[0].eligible());
  EXPECT_EQ(with->prices[0].line_subsidy_fen, without->prices[0].line_subsidy_fen);
  EXPECT_EQ(with->prices[0].line_subsidy_fen, 300000);  // 30% of 10,000 yuan (Rui'an)
}

TEST(BasketTest, OptionalDetailsAreStillCheckedForForm) {
  const absl::StatusOr<Basket> basket =
      PriceOneLine(R"("productType":"renovation.elderly_friendly","priceFen":"1000000",)"
                   R"("home":{"propertyId":"P-1","completedOn":"2024-13-01"})");
  ASSERT_FALSE(basket.ok());
  const std::vector<FieldViolation> violations = FieldViolations(basket.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "items[0].home.completedOn");
}

TEST(BasketTest, DetailsThatContradictTheProductAreRefused) {
  const struct {
    const char* name;
    const char* line;
    const char* field;
    const char* reason;
  } cases[] = {
      {"a home on a fridge",
       R"("productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1,"home":{"propertyId":"P"})",
       "items[0]", "DETAILS_NOT_EXPECTED"},
      {"a vehicle on an elderly-friendly line",
       R"("productType":"renovation.elderly_friendly","priceFen":"1000000","vehicle":{"tradeInKind":"SCRAPPAGE"})",
       "items[0]", "DETAILS_NOT_EXPECTED"},
      {"an old-home renovation without its home",
       R"("productType":"renovation.old_home","priceFen":"1000000")", "items[0].home", "FIELD_REQUIRED"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::StatusOr<Basket> basket = PriceOneLine(c.line);
    ASSERT_FALSE(basket.ok());
    EXPECT_EQ(basket.status().code(), absl::StatusCode::kInvalidArgument);
    const std::vector<FieldViolation> violations = FieldViolations(basket.status());
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].field, c.field);
    EXPECT_EQ(violations[0].reason, c.reason);
  }
}

// A 2025 scrappage of a 2010 gasoline car for a catalogue NEV, with `extra` fields in the vehicle.
std::string Car(const std::string& extra, const std::string& quantity = "1") {
  return absl::StrCat(
      R"("productType":"car.new","priceFen":"15000000","quantity":)", quantity,
      R"(,"vehicle":{"tradeInKind":"SCRAPPAGE","newEnergyType":"NEV","newInNevCatalogue":true,)",
      R"("oldFuelType":"GASOLINE","oldRegisteredOn":"2010-01-01","oldOwnedSince":"2010-01-01",)",
      R"("oldVin":"1M8GDM9AXKP042788")", extra, "}");
}

TEST(BasketTest, TheNewCarsVinIsOptionalInABasketAndCheckedWhenGiven) {  // D9
  const absl::StatusOr<Basket> without = PriceOneLine(Car(""));
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ(without->prices[0].line_subsidy_fen, 2000000);
  const absl::StatusOr<Basket> with = PriceOneLine(Car(R"(,"newVin":"LFV3A23C4P3000001")"));
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->prices[0].line_subsidy_fen, 2000000);

  const struct {
    const char* name;
    std::string line;
    const char* field;
    const char* reason;
  } cases[] = {
      {"a check digit that is wrong", Car(R"(,"newVin":"LFV3A23C5P3000001")"), "items[0].vehicle.newVin",
       "VIN_CHECK_DIGIT"},
      {"sixteen characters", Car(R"(,"newVin":"LFV3A23C4P300000")"), "items[0].vehicle.newVin", "VIN_LENGTH"},
      {"an O", Car(R"(,"newVin":"LFV3A23C4P30000O1")"), "items[0].vehicle.newVin", "VIN_CHARACTERS"},
      {"one VIN for two cars", Car(R"(,"newVin":"LFV3A23C4P3000001")", "2"), "items[0].quantity",
       "QUANTITY_OUT_OF_RANGE"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::StatusOr<Basket> basket = PriceOneLine(c.line);
    ASSERT_EQ(basket.status().code(), absl::StatusCode::kInvalidArgument);
    const std::vector<FieldViolation> violations = FieldViolations(basket.status());
    ASSERT_EQ(violations.size(), 1u) << basket.status();
    EXPECT_EQ(violations[0].field, c.field);
    EXPECT_EQ(violations[0].reason, c.reason);
  }
}

}  // namespace
}  // namespace tradein::api
