// -----------------------------------------------------------------------------
// File: write_concern.h
// -----------------------------------------------------------------------------
//
// WriteConcern says how many replicas must acknowledge a write before its caller is answered, and how long
// to wait for them. It travels with each command (KeyedClient, RedisClient::SendOptions) and becomes a
// `WAIT <replicas> <timeout ms>` sent right after the write on the same connection.
//
//   client.EvalScript(script, keys, args, deadline, WriteConcern{.replicas = 1}, done);
//
// Thread safety: a plain value.
#ifndef TRADEIN_SERVICES_REDIS_WRITE_CONCERN_H_
#define TRADEIN_SERVICES_REDIS_WRITE_CONCERN_H_

#include "absl/time/time.h"

namespace tradein::redis {

struct WriteConcern {
  int replicas = 0;  // 0: answer as soon as the master did
  // The longest the replicas are waited for (never past the call's deadline).
  absl::Duration timeout = absl::Milliseconds(100);
};

}  // namespace tradein::redis

#endif  // TRADEIN_SERVICES_REDIS_WRITE_CONCERN_H_
