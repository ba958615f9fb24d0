#include "tools/loadgen/loadgen.h"

#include <sys/prctl.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "tools/loadgen/workload.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein::loadgen {
namespace {

constexpr size_t kShards = 16;
constexpr absl::Duration kConnectTimeout = absl::Seconds(10);
constexpr size_t kRecentClaims = 4096;
// Quotes are drawn from this many pre-built requests: building a basket per call would cost the load
// generator CPU that, on a machine it shares with the server, the server could have used.
constexpr size_t kQuotePool = 8192;

// Set from a signal handler (RequestStop): no operation starts after it.
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "RequestStop must be async-signal-safe");

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SleepUntilNanos(int64_t when_ns) {
  // steady_clock is CLOCK_MONOTONIC on Linux: an absolute sleep does not drift with the loop's own work.
  timespec when;
  when.tv_sec = static_cast<time_t>(when_ns / 1000000000);
  when.tv_nsec = static_cast<long>(when_ns % 1000000000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, nullptr) == EINTR) {
  }
}

template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  // What is sent: `request`, or a shared pre-built one that outlives the call.
  const Request* send = &request;
  Response response;
  int64_t origin_ns = 0;  // latency is measured from here
};

struct Channel {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;
  std::unique_ptr<v1::SubsidyService::Stub> subsidy;
  std::unique_ptr<v1::ClaimService::Stub> claims;
};

// Closed loop: one operation in flight at a time; its RNG and shard are its own.
struct Slot {
  Slot(size_t i, uint64_t seed) : index(i), rng(seed) {}
  const size_t index;
  Rng rng;
};

struct Op {
  OpKind kind = OpKind::kHealth;
  int64_t origin_ns = 0;  // intended start (open loop) or actual start (closed loop)
  bool measured = false;
  size_t shard = 0;
  size_t channel = 0;
  Slot* slot = nullptr;  // closed loop: the slot that goes on when this operation ends
  bool failed = false;
};

// Claims made in this run, for the mixed scenario's reads.
class RecentClaims {
 public:
  void Add(const std::string& claim_id, const std::string& buyer) {
    absl::MutexLock lock(&mu_);
    if (entries_.size() < kRecentClaims) {
      entries_.emplace_back(claim_id, buyer);
    } else {
      entries_[next_] = {claim_id, buyer};
    }
    next_ = (next_ + 1) % kRecentClaims;
  }
  bool Pick(Rng& rng, std::string& claim_id, std::string& buyer) {
    absl::MutexLock lock(&mu_);
    if (entries_.empty()) return false;
    const auto& entry =
        entries_[static_cast<size_t>(rng.Uniform(0, static_cast<int64_t>(entries_.size()) - 1))];
    claim_id = entry.first;
    buyer = entry.second;
    return true;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::string>> entries_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
};

class Driver {
 public:
  Driver(const LoadgenOptions& options, std::string run_id)
      : options_(options),
        run_id_(std::move(run_id)),
        run_key_(RunKey(run_id_)),
        seed_(options.seed != 0 ? options.seed : run_key_),
        bearer_(options.token.empty() ? "" : absl::StrCat("Bearer ", options.token)),
        recorder_(kShards),
        next_buyer_(static_cast<uint64_t>(options.hot_buyers)) {}

  absl::Status Connect();
  RunResult Run();

 private:
  void BuildQuotes();
  bool MayStart(int64_t origin_ns, bool& measured);
  void StartOp(Rng& rng, Slot* slot, int64_t origin_ns, bool measured, uint64_t sequence);
  void ContinueSlot(Slot& slot);
  void FinishOp(Op* op, int64_t now_ns);
  void Sender();

  OpKind PickKind(Rng& rng) const;
  std::string NextBuyer() { return BuyerPrcId(run_key_, next_buyer_.fetch_add(1)); }
  std::string NextRequestId(char kind) {
    return absl::StrCat(run_id_, "-", std::string(1, kind), next_request_++);
  }

  void SendHealth(Op* op);
  void SendQuote(Op* op, Rng& rng);
  void SendClaim(Op* op, Rng& rng, bool hot);
  void SendConfirm(Op* op, const v1::Claim& claim);
  void SendGetClaim(Op* op, const std::string& claim_id);
  void SendGetBuyerUsage(Op* op, const std::string& buyer);

  // Sends `call` with `start(channel, call, done)`; when it ends, records it and runs `then(op, ok, call,
  // now)`, which returns true when the operation is over (false: it sent the operation's next call).
  template <typename Request, typename Response, typename StartFn, typename ThenFn>
  void Send(Op* op, CallKind kind, std::unique_ptr<Call<Request, Response>> call, StartFn start, ThenFn then);

