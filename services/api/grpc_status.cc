#include "services/api/grpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/reasons.h"
#include "common/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace tradein::api {
namespace {

// `text` cut to at most `max` bytes at a UTF-8 character boundary, "…" marking a cut.
std::string Bounded(absl::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  constexpr absl::string_view kEllipsis = "…";
  size_t end = max - kEllipsis.size();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return absl::StrCat(text.substr(0, end), kEllipsis);
}

// The first kMaxViolationsSent violations, bounded; returns how many were left out.
int BoundViolations(google::rpc::BadRequest& bad_request) {
  const int omitted = std::max(0, bad_request.field_violations_size() - kMaxViolationsSent);
  if (omitted > 0) {
    bad_request.mutable_field_violations()->DeleteSubrange(kMaxViolationsSent, omitted);
  }
  for (google::rpc::BadRequest::FieldViolation& violation : *bad_request.mutable_field_violations()) {
    violation.set_field(Bounded(violation.field(), kMaxViolationFieldBytes));
    violation.set_description(Bounded(violation.description(), kMaxViolationTextBytes));
  }
  return omitted;
}

void BoundErrorInfo(google::rpc::ErrorInfo& info, int omitted) {
  info.set_reason(Bounded(info.reason(), kMaxViolationTextBytes));
  for (auto& [key, value] : *info.mutable_metadata()) value = Bounded(value, kMaxViolationTextBytes);
  if (omitted > 0) (*info.mutable_metadata())["omittedViolations"] = absl::StrCat(omitted);
}

// The reason a violation's description starts with ("PRICE_OUT_OF_RANGE: must be ...").
absl::string_view ViolationReason(absl::string_view description) {
  return description.substr(0, description.find(": "));
}

// The zh-CN text: the status's own, else each sent violation's field and reason text, else the reason's text.
google::rpc::LocalizedMessage Localized(const absl::Status& status,
                                        const google::rpc::BadRequest& bad_request) {
  std::string text = ChineseMessage(status);
  if (text.empty() && bad_request.field_violations_size() > 0) {
    text = absl::StrJoin(bad_request.field_violations(), "；", [](std::string* out, const auto& violation) {
      absl::StrAppend(
          out, violation.field(), "：",
          ChineseTextFor(ViolationReason(violation.description()), absl::StatusCode::kInvalidArgument));
    });
  }
  if (text.empty()) text = std::string(ChineseTextFor(ErrorReason(status), status.code()));
  google::rpc::LocalizedMessage localized;
  localized.set_locale(std::string(kErrorLocale));
  localized.set_message(Bounded(text, kMaxLocalizedMessageBytes));
  return localized;
}

// A store that did not answer by its deadline is UNAVAILABLE to the caller (the file comment in the header).
absl::Status AsCallerSeesIt(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kDeadlineExceeded) return status;
  absl::Status unavailable(absl::StatusCode::kUnavailable, status.message());
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    unavailable.SetPayload(type_url, payload);
  });
  return unavailable;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& given) {
  if (given.ok()) return grpc::Status::OK;
  const absl::Status status = AsCallerSeesIt(given);
  google::rpc::BadRequest bad_request;
  int omitted = 0;
  if (const absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestTypeUrl);
      payload.has_value() && bad_request.ParseFromString(std::string(*payload))) {
    omitted = BoundViolations(bad_request);
  }
  const std::string message = omitted > 0 ? absl::StrCat(Bounded(status.message(), kMaxMessageBytes - 40),
                                                         " (and ", omitted, " more violations not listed)")
                                          : Bounded(status.message(), kMaxMessageBytes);
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    if (!absl::StartsWith(type_url, "type.googleapis.com/") || type_url == kLocalizedMessageTypeUrl) return;
    google::protobuf::Any* any = details.add_details();
    any->set_type_url(std::string(type_url));
    google::rpc::ErrorInfo info;
    if (type_url == kBadRequestTypeUrl) {
      any->set_value(bad_request.SerializeAsString());
    } else if (type_url == kErrorInfoTypeUrl && info.ParseFromString(std::string(payload))) {
      BoundErrorInfo(info, omitted);
      any->set_value(info.SerializeAsString());
    } else {
      any->set_value(std::string(payload));
    }
  });
  details.add_details()->PackFrom(Localized(status, bad_request));
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message, details.SerializeAsString());
}

}  // namespace tradein::api
