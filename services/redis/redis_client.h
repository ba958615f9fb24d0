// -----------------------------------------------------------------------------
// File: redis_client.h
// -----------------------------------------------------------------------------
//
// RedisClient is an asynchronous client for one Redis server, made for callers that must never block (gRPC
// callback-API handlers). It owns one libevent loop thread and a small pool of connections (hiredis async
// API) on that thread. A command is handed to the loop and its callback runs on the loop thread when the
// reply arrives, the deadline passes or the connection fails:
//
//   client->EvalScript(kConsume, {QuotaKey(buyer)}, {absl::StrCat(amount_fen)}, call_deadline,
//                      [reactor](absl::StatusOr<RedisValue> reply) { ... reactor->Finish(...); });
//
// Commands are spread round-robin over the connections that are up, so many commands are in flight on each
// connection at once (pipelining); each connection returns its replies in order.
//
// Connections
// -----------
// Create() returns at once; connections open in the background. A new connection runs a handshake (AUTH when
// credentials are set, SELECT when db != 0, then PING) and takes commands only after every handshake reply
// came back OK, all within `connect_timeout`. A connection that fails to open, fails its handshake or drops
// is reopened after a capped exponential backoff (see RedisOptions), forever, until the client is destroyed.
// TCP keepalive is enabled, so a peer that vanished without closing (a partition, a dead host) is noticed
// after about half a minute; until then commands on that connection fail by their deadlines. The loop thread
// blocks SIGPIPE (only that thread), so a write to a connection the server closed fails instead of killing
// the process.
//
// Thread safety
// -------------
// Command(), EvalScript(), Ping(), connected(), WaitForConnection() and stats() may be called from any
// thread, concurrently, including from inside a callback. They never block on I/O: they append to a
// mutex-protected queue and wake the loop. Every hiredis context is touched by the loop thread only.
// Callbacks run on the loop thread, one at a time, so they must be short and must not block; in particular a
// callback must not destroy the client (the destructor joins the loop thread). The destructor must not run
// concurrently with any other call.
//
// Errors
// ------
// The callback is called exactly once, on the loop thread, with:
//   - the reply, as a RedisValue (nil, integer, string, status, array — never a top-level error);
//   - an error reply turned into a Status by ErrorReplyToStatus() (redis_value.h): UNAVAILABLE for LOADING,
//     BUSY, MASTERDOWN, READONLY, TRYAGAIN, CLUSTERDOWN, MOVED and ASK (retryable), INTERNAL for the rest,
//     the server's message kept as is;
//   - DEADLINE_EXCEEDED when `deadline` passes first. The reply that may still arrive is dropped;
//   - UNAVAILABLE when no connection is up (the message carries the last connection error, e.g. WRONGPASS or
//     "Connection refused"), when every connection already has max_in_flight_per_connection commands waiting
//     for a reply (Redis stalls: fail fast rather than pile up), when the connection carrying the command
//     drops, or when the client is destroyed with the command in flight.
// After DEADLINE_EXCEEDED or a dropped connection the command may or may not have executed on the server:
// callers retrying it must make it idempotent (e.g. a request id checked by the Lua script).
//
// Durable writes (WAIT) and ASKING
// --------------------------------
// SendOptions.concern.replicas = n > 0 makes a command durable: it is followed, on the same connection and
// in the same flush, by `WAIT n <ms>`, and its reply is answered only once WAIT returned at least n (else
// UNAVAILABLE "acknowledged by k of n replicas"; also UNAVAILABLE when the connection drops before WAIT
// answers). The WAIT's timeout is concern.timeout cut to what is left of the deadline less a margin (a tenth,
// at most 50 ms; at least 1 ms in all: WAIT 0 would block forever), so the answer comes within the deadline
// and says why. An error reply to the command itself is
// answered at once (nothing was acknowledged); an EVALSHA answered NOSCRIPT is retried as above and then
// gets a WAIT of its own.
//   Connection policy: WAIT blocks its connection on the server until the replicas answer, and every
// command pipelined behind it waits too. So (1) a command goes to a connection without a WAIT in flight
// whenever one is up (round-robin among those), and only when every connection has one, to the connection
// whose WAITs time out soonest; (2) the durable commands the loop picks up in one wake-up go to one
// connection and share one WAIT placed after the last of them (a WAIT covers every write before it on its
// connection: group commit, so n concurrent durable writes cost one WAIT, not n sequential ones). Measured
// (tools/bench-wait, docs/performance.md): without (2) a Claim + Confirm pair sent ~16 WAITs and lost a
// third of its throughput to them; with it ~7.5 WAITs and a few percent.
//   SendOptions.asking sends ASKING right before the command (and before its retry after NOSCRIPT), on the
// same connection: Redis Cluster's way to run a command on the node importing the command's slot.
//
// Deadlines
// ---------
// hiredis 0.14's async API has no timeouts, so each command in flight owns a libevent timer (evtimer) armed
// at its deadline and deleted when the reply arrives. libevent keeps timers in a min-heap, so arming and
// deleting are O(log n) in the number of commands in flight, and nothing runs while no deadline is near: no
// polling, no timer wheel to tick. Deadlines are absolute because they come from the gRPC call's deadline. A
// deadline that has already passed when the loop picks the command up fails it without sending it;
// absl::InfiniteFuture() arms no timer. A timed-out command does not close its connection: replies arrive in
// order behind it (a paused or busy server delays them all), and closing would also fail the healthy commands
// pipelined with it.
#ifndef TRADEIN_SERVICES_REDIS_REDIS_CLIENT_H_
#define TRADEIN_SERVICES_REDIS_REDIS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/redis/redis_options.h"
#include "services/redis/redis_script.h"
#include "services/redis/redis_value.h"
#include "services/redis/write_concern.h"

