#include "services/server/flags.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port for gRPC. Plaintext and unauthenticated only on loopback (see --allow_insecure).");
ABSL_FLAG(std::string, policy_dir, TRADEIN_DEFAULT_POLICY_DIR, "Directory of policy files (*.textproto).");
ABSL_FLAG(
    std::string, simulated_now, "",
    "RFC 3339 instant the server's clock starts at, e.g. 2025-06-01T10:00:00+08:00 (rehearsals, tests).");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM/SIGINT: how long in-flight calls may run before they are cancelled.");
ABSL_FLAG(std::string, redis, "",
          "Quota store: redis://[[user]:password@]host:port[/db]. Empty: the embedded in-memory store (one "
          "process).");
ABSL_FLAG(
    std::string, redis_cluster, "",
    "Quota store on a Redis Cluster: seed nodes HOST:PORT[,HOST:PORT...] (any nodes of the cluster; the "
    "rest is discovered). Exclusive with --redis.");
ABSL_FLAG(std::string, redis_user, "",
          "ACL user for --redis or --redis_cluster (with --redis it may also be given in the URL).");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the Redis password (for --redis or --redis_cluster), so no secret sits on a command "
          "line; surrounding whitespace is ignored.");
ABSL_FLAG(int, redis_min_replicas, -1,
          "Replicas that must acknowledge every state change (WAIT) before it is answered. -1: discovered at "
          "start: 1 when the Redis master(s) have replicas, 0 when none.");
ABSL_FLAG(std::string, redis_key_prefix, "",
          "A name that keeps this instance's ledger apart from others on the same Redis: every key becomes "
          "tq:NAME:... (letters, digits, '.', '_', '-'; at most 32). Empty: tq:... . Instances whose clocks "
          "differ (--simulated_now) must not share a ledger: give each its own prefix, or another Redis.");
ABSL_FLAG(bool, redis_legacy_retailer_index, true,
          "Also write each claim to its retailer's unsharded day index, the layout instances before the 2026-12 "
          "ledger read. Keep it on while a rolling deploy mixes versions; turn it off once every instance "
          "runs this one (this version reads both).");
ABSL_FLAG(
    int, redis_budget_shards, 1,
    "Spread each programme budget over this many Redis slots (1-64), so that on a Redis Cluster one "
    "budget is not one master's work: a claim allocates on its shard, which leases from the budget. 1: on "
    "the budget itself. Instances with different settings may share a ledger (docs/quota-ledger.md, "
    "\"Budgets at scale\").");
ABSL_FLAG(
    std::string, buyer_key_file, "",
    "File with the secret (>= 32 bytes, e.g. `openssl rand -hex 32`) buyer ids are keyed with. Required "
    "with --redis; without it the memory store uses a random key that dies with the process.");
ABSL_FLAG(absl::Duration, store_timeout, absl::Seconds(2),
          "Longest a call waits for the quota store, whatever the caller's deadline (then UNAVAILABLE).");
ABSL_FLAG(absl::Duration, sweep_interval, absl::Milliseconds(500),
          "How often holds past their time are expired and interrupted reconciliations finished.");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "host:port of the Prometheus /metrics endpoint; empty: off.");
ABSL_FLAG(std::string, http_listen, "", "host:port of the JSON gateway (POST /v1/quote, ...); empty: off.");
ABSL_FLAG(
    std::vector<std::string>, http_cors_origins, {},
    "Comma-separated origins browsers may call the JSON gateway from (CORS), exactly as a browser sends "
    "Origin (https://portal.example.cn), or *; empty: no CORS headers.");
ABSL_FLAG(std::string, http_tls_cert, "",
          "PEM certificate (chain) of the JSON gateway's port: HTTPS (with --http_tls_key).");
ABSL_FLAG(std::string, http_tls_key, "", "PEM private key of the JSON gateway's port.");
ABSL_FLAG(bool, console, true,
          "Serve the read-only settlement console at /console/ on the JSON gateway (portal and admin keys).");
ABSL_FLAG(absl::Duration, console_session_lifetime, absl::Hours(8),
          "How long a console login lasts (fixed from login; then log in again).");
ABSL_FLAG(
    std::string, health_listen, "",
    "host:port of a plaintext gRPC port serving only grpc.health.v1 (for Kubernetes probes when the main "
    "port needs client certificates); empty: off.");
ABSL_FLAG(
    std::string, callers_file, "",
    "tradein.v1.CallersFile of callers, roles, API key hashes and mTLS identities (reloaded on SIGHUP). "
    "Empty: no authentication, allowed on loopback only unless --allow_insecure.");
