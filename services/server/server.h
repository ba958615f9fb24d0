// -----------------------------------------------------------------------------
// File: server.h
// -----------------------------------------------------------------------------
//
// tradein-server's wiring: loads the policies, builds the services, the health state and the gRPC server
// (callback API, reflection, our own grpc.health.v1 service), and drains on shutdown. No business logic here.
//
//   absl::StatusOr<std::unique_ptr<TradeinServer>> server = TradeinServer::Start(options);
//   ... (*server)->Shutdown();  // health NOT_SERVING, in-flight calls finish, bounded by the grace period
//
// Thread safety: Start and Shutdown from one thread; ReloadPolicies from any.
#ifndef TRADEIN_SERVICES_SERVER_SERVER_H_
#define TRADEIN_SERVICES_SERVER_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "grpcpp/server.h"
#include "services/api/claim_service.h"
#include "services/api/health_service.h"
#include "services/api/policy_service.h"
#include "services/api/subsidy_service.h"
#include "services/identity/keyed_hash.h"
#include "services/policy/policy_registry.h"
#include "services/quota/quota_store.h"
#include "services/server/server_options.h"
#include "services/server/sweeper.h"

namespace tradein::server {

class TradeinServer {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TradeinServer>> Start(const ServerOptions& options);
  ~TradeinServer();

  // The address actually bound (the port is resolved when `listen` asked for port 0).
  const std::string& address() const { return address_; }
  const policy::PolicyRegistry& policies() const { return *policies_; }
  const Clock& clock() const { return *clock_; }
  // One line saying which quota store serves claims ("embedded memory store (one process)", "redis …").
  const std::string& store_description() const { return store_description_; }

  // Reloads the policy directory; keeps the current snapshot and returns the problems on failure.
  absl::Status ReloadPolicies();

  // Marks everything NOT_SERVING, stops accepting calls, lets in-flight calls finish for up to the grace
  // period, then cancels the rest. Idempotent.
  void Shutdown();

 private:
  TradeinServer() = default;

  ServerOptions options_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<policy::PolicyRegistry> policies_;
  std::optional<identity::KeyedHasher> hasher_;
  std::unique_ptr<quota::QuotaStore> store_;
  std::string store_description_;
  std::unique_ptr<ExpirySweeper> sweeper_;
  api::HealthState health_;
  std::unique_ptr<api::HealthService> health_service_;
  std::unique_ptr<api::SubsidyService> subsidy_service_;
  std::unique_ptr<api::PolicyService> policy_service_;
  std::unique_ptr<api::ClaimService> claim_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::string address_;
  bool shut_down_ = false;
};

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_SERVER_H_