struct event;
struct event_base;
struct redisAsyncContext;

namespace tradein::redis {

// Counters since the client was created, for export as metrics.
struct RedisClientStats {
  int64_t commands_sent = 0;  // commands written to a connection (an EVALSHA retried after NOSCRIPT: twice)
  int64_t replies = 0;        // replies read for them, including late ones
  int64_t late_replies = 0;   // replies dropped because their command had already timed out
  int64_t timeouts = 0;       // commands failed with DEADLINE_EXCEEDED
  int64_t unavailable = 0;    // commands failed with UNAVAILABLE by the client (no/lost connection, shutdown)
  int64_t retryable_errors = 0;    // error replies turned into UNAVAILABLE (LOADING, BUSY, READONLY, ...)
  int64_t server_errors = 0;       // error replies turned into INTERNAL
  int64_t script_loads = 0;        // SCRIPT LOADs sent after a NOSCRIPT reply
  int64_t waits = 0;               // WAITs sent (one per group of durable commands)
  int64_t waits_short = 0;         // durable commands answered UNAVAILABLE: too few replicas acknowledged
  int64_t connect_failures = 0;    // connection attempts that failed, timed out or failed their handshake
  int64_t disconnects = 0;         // connections lost after they were up
  int64_t reconnects = 0;          // connections up again after a failure or a drop
  int64_t latency_micros_sum = 0;  // from Command() to the reply, over the commands completed by a reply
  int64_t latency_count = 0;
};

// How one command is sent (see "Durable writes (WAIT) and ASKING" above).
struct SendOptions {
  WriteConcern concern;  // replicas > 0: answered only after WAIT confirmed that many replicas
  bool asking = false;   // preceded by ASKING on the same connection
};

class RedisClient {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<RedisValue>) &&>;

  // Create
  //
  // Starts the loop thread and begins connecting; does not wait for Redis. INVALID_ARGUMENT when
  // options.Validate() fails, INTERNAL when libevent cannot be set up.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RedisClient>> Create(RedisOptions options);

  // Fails every command not yet completed with UNAVAILABLE (on the loop thread), closes the connections and
  // joins the loop thread. Does not wait for replies.
  ~RedisClient();

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Command
  //
  // Sends `args` (the command name then its arguments; binary-safe) and calls `done` exactly once, on the
  // loop thread, as described above (INVALID_ARGUMENT when `args` is empty).
  void Command(std::vector<std::string> args, absl::Time deadline, Callback done);

