#include "services/quota/store_errors.h"

#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "services/quota/quota_store.h"

namespace tradein::quota {

absl::Status ClaimNotFound() {
  return ReasonError(absl::StatusCode::kNotFound, "CLAIM_NOT_FOUND", "no such claim");
}

namespace {

struct Words {
  absl::string_view en;
  absl::string_view zh;
};

// A claim state's wire name and Chinese name (quota_store.h ClaimState, claim_service.proto Claim.State).
Words StateWords(int64_t state) {
  static constexpr Words kStates[] = {
      {"STATE_UNSPECIFIED", "未知状态"},
      {"RESERVED", "已预留"},
      {"CONFIRMED", "已确认"},
      {"CANCELLED", "已取消"},
      {"EXPIRED", "已过期"},
      {"REFUNDED", "已退货"},
      {"PARTIALLY_REFUNDED", "部分退货"},
      {"REJECTED", "已拒绝"},
      {"VOIDED", "已作废"},
  };
  if (state < 0 || state >= static_cast<int64_t>(std::size(kStates))) return kStates[0];
  return kStates[state];
}

// The Chinese verb of a WrongState `action` ("confirmed" → "确认").
absl::string_view ActionZh(absl::string_view action) {
  static constexpr Words kActions[] = {{"confirmed", "确认"},
                                       {"cancelled", "取消"},
                                       {"refunded", "退货"},
                                       {"voided", "作废"},
                                       {"corrected", "更正"}};
  for (const Words& words : kActions) {
    if (words.en == action) return words.zh;
  }
  return "处理";
}

}  // namespace

absl::Status WrongState(int64_t state, absl::string_view action) {
  const Words words = StateWords(state);
  return WithChineseMessage(
      ReasonError(absl::StatusCode::kFailedPrecondition, "WRONG_STATE",
                  absl::StrCat("a ", words.en, " claim cannot be ", action)),
      absl::StrCat("该申领状态为", words.zh, "（", words.en, "），不能", ActionZh(action)));
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

absl::Status SerialNotOnLine() {
  return ReasonError(absl::StatusCode::kFailedPrecondition, "SERIAL_NOT_ON_LINE",
                     "the line does not hold this serial number");
}

absl::Status ConfirmationChanged() {
  return ReasonError(absl::StatusCode::kAborted, "ABORTED",
                     "the claim's confirmation changed meanwhile: read the claim again and retry");
}

absl::Status LimitInvalid() {
  return ReasonError(absl::StatusCode::kInvalidArgument, "LIMIT_INVALID", "a page holds at least one claim");
}

}  // namespace tradein::quota
