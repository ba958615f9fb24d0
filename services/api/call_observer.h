// -----------------------------------------------------------------------------
// File: call_observer.h
// -----------------------------------------------------------------------------
//
// A gRPC server interceptor on every call (our services, health, reflection): the standard gRPC server
// metrics — grpc_server_started_total, grpc_server_handled_total{grpc_code}, grpc_server_handling_seconds —
// and one structured access line per call (method, code, reason code of an error, latency, caller, retailer,
// claim id, request id). It also
// gives each call its request id: the client's `x-request-id` metadata when it sent a sane one, else a random
// one, echoed back in the `x-request-id` trailer.
//
// Labels are grpc_type, grpc_service, grpc_method (and grpc_code): bounded by the methods we serve.
//
// Thread safety: the factory is shared by all calls; each interceptor belongs to one call.
#ifndef TRADEIN_SERVICES_API_CALL_OBSERVER_H_
#define TRADEIN_SERVICES_API_CALL_OBSERVER_H_

#include <array>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics.h"
#include "grpcpp/support/server_interceptor.h"
#include "services/api/call_registry.h"

namespace tradein::api {

class CallObserverFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // REQUIRES: both outlive the factory and every call.
  CallObserverFactory(MetricsRegistry& metrics, CallRegistry& calls) : metrics_(metrics), calls_(calls) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;

  // The metrics of one method, made on its first call.
  struct MethodMetrics {
    std::string method;  // "/tradein.v1.ClaimService/Claim"
    Counter* started = nullptr;
    std::array<Counter*, 17> handled{};  // by grpc::StatusCode
    Histogram* seconds = nullptr;
  };

 private:
  MethodMetrics& MetricsFor(const char* method, grpc::experimental::ServerRpcInfo::Type type);

  MetricsRegistry& metrics_;
  CallRegistry& calls_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<MethodMetrics>> methods_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_CALL_OBSERVER_H_