  const LoadgenOptions options_;
  const std::string run_id_;
  const uint64_t run_key_;
  const uint64_t seed_;
  const std::string bearer_;
  std::vector<std::unique_ptr<Channel>> channels_;
  Recorder recorder_;
  RecentClaims recent_;
  std::vector<v1::QuoteRequest> quotes_;  // read-only once the run starts

  int64_t start_ns_ = 0;
  int64_t measure_start_ns_ = 0;
  int64_t end_ns_ = 0;

  std::atomic<uint64_t> next_buyer_;
  std::atomic<uint64_t> next_request_{1};
  std::atomic<int64_t> measured_started_{0};
  std::atomic<int64_t> last_measured_end_ns_{0};
  std::atomic<int64_t> stopped_at_ns_{0};  // when a RequestStop() was first seen
  std::atomic<int64_t> active_slots_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> max_in_flight_{0};
  std::atomic<int64_t> throttled_{0};
  std::atomic<bool> sender_done_{false};
  std::atomic<int64_t> finished_ops_{0};
  std::atomic<int64_t> failed_ops_{0};
  LatencyHistogram send_lag_;  // the sender thread's only
};

absl::Status Driver::Connect() {
  for (int i = 0; i < options_.channels; ++i) {
    grpc::ChannelArguments args;
    // Each channel its own subchannel, hence its own TCP connection; the distinct argument makes sure.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("tradein.loadgen.channel_index", i);
    auto channel = std::make_unique<Channel>();
    channel->channel = grpc::CreateCustomChannel(options_.target, grpc::InsecureChannelCredentials(), args);
    if (!channel->channel->WaitForConnected(absl::ToChronoTime(absl::Now() + kConnectTimeout))) {
      return absl::UnavailableError(absl::StrCat("cannot connect to ", options_.target, " within ",
                                                 absl::FormatDuration(kConnectTimeout)));
    }
    channel->health = grpc::health::v1::Health::NewStub(channel->channel);
    channel->subsidy = v1::SubsidyService::NewStub(channel->channel);
    channel->claims = v1::ClaimService::NewStub(channel->channel);
    channels_.push_back(std::move(channel));
  }
  return absl::OkStatus();
}

bool Driver::MayStart(int64_t origin_ns, bool& measured) {
  if (g_stop_requested.load(std::memory_order_relaxed)) {
    int64_t never = 0;
    stopped_at_ns_.compare_exchange_strong(never, NowNanos());
    return false;
  }
  measured = origin_ns >= measure_start_ns_;
  if (options_.count <= 0) return origin_ns < end_ns_;
  if (!measured) return true;
  return measured_started_.fetch_add(1) < options_.count;
}

OpKind Driver::PickKind(Rng& rng) const {
  switch (options_.scenario) {
    case Scenario::kHealth:
      return OpKind::kHealth;
    case Scenario::kQuote:
      return OpKind::kQuote;
    case Scenario::kClaim:
      return OpKind::kClaimConfirm;
    case Scenario::kHot:
      return OpKind::kHotClaim;
    case Scenario::kMixed: {
      const int64_t p = rng.Uniform(0, 99);
      if (p < 70) return OpKind::kQuote;
      if (p < 90) return OpKind::kClaimConfirm;
      return p < 95 ? OpKind::kGetClaim : OpKind::kGetBuyerUsage;
    }
  }
  return OpKind::kHealth;
}

void Driver::StartOp(Rng& rng, Slot* slot, int64_t origin_ns, bool measured, uint64_t sequence) {
  Op* op = new Op;
  op->kind = PickKind(rng);
  op->origin_ns = origin_ns;
  op->measured = measured;
  op->slot = slot;
  const size_t spread = slot != nullptr ? slot->index : static_cast<size_t>(sequence);
  op->shard = spread;
  op->channel = spread % channels_.size();
  switch (op->kind) {
    case OpKind::kHealth:
      return SendHealth(op);
    case OpKind::kQuote:
      return SendQuote(op, rng);
    case OpKind::kClaimConfirm:
      return SendClaim(op, rng, false);
    case OpKind::kHotClaim:
      return SendClaim(op, rng, true);
    case OpKind::kGetClaim: {
      std::string claim_id, buyer;
      if (recent_.Pick(rng, claim_id, buyer)) return SendGetClaim(op, claim_id);
      op->kind = OpKind::kGetBuyerUsage;  // nothing claimed yet
      return SendGetBuyerUsage(op, NextBuyer());
    }
    case OpKind::kGetBuyerUsage: {
      std::string claim_id, buyer;
      return SendGetBuyerUsage(op, recent_.Pick(rng, claim_id, buyer) ? buyer : NextBuyer());
    }
  }
}

template <typename Request, typename Response, typename StartFn, typename ThenFn>
void Driver::Send(Op* op, CallKind kind, std::unique_ptr<Call<Request, Response>> call, StartFn start,
                  ThenFn then) {
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
  if (!bearer_.empty()) call->context.AddMetadata("authorization", bearer_);
  Call<Request, Response>* raw = call.release();
  start(*channels_[op->channel], raw, [this, op, kind, raw, then](grpc::Status status) {
    const int64_t now = NowNanos();
    std::unique_ptr<Call<Request, Response>> owned(raw);
    if (op->measured) {
      recorder_.RecordCall(op->shard, kind, now - owned->origin_ns, static_cast<int>(status.error_code()));
    }
    if (!status.ok()) op->failed = true;
    const bool finished = then(op, status.ok(), *owned, now);
    owned.reset();  // before FinishOp: the run may end (and the driver go) once the last op is finished
    if (finished) FinishOp(op, now);
  });
}

void Driver::SendHealth(Op* op) {
  using C = Call<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>;
  auto call = std::make_unique<C>();
  call->origin_ns = op->origin_ns;
  Send(
      op, CallKind::kHealth, std::move(call),
      [](Channel& ch, C* c, std::function<void(grpc::Status)> done) {
        ch.health->async()->Check(&c->context, &c->request, &c->response, std::move(done));
      },
      [](Op*, bool, C&, int64_t) { return true; });
}

void Driver::SendQuote(Op* op, Rng& rng) {
  using C = Call<v1::QuoteRequest, v1::QuoteResponse>;
  auto call = std::make_unique<C>();
  call->send = &quotes_[static_cast<size_t>(rng.Next() % quotes_.size())];
  call->origin_ns = op->origin_ns;
  Send(
      op, CallKind::kQuote, std::move(call),
      [](Channel& ch, C* c, std::function<void(grpc::Status)> done) {
        ch.subsidy->async()->Quote(&c->context, c->send, &c->response, std::move(done));
      },
      [](Op*, bool, C&, int64_t) { return true; });
}

void Driver::SendClaim(Op* op, Rng& rng, bool hot) {
  using C = Call<v1::ClaimRequest, v1::Claim>;
  auto call = std::make_unique<C>();
  const std::string retailer = options_.retailer_id.empty()
                                   ? absl::StrCat("loadgen-till-", rng.Next() % static_cast<uint64_t>(options_.retailers))
                                   : options_.retailer_id;
  if (hot) {
    const std::string buyer =
        BuyerPrcId(run_key_, rng.Next() % static_cast<uint64_t>(std::max(1, options_.hot_buyers)));
    MakeHotClaim(rng, NextRequestId('h'), retailer, buyer, options_.claim_date, call->request);
  } else {
    MakeClaim(rng, options_.claim_basket, NextRequestId('c'), retailer, NextBuyer(), options_.claim_date,
              call->request);
  }
  call->origin_ns = op->origin_ns;
  Send(
      op, CallKind::kClaim, std::move(call),
      [](Channel& ch, C* c, std::function<void(grpc::Status)> done) {
        ch.claims->async()->Claim(&c->context, &c->request, &c->response, std::move(done));
      },
      [this](Op* o, bool ok, C& c, int64_t) {
        if (!ok) return true;
        if (o->measured) recorder_.RecordClaimState(o->shard, false, static_cast<int>(c.response.state()));
        if (options_.scenario == Scenario::kMixed) {
          recent_.Add(c.response.claim_id(), c.request.buyer().id_number());
        }
        if (c.response.state() != v1::Claim::RESERVED) return true;
        SendConfirm(o, c.response);
        return false;  // the operation goes on with its second call
      });
}

void Driver::SendConfirm(Op* op, const v1::Claim& claim) {
  using C = Call<v1::ConfirmClaimRequest, v1::Claim>;
  auto call = std::make_unique<C>();
  MakeConfirm(claim, absl::StrCat("INV-", claim.request_id()),
              /*with_serials=*/options_.claim_basket == ClaimBasket::kMixed, call->request);
  call->origin_ns = NowNanos();
  Send(
      op, CallKind::kConfirm, std::move(call),
      [](Channel& ch, C* c, std::function<void(grpc::Status)> done) {
        ch.claims->async()->ConfirmClaim(&c->context, &c->request, &c->response, std::move(done));
      },
      [this](Op* o, bool ok, C& c, int64_t) {
        if (ok && o->measured) {
          recorder_.RecordClaimState(o->shard, true, static_cast<int>(c.response.state()));
        }
        return true;
      });
}

void Driver::SendGetClaim(Op* op, const std::string& claim_id) {
  using C = Call<v1::GetClaimRequest, v1::Claim>;
  auto call = std::make_unique<C>();
  call->request.set_claim_id(claim_id);
  call->origin_ns = op->origin_ns;
  Send(
      op, CallKind::kGetClaim, std::move(call),
      [](Channel& ch, C* c, std::function<void(grpc::Status)> done) {
        ch.claims->async()->GetClaim(&c->context, &c->request, &c->response, std::move(done));
      },
      [](Op*, bool, C&, int64_t) { return true; });
}

void Driver::SendGetBuyerUsage(Op* op, const std::string& buyer) {
  using C = Call<v1::GetBuyerUsageRequest, v1::BuyerUsage>;
  auto call = std::make_unique<C>();
  call->request.mutable_buyer()->set_id_type(v1::Buyer::PRC_ID);
  call->request.mutable_buyer()->set_id_number(buyer);
  call->request.set_region_code("330381");
  call->request.set_transaction_date(options_.claim_date);
  call->origin_ns = op->origin_ns;
  Send(
      op, CallKind::kGetBuyerUsage, std::move(call),
      [](Channel& ch, C* c, std::function<void(grpc::Status)> done) {
        ch.claims->async()->GetBuyerUsage(&c->context, &c->request, &c->response, std::move(done));
      },
      [](Op*, bool, C&, int64_t) { return true; });
}

void Driver::FinishOp(Op* op, int64_t now_ns) {
  if (op->measured) {
    recorder_.RecordOp(op->shard, op->kind, now_ns - op->origin_ns, op->failed);
    int64_t last = last_measured_end_ns_.load();
    while (now_ns > last && !last_measured_end_ns_.compare_exchange_weak(last, now_ns)) {
    }
  }
  finished_ops_.fetch_add(1, std::memory_order_relaxed);
  if (op->failed) failed_ops_.fetch_add(1, std::memory_order_relaxed);
  Slot* slot = op->slot;
  delete op;
  if (slot != nullptr) {
    ContinueSlot(*slot);
  } else {
    in_flight_.fetch_sub(1);
  }
}

void Driver::ContinueSlot(Slot& slot) {
  const int64_t now = NowNanos();
  bool measured = false;
  if (MayStart(now, measured)) {
    StartOp(slot.rng, &slot, now, measured, 0);
  } else {
    active_slots_.fetch_sub(1);
  }
}

void Driver::Sender() {
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);  // wake up on time, not up to 50 µs late
  Rng rng(seed_);
  const double period_ns = 1e9 / options_.rate;
  for (uint64_t i = 0;; ++i) {
    const int64_t due = start_ns_ + static_cast<int64_t>(std::llround(static_cast<double>(i) * period_ns));
    bool measured = false;
    if (!MayStart(due, measured)) break;
    if (NowNanos() < due) SleepUntilNanos(due);
    while (in_flight_.load() >= options_.max_in_flight) {
      throttled_.fetch_add(1);
      absl::SleepFor(absl::Microseconds(100));
    }
    if (measured) send_lag_.Record(NowNanos() - due);
    const int64_t in_flight = in_flight_.fetch_add(1) + 1;
    if (in_flight > max_in_flight_.load()) max_in_flight_.store(in_flight);
    StartOp(rng, nullptr, due, measured, i);
  }
  sender_done_.store(true);
}

