#include "services/policy/product_catalogue.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/policy/policy_test_util.h"

namespace tradein::policy {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

v1::ProductCatalogue Catalogue(
    std::initializer_list<std::pair<const char*, v1::ProductType::Details>> types) {
  v1::ProductCatalogue out;
  for (const auto& [code, details] : types) {
    v1::ProductType* type = out.add_product_types();
    type->set_code(code);
    type->set_details(details);
  }
  return out;
}

v1::ProductCatalogue WithOptional(v1::ProductCatalogue catalogue, int index, v1::ProductType::Details optional) {
  catalogue.mutable_product_types(index)->set_optional_details(optional);
  return catalogue;
}

TEST(ProductCatalogueTest, IndexesCodesDensely) {
  absl::StatusOr<ProductCatalogue> catalogue =
      ProductCatalogue::Build(Catalogue({{"appliance.refrigerator", v1::ProductType::NONE},
                                         {"car.new", v1::ProductType::VEHICLE},
                                         {"renovation.old_home", v1::ProductType::HOME}}),
                              "types.textproto");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  EXPECT_EQ(catalogue->size(), 3u);
  EXPECT_EQ(catalogue->Find("appliance.refrigerator"), ProductTypeId{0});
  EXPECT_EQ(catalogue->Find("car.new"), ProductTypeId{1});
  EXPECT_EQ(catalogue->Find("renovation.old_home"), ProductTypeId{2});
  EXPECT_EQ(catalogue->Get(1).details(), v1::ProductType::VEHICLE);
  EXPECT_EQ(catalogue->Find("car.used"), std::nullopt);
  EXPECT_EQ(catalogue->Find(""), std::nullopt);
  EXPECT_EQ(catalogue->Find("CAR.NEW"), std::nullopt);
}

TEST(ProductCatalogueTest, RefusesBadCatalogues) {
  const struct {
    const char* name;
    v1::ProductCatalogue catalogue;
    const char* where;
    const char* what;
  } cases[] = {
      {"empty", Catalogue({}), "product_types", "empty"},
      {"duplicate",
       Catalogue({{"digital.phone", v1::ProductType::NONE}, {"digital.phone", v1::ProductType::NONE}}),
       "product_types[1].code", "duplicate code \"digital.phone\""},
      {"no dot", Catalogue({{"appliance", v1::ProductType::NONE}}), "product_types[0].code", "\"appliance\""},
      {"upper case", Catalogue({{"Appliance.tv", v1::ProductType::NONE}}), "product_types[0].code",
       "lowercase"},
      {"two dots", Catalogue({{"a.b.c", v1::ProductType::NONE}}), "product_types[0].code", "\"a.b.c\""},
      {"empty name", Catalogue({{"appliance.", v1::ProductType::NONE}}), "product_types[0].code",
       "lowercase"},
      {"empty kind", Catalogue({{".tv", v1::ProductType::NONE}}), "product_types[0].code", "lowercase"},
      {"space", Catalogue({{"digital.smart watch", v1::ProductType::NONE}}), "product_types[0].code",
       "lowercase"},
      {"empty code", Catalogue({{"", v1::ProductType::NONE}}), "product_types[0].code", "lowercase"},
      {"details unspecified",
       Catalogue(
           {{"digital.phone", v1::ProductType::NONE}, {"car.new", v1::ProductType::DETAILS_UNSPECIFIED}}),
       "product_types[1].details", "NONE, VEHICLE, HOME or EBIKE"},
      {"optional details NONE", WithOptional(Catalogue({{"digital.phone", v1::ProductType::NONE}}), 0,
                                             v1::ProductType::NONE),
       "product_types[0].optional_details", "VEHICLE, HOME or EBIKE"},
      {"optional details repeat the details",
       WithOptional(Catalogue({{"renovation.old_home", v1::ProductType::HOME}}), 0, v1::ProductType::HOME),
       "product_types[0].optional_details", "differ from details"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<ProductCatalogue> catalogue = ProductCatalogue::Build(c.catalogue, "types.textproto");
    ASSERT_FALSE(catalogue.ok());
    EXPECT_EQ(catalogue.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(catalogue.status().message()),
                AllOf(HasSubstr("types.textproto"), HasSubstr(c.where), HasSubstr(c.what)));
  }
}

TEST(ProductCatalogueTest, ShippedCatalogueHasTheContractTypes) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const ProductCatalogue& catalogue = snapshot->catalogue();
  const struct {
    const char* code;
    v1::ProductType::Details details;
  } want[] = {
      {"appliance.refrigerator", v1::ProductType::NONE},
      {"appliance.washing_machine", v1::ProductType::NONE},
      {"appliance.television", v1::ProductType::NONE},
      {"appliance.air_conditioner", v1::ProductType::NONE},
      {"appliance.computer", v1::ProductType::NONE},
      {"appliance.water_heater", v1::ProductType::NONE},
      {"appliance.cooktop", v1::ProductType::NONE},
      {"appliance.range_hood", v1::ProductType::NONE},
      {"appliance.dishwasher", v1::ProductType::NONE},
      {"appliance.water_purifier", v1::ProductType::NONE},
      {"appliance.microwave", v1::ProductType::NONE},
      {"appliance.rice_cooker", v1::ProductType::NONE},
      {"appliance.projector", v1::ProductType::NONE},
      {"digital.phone", v1::ProductType::NONE},
      {"digital.tablet", v1::ProductType::NONE},
      {"digital.smartwatch", v1::ProductType::NONE},
      {"digital.smart_glasses", v1::ProductType::NONE},
      {"furniture.bed", v1::ProductType::NONE},
      {"furniture.mattress", v1::ProductType::NONE},
      {"furniture.table_chair", v1::ProductType::NONE},
      {"furniture.sofa", v1::ProductType::NONE},
      {"furniture.massage_chair", v1::ProductType::NONE},
      {"furniture.smart_lock", v1::ProductType::NONE},
      {"furniture.smart_toilet", v1::ProductType::NONE},
      {"renovation.old_home", v1::ProductType::HOME},
      {"renovation.elderly_friendly", v1::ProductType::NONE},
      {"ebike.new", v1::ProductType::EBIKE},
      {"car.new", v1::ProductType::VEHICLE},
  };
  EXPECT_EQ(catalogue.size(), std::size(want));
  for (const auto& w : want) {
    SCOPED_TRACE(w.code);
    const std::optional<ProductTypeId> id = catalogue.Find(w.code);
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(catalogue.Get(*id).code(), w.code);
    EXPECT_EQ(catalogue.Get(*id).details(), w.details);
    EXPECT_FALSE(catalogue.Get(*id).name_zh().empty());
  }
}

// D19: the contract gives `home` to every renovation.* type; elderly-friendly adaptation may carry it.
TEST(ProductCatalogueTest, ShippedElderlyFriendlyTypeMayCarryAHome) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const ProductCatalogue& catalogue = snapshot->catalogue();
  const std::optional<ProductTypeId> elderly = catalogue.Find("renovation.elderly_friendly");
  ASSERT_TRUE(elderly.has_value());
  EXPECT_EQ(catalogue.Get(*elderly).details(), v1::ProductType::NONE);
  EXPECT_EQ(catalogue.Get(*elderly).optional_details(), v1::ProductType::HOME);
}

}  // namespace
}  // namespace tradein::policy
