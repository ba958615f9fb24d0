// -----------------------------------------------------------------------------
// File: redis_cluster.h
// -----------------------------------------------------------------------------
//
// RedisCluster runs a throwaway Redis Cluster for one test: N masters and N × R replicas, each a RedisServer
// (redis_server.h) on a free loopback port with cluster mode on, a short `cluster-node-timeout` and AOF with
// `appendfsync always`, joined with `redis-cli --cluster create`. Tests kill, pause and restart nodes, wait
// for a failover and move slots between masters.
//
//   RedisClusterOptions options;  // 3 masters, 1 replica each
//   TRADEIN_ASSIGN_OR_RETURN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start(options));
//   server args: --redis_cluster=cluster->seeds()
//   TRADEIN_ASSIGN_OR_RETURN(int master, cluster->MasterOf(slot));
//   cluster->node(master).Kill();
//   TRADEIN_RETURN_IF_ERROR(cluster->AwaitFailover(master));  // a replica took its slots over
//
// Thread safety: like RedisServer: queries (MasterOf, Masters, ...) from any thread; the methods that change
// processes or slots from one thread.
// Errors: Start fails (with the node's log) when a node does not start or the cluster does not form within
// 60 s, NOT_FOUND when redis-cli is missing; the Await* methods return DEADLINE_EXCEEDED with what they saw.
#ifndef TRADEIN_TESTS_TESTING_REDIS_CLUSTER_H_
#define TRADEIN_TESTS_TESTING_REDIS_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/redis_server.h"

namespace tradein::testing {

struct RedisClusterOptions {
  int masters = 3;
  int replicas_per_master = 1;
  // cluster-node-timeout: how long a silent node takes to be failed (and its replica promoted after it).
  absl::Duration node_timeout = absl::Milliseconds(2000);
  // Password of the default user on every node (and masterauth, so replicas can sync); empty: none.
  std::string requirepass;
  std::vector<std::string> extra_config;
};

class RedisCluster {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RedisCluster>> Start(RedisClusterOptions options = {});

  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  size_t size() const { return nodes_.size(); }
  RedisServer& node(size_t i) { return *nodes_[i]; }
  const RedisServer& node(size_t i) const { return *nodes_[i]; }
  // The index of the node listening on `port`, or -1.
  int IndexOfPort(int port) const;
  // "127.0.0.1:p1,127.0.0.1:p2,...": every node, for --redis_cluster.
  std::string seeds() const;

  // The node (index) that masters `slot` / the masters, per CLUSTER SLOTS of the first node that answers.
  absl::StatusOr<int> MasterOf(int slot) const;
  absl::StatusOr<std::vector<int>> Masters() const;
  // A replica (index) of master `master`, per its INFO replication; NOT_FOUND when it has none.
  absl::StatusOr<int> ReplicaOf(int master) const;
  // CLUSTER MYID of node `i`.
  absl::StatusOr<std::string> NodeId(int i) const;

  // AwaitHealthy
  //
  // Until every running node says cluster_state:ok and the nodes agree that every slot has a running master.
  absl::Status AwaitHealthy(absl::Duration timeout = absl::Seconds(60)) const;

  // AwaitFailover
  //
  // Until no slot is mastered by node `failed` any more (a replica was promoted) and the cluster is healthy.
  absl::Status AwaitFailover(int failed, absl::Duration timeout = absl::Seconds(60)) const;

  // MoveSlot
  //
  // Moves `slot` from master `from` to master `to` as `redis-cli --cluster reshard` does, in steps a test
  // can interleave with traffic: BeginMove (IMPORTING on `to`, MIGRATING on `from`), MigrateKeys (MIGRATE
  // up to `batch` keys of the slot; returns how many were left), EndMove (SETSLOT NODE on both and the rest).
  absl::Status BeginMove(int slot, int from, int to) const;
  absl::StatusOr<int> MigrateKeys(int slot, int from, int to, int batch) const;
  absl::Status EndMove(int slot, int from, int to) const;

 private:
  explicit RedisCluster(RedisClusterOptions options) : options_(std::move(options)) {}
  absl::StatusOr<redis::RedisValue> AskAny(const std::vector<std::string>& args) const;

  const RedisClusterOptions options_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_TESTING_REDIS_CLUSTER_H_