void Driver::BuildQuotes() {
  if (options_.scenario != Scenario::kQuote && options_.scenario != Scenario::kMixed) return;
  Rng rng(seed_ ^ 0x5155u);
  quotes_.resize(kQuotePool);
  for (v1::QuoteRequest& quote : quotes_) MakeQuote(rng, run_key_, options_.quote_with_buyer, quote);
}

RunResult Driver::Run() {
  BuildQuotes();
  start_ns_ = NowNanos();
  measure_start_ns_ = start_ns_ + absl::ToInt64Nanoseconds(options_.warmup);
  end_ns_ = measure_start_ns_ + absl::ToInt64Nanoseconds(options_.duration);
  const bool open_loop = options_.rate > 0;

  std::vector<std::unique_ptr<Slot>> slots;
  std::thread sender;
  if (open_loop) {
    sender = std::thread([this] { Sender(); });
  } else {
    for (int i = 0; i < options_.concurrency; ++i) {
      slots.push_back(std::make_unique<Slot>(
          static_cast<size_t>(i), seed_ ^ (uint64_t{0x9E3779B97F4A7C15} * (static_cast<uint64_t>(i) + 1))));
    }
    active_slots_.store(options_.concurrency);
    for (const std::unique_ptr<Slot>& slot : slots) ContinueSlot(*slot);
  }

  int64_t last_report_ns = NowNanos();
  int64_t last_finished = 0;
  for (;;) {
    const bool done = open_loop ? sender_done_.load() && in_flight_.load() == 0 : active_slots_.load() == 0;
    if (done) break;
    absl::SleepFor(absl::Milliseconds(10));
    const int64_t now = NowNanos();
    if (options_.progress && now - last_report_ns >= 1000000000) {
      const int64_t finished = finished_ops_.load();
      std::fprintf(
          stderr, "[%6.1f s] %s %.0f ops/s, %lld failed so far, %lld in flight\n",
          static_cast<double>(now - start_ns_) / 1e9, now < measure_start_ns_ ? "warm-up" : "",
          static_cast<double>(finished - last_finished) * 1e9 / static_cast<double>(now - last_report_ns),
          static_cast<long long>(failed_ops_.load()),
          static_cast<long long>(open_loop ? in_flight_.load() : active_slots_.load()));
      last_report_ns = now;
      last_finished = finished;
    }
  }
  if (sender.joinable()) sender.join();

  RunResult result;
  result.run_id = run_id_;
  result.stats = recorder_.Snapshot();
  const int64_t stopped_at = stopped_at_ns_.load();
  result.interrupted = stopped_at != 0;
  int64_t window_end = options_.count > 0 ? last_measured_end_ns_.load() : end_ns_;
  if (result.interrupted && options_.count <= 0) window_end = std::min(window_end, stopped_at);
  const int64_t window_ns = std::max<int64_t>(window_end - measure_start_ns_, 1);
  result.window_seconds = static_cast<double>(window_ns) / 1e9;
  result.send_lag = send_lag_;
  result.max_in_flight = open_loop ? max_in_flight_.load() : options_.concurrency;
  result.sender_throttled = throttled_.load();
  return result;
}

}  // namespace

