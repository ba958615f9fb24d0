#include "tools/tradeinctl/status_details.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace tradein::ctl {

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

std::string DescribeStatus(const grpc::Status& status) {
  std::string out = absl::StrCat(StatusCodeName(status.error_code()), ": ", status.error_message(), "\n");
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) return out;
  // The reason first, then its Chinese text, the fields, when to retry, whatever order the server sent them
  // in.
  std::string reason, chinese, fields, retry_after, other;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad_request;
    google::rpc::RetryInfo retry;
    google::rpc::LocalizedMessage localized;
    if (any.UnpackTo(&localized)) {
      absl::StrAppend(&chinese, "  中文     ", localized.message(), " (", localized.locale(), ")\n");
    } else if (any.UnpackTo(&info)) {
      absl::StrAppend(&reason, "  reason   ", info.reason(), info.domain().empty() ? "" : " (", info.domain(),
                      info.domain().empty() ? "" : ")", "\n");
      for (const auto& [key, value] : info.metadata()) absl::StrAppend(&reason, "  ", key, "  ", value, "\n");
    } else if (any.UnpackTo(&bad_request)) {
      for (const auto& violation : bad_request.field_violations()) {
        absl::StrAppend(&fields, "  field    ", violation.field(), ": ", violation.description(), "\n");
      }
    } else if (any.UnpackTo(&retry)) {
      absl::StrAppend(&retry_after, "  retry    after ",
                      google::protobuf::util::TimeUtil::ToString(retry.retry_delay()), "\n");
    } else {
      absl::StrAppend(&other, "  detail   ", any.type_url(), "\n");
    }
  }
  absl::StrAppend(&out, reason, chinese, fields, retry_after, other);
  return out;
}

std::string StatusToJson(const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    details.Clear();
    details.set_code(static_cast<int>(status.error_code()));
    details.set_message(status.error_message());
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(details, &json, options).ok()) {
    // A detail of a type this binary does not know: print without the details.
    details.clear_details();
    (void)google::protobuf::util::MessageToJsonString(details, &json, options);
  }
  return json;
}

}  // namespace tradein::ctl
