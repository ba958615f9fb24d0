#include "services/redis/cluster_client.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <sys/time.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "hiredis/hiredis.h"

namespace tradein::redis {
namespace {

constexpr absl::string_view kShutDown = "redis cluster client shut down";

void Bump(std::atomic<int64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

timeval ClampedTimeval(absl::Duration d) { return absl::ToTimeval(std::max(d, absl::ZeroDuration())); }

}  // namespace

struct ClusterClient::Counters {
  std::atomic<int64_t> moved{0};
  std::atomic<int64_t> ask{0};
  std::atomic<int64_t> tryagain{0};
  std::atomic<int64_t> clusterdown{0};
  std::atomic<int64_t> unreachable{0};
  std::atomic<int64_t> retries{0};
  std::atomic<int64_t> refreshes{0};
  std::atomic<int64_t> refresh_failures{0};
  std::atomic<int64_t> masters_added{0};
  std::atomic<int64_t> masters_dropped{0};
};

// One call, from its submission to its answer, across its tries.
struct ClusterClient::Call {
  ClusterClient* client = nullptr;
  std::vector<std::string> args;  // Command: the command; EvalScript: the script's arguments
  std::optional<RedisScript> script;
  std::vector<std::string> keys;  // EvalScript
  absl::Time deadline;
  WriteConcern concern;
  Callback done;
  int slot = -1;  // -1: no key (runs on every master)
  int redirects = 0;
  absl::Duration backoff;
  std::optional<ClusterEndpoint> ask;  // the next try goes there, after ASKING
  std::string last_error;              // why the last try was not answered
};

// The C callbacks handed to libevent.
struct ClusterCallbacks {
  static void OnTick(evutil_socket_t, short, void* client) { static_cast<ClusterClient*>(client)->OnTick(); }
  static void OnRetry(evutil_socket_t, short, void* call) {
    auto* c = static_cast<ClusterClient::Call*>(call);
    c->client->OnRetryTimer(c);
  }
};

absl::Status ClusterOptions::Validate() const {
  if (seeds.empty()) return absl::InvalidArgumentError("cluster: at least one seed node is needed");
  for (const ClusterEndpoint& seed : seeds) {
    if (seed.host.empty() || seed.port <= 0 || seed.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("cluster: bad seed node \"", seed.address(), "\""));
    }
  }
  RedisOptions checked = node;
  checked.host = seeds.front().host;
  checked.port = seeds.front().port;
  TRADEIN_RETURN_IF_ERROR(checked.Validate());
  if (refresh_interval <= absl::ZeroDuration() || refresh_tick <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("cluster: refresh_interval and refresh_tick must be positive");
  }
  if (retry_backoff_min <= absl::ZeroDuration() || retry_backoff_max < retry_backoff_min) {
    return absl::InvalidArgumentError("cluster: need 0 < retry_backoff_min <= retry_backoff_max");
  }
  if (max_redirects < 1) return absl::InvalidArgumentError("cluster: max_redirects must be at least 1");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ClusterEndpoint>> ParseSeeds(absl::string_view text, absl::string_view flag) {
  std::vector<ClusterEndpoint> seeds;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    absl::StatusOr<ClusterEndpoint> seed = ParseHostPort(part, flag);
    if (!seed.ok()) return seed.status();
    if (seed->host.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": \"", part, "\" has no host"));
    }
    seeds.push_back(*std::move(seed));
  }
  if (seeds.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": no HOST:PORT given"));
  return seeds;
}

