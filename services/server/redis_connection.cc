#include "services/server/redis_connection.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "services/redis/redis_options.h"
#include "services/redis/single_node_client.h"

namespace tradein::server {
namespace {

absl::StatusOr<std::string> ReadPassword(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--redis_password_file: cannot read ", path));
  std::stringstream content;
  content << in.rdbuf();
  std::string password(absl::StripAsciiWhitespace(content.str()));
  if (password.empty())
    return absl::InvalidArgumentError(absl::StrCat("--redis_password_file: ", path, " is empty"));
  return password;
}

// --redis_user and --redis_password_file into `node` (whose URL may already carry credentials).
absl::Status ApplyCredentials(const ServerOptions& options, redis::RedisOptions& node) {
  if (!options.redis_user.empty()) {
    if (!node.user.empty()) {
      return absl::InvalidArgumentError("--redis_user: the --redis URL already names a user; give it once");
    }
    node.user = options.redis_user;
  }
  if (!options.redis_password_file.empty()) {
    if (!node.password.empty()) {
      return absl::InvalidArgumentError(
          "--redis_password_file: the --redis URL already has a password; give it once (preferably in the "
          "file)");
    }
    TRADEIN_ASSIGN_OR_RETURN(node.password, ReadPassword(options.redis_password_file));
  }
  return absl::OkStatus();
}

absl::Status Undiscovered(absl::string_view why) {
  return absl::UnavailableError(absl::StrCat(
      "cannot tell whether Redis has replicas (", why, " within ", absl::FormatDuration(kDiscoveryTimeout),
      "); start when Redis answers, or set --redis_min_replicas (1 with replicas, 0 without)"));
}

// The replicas ROLE lists: ["master", <offset>, [[ip, port, offset], ...]]. ROLE rather than INFO: the
// service's ACL user (deploy/redis/users.acl.template) may run it without seeing the rest of INFO.
absl::StatusOr<int> DiscoverReplicas(redis::RedisClient& client) {
  if (!client.WaitForConnection(absl::Now() + kDiscoveryTimeout)) return Undiscovered("no connection");
  absl::Notification done;
  absl::StatusOr<redis::RedisValue> role = absl::UnknownError("no reply");
  client.Command({"ROLE"}, absl::Now() + kDiscoveryTimeout, [&](absl::StatusOr<redis::RedisValue> reply) {
    role = std::move(reply);
    done.Notify();
  });
  done.WaitForNotification();
  if (!role.ok()) return Undiscovered(role.status().message());
  const std::vector<redis::RedisValue>& fields = role->elements();
  if (fields.size() < 3 || fields[0].str() != "master") {
    return absl::FailedPreconditionError(
        absl::StrCat("--redis must name a master, and ROLE says ", role->DebugString()));
  }
  return static_cast<int>(fields[2].elements().size());
}

redis::WriteConcern Concern(int min_replicas) {
  return redis::WriteConcern{min_replicas, kReplicaAckTimeout};
}

std::string ConcernText(const redis::WriteConcern& concern, bool discovered) {
  return absl::StrCat("writes acknowledged by ", concern.replicas, " replica(s)",
                      discovered ? " (discovered)" : " (--redis_min_replicas)");
}

absl::StatusOr<RedisConnection> ConnectOne(const ServerOptions& options) {
  TRADEIN_ASSIGN_OR_RETURN(redis::RedisOptions node, redis::ParseRedisUrl(options.redis_url));
  TRADEIN_RETURN_IF_ERROR(ApplyCredentials(options, node));
  TRADEIN_ASSIGN_OR_RETURN(std::unique_ptr<redis::RedisClient> client, redis::RedisClient::Create(node));
  int replicas = options.redis_min_replicas;
  if (replicas < 0) {
    TRADEIN_ASSIGN_OR_RETURN(const int found, DiscoverReplicas(*client));
    replicas = found > 0 ? 1 : 0;
  }
  RedisConnection connection;
  redis::RedisClient* raw = client.get();
  connection.stats = [raw] { return raw->stats(); };
  connection.connected = [raw] { return raw->connected(); };
  connection.write_concern = Concern(replicas);
  connection.description =
      absl::StrCat("redis ", node.DebugString(), ", ",
                   ConcernText(connection.write_concern, options.redis_min_replicas < 0));
  connection.client = std::make_unique<redis::SingleNodeClient>(std::move(client));
  return connection;
}

absl::StatusOr<RedisConnection> ConnectCluster(const ServerOptions& options) {
  redis::ClusterOptions cluster;
  TRADEIN_ASSIGN_OR_RETURN(cluster.seeds, redis::ParseSeeds(options.redis_cluster, "--redis_cluster"));
  TRADEIN_RETURN_IF_ERROR(ApplyCredentials(options, cluster.node));
  TRADEIN_ASSIGN_OR_RETURN(std::unique_ptr<redis::ClusterClient> client,
                           redis::ClusterClient::Create(cluster));
  int replicas = options.redis_min_replicas;
  if (replicas < 0) {
    if (!client->WaitForSlotMap(absl::Now() + kDiscoveryTimeout)) return Undiscovered("no complete slot map");
    replicas = client->slot_map()->MinReplicas() > 0 ? 1 : 0;
  }
  RedisConnection connection;
  redis::ClusterClient* raw = client.get();
  connection.stats = [raw] { return raw->node_stats(); };
  connection.connected = [raw] { return raw->connected(); };
  connection.cluster_stats = [raw] { return raw->stats(); };
  connection.write_concern = Concern(replicas);
  std::shared_ptr<const redis::SlotMap> map = client->slot_map();
  connection.description =
      absl::StrCat("redis cluster seeds ", options.redis_cluster,
                   map != nullptr ? absl::StrCat(" (", map->DebugString(), ")") : "", ", ",
                   ConcernText(connection.write_concern, options.redis_min_replicas < 0));
  connection.client = std::move(client);
  return connection;
}

}  // namespace

absl::StatusOr<RedisConnection> ConnectRedis(const ServerOptions& options) {
  if (!options.redis_cluster.empty()) return ConnectCluster(options);
  return ConnectOne(options);
}

}  // namespace tradein::server
