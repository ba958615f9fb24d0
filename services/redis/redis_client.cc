#include "services/redis/redis_client.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "hiredis/adapters/libevent.h"
#include "hiredis/async.h"
#include "hiredis/hiredis.h"

namespace tradein::redis {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr absl::string_view kShutDown = "redis client shut down";

void Bump(std::atomic<int64_t>& counter, int64_t n = 1) { counter.fetch_add(n, std::memory_order_relaxed); }

timeval ClampedTimeval(absl::Duration d) { return absl::ToTimeval(std::max(d, absl::ZeroDuration())); }

// Why hiredis gave up on a connection, or `otherwise` when it did not say. Its "Out of memory" is also what a
// reply array over kMaxReplyElements elements gives (BoundReplyArrays), so that case names the bound.
std::string ContextError(const redisContext& context, absl::string_view otherwise) {
  if (context.err == 0) return std::string(otherwise);
  if (context.err == REDIS_ERR_OOM) {
    return absl::StrCat(context.errstr, " (or a reply array over ", kMaxReplyElements, " elements)");
  }
  return context.errstr;
}

absl::Duration Since(SteadyClock::time_point start) { return absl::FromChrono(SteadyClock::now() - start); }

// Queues `args` on `context`; `fn(context, reply, privdata)` runs when the reply arrives or the context is
// freed (reply == nullptr). False when hiredis refuses the command (the context is being closed).
// The command is written in RESP by EncodeCommand, in one buffer: hiredis 0.14's own formatting (sdscatfmt
// per argument) was ~12% of a Claim + ConfirmClaim's instructions under callgrind.
bool SendArgv(redisAsyncContext* context, redisCallbackFn* fn, void* privdata,
              const std::vector<std::string>& args) {
  const std::string command = EncodeCommand(args);
  return redisAsyncFormattedCommand(context, fn, privdata, command.data(), command.size()) == REDIS_OK;
}

// AUTH when credentials are set, SELECT when db != 0, then PING: a connection is used only once the server
// has answered, so a server that accepts TCP connections but does not run (SIGSTOP) never gets commands.
std::vector<std::vector<std::string>> HandshakeCommands(const RedisOptions& options) {
  std::vector<std::vector<std::string>> commands;
  if (!options.user.empty()) {
    commands.push_back({"AUTH", options.user, options.password});
  } else if (!options.password.empty()) {
    commands.push_back({"AUTH", options.password});
  }
  if (options.db != 0) commands.push_back({"SELECT", absl::StrCat(options.db)});
  commands.push_back({"PING"});
  return commands;
}

}  // namespace

struct RedisClient::Counters {
  std::atomic<int64_t> commands_sent{0};
  std::atomic<int64_t> replies{0};
  std::atomic<int64_t> late_replies{0};
  std::atomic<int64_t> timeouts{0};
  std::atomic<int64_t> unavailable{0};
  std::atomic<int64_t> retryable_errors{0};
  std::atomic<int64_t> server_errors{0};
  std::atomic<int64_t> script_loads{0};
  std::atomic<int64_t> waits{0};
  std::atomic<int64_t> waits_short{0};
  std::atomic<int64_t> connect_failures{0};
  std::atomic<int64_t> disconnects{0};
  std::atomic<int64_t> reconnects{0};
  std::atomic<int64_t> latency_micros_sum{0};
  std::atomic<int64_t> latency_count{0};
};

// A command on its way to the loop, or being completed.
struct RedisClient::Request {
  std::vector<std::string> args;      // once sent, only the command name, except for EvalScript
  std::optional<RedisScript> script;  // EvalScript: args are the EVALSHA, kept for the NOSCRIPT retry
  absl::Time deadline;
  Callback done;  // empty once called
  SteadyClock::time_point start;
  SendOptions send;
};

// A request written to a connection. hiredis holds the pointer (callback privdata) for its command's reply,
// and each WaitGroup it is in holds it for the WAIT's reply; `refs` counts those callbacks still to come, and
// the last one deletes it (RedisClient::Unref). Each callback is called with the reply or with nullptr when
// the connection goes away. `request.done` is empty once the request was completed (by its answer or early,
// by its deadline), so replies that still come are dropped.
struct RedisClient::Pending {
  enum class Stage { kCommand, kScriptLoad, kRetry };

