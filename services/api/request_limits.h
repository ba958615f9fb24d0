// -----------------------------------------------------------------------------
// File: request_limits.h
// -----------------------------------------------------------------------------
//
// The one place the size of every request field is bounded before anything reads the request: every string
// field of every request message (nested messages included) holds at most kMaxStringBytes bytes and every
// repeated field at most kMaxRepeatedEntries entries, unless kFieldLimits below says otherwise. The check
// runs right after authorisation in every handler (authorize.h), before any validation or store call, so
// a 1.6 MB lineId or 20,000 serial numbers get no further. It is a backstop: the validation of each field
// comes after and is tighter where the field has a shape (ids, serial numbers, codes: 64 bytes; a reason:
// 256), with its own reason code, unchanged. The proto files state the same limits in their comments.
//
//   INVALID_ARGUMENT FIELD_TOO_LONG ("lineSerials[0].lineId": at most 256 bytes) or TOO_MANY_ENTRIES
//   ("lineSerials": at most 100 entries; TOO_MANY_ITEMS for a basket's items, TOO_MANY_SERIALS for a line's
//   serial numbers, as their validation has always said).
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_API_REQUEST_LIMITS_H_
#define TRADEIN_SERVICES_API_REQUEST_LIMITS_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace tradein::api {

// Every string field (ids, codes, dates, serial numbers, VINs, reasons, tokens).
inline constexpr size_t kMaxStringBytes = 256;
// Items of a basket, lines of a refund or correction, serial lines, states: the default for every repeated
// field.
inline constexpr int kMaxRepeatedEntries = 100;

struct FieldLimit {
  std::string_view field;   // full proto name, e.g. "tradein.v1.QuoteRequest.items"
  size_t max;               // bytes of a string, entries of a repeated field
  std::string_view reason;  // the reason code when over it
};

// The fields whose limit or reason is not the default.
inline constexpr FieldLimit kFieldLimits[] = {
    {"tradein.v1.QuoteRequest.items", 100, "TOO_MANY_ITEMS"},
    {"tradein.v1.ClaimRequest.items", 100, "TOO_MANY_ITEMS"},
    {"tradein.v1.LineSerials.serial_numbers", 100, "TOO_MANY_SERIALS"},
    {"tradein.v1.SimulatePolicyRequest.policy_files", 64, "TOO_MANY_ENTRIES"},
    {"tradein.v1.PolicyFileText.text", 1 << 20, "FIELD_TOO_LONG"},
};

// CheckRequestLimits
//
// OK, or INVALID_ARGUMENT naming each field over its limit (JSON path, e.g. "items[3].lineId").
absl::Status CheckRequestLimits(const google::protobuf::Message& request);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_REQUEST_LIMITS_H_
