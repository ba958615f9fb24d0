// -----------------------------------------------------------------------------
// File: health_service.h
// -----------------------------------------------------------------------------
//
// grpc.health.v1.Health, per service, with Watch. HealthState holds the serving status of "" (the server as a
// whole) and of each tradein.v1 service; HealthService serves it over gRPC (callback API), on the main port
// and, when mTLS is on, on a plaintext health-only port (both read the same HealthState).
//
// The stock C++ health service would do, but it is not described by reflection unless health.proto is
// compiled in, and it cannot be shared between two servers; this one is the generated service, so grpcurl
// can call grpc.health.v1.Health/Check with no proto files at hand.
//
// Thread safety: every method of both classes may be called from any thread.
#ifndef TRADEIN_SERVICES_API_HEALTH_SERVICE_H_
#define TRADEIN_SERVICES_API_HEALTH_SERVICE_H_

#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace tradein::api {

class HealthState {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;
  using Listener = std::function<void(ServingStatus)>;

  void Set(const std::string& service, ServingStatus status);
  // Every known service NOT_SERVING, for good (used when draining on SIGTERM).
  void Shutdown();
  // SERVICE_UNKNOWN for a service never Set().
  ServingStatus Get(const std::string& service) const;

  // Calls `listener` with the current status now and after every change of `service`, until RemoveListener.
  // The listener runs under this object's lock: it must be quick and must not call back into HealthState.
  int AddListener(const std::string& service, Listener listener);
  void RemoveListener(int id);

 private:
  struct Watch {
    std::string service;
    Listener listener;
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ServingStatus> statuses_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int, Watch> watches_ ABSL_GUARDED_BY(mu_);
  int next_watch_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  explicit HealthService(HealthState& state) : state_(state) {}

  // NOT_FOUND for a service never registered, per the health checking protocol.
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;
  // Streams the current status, then every change, until the client cancels or the server shuts down.
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context, const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  HealthState& state_;
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_HEALTH_SERVICE_H_
