#include "services/server/server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "services/policy/policy_loader.h"
#include "services/quota/memory_quota_store.h"

namespace tradein::server {
namespace {

using grpc::health::v1::HealthCheckResponse;

constexpr const char* kSubsidyService = "tradein.v1.SubsidyService";
constexpr const char* kPolicyService = "tradein.v1.PolicyService";
constexpr const char* kClaimService = "tradein.v1.ClaimService";

std::unique_ptr<Clock> MakeClock(const ServerOptions& options) {
  if (options.simulated_now.has_value()) return std::make_unique<SimulatedClock>(*options.simulated_now);
  return std::make_unique<SystemClock>();
}

// "127.0.0.1:0" → "127.0.0.1:<port>".
std::string BoundAddress(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  return absl::StrCat(listen.substr(0, colon), ":", port);
}

absl::StatusOr<identity::KeyedHasher> MakeHasher(const ServerOptions& options) {
  if (options.buyer_key_file.empty()) {
    if (!options.redis_url.empty()) {
      return absl::InvalidArgumentError(
          "--buyer_key_file is required with --redis: quota keys must be the same after a restart and on "
          "every "
          "instance (generate one with `openssl rand -hex 32 > buyer.key`)");
    }
    Log(LogLevel::kWarning, "buyer_key_ephemeral",
        {{"detail",
          "no --buyer_key_file: buyer ids are keyed with a random key that dies with the process"}});
    return identity::KeyedHasher::WithRandomKey();
  }
  absl::StatusOr<identity::KeyedHasher> hasher = identity::KeyedHasher::FromKeyFile(options.buyer_key_file);
  if (hasher.ok()) {
    for (const std::string& warning : hasher->warnings())
      Log(LogLevel::kWarning, "buyer_key_file", {{"detail", warning}});
  }
  return hasher;
}

void LogExpired(const quota::ClaimRecord& claim) {
  Log(LogLevel::kInfo, "claim_expired",
      {{"claim_id", claim.claim_id},
       {"retailer_id", claim.retailer_id},
       {"request_id", claim.request_id},
       {"fen", claim.GrantedFen()}});
}

}  // namespace

absl::StatusOr<std::unique_ptr<TradeinServer>> TradeinServer::Start(const ServerOptions& options) {
  std::unique_ptr<TradeinServer> server(new TradeinServer());
  server->options_ = options;
  server->clock_ = MakeClock(options);
  absl::StatusOr<std::shared_ptr<const policy::PolicySnapshot>> snapshot =
      policy::LoadPolicyDirectory(options.policy_dir, server->clock_->Now());
  if (!snapshot.ok()) return snapshot.status();
  server->policies_ = std::make_unique<policy::PolicyRegistry>(*std::move(snapshot), *server->clock_);

  absl::StatusOr<identity::KeyedHasher> hasher = MakeHasher(options);
  if (!hasher.ok()) return hasher.status();
  server->hasher_ = *std::move(hasher);
  server->store_ = std::make_unique<quota::MemoryQuotaStore>();
  server->store_description_ =
      "embedded memory store (one process; use --redis to share quota between instances)";
  server->sweeper_ =
      std::make_unique<ExpirySweeper>(*server->store_, *server->clock_, options.sweep_interval, LogExpired);

  server->health_service_ = std::make_unique<api::HealthService>(server->health_);
  server->subsidy_service_ = std::make_unique<api::SubsidyService>(
      *server->policies_, *server->clock_, *server->hasher_, *server->store_, api::SubsidyService::Options{});
  server->policy_service_ = std::make_unique<api::PolicyService>(*server->policies_);
  server->claim_service_ =
      std::make_unique<api::ClaimService>(*server->policies_, *server->clock_, *server->hasher_,
                                          *server->store_, api::ClaimService::Options{options.store_timeout});

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.RegisterService(server->health_service_.get());
  builder.RegisterService(server->subsidy_service_.get());
  builder.RegisterService(server->policy_service_.get());
  builder.RegisterService(server->claim_service_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  server->address_ = BoundAddress(options.listen, port);
  for (const char* service : {"", kSubsidyService, kPolicyService, kClaimService}) {
    server->health_.Set(service, HealthCheckResponse::SERVING);
  }
  server->sweeper_->Start();
  return server;
}

TradeinServer::~TradeinServer() { Shutdown(); }

absl::Status TradeinServer::ReloadPolicies() {
  absl::Status status = policies_->Reload();
  if (status.ok()) {
    Log(LogLevel::kInfo, "policies_reloaded", {{"snapshot", policies_->Current()->version()}});
  } else {
    Log(LogLevel::kError, "policy_reload_failed", {{"error", status.message()}});
  }
  return status;
}

void TradeinServer::Shutdown() {
  if (shut_down_ || grpc_server_ == nullptr) return;
  shut_down_ = true;
  health_.Shutdown();
  Log(LogLevel::kInfo, "draining", {{"grace_ms", absl::ToInt64Milliseconds(options_.shutdown_grace)}});
  grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
  grpc_server_->Wait();
  sweeper_->Stop();
  Log(LogLevel::kInfo, "stopped");
}

}  // namespace tradein::server
