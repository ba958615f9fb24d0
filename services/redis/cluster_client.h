// -----------------------------------------------------------------------------
// File: cluster_client.h
// -----------------------------------------------------------------------------
//
// ClusterClient is the KeyedClient of a Redis Cluster: it learns which master serves each hash slot and sends
// every call to the master of its key's slot, over one RedisClient (an async connection pool) per master.
// Writes go to masters only; replicas serve as the WriteConcern's witnesses (WAIT), never as targets.
//
//   ClusterOptions options;
//   options.seeds = {{"10.0.0.5", 7000}, {"10.0.0.6", 7000}};
//   TRADEIN_ASSIGN_OR_RETURN(std::unique_ptr<ClusterClient> cluster, ClusterClient::Create(options));
//   cluster->WaitForSlotMap(absl::Now() + absl::Seconds(5));  // at start-up
//   cluster->EvalScript(script, {"tq:{b:ab12cd34}:c", ...}, args, deadline, WriteConcern{1}, done);
//
// The slot map
// ------------
// Read with `CLUSTER SLOTS` from a master the client is connected to (from the seed nodes when none is):
// at start, soon after a MOVED, soon after a call found its master unreachable or lost its connection, and
// every `refresh_interval`. Refreshes are one at a time and at most one per `refresh_tick` (so a storm of
// failures asks Redis once). A master that leaves the map (failed over, removed) has its pool closed; a new
// one gets a pool.
//
// Routing and retries (every retry within the call's deadline)
// ----------------------------------------------------------
//   MOVED <slot> <node>: the slot is recorded as <node>'s, a refresh is asked for, the call is resent there.
//   ASK <slot> <node>: the call is resent to <node> after ASKING (redis_client.h), once; the map unchanged.
//   TRYAGAIN (a multi-key call whose keys are half-migrated), CLUSTERDOWN, a slot no master serves, and a
//   master with no connection up: the call was not run, so it is resent after a jittered backoff
//   (retry_backoff_min doubling to retry_backoff_max), to the master the map then names. When the next try
//   would come after the deadline the call fails UNAVAILABLE with the last reason.
//   At most `max_redirects` MOVED/ASK per call (a map that keeps changing), then UNAVAILABLE.
// A call whose connection dropped with it in flight, or whose WAIT fell short, may have run: it fails
// UNAVAILABLE as with RedisClient, never resent (callers retry with the same ids).
//
// A call without a key (Command with only a command name, EvalScript with no keys: health checks) runs on
// every master of the map; it answers the first master's reply once every master answered, else the first
// failure, and UNAVAILABLE when some slot has no master. So a health check fails while any part of the key
// space cannot be served.
//
// Thread safety: every method may be called from any thread, concurrently. Callbacks run exactly once, on a
// client thread (a master's loop thread, or the client's own timer thread), and must not block or destroy
// the client. The destructor fails every call not completed with UNAVAILABLE; it must not run concurrently
// with other calls.
// Errors: as KeyedClient and RedisClient; INVALID_ARGUMENT from Create for bad options.
#ifndef TRADEIN_SERVICES_REDIS_CLUSTER_CLIENT_H_
#define TRADEIN_SERVICES_REDIS_CLUSTER_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/redis/cluster_slots.h"
#include "services/redis/keyed_client.h"
#include "services/redis/redis_client.h"
#include "services/redis/redis_options.h"

struct event;
struct event_base;

namespace tradein::redis {

struct ClusterOptions {
  // Nodes to read the first slot map from (any node of the cluster; more than one in case one is down).
  std::vector<ClusterEndpoint> seeds;
  // Each master's pool: credentials (user, password), connections, timeouts. host, port and db are ignored
  // (a cluster has only db 0).
  RedisOptions node;
  // How often the slot map is re-read when nothing asked for it.
  absl::Duration refresh_interval = absl::Seconds(5);
  // The timer thread's period: refreshes asked for are started on its next tick; closed pools are freed.
  absl::Duration refresh_tick = absl::Milliseconds(100);
  // Backoff of calls resent after TRYAGAIN, CLUSTERDOWN or an unreachable master (jittered down by up to
  // half).
  absl::Duration retry_backoff_min = absl::Milliseconds(10);
  absl::Duration retry_backoff_max = absl::Milliseconds(200);
  int max_redirects = 5;

