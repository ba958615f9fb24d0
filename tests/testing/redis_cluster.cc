#include "tests/testing/redis_cluster.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "tests/testing/free_port.h"
#include "tests/testing/subprocess.h"

namespace tradein::testing {
namespace {

using redis::RedisValue;

constexpr absl::Duration kCreateTimeout = absl::Seconds(60);
constexpr absl::Duration kPoll = absl::Milliseconds(50);

// The port of the master of each range of a CLUSTER SLOTS reply: {first, last, port}.
struct Range {
  int64_t first;
  int64_t last;
  int64_t port;
};

std::vector<Range> Ranges(const RedisValue& slots) {
  std::vector<Range> ranges;
  for (const RedisValue& range : slots.elements()) {
    if (range.elements().size() < 3 || range.elements()[2].elements().size() < 2) continue;
    ranges.push_back({range.elements()[0].integer(), range.elements()[1].integer(),
                      range.elements()[2].elements()[1].integer()});
  }
  return ranges;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisCluster>> RedisCluster::Start(RedisClusterOptions options) {
  std::unique_ptr<RedisCluster> cluster(new RedisCluster(options));
  const int total = options.masters * (1 + options.replicas_per_master);
  std::vector<std::string> create = {"redis-cli", "--cluster", "create"};
  for (int i = 0; i < total; ++i) {
    RedisServerOptions server;
    server.appendonly = true;
    server.appendfsync = "always";
    server.requirepass = options.requirepass;
    // The bus port is explicit: the default (port + 10000) overflows for high free ports.
    server.extra_config = {
        "cluster-enabled yes", "cluster-config-file nodes.conf",
        absl::StrCat("cluster-node-timeout ", absl::ToInt64Milliseconds(options.node_timeout)),
        absl::StrCat("cluster-port ", PickFreePort()),
        "repl-diskless-sync-delay 0"};  // a (re)joining replica syncs at once
    if (!options.requirepass.empty())
      server.extra_config.push_back(absl::StrCat("masterauth ", options.requirepass));
    server.extra_config.insert(server.extra_config.end(), options.extra_config.begin(),
                               options.extra_config.end());
    TRADEIN_ASSIGN_OR_RETURN(std::unique_ptr<RedisServer> node, RedisServer::Start(std::move(server)));
    create.push_back(absl::StrCat(node->host(), ":", node->port()));
    cluster->nodes_.push_back(std::move(node));
  }
  create.insert(create.end(),
                {"--cluster-replicas", absl::StrCat(options.replicas_per_master), "--cluster-yes"});
  if (!options.requirepass.empty())
    create.insert(create.end(), {"-a", options.requirepass, "--no-auth-warning"});
  SubprocessOptions spawn;
  spawn.argv = create;
  spawn.stdout_path = cluster->nodes_[0]->dir() + "/cluster-create.log";
  spawn.stderr_path = spawn.stdout_path + ".err";
  TRADEIN_ASSIGN_OR_RETURN(std::unique_ptr<Subprocess> cli, Subprocess::Spawn(std::move(spawn)));
  TRADEIN_ASSIGN_OR_RETURN(int exit_code, cli->Wait(kCreateTimeout));
  if (exit_code != 0) {
    return absl::InternalError(absl::StrCat("redis-cli --cluster create exited with ", exit_code));
  }
  TRADEIN_RETURN_IF_ERROR(cluster->AwaitHealthy());
  return cluster;
}

int RedisCluster::IndexOfPort(int port) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->port() == port) return static_cast<int>(i);
  }
  return -1;
}

std::string RedisCluster::seeds() const {
  return absl::StrJoin(nodes_, ",", [](std::string* out, const std::unique_ptr<RedisServer>& node) {
    absl::StrAppend(out, node->host(), ":", node->port());
  });
}

absl::StatusOr<RedisValue> RedisCluster::AskAny(const std::vector<std::string>& args) const {
  absl::Status last = absl::UnavailableError("no node");
  for (const auto& node : nodes_) {
    absl::StatusOr<RedisValue> reply = node->Run(args);
    if (reply.ok()) return reply;
    last = reply.status();
  }
  return last;
}

absl::StatusOr<int> RedisCluster::MasterOf(int slot) const {
  TRADEIN_ASSIGN_OR_RETURN(RedisValue slots, AskAny({"CLUSTER", "SLOTS"}));
  for (const Range& range : Ranges(slots)) {
    if (slot >= range.first && slot <= range.last) return IndexOfPort(static_cast<int>(range.port));
  }
  return absl::NotFoundError(absl::StrCat("slot ", slot, " has no master"));
}

absl::StatusOr<std::vector<int>> RedisCluster::Masters() const {
  TRADEIN_ASSIGN_OR_RETURN(RedisValue slots, AskAny({"CLUSTER", "SLOTS"}));
  std::set<int> masters;
  for (const Range& range : Ranges(slots)) masters.insert(IndexOfPort(static_cast<int>(range.port)));
  return std::vector<int>(masters.begin(), masters.end());
}

absl::StatusOr<int> RedisCluster::ReplicaOf(int master) const {
  TRADEIN_ASSIGN_OR_RETURN(RedisValue info,
                           nodes_[static_cast<size_t>(master)]->Run({"INFO", "replication"}));
  // slave0:ip=127.0.0.1,port=6380,state=online,offset=...,lag=0
  for (absl::string_view line : absl::StrSplit(info.str(), "\r\n")) {
    if (!absl::StartsWith(line, "slave")) continue;
    for (absl::string_view field : absl::StrSplit(line, ',')) {
      int port = 0;
      if (absl::ConsumePrefix(&field, "port=") && absl::SimpleAtoi(field, &port) && IndexOfPort(port) >= 0) {
        return IndexOfPort(port);
      }
    }
  }
  return absl::NotFoundError(absl::StrCat("node ", master, " has no replica"));
}

