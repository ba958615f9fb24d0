// -----------------------------------------------------------------------------
// File: request_limits.h
// -----------------------------------------------------------------------------
//
// The one place the size of every request field is bounded. Every string field of every request message
// (nested messages included) holds at most kMaxStringBytes bytes and every repeated field at most
// kMaxRepeatedEntries entries, unless kFieldLimits below says otherwise for that field. CheckRequestLimits
// runs right after authorisation in every handler (authorize.h), before any validation or store call, so a
// 1.6 MB lineId or 20,000 serial numbers never get further than this check. The proto files state the same
// limits in their comments.
//
//   INVALID_ARGUMENT, reason FIELD_TOO_LONG ("lineSerials[0].lineId": at most 64 bytes) or TOO_MANY_ENTRIES
//   ("items": at most 100 entries).
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_API_REQUEST_LIMITS_H_
#define TRADEIN_SERVICES_API_REQUEST_LIMITS_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace tradein::api {

// Ids, codes, dates, serial numbers, VINs, buyer ids: the default for every string field.
inline constexpr size_t kMaxStringBytes = 64;
// Items of a basket, lines of a refund or correction, serial lines, states: the default for every repeated field.
inline constexpr int kMaxRepeatedEntries = 100;

struct FieldLimit {
  std::string_view field;  // full proto name, e.g. "tradein.v1.CancelClaimRequest.reason"
  size_t max;              // bytes of a string, entries of a repeated field
};

// The fields whose limit is not the default.
inline constexpr FieldLimit kFieldLimits[] = {
    {"tradein.v1.CancelClaimRequest.reason", 256},   {"tradein.v1.RefundClaimRequest.reason", 256},
    {"tradein.v1.VoidClaimRequest.reason", 256},     {"tradein.v1.CorrectClaimRequest.reason", 256},
    {"tradein.v1.Home.property_id", 128},            {"tradein.v1.ListClaimsRequest.page_token", 256},
    {"tradein.v1.ExportClaimsRequest.resume_token", 256},
};

// CheckRequestLimits
//
// OK, or INVALID_ARGUMENT naming each field over its limit (JSON path, e.g. "items[3].lineId").
absl::Status CheckRequestLimits(const google::protobuf::Message& request);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_REQUEST_LIMITS_H_
