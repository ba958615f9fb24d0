#include "services/quota/store_errors.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "services/quota/quota_store.h"

namespace tradein::quota {

absl::Status SerialLineNotFound(absl::string_view field) {
  return ReasonError(absl::StatusCode::kNotFound, "LINE_NOT_FOUND",
                     absl::StrCat(field, ": the claim has no such line"));
}

absl::Status SerialCount(absl::string_view first_field, int64_t given, int64_t units) {
  return InvalidArgumentError(
      {{SerialLineField(first_field), "SERIAL_COUNT",
        absl::StrCat("one serial number per granted unit: ", given, " given for ", units, " unit(s)")}});
}

absl::Status SerialTaken(absl::string_view field) {
  return ReasonError(absl::StatusCode::kFailedPrecondition, "SERIAL_ALREADY_SUBSIDISED",
                     absl::StrCat(field, ": this unit's serial number was already subsidised"));
}

absl::Status VoidIdReused() {
  return ReasonError(absl::StatusCode::kAlreadyExists, "VOID_ID_REUSED",
                     "this requestId was used for a different void");
}

absl::Status CorrectionIdReused() {
  return ReasonError(absl::StatusCode::kAlreadyExists, "CORRECTION_ID_REUSED",
                     "this requestId was used for a different correction");
}

absl::Status NotAReduction() {
  return ReasonError(absl::StatusCode::kFailedPrecondition, "CORRECTION_NOT_A_REDUCTION",
                     "a correction may only lower a line's subsidy, and not below what was refunded");
}

absl::Status LimitInvalid() {
  return ReasonError(absl::StatusCode::kInvalidArgument, "LIMIT_INVALID", "a page holds at least one claim");
}

}  // namespace tradein::quota
