#include "services/quota/store_errors.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "services/quota/quota_store.h"

namespace tradein::quota {

absl::Status ClaimNotFound() {
  return ReasonError(absl::StatusCode::kNotFound, "CLAIM_NOT_FOUND", "no such claim");
}

absl::Status WrongState(int64_t state, absl::string_view action) {
  return ReasonError(absl::StatusCode::kFailedPrecondition, "WRONG_STATE",
                     absl::StrCat("a claim in state ", state, " cannot be ", action));
}

absl::Status HoldExpired(absl::string_view action) {
  return ReasonError(absl::StatusCode::kFailedPrecondition, "HOLD_EXPIRED",
                     action == "confirmed" ? "the claim's hold expired before it was confirmed"
                                           : "the claim's hold already expired");
}

absl::Status RequestIdReused() {
  return ReasonError(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
                     "this requestId was used for a different claim");
}

absl::Status RefundIdReused() {
  return ReasonError(absl::StatusCode::kAlreadyExists, "REFUND_ID_REUSED",
                     "this refund requestId was used for a different refund");
}

absl::Status LineNotFound() {
  return ReasonError(absl::StatusCode::kNotFound, "LINE_NOT_FOUND", "the claim has no such line");
}

absl::Status RefundExceedsGrant() {
  return ReasonError(absl::StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_GRANT",
                     "more units than were granted and not yet refunded");
}

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