  Pending(RedisClient* c, Request r) : client(c), request(std::move(r)) {}
  ~Pending() {
    if (timer != nullptr) event_free(timer);
  }

  RedisClient* const client;
  Request request;
  Stage stage = Stage::kCommand;
  event* timer = nullptr;  // fires at request.deadline; null when infinite or already fired
  int refs = 0;
  std::optional<RedisValue> reply;  // a durable command's reply, until its WAIT answers
  WaitGroup* wait = nullptr;        // the WAIT that decides it: the last one sent after its command
};

// One WAIT and the durable commands written before it on its connection (group commit).
struct RedisClient::WaitGroup {
  explicit WaitGroup(Connection* c) : connection(c) {}

  void Add(Pending& pending, absl::Time now) {
    members.push_back(&pending);
    pending.wait = this;
    ++pending.refs;
    const SendOptions& send = pending.request.send;
    replicas = std::max(replicas, send.concern.replicas);
    // Within the deadline, with a margin so that WAIT's answer comes before the deadline's timer fires.
    const absl::Duration left = pending.request.deadline - now;
    timeout = std::min({timeout, send.concern.timeout, left - std::min(left / 10, absl::Milliseconds(50))});
  }

  Connection* const connection;
  std::vector<Pending*> members;
  int replicas = 0;
  absl::Duration timeout = absl::InfiniteDuration();
};

// One slot of the pool. `context` is non-null while connecting or ready; the slot's timer is the connect
// timeout while connecting and the reconnect delay while backing off.
struct RedisClient::Connection {
  enum class State { kIdle, kBackoff, kConnecting, kReady };

  RedisClient* client = nullptr;
  State state = State::kIdle;
  redisAsyncContext* context = nullptr;
  event* timer = nullptr;
  int handshake_pending = 0;  // handshake replies still to come
  int in_flight = 0;          // callbacks held by `context` (commands and WAITs)
  int waits_in_flight = 0;    // WAITs sent and not answered: the server holds the connection until then
  absl::Time wait_until;      // when the last WAIT sent on it times out at the latest
  absl::Duration backoff;
  bool recovering = false;  // failed or dropped since it was last up
};

// The C callbacks handed to hiredis and libevent; they only find the object and forward.
struct LoopCallbacks {
  static void OnWake(evutil_socket_t, short, void* client) { static_cast<RedisClient*>(client)->OnWake(); }

  static void OnDeadline(evutil_socket_t, short, void* pending) {
    auto* p = static_cast<RedisClient::Pending*>(pending);
    p->client->OnDeadline(*p);
  }

  static void OnConnectionTimer(evutil_socket_t, short, void* connection) {
    auto* c = static_cast<RedisClient::Connection*>(connection);
    c->client->OnConnectionTimer(*c);
  }

  static void OnReply(redisAsyncContext* context, void* reply, void* pending) {
    auto* p = static_cast<RedisClient::Pending*>(pending);
    p->client->OnReply(context, static_cast<const redisReply*>(reply), p);
  }

  static void OnWaitReply(redisAsyncContext* context, void* reply, void* group) {
    auto* c = static_cast<RedisClient::Connection*>(context->data);
    c->client->OnWaitReply(context, static_cast<const redisReply*>(reply),
                           static_cast<RedisClient::WaitGroup*>(group));
  }

  static void OnHandshakeReply(redisAsyncContext* context, void* reply, void* connection) {
    auto* c = static_cast<RedisClient::Connection*>(connection);
    c->client->OnHandshakeReply(context, static_cast<const redisReply*>(reply), *c);
  }

  // Success only means TCP is up: the handshake replies decide. On failure hiredis frees the context after
  // this returns.
  static void OnConnect(const redisAsyncContext* context, int status) {
    if (status == REDIS_OK) return;
    auto* c = static_cast<RedisClient::Connection*>(context->data);
    c->context = nullptr;
    c->client->ConnectionLost(*c, absl::StrCat("connect: ", context->c.errstr));
  }

