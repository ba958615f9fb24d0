// -----------------------------------------------------------------------------
// File: server.h
// -----------------------------------------------------------------------------
//
// tradein-server's wiring, and nothing else: loads the policies and callers, picks the quota store, builds
// the services and the gRPC server (callback API, reflection, our grpc.health.v1, the call observer for
// metrics and access lines, TLS), the side listeners (/metrics, the JSON gateway, a plaintext health-only
// port) and the background loops (expiry sweeper, store health, policy watch). Shutdown drains.
//
//   absl::StatusOr<std::unique_ptr<TradeinServer>> server = TradeinServer::Start(options);
//   ... (*server)->Shutdown();  // health NOT_SERVING, in-flight calls finish, bounded by the grace period
//
// Thread safety: Start and Shutdown from one thread; Reload from any.
#ifndef TRADEIN_SERVICES_SERVER_SERVER_H_
#define TRADEIN_SERVICES_SERVER_SERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "grpcpp/server.h"
#include "services/api/authorize.h"
#include "services/api/call_observer.h"
#include "services/api/claim_events.h"
#include "services/api/claim_service.h"
#include "services/api/health_service.h"
#include "services/api/policy_service.h"
#include "services/api/portal_service.h"
#include "services/api/subsidy_service.h"
#include "services/audit/audit_log.h"
#include "services/auth/access_control.h"
#include "services/gateway/json_gateway.h"
#include "services/http/http_server.h"
#include "services/identity/keyed_hash.h"
#include "services/policy/policy_registry.h"
#include "services/quota/quota_store.h"
#include "services/server/health_monitor.h"
#include "services/server/instance_registry.h"
#include "services/server/policy_watcher.h"
#include "services/server/redis_connection.h"
#include "services/server/reflection_v1.h"
#include "services/server/server_options.h"
#include "services/server/sweeper.h"

namespace tradein::server {

class TradeinServer {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TradeinServer>> Start(const ServerOptions& options);
  ~TradeinServer();

  // The address actually bound (the port resolved when `listen` asked for port 0).
  const std::string& address() const { return address_; }
  const policy::PolicyRegistry& policies() const { return *policies_; }
  const Clock& clock() const { return *clock_; }
  // One line each: the quota store in use, and the listeners.
  const std::string& store_description() const { return store_description_; }
  const std::vector<std::string>& listener_lines() const { return listener_lines_; }
  // The side listeners actually bound, by flag ("metrics_listen" → "127.0.0.1:41234"; ports chosen when the
  // flag asked for :0): for the JSON start line, so a supervisor can find them without the banner.
  const std::vector<std::pair<std::string, std::string>>& bound_listeners() const { return bound_listeners_; }
  // What to say loudly at start (plaintext, no authentication, simulated clock, ...).
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Reloads the policy directory and the callers file as one unit: both are loaded and validated first, and
  // both are swapped in only when both are good. On a problem keeps the current ones, logs it, counts
  // it (tradein_reloads_total{result="failed"}) and returns it.
  absl::Status Reload();

  // Marks everything NOT_SERVING, stops accepting calls, lets in-flight calls finish for up to the grace
  // period, then cancels the rest. Idempotent.
  void Shutdown();

 private:
  TradeinServer() = default;

  v1::ReloadPoliciesResponse DescribePolicies() const;
  InstanceReport DescribeInstance() const;
  // ReloadPolicies' answer after this instance reloaded: this one's versions and every live instance's.
  v1::ReloadPoliciesResponse DescribeReload();
  absl::Status JoinInstances(const ServerOptions& options, redis::KeyedClient& client);
  // Takes the clock of a live instance started with the same --simulated_now (one rehearsal, one clock).
  void AdoptRehearsalClock(absl::Time deadline);
  absl::Status BuildCore(const ServerOptions& options);
  absl::Status BuildStore(const ServerOptions& options);
  absl::Status BuildGrpcServer(const ServerOptions& options);
  absl::Status BuildSideListeners(const ServerOptions& options);
  void AddCollectors();
  void AddRedisCollector();
  void StartBackground(const ServerOptions& options);

  ServerOptions options_;
  MetricsRegistry metrics_;
  std::unique_ptr<Clock> clock_;
  SimulatedClock* simulated_clock_ = nullptr;  // clock_, when --simulated_now set it
  std::unique_ptr<policy::PolicyRegistry> policies_;
  std::optional<identity::KeyedHasher> hasher_;
  std::unique_ptr<quota::QuotaStore> store_;
  std::optional<RedisConnection> redis_;  // its client moved into store_; the stats functions stay
  // With Redis: the instances sharing the ledger (on store_'s client; stopped before store_ goes).
  std::unique_ptr<InstanceRegistry> instances_;
  std::unique_ptr<InstanceHeartbeat> heartbeat_;
  std::string instance_id_;
  std::string store_description_;
  std::unique_ptr<auth::AccessControl> access_;
  api::CallRegistry calls_;
  std::unique_ptr<api::CallGate> gate_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<api::ClaimEvents> events_;
  api::HealthState health_;
  std::unique_ptr<api::HealthService> health_service_;
  std::unique_ptr<api::HealthService> health_only_service_;  // the same state, on --health_listen
  std::unique_ptr<api::SubsidyService> subsidy_service_;
  std::unique_ptr<api::PolicyService> policy_service_;
  std::unique_ptr<api::ClaimService> claim_service_;
  std::unique_ptr<api::PortalService> portal_service_;
  std::unique_ptr<ReflectionV1Service> reflection_v1_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<grpc::Server> health_server_;
  std::unique_ptr<http::HttpServer> metrics_http_;
  std::unique_ptr<gateway::JsonGateway> gateway_;
  std::unique_ptr<http::HttpServer> gateway_http_;
  std::unique_ptr<ExpirySweeper> sweeper_;
  std::unique_ptr<HealthMonitor> health_monitor_;
  std::unique_ptr<PolicyWatcher> policy_watcher_;
  absl::Mutex reload_mu_;
  std::string address_;
  std::vector<std::string> listener_lines_;
  std::vector<std::pair<std::string, std::string>> bound_listeners_;
  std::vector<std::string> warnings_;
  bool shut_down_ = false;
};

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_SERVER_H_