absl::StatusOr<std::string> RedisCluster::NodeId(int i) const {
  TRADEIN_ASSIGN_OR_RETURN(RedisValue id, nodes_[static_cast<size_t>(i)]->Run({"CLUSTER", "MYID"}));
  return id.str();
}

absl::Status RedisCluster::AwaitHealthy(absl::Duration timeout) const {
  const absl::Time give_up = absl::Now() + timeout;
  std::string seen;
  while (absl::Now() < give_up) {
    std::vector<bool> up;
    for (const auto& node : nodes_) up.push_back(node->Run({"PING"}).ok());
    const bool all_up = std::find(up.begin(), up.end(), false) == up.end();
    bool healthy = std::find(up.begin(), up.end(), true) != up.end();
    for (size_t i = 0; i < nodes_.size() && healthy; ++i) {
      if (!up[i]) continue;
      absl::StatusOr<RedisValue> info = nodes_[i]->Run({"CLUSTER", "INFO"});
      absl::StatusOr<RedisValue> slots = nodes_[i]->Run({"CLUSTER", "SLOTS"});
      if (!info.ok() || !slots.ok() || !absl::StrContains(info->str(), "cluster_state:ok")) {
        healthy = false;
        seen = absl::StrCat("node ", nodes_[i]->port(), " is not cluster_state:ok");
        break;
      }
      int64_t covered = 0;
      for (const RedisValue& range : slots->elements()) {
        // With every node up, every master lists its replicas (known to it and not failed).
        const auto replicas = static_cast<int>(range.elements().size()) - 3;
        if (all_up && replicas < options_.replicas_per_master) {
          healthy = false;
          seen = absl::StrCat("node ", nodes_[i]->port(), " lists ", replicas, " replicas of a master");
        }
      }
      for (const Range& range : Ranges(*slots)) {
        const int owner = IndexOfPort(static_cast<int>(range.port));
        if (owner < 0 || !up[static_cast<size_t>(owner)]) {
          healthy = false;
          seen = absl::StrCat("node ", nodes_[i]->port(), " names ", range.port, " (down) a master");
        }
        covered += range.last - range.first + 1;
      }
      if (covered != 16384) {
        healthy = false;
        seen = absl::StrCat("node ", nodes_[i]->port(), " covers ", covered, " slots");
      }
    }
    if (healthy) return absl::OkStatus();
    absl::SleepFor(kPoll);
  }
  return absl::DeadlineExceededError(absl::StrCat("cluster not healthy: ", seen));
}

absl::Status RedisCluster::AwaitFailover(int failed, absl::Duration timeout) const {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    absl::StatusOr<std::vector<int>> masters = Masters();
    if (masters.ok() && std::find(masters->begin(), masters->end(), failed) == masters->end()) {
      return AwaitHealthy(give_up - absl::Now());
    }
    absl::SleepFor(kPoll);
  }
  return absl::DeadlineExceededError(absl::StrCat("node ", failed, " is still a master"));
}

absl::Status RedisCluster::BeginMove(int slot, int from, int to) const {
  TRADEIN_ASSIGN_OR_RETURN(std::string from_id, NodeId(from));
  TRADEIN_ASSIGN_OR_RETURN(std::string to_id, NodeId(to));
  const std::string s = absl::StrCat(slot);
  TRADEIN_RETURN_IF_ERROR(
      node(static_cast<size_t>(to)).Run({"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}).status());
  return node(static_cast<size_t>(from)).Run({"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}).status();
}

absl::StatusOr<int> RedisCluster::MigrateKeys(int slot, int from, int to, int batch) const {
  const RedisServer& source = node(static_cast<size_t>(from));
  const RedisServer& target = node(static_cast<size_t>(to));
  TRADEIN_ASSIGN_OR_RETURN(RedisValue keys,
                           source.Run({"CLUSTER", "GETKEYSINSLOT", absl::StrCat(slot), absl::StrCat(batch)}));
  if (!keys.elements().empty()) {
    std::vector<std::string> migrate = {"MIGRATE", target.host(), absl::StrCat(target.port()),
                                        "",        "0",           "5000"};
    if (!options_.requirepass.empty()) migrate.insert(migrate.end(), {"AUTH", options_.requirepass});
    migrate.push_back("KEYS");
    for (const RedisValue& key : keys.elements()) migrate.push_back(key.str());
    TRADEIN_RETURN_IF_ERROR(source.Run(migrate).status());
  }
  TRADEIN_ASSIGN_OR_RETURN(RedisValue left, source.Run({"CLUSTER", "COUNTKEYSINSLOT", absl::StrCat(slot)}));
  return static_cast<int>(left.integer());
}

absl::Status RedisCluster::EndMove(int slot, int from, int to) const {
  TRADEIN_ASSIGN_OR_RETURN(std::string to_id, NodeId(to));
  const std::string s = absl::StrCat(slot);
  TRADEIN_RETURN_IF_ERROR(
      node(static_cast<size_t>(to)).Run({"CLUSTER", "SETSLOT", s, "NODE", to_id}).status());
  TRADEIN_RETURN_IF_ERROR(
      node(static_cast<size_t>(from)).Run({"CLUSTER", "SETSLOT", s, "NODE", to_id}).status());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (static_cast<int>(i) == from || static_cast<int>(i) == to) continue;
    (void)nodes_[i]->Run({"CLUSTER", "SETSLOT", s, "NODE", to_id});  // replicas refuse: they learn by gossip
  }
  return absl::OkStatus();
}

}  // namespace tradein::testing