  // INVALID_ARGUMENT naming the first bad field, or OK.
  [[nodiscard]] absl::Status Validate() const;
};

// ParseSeeds
//
// "host:port[,host:port...]" (IPv6 hosts in brackets) → the endpoints; INVALID_ARGUMENT naming `flag` when
// empty or malformed.
[[nodiscard]] absl::StatusOr<std::vector<ClusterEndpoint>> ParseSeeds(absl::string_view text,
                                                                      absl::string_view flag);

// Counters since the client was created, for metrics and tests.
struct ClusterClientStats {
  int64_t moved = 0;        // MOVED replies followed
  int64_t ask = 0;          // ASK replies followed
  int64_t tryagain = 0;     // TRYAGAIN replies (the call resent after a backoff)
  int64_t clusterdown = 0;  // CLUSTERDOWN replies (likewise)
  int64_t unreachable = 0;  // tries that found no master for the slot, or its pool not connected
  int64_t retries = 0;      // calls resent after a backoff
  int64_t refreshes = 0;    // slot maps read
  int64_t refresh_failures = 0;
  int64_t masters_added = 0;    // pools opened
  int64_t masters_dropped = 0;  // pools closed: the node is no longer a master
};

class ClusterClient final : public KeyedClient {
 public:
  // Create
  //
  // Starts the timer thread, which reads the first slot map from the seeds; returns at once.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ClusterClient>> Create(ClusterOptions options);
  ~ClusterClient() override;

  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  void Command(std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
               Callback done) override;
  void EvalScript(const RedisScript& script, std::vector<std::string> keys, std::vector<std::string> args,
                  absl::Time deadline, WriteConcern concern, Callback done) override;

  // WaitForSlotMap
  //
  // Blocks until a slot map serving every slot is known and each of its masters has a connection up, or
  // `deadline` passes; returns whether it is so. For start-up and tests only (never on a callback thread).
  bool WaitForSlotMap(absl::Time deadline);

  // The slot map in use (null before the first one arrived).
  std::shared_ptr<const SlotMap> slot_map() const;

  // Asks for a refresh of the slot map on the next tick.
  void RefreshSoon();

  ClusterClientStats stats() const;
  // The sum of every open master pool's counters (pools closed since are not counted).
  RedisClientStats node_stats() const;
  // True while the map serves every slot and every master has a connection up.
  bool connected() const;

 private:
  struct Call;
  struct Counters;
  friend struct ClusterCallbacks;  // the C callbacks given to libevent (cluster_client.cc)

  explicit ClusterClient(ClusterOptions options);

  void Start(std::unique_ptr<Call> call);
  void Attempt(std::unique_ptr<Call> call);
  void OnResult(std::unique_ptr<Call> call, const std::string& node_host, absl::StatusOr<RedisValue> result);
  void Resend(std::unique_ptr<Call> call, std::string reason);
  void OnRetryTimer(Call* call);
  void Broadcast(std::unique_ptr<Call> call);
  void Finish(std::unique_ptr<Call> call, absl::StatusOr<RedisValue> result);
  void Send(RedisClient& pool, std::unique_ptr<Call> call, bool asking);

  // A master's pool, opened when missing. Null when the client is stopping or the pool cannot be created.
  std::shared_ptr<RedisClient> PoolLocked(const ClusterEndpoint& node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void InstallMap(SlotMap map);
  void NoteMoved(const Redirect& redirect);

  // Timer thread.
  void Run();
  void OnTick();
  void StartRefresh();
  void OnSlots(absl::StatusOr<RedisValue> reply, const std::string& host);
  absl::StatusOr<RedisValue> AskSeed(const ClusterEndpoint& seed) const;

  const ClusterOptions options_;
  std::unique_ptr<Counters> counters_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const SlotMap> map_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<RedisClient>> pools_ ABSL_GUARDED_BY(mu_);  // by "host:port"
  // Pools of nodes no longer masters, freed by the timer thread once no caller holds them.
  std::vector<std::shared_ptr<RedisClient>> retired_ ABSL_GUARDED_BY(mu_);
  std::set<Call*> waiting_ ABSL_GUARDED_BY(mu_);  // calls whose retry timer is armed
  bool refresh_wanted_ ABSL_GUARDED_BY(mu_) = true;
  bool refresh_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_refresh_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  size_t next_source_ ABSL_GUARDED_BY(mu_) = 0;  // rotates the node asked for the map
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);

  event_base* base_ = nullptr;
  event* tick_ = nullptr;
  std::thread thread_;
};

}  // namespace tradein::redis

#endif  // TRADEIN_SERVICES_REDIS_CLUSTER_CLIENT_H_
