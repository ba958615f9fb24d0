// -----------------------------------------------------------------------------
// File: server_options.h
// -----------------------------------------------------------------------------
//
// Everything tradein-server can be told at start, as one value. flags.cc fills it from the command line and
// TRADEIN_* environment variables; tests fill it directly.
#ifndef TRADEIN_SERVICES_SERVER_SERVER_OPTIONS_H_
#define TRADEIN_SERVICES_SERVER_SERVER_OPTIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace tradein::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  std::string policy_dir;
  // Fixes "now" (a clock that starts there and runs): launch-day rehearsals and tests of past programmes.
  std::optional<absl::Time> simulated_now;
  absl::Duration shutdown_grace = absl::Seconds(10);
  std::string log_level = "info";
  std::string log_file;  // "" = stderr
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // The quota store: "" = the embedded memory store (one process), else
  // redis://[[user]:password@]host:port[/db].
  std::string redis_url;
  // Or a Redis Cluster: its seed nodes, "host:port[,host:port...]" (exclusive with redis_url).
  std::string redis_cluster;
  // Credentials for either: an ACL user and a file holding the password (with redis_url they may instead be
  // in the URL, not both).
  std::string redis_user;
  std::string redis_password_file;
  // Replicas that must acknowledge each state change before it is answered; -1: discovered at start (1 when
  // the master(s) have replicas, else 0).
  int redis_min_replicas = -1;
  // Keeps this ledger apart from others on the same Redis: keys "tq:<prefix>:..." ("" = "tq:...").
  std::string redis_key_prefix;
  // Also write the retailer day index of the layout before 2026-12 (docs/quota-ledger.md, "Rolling deploy").
  bool redis_legacy_retailer_index = true;
  // Slots each programme budget is spread over (docs/quota-ledger.md, "Budgets at scale"); 1: none.
  int redis_budget_shards = 1;
  // The secret buyer ids are keyed with (≥ 32 bytes). Required with Redis: quota keys must survive restarts.
  std::string buyer_key_file;
  absl::Duration store_timeout = absl::Seconds(2);
  absl::Duration sweep_interval = absl::Milliseconds(500);

  // Prometheus text at http://<metrics_listen>/metrics; "" = off.
  std::string metrics_listen = "127.0.0.1:9464";
  // JSON over HTTP for every public RPC (POST /v1/quote, ...); "" = off.
  std::string http_listen;
  // Origins browsers may call the JSON gateway from (CORS; exact "https://host[:port]", or "*"); none: no
  // CORS headers.
  std::vector<std::string> http_cors_origins;
  // TLS on the JSON gateway's port (PEM files, both or neither).
  std::string http_tls_cert;
  std::string http_tls_key;
  // The settlement console at /console/ on the JSON gateway (services/gateway/console.h), and how long a
  // login lasts.
  bool console = true;
  absl::Duration console_session_lifetime = absl::Hours(8);
  // Plaintext gRPC port serving only grpc.health.v1 (Kubernetes probes when the main port needs mTLS); "" =
  // off.
  std::string health_listen;
  // Who may call (tradein.v1.CallersFile); "" = no authentication (loopback only unless allow_insecure).
  std::string callers_file;
  // One JSON line per state change of claim money; "" = off, "-" = stdout.
  std::string audit_log;
  // TLS for the main port (PEM files); with tls_client_ca, client certificates are verified and identify
  // callers.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // Allow plaintext or unauthenticated service on a non-loopback address (said loudly at start).
  bool allow_insecure = false;
  // Watch the policy directory and reload when a file changes (as SIGHUP does).
  bool policy_watch = false;
};

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_SERVER_OPTIONS_H_
