// -----------------------------------------------------------------------------
// File: redis_options.h
// -----------------------------------------------------------------------------
//
// Where and how RedisClient connects: one Redis server, the credentials, the database, the size of the
// connection pool and every timeout. Options usually come from a URL flag:
//
//   TRADEIN_ASSIGN_OR_RETURN(RedisOptions options, ParseRedisUrl("redis://:s3cret@10.0.0.5:6379/2"));
//   options.connections = 8;
//
// The password is a secret: DebugString() and every error message print "****" in its place.
//
// Thread safety: plain values and pure functions.
#ifndef TRADEIN_SERVICES_REDIS_REDIS_OPTIONS_H_
#define TRADEIN_SERVICES_REDIS_REDIS_OPTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tradein::redis {

struct RedisOptions {
  // A host name or an IP address (IPv6 without brackets). Host names are resolved with getaddrinfo on the
  // client's loop thread when a connection is (re)opened, so prefer an address or a name the resolver answers
  // from /etc/hosts or a local cache.
  std::string host = "127.0.0.1";
  int port = 6379;

  // AUTH on every new connection: "AUTH user password" when `user` is set (an ACL user), "AUTH password"
  // when only `password` is set, no AUTH when both are empty.
  std::string user;
  std::string password;

  // SELECTed on every new connection when not 0.
  int db = 0;

  // Connections kept open; commands are spread round-robin over the ones that are up. At least 1.
  int connections = 4;

  // Commands written to one connection and not answered yet (including timed-out ones whose reply is still
  // due). When every connection is at the limit, new commands fail at once with UNAVAILABLE instead of piling
  // up in memory while Redis stalls. At least 1.
  int max_in_flight_per_connection = 1000;

  // Bound on opening one connection, including the AUTH/SELECT/PING handshake. Must be positive.
  absl::Duration connect_timeout = absl::Seconds(1);

  // After a connection fails or drops it is reopened after a delay that starts at `reconnect_backoff_min`
  // and doubles up to `reconnect_backoff_max` (each delay jittered down by up to half), resetting once a
  // connection is up. Both must be positive, min <= max.
  absl::Duration reconnect_backoff_min = absl::Milliseconds(50);
  absl::Duration reconnect_backoff_max = absl::Seconds(2);

  // "redis://user:****@host:port/db connections=4 connect_timeout=1s ...", never the password.
  std::string DebugString() const;

  // Validate
  //
  // INVALID_ARGUMENT naming the first bad field, or OK.
  [[nodiscard]] absl::Status Validate() const;
};

// ParseRedisUrl
//
// Parses `redis://[[user]:password@]host[:port][/db]` into options with the other fields at their defaults.
// `user` and `password` may be percent-encoded (e.g. "%40" for '@'); an IPv6 host is written in brackets
// ("redis://[::1]:6380"). The port defaults to 6379 and the db to 0. Returns INVALID_ARGUMENT saying what is
// wrong, with the password masked, for any other form (including "rediss://": TLS is not supported).
[[nodiscard]] absl::StatusOr<RedisOptions> ParseRedisUrl(absl::string_view url);

}  // namespace tradein::redis

#endif  // TRADEIN_SERVICES_REDIS_REDIS_OPTIONS_H_
