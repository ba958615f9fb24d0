// -----------------------------------------------------------------------------
// File: status.h
// -----------------------------------------------------------------------------
//
// Errors inside the service are absl::Status. Every error a client can see carries a stable machine-readable
// reason (UPPER_SNAKE, e.g. "UNKNOWN_PRODUCT_TYPE") and, for bad input, the offending field paths in the
// API's JSON names (e.g. "items[2].priceFen"). Both travel as absl::Status payloads holding the standard
// google.rpc.ErrorInfo and google.rpc.BadRequest messages, so the gRPC adapter (services/api/grpc_status.h)
// forwards them unchanged as grpc-status-details-bin and grpcurl prints them.
//
//   return InvalidArgumentError({{"items[0].priceFen", "PRICE_OUT_OF_RANGE", "must be 1 .. 10000000000"}});
//   return ReasonError(absl::StatusCode::kFailedPrecondition, "HOLD_EXPIRED", "the hold expired at ...");
//
// Every error also reaches the client with a Chinese text (google.rpc.LocalizedMessage, zh-CN): its own when
// WithChineseMessage gave it one, else its reason's from the catalogue (common/reasons.h).
//
// Thread safety: pure functions.
#ifndef TRADEIN_COMMON_STATUS_H_
#define TRADEIN_COMMON_STATUS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradein {

// The google.rpc.ErrorInfo domain of every error this service raises.
inline constexpr absl::string_view kErrorDomain = "tradein.v1";
inline constexpr absl::string_view kErrorInfoTypeUrl = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kBadRequestTypeUrl = "type.googleapis.com/google.rpc.BadRequest";
inline constexpr absl::string_view kRetryInfoTypeUrl = "type.googleapis.com/google.rpc.RetryInfo";
inline constexpr absl::string_view kLocalizedMessageTypeUrl =
    "type.googleapis.com/google.rpc.LocalizedMessage";
// The locale of every error's google.rpc.LocalizedMessage.
inline constexpr absl::string_view kErrorLocale = "zh-CN";

// One thing wrong with a request.
struct FieldViolation {
  std::string field;        // JSON path, e.g. "items[2].vehicle.oldVin"
  std::string reason;       // UPPER_SNAKE, e.g. "VIN_CHECK_DIGIT"
  std::string description;  // for people
};

// ReasonError
//
// A status of `code` whose ErrorInfo reason is `reason`.
absl::Status ReasonError(absl::StatusCode code, absl::string_view reason, absl::string_view message);

// InvalidArgumentError
//
// INVALID_ARGUMENT listing every violation (BadRequest) with the first one's reason as the ErrorInfo reason.
// The message reads "items[0].priceFen: PRICE_OUT_OF_RANGE: must be ...; ...".
// REQUIRES: !violations.empty().
absl::Status InvalidArgumentError(const std::vector<FieldViolation>& violations);

// WithRetryDelay
//
// Adds a google.rpc.RetryInfo telling the client when to retry (rate limits).
absl::Status WithRetryDelay(absl::Status status, int64_t retry_after_ms);

// WithChineseMessage
//
// Gives `status` its own zh-CN text (a google.rpc.LocalizedMessage), for errors whose specifics matter to the
// cashier (a claim's state, the two invoice numbers). Without it the gRPC adapter sends the reason's text
// from the catalogue (common/reasons.h).
absl::Status WithChineseMessage(absl::Status status, absl::string_view message_zh);

// ChineseMessage
//
// The text WithChineseMessage gave `status`, or "" when it has none.
std::string ChineseMessage(const absl::Status& status);

// ErrorReason
//
// The ErrorInfo reason of `status`, or "" when it has none.
std::string ErrorReason(const absl::Status& status);

// FieldViolations
//
// The BadRequest violations of `status` (empty when it has none).
std::vector<FieldViolation> FieldViolations(const absl::Status& status);

}  // namespace tradein

// TRADEIN_RETURN_IF_ERROR(expr): returns the absl::Status of `expr` from the calling function if it is not
// OK.
#define TRADEIN_RETURN_IF_ERROR(expr)                                   \
  do {                                                                  \
    if (absl::Status tradein_status_ = (expr); !tradein_status_.ok()) { \
      return tradein_status_;                                           \
    }                                                                   \
  } while (false)

#define TRADEIN_STATUS_CONCAT_INNER_(a, b) a##b
#define TRADEIN_STATUS_CONCAT_(a, b) TRADEIN_STATUS_CONCAT_INNER_(a, b)

// TRADEIN_ASSIGN_OR_RETURN(lhs, expr): evaluates the absl::StatusOr `expr`; returns its status if not OK,
// otherwise moves its value into `lhs` (which may be a declaration: `auto x`).
#define TRADEIN_ASSIGN_OR_RETURN(lhs, expr) \
  TRADEIN_ASSIGN_OR_RETURN_IMPL_(TRADEIN_STATUS_CONCAT_(tradein_statusor_, __LINE__), lhs, expr)
#define TRADEIN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = *std::move(statusor)

#endif  // TRADEIN_COMMON_STATUS_H_