  // hiredis is freeing `context`, after failing its pending callbacks. Ignored when the client closed it.
  static void OnDisconnect(const redisAsyncContext* context, int) {
    auto* c = static_cast<RedisClient::Connection*>(context->data);
    if (c->context != context) return;
    c->context = nullptr;
    c->client->ConnectionLost(*c, ContextError(context->c, "connection closed"));
  }
};

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Create(RedisOptions options) {
  TRADEIN_RETURN_IF_ERROR(options.Validate());
  // Makes event_active() callable from other threads on bases created afterwards. Once per process.
  static const bool threads_enabled = evthread_use_pthreads() == 0;
  if (!threads_enabled) return absl::InternalError("libevent: evthread_use_pthreads failed");
  // OpenSSL initialises itself on first use, on whichever thread that is, and that thread keeps error state
  // OpenSSL never frees. Scripts are hashed lazily, often first in a reply callback on the event-loop thread,
  // which ends with the client: initialise on the thread creating the client instead (LeakSanitizer would
  // otherwise report the lost state at exit).
  constexpr uint64_t kOpenSsl =
      OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS;
  static const bool openssl_ready = OPENSSL_init_crypto(kOpenSsl, nullptr) == 1;
  if (!openssl_ready) return absl::InternalError("OpenSSL: OPENSSL_init_crypto failed");

  std::unique_ptr<RedisClient> client(new RedisClient(std::move(options)));
  // epoll's changelist: interest changes reach epoll once per loop turn, when they still differ from what it
  // has — hiredis adds a connection's write interest for each command queued and drops it once written, which
  // was an epoll_ctl each (docs/performance.md, stop 19). libevent's one caveat, descriptors dup()ed from one
  // another, does not apply: each is its own socket.
  event_config* config = event_config_new();
  if (config == nullptr) return absl::InternalError("libevent: event_config_new failed");
  event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  client->base_ = event_base_new_with_config(config);
  event_config_free(config);
  if (client->base_ == nullptr) return absl::InternalError("libevent: event_base_new failed");
  client->wake_ = event_new(client->base_, -1, 0, &LoopCallbacks::OnWake, client.get());
  for (int i = 0; i < client->options_.connections; ++i) {
    auto connection = std::make_unique<Connection>();
    connection->client = client.get();
    connection->backoff = client->options_.reconnect_backoff_min;
    connection->timer = evtimer_new(client->base_, &LoopCallbacks::OnConnectionTimer, connection.get());
    client->connections_.push_back(std::move(connection));
  }
  client->thread_ = std::thread(&RedisClient::Run, client.get());
  return client;
}

RedisClient::RedisClient(RedisOptions options)
    : options_(std::move(options)),
      endpoint_(absl::StrCat(options_.host, ":", options_.port)),
      handshake_(HandshakeCommands(options_)),
      counters_(std::make_unique<Counters>()) {}

RedisClient::~RedisClient() {
  if (thread_.joinable()) {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    event_active(wake_, EV_READ, 0);
    thread_.join();
  }
  for (const std::unique_ptr<Connection>& connection : connections_) {
    if (connection->timer != nullptr) event_free(connection->timer);
  }
  if (wake_ != nullptr) event_free(wake_);
  if (base_ != nullptr) event_base_free(base_);
}

void RedisClient::Command(std::vector<std::string> args, absl::Time deadline, Callback done) {
  Command(std::move(args), deadline, SendOptions(), std::move(done));
}

void RedisClient::Command(std::vector<std::string> args, absl::Time deadline, const SendOptions& send,
                          Callback done) {
  Submit(Request{std::move(args), std::nullopt, deadline, std::move(done), SteadyClock::now(), send});
}

void RedisClient::EvalScript(const RedisScript& script, std::vector<std::string> keys,
                             std::vector<std::string> args, absl::Time deadline, Callback done) {
  EvalScript(script, std::move(keys), std::move(args), deadline, SendOptions(), std::move(done));
}

void RedisClient::EvalScript(const RedisScript& script, std::vector<std::string> keys,
                             std::vector<std::string> args, absl::Time deadline, const SendOptions& send,
                             Callback done) {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.push_back("EVALSHA");
  command.push_back(script.sha1());
  command.push_back(absl::StrCat(keys.size()));
  std::move(keys.begin(), keys.end(), std::back_inserter(command));
  std::move(args.begin(), args.end(), std::back_inserter(command));
  Submit(Request{std::move(command), script, deadline, std::move(done), SteadyClock::now(), send});
}

void RedisClient::Ping(absl::Time deadline, Callback done) { Command({"PING"}, deadline, std::move(done)); }

void RedisClient::Submit(Request request) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    wake = queue_.empty();  // otherwise a wake-up is already due: the loop empties the queue when it runs
    queue_.push_back(std::move(request));
  }
  if (wake) event_active(wake_, EV_READ, 0);
}