absl::StatusOr<std::unique_ptr<ClusterClient>> ClusterClient::Create(ClusterOptions options) {
  TRADEIN_RETURN_IF_ERROR(options.Validate());
  // Makes event_base_once() and event_base_loopbreak() callable from other threads. Once per process.
  static const bool threads_enabled = evthread_use_pthreads() == 0;
  if (!threads_enabled) return absl::InternalError("libevent: evthread_use_pthreads failed");
  std::unique_ptr<ClusterClient> client(new ClusterClient(std::move(options)));
  client->base_ = event_base_new();
  if (client->base_ == nullptr) return absl::InternalError("libevent: event_base_new failed");
  client->tick_ = event_new(client->base_, -1, EV_PERSIST, &ClusterCallbacks::OnTick, client.get());
  const timeval tick = ClampedTimeval(client->options_.refresh_tick);
  evtimer_add(client->tick_, &tick);
  client->thread_ = std::thread(&ClusterClient::Run, client.get());
  return client;
}

ClusterClient::ClusterClient(ClusterOptions options)
    : options_(std::move(options)), counters_(std::make_unique<Counters>()) {}

ClusterClient::~ClusterClient() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) {
    event_base_loopbreak(base_);
    thread_.join();
  }
  std::set<Call*> waiting;
  std::map<std::string, std::shared_ptr<RedisClient>> pools;
  std::vector<std::shared_ptr<RedisClient>> retired;
  {
    absl::MutexLock lock(&mu_);
    waiting.swap(waiting_);
    pools.swap(pools_);
    retired.swap(retired_);
  }
  for (Call* call : waiting) Finish(std::unique_ptr<Call>(call), absl::UnavailableError(kShutDown));
  pools.clear();  // fails their calls in flight, whose callbacks see stopping_
  retired.clear();
  if (tick_ != nullptr) event_free(tick_);
  if (base_ != nullptr) event_base_free(base_);
}

// ---- Calls ------------------------------------------------------------------------------------------------

void ClusterClient::Command(std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
                            Callback done) {
  if (args.empty()) {
    std::move(done)(absl::InvalidArgumentError("redis: empty command"));
    return;
  }
  auto call = std::make_unique<Call>();
  call->slot = args.size() > 1 ? KeySlot(args[1]) : -1;
  call->args = std::move(args);
  call->deadline = deadline;
  call->concern = concern;
  call->done = std::move(done);
  Start(std::move(call));
}

void ClusterClient::EvalScript(const RedisScript& script, std::vector<std::string> keys,
                               std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
                               Callback done) {
  auto call = std::make_unique<Call>();
  call->slot = keys.empty() ? -1 : KeySlot(keys.front());
  call->script = script;
  call->keys = std::move(keys);
  call->args = std::move(args);
  call->deadline = deadline;
  call->concern = concern;
  call->done = std::move(done);
  Start(std::move(call));
}

void ClusterClient::Start(std::unique_ptr<Call> call) {
  call->client = this;
  call->backoff = options_.retry_backoff_min;
  if (call->slot < 0) return Broadcast(std::move(call));
  Attempt(std::move(call));
}

void ClusterClient::Attempt(std::unique_ptr<Call> call) {
  if (absl::Now() >= call->deadline) {
    absl::Status expired =
        call->last_error.empty()
            ? absl::DeadlineExceededError("redis cluster: deadline passed before the call could be sent")
            : absl::UnavailableError(absl::StrCat(call->last_error, " (until the deadline)"));
    return Finish(std::move(call), std::move(expired));
  }
  std::shared_ptr<RedisClient> pool;
  std::string reason;
  bool stopping = false;
  {
    absl::MutexLock lock(&mu_);
    stopping = stopping_;
    if (call->ask.has_value()) {
      pool = PoolLocked(*call->ask);
    } else if (const ClusterShard* shard = map_ == nullptr ? nullptr : map_->ShardOf(call->slot)) {
      pool = PoolLocked(shard->master);
    } else {
      reason = absl::StrCat("redis cluster: no known master serves slot ", call->slot);
    }
  }
  if (stopping) return Finish(std::move(call), absl::UnavailableError(kShutDown));
  if (pool != nullptr && !pool->connected()) {
    reason = absl::StrCat("redis cluster: master ", pool->options().host, ":", pool->options().port,
                          " of slot ", call->slot, " has no connection up");
    pool.reset();
  }
  if (pool == nullptr) {
    Bump(counters_->unreachable);
    RefreshSoon();
    return Resend(std::move(call), std::move(reason));
  }
  const bool asking = call->ask.has_value();
  call->ask.reset();
  Send(*pool, std::move(call), asking);
}

