// -----------------------------------------------------------------------------
// File: cluster_slots.h
// -----------------------------------------------------------------------------
//
// The pure parts of talking to a Redis Cluster: which of the 16384 hash slots a key is in, which master
// serves each slot (the slot map, read from a `CLUSTER SLOTS` reply), and what a MOVED or ASK redirection
// says. No I/O; ClusterClient (cluster_client.h) uses them.
//
//   KeySlot("tq:{b:ab12cd34}:c") == KeySlot("b:ab12cd34")   // the hash tag decides
//   TRADEIN_ASSIGN_OR_RETURN(SlotMap map, ParseClusterSlots(reply, "10.0.0.5"));
//   const ClusterShard* shard = map.ShardOf(KeySlot(key));
//
// Thread safety: values and pure functions.
// Errors: ParseClusterSlots returns INTERNAL for a reply of an unexpected shape (naming what was wrong).
#ifndef TRADEIN_SERVICES_REDIS_CLUSTER_SLOTS_H_
#define TRADEIN_SERVICES_REDIS_CLUSTER_SLOTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/redis/redis_value.h"

namespace tradein::redis {

inline constexpr int kClusterSlots = 16384;

// KeySlot
//
// Redis Cluster's slot of `key`: CRC16 (XMODEM) of its hash tag — the text between the first '{' and the
// first '}' after it, when not empty — or of the whole key, modulo 16384.
int KeySlot(absl::string_view key);

// A node's address as the cluster announces it.
struct ClusterEndpoint {
  std::string host;
  int port = 0;
  std::string id;  // the node id ("" when the reply has none)

  std::string address() const;  // "host:port" ("[v6]:port" for an IPv6 host)
  friend bool operator==(const ClusterEndpoint& a, const ClusterEndpoint& b) {
    return a.host == b.host && a.port == b.port;
  }
};

// A master and the replicas that serve its slots.
struct ClusterShard {
  ClusterEndpoint master;
  std::vector<ClusterEndpoint> replicas;  // those the answering node does not consider failed
};

// Which master serves each slot.
class SlotMap {
 public:
  SlotMap() : owner_(kClusterSlots, -1) {}

  // The shard serving `slot` (0 ≤ slot < 16384), or null when no master serves it.
  const ClusterShard* ShardOf(int slot) const;
  const std::vector<ClusterShard>& shards() const { return shards_; }

  // Slots no master serves (0 in a healthy cluster).
  int UncoveredSlots() const;
  // The fewest replicas any master has (0 with no master).
  int MinReplicas() const;

  // Assigns [first, last] to `shard` (added unless a shard with the same master exists; its replicas are
  // then merged in). For ParseClusterSlots and MOVED.
  void Assign(int first, int last, const ClusterShard& shard);

  // "127.0.0.1:7000 0-5460 (1 replica), ..." for logs.
  std::string DebugString() const;

 private:
  std::vector<ClusterShard> shards_;
  std::vector<int16_t> owner_;  // slot → index in shards_, -1: none
};

// ParseClusterSlots
//
// The slot map of a `CLUSTER SLOTS` reply: an array of [first slot, last slot, master, replica...], each
// node [host, port, id, ...]. A host that is nil, "" or "?" (the node does not know its address, or is
// behind a load balancer) means `asked_host`, the host the command was sent to, as the Cluster
// specification says.
absl::StatusOr<SlotMap> ParseClusterSlots(const RedisValue& reply, absl::string_view asked_host);

// A MOVED or ASK error reply: "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381".
struct Redirect {
  enum class Kind { kMoved, kAsk };
  Kind kind = Kind::kMoved;
  int slot = 0;
  ClusterEndpoint to;
};

// ParseRedirect
//
// The redirection in `error_reply`, or nullopt when it is not a well-formed MOVED or ASK. An empty host
// (":6381", a node that does not know its address) means `replied_host`, the node that sent the reply.
std::optional<Redirect> ParseRedirect(absl::string_view error_reply, absl::string_view replied_host);

// ParseHostPort
//
// "host:port" or "[v6 address]:port" → the endpoint; INVALID_ARGUMENT naming `what` otherwise.
absl::StatusOr<ClusterEndpoint> ParseHostPort(absl::string_view text, absl::string_view what);

}  // namespace tradein::redis

#endif  // TRADEIN_SERVICES_REDIS_CLUSTER_SLOTS_H_