bool RedisClient::connected() const {
  absl::MutexLock lock(&mu_);
  return ready_connections_ > 0;
}

bool RedisClient::WaitForConnection(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(
                            +[](int* ready) { return *ready > 0; }, &ready_connections_),
                        deadline);
  return ready_connections_ > 0;
}

RedisClientStats RedisClient::stats() const {
  const Counters& c = *counters_;
  auto get = [](const std::atomic<int64_t>& counter) { return counter.load(std::memory_order_relaxed); };
  RedisClientStats stats;
  stats.commands_sent = get(c.commands_sent);
  stats.replies = get(c.replies);
  stats.late_replies = get(c.late_replies);
  stats.timeouts = get(c.timeouts);
  stats.unavailable = get(c.unavailable);
  stats.retryable_errors = get(c.retryable_errors);
  stats.server_errors = get(c.server_errors);
  stats.script_loads = get(c.script_loads);
  stats.waits = get(c.waits);
  stats.waits_short = get(c.waits_short);
  stats.connect_failures = get(c.connect_failures);
  stats.disconnects = get(c.disconnects);
  stats.reconnects = get(c.reconnects);
  stats.latency_micros_sum = get(c.latency_micros_sum);
  stats.latency_count = get(c.latency_count);
  return stats;
}

// ---- Loop thread ------------------------------------------------------------------------------------------

void RedisClient::Run() {
  // hiredis writes with write(2), which raises SIGPIPE on a connection the peer closed; by default that
  // kills the process. Blocked on this thread, the write fails with EPIPE and the connection is dropped.
  sigset_t sigpipe;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, nullptr);
  pthread_setname_np(pthread_self(), "tradein-redis");  // for top -H, perf and gdb (15 characters at most)

  for (const std::unique_ptr<Connection>& connection : connections_) StartConnect(*connection);
  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
}

void RedisClient::OnWake() {
  std::vector<Request> batch;
  bool stopping = false;
  {
    absl::MutexLock lock(&mu_);
    stopping = stopping_;
    if (!stopping) batch.swap(queue_);
  }
  if (stopping) return Shutdown();
  WaitGroup* group = nullptr;  // this wake-up's durable commands, answered after one WAIT
  for (Request& request : batch) Dispatch(std::move(request), group);
  if (group != nullptr) SendWait(*group->connection, group);
}

void RedisClient::Dispatch(Request request, WaitGroup*& group) {
  if (request.args.empty()) return Finish(request, absl::InvalidArgumentError("redis: empty command"));
  const absl::Time now = absl::Now();
  if (request.deadline <= now) {
    return Fail(request,
                absl::DeadlineExceededError(
                    absl::StrCat("redis ", request.args[0], ": deadline passed before sending")),
                counters_->timeouts);
  }
  const bool durable = request.send.concern.replicas > 0;
  Connection* connection = nullptr;
  if (durable && group != nullptr) {
    Connection& grouped = *group->connection;
    if (grouped.in_flight + 2 <= options_.max_in_flight_per_connection) {
      connection = &grouped;
    } else {
      SendWait(grouped, group);
      group = nullptr;
    }
  }
  bool any_ready = false;
  if (connection == nullptr) connection = PickConnection(any_ready, durable ? 2 : 1);
  if (connection == nullptr) {
    return Fail(request,
                absl::UnavailableError(
                    any_ready ? absl::StrCat("redis ", endpoint_, ": ", options_.max_in_flight_per_connection,
                                             " commands in flight on every connection")
                              : absl::StrCat("redis ", endpoint_,
                                             ": no connection is up (last error: ", last_error_, ")")),
                counters_->unavailable);
  }
  auto pending = std::make_unique<Pending>(this, std::move(request));
  if (!Send(*connection, *pending)) {
    return Fail(pending->request,
                absl::UnavailableError(absl::StrCat("redis ", endpoint_, ": connection closing")),
                counters_->unavailable);
  }
  if (!pending->request.script.has_value()) pending->request.args.resize(1);  // hiredis copied them
  ArmDeadline(*pending, now);
  if (durable) {
    if (group == nullptr) group = new WaitGroup(connection);
    group->Add(*pending, now);
  }
  pending.release();  // deleted by the last of its callbacks (Unref)
}

