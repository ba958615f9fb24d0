// -----------------------------------------------------------------------------
// File: redis_connection.h
// -----------------------------------------------------------------------------
//
// The Redis side of tradein-server's wiring: from the flags (--redis or --redis_cluster, --redis_user,
// --redis_password_file, --redis_min_replicas) to the KeyedClient the quota store runs on, the write concern
// every state change must meet, and what the metrics and the banner show of it.
//
//   TRADEIN_ASSIGN_OR_RETURN(RedisConnection redis, ConnectRedis(options));
//   store = std::make_unique<RedisQuotaStore>(std::move(redis.client), {.write_concern =
//   redis.write_concern});
//
// With --redis_min_replicas=-1 (the default) the number of replicas is discovered at start: 1 when the
// server (ROLE: the replicas connected to it) or every master of the cluster (CLUSTER SLOTS) has at least one
// replica, else 0. ConnectRedis waits up to kDiscoveryTimeout for Redis to answer; when it does not, the
// start fails (naming --redis_min_replicas, which lets the server start without Redis) rather than guess:
// guessing 0 would answer writes a failover can lose, guessing 1 would refuse every write of a Redis without
// replicas.
//
// Thread safety: ConnectRedis blocks (start-up only). The stats functions may be called from any thread
// while the client lives.
// Errors: INVALID_ARGUMENT naming the flag for bad flags or an unreadable password file; UNAVAILABLE when
// the replicas cannot be discovered.
#ifndef TRADEIN_SERVICES_SERVER_REDIS_CONNECTION_H_
#define TRADEIN_SERVICES_SERVER_REDIS_CONNECTION_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/redis/cluster_client.h"
#include "services/redis/keyed_client.h"
#include "services/redis/redis_client.h"
#include "services/server/server_options.h"

namespace tradein::server {

inline constexpr absl::Duration kDiscoveryTimeout = absl::Seconds(10);
// How long a state change waits for its replicas (within the call's deadline) before UNAVAILABLE.
inline constexpr absl::Duration kReplicaAckTimeout = absl::Milliseconds(500);

struct RedisConnection {
  std::unique_ptr<redis::KeyedClient> client;
  redis::WriteConcern write_concern;
  // Counters of the connection pools (summed over a cluster's masters), and whether Redis can be reached.
  std::function<redis::RedisClientStats()> stats;
  std::function<bool()> connected;
  // A cluster's routing counters; empty for one server.
  std::function<redis::ClusterClientStats()> cluster_stats;
  // For the banner: where, the pool, the write concern (never the password).
  std::string description;
};

// ConnectRedis
//
// The connection of options.redis_url or options.redis_cluster (one of them must be set).
[[nodiscard]] absl::StatusOr<RedisConnection> ConnectRedis(const ServerOptions& options);

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_REDIS_CONNECTION_H_
