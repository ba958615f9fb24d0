#include "services/server/health_monitor.h"

#include <memory>

#include "absl/time/clock.h"
#include "common/log.h"

namespace tradein::server {

using grpc::health::v1::HealthCheckResponse;

HealthMonitor::HealthMonitor(quota::QuotaStore& store, api::HealthState& health,
                             std::vector<std::string> services, absl::Duration interval,
                             MetricsRegistry& metrics)
    : store_(store),
      health_(health),
      services_(std::move(services)),
      interval_(interval),
      store_up_(metrics.AddGauge("tradein_quota_store_up",
                                 "1 when the quota store answered its last health script.",
                                 {{"store", std::string(store.kind())}})) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start() {
  CheckOnce();
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(interval_)) CheckOnce();
  });
}

void HealthMonitor::Stop() {
  if (!thread_.joinable()) return;
  if (!stop_.HasBeenNotified()) stop_.Notify();
  thread_.join();
}

void HealthMonitor::CheckOnce() {
  auto done = std::make_shared<absl::Notification>();
  auto up = std::make_shared<bool>(false);
  const absl::Duration timeout = std::min(interval_, absl::Seconds(1));
  store_.Ping(absl::Now() + timeout, [done, up](absl::StatusOr<bool> answer) {
    *up = answer.ok() && *answer;
    done->Notify();
  });
  const bool answered = done->WaitForNotificationWithTimeout(timeout + absl::Milliseconds(200));
  const bool serving = answered && *up;
  if (serving != (store_up_.value() == 1)) {
    Log(serving ? LogLevel::kInfo : LogLevel::kWarning, serving ? "quota_store_up" : "quota_store_down",
        {{"store", std::string(store_.kind())}});
  }
  store_up_.Set(serving ? 1 : 0);
  for (const std::string& service : services_) {
    health_.Set(service, serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
  }
}

}  // namespace tradein::server