// Round-robin over the connections that are up and have room for `needed` more callbacks and no WAIT in
// flight (a command behind a WAIT waits for the replicas too); when every one has a WAIT, the one whose WAITs
// end soonest at the latest.
RedisClient::Connection* RedisClient::PickConnection(bool& any_ready, int needed) {
  const size_t n = connections_.size();
  Connection* soonest = nullptr;
  for (size_t i = 0; i < n; ++i) {
    const size_t index = (next_connection_ + i) % n;
    Connection& connection = *connections_[index];
    if (connection.state != Connection::State::kReady) continue;
    any_ready = true;
    if (connection.in_flight + needed > options_.max_in_flight_per_connection) continue;
    if (connection.waits_in_flight == 0) {
      next_connection_ = (index + 1) % n;
      return &connection;
    }
    if (soonest == nullptr || connection.wait_until < soonest->wait_until) soonest = &connection;
  }
  return soonest;
}

// Writes the request's command (after ASKING when asked to) to `connection`. False when hiredis refuses it
// (the connection is closing).
bool RedisClient::Send(Connection& connection, Pending& pending) {
  static const std::vector<std::string> kAsking = {"ASKING"};
  if (pending.request.send.asking && !SendArgv(connection.context, nullptr, nullptr, kAsking)) return false;
  if (!SendArgv(connection.context, &LoopCallbacks::OnReply, &pending, pending.request.args)) return false;
  Bump(counters_->commands_sent);
  ++connection.in_flight;
  ++pending.refs;
  return true;
}

void RedisClient::SendWait(Connection& connection, WaitGroup* group) {
  const int64_t timeout_ms =
      std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(group->timeout, absl::Milliseconds(1))));
  const std::vector<std::string> wait = {"WAIT", absl::StrCat(group->replicas), absl::StrCat(timeout_ms)};
  if (!SendArgv(connection.context, &LoopCallbacks::OnWaitReply, group, wait)) {
    for (Pending* pending : group->members) {
      if (pending->wait == group && pending->request.done) {
        Fail(pending->request,
             absl::UnavailableError(absl::StrCat("redis ", endpoint_, ": connection closing before WAIT")),
             counters_->unavailable);
      }
      Unref(pending);
    }
    delete group;
    return;
  }
  Bump(counters_->waits);
  ++connection.in_flight;
  ++connection.waits_in_flight;
  connection.wait_until = std::max(connection.wait_until, absl::Now() + absl::Milliseconds(timeout_ms));
}

void RedisClient::ArmDeadline(Pending& pending, absl::Time now) {
  if (pending.request.deadline == absl::InfiniteFuture()) return;
  pending.timer = evtimer_new(base_, &LoopCallbacks::OnDeadline, &pending);
  const timeval delay = ClampedTimeval(pending.request.deadline - now);
  evtimer_add(pending.timer, &delay);
}

void RedisClient::OnDeadline(Pending& pending) {
  event_free(pending.timer);
  pending.timer = nullptr;
  Fail(pending.request,
       absl::DeadlineExceededError(absl::StrCat(
           "redis ", pending.request.args[0], ": no reply within ",
           absl::FormatDuration(absl::Trunc(Since(pending.request.start), absl::Milliseconds(1))))),
       counters_->timeouts);
}

void RedisClient::OnReply(redisAsyncContext* context, const redisReply* reply, Pending* pending) {
  Connection& connection = *static_cast<Connection*>(context->data);
  --connection.in_flight;
  absl::Cleanup unref = [this, pending] { Unref(pending); };
  if (reply != nullptr) Bump(counters_->replies);
  if (!pending->request.done) {  // completed by its deadline
    if (reply != nullptr) Bump(counters_->late_replies);
    return;
  }
  if (reply == nullptr) {
    const std::string error =
        shutting_down_
            ? std::string(kShutDown)
            : absl::StrCat("redis ", endpoint_, ": connection lost: ", ContextError(context->c, "closed"));
    return Fail(pending->request, absl::UnavailableError(error), counters_->unavailable);
  }
  RedisValue value = RedisValue::FromReply(*reply);
  switch (pending->stage) {
    case Pending::Stage::kCommand:
      if (pending->request.script.has_value() && value.is_error() &&
          absl::StartsWith(value.str(), "NOSCRIPT")) {
        return ReloadScript(connection, *pending);
      }
      break;
    case Pending::Stage::kScriptLoad:
      if (!value.is_error()) return Retry(connection, *pending);
      break;  // e.g. "ERR Error compiling script": the caller's answer
    case Pending::Stage::kRetry:
      break;
  }
  if (pending->request.send.concern.replicas > 0 && !value.is_error()) {
    pending->reply = std::move(value);  // answered when its WAIT is
    return;
  }
  Complete(*pending, std::move(value));
}

