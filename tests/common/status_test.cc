#include "common/status.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"

namespace tradein {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

MATCHER_P3(Violation, field, reason, description, "") {
  return arg.field == field && arg.reason == reason && arg.description == description;
}

TEST(ReasonErrorTest, CarriesCodeMessageAndReason) {
  const absl::Status status =
      ReasonError(absl::StatusCode::kFailedPrecondition, "HOLD_EXPIRED", "the hold expired at 12:00");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "the hold expired at 12:00");
  EXPECT_EQ(ErrorReason(status), "HOLD_EXPIRED");
  EXPECT_THAT(FieldViolations(status), IsEmpty());
}

TEST(ReasonErrorTest, ErrorInfoHasTheServiceDomain) {
  const absl::Status status =
      ReasonError(absl::StatusCode::kNotFound, "UNKNOWN_PRODUCT_TYPE", "no such type");
  const absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoTypeUrl);
  ASSERT_TRUE(payload.has_value());
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(info.ParseFromString(std::string(*payload)));
  EXPECT_EQ(info.domain(), kErrorDomain);
  EXPECT_EQ(info.reason(), "UNKNOWN_PRODUCT_TYPE");
}

TEST(InvalidArgumentErrorTest, RoundTripsEveryViolation) {
  const absl::Status status = InvalidArgumentError({
      {"items[0].priceFen", "PRICE_OUT_OF_RANGE", "must be 1 .. 10000000000"},
      {"items[1].vehicle.oldVin", "VIN_CHECK_DIGIT", "position 9: not the check digit"},
      {"buyer.idNumber", "ID_NUMBER_LENGTH", ""},
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(status), "PRICE_OUT_OF_RANGE");
  EXPECT_THAT(
      FieldViolations(status),
      ElementsAre(Violation("items[0].priceFen", "PRICE_OUT_OF_RANGE", "must be 1 .. 10000000000"),
                  Violation("items[1].vehicle.oldVin", "VIN_CHECK_DIGIT", "position 9: not the check digit"),
                  Violation("buyer.idNumber", "ID_NUMBER_LENGTH", "")));
}

TEST(InvalidArgumentErrorTest, MessageListsFieldReasonAndDescription) {
  const absl::Status status = InvalidArgumentError({
      {"items[0].priceFen", "PRICE_OUT_OF_RANGE", "must be 1 .. 10000000000"},
      {"items[0].quantity", "QUANTITY_OUT_OF_RANGE", "must be 1 .. 100"},
  });
  EXPECT_EQ(status.message(),
            "items[0].priceFen: PRICE_OUT_OF_RANGE: must be 1 .. 10000000000; "
            "items[0].quantity: QUANTITY_OUT_OF_RANGE: must be 1 .. 100");
}

TEST(WithRetryDelayTest, AddsRetryInfoAndKeepsTheRest) {
  const absl::Status status =
      WithRetryDelay(ReasonError(absl::StatusCode::kResourceExhausted, "RATE_LIMITED", "slow down"), 1500);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "slow down");
  EXPECT_EQ(ErrorReason(status), "RATE_LIMITED");
  const absl::optional<absl::Cord> payload = status.GetPayload(kRetryInfoTypeUrl);
  ASSERT_TRUE(payload.has_value());
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(retry.ParseFromString(std::string(*payload)));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  EXPECT_EQ(retry.retry_delay().nanos(), 500000000);
}

TEST(ErrorReasonTest, EmptyWithoutErrorInfo) {
  const absl::Status status = absl::InternalError("boom");
  EXPECT_EQ(ErrorReason(status), "");
  EXPECT_THAT(FieldViolations(status), IsEmpty());
  EXPECT_EQ(ErrorReason(absl::OkStatus()), "");
}

}  // namespace
}  // namespace tradein
