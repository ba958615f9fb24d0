#include "common/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"

namespace tradein {
namespace {

void AttachErrorInfo(absl::Status& status, absl::string_view reason) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
}

}  // namespace

absl::Status ReasonError(absl::StatusCode code, absl::string_view reason, absl::string_view message) {
  absl::Status status(code, message);
  AttachErrorInfo(status, reason);
  return status;
}

absl::Status InvalidArgumentError(const std::vector<FieldViolation>& violations) {
  google::rpc::BadRequest bad_request;
  for (const FieldViolation& v : violations) {
    google::rpc::BadRequest::FieldViolation* out = bad_request.add_field_violations();
    out->set_field(v.field);
    out->set_description(absl::StrCat(v.reason, ": ", v.description));
  }
  const std::string message = absl::StrJoin(violations, "; ", [](std::string* out, const FieldViolation& v) {
    absl::StrAppend(out, v.field, ": ", v.reason, ": ", v.description);
  });
  absl::Status status(absl::StatusCode::kInvalidArgument, message);
  AttachErrorInfo(status, violations.empty() ? "INVALID_ARGUMENT" : violations.front().reason);
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status WithRetryDelay(absl::Status status, int64_t retry_after_ms) {
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(retry_after_ms / 1000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>((retry_after_ms % 1000) * 1000000));
  status.SetPayload(kRetryInfoTypeUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

absl::Status WithChineseMessage(absl::Status status, absl::string_view message_zh) {
  google::rpc::LocalizedMessage localized;
  localized.set_locale(std::string(kErrorLocale));
  localized.set_message(std::string(message_zh));
  status.SetPayload(kLocalizedMessageTypeUrl, absl::Cord(localized.SerializeAsString()));
  return status;
}

std::string ChineseMessage(const absl::Status& status) {
  const absl::optional<absl::Cord> payload = status.GetPayload(kLocalizedMessageTypeUrl);
  google::rpc::LocalizedMessage localized;
  if (!payload.has_value() || !localized.ParseFromString(std::string(*payload))) return "";
  return localized.message();
}

std::string ErrorReason(const absl::Status& status) {
  const absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoTypeUrl);
  google::rpc::ErrorInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

std::vector<FieldViolation> FieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  const absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestTypeUrl);
  google::rpc::BadRequest bad_request;
  if (!payload.has_value() || !bad_request.ParseFromString(std::string(*payload))) return out;
  for (const auto& v : bad_request.field_violations()) {
    const std::string& text = v.description();
    const size_t colon = text.find(": ");
    out.push_back(
        {v.field(), text.substr(0, colon), colon == std::string::npos ? "" : text.substr(colon + 2)});
  }
  return out;
}

}  // namespace tradein
