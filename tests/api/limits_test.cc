// Request field limits (request_limits.h) and bounded error trailers (grpc_status.h), issue 9 defect 10.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "services/api/grpc_status.h"
#include "services/api/request_limits.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/portal_service.pb.h"

namespace tradein::api {
namespace {

using ::testing::HasSubstr;

// Trailer bytes as HPACK counts them: grpc-status, grpc-message (percent-encoded), grpc-status-details-bin
// (base64), an x-request-id of 64 characters.
size_t TrailerBytes(const grpc::Status& status) {
  size_t message = 0;
  for (char c : status.error_message()) {
    const auto byte = static_cast<unsigned char>(c);
    message += (byte < 0x20 || byte > 0x7e || byte == '%') ? 3 : 1;
  }
  return (32 + 11 + 2) + (32 + 12 + message) + (32 + 23 + absl::Base64Escape(status.error_details()).size()) +
         (32 + 12 + 64);
}

std::string Chinese(size_t bytes) {
  std::string out;
  while (out.size() + 3 <= bytes) out += "补";
  return out;
}

// A store that did not answer by the deadline the service gave it (--store_timeout) is UNAVAILABLE to a
// caller whose own deadline has not passed: retryable, and not to be mistaken for the caller's deadline.
TEST(GrpcStatusTest, AStoreThatDidNotAnswerInTimeIsUnavailableToTheCaller) {
  const grpc::Status status = ToGrpcStatus(absl::DeadlineExceededError("redis EVALSHA: no reply within 1s"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "redis EVALSHA: no reply within 1s");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(grpc::StatusCode::UNAVAILABLE));
}

TEST(GrpcStatusTest, AHundredLongViolationsLeaveRoomForALocalizedMessageUnder4KB) {
  std::vector<FieldViolation> violations;
  for (int i = 0; i < 100; ++i) {
    violations.push_back(
        {absl::StrCat("items[", i, "].", std::string(200, 'f')), std::string(100, 'R'), Chinese(600)});
  }
  const grpc::Status status = ToGrpcStatus(InvalidArgumentError(violations));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("(and 95 more violations not listed)"));
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  google::rpc::BadRequest bad_request;
  google::rpc::ErrorInfo info;
  for (const google::protobuf::Any& any : details.details()) {
    if (any.Is<google::rpc::BadRequest>()) {
      ASSERT_TRUE(any.UnpackTo(&bad_request));
    } else if (any.Is<google::rpc::ErrorInfo>()) {
      ASSERT_TRUE(any.UnpackTo(&info));
    }
  }
  ASSERT_EQ(bad_request.field_violations_size(), kMaxViolationsSent);
  EXPECT_EQ(bad_request.field_violations(0).field().substr(0, 9), "items[0].");
  EXPECT_EQ(info.metadata().at("omittedViolations"), "95");