void ClusterClient::Send(RedisClient& pool, std::unique_ptr<Call> call, bool asking) {
  const SendOptions send{call->concern, asking};
  const absl::Time deadline = call->deadline;
  // Copies: the call keeps its own for a retry.
  std::vector<std::string> args = call->args;
  std::vector<std::string> keys = call->keys;
  const std::optional<RedisScript> script = call->script;
  auto on_result = [this, host = pool.options().host,
                    call = std::move(call)](absl::StatusOr<RedisValue> result) mutable {
    OnResult(std::move(call), host, std::move(result));
  };
  if (!script.has_value()) return pool.Command(std::move(args), deadline, send, std::move(on_result));
  pool.EvalScript(*script, std::move(keys), std::move(args), deadline, send, std::move(on_result));
}

void ClusterClient::OnResult(std::unique_ptr<Call> call, const std::string& node_host,
                             absl::StatusOr<RedisValue> result) {
  if (result.ok()) return Finish(std::move(call), std::move(result));
  const std::string reply = ErrorReplyOf(result.status());
  if (reply.empty()) {
    // Made by the client: a lost connection or a deadline (a master that stopped answering). The call may
    // have run: never resent. The map may be stale: a replica may be taking over.
    RefreshSoon();
    return Finish(std::move(call), std::move(result));
  }
  if (std::optional<Redirect> redirect = ParseRedirect(reply, node_host)) {
    if (++call->redirects > options_.max_redirects) {
      return Finish(std::move(call),
                    absl::UnavailableError(absl::StrCat("redis cluster: still redirected after ",
                                                        options_.max_redirects, " tries: ", reply)));
    }
    if (redirect->kind == Redirect::Kind::kMoved) {
      Bump(counters_->moved);
      NoteMoved(*redirect);
      RefreshSoon();
    } else {
      Bump(counters_->ask);
      call->ask = redirect->to;
    }
    return Attempt(std::move(call));
  }
  if (absl::StartsWith(reply, "TRYAGAIN")) {
    Bump(counters_->tryagain);
    return Resend(std::move(call), reply);
  }
  if (absl::StartsWith(reply, "CLUSTERDOWN")) {
    Bump(counters_->clusterdown);
    RefreshSoon();
    return Resend(std::move(call), reply);
  }
  // LOADING, READONLY, MASTERDOWN, ...: maybe a role change the map does not know yet.
  if (absl::IsUnavailable(result.status())) RefreshSoon();
  Finish(std::move(call), std::move(result));
}

void ClusterClient::Resend(std::unique_ptr<Call> call, std::string reason) {
  call->last_error = std::move(reason);
  bool stopping = false;
  bool too_late = false;
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    stopping = stopping_;
    delay = call->backoff * absl::Uniform(bitgen_, 0.5, 1.0);
    too_late = absl::Now() + delay >= call->deadline;
    // From here the destructor may fail it (it fails every call in waiting_).
    if (!stopping && !too_late) waiting_.insert(call.get());
  }
  if (stopping) return Finish(std::move(call), absl::UnavailableError(kShutDown));
  if (too_late) {
    absl::Status status = absl::UnavailableError(absl::StrCat(call->last_error, " (until the deadline)"));
    return Finish(std::move(call), std::move(status));
  }
  call->backoff = std::min(call->backoff * 2, options_.retry_backoff_max);
  Bump(counters_->retries);
  const timeval tv = ClampedTimeval(delay);
  event_base_once(base_, -1, EV_TIMEOUT, &ClusterCallbacks::OnRetry, call.release(), &tv);
}

void ClusterClient::OnRetryTimer(Call* call) {
  {
    absl::MutexLock lock(&mu_);
    if (waiting_.erase(call) == 0) return;  // the destructor failed it
  }
  Attempt(std::unique_ptr<Call>(call));
}