void RedisClient::OnWaitReply(redisAsyncContext* context, const redisReply* reply, WaitGroup* group) {
  Connection& connection = *static_cast<Connection*>(context->data);
  --connection.in_flight;
  --connection.waits_in_flight;
  if (reply != nullptr) Bump(counters_->replies);
  for (Pending* pending : group->members) {
    // A member whose EVALSHA was answered NOSCRIPT has no reply yet: a later WAIT decides it.
    if (pending->wait == group && pending->request.done && pending->reply.has_value()) {
      Acknowledge(*pending, reply);
    }
    Unref(pending);
  }
  delete group;
}

void RedisClient::Acknowledge(Pending& pending, const redisReply* wait_reply) {
  const int wanted = pending.request.send.concern.replicas;
  if (wait_reply != nullptr && wait_reply->type == REDIS_REPLY_INTEGER && wait_reply->integer >= wanted) {
    return Complete(pending, *std::move(pending.reply));
  }
  std::string why;
  if (wait_reply == nullptr) {
    why = "connection lost before WAIT answered";
  } else if (wait_reply->type == REDIS_REPLY_INTEGER) {
    why = absl::StrCat("acknowledged by ", wait_reply->integer, " of ", wanted, " replicas");
  } else {
    why = absl::StrCat("WAIT failed: ", RedisValue::FromReply(*wait_reply).DebugString());
  }
  Fail(
      pending.request,
      absl::UnavailableError(absl::StrCat("redis ", endpoint_, ": ", pending.request.args[0], " ", why,
                                          " (the write may be lost in a failover; retry with the same ids)")),
      wait_reply != nullptr ? counters_->waits_short : counters_->unavailable);
}

void RedisClient::ReloadScript(Connection& connection, Pending& pending) {
  const std::vector<std::string> load = {"SCRIPT", "LOAD", pending.request.script->source()};
  if (!SendArgv(connection.context, &LoopCallbacks::OnReply, &pending, load)) {
    return Fail(pending.request,
                absl::UnavailableError(absl::StrCat("redis ", endpoint_, ": connection closing")),
                counters_->unavailable);
  }
  Bump(counters_->script_loads);
  ++connection.in_flight;
  ++pending.refs;
  pending.stage = Pending::Stage::kScriptLoad;
}

void RedisClient::Retry(Connection& connection, Pending& pending) {
  pending.stage = Pending::Stage::kRetry;
  if (!Send(connection, pending)) {
    return Fail(pending.request,
                absl::UnavailableError(absl::StrCat("redis ", endpoint_, ": connection closing")),
                counters_->unavailable);
  }
  if (pending.request.send.concern.replicas <= 0) return;
  auto* group = new WaitGroup(&connection);
  group->Add(pending, absl::Now());
  SendWait(connection, group);
}

void RedisClient::Unref(Pending* pending) {
  if (--pending->refs == 0) delete pending;
}

void RedisClient::Complete(Pending& pending, RedisValue value) {
  Bump(counters_->latency_micros_sum, absl::ToInt64Microseconds(Since(pending.request.start)));
  Bump(counters_->latency_count);
  if (!value.is_error()) return Finish(pending.request, std::move(value));
  absl::Status status = ErrorReplyToStatus(value.str());
  Bump(absl::IsUnavailable(status) ? counters_->retryable_errors : counters_->server_errors);
  Finish(pending.request, std::move(status));
}

void RedisClient::Fail(Request& request, absl::Status status, std::atomic<int64_t>& counter) {
  Bump(counter);
  Finish(request, std::move(status));
}

void RedisClient::Finish(Request& request, absl::StatusOr<RedisValue> result) {
  Callback done = std::move(request.done);
  request.done = nullptr;  // marks the request completed before user code runs
  std::move(done)(std::move(result));
}

// ---- Connections ------------------------------------------------------------------------------------------

