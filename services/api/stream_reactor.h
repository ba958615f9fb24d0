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
// A Stream derives from StreamCore, which holds what every such stream shares: the reactor it writes to until
// it has finished it, the store, each store call's deadline, and the mutex that guards the stream's state.
//
// RefuseStream answers a call refused before any work starts.
//
// Thread safety: as gRPC's reactors; the Stream synchronises itself (StreamCore::mu_).
#ifndef TRADEIN_SERVICES_API_STREAM_REACTOR_H_
#define TRADEIN_SERVICES_API_STREAM_REACTOR_H_

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"
#include "services/api/grpc_status.h"
#include "services/quota/quota_store.h"

namespace tradein::api {

// The shared part of a stream object: see the file comment.
template <typename Message>
class StreamCore {
 public:
  StreamCore(const StreamCore&) = delete;
  StreamCore& operator=(const StreamCore&) = delete;

  // Ends the stream with `status` unless it has ended already.
  void Finish(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(std::move(status));
  }

 protected:
  // Each store call ends by min(`call_deadline`, its start + `store_timeout`).
  StreamCore(grpc::ServerWriteReactor<Message>& reactor, quota::QuotaStore& store, absl::Time call_deadline,
             absl::Duration store_timeout)
      : store_(store), reactor_(reactor), call_deadline_(call_deadline), store_timeout_(store_timeout) {}
  ~StreamCore() = default;

  // The deadline of a store call that starts now.
  absl::Time StoreDeadline() const { return std::min(call_deadline_, absl::Now() + store_timeout_); }

  // Writes `message`, which must stay unchanged until the reactor's OnWriteDone.
  void StartWriteLocked(const Message* message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    reactor_.StartWrite(message);
  }

  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    reactor_.Finish(std::move(status));
  }

  quota::QuotaStore& store_;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // after it, the reactor may be gone

 private:
  grpc::ServerWriteReactor<Message>& reactor_;  // only until finished_
  const absl::Time call_deadline_;
  const absl::Duration store_timeout_;
};

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
