// -----------------------------------------------------------------------------
// File: reflection_v1.h
// -----------------------------------------------------------------------------
//
// grpc.reflection.v1.ServerReflection, served by forwarding to the v1alpha service gRPC 1.51 ships
// (grpc::reflection::InitProtoReflectionServerBuilderPlugin). grpcurl ≥ 1.8.8, buf curl and Postman ask v1
// first and fall back to v1alpha only after an UNIMPLEMENTED — which every instance logged and counted in
// grpc_server_handled_total, noise in error-rate alerts. The two protocols are the same messages under two
// package names (identical field numbers), so each v1 request's bytes are sent as they are on one v1alpha
// stream over the server's in-process channel, and each answer's bytes read back as v1: one implementation of
// what the server describes, and this one goes when Debian's gRPC serves v1 itself. (The stream carries raw
// bytes: v1alpha's generated code lives in libgrpc++_reflection, and a second copy in the binary would
// clash.)
//
// The forwarded stream carries the outer call's x-request-id, so its access line names the same request.
//
// Thread safety: a synchronous gRPC service (like v1alpha's): each call runs on one of gRPC's sync threads
// and may block on the in-process stream. Connect() is called once after the server starts; a call before it
// answers UNAVAILABLE.
#ifndef TRADEIN_SERVICES_SERVER_REFLECTION_V1_H_
#define TRADEIN_SERVICES_SERVER_REFLECTION_V1_H_

#include <memory>

#include "absl/synchronization/mutex.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/impl/rpc_method.h"

namespace tradein::server {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // The server's in-process channel, on which v1alpha answers.
  void Connect(std::shared_ptr<grpc::Channel> channel) ABSL_LOCKS_EXCLUDED(mu_);

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

 private:
  struct Upstream {
    std::shared_ptr<grpc::Channel> channel;
    grpc::internal::RpcMethod method;  // v1alpha's ServerReflectionInfo, registered on `channel`
  };

  absl::Mutex mu_;
  std::shared_ptr<const Upstream> upstream_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_REFLECTION_V1_H_
