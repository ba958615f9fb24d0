#include "services/identity/vin.h"

#include <string>

#include "absl/status/status.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tradein::identity {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;

constexpr absl::string_view kField = "items[0].vehicle.oldVin";

TEST(NormalizeVinTest, AcceptsValidVins) {
  const struct {
    std::string vin;
    std::string want;
  } cases[] = {
      {"1M8GDM9AXKP042788", "1M8GDM9AXKP042788"},  // 49 CFR 565's worked example: check digit X
      {"JHMCM56557C404453", "JHMCM56557C404453"},  // a published Honda VIN: check digit 5
      {"11111111111111111", "11111111111111111"},  // every weight × 1: 89 mod 11 = 1
      {"LSVAU218XN2183294", "LSVAU218XN2183294"},  // a Chinese WMI, check digit computed by hand
      {"1m8gdm9axkp042788", "1M8GDM9AXKP042788"},  // lowercase is normalised
      {"jhmCM56557c404453", "JHMCM56557C404453"},
  };
  for (const auto& c : cases) {
    const absl::StatusOr<std::string> got = NormalizeVin(c.vin, kField);
    ASSERT_TRUE(got.ok()) << c.vin << ": " << got.status();
    EXPECT_EQ(*got, c.want);
  }
}

TEST(NormalizeVinTest, RefusesWithReason) {
  const struct {
    std::string vin;
    std::string reason;
  } cases[] = {
      {"", "VIN_LENGTH"},
      {"1M8GDM9AXKP04278", "VIN_LENGTH"},
      {"1M8GDM9AXKP0427888", "VIN_LENGTH"},
      {" 1M8GDM9AXKP042788", "VIN_LENGTH"},
      {"1M8GDM9AXKP042788\n", "VIN_LENGTH"},
      {"1M8GDM9AXKP0427O8", "VIN_CHARACTERS"},  // letter O for digit 0
      {"1M8GDM9AXKP0427Q8", "VIN_CHARACTERS"},
      {"IM8GDM9AXKP042788", "VIN_CHARACTERS"},  // letter I for digit 1
      {"iM8GDM9AXKP042788", "VIN_CHARACTERS"},  // also in lowercase
      {"1M8GDM9AXKP04278-", "VIN_CHARACTERS"},
      {"1M8GDM9AXKP04278 ", "VIN_CHARACTERS"},
      {"1M8GDM9AXKP04278\xc3", "VIN_CHARACTERS"},
      // One character changed in each valid VIN above.
      {"1M8GDM9AXKP042789", "VIN_CHECK_DIGIT"},
      {"1M8GDM9A0KP042788", "VIN_CHECK_DIGIT"},  // the check digit itself
      {"JHMCM56557C404454", "VIN_CHECK_DIGIT"},
      {"JHMCM56547C404453", "VIN_CHECK_DIGIT"},
      {"11111111111111112", "VIN_CHECK_DIGIT"},
      {"LSVAU218XN2183295", "VIN_CHECK_DIGIT"},
      {"JHMCM565A7C404453", "VIN_CHECK_DIGIT"},  // a letter other than X at position 9
      // A published European VIN (VW Golf IV): Europe has no check digit and fills position 9 with Z, so it
      // fails the GB 16735 rule.
      {"WVWZZZ1JZXW000001", "VIN_CHECK_DIGIT"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.vin);
    const absl::StatusOr<std::string> got = NormalizeVin(c.vin, kField);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ErrorReason(got.status()), c.reason);
    EXPECT_THAT(FieldViolations(got.status()), ElementsAre(AllOf(Field(&FieldViolation::field, kField),
                                                                 Field(&FieldViolation::reason, c.reason))));
  }
}

TEST(NormalizeVinTest, CharacterErrorNamesThePosition) {
  const absl::Status status = NormalizeVin("1M8GDM9AXKP0427O8", kField).status();
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("position 16"));
}

}  // namespace
}  // namespace tradein::identity
