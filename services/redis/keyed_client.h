// -----------------------------------------------------------------------------
// File: keyed_client.h
// -----------------------------------------------------------------------------
//
// KeyedClient is what the quota store needs from Redis, whether one server (SingleNodeClient, over a
// RedisClient) or a Redis Cluster (ClusterClient): run a command or a script on the node that serves a key's
// slot — for a command the key is args[1], for a script keys[0]; every key of one call shares one slot — and,
// for a write that must survive the loss of its master, answer only after replicas acknowledged it.
//
//   client.EvalScript(script, {"tq:{b:ab12cd34}:c", ...}, args, deadline, Durable(min_replicas), done);
//
// Durability
// ----------
// With WriteConcern.replicas = n > 0, the command is followed on the same connection, in the same flush, by
// `WAIT n <timeout ms>` (WAIT covers only the writes made before it on its connection; a Lua script cannot
// call it). `done` gets the command's reply once WAIT answered at least n; when it answers fewer, or the
// connection fails before it answers, `done` gets UNAVAILABLE ("not acknowledged by n replicas") — the write
// itself may have happened, so callers retry with the same ids, as after any UNAVAILABLE. A WAIT holds its
// connection until the replicas answer; implementations must not queue unrelated commands behind it.
//
// Thread safety: every method may be called from any thread, concurrently; `done` runs exactly once, on a
// client thread (or inline for an argument error), and must not block.
// Errors: as RedisClient (redis_client.h); a cluster client also follows MOVED/ASK and retries TRYAGAIN and
// CLUSTERDOWN within the deadline.
#ifndef TRADEIN_SERVICES_REDIS_KEYED_CLIENT_H_
#define TRADEIN_SERVICES_REDIS_KEYED_CLIENT_H_

#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/redis/redis_script.h"
#include "services/redis/redis_value.h"

namespace tradein::redis {

// How many replicas must acknowledge a write before it is answered, and how long to wait for them.
struct WriteConcern {
  int replicas = 0;  // 0: answer as soon as the master did
  absl::Duration timeout = absl::Milliseconds(100);
};

class KeyedClient {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<RedisValue>) &&>;

  virtual ~KeyedClient() = default;

  // Command
  //
  // Runs `args` (the command name, then its key, then the rest) on the node serving args[1]'s slot.
  virtual void Command(std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
                       Callback done) = 0;

  // EvalScript
  //
  // Runs `script` (EVALSHA, SCRIPT LOAD on NOSCRIPT) on the node serving keys[0]'s slot.
  virtual void EvalScript(const RedisScript& script, std::vector<std::string> keys,
                          std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
                          Callback done) = 0;
};

}  // namespace tradein::redis

#endif  // TRADEIN_SERVICES_REDIS_KEYED_CLIENT_H_
