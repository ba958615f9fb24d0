#include "services/policy/region.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tradein::policy {
namespace {

using ::testing::ElementsAreArray;

std::vector<std::string> Chain(absl::string_view code) {
  const RegionChain chain = AncestorsOf(code);
  return std::vector<std::string>(chain.codes.begin(), chain.codes.begin() + chain.size);
}

TEST(AncestorsOfTest, WalksCountyCityProvinceNation) {
  const struct {
    const char* code;
    std::vector<std::string> want;
  } cases[] = {
      {"330381", {"330381", "330300", "330000", "000000"}},  // Rui'an → Wenzhou → Zhejiang → nation
      {"330300", {"330300", "330000", "000000"}},            // a city: no duplicate of itself
      {"330100", {"330100", "330000", "000000"}},
      {"330000", {"330000", "000000"}},  // a province
      {"110000", {"110000", "000000"}},
      {"110101", {"110101", "110100", "110000", "000000"}},
      {"000000", {"000000"}},  // the nation
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code);
    EXPECT_THAT(Chain(c.code), ElementsAreArray(c.want));
  }
}

TEST(IsRegionCodeTest, SixDigits) {
  for (const char* code : {"330381", "000000", "110000", "999999"}) EXPECT_TRUE(IsRegionCode(code)) << code;
  for (const char* code : {"", "33038", "3303810", "33038a", " 33038", "33-381", "３３０３８１"}) {
    EXPECT_FALSE(IsRegionCode(code)) << code;
  }
}

TEST(IsPointOfSaleRegionTest, ProvincePartElevenToEightyTwo) {
  for (const char* code : {"330381", "330300", "110000", "110101", "820000", "650000"}) {
    EXPECT_TRUE(IsPointOfSaleRegion(code)) << code;
  }
  for (const char* code : {"000000", "100000", "109999", "830000", "990000", "33038", "abcdef"}) {
    EXPECT_FALSE(IsPointOfSaleRegion(code)) << code;
  }
}

}  // namespace
}  // namespace tradein::policy