ABSL_FLAG(std::string, audit_log, "",
          "Audit trail: one JSON line per state change of claim money (file, or - for stdout).");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the main gRPC port (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the main gRPC port.");
ABSL_FLAG(
    std::string, tls_client_ca, "",
    "PEM CA bundle: client certificates are requested, verified against it, and identify callers (mTLS).");
ABSL_FLAG(bool, allow_insecure, false,
          "Allow plaintext (no TLS) or unauthenticated (no callers file) service on a non-loopback address.");
ABSL_FLAG(bool, policy_watch, false,
          "Reload the policy directory when a file in it changes (as SIGHUP does).");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error.");
ABSL_FLAG(std::string, log_file, "", "Append JSON log lines here instead of stderr.");

namespace tradein::server {
namespace {

constexpr absl::string_view kEnvPrefix = "TRADEIN_";

// Sets each flag defined in this file from its TRADEIN_* variable, if present.
absl::Status ApplyEnvironment() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!absl::StrContains(flag->Filename(), "services/server/")) continue;
    const std::string variable = absl::StrCat(kEnvPrefix, absl::AsciiStrToUpper(name));
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(variable, ": ", error));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerOptions> ParseServerFlags(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "prices trade-in subsidies (消费品以旧换新) and keeps each buyer's quota.\n"
      "Every flag can also be set as TRADEIN_<FLAG> in the environment (the command line wins).\n"
      "Usage: tradein-server [--listen=127.0.0.1:50051] [--policy_dir=DIR] [--redis=redis://HOST:PORT] ...");
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "services/server/");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] { return std::string("tradein-server (tradein.v1)\n"); };
  absl::SetFlagsUsageConfig(usage);
  if (absl::Status status = ApplyEnvironment(); !status.ok()) return status;
  absl::ParseCommandLine(argc, argv);

  ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.policy_dir = absl::GetFlag(FLAGS_policy_dir);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.log_level = absl::GetFlag(FLAGS_log_level);
  options.log_file = absl::GetFlag(FLAGS_log_file);
  options.redis_url = absl::GetFlag(FLAGS_redis);
  options.redis_cluster = absl::GetFlag(FLAGS_redis_cluster);
  options.redis_user = absl::GetFlag(FLAGS_redis_user);
  options.redis_password_file = absl::GetFlag(FLAGS_redis_password_file);
  options.redis_min_replicas = absl::GetFlag(FLAGS_redis_min_replicas);
  options.redis_legacy_retailer_index = absl::GetFlag(FLAGS_redis_legacy_retailer_index);
  options.redis_budget_shards = absl::GetFlag(FLAGS_redis_budget_shards);
  if (!options.redis_url.empty() && !options.redis_cluster.empty()) {
    return absl::InvalidArgumentError(
        "--redis and --redis_cluster are exclusive: give --redis for one Redis server, --redis_cluster for "
        "the seed nodes of a Redis Cluster");
  }
  options.redis_key_prefix = absl::GetFlag(FLAGS_redis_key_prefix);
  if (options.redis_key_prefix.size() > 32 ||
      !std::all_of(options.redis_key_prefix.begin(), options.redis_key_prefix.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      })) {
    return absl::InvalidArgumentError(
        "--redis_key_prefix: at most 32 letters, digits, '.', '_' or '-' (no ':' or braces: keys keep their "
        "Redis Cluster hash tags)");
  }
  if (options.redis_min_replicas < -1) {
    return absl::InvalidArgumentError("--redis_min_replicas must be -1 (discover) or at least 0");
  }
  if (options.redis_budget_shards < 1 || options.redis_budget_shards > 64) {
    return absl::InvalidArgumentError("--redis_budget_shards must be 1 to 64");
  }
  options.buyer_key_file = absl::GetFlag(FLAGS_buyer_key_file);
  options.store_timeout = absl::GetFlag(FLAGS_store_timeout);
  options.sweep_interval = absl::GetFlag(FLAGS_sweep_interval);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.http_listen = absl::GetFlag(FLAGS_http_listen);
  options.http_cors_origins = absl::GetFlag(FLAGS_http_cors_origins);
  options.http_tls_cert = absl::GetFlag(FLAGS_http_tls_cert);
  options.http_tls_key = absl::GetFlag(FLAGS_http_tls_key);
  options.console = absl::GetFlag(FLAGS_console);
  options.console_session_lifetime = absl::GetFlag(FLAGS_console_session_lifetime);
  if (options.console_session_lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--console_session_lifetime must be positive");
  }
  options.health_listen = absl::GetFlag(FLAGS_health_listen);
  options.callers_file = absl::GetFlag(FLAGS_callers_file);
  options.audit_log = absl::GetFlag(FLAGS_audit_log);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  options.allow_insecure = absl::GetFlag(FLAGS_allow_insecure);
  options.policy_watch = absl::GetFlag(FLAGS_policy_watch);
  const std::string simulated_now = absl::GetFlag(FLAGS_simulated_now);
  if (!simulated_now.empty()) {
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, simulated_now, &t, &error)) {
      return absl::InvalidArgumentError(absl::StrCat("--simulated_now: ", error));
    }
    options.simulated_now = t;
  }
  return options;
}

}  // namespace tradein::server
