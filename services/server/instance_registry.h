// -----------------------------------------------------------------------------
// File: instance_registry.h
// -----------------------------------------------------------------------------
//
// The tradein-server instances sharing one ledger (one Redis, or one Cluster, under one key prefix) know of
// each other through a heartbeat in the store: each instance writes its report — address, its clock's offset
// from real time (non-zero under --simulated_now), the policy versions in force and the last reload
// generation it acted on — every kBeatInterval, and a report not renewed within kTimeToLive is dropped by the
// next heartbeat of anyone. Two uses:
//
//   * Clocks. Instances whose clocks disagree must not share a ledger: the sweeper of a real-clock instance
//     expires the holds of one rehearsing on a simulated 2025 as long overdue. Join() refuses (atomically, in
//     one script) when a live instance's offset is more than kMaxClockGap from this one's, with a message
//     naming it and saying to use another Redis or --redis_key_prefix. Instances started with the same
//     --simulated_now are one rehearsal: the server takes the clock of a live one before joining (else the
//     second of two started a minute apart would run a minute behind the first).
//   * Reloads. RequestReload() bumps a reload generation; every instance's heartbeat reads it and reloads
//     when it moved (so within about kBeatInterval), then reports its versions and the generation it reached.
//     ReloadPolicies answers with the reports (naming instances that did not catch up in time).
//
// Keys (RedisQuotaKeys: P{instances}:hb, :hbx, :reload) share one hash tag; commands HGET/HSET/HDEL, ZADD/
// ZREM/ZRANGEBYSCORE, HINCRBY, PEXPIRE — all in the `tradein` ACL grant already. Time is each instance's own
// real clock (NTP keeps machines within milliseconds; the TTL is seconds).
//
//   InstanceRegistry registry(client, "tq:", "host-1:50051:4242");
//   TRADEIN_ASSIGN_OR_RETURN(std::vector<InstanceReport> live, registry.Join(self, deadline));
//
// Thread safety: every method may be called from any thread; each blocks until Redis answers or `deadline`
// (never call one on a gRPC or Redis event thread). Errors: UNAVAILABLE/DEADLINE_EXCEEDED from Redis;
// FAILED_PRECONDITION from Join for a clock conflict.
#ifndef TRADEIN_SERVICES_SERVER_INSTANCE_REGISTRY_H_
#define TRADEIN_SERVICES_SERVER_INSTANCE_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/quota/redis/keys.h"
#include "services/redis/keyed_client.h"

namespace tradein::server {

inline constexpr absl::Duration kBeatInterval = absl::Seconds(1);
inline constexpr absl::Duration kTimeToLive = absl::Seconds(10);
inline constexpr absl::Duration kMaxClockGap = absl::Seconds(5);

struct InstanceReport {
  std::string id;                     // unique per process: host, listen address, pid
  std::string address;                // the gRPC address it serves
  int64_t clock_offset_ms = 0;        // its clock minus real time
  int64_t reload_generation = 0;      // the last reload generation it acted on
  std::string policy_snapshot;        // the snapshot version in force
  std::vector<std::string> policies;  // "policy_id=version", as ReloadPolicies lists them
  int64_t simulated_from_ms = 0;      // the --simulated_now it was started with (unix ms); 0: real clock

  // "v1|offset|generation|snapshot|address|id=version,...|simulated_from": the stored form (a later version
  // adds fields at the end; a reader ignores what it does not know).
  std::string Encode() const;
  static bool Decode(absl::string_view id, absl::string_view text, InstanceReport& out);
};

// What a heartbeat answers: every live instance (this one included) and the reload generation asked for.
struct Heartbeat {
  std::vector<InstanceReport> live;
  int64_t reload_generation = 0;
};

class InstanceRegistry {
 public:
  // REQUIRES: `client` outlives the registry.
  InstanceRegistry(redis::KeyedClient& client, const quota::RedisQuotaKeys& keys);

  // Registers `self` unless a live instance's clock_offset_ms is more than kMaxClockGap away from its own.
  [[nodiscard]] absl::StatusOr<Heartbeat> Join(const InstanceReport& self, absl::Time deadline);
  // Renews `self` (and drops reports that expired).
  [[nodiscard]] absl::StatusOr<Heartbeat> Beat(const InstanceReport& self, absl::Time deadline);
  // Removes `self` (a clean shutdown).
  absl::Status Leave(const InstanceReport& self, absl::Time deadline);
  // The live instances, writing nothing.
  [[nodiscard]] absl::StatusOr<Heartbeat> Read(absl::Time deadline);
  // Asks every instance to reload: the new reload generation.
  [[nodiscard]] absl::StatusOr<int64_t> RequestReload(absl::Time deadline);

 private:
  absl::StatusOr<Heartbeat> Run(const InstanceReport& self, absl::string_view mode, absl::Time deadline);

  redis::KeyedClient& client_;
  const std::vector<std::string> keys_;  // Instances, InstanceExpiry, ReloadGeneration
};

// This instance's side of the registry: joins at start, then a thread renews its report every kBeatInterval
// and runs `reload` when the reload generation moved (a ReloadPolicies on any instance), reporting the
// generation it reached on the next beat. A beat that fails (Redis down) is logged at most once a minute and
// retried; the report lapses after kTimeToLive and comes back with Redis.
class InstanceHeartbeat {
 public:
  // `describe` is this instance's report now (reload_generation is filled in here); `reload` reloads it.
  // REQUIRES: `registry` outlives this.
  InstanceHeartbeat(InstanceRegistry& registry, std::function<InstanceReport()> describe,
                    std::function<void()> reload);
  ~InstanceHeartbeat();

  // Registers (or refuses: InstanceRegistry::Join).
  [[nodiscard]] absl::Status Join(absl::Time deadline);
  // Starts the thread. REQUIRES: Join succeeded; once.
  void Start();
  // Stops the thread and removes the report. Idempotent.
  void Stop();
  // The live instances of the last beat (this one included).
  std::vector<InstanceReport> live() const ABSL_LOCKS_EXCLUDED(mu_);

  // After this instance reloaded itself: asks every other instance to (InstanceRegistry::RequestReload),
  // publishes this one's report at the new generation, and waits up to `bound` for every live instance to
  // report it. The reports (reloaded = generation reached) of every instance live at the end.
  struct ReloadReport {
    InstanceReport instance;
    bool reloaded = false;
  };
  [[nodiscard]] absl::StatusOr<std::vector<ReloadReport>> ReloadAll(absl::Duration bound);

 private:
  void Loop();
  void BeatOnce();
  InstanceReport Self() const ABSL_LOCKS_EXCLUDED(mu_);

  InstanceRegistry& registry_;
  const std::function<InstanceReport()> describe_;
  const std::function<void()> reload_;
  absl::Notification stop_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool joined_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<InstanceReport> live_ ABSL_GUARDED_BY(mu_);
  absl::Time last_failure_log_ = absl::InfinitePast();  // the heartbeat thread's only
};

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_INSTANCE_REGISTRY_H_
