// -----------------------------------------------------------------------------
// File: status_details.h
// -----------------------------------------------------------------------------
//
// A failed call as an operator reads it: the gRPC code and message, then what the server put in the
// google.rpc.Status details (grpc-status-details-bin): the reason (google.rpc.ErrorInfo), each offending
// field (google.rpc.BadRequest, JSON field paths like "items[0].priceFen") and when to retry
// (google.rpc.RetryInfo).
//
//   INVALID_ARGUMENT: items[0].productType: unknown product type "appliance.fridge"
//     reason   UNKNOWN_PRODUCT_TYPE (tradein.v1)
//     field    items[0].productType: unknown product type "appliance.fridge"
//
// Thread safety: pure functions.
#ifndef TRADEIN_TOOLS_TRADEINCTL_STATUS_DETAILS_H_
#define TRADEIN_TOOLS_TRADEINCTL_STATUS_DETAILS_H_

#include <string>

#include "grpcpp/support/status.h"

namespace tradein::ctl {

// "UNAVAILABLE" for grpc::StatusCode::UNAVAILABLE.
std::string StatusCodeName(grpc::StatusCode code);

// DescribeStatus
//
// Multi-line text for a failed status (see above), ending in a newline.
std::string DescribeStatus(const grpc::Status& status);

// StatusToJson
//
// The status as a google.rpc.Status in proto JSON ({"code": 3, "message": ..., "details": [{"@type": ...}]}),
// built from the details the server sent or, without any, from the code and message.
std::string StatusToJson(const grpc::Status& status);

}  // namespace tradein::ctl

#endif  // TRADEIN_TOOLS_TRADEINCTL_STATUS_DETAILS_H_