void ClusterClient::Broadcast(std::unique_ptr<Call> call) {
  std::vector<std::shared_ptr<RedisClient>> pools;
  std::string problem;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      problem = std::string(kShutDown);
    } else if (map_ == nullptr) {
      problem = "redis cluster: no slot map yet";
    } else if (const int uncovered = map_->UncoveredSlots(); uncovered > 0) {
      problem = absl::StrCat("redis cluster: ", uncovered, " slots are served by no known master");
    } else {
      for (const ClusterShard& shard : map_->shards()) {
        if (std::shared_ptr<RedisClient> pool = PoolLocked(shard.master)) pools.push_back(std::move(pool));
      }
    }
  }
  if (!problem.empty()) {
    RefreshSoon();
    return Finish(std::move(call), absl::UnavailableError(problem));
  }
  // Every master's answer, kept until the last one; the first master's reply or the first failure wins.
  struct Gather {
    absl::Mutex mu;
    int remaining ABSL_GUARDED_BY(mu);
    std::vector<absl::StatusOr<RedisValue>> results ABSL_GUARDED_BY(mu);
    std::unique_ptr<Call> call;

    void Add(size_t i, absl::StatusOr<RedisValue> result) {
      std::vector<absl::StatusOr<RedisValue>> all;
      {
        absl::MutexLock lock(&mu);
        results[i] = std::move(result);
        if (--remaining > 0) return;
        all.swap(results);
      }
      absl::StatusOr<RedisValue> answer = std::move(all.front());
      for (absl::StatusOr<RedisValue>& r : all) {
        if (!r.ok()) {
          answer = std::move(r);
          break;
        }
      }
      ClusterClient* client = call->client;
      client->Finish(std::move(call), std::move(answer));
    }
  };
  auto gather = std::make_shared<Gather>();
  {
    absl::MutexLock lock(&gather->mu);
    gather->remaining = static_cast<int>(pools.size());
    gather->results.assign(pools.size(), absl::UnknownError("not answered"));
  }
  const Call& c = *call;
  const std::vector<std::string> args = c.args;
  const std::optional<RedisScript> script = c.script;
  const absl::Time deadline = c.deadline;
  const SendOptions send{c.concern, false};
  gather->call = std::move(call);
  for (size_t i = 0; i < pools.size(); ++i) {
    auto add = [gather, i](absl::StatusOr<RedisValue> result) { gather->Add(i, std::move(result)); };
    if (!pools[i]->connected()) {
      Bump(counters_->unreachable);
      RefreshSoon();
      add(absl::UnavailableError(absl::StrCat("redis cluster: master ", pools[i]->options().host, ":",
                                              pools[i]->options().port, " has no connection up")));
    } else if (script.has_value()) {
      pools[i]->EvalScript(*script, {}, args, deadline, send, std::move(add));
    } else {
      pools[i]->Command(args, deadline, send, std::move(add));
    }
  }
}

void ClusterClient::Finish(std::unique_ptr<Call> call, absl::StatusOr<RedisValue> result) {
  std::move(call->done)(std::move(result));
}

// ---- The slot map -----------------------------------------------------------------------------------------

std::shared_ptr<RedisClient> ClusterClient::PoolLocked(const ClusterEndpoint& node) {
  const std::string address = node.address();
  if (auto it = pools_.find(address); it != pools_.end()) return it->second;
  if (stopping_) return nullptr;
  RedisOptions options = options_.node;
  options.host = node.host;
  options.port = node.port;
  options.db = 0;
  absl::StatusOr<std::unique_ptr<RedisClient>> pool = RedisClient::Create(std::move(options));
  if (!pool.ok()) return nullptr;
  Bump(counters_->masters_added);
  std::shared_ptr<RedisClient> shared = *std::move(pool);
  pools_.emplace(address, shared);
  return shared;
}

