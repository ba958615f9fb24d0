#include "services/identity/imei.h"

#include "gtest/gtest.h"

namespace tradein::identity {
namespace {

TEST(ImeiTest, AcceptsImeisWithTheirLuhnCheckDigit) {
  EXPECT_TRUE(IsValidImei("490154203237518"));  // the example of 3GPP TS 23.003 / Wikipedia
  EXPECT_TRUE(IsValidImei("356938035643809"));
  EXPECT_TRUE(IsValidImei("000000000000000"));
}

TEST(ImeiTest, RefusesAWrongCheckDigitOrATransposition) {
  EXPECT_FALSE(IsValidImei("490154203237517"));
  EXPECT_FALSE(IsValidImei("490154203237519"));
  EXPECT_FALSE(IsValidImei("491054203237518"));  // the 3rd and 4th digits swapped
}

TEST(ImeiTest, RefusesOtherShapes) {
  EXPECT_FALSE(IsValidImei(""));
  EXPECT_FALSE(IsValidImei("49015420323751"));    // 14 digits
  EXPECT_FALSE(IsValidImei("4901542032375180"));  // 16 (an IMEISV)
  EXPECT_FALSE(IsValidImei("49015420323751X"));
  EXPECT_FALSE(IsValidImei("SN-PHONE-1"));
  EXPECT_FALSE(IsValidImei("49-015420-323751-8"));
}

}  // namespace
}  // namespace tradein::identity