  // EvalScript
  //
  // Runs `script` with EVALSHA. When the server answers NOSCRIPT (its script cache was flushed, or it
  // restarted or failed over) the client sends SCRIPT LOAD on the same connection and then EVALSHA once more,
  // all within the same deadline. A script that does not compile fails with the SCRIPT LOAD error (INTERNAL).
  void EvalScript(const RedisScript& script, std::vector<std::string> keys, std::vector<std::string> args,
                  absl::Time deadline, Callback done);

  // Command and EvalScript sent as `send` says: durable (a WAIT after it), after ASKING, or both.
  void Command(std::vector<std::string> args, absl::Time deadline, const SendOptions& send, Callback done);
  void EvalScript(const RedisScript& script, std::vector<std::string> keys, std::vector<std::string> args,
                  absl::Time deadline, const SendOptions& send, Callback done);

  // Ping
  //
  // PING; the reply is the status "PONG".
  void Ping(absl::Time deadline, Callback done);

  // True while at least one connection is up (its handshake done).
  bool connected() const;

  // WaitForConnection
  //
  // Blocks until a connection is up or `deadline` passes; returns connected(). For start-up and tests:
  // never call it on a gRPC callback thread or from a callback.
  bool WaitForConnection(absl::Time deadline);

  RedisClientStats stats() const;
  const RedisOptions& options() const { return options_; }

 private:
  struct Request;
  struct Pending;
  struct WaitGroup;
  struct Connection;
  struct Counters;
  friend struct LoopCallbacks;  // the C callbacks given to hiredis and libevent (redis_client.cc)

  explicit RedisClient(RedisOptions options);

  void Submit(Request request);

  // Everything below runs on the loop thread only.
  void Run();
  void OnWake();
  void Dispatch(Request request, WaitGroup*& group);
  Connection* PickConnection(bool& any_ready, int needed);
  bool Send(Connection& connection, Pending& pending);
  void SendWait(Connection& connection, WaitGroup* group);
  void ArmDeadline(Pending& pending, absl::Time now);
  void OnDeadline(Pending& pending);
  void OnReply(redisAsyncContext* context, const redisReply* reply, Pending* pending);
  void OnWaitReply(redisAsyncContext* context, const redisReply* reply, WaitGroup* group);
  void Acknowledge(Pending& pending, const redisReply* wait_reply);
  void ReloadScript(Connection& connection, Pending& pending);
  void Retry(Connection& connection, Pending& pending);
  void Unref(Pending* pending);
  void Complete(Pending& pending, RedisValue value);
  void Fail(Request& request, absl::Status status, std::atomic<int64_t>& counter);
  void Finish(Request& request, absl::StatusOr<RedisValue> result);

  void StartConnect(Connection& connection);
  void OnHandshakeReply(redisAsyncContext* context, const redisReply* reply, Connection& connection);
  void OnConnectionTimer(Connection& connection);
  void SetReady(Connection& connection);
  void CloseConnection(Connection& connection, std::string error);
  void ConnectionLost(Connection& connection, std::string error);
  void Shutdown();

  const RedisOptions options_;
  const std::string endpoint_;  // "host:port", for messages
  const std::vector<std::vector<std::string>> handshake_;

  mutable absl::Mutex mu_;
  std::vector<Request> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int ready_connections_ ABSL_GUARDED_BY(mu_) = 0;

  std::unique_ptr<Counters> counters_;

  // Loop thread only (set up before the thread starts, torn down after it ends).
  event_base* base_ = nullptr;
  event* wake_ = nullptr;
  std::vector<std::unique_ptr<Connection>> connections_;
  size_t next_connection_ = 0;
  std::string last_error_ = "not connected yet";  // of any connection, for UNAVAILABLE messages
  bool shutting_down_ = false;
  absl::BitGen bitgen_;
  std::thread thread_;
};

}  // namespace tradein::redis

#endif  // TRADEIN_SERVICES_REDIS_REDIS_CLIENT_H_