void ClusterClient::InstallMap(SlotMap map) {
  auto installed = std::make_shared<const SlotMap>(std::move(map));
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  map_ = installed;
  std::set<std::string> masters;
  for (const ClusterShard& shard : installed->shards()) {
    masters.insert(shard.master.address());
    PoolLocked(shard.master);
  }
  for (auto it = pools_.begin(); it != pools_.end();) {
    if (masters.count(it->first) > 0) {
      ++it;
      continue;
    }
    Bump(counters_->masters_dropped);
    retired_.push_back(std::move(it->second));
    it = pools_.erase(it);
  }
}

void ClusterClient::NoteMoved(const Redirect& redirect) {
  absl::MutexLock lock(&mu_);
  SlotMap updated = map_ != nullptr ? *map_ : SlotMap();
  updated.Assign(redirect.slot, redirect.slot, ClusterShard{redirect.to, {}});
  map_ = std::make_shared<const SlotMap>(std::move(updated));
}

std::shared_ptr<const SlotMap> ClusterClient::slot_map() const {
  absl::MutexLock lock(&mu_);
  return map_;
}

void ClusterClient::RefreshSoon() {
  absl::MutexLock lock(&mu_);
  refresh_wanted_ = true;
}

bool ClusterClient::connected() const {
  absl::MutexLock lock(&mu_);
  if (map_ == nullptr || map_->UncoveredSlots() > 0) return false;
  for (const ClusterShard& shard : map_->shards()) {
    auto it = pools_.find(shard.master.address());
    if (it == pools_.end() || !it->second->connected()) return false;
  }
  return true;
}

bool ClusterClient::WaitForSlotMap(absl::Time deadline) {
  while (!connected()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

ClusterClientStats ClusterClient::stats() const {
  const Counters& c = *counters_;
  auto get = [](const std::atomic<int64_t>& counter) { return counter.load(std::memory_order_relaxed); };
  ClusterClientStats stats;
  stats.moved = get(c.moved);
  stats.ask = get(c.ask);
  stats.tryagain = get(c.tryagain);
  stats.clusterdown = get(c.clusterdown);
  stats.unreachable = get(c.unreachable);
  stats.retries = get(c.retries);
  stats.refreshes = get(c.refreshes);
  stats.refresh_failures = get(c.refresh_failures);
  stats.masters_added = get(c.masters_added);
  stats.masters_dropped = get(c.masters_dropped);
  return stats;
}

RedisClientStats ClusterClient::node_stats() const {
  RedisClientStats sum;
  absl::MutexLock lock(&mu_);
  for (const auto& [address, pool] : pools_) {
    const RedisClientStats s = pool->stats();
    sum.commands_sent += s.commands_sent;
    sum.replies += s.replies;
    sum.late_replies += s.late_replies;
    sum.timeouts += s.timeouts;
    sum.unavailable += s.unavailable;
    sum.retryable_errors += s.retryable_errors;
    sum.server_errors += s.server_errors;
    sum.script_loads += s.script_loads;
    sum.waits += s.waits;
    sum.waits_short += s.waits_short;
    sum.connect_failures += s.connect_failures;
    sum.disconnects += s.disconnects;
    sum.reconnects += s.reconnects;
    sum.latency_micros_sum += s.latency_micros_sum;
    sum.latency_count += s.latency_count;
  }
  return sum;
}

// ---- Timer thread -----------------------------------------------------------------------------------------

void ClusterClient::Run() { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); }

void ClusterClient::OnTick() {
  std::vector<std::shared_ptr<RedisClient>> unused;
  bool start = false;
  {
    absl::MutexLock lock(&mu_);
    // A retired pool is freed here, on this thread, once only retired_ holds it: never on its own loop
    // thread (its destructor joins that thread) and never under a caller's feet.
    auto held = std::partition(retired_.begin(), retired_.end(),
                               [](const std::shared_ptr<RedisClient>& p) { return p.use_count() > 1; });
    std::move(held, retired_.end(), std::back_inserter(unused));
    retired_.erase(held, retired_.end());
    const absl::Time now = absl::Now();
    if (!refresh_in_flight_ && (refresh_wanted_ || now >= last_refresh_ + options_.refresh_interval)) {
      refresh_in_flight_ = true;
      refresh_wanted_ = false;
      last_refresh_ = now;
      start = true;
    }
  }
  unused.clear();  // joins their loop threads, outside mu_
  if (start) StartRefresh();
}

void ClusterClient::StartRefresh() {
  std::shared_ptr<RedisClient> source;
  std::vector<ClusterEndpoint> seeds = options_.seeds;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::shared_ptr<RedisClient>> connected;
    for (const auto& [address, pool] : pools_) {
      if (pool->connected()) connected.push_back(pool);
    }
    const size_t turn = next_source_++;
    if (!connected.empty()) source = connected[turn % connected.size()];
    std::rotate(seeds.begin(), seeds.begin() + static_cast<std::ptrdiff_t>(turn % seeds.size()), seeds.end());
  }
  if (source != nullptr) {
    const absl::Duration timeout = std::min(options_.node.connect_timeout, absl::Seconds(1));
    source->Command({"CLUSTER", "SLOTS"}, absl::Now() + timeout,
                    [this, host = source->options().host](absl::StatusOr<RedisValue> reply) {
                      OnSlots(std::move(reply), host);
                    });
    return;
  }
  // No master is reachable (or none is known yet): ask the seeds from here. Blocking this thread delays
  // only retries, which have nowhere to go meanwhile anyway.
  absl::Status last = absl::UnavailableError("no seed answered");
  for (const ClusterEndpoint& seed : seeds) {
    absl::StatusOr<RedisValue> reply = AskSeed(seed);
    if (reply.ok()) return OnSlots(std::move(reply), seed.host);
    last = reply.status();
  }
  OnSlots(last, "");
}