void RedisClient::StartConnect(Connection& connection) {
  redisAsyncContext* context = redisAsyncConnect(options_.host.c_str(), options_.port);
  if (context == nullptr) return ConnectionLost(connection, "connect: out of memory");
  if (context->err != 0) {
    std::string error = absl::StrCat("connect: ", context->c.errstr);
    redisAsyncFree(context);
    return ConnectionLost(connection, std::move(error));
  }
  BoundReplyArrays(*context->c.reader);
  context->data = &connection;
  redisLibeventAttach(context, base_);
  redisAsyncSetConnectCallback(context, &LoopCallbacks::OnConnect);
  redisAsyncSetDisconnectCallback(context, &LoopCallbacks::OnDisconnect);
  redisEnableKeepAlive(&context->c);
  connection.context = context;
  connection.state = Connection::State::kConnecting;
  connection.handshake_pending = static_cast<int>(handshake_.size());
  // Queued until the TCP connection is up; cannot fail on a new context.
  for (const std::vector<std::string>& command : handshake_) {
    SendArgv(context, &LoopCallbacks::OnHandshakeReply, &connection, command);
  }
  const timeval timeout = ClampedTimeval(options_.connect_timeout);
  evtimer_add(connection.timer, &timeout);
}

void RedisClient::OnHandshakeReply(redisAsyncContext* context, const redisReply* reply,
                                   Connection& connection) {
  // nullptr: the context is going away; whoever closes it reports why.
  if (reply == nullptr || connection.context != context) return;
  if (reply->type == REDIS_REPLY_ERROR) {
    return CloseConnection(connection,
                           absl::StrCat("handshake: ", absl::string_view(reply->str, reply->len)));
  }
  if (--connection.handshake_pending == 0) SetReady(connection);
}

void RedisClient::OnConnectionTimer(Connection& connection) {
  switch (connection.state) {
    case Connection::State::kConnecting:
      return CloseConnection(connection, absl::StrCat("connect: no handshake reply within ",
                                                      absl::FormatDuration(options_.connect_timeout)));
    case Connection::State::kBackoff:
      return StartConnect(connection);
    case Connection::State::kIdle:
    case Connection::State::kReady:
      return;
  }
}

void RedisClient::SetReady(Connection& connection) {
  evtimer_del(connection.timer);
  connection.state = Connection::State::kReady;
  connection.backoff = options_.reconnect_backoff_min;
  if (connection.recovering) Bump(counters_->reconnects);
  connection.recovering = false;
  absl::MutexLock lock(&mu_);
  ++ready_connections_;
}

// Only from a libevent callback or a reply callback: hiredis defers the free until a reply callback returns,
// but freeing from its connect or disconnect callback would free the context under its feet.
void RedisClient::CloseConnection(Connection& connection, std::string error) {
  redisAsyncContext* context = connection.context;
  connection.context = nullptr;  // so the callbacks run by redisAsyncFree know the client closed it
  ConnectionLost(connection, std::move(error));
  redisAsyncFree(context);
}

void RedisClient::ConnectionLost(Connection& connection, std::string error) {
  if (connection.state == Connection::State::kReady) {
    absl::MutexLock lock(&mu_);
    --ready_connections_;
  }
  if (shutting_down_) {
    connection.state = Connection::State::kIdle;
    return;
  }
  Bump(connection.state == Connection::State::kReady ? counters_->disconnects : counters_->connect_failures);
  last_error_ = std::move(error);
  connection.recovering = true;
  connection.state = Connection::State::kBackoff;
  const timeval delay = ClampedTimeval(connection.backoff * absl::Uniform(bitgen_, 0.5, 1.0));
  evtimer_add(connection.timer, &delay);
  connection.backoff = std::min(connection.backoff * 2, options_.reconnect_backoff_max);
}

void RedisClient::Shutdown() {
  shutting_down_ = true;
  for (const std::unique_ptr<Connection>& connection : connections_) {
    evtimer_del(connection->timer);
    if (connection->context != nullptr) CloseConnection(*connection, std::string(kShutDown));
  }
  // Callbacks may have submitted more commands meanwhile; fail them too until none are left.
  for (;;) {
    std::vector<Request> batch;
    {
      absl::MutexLock lock(&mu_);
      batch.swap(queue_);
    }
    if (batch.empty()) break;
    for (Request& request : batch) Fail(request, absl::UnavailableError(kShutDown), counters_->unavailable);
  }
  event_base_loopbreak(base_);
}

}  // namespace tradein::redis
