#include "services/server/server.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/civil_date.h"
#include "common/log.h"
#include "common/status.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "services/api/claim_view.h"
#include "services/policy/policy_loader.h"
#include "services/quota/memory_quota_store.h"
#include "services/quota/redis_quota_store.h"
#include "services/server/transport_security.h"

namespace tradein::server {
namespace {

using grpc::health::v1::HealthCheckResponse;

constexpr const char* kSubsidyService = "tradein.v1.SubsidyService";
constexpr const char* kPolicyService = "tradein.v1.PolicyService";
constexpr const char* kClaimService = "tradein.v1.ClaimService";
constexpr const char* kPortalService = "tradein.v1.PortalService";
constexpr absl::Duration kStoreHealthInterval = absl::Seconds(1);
constexpr absl::Duration kPolicyWatchInterval = absl::Seconds(1);
// How long ReloadPolicies waits for the other instances to report they reloaded (they act on their next
// beat).
constexpr absl::Duration kReloadBound = absl::Seconds(5);  // five heartbeats

// "127.0.0.1:0" → "127.0.0.1:<port>".
std::string BoundAddress(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  return absl::StrCat(listen.substr(0, colon), ":", port);
}

// The error a listener that could not be bound stops the start with: names the flag and the address.
absl::Status ListenerError(absl::string_view flag, const std::string& address, absl::string_view why) {
  return absl::UnavailableError(absl::StrCat("--", flag, "=", address, ": cannot listen (", why, ")"));
}

// A gRPC server on `address`, or the listener's error. SO_REUSEPORT is off: gRPC turns it on by default on
// Linux, and then a second server on the same port would start and silently take half of the connections.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    grpc::ServerBuilder& builder, absl::string_view flag, const std::string& address,
    std::shared_ptr<grpc::ServerCredentials> credentials, int& port) {
  builder.AddListeningPort(address, std::move(credentials), &port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return ListenerError(flag, address, "the address is in use, not local or not host:port");
  }
  return server;
}

// An HTTP listener for `flag` (TLS with `tls_cert`/`tls_key`); its errors name the flag.
absl::StatusOr<std::unique_ptr<http::HttpServer>> StartHttpServer(absl::string_view flag,
                                                                  const std::string& address,
                                                                  http::HttpHandler handler,
                                                                  const std::string& tls_cert = "",
                                                                  const std::string& tls_key = "") {
  http::HttpServerOptions options;
  options.listen = address;
  options.tls_cert_file = tls_cert;
  options.tls_key_file = tls_key;
  absl::StatusOr<std::unique_ptr<http::HttpServer>> server =
      http::HttpServer::Start(std::move(options), std::move(handler));
  if (server.ok()) return server;
  if (server.status().code() == absl::StatusCode::kInvalidArgument && !tls_cert.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " TLS: ", server.status().message()));
  }
  return ListenerError(flag, address, server.status().message());
}

