// -----------------------------------------------------------------------------
// File: grpc_status.h
// -----------------------------------------------------------------------------
//
// The one place an absl::Status becomes a grpc::Status. The code is carried over (absl codes are the gRPC
// codes), except DEADLINE_EXCEEDED, which becomes UNAVAILABLE: only the quota store and the Redis client make
// it, when the store did not answer by the deadline the service gave it (--store_timeout, or the caller's
// deadline if sooner). Before the caller's deadline that is the store failing over or too slow — retry with
// the same ids — and after it gRPC has already told the caller DEADLINE_EXCEEDED itself. The reason
// (google.rpc.ErrorInfo), field violations (google.rpc.BadRequest) and retry delay (google.rpc.RetryInfo)
// stored as payloads by common/status.h travel as a google.rpc.Status in the grpc-status-details-bin trailer,
// which grpcurl decodes through reflection.
//
// Every error carries a google.rpc.LocalizedMessage (locale zh-CN) for the till's screen: the status's own
// (WithChineseMessage, common/status.h), else each violation's field and its reason's Chinese text, else the
// reason's (or, without a reason, the gRPC code's) text from the catalogue (common/reasons.h).
//
// Bounded: gRPC C-core clients refuse trailers over 8 KB (and then see RESOURCE_EXHAUSTED instead of the
// error), and the Chinese google.rpc.LocalizedMessage joins them. So every error's trailers stay
// under kTrailerBudgetBytes, with room left for that message: at most kMaxViolationsSent field violations
// travel (each field, reason and description cut to a bound at a UTF-8 boundary), the number left out is
// in the ErrorInfo metadata "omittedViolations" and at the end of the message, which is itself bounded.
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_API_GRPC_STATUS_H_
#define TRADEIN_SERVICES_API_GRPC_STATUS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace tradein::api {

// All trailers of an error (grpc-status, grpc-message as sent, grpc-status-details-bin in base64, and our
// x-request-id), as HPACK counts them (name + value + 32 per entry), stay under this...
inline constexpr size_t kTrailerBudgetBytes = 4096;
// ... this much of it for the LocalizedMessage detail (base64 of kMaxLocalizedMessageBytes and its
// framing)...
inline constexpr size_t kLocalizedMessageReserveBytes = 1500;
inline constexpr int kMaxViolationsSent = 5;
inline constexpr size_t kMaxLocalizedMessageBytes = 900;  // the Chinese text (300 CJK characters)
static_assert((kMaxLocalizedMessageBytes + 100) * 4 / 3 <= kLocalizedMessageReserveBytes,
              "the Chinese text, its locale, type URL and framing fit the reserve in base64");
inline constexpr size_t kMaxMessageBytes = 240;        // grpc-message before percent-encoding
inline constexpr size_t kMaxViolationFieldBytes = 80;  // a field path
inline constexpr size_t kMaxViolationTextBytes = 120;  // a description, a reason, an ErrorInfo value

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_GRPC_STATUS_H_
