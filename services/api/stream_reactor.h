// -----------------------------------------------------------------------------
// File: stream_reactor.h
// -----------------------------------------------------------------------------
//
// The gRPC side of a server stream whose work lives in a separate stream object (the settlement export, the
// policy simulation): gRPC deletes the reactor in OnDone, possibly while a store call is still in flight, so
// the state a store callback touches lives in the `Stream`, shared by the reactor and each in-flight call.
// The reactor only hands its events on:
//
//   Stream(grpc::ServerWriteReactor<Message>& reactor, Args...)  built with the reactor, then Next()
//   void Next()                                                 at the start and after each write
//   void Finish(grpc::Status)                                   the client went away
//
// RefuseStream answers a call refused before any work starts.
//
// Thread safety: as gRPC's reactors; the Stream synchronises itself.
#ifndef TRADEIN_SERVICES_API_STREAM_REACTOR_H_
#define TRADEIN_SERVICES_API_STREAM_REACTOR_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"
#include "services/api/grpc_status.h"

namespace tradein::api {

template <typename Message, typename Stream>
class StreamReactor final : public grpc::ServerWriteReactor<Message> {
 public:
  template <typename... Args>
  explicit StreamReactor(Args&&... args)
      : stream_(std::make_shared<Stream>(*this, std::forward<Args>(args)...)) {
    stream_->Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return stream_->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped reading"));
    stream_->Next();
  }
  void OnCancel() override { stream_->Finish(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }

 private:
  const std::shared_ptr<Stream> stream_;
};

// A write reactor that only answers `why`.
template <typename Message>
grpc::ServerWriteReactor<Message>* RefuseStream(const absl::Status& why) {
  class Refused final : public grpc::ServerWriteReactor<Message> {
   public:
    explicit Refused(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
    void OnDone() override { delete this; }
  };
  return new Refused(why);
}

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_STREAM_REACTOR_H_