absl::StatusOr<identity::KeyedHasher> MakeHasher(const ServerOptions& options) {
  if (options.buyer_key_file.empty()) {
    if (!options.redis_url.empty() || !options.redis_cluster.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--buyer_key_file is required with ", options.redis_url.empty() ? "--redis_cluster" : "--redis",
          ": quota keys must be the same after a restart and on every instance (generate one with `openssl "
          "rand -hex 32 > buyer.key`)"));
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

// The ledger's key prefix: "tq:" or, with --redis_key_prefix=NAME, "tq:NAME:" (the ACL grant is tq:*).
std::string LedgerKeyPrefix(const ServerOptions& options) {
  return options.redis_key_prefix.empty() ? "tq:" : absl::StrCat("tq:", options.redis_key_prefix, ":");
}

std::string Hostname() {
  char name[256] = {};
  return gethostname(name, sizeof(name) - 1) == 0 ? std::string(name) : std::string("unknown-host");
}

absl::StatusOr<std::shared_ptr<const auth::CallersTable>> LoadCallers(const std::string& path) {
  if (path.empty()) return std::shared_ptr<const auth::CallersTable>();
  return auth::CallersTable::Load(path);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TradeinServer>> TradeinServer::Start(const ServerOptions& options) {
  std::unique_ptr<TradeinServer> server(new TradeinServer());
  server->options_ = options;
  TRADEIN_RETURN_IF_ERROR(server->BuildCore(options));
  TRADEIN_RETURN_IF_ERROR(server->BuildStore(options));
  TRADEIN_RETURN_IF_ERROR(server->BuildGrpcServer(options));
  TRADEIN_RETURN_IF_ERROR(server->BuildSideListeners(options));
  server->AddCollectors();
  server->StartBackground(options);
  // Ready only now that every listener is bound (the store-backed services follow the health monitor).
  for (const char* service : {"", kSubsidyService, kPolicyService}) {
    server->health_.Set(service, HealthCheckResponse::SERVING);
  }
  return server;
}

absl::Status TradeinServer::BuildCore(const ServerOptions& options) {
  TRADEIN_ASSIGN_OR_RETURN(warnings_, CheckExposure(options));
  if (options.simulated_now.has_value()) {
    auto simulated = std::make_unique<SimulatedClock>(*options.simulated_now);
    simulated_clock_ = simulated.get();
    clock_ = std::move(simulated);
  } else {
    clock_ = std::make_unique<SystemClock>();
  }
  if (clock_->IsSimulated()) {
    warnings_.push_back(absl::StrCat("SIMULATED CLOCK: now is ", absl::FormatTime(clock_->Now())));
  }
  TRADEIN_ASSIGN_OR_RETURN(std::shared_ptr<const policy::PolicySnapshot> snapshot,
                           policy::LoadPolicyDirectory(options.policy_dir, clock_->Now()));
  policies_ = std::make_unique<policy::PolicyRegistry>(std::move(snapshot), *clock_);
  TRADEIN_ASSIGN_OR_RETURN(hasher_, MakeHasher(options));
  TRADEIN_ASSIGN_OR_RETURN(std::shared_ptr<const auth::CallersTable> callers,
                           LoadCallers(options.callers_file));
  access_ = std::make_unique<auth::AccessControl>(std::move(callers));
  if (!options.audit_log.empty()) {
    TRADEIN_ASSIGN_OR_RETURN(audit_, audit::AuditLog::Open(options.audit_log));
  }
  events_ = std::make_unique<api::ClaimEvents>(metrics_, audit_.get(), *clock_);
  return absl::OkStatus();
}

absl::Status TradeinServer::BuildStore(const ServerOptions& options) {
  if (!options.redis_url.empty() || !options.redis_cluster.empty()) {
    TRADEIN_ASSIGN_OR_RETURN(RedisConnection redis, ConnectRedis(options));
    quota::RedisQuotaStoreOptions store_options;
    store_options.write_concern = redis.write_concern;
    store_options.key_prefix = LedgerKeyPrefix(options);
    redis::KeyedClient& client = *redis.client;
    store_options.legacy_retailer_index = options.redis_legacy_retailer_index;
    store_options.budget_shards = options.redis_budget_shards;
    store_ = std::make_unique<quota::RedisQuotaStore>(std::move(redis.client), std::move(store_options));
    store_description_ = absl::StrCat(
        redis.description,
        options.redis_key_prefix.empty() ? "" : absl::StrCat(", keys ", LedgerKeyPrefix(options), "*"));
    redis_ = std::move(redis);
    return JoinInstances(options, client);
  }
  store_ = std::make_unique<quota::MemoryQuotaStore>();
  store_description_ = "embedded memory store (one process; use --redis to share quota between instances)";
  return absl::OkStatus();
}

absl::Status TradeinServer::JoinInstances(const ServerOptions& options, redis::KeyedClient& client) {
  instance_id_ = absl::StrCat(Hostname(), ":", options.listen, ":", getpid());
  instances_ = std::make_unique<InstanceRegistry>(client, quota::RedisQuotaKeys(LedgerKeyPrefix(options)));
  heartbeat_ = std::make_unique<InstanceHeartbeat>(
      *instances_, [this] { return DescribeInstance(); }, [this] { (void)Reload(); });
  const absl::Time deadline = absl::Now() + options.store_timeout;
  if (simulated_clock_ != nullptr) AdoptRehearsalClock(deadline);
  const absl::Status joined = heartbeat_->Join(deadline);
  if (joined.ok() || joined.code() == absl::StatusCode::kFailedPrecondition) return joined;
  // Redis not reachable (a start that --redis_min_replicas allowed without it): checked when it answers.
  Log(LogLevel::kWarning, "instance_check_deferred", {{"error", joined.message()}});
  return absl::OkStatus();
}

void TradeinServer::AdoptRehearsalClock(absl::Time deadline) {
  absl::StatusOr<Heartbeat> live = instances_->Read(deadline);
  if (!live.ok()) return;  // Join will say
  const int64_t from_ms = absl::ToUnixMillis(simulated_clock_->start());
  for (const InstanceReport& other : live->live) {
    if (other.simulated_from_ms != from_ms) continue;
    simulated_clock_->AdoptOffset(absl::Milliseconds(other.clock_offset_ms));
    Log(LogLevel::kInfo, "clock_adopted",
        {{"from_instance", other.id},
         {"now", absl::FormatTime(absl::RFC3339_sec, clock_->Now(), ChinaTimeZone())}});
    return;
  }
}

InstanceReport TradeinServer::DescribeInstance() const {
  InstanceReport report;
  report.id = instance_id_;
  report.address = address_.empty() ? options_.listen : address_;
  report.clock_offset_ms = absl::ToInt64Milliseconds(clock_->Now() - absl::Now());
  if (simulated_clock_ != nullptr) report.simulated_from_ms = absl::ToUnixMillis(simulated_clock_->start());
  const v1::ReloadPoliciesResponse policies = DescribePolicies();
  report.policy_snapshot = policies.snapshot_version();
  report.policies.assign(policies.policy_versions().begin(), policies.policy_versions().end());
  return report;
}

absl::Status TradeinServer::BuildGrpcServer(const ServerOptions& options) {
  health_service_ = std::make_unique<api::HealthService>(health_);
  gate_ = std::make_unique<api::CallGate>(api::CallGate{*access_, calls_});
  subsidy_service_ = std::make_unique<api::SubsidyService>(*policies_, *clock_, *hasher_, *store_, *gate_,
                                                           *events_, api::SubsidyService::Options{});
  policy_service_ = std::make_unique<api::PolicyService>(*policies_, *gate_);
  claim_service_ =
      std::make_unique<api::ClaimService>(*policies_, *clock_, *hasher_, *store_, *gate_, *events_,
                                          api::ClaimService::Options{options.store_timeout});
  portal_service_ = std::make_unique<api::PortalService>(
      *clock_, *hasher_, *store_, *gate_, *events_,
      api::PortalService::Options{options.store_timeout, [this] { return Reload(); },
                                  [this] { return DescribeReload(); },
                                  [this] { return policies_->Current(); }});
  TRADEIN_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                           MainPortCredentials(options));

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<api::CallObserverFactory>(metrics_, calls_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(health_service_.get());
  builder.RegisterService(subsidy_service_.get());
  builder.RegisterService(policy_service_.get());
  builder.RegisterService(claim_service_.get());
  builder.RegisterService(portal_service_.get());
  reflection_v1_ = std::make_unique<ReflectionV1Service>();
  builder.RegisterService(reflection_v1_.get());
  int port = 0;
  TRADEIN_ASSIGN_OR_RETURN(grpc_server_,
                           StartGrpcServer(builder, "listen", options.listen, std::move(credentials), port));
  reflection_v1_->Connect(grpc_server_->InProcessChannel(grpc::ChannelArguments()));
  address_ = BoundAddress(options.listen, port);
  listener_lines_.push_back(
      absl::StrCat("gRPC on ", address_, options.tls_cert.empty() ? " (plaintext)" : " (TLS)",
                   options.tls_client_ca.empty() ? "" : ", client certificates verified"));
  return absl::OkStatus();
}

absl::Status TradeinServer::BuildSideListeners(const ServerOptions& options) {
  if (!options.health_listen.empty()) {
    grpc::ServerBuilder builder;
    health_only_service_ = std::make_unique<api::HealthService>(health_);
    builder.RegisterService(health_only_service_.get());
    int port = 0;
    TRADEIN_ASSIGN_OR_RETURN(health_server_, StartGrpcServer(builder, "health_listen", options.health_listen,
                                                             grpc::InsecureServerCredentials(), port));
    bound_listeners_.emplace_back("health_listen", BoundAddress(options.health_listen, port));
    listener_lines_.push_back(
        absl::StrCat("health only on ", bound_listeners_.back().second, " (plaintext)"));
  }
  if (!options.http_listen.empty()) {
    std::unique_ptr<gateway::Console> console;
    if (options.console) {
      TRADEIN_ASSIGN_OR_RETURN(console,
                               gateway::Console::Create({.session_lifetime = options.console_session_lifetime,
                                                         .tls = !options.http_tls_cert.empty()},
                                                        [this] { return access_->callers(); }));
    }
    TRADEIN_ASSIGN_OR_RETURN(
        gateway_,
        gateway::JsonGateway::Create(grpc_server_->InProcessChannel(grpc::ChannelArguments()),
                                     gateway::GatewayOptions{options.http_cors_origins}, std::move(console)));
    TRADEIN_ASSIGN_OR_RETURN(gateway_http_, StartHttpServer(
                                                "http_listen", options.http_listen,
                                                [this](http::HttpRequest request, http::Respond respond) {
                                                  gateway_->Handle(std::move(request), std::move(respond));
                                                },
                                                options.http_tls_cert, options.http_tls_key));
    bound_listeners_.emplace_back("http_listen", gateway_http_->address());
    listener_lines_.push_back(absl::StrCat(
        "JSON gateway on ", options.http_tls_cert.empty() ? "http" : "https", "://", gateway_http_->address(),
        "/v1/... (/v1/openapi.json)", options.console ? ", console at /console/" : ""));
  }
  if (!options.metrics_listen.empty()) {
    TRADEIN_ASSIGN_OR_RETURN(
        metrics_http_,
        StartHttpServer(
            "metrics_listen", options.metrics_listen,
            [this](http::HttpRequest request, http::Respond respond) {
              if (request.path != "/metrics") {
                std::move(respond)({404, "text/plain", "not found\n", {}});
                return;
              }
              std::move(respond)({200, "text/plain; version=0.0.4; charset=utf-8", metrics_.Render(), {}});
            }));
    bound_listeners_.emplace_back("metrics_listen", metrics_http_->address());
    listener_lines_.push_back(absl::StrCat("metrics on http://", metrics_http_->address(), "/metrics"));
  }
  return absl::OkStatus();
}

void TradeinServer::AddCollectors() {
  metrics_.AddCollector([this](MetricsWriter& writer) {
    const std::shared_ptr<const policy::PolicySnapshot> snapshot = policies_->Current();
    for (const auto& policy : snapshot->policies()) {
      writer.Gauge("tradein_policy_info", "Loaded policies (value 1), with their content version.",
                   {{"policy_id", policy->id()},
                    {"version", policy->version()},
                    {"region", policy->region_code()},
                    {"snapshot", snapshot->version()}},
                   1);
    }
    writer.Gauge("tradein_clock_simulated", "1 when --simulated_now set the server's clock.", {},
                 clock_->IsSimulated() ? 1 : 0);
  });
  if (redis_.has_value()) AddRedisCollector();
}

void TradeinServer::AddRedisCollector() {
  metrics_.AddCollector([redis = &*redis_](MetricsWriter& writer) {
    const redis::RedisClientStats stats = redis->stats();
    writer.Counter("tradein_redis_commands_total", "Commands sent to Redis.", {},
                   static_cast<double>(stats.commands_sent));
    writer.Counter("tradein_redis_replies_total", "Replies received from Redis.", {},
                   static_cast<double>(stats.replies));
    for (const auto& [kind, value] :
         std::initializer_list<std::pair<const char*, uint64_t>>{{"timeout", stats.timeouts},
                                                                 {"unavailable", stats.unavailable},
                                                                 {"retryable_error", stats.retryable_errors},
                                                                 {"server_error", stats.server_errors},
                                                                 {"connect_failure", stats.connect_failures},
                                                                 {"disconnect", stats.disconnects},
                                                                 {"replicas_short", stats.waits_short}}) {
      writer.Counter("tradein_redis_errors_total", "Redis failures, by kind.", {{"kind", kind}},
                     static_cast<double>(value));
    }
    writer.Counter("tradein_redis_script_loads_total", "Lua scripts (re)loaded after NOSCRIPT.", {},
                   static_cast<double>(stats.script_loads));
    writer.Counter("tradein_redis_roundtrip_seconds_total", "Total time spent in Redis round trips.", {},
                   static_cast<double>(stats.latency_micros_sum) / 1e6);
    writer.Counter("tradein_redis_roundtrips_total",
                   "Redis round trips timed (divide the seconds by it for the mean).", {},
                   static_cast<double>(stats.latency_count));
    writer.Counter("tradein_redis_waits_total", "WAITs sent after durable writes (one per group of writes).",
                   {}, static_cast<double>(stats.waits));
    writer.Gauge("tradein_redis_connected",
                 "1 while Redis can be reached (a cluster: every master has a connection up).", {},
                 redis->connected() ? 1 : 0);
    if (!redis->cluster_stats) return;
    const redis::ClusterClientStats cluster = redis->cluster_stats();
    for (const auto& [kind, value] :
         std::initializer_list<std::pair<const char*, int64_t>>{{"moved", cluster.moved},
                                                                {"ask", cluster.ask},
                                                                {"tryagain", cluster.tryagain},
                                                                {"clusterdown", cluster.clusterdown},
                                                                {"unreachable", cluster.unreachable}}) {
      writer.Counter("tradein_redis_cluster_redirects_total",
                     "Redis Cluster replies and conditions that made a call go elsewhere or wait, by kind.",
                     {{"kind", kind}}, static_cast<double>(value));
    }
    writer.Counter("tradein_redis_cluster_slot_map_refreshes_total", "Slot maps read (CLUSTER SLOTS).", {},
                   static_cast<double>(cluster.refreshes));
  });
}

void TradeinServer::StartBackground(const ServerOptions& options) {
  sweeper_ = std::make_unique<ExpirySweeper>(*store_, *clock_, options.sweep_interval,
                                             [this](const quota::ClaimRecord& record) {
                                               v1::Claim claim;
                                               if (api::ViewClaim(record, claim).ok())
                                                 events_->Expired(claim);
                                             });
  sweeper_->Start();
  if (heartbeat_ != nullptr) heartbeat_->Start();
  health_monitor_ = std::make_unique<HealthMonitor>(*store_, health_,
                                                    std::vector<std::string>{kClaimService, kPortalService},
                                                    kStoreHealthInterval, metrics_);
  health_monitor_->Start();
  if (options.policy_watch) {
    policy_watcher_ = std::make_unique<PolicyWatcher>(options.policy_dir, kPolicyWatchInterval, [this] {
      (void)Reload();  // logged and counted either way
    });
    policy_watcher_->Start();
  }
}

TradeinServer::~TradeinServer() { Shutdown(); }

v1::ReloadPoliciesResponse TradeinServer::DescribePolicies() const {
  v1::ReloadPoliciesResponse out;
  const std::shared_ptr<const policy::PolicySnapshot> snapshot = policies_->Current();
  out.set_snapshot_version(snapshot->version());
  for (const auto& policy : snapshot->policies())
    out.add_policy_versions(absl::StrCat(policy->id(), "=", policy->version()));
  if (const std::shared_ptr<const auth::CallersTable> callers = access_->callers(); callers != nullptr) {
    out.set_callers_file(callers->source());
    out.set_callers(static_cast<int32_t>(callers->callers().size()));
  }
  return out;
}

v1::ReloadPoliciesResponse TradeinServer::DescribeReload() {
  v1::ReloadPoliciesResponse out = DescribePolicies();
  if (heartbeat_ == nullptr) return out;
  // Blocks this (admin, rare) call's thread for at most the bound: the other instances act on their next
  // beat.
  absl::StatusOr<std::vector<InstanceHeartbeat::ReloadReport>> reports = heartbeat_->ReloadAll(kReloadBound);
  if (!reports.ok()) {
    Log(LogLevel::kWarning, "reload_not_propagated", {{"error", reports.status().message()}});
    out.add_not_reported(
        "(the instance registry in Redis could not be reached: only this instance reloaded)");
    return out;
  }
  for (const InstanceHeartbeat::ReloadReport& report : *reports) {
    v1::InstancePolicies* instance = out.add_instances();
    instance->set_instance_id(report.instance.id);
    instance->set_address(report.instance.address);
    instance->set_snapshot_version(report.instance.policy_snapshot);
    for (const std::string& version : report.instance.policies) instance->add_policy_versions(version);
    instance->set_reloaded(report.reloaded);
    if (!report.reloaded) out.add_not_reported(report.instance.id);
  }
  Log(LogLevel::kInfo, "reload_propagated",
      {{"instances", static_cast<int64_t>(out.instances_size())},
       {"not_reported", static_cast<int64_t>(out.not_reported_size())}});
  return out;
}

absl::Status TradeinServer::Reload() {
  absl::MutexLock lock(&reload_mu_);
  // All or nothing: both are loaded and validated before either is swapped in.
  absl::StatusOr<std::shared_ptr<const policy::PolicySnapshot>> snapshot =
      policy::LoadPolicyDirectory(policies_->Current()->directory(), clock_->Now());
  absl::StatusOr<std::shared_ptr<const auth::CallersTable>> callers = LoadCallers(options_.callers_file);
  absl::Status status = snapshot.status();
  if (status.ok()) status = callers.status();
  if (status.ok()) {
    policies_->Replace(*std::move(snapshot));
    if (*callers != nullptr) access_->ReplaceCallers(*std::move(callers));
  }
  const bool ok = status.ok();
  metrics_
      .AddCounter("tradein_reloads_total", "Policy and callers reloads, by result.",
                  {{"result", ok ? "ok" : "failed"}})
      .Increment();
  if (ok) {
    const v1::ReloadPoliciesResponse now = DescribePolicies();
    Log(LogLevel::kInfo, "reloaded",
        {{"policy_snapshot", now.snapshot_version()},
         {"policies", absl::StrCat(now.policy_versions_size())},
         {"policy_dir", policies_->Current()->directory()},
         {"callers_file",
          options_.callers_file.empty() ? "(none: authentication off)" : options_.callers_file},
         {"callers", absl::StrCat(now.callers())}});
  } else {
    Log(LogLevel::kError, "reload_failed",
        {{"error", status.message()}, {"kept_snapshot", policies_->Current()->version()}});
  }
  return status;
}

void TradeinServer::Shutdown() {
  if (shut_down_ || grpc_server_ == nullptr) return;
  shut_down_ = true;
  health_.Shutdown();
  Log(LogLevel::kInfo, "draining", {{"grace_ms", absl::ToInt64Milliseconds(options_.shutdown_grace)}});
  if (policy_watcher_ != nullptr) policy_watcher_->Stop();
  grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
  grpc_server_->Wait();
  if (health_server_ != nullptr) {
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
  }
  // A start that failed half-way has no background loops yet.
  if (health_monitor_ != nullptr) health_monitor_->Stop();
  if (sweeper_ != nullptr) sweeper_->Stop();
  if (heartbeat_ != nullptr) heartbeat_->Stop();
  gateway_http_.reset();
  metrics_http_.reset();
  Log(LogLevel::kInfo, "stopped");
  FlushLogs();
}

}  // namespace tradein::server