  // The Chinese message is in the trailers: each listed field with its reason's text, under 4 KB in all...
  google::rpc::LocalizedMessage localized;
  for (const google::protobuf::Any& any : details.details()) {
    if (any.Is<google::rpc::LocalizedMessage>()) {
      ASSERT_TRUE(any.UnpackTo(&localized));
    }
  }
  EXPECT_EQ(localized.locale(), "zh-CN");
  EXPECT_THAT(localized.message(), HasSubstr("items[0]."));
  EXPECT_LE(TrailerBytes(status), kTrailerBudgetBytes);
  // ... and so it would be with the longest Chinese text an error may carry.
  google::rpc::Status longest;
  longest.set_code(details.code());
  longest.set_message(details.message());
  for (const google::protobuf::Any& any : details.details()) {
    if (!any.Is<google::rpc::LocalizedMessage>()) *longest.add_details() = any;
  }
  localized.set_message(Chinese(kMaxLocalizedMessageBytes));
  longest.add_details()->PackFrom(localized);
  const grpc::Status with_longest(status.error_code(), status.error_message(), longest.SerializeAsString());
  EXPECT_LE(TrailerBytes(with_longest), kTrailerBudgetBytes);
}

TEST(GrpcStatusTest, EveryErrorCarriesAChineseLocalizedMessage) {
  const auto chinese = [](const absl::Status& status) {
    google::rpc::Status details;
    EXPECT_TRUE(details.ParseFromString(ToGrpcStatus(status).error_details()));
    google::rpc::LocalizedMessage localized;
    for (const google::protobuf::Any& any : details.details()) {
      if (any.Is<google::rpc::LocalizedMessage>()) {
        EXPECT_TRUE(any.UnpackTo(&localized));
      }
    }
    EXPECT_EQ(localized.locale(), "zh-CN");
    return localized.message();
  };
  // A reason's text from the catalogue.
  EXPECT_EQ(chinese(ReasonError(absl::StatusCode::kFailedPrecondition, "HOLD_EXPIRED", "expired")),
            "补贴名额保留已超时，请重新申领");
  // An error's own text wins.
  EXPECT_EQ(chinese(WithChineseMessage(ReasonError(absl::StatusCode::kFailedPrecondition, "WRONG_STATE", "x"),
                                       "该申领状态为已确认（CONFIRMED），不能取消")),
            "该申领状态为已确认（CONFIRMED），不能取消");
  // No reason at all (the quota store unreachable): the gRPC code's text.
  EXPECT_EQ(chinese(absl::UnavailableError("redis 127.0.0.1:6379: connection refused")),
            "服务暂时不可用，请用同一请求号重试");
  // Field violations: each field and its reason's text.
  EXPECT_EQ(chinese(InvalidArgumentError({{"items[0].priceFen", "PRICE_OUT_OF_RANGE", "must be 1 .. 1e10"},
                                          {"buyer.idNumber", "ID_NUMBER_CHECK_DIGIT", "check digit"}})),
            "items[0].priceFen：价格超出允许范围；buyer.idNumber：身份证号码校验位不符，请核对是否录入有误");
}

TEST(GrpcStatusTest, ALongMessageIsCutAtACharacterBoundary) {
  const grpc::Status status =
      ToGrpcStatus(ReasonError(absl::StatusCode::kFailedPrecondition, "SOME_REASON", Chinese(3000)));
  EXPECT_LE(status.error_message().size(), kMaxMessageBytes);
  EXPECT_THAT(status.error_message(), ::testing::EndsWith("…"));
  EXPECT_EQ(status.error_message().substr(0, 3), "补");
}

TEST(RequestLimitsTest, EveryStringAndListIsBoundedWhereverItSits) {
  v1::ConfirmClaimRequest confirm;
  confirm.set_claim_id("c");
  confirm.add_line_serials()->set_line_id(std::string(1600 * 1024, 'x'));
  absl::Status status = CheckRequestLimits(confirm);
  EXPECT_EQ(ErrorReason(status), "FIELD_TOO_LONG");
  EXPECT_THAT(status.message(), HasSubstr("lineSerials[0].lineId"));

  v1::ConfirmClaimRequest serials;
  v1::LineSerials* line = serials.add_line_serials();
  for (int i = 0; i < 101; ++i) line->add_serial_numbers("SN");
  status = CheckRequestLimits(serials);
  EXPECT_EQ(ErrorReason(status), "TOO_MANY_SERIALS") << "the reason their validation has always given";
  EXPECT_THAT(status.message(), HasSubstr("lineSerials[0].serialNumbers"));
  for (int i = 0; i < kMaxRepeatedEntries; ++i) serials.add_line_serials();
  EXPECT_EQ(ErrorReason(CheckRequestLimits(serials)), "TOO_MANY_ENTRIES");

  v1::ConfirmClaimRequest long_serial;
  long_serial.add_line_serials()->add_serial_numbers(std::string(kMaxStringBytes + 1, 's'));
  EXPECT_THAT(CheckRequestLimits(long_serial).message(), HasSubstr("lineSerials[0].serialNumbers[0]"));

  v1::ClaimRequest claim;
  claim.mutable_buyer()->set_id_number(std::string(kMaxStringBytes + 1, '1'));
  EXPECT_THAT(CheckRequestLimits(claim).message(), HasSubstr("buyer.idNumber"));
  for (int i = 0; i < kMaxRepeatedEntries + 1; ++i) claim.add_items();
  EXPECT_THAT(CheckRequestLimits(claim).message(), HasSubstr("items"));
  EXPECT_EQ(ErrorReason(CheckRequestLimits(claim)), "FIELD_TOO_LONG") << "the first violation's reason";
}

TEST(RequestLimitsTest, FieldsWithTheirOwnLimitUseIt) {
  v1::ClaimRequest claim;
  for (int i = 0; i < kMaxRepeatedEntries + 1; ++i) claim.add_items();
  EXPECT_EQ(ErrorReason(CheckRequestLimits(claim)), "TOO_MANY_ITEMS");
  v1::CancelClaimRequest cancel;
  cancel.set_reason(std::string(kMaxStringBytes, 'r'));
  EXPECT_TRUE(CheckRequestLimits(cancel).ok());
  cancel.set_reason(std::string(kMaxStringBytes + 1, 'r'));
  EXPECT_THAT(CheckRequestLimits(cancel).message(), HasSubstr("reason: FIELD_TOO_LONG"));
}

}  // namespace
}  // namespace tradein::api
