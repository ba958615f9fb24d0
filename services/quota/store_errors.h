// -----------------------------------------------------------------------------
// File: store_errors.h
// -----------------------------------------------------------------------------
//
// The errors both QuotaStore implementations answer, built in one place so that the two stores cannot drift
// apart in code, reason or message (quota_store.h lists when each is answered).
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_QUOTA_STORE_ERRORS_H_
#define TRADEIN_SERVICES_QUOTA_STORE_ERRORS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tradein::quota {

// NOT_FOUND CLAIM_NOT_FOUND: no such claim (or another retailer's).
absl::Status ClaimNotFound();
// FAILED_PRECONDITION WRONG_STATE: "a CONFIRMED claim cannot be cancelled", naming the state (ClaimState's
// value) by its wire name, and in Chinese "该申领状态为已确认（CONFIRMED），不能取消".
absl::Status WrongState(int64_t state, absl::string_view action);
// FAILED_PRECONDITION HOLD_EXPIRED, worded for `action` ("confirmed" or another).
absl::Status HoldExpired(absl::string_view action);
// ALREADY_EXISTS REQUEST_ID_REUSED / REFUND_ID_REUSED.
absl::Status RequestIdReused();
absl::Status RefundIdReused();
// NOT_FOUND LINE_NOT_FOUND (a refund or correction naming a line the claim does not have).
absl::Status LineNotFound();
// FAILED_PRECONDITION REFUND_EXCEEDS_GRANT.
absl::Status RefundExceedsGrant();

// NOT_FOUND LINE_NOT_FOUND naming the serial's request field.
absl::Status SerialLineNotFound(absl::string_view field);
// INVALID_ARGUMENT SERIAL_COUNT on field SerialLineField(first_field).
absl::Status SerialCount(absl::string_view first_field, int64_t given, int64_t units);
// FAILED_PRECONDITION SERIAL_ALREADY_SUBSIDISED naming the field.
absl::Status SerialTaken(absl::string_view field);
// ALREADY_EXISTS VOID_ID_REUSED / CORRECTION_ID_REUSED.
absl::Status VoidIdReused();
absl::Status CorrectionIdReused();
// FAILED_PRECONDITION CORRECTION_NOT_A_REDUCTION.
absl::Status NotAReduction();
// FAILED_PRECONDITION SERIAL_NOT_ON_LINE: a serial fix naming a serial its line does not hold.
absl::Status SerialNotOnLine();
// ABORTED ABORTED: a confirmation fix computed from a confirmation the claim no longer has.
absl::Status ConfirmationChanged();
// INVALID_ARGUMENT LIMIT_INVALID.
absl::Status LimitInvalid();

}  // namespace tradein::quota

#endif  // TRADEIN_SERVICES_QUOTA_STORE_ERRORS_H_
