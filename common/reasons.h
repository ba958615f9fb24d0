// -----------------------------------------------------------------------------
// File: reasons.h
// -----------------------------------------------------------------------------
//
// The reason-code catalogue: every stable UPPER_SNAKE reason a client can meet — an item's reason
// (`eligible: false` and why) or an error's google.rpc.ErrorInfo reason — with its English and Chinese text
// and what a till should do about it. It is the one source of that text: the gRPC adapter
// (services/api/grpc_status.h) sends the Chinese as a zh-CN google.rpc.LocalizedMessage, explanations take
// item reasons' Chinese from it, PolicyService/ListReasons serves it for tills to cache, and
// docs/reasons.md is generated from it (`ninja reasons_doc`; a test keeps the checked-in file equal).
//
// Errors raised without a reason (the quota store unreachable, a deadline passed) are catalogued under their
// gRPC code's name (UNAVAILABLE, DEADLINE_EXCEEDED, …) so every error has a Chinese text.
//
//   const Reason* reason = FindReason("HOLD_EXPIRED");  // reason->message_zh == "补贴名额保留已超时…"
//
// Append new reasons; never change a code. Thread safety: immutable static data.
#ifndef TRADEIN_COMMON_REASONS_H_
#define TRADEIN_COMMON_REASONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tradein {

// What a till does when it meets a reason.
enum class TillAction {
  kShowToCashier,     // tell the cashier and the buyer (the text is for them); change the sale or stop
  kRetrySameRequest,  // a passing fault: retry the same call with the same requestId (it is idempotent)
  kCallSupport,       // the till or the service is wrong: show the text and call the till's support
};

// Where a reason appears.
enum class ReasonScope {
  kItem,     // an item's reasons[] (not an error: the item comes back `eligible: false` or reduced)
  kError,    // an error's ErrorInfo reason, with `status`
  kBoth,     // both (e.g. CLAIM_WINDOW_CLOSED)
  kGateway,  // an HTTP refusal of the JSON gateway before any call is made (`status` is the gRPC code)
};

struct Reason {
  absl::string_view code;
  ReasonScope scope;
  absl::StatusCode status;  // the gRPC code of the error (kOk for item-only reasons)
  TillAction action;
  absl::string_view message;     // English, for people
  absl::string_view message_zh;  // 简体中文, for the till's screen
};

// Every reason, in catalogue order (item reasons first, then errors grouped by gRPC code).
absl::Span<const Reason> AllReasons();

// The reason `code`, or nullptr when the catalogue has none.
const Reason* FindReason(absl::string_view code);

// The Chinese text of an error without a better one: its reason's, else its gRPC code's.
absl::string_view ChineseTextFor(absl::string_view reason, absl::StatusCode code);

// "SHOW_TO_CASHIER", "RETRY_SAME_REQUEST", "CALL_SUPPORT".
absl::string_view TillActionName(TillAction action);

// docs/reasons.md, byte for byte.
std::string RenderReasonsMarkdown();

}  // namespace tradein

#endif  // TRADEIN_COMMON_REASONS_H_
