// -----------------------------------------------------------------------------
// File: grpc_status.h
// -----------------------------------------------------------------------------
//
// The one place an absl::Status becomes a grpc::Status. The code is carried over (absl codes are the gRPC
// codes); the reason (google.rpc.ErrorInfo), field violations (google.rpc.BadRequest) and retry delay
// (google.rpc.RetryInfo) stored as payloads by common/status.h travel as a google.rpc.Status in the
// grpc-status-details-bin trailer, which grpcurl decodes through reflection.
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_API_GRPC_STATUS_H_
#define TRADEIN_SERVICES_API_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace tradein::api {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_GRPC_STATUS_H_
