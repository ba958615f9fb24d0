#include "services/server/reflection_v1.h"

#include <string>
#include <utility>

#include "grpcpp/client_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/sync_stream.h"

namespace tradein::server {
namespace {

namespace v1 = grpc::reflection::v1;

constexpr char kV1AlphaMethod[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

grpc::ByteBuffer BytesOf(const google::protobuf::Message& message) {
  const std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

bool ParseBytes(const grpc::ByteBuffer& buffer, google::protobuf::Message& message) {
  grpc::Slice slice;
  return buffer.DumpToSingleSlice(&slice).ok() &&
         message.ParseFromArray(slice.begin(), static_cast<int>(slice.size()));
}

}  // namespace

void ReflectionV1Service::Connect(std::shared_ptr<grpc::Channel> channel) {
  auto upstream = std::make_shared<const Upstream>(Upstream{
      channel,
      grpc::internal::RpcMethod(kV1AlphaMethod, grpc::internal::RpcMethod::BIDI_STREAMING, channel)});
  absl::MutexLock lock(&mu_);
  upstream_ = std::move(upstream);
}

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ServerReflectionResponse, v1::ServerReflectionRequest>* stream) {
  std::shared_ptr<const Upstream> upstream;
  {
    absl::MutexLock lock(&mu_);
    upstream = upstream_;
  }
  if (upstream == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is starting");
  grpc::ClientContext forwarded;
  forwarded.set_deadline(context->deadline());
  const auto request_id = context->client_metadata().find("x-request-id");
  if (request_id != context->client_metadata().end()) {
    forwarded.AddMetadata("x-request-id", std::string(request_id->second.data(), request_id->second.size()));
  }
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> alpha(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          upstream->channel.get(), upstream->method, &forwarded));
  v1::ServerReflectionRequest request;
  while (stream->Read(&request)) {
    grpc::ByteBuffer answer;
    if (!alpha->Write(BytesOf(request)) || !alpha->Read(&answer)) break;
    v1::ServerReflectionResponse response;
    if (!ParseBytes(answer, response)) {
      forwarded.TryCancel();
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          "the v1alpha reflection answer could not be read as v1");
    }
    if (!stream->Write(response)) {
      forwarded.TryCancel();
      return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
    }
  }
  alpha->WritesDone();
  return alpha->Finish();
}

}  // namespace tradein::server
