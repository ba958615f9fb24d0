// -----------------------------------------------------------------------------
// File: health_monitor.h
// -----------------------------------------------------------------------------
//
// Keeps the health of the services that need the quota store (ClaimService, PortalService) honest: every
// `interval` it runs a real script call through the store (QuotaStore::Ping) and sets them SERVING when it
// answers in time, NOT_SERVING otherwise — and back to SERVING by itself when Redis recovers. Quote works
// without Redis, so SubsidyService and "" are not touched: a Redis outage must not pull every instance out of
// the load balancer.
//
// Thread safety: Start/Stop from one thread; it owns one thread that may block (not a gRPC thread).
#ifndef TRADEIN_SERVICES_SERVER_HEALTH_MONITOR_H_
#define TRADEIN_SERVICES_SERVER_HEALTH_MONITOR_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "services/api/health_service.h"
#include "services/quota/quota_store.h"

namespace tradein::server {

class HealthMonitor {
 public:
  // `services` are the health names that need the store (ClaimService, PortalService).
  HealthMonitor(quota::QuotaStore& store, api::HealthState& health, std::vector<std::string> services,
                absl::Duration interval, MetricsRegistry& metrics);
  ~HealthMonitor();  // stops

  // Checks once now (so the first status is known before the server starts serving), then every interval.
  void Start();
  void Stop();

 private:
  void CheckOnce();

  quota::QuotaStore& store_;
  api::HealthState& health_;
  const std::vector<std::string> services_;
  const absl::Duration interval_;
  Gauge& store_up_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_HEALTH_MONITOR_H_