absl::string_view ScenarioName(Scenario scenario) {
  switch (scenario) {
    case Scenario::kHealth:
      return "health";
    case Scenario::kQuote:
      return "quote";
    case Scenario::kClaim:
      return "claim";
    case Scenario::kHot:
      return "hot";
    case Scenario::kMixed:
      return "mixed";
  }
  return "?";
}

bool ParseScenario(absl::string_view name, Scenario& scenario) {
  for (Scenario s :
       {Scenario::kHealth, Scenario::kQuote, Scenario::kClaim, Scenario::kHot, Scenario::kMixed}) {
    if (ScenarioName(s) == name) {
      scenario = s;
      return true;
    }
  }
  return false;
}

void RequestStop() { g_stop_requested.store(true, std::memory_order_relaxed); }

absl::StatusOr<RunResult> RunLoad(const LoadgenOptions& options) {
  if (options.channels < 1) return absl::InvalidArgumentError("--channels must be at least 1");
  if (options.rate < 0 || !std::isfinite(options.rate))
    return absl::InvalidArgumentError("--rate must be >= 0");
  if (options.rate == 0 && options.concurrency < 1) {
    return absl::InvalidArgumentError("--concurrency must be at least 1 (or give --rate for an open loop)");
  }
  if (options.count <= 0 && options.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--duration must be positive (or give --count)");
  }
  if (options.warmup < absl::ZeroDuration()) return absl::InvalidArgumentError("--warmup must be >= 0");
  if (options.deadline <= absl::ZeroDuration())
    return absl::InvalidArgumentError("--deadline must be positive");
  if (options.hot_buyers < 1) return absl::InvalidArgumentError("--hot_buyers must be at least 1");
  if (options.max_in_flight < 1) return absl::InvalidArgumentError("--max_in_flight must be at least 1");
  if (options.quote_with_buyer < 0 || options.quote_with_buyer > 1) {
    return absl::InvalidArgumentError("--quote_with_buyer must be in [0, 1]");
  }
  const std::string run_id = options.run_id.empty() ? RandomRunId() : options.run_id;
  if (!IsValidRunId(run_id)) {
    return absl::InvalidArgumentError("--run_id must be 1-24 characters of A-Z a-z 0-9 . _ : -");
  }
  Driver driver(options, run_id);
  if (absl::Status status = driver.Connect(); !status.ok()) return status;
  return driver.Run();
}

}  // namespace tradein::loadgen
