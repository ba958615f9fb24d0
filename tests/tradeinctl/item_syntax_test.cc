// tradeinctl's compact item syntax and the other repeated arguments.
#include "tools/tradeinctl/item_syntax.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tradein::ctl {
namespace {

using ::testing::HasSubstr;

TEST(ParseYuanTest, IsExactToTheFen) {
  const struct {
    const char* text;
    int64_t fen;
  } cases[] = {{"5000", 500000},     {"4999.9", 499990}, {"4999.99", 499999}, {"0.01", 1},
               {"1,000.50", 100050}, {"0", 0},           {"6000.00", 600000}};
  for (const auto& c : cases) {
    absl::StatusOr<int64_t> fen = ParseYuan(c.text);
    ASSERT_TRUE(fen.ok()) << c.text << ": " << fen.status();
    EXPECT_EQ(*fen, c.fen) << c.text;
  }
  for (const char* bad : {"", "-5", "1.234", "1.2.3", "abc", "5e3", ".5", "99999999999999999999"}) {
    EXPECT_FALSE(ParseYuan(bad).ok()) << bad;
  }
}

TEST(ParseItemTest, ApplianceWithGrade) {
  absl::StatusOr<v1::Item> item = ParseItem("appliance.refrigerator:5000:grade=1", 1);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->line_id(), "1");
  EXPECT_EQ(item->product_type(), "appliance.refrigerator");
  EXPECT_EQ(item->price_fen(), 500000);
  EXPECT_EQ(item->energy_grade(), 1);
  EXPECT_FALSE(item->has_quantity());
}

TEST(ParseItemTest, LineIdQuantityAndWaterGrade) {
  absl::StatusOr<v1::Item> item = ParseItem("furniture.smart_toilet:6000:water=1,qty=2,line=t1", 3);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->line_id(), "t1");
  EXPECT_EQ(item->quantity(), 2);
  EXPECT_EQ(item->water_grade(), 1);
}

TEST(ParseItemTest, CarWithEveryVehicleKey) {
  absl::StatusOr<v1::Item> item = ParseItem(
      "car.new:150000:kind=replacement,energy=NEV,ml=1998,catalogue,old_fuel=gasoline,"
      "registered=2015-03-01,owned=2020-01-01,vin=LSVAU2180N2183294,new_vin=LFV3A23C4P3000001",
      2);
  ASSERT_TRUE(item.ok()) << item.status();
  const v1::Vehicle& car = item->vehicle();
  EXPECT_EQ(item->line_id(), "2");
  EXPECT_EQ(item->price_fen(), 15000000);
  EXPECT_EQ(car.trade_in_kind(), v1::Vehicle::TradeInKind::REPLACEMENT);
  EXPECT_EQ(car.new_energy_type(), v1::Vehicle::NewEnergyType::NEV);
  EXPECT_EQ(car.new_displacement_ml(), 1998);
  EXPECT_TRUE(car.new_in_nev_catalogue());
  EXPECT_EQ(car.old_fuel_type(), v1::Vehicle::OldFuelType::GASOLINE);
  EXPECT_EQ(car.old_registered_on(), "2015-03-01");
  EXPECT_EQ(car.old_owned_since(), "2020-01-01");
  EXPECT_EQ(car.old_vin(), "LSVAU2180N2183294");
  EXPECT_EQ(car.new_vin(), "LFV3A23C4P3000001");
}

TEST(ParseItemTest, HomeValueMayHoldColons) {
  absl::StatusOr<v1::Item> item =
      ParseItem("renovation.old_home:50000:property=浙:2015:0001,completed=2015-06-30", 1);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->home().property_id(), "浙:2015:0001");
  EXPECT_EQ(item->home().completed_on(), "2015-06-30");
}

TEST(ParseItemTest, EbikeBareKeysMeanTrue) {
  absl::StatusOr<v1::Item> item = ParseItem("ebike.new:3000:surrendered,certified=no", 1);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_TRUE(item->ebike().old_bike_surrendered());
  EXPECT_FALSE(item->ebike().new_bike_certified());
}

TEST(ParseItemTest, ProtoJson) {
  absl::StatusOr<v1::Item> item =
      ParseItem(R"({"productType":"appliance.television","priceFen":"300000","energyGrade":2})", 4);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->line_id(), "4");
  EXPECT_EQ(item->price_fen(), 300000);
  EXPECT_EQ(item->energy_grade(), 2);
}

TEST(ParseItemTest, ErrorsSayWhatIsWrong) {
  EXPECT_THAT(ParseItem("appliance.refrigerator", 1).status().message(), HasSubstr("TYPE:PRICE"));
  EXPECT_THAT(ParseItem("appliance.refrigerator:abc", 1).status().message(), HasSubstr("expected yuan"));
  EXPECT_THAT(ParseItem("appliance.refrigerator:5000:colour=red", 1).status().message(),
              HasSubstr("unknown key \"colour\""));
  EXPECT_THAT(ParseItem("car.new:150000:kind=LEASE", 1).status().message(),
              HasSubstr("expected one of SCRAPPAGE, REPLACEMENT"));
  EXPECT_THAT(ParseItem("appliance.refrigerator:5000:grade=one", 1).status().message(),
              HasSubstr("whole number"));
  EXPECT_THAT(ParseItem("{not json", 1).status().message(), HasSubstr("tradein.v1.Item"));
}

TEST(ParseLineSerialsTest, LineAndSerials) {
  absl::StatusOr<v1::LineSerials> serials = ParseLineSerials("1:SN-1, SN-2");
  ASSERT_TRUE(serials.ok()) << serials.status();
  EXPECT_EQ(serials->line_id(), "1");
  EXPECT_THAT(serials->serial_numbers(), ::testing::ElementsAre("SN-1", "SN-2"));
  EXPECT_FALSE(ParseLineSerials("1").ok());
  EXPECT_FALSE(ParseLineSerials(":SN").ok());
}

TEST(ParseRefundLineTest, QuantityIsOptional) {
  absl::StatusOr<v1::RefundLine> all = ParseRefundLine("a");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->line_id(), "a");
  EXPECT_EQ(all->quantity(), 0);
  absl::StatusOr<v1::RefundLine> two = ParseRefundLine("a:2");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->quantity(), 2);
  EXPECT_FALSE(ParseRefundLine("a:x").ok());
}

}  // namespace
}  // namespace tradein::ctl