void ClusterClient::OnSlots(absl::StatusOr<RedisValue> reply, const std::string& host) {
  absl::StatusOr<SlotMap> map = reply.ok() ? ParseClusterSlots(*reply, host) : reply.status();
  const bool ok = map.ok() && !map->shards().empty();
  if (ok) {
    Bump(counters_->refreshes);
    InstallMap(*std::move(map));
  } else {
    Bump(counters_->refresh_failures);
  }
  absl::MutexLock lock(&mu_);
  refresh_in_flight_ = false;
  if (!ok) refresh_wanted_ = true;  // the next tick asks another node
}

absl::StatusOr<RedisValue> ClusterClient::AskSeed(const ClusterEndpoint& seed) const {
  const timeval timeout = ClampedTimeval(options_.node.connect_timeout);
  redisContext* context = redisConnectWithTimeout(seed.host.c_str(), seed.port, timeout);
  if (context == nullptr) return absl::UnavailableError("redis cluster: out of memory");
  auto run = [&](const std::vector<std::string>& args) -> absl::StatusOr<RedisValue> {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (reply == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("redis cluster: seed ", seed.address(), ": ", context->errstr));
    }
    RedisValue value = RedisValue::FromReply(*reply);
    freeReplyObject(reply);
    if (value.is_error()) return ErrorReplyToStatus(value.str());
    return value;
  };
  absl::StatusOr<RedisValue> result =
      context->err != 0 ? absl::UnavailableError(
                              absl::StrCat("redis cluster: seed ", seed.address(), ": ", context->errstr))
                        : absl::StatusOr<RedisValue>(RedisValue());
  if (result.ok()) redisSetTimeout(context, timeout);
  if (result.ok() && !options_.node.user.empty()) {
    result = run({"AUTH", options_.node.user, options_.node.password});
  } else if (result.ok() && !options_.node.password.empty()) {
    result = run({"AUTH", options_.node.password});
  }
  if (result.ok()) result = run({"CLUSTER", "SLOTS"});
  redisFree(context);
  return result;
}

}  // namespace tradein::redis
