#include "tests/quota/sim/simulation.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "services/quota/memory_quota_store.h"
#include "services/quota/redis_quota_store.h"
#include "services/redis/redis_client.h"
#include "tests/quota/alternating_store.h"
#include "tests/quota/model/reference_ledger.h"
#include "tests/quota/quota_store_contract.h"
#include "tests/testing/redis_server.h"

namespace tradein::quota::sim {
namespace {

using model::Compare;
using model::ModelAnswer;
using model::ProvisionalRefusal;
using model::ProvisionalRefusals;
using model::ReferenceLedger;
using pricing::ReasonCode;
using testing::AlternatingStore;
using testing::Budget;
using testing::Fen;
using testing::Home;
using testing::ReserveBuilder;
using testing::TestBuyer;
using testing::Units;

constexpr absl::Duration kHold = absl::Minutes(30);
constexpr absl::Duration kCallTimeout = absl::Seconds(30);  // wall clock; nothing here should take it
constexpr int kBuyers = 3;
constexpr int kSerials = 12;

// ---------------------------------------------------------------------------------------------------------
// The world the histories play in: three buyers, two shops, counters, homes, old cars, two budgets.

const std::vector<CounterLimit>& Counters() {
  static const auto* counters = new std::vector<CounterLimit>{
      Units("fridge", 1), Units("ac", 3), Fen("cap", 1500000), Fen("elderly", 2000000), Units("reno", 1)};
  return *counters;
}
const CounterLimit& CounterNamed(absl::string_view field) {
  for (const CounterLimit& c : Counters()) {
    if (c.field.substr(2) == field) return c;
  }
  std::abort();
}
const std::vector<BudgetRef>& Budgets() {
  static const auto* budgets = new std::vector<BudgetRef>{Budget("pool", 3000000), Budget("region", 2000000)};
  return *budgets;
}
OnceKey OldCar(const std::string& vin) {
  OnceKey key = Home(vin);
  key.quota_id = "car";
  key.reason_when_taken = ReasonCode::kVehicleAlreadyUsed;
  return key;
}

// A 64-bit FNV-1a of everything that happened: the trace digest.
class Digest {
 public:
  void Add(absl::string_view text) {
    for (char c : text) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 1099511628211ull;
    }
    hash_ ^= 0xff;
    hash_ *= 1099511628211ull;
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 14695981039346656037ull;
};

// Seeded choices (std::mt19937_64's output is fixed by the standard; the distributions are not, so none is
// used).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint32_t Below(uint32_t n) { return n <= 1 ? 0 : static_cast<uint32_t>(engine_() % n); }
  bool Chance(int per_mille) { return Below(1000) < static_cast<uint32_t>(per_mille); }

 private:
  std::mt19937_64 engine_;
};

std::string Describe(const Call& call) {
  switch (call.kind) {
    case Call::Kind::kReserve: {
      const ReserveRequest& r = call.reserve;
      std::string out =
          absl::StrCat("Reserve ", r.claim_id, " buyer=", r.buyer.tag, " ", r.retailer_id, "/", r.request_id,
                       " restores=", r.refund_restores_quota, " fp=", r.fingerprint);
      for (const LineRequest& line : r.lines) {
        absl::StrAppend(&out, " [", line.line_id, " ", line.units, "x", line.unit_fen);
        for (uint16_t c : line.counters) absl::StrAppend(&out, " ", r.counters[c].field);
        for (uint16_t k : line.once_keys) absl::StrAppend(&out, " once:", r.once_keys[k].value_hash);
        for (uint16_t b : line.budgets) absl::StrAppend(&out, " budget:", r.budgets[b].budget_id);
        absl::StrAppend(&out, "]");
      }
      return out;
    }
    case Call::Kind::kConfirm: {
      std::string out = absl::StrCat("Confirm ", call.claim_id);
      for (const SerialKey& s : call.confirm.serials)
        absl::StrAppend(&out, " ", s.line_id, ":", s.value_hash);
      return out;
    }
    case Call::Kind::kCancel:
      return absl::StrCat("Cancel ", call.claim_id);
    case Call::Kind::kRefund: {
      std::string out = absl::StrCat("Refund ", call.claim_id, " id=", call.refund.refund_id,
                                     " fp=", call.refund.fingerprint);
      for (const RefundLine& l : call.refund.lines) absl::StrAppend(&out, " ", l.line_id, "x", l.units);
      return out;
    }
    case Call::Kind::kVoid:
      return absl::StrCat("Void ", call.claim_id, " id=", call.void_request.request_id,
                          " fp=", call.void_request.fingerprint);
    case Call::Kind::kCorrect: {
      std::string out = absl::StrCat("Correct ", call.claim_id, " id=", call.correct.request_id,
                                     " fp=", call.correct.fingerprint);
      for (const CorrectRequest::Line& l : call.correct.lines)
        absl::StrAppend(&out, " ", l.line_id, "=", l.fen);
      if (call.correct.fix.has_value()) {
        const CorrectRequest::Fix& fix = *call.correct.fix;
        absl::StrAppend(&out, " fix ", fix.expected_confirmation, "->", fix.confirmation);
        if (fix.kind == ClaimEvent::Kind::kSerialCorrected) {
          absl::StrAppend(&out, " ", fix.old_serial.line_id, ":", fix.old_serial.value_hash, "->",
                          fix.new_serial.value_hash);
        }
      }
      return out;
    }
    case Call::Kind::kGet:
      return absl::StrCat("Get ", call.claim_id);
    case Call::Kind::kSweep:
      return "Sweep";
  }
  return "?";
}

std::string Describe(const absl::StatusOr<ClaimRecord>& r) {
  if (!r.ok()) return absl::StrCat(absl::StatusCodeToString(r.status().code()), " ", ErrorReason(r.status()));
  std::string out = absl::StrCat("state=", static_cast<int>(r->state), " replayed=", r->replayed,
                                 " change=", r->last_change_fen);
  for (size_t i = 0; i < r->grants.size(); ++i) {
    absl::StrAppend(&out, " [", r->grants[i].units, "u ", r->grants[i].fen, "f r",
                    r->grants[i].reasons.bits(), " -", r->refunds[i].units, "u ", r->refunds[i].fen, "f]");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The gate: parks every step; the driver decides which runs next.

class SimGate : public StepGate {
 public:
  struct Parked {
    std::string step;
    Resume resume;
  };

  void Before(absl::string_view step, Resume resume) override {
    absl::MutexLock lock(&mu_);
    parked_.push_back({std::string(step), std::move(resume)});
  }

  void Work(int delta) override {
    absl::MutexLock lock(&mu_);
    work_ += delta;
  }

  // Waits until no command is in flight (nothing runs then but the driver's thread). False after `timeout`.
  bool AwaitIdle(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](int* work) { return *work == 0; }, &work_),
                                timeout);
  }

  std::vector<std::string> ParkedSteps() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> steps;
    for (const Parked& p : parked_) steps.push_back(p.step);
    return steps;
  }

  Parked Take(size_t index) {
    absl::MutexLock lock(&mu_);
    Parked parked = std::move(parked_[index]);
    parked_.erase(parked_.begin() + static_cast<long>(index));
    return parked;
  }

 private:
  absl::Mutex mu_;
  std::vector<Parked> parked_ ABSL_GUARDED_BY(mu_);
  int work_ ABSL_GUARDED_BY(mu_) = 0;
};

// ---------------------------------------------------------------------------------------------------------
// What a call came to

struct Outcome {
  bool answered = false;   // the store answered (lost or not)
  bool lost = false;       // the client never learned the answer
  std::string crashed_at;  // the step where it crashed ("" = it did not)
  absl::StatusOr<ClaimRecord> record = absl::UnknownError("no answer");
  absl::StatusOr<SweepResult> sweep = absl::UnknownError("no answer");
  // Whether the client knows the outcome.
  bool Known() const { return answered && !lost; }
  bool Unavailable() const {
    return answered && !record.ok() &&
           (record.status().code() == absl::StatusCode::kUnavailable ||
            record.status().code() == absl::StatusCode::kDeadlineExceeded);
  }
};

// Holds a crashed call may leave in other slots until they end (quota_store.h / docs/quota-ledger.md).
struct Phantom {
  std::map<std::pair<std::string, std::string>, int64_t> budgets;  // (programme, id) → most fen held
  std::set<std::tuple<std::string, std::string, std::string>> once_keys;
  std::set<std::pair<std::string, std::string>> serials;
  absl::Time until;  // ended once a complete sweep has run at or after this time
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Text of a history

std::string ToText(const Script& script) {
  std::string out = absl::StrCat("seed ", script.seed, "\n");
  for (size_t r = 0; r < script.rounds.size(); ++r) {
    const Round& round = script.rounds[r];
    absl::StrAppend(&out, "round ", r,
                    round.fault == Round::Fault::kRestart        ? " (after a restart)"
                    : round.fault == Round::Fault::kFlushScripts ? " (after SCRIPT FLUSH)"
                                                                 : "",
                    "\n");
    for (const Call& call : round.calls) {
      absl::StrAppend(&out, "  ", absl::FormatTime("%H:%M:%E3S", call.now, absl::UTCTimeZone()), " ",
                      Describe(call), call.lose_answer ? " (answer lost)" : "", "\n");
    }
    std::vector<std::string> decisions;
    for (const Decision& d : round.decisions) decisions.push_back(absl::StrCat(d.pick, d.crash ? "!" : ""));
    if (!decisions.empty()) absl::StrAppend(&out, "  schedule ", absl::StrJoin(decisions, " "), "\n");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Targets

std::unique_ptr<QuotaStore> MemoryTarget::MakeStore(StepGate*) {
  return std::make_unique<MemoryQuotaStore>();
}

struct RedisTarget::Server {
  std::unique_ptr<tradein::testing::RedisServer> process;
  std::unique_ptr<redis::RedisClient> client;
};

RedisTarget::RedisTarget(std::unique_ptr<Server> server, Versions versions)
    : server_(std::move(server)), versions_(versions) {}
RedisTarget::~RedisTarget() {
  if (server_ != nullptr) server_->client.reset();  // before the server goes
}

absl::StatusOr<std::unique_ptr<RedisTarget>> RedisTarget::Start(Versions versions) {
  auto server = std::make_unique<Server>();
  tradein::testing::RedisServerOptions options;
  options.appendonly = true;
  options.appendfsync = "always";
  TRADEIN_ASSIGN_OR_RETURN(server->process, tradein::testing::RedisServer::Start(options));
  TRADEIN_ASSIGN_OR_RETURN(redis::RedisOptions client_options, redis::ParseRedisUrl(server->process->url()));
  client_options.connections = 1;  // one connection: replies in the order sent, nothing to race
  TRADEIN_ASSIGN_OR_RETURN(server->client, redis::RedisClient::Create(client_options));
  auto target = std::unique_ptr<RedisTarget>(new RedisTarget(std::move(server), versions));
  TRADEIN_RETURN_IF_ERROR(target->AwaitPing());
  return target;
}

std::unique_ptr<QuotaStore> RedisTarget::MakeStore(StepGate* gate) {
  RedisQuotaStoreOptions options;
  options.key_prefix = absl::StrCat("sim", ++stores_, ":");
  options.step_gate = gate;
  options.sweep_parallelism = 1;  // entries one after the other: their steps park in a fixed order
  if (versions_ == Versions::kBudgetShards) {
    // Two instances whose budgets are spread over 3 shards and one that allocates on the budgets themselves.
    std::vector<std::unique_ptr<QuotaStore>> instances;
    for (int shards : {3, 3, 1}) {
      options.budget_shards = shards;
      instances.push_back(std::make_unique<RedisQuotaStore>(*server_->client, options));
    }
    return std::make_unique<AlternatingStore>(std::move(instances));
  }
  auto store = std::make_unique<RedisQuotaStore>(*server_->client, options);
  if (versions_ == Versions::kCurrent) return store;
  options.full_grants = false;
  std::vector<std::unique_ptr<QuotaStore>> instances;
  instances.push_back(std::move(store));
  instances.push_back(std::make_unique<RedisQuotaStore>(*server_->client, options));
  return std::make_unique<AlternatingStore>(std::move(instances));
}

std::string RedisTarget::name() const {
  switch (versions_) {
    case Versions::kMixed:
      return "redis-mixed";
    case Versions::kBudgetShards:
      return "redis-shards";
    case Versions::kCurrent:
      break;
  }
  return "redis";
}

std::vector<std::string> RedisTarget::ProtocolSteps() const {
  std::vector<std::string> steps = RedisQuotaStore::ProtocolSteps();
  if (versions_ != Versions::kBudgetShards) {
    std::erase_if(steps, [](const std::string& step) {
      const std::vector<std::string>& sharded = RedisQuotaStore::BudgetShardSteps();
      return std::find(sharded.begin(), sharded.end(), step) != sharded.end();
    });
  }
  return steps;
}

absl::Status RedisTarget::AwaitPing() {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    absl::Notification done;
    bool ok = false;
    server_->client->Ping(absl::Now() + absl::Seconds(1), [&](absl::StatusOr<redis::RedisValue> reply) {
      ok = reply.ok();
      done.Notify();
    });
    done.WaitForNotification();
    if (ok) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::UnavailableError("the simulation's redis-server does not answer");
}

absl::Status RedisTarget::Restart() {
  TRADEIN_RETURN_IF_ERROR(server_->process->Restart());
  return AwaitPing();
}

absl::Status RedisTarget::FlushScripts() { return server_->process->Run({"SCRIPT", "FLUSH"}).status(); }

// ---------------------------------------------------------------------------------------------------------
// One history

class Simulator::History {
 public:
  History(Target& target, SimGate& gate, const SimulationOptions& options, SimulationStats& stats,
          uint64_t seed, const Script* replay)
      : target_(target), gate_(gate), options_(options), stats_(stats), rng_(seed), replay_(replay) {
    script_.seed = seed;
    // Steps this history has not crashed yet are crashed more often (per history, so that a seed alone
    // reproduces its history whatever ran before it).
    for (const std::string& step : target.ProtocolSteps()) uncovered_.insert(step);
    store_ = target_.MakeStore(&gate_);
  }

  // Nothing the store sent may still be in flight when the next history's store starts.
  ~History() {
    store_.reset();
    gate_.AwaitIdle(kCallTimeout);
  }

  HistoryResult Run() {
    const size_t rounds = replay_ != nullptr ? replay_->rounds.size() : static_cast<size_t>(options_.rounds);
    for (size_t r = 0; r < rounds && failure_.empty(); ++r) {
      round_index_ = r;
      Round round = replay_ != nullptr ? Replayed(replay_->rounds[r]) : Generate();
      RunRound(round);
      script_.rounds.push_back(std::move(round));
    }
    if (failure_.empty()) FinalCheck();
    HistoryResult result;
    result.ok = failure_.empty();
    result.failure = failure_;
    result.digest = digest_.value();
    result.script = std::move(script_);
    ++stats_.histories;
    return result;
  }

 private:
  // -------------------------------------------------------------------------------------------------------
  // Generating calls

  Round Replayed(const Round& recorded) {
    Round round = recorded;
    if (!round.calls.empty()) now_ = std::max(now_, round.calls.front().now);
    round.decisions.clear();  // recorded again as used
    replay_decisions_ = recorded.decisions;
    next_decision_ = 0;
    return round;
  }

  Round Generate() {
    Round round;
    AdvanceClock();
    if (target_.HasServerFaults() && rng_.Chance(options_.fault_per_mille)) {
      round.fault = rng_.Chance(500) ? Round::Fault::kRestart : Round::Fault::kFlushScripts;
    }
    const int calls = 1 + static_cast<int>(rng_.Below(static_cast<uint32_t>(options_.max_calls_per_round)));
    for (int c = 0; c < calls; ++c) round.calls.push_back(MakeCall());
    for (Call& call : round.calls) {
      call.now = now_;
      call.lose_answer = call.kind != Call::Kind::kGet && call.kind != Call::Kind::kSweep &&
                         rng_.Chance(options_.lost_answer_per_mille);
    }
    return round;
  }

  // At least a second a round: a call that changes a claim changes its updated_at, so reading the claim tells
  // whether a call whose answer was lost took effect.
  void AdvanceClock() {
    now_ += absl::Seconds(1);
    const uint32_t kind = rng_.Below(20);
    if (kind == 0) {
      now_ += kHold + absl::Minutes(1);  // past every hold taken so far
    } else if (kind == 1) {
      now_ += absl::Seconds(6);  // past a change's reconcile delay
    } else if (kind < 8) {
      now_ += absl::Seconds(rng_.Below(180));
    }
  }

  Call MakeCall() {
    if (!pending_.empty() && rng_.Chance(500)) {
      const size_t i = rng_.Below(static_cast<uint32_t>(pending_.size()));
      Call retry = std::move(pending_[i]);
      pending_.erase(pending_.begin() + static_cast<long>(i));
      if (retry.kind == Call::Kind::kReserve) {
        retry.reserve.now = now_;
        retry.reserve.expires_at = now_ + kHold;
      }
      SetNow(retry);
      return retry;
    }
    const std::vector<std::string> claims = worlds_.front().ClaimIds();
    const uint32_t roll = rng_.Below(100);
    Call call;
    if (claims.empty() || roll < 30) {
      call = NewReserve();
    } else if (roll < 33) {
      call = ReuseRequestId(claims);
    } else if (roll < 48) {
      call = ConfirmCall(PickClaim(claims, ClaimState::kReserved));
    } else if (roll < 55) {
      call.kind = Call::Kind::kCancel;
      call.claim_id = PickClaim(claims, ClaimState::kReserved);
      call.cancel = {call.claim_id, "", now_};
    } else if (roll < 67) {
      call = RefundCall(PickClaim(claims, ClaimState::kConfirmed));
    } else if (roll < 72) {
      call.kind = Call::Kind::kVoid;
      call.claim_id = PickClaim(claims, ClaimState::kConfirmed);
      call.void_request = {call.claim_id, absl::StrCat("v", rng_.Below(3)), absl::StrCat("fv", rng_.Below(2)),
                           now_, Note()};
    } else if (roll < 80) {
      call = CorrectCall(PickClaim(claims, ClaimState::kConfirmed));
    } else if (roll < 90) {
      call.kind = Call::Kind::kSweep;
    } else {
      call.kind = Call::Kind::kGet;
      call.claim_id = claims[rng_.Below(static_cast<uint32_t>(claims.size()))];
    }
    SetNow(call);
    return call;
  }

  void SetNow(Call& call) {
    call.now = now_;
    call.confirm.now = call.cancel.now = call.refund.now = call.void_request.now = call.correct.now = now_;
  }

  // A claim in `state` (or paid, for kConfirmed) most of the time, else any.
  std::string PickClaim(const std::vector<std::string>& claims, ClaimState state) {
    std::vector<std::string> fitting;
    for (const std::string& id : claims) {
      const ModelAnswer claim = ReferenceLedger(worlds_.front()).Get(id, now_);
      const ClaimState s = claim.record.state;
      if (s == state || (state == ClaimState::kConfirmed && s == ClaimState::kPartiallyRefunded)) {
        fitting.push_back(id);
      }
    }
    const std::vector<std::string>& from = fitting.empty() || rng_.Chance(150) ? claims : fitting;
    return from[rng_.Below(static_cast<uint32_t>(from.size()))];
  }

  Call NewReserve() {
    const int buyer = static_cast<int>(rng_.Below(kBuyers));
    ReserveBuilder builder(TestBuyer(buyer), absl::StrCat("shop", rng_.Below(2)),
                           absl::StrCat("req", next_request_++), now_, kHold);
    const int lines = 1 + static_cast<int>(rng_.Below(3));
    // A third of the claims are of the common path (no once-keys, no budgets): buyer_reserve's full grant.
    const bool common_path = rng_.Chance(333);
    for (int i = 0; i < lines; ++i) AddLine(builder, absl::StrCat("l", i), common_path);
    builder.RestoresQuotaOnRefund(!rng_.Chance(250));
    Call call;
    call.kind = Call::Kind::kReserve;
    call.reserve = builder.Build();
    call.claim_id = call.reserve.claim_id;
    reserves_[call.claim_id] = call.reserve;
    return call;
  }

  void AddLine(ReserveBuilder& builder, const std::string& id, bool common_path) {
    const BudgetRef& pool = Budgets()[0];
    const BudgetRef& region = Budgets()[1];
    switch (common_path ? 1 + rng_.Below(2) : rng_.Below(6)) {
      case 0:
        builder.Line(id, 1, 100000, {CounterNamed("fridge")}, {}, {pool});
        break;
      case 1:
        builder.Line(id, 1 + static_cast<int32_t>(rng_.Below(4)), 200000,
                     {CounterNamed("ac"), CounterNamed("cap")});
        break;
      case 2:
        builder.Line(id, 1, 300000 + 100000 * rng_.Below(7), {CounterNamed("elderly")});
        break;
      case 3:
        builder.Line(id, 1, 700000, {CounterNamed("reno")}, {Home(absl::StrCat("home", rng_.Below(3)))},
                     {pool});
        break;
      case 4:
        builder.Line(id, 1, 1500000, {}, {OldCar(absl::StrCat("vin", rng_.Below(2)))}, {region});
        break;
      default:
        builder.Line(id, static_cast<int32_t>(rng_.Below(4)), 250000, {}, {}, {pool, region});
        break;
    }
  }

  // The request id of an earlier claim with other content: REQUEST_ID_REUSED (or its replay when unchanged).
  Call ReuseRequestId(const std::vector<std::string>& claims) {
    const std::string& id = claims[rng_.Below(static_cast<uint32_t>(claims.size()))];
    Call call;
    call.kind = Call::Kind::kReserve;
    call.reserve = reserves_.at(id);
    call.reserve.now = now_;
    call.reserve.expires_at = now_ + kHold;
    if (rng_.Chance(500)) {
      call.reserve.fingerprint += "|other";
      call.reserve.draft = "other";
    }
    call.claim_id = id;
    return call;
  }

  Call ConfirmCall(const std::string& claim_id) {
    Call call;
    call.kind = Call::Kind::kConfirm;
    call.claim_id = claim_id;
    call.confirm.claim_id = claim_id;
    call.confirm.confirmation = absl::StrCat("invoice-", rng_.Below(1000));
    if (rng_.Chance(500)) return call;
    const ModelAnswer claim = ReferenceLedger(worlds_.front()).Get(claim_id, now_);
    int n = 0;
    for (size_t i = 0; i < claim.record.grants.size(); ++i) {
      int32_t units = claim.record.grants[i].units;
      if (rng_.Chance(100)) units += 1;  // a wrong count now and then
      for (int32_t u = 0; u < units; ++u) {
        call.confirm.serials.push_back(testing::Serial(absl::StrCat("sn", rng_.Below(kSerials)),
                                                       absl::StrCat("l", i), static_cast<int>(i), n++));
      }
    }
    if (rng_.Chance(50)) call.confirm.serials.push_back(testing::Serial("sn0", "l9", 9, 0));  // no such line
    return call;
  }

  Call RefundCall(const std::string& claim_id) {
    Call call;
    call.kind = Call::Kind::kRefund;
    call.claim_id = claim_id;
    call.refund = {claim_id, "", absl::StrCat("r", rng_.Below(5)), "", {}, now_, Note()};
    if (rng_.Chance(600)) {
      call.refund.lines.push_back({absl::StrCat("l", rng_.Below(3)), static_cast<int32_t>(rng_.Below(3))});
    }
    call.refund.fingerprint = absl::StrCat("fr", call.refund.lines.size(),
                                           call.refund.lines.empty() ? 0 : call.refund.lines[0].units);
    return call;
  }

  // Who changed a paid claim and why, for its history.
  ChangeNote Note() { return {absl::StrCat("admin", rng_.Below(2)), absl::StrCat("why ", rng_.Below(3))}; }

  Call CorrectCall(const std::string& claim_id) {
    Call call;
    call.kind = Call::Kind::kCorrect;
    call.claim_id = claim_id;
    const ModelAnswer claim = ReferenceLedger(worlds_.front()).Get(claim_id, now_);
    call.correct = {claim_id, absl::StrCat("c", rng_.Below(3)), "", {}, now_, Note(), std::nullopt};
    if (rng_.Chance(400)) {
      // An invoice or serial fix, computed from the confirmation the claim has (now and then from a stale
      // one: ABORTED); a serial from the confirmations' pool, so sometimes not the line's or another claim's.
      CorrectRequest::Fix fix;
      fix.expected_confirmation =
          rng_.Chance(200) || !claim.ok() ? "invoice-stale" : claim.record.confirmation;
      fix.confirmation = absl::StrCat("invoice-fixed-", rng_.Below(3));
      if (rng_.Chance(500)) {
        const int line = static_cast<int>(rng_.Below(3));
        fix.kind = ClaimEvent::Kind::kSerialCorrected;
        fix.old_serial = testing::Serial(absl::StrCat("sn", rng_.Below(kSerials)), absl::StrCat("l", line));
        fix.new_serial = testing::Serial(absl::StrCat("sn", rng_.Below(kSerials)), absl::StrCat("l", line));
        fix.confirmation = fix.expected_confirmation;
      }
      fix.before = fix.expected_confirmation;
      fix.after = fix.confirmation;
      call.correct.fingerprint = absl::StrCat("fi", fix.expected_confirmation, ">", fix.confirmation, ">",
                                              fix.new_serial.value_hash);
      call.correct.fix = std::move(fix);
      return call;
    }
    if (claim.ok() && !claim.record.grants.empty()) {
      const size_t line = rng_.Below(static_cast<uint32_t>(claim.record.grants.size()));
      const int64_t fen = claim.record.grants[line].fen;
      const int64_t refunded = claim.record.refunds[line].fen;
      const uint32_t how = rng_.Below(10);
      const int64_t to = how == 0   ? fen + 1                      // not a reduction
                         : how == 1 ? refunded                     // down to what was refunded
                                    : fen - (fen - refunded) / 3;  // a real reduction
      call.correct.lines.push_back({absl::StrCat("l", line), to});
    }
    call.correct.fingerprint =
        absl::StrCat("fc", call.correct.lines.empty() ? -1 : call.correct.lines[0].fen);
    return call;
  }

  // -------------------------------------------------------------------------------------------------------
  // Running a round

  void RunRound(Round& round) {
    ++stats_.rounds;
    if (round.fault != Round::Fault::kNone) ApplyFault(round.fault);
    if (!failure_.empty()) return;
    for (const Call& call : round.calls) now_ = std::max(now_, call.now);
    for (const Call& call : round.calls) {
      if (call.kind == Call::Kind::kReserve) reserves_.emplace(call.claim_id, call.reserve);
      for (const SerialKey& s : SerialsTaken(call))
        confirm_serials_[call.claim_id].insert({s.programme, s.value_hash});
    }
    // Shared with the calls' answers: a round that fails on a hang returns while calls are still in flight,
    // and their answers must not land in freed memory (a process stopped for minutes had every deadline pass
    // at once: glibc's "corrupted double-linked list").
    const auto shared = std::make_shared<std::vector<Outcome>>(round.calls.size());
    std::vector<Outcome>& outcomes = *shared;
    // One call at a time, each until its first step or its answer: a call's commands before its first step
    // (all of a Get's, a sweep's first pass) must not race the next call's, or the order they reach the
    // server in — and so the answers and which steps park first — would depend on timing, not on the seed.
    for (size_t c = 0; c < round.calls.size() && failure_.empty(); ++c) {
      Start(round.calls[c], shared, c);
      if (!gate_.AwaitIdle(kCallTimeout)) Fail("the store never went idle (a call hangs)");
    }
    if (!failure_.empty()) return;
    Schedule(round);
    if (!failure_.empty()) return;
    for (size_t c = 0; c < round.calls.size(); ++c) {
      Outcome& outcome = outcomes[c];
      if (!outcome.answered)
        return Fail(absl::StrCat("call ", c, " never answered: ", Describe(round.calls[c])));
      outcome.lost = round.calls[c].lose_answer && outcome.crashed_at.empty();
      if (outcome.lost) ++stats_.lost_answers;
      stats_.calls++;
      digest_.Add(absl::StrCat(
          Describe(round.calls[c]), " → ",
          outcome.crashed_at.empty() ? "" : absl::StrCat("crash@", outcome.crashed_at, " "),
          round.calls[c].kind == Call::Kind::kSweep ? SweepText(outcome.sweep) : Describe(outcome.record)));
    }
    CheckRound(round, outcomes);
    if (!failure_.empty()) return;
    for (size_t c = 0; c < round.calls.size(); ++c) {
      const Call& call = round.calls[c];
      if (call.kind == Call::Kind::kGet || call.kind == Call::Kind::kSweep) continue;
      if (!outcomes[c].Known() || outcomes[c].Unavailable()) pending_.push_back(call);
    }
  }

  std::string SweepText(const absl::StatusOr<SweepResult>& sweep) const {
    if (!sweep.ok()) return sweep.status().ToString();
    std::vector<std::string> ids;
    for (const ClaimRecord& r : sweep->expired) ids.push_back(r.claim_id);
    return absl::StrCat("expired ", absl::StrJoin(ids, ","));
  }

  void ApplyFault(Round::Fault fault) {
    const absl::Status status = fault == Round::Fault::kRestart ? target_.Restart() : target_.FlushScripts();
    if (!status.ok()) return Fail(absl::StrCat("the server fault failed: ", status.ToString()));
    ++(fault == Round::Fault::kRestart ? stats_.restarts : stats_.script_flushes);
    digest_.Add(fault == Round::Fault::kRestart ? "restart" : "flush");
  }

  void Start(const Call& call, const std::shared_ptr<std::vector<Outcome>>& outcomes, size_t c) {
    const absl::Time deadline = absl::Now() + kCallTimeout;
    auto record = Recorder(outcomes, c);
    switch (call.kind) {
      case Call::Kind::kReserve:
        return store_->Reserve(call.reserve, deadline, std::move(record));
      case Call::Kind::kConfirm:
        return store_->Confirm(call.confirm, deadline, std::move(record));
      case Call::Kind::kCancel:
        return store_->Cancel(call.cancel, deadline, std::move(record));
      case Call::Kind::kRefund:
        return store_->Refund(call.refund, deadline, std::move(record));
      case Call::Kind::kVoid:
        return store_->Void(call.void_request, deadline, std::move(record));
      case Call::Kind::kCorrect:
        return store_->Correct(call.correct, deadline, std::move(record));
      case Call::Kind::kGet:
        return store_->Get(call.claim_id, call.now, deadline, std::move(record));
      case Call::Kind::kSweep:
        return store_->Sweep(call.now, 1000, deadline,
                             [this, outcomes, c](absl::StatusOr<SweepResult> result) {
                               absl::MutexLock lock(&answers_mu_);
                               (*outcomes)[c].answered = true;
                               (*outcomes)[c].sweep = std::move(result);
                             });
    }
  }

  // Records a call's answer. A call crashed by the scheduler answers at once, inside the resume that crashed
  // it, while nothing else runs: the crash step set then is its own.
  QuotaStore::Callback<ClaimRecord> Recorder(std::shared_ptr<std::vector<Outcome>> outcomes, size_t c) {
    return [this, outcomes = std::move(outcomes), c](absl::StatusOr<ClaimRecord> result) {
      absl::MutexLock lock(&answers_mu_);
      Outcome& outcome = (*outcomes)[c];
      outcome.answered = true;
      outcome.record = std::move(result);
      outcome.crashed_at = crashing_step_;
    };
  }

  // Runs the parked steps one at a time, as the decisions say, until every call has answered.
  void Schedule(Round& round) {
    for (;;) {
      if (!gate_.AwaitIdle(kCallTimeout)) return Fail("the store never went idle (a call hangs)");
      const std::vector<std::string> parked = gate_.ParkedSteps();
      if (parked.empty()) return;
      const Decision decision = Decide(parked);
      round.decisions.push_back(decision);
      const size_t index = decision.pick % parked.size();
      SimGate::Parked task = gate_.Take(index);
      ++stats_.steps;
      digest_.Add(absl::StrCat(task.step, decision.crash ? "!" : ""));
      if (decision.crash) {
        ++stats_.crashes;
        ++stats_.crashes_by_step[task.step];
        uncovered_.erase(task.step);
        absl::MutexLock lock(&answers_mu_);
        crashing_step_ = task.step;
      }
      std::move(task.resume)(decision.crash);
      absl::MutexLock lock(&answers_mu_);
      crashing_step_.clear();
    }
  }

  Decision Decide(const std::vector<std::string>& parked) {
    if (replay_ != nullptr) {
      if (next_decision_ < replay_decisions_.size()) return replay_decisions_[next_decision_++];
      return Decision{};
    }
    Decision d;
    d.pick = rng_.Below(static_cast<uint32_t>(parked.size()));
    const std::string& step = parked[d.pick];
    d.crash = !final_phase_ && rng_.Chance(uncovered_.count(step) > 0 ? options_.uncovered_crash_per_mille
                                                                      : options_.crash_per_mille);
    return d;
  }

  // -------------------------------------------------------------------------------------------------------
  // Checking a round

  struct Observed {
    std::map<std::string, absl::StatusOr<ClaimRecord>> claims;
    std::map<int, std::vector<int64_t>> usage;  // by buyer
    std::vector<int64_t> budgets;
  };

  Observed Observe(const Round& round, absl::Time now) {
    Observed seen;
    testing::SyncStore sync(*store_);
    std::set<int> buyers;
    for (const Call& call : round.calls) {
      if (call.kind == Call::Kind::kSweep) continue;
      seen.claims.emplace(call.claim_id, absl::UnknownError(""));
    }
    for (auto& [id, record] : seen.claims) {
      record = sync.Get(id, now);
      const auto request = reserves_.find(id);
      if (request != reserves_.end()) buyers.insert(BuyerOf(request->second));
    }
    for (int buyer : buyers) {
      const absl::StatusOr<std::vector<int64_t>> used = sync.Usage(TestBuyer(buyer), Counters(), now);
      if (!used.ok()) Fail(absl::StrCat("GetUsage failed: ", used.status().ToString()));
      seen.usage[buyer] = used.value_or(std::vector<int64_t>{});
    }
    const absl::StatusOr<std::vector<int64_t>> budgets = sync.BudgetUsage(Budgets(), now);
    if (!budgets.ok()) Fail(absl::StrCat("GetBudgetUsage failed: ", budgets.status().ToString()));
    seen.budgets = budgets.value_or(std::vector<int64_t>{});
    return seen;
  }

  static int BuyerOf(const ReserveRequest& request) {
    for (int b = 0; b < kBuyers; ++b) {
      if (TestBuyer(b).key == request.buyer.key) return b;
    }
    return 0;
  }

  // Keeps every world (a state of the model) that some serial order of the round's calls — each call whose
  // outcome the client never learned taken either way — leads to from a world that explained the rounds
  // before, given what the store answered and shows now. Several worlds survive only while the store's
  // answers cannot tell them apart (two calls that commute, a lost answer of a call that changed nothing
  // visible yet).
  void CheckRound(const Round& round, const std::vector<Outcome>& outcomes) {
    const Observed seen = Observe(round, now_);
    if (!failure_.empty()) return;
    AddPhantoms(round, outcomes);  // whichever order explains the round, its crashed calls may hold these
    std::vector<size_t> unknown;
    for (size_t c = 0; c < outcomes.size(); ++c) {
      if (!outcomes[c].crashed_at.empty() || outcomes[c].Unavailable()) unknown.push_back(c);
    }
    std::vector<ReferenceLedger> next;
    std::set<std::string> fingerprints;
    int provisional_seen = 0;
    std::string problem_in_order;  // of the first world, in request order, every unknown call taking effect
    for (size_t w = 0; w < worlds_.size(); ++w) {
      std::vector<size_t> order(round.calls.size());
      std::iota(order.begin(), order.end(), 0);
      bool first_order = true;
      do {
        for (uint32_t applied = 0; applied < (1u << unknown.size()); ++applied) {
          std::vector<bool> takes_effect(round.calls.size(), true);
          for (size_t u = 0; u < unknown.size(); ++u) takes_effect[unknown[u]] = (applied >> u) & 1;
          ReferenceLedger candidate = worlds_[w];
          int provisional = 0;
          std::string problem =
              Explain(round, outcomes, order, takes_effect, seen, worlds_[w], candidate, provisional);
          if (problem.empty()) {
            if (next.empty()) provisional_seen = provisional;
            if (next.size() < kMaxWorlds && fingerprints.insert(candidate.Fingerprint()).second) {
              next.push_back(std::move(candidate));
            }
          } else if (w == 0 && first_order && applied + 1 == (1u << unknown.size())) {
            problem_in_order = std::move(problem);
          }
        }
        first_order = false;
      } while (std::next_permutation(order.begin(), order.end()));
    }
    if (next.empty()) return FailRound(round, outcomes, problem_in_order);
    worlds_ = std::move(next);
    stats_.provisional_refusals += provisional_seen;
    NoteSweeps(round, outcomes);
  }

  void FailRound(const Round& round, const std::vector<Outcome>& outcomes, const std::string& problem) {
    std::string calls;
    for (size_t c = 0; c < round.calls.size(); ++c) {
      const Outcome& o = outcomes[c];
      absl::StrAppend(&calls, "\n      call ", c, " ", Describe(round.calls[c]), "\n        → ",
                      !o.crashed_at.empty() ? absl::StrCat("crashed before ", o.crashed_at)
                      : round.calls[c].kind == Call::Kind::kSweep ? SweepText(o.sweep)
                                                                  : Describe(o.record),
                      o.lost ? " (answer lost)" : "");
    }
    Fail(absl::StrCat("no serial order of the round's calls explains what the store did.", calls,
                      "\n      in request order, every call of unknown outcome taking effect: ", problem));
  }

  // "" when the calls in `order` (those not `takes_effect` left out) give the answers the store gave and end
  // in the state it shows; else the first difference. Applies them to `model`.
  // `start` is the ledger the round began from.
  std::string Explain(const Round& round, const std::vector<Outcome>& outcomes,
                      const std::vector<size_t>& order, const std::vector<bool>& takes_effect,
                      const Observed& seen, const ReferenceLedger& start, ReferenceLedger& model,
                      int& provisional) {
    for (size_t c : order) {
      const Call& call = round.calls[c];
      const Outcome& outcome = outcomes[c];
      const bool known = outcome.crashed_at.empty() && !outcome.Unavailable();
      if (!takes_effect[c]) {
        // A crash after the request-id step still fixed the claim's creation time and content.
        if (call.kind == Call::Kind::kReserve && outcome.crashed_at != "reserve.request") {
          model.NoteAttempt(call.reserve);
        }
        continue;
      }
      std::string problem;
      switch (call.kind) {
        case Call::Kind::kReserve:
          problem = ExplainReserve(round, c, known ? outcome.record : seen.claims.at(call.claim_id), known,
                                   start, model, provisional);
          break;
        case Call::Kind::kConfirm: {
          ReferenceLedger before = model;
          const ModelAnswer expected = model.Confirm(call.confirm);
          if (known) {
            problem = Compare(expected, outcome.record);
            if (!problem.empty() && ProvisionalSerialRefusal(round, c, outcome.record)) {
              model = std::move(before);
              ++provisional;
              problem.clear();
            }
          }
          break;
        }
        case Call::Kind::kCancel:
          problem = Check(model.Cancel(call.cancel), outcome, known);
          break;
        case Call::Kind::kRefund:
          problem = Check(model.Refund(call.refund), outcome, known);
          break;
        case Call::Kind::kVoid:
          problem = Check(model.Void(call.void_request), outcome, known);
          break;
        case Call::Kind::kCorrect: {
          ReferenceLedger before = model;
          problem = Check(model.Correct(call.correct), outcome, known);
          if (!problem.empty() && known && ProvisionalSerialRefusal(round, c, outcome.record)) {
            model = std::move(before);
            ++provisional;
            problem.clear();
          }
          break;
        }
        case Call::Kind::kGet:
          problem = Check(model.Get(call.claim_id, call.now), outcome, known);
          break;
        case Call::Kind::kSweep:
          problem = ExplainSweep(outcome, model, call.now);
          break;
      }
      if (!problem.empty()) return absl::StrCat("call ", c, " ", Describe(call), ": ", problem);
    }
    for (const auto& [id, record] : seen.claims) {
      const std::string problem = Compare(model.Get(id, now_), record);
      if (!problem.empty()) return absl::StrCat("claim ", id, " read after the round: ", problem);
    }
    for (const auto& [buyer, used] : seen.usage) {
      const std::vector<int64_t> want = model.Usage({TestBuyer(buyer), Counters(), now_});
      if (used != want) {
        return absl::StrCat("buyer ", buyer, " counters ", absl::StrJoin(used, ","), ", the model has ",
                            absl::StrJoin(want, ","));
      }
    }
    const std::vector<int64_t> budgets = model.BudgetUsage(Budgets(), now_);
    for (size_t b = 0; b < budgets.size() && b < seen.budgets.size(); ++b) {
      const int64_t slack = PhantomFen(Budgets()[b]);
      if (seen.budgets[b] < budgets[b] || seen.budgets[b] > budgets[b] + slack) {
        return absl::StrCat("budget ", Budgets()[b].budget_id, " used ", seen.budgets[b], ", the model has ",
                            budgets[b], " (plus up to ", slack, " held by crashed calls)");
      }
    }
    const std::string broken = model.Invariants();
    if (!broken.empty()) return absl::StrCat("the model's invariant: ", broken);
    return "";
  }

  static std::string Check(const ModelAnswer& expected, const Outcome& outcome, bool known) {
    return known ? Compare(expected, outcome.record) : "";
  }

  // A Reserve: its answer (or, when the client never learned it, the claim as read after the round) must be
  // the model's — with lines a provisional hold refused, when a claim that could hold it exists.
  std::string ExplainReserve(const Round& round, size_t c, const absl::StatusOr<ClaimRecord>& actual,
                             bool known, const ReferenceLedger& start, ReferenceLedger& model,
                             int& provisional) {
    const ReserveRequest& request = round.calls[c].reserve;
    ReferenceLedger plain = model;
    const ModelAnswer expected = plain.Reserve(request);
    if (!known && !actual.ok()) {
      return actual.status().code() == absl::StatusCode::kNotFound
                 ? "taken to have decided, but no claim exists"
                 : actual.status().ToString();
    }
    std::string problem = known ? Compare(expected, actual) : SameGrants(expected, actual);
    if (problem.empty()) {
      model = std::move(plain);
      return "";
    }
    if (!actual.ok() || !expected.ok() || actual->replayed || expected.record.replayed) return problem;
    // A line refused provisionally takes nothing, so later lines may then get what the model first gave it:
    // explain the first line that differs, run the model again, and so on.
    ProvisionalRefusals forced;
    ModelAnswer refused = expected;
    for (;;) {
      size_t i = 0;
      while (i < request.lines.size() && i < actual->grants.size() &&
             actual->grants[i] == refused.record.grants[i]) {
        ++i;
      }
      if (i == request.lines.size() || forced.count(i)) break;
      std::optional<ProvisionalRefusal> refusal = ProvisionalFor(round, c, i, actual->grants[i], start);
      if (!refusal.has_value() || actual->grants[i].units > refused.record.grants[i].units) return problem;
      forced[i] = *refusal;
      ReferenceLedger with_refusals = model;
      refused = with_refusals.Reserve(request, forced);
      const std::string still = known ? Compare(refused, actual) : SameGrants(refused, actual);
      if (still.empty()) {
        model = std::move(with_refusals);
        provisional += static_cast<int>(forced.size());
        return "";
      }
    }
    return absl::StrCat(problem, "\n        even with provisional refusals: ",
                        known ? Compare(refused, actual) : SameGrants(refused, actual));
  }

  static std::string SameGrants(const ModelAnswer& expected, const absl::StatusOr<ClaimRecord>& actual) {
    if (!expected.ok()) return absl::StrCat("the model refuses it: ", expected.reason);
    if (expected.record.grants != actual->grants || expected.record.created_at != actual->created_at) {
      return absl::StrCat("grants differ: ", Describe(actual));
    }
    return "";
  }

  // Why line `i` of call `c` may have got `got` less than the model gives: a home, old car or budget another
  // claim of this round, or a crashed call, may hold for a moment.
  std::optional<ProvisionalRefusal> ProvisionalFor(const Round& round, size_t c, size_t i,
                                                   const LineGrant& got, const ReferenceLedger& start) {
    const ReserveRequest& request = round.calls[c].reserve;
    const LineRequest& line = request.lines[i];
    for (ReasonCode code : {ReasonCode::kHomeAlreadyUsed, ReasonCode::kVehicleAlreadyUsed}) {
      if (!got.reasons.Contains(code) || got.units != 0) continue;
      for (uint16_t k : line.once_keys) {
        if (OnceKeyContended(round, c, request.once_keys[k], start)) {
          return ProvisionalRefusal{ProvisionalRefusal::Where::kOnceKey, 0, code};
        }
      }
    }
    if (got.reasons.Contains(ReasonCode::kBudgetExhausted)) {
      for (uint16_t b : line.budgets) {
        if (BudgetContended(round, c, request.budgets[b], start)) {
          return ProvisionalRefusal{ProvisionalRefusal::Where::kBudget, got.units,
                                    ReasonCode::kBudgetExhausted};
        }
      }
    }
    return std::nullopt;
  }

  // Whether a crashed call, or another call of the round, may have held `key` while call `c` looked: a
  // reservation naming it, or a change giving it back (GivenBackByAChange).
  bool OnceKeyContended(const Round& round, size_t c, const OnceKey& key,
                        const ReferenceLedger& start) const {
    const auto name = std::make_tuple(key.programme, key.quota_id, key.value_hash);
    for (const Phantom& p : phantoms_) {
      if (p.once_keys.count(name)) return true;
    }
    if (GivenBackByAChange(round, c, /*corrections=*/false,
                           [&](const std::string& claim) { return start.HoldsOnceKey(claim, key); }))
      return true;
    for (size_t o = 0; o < round.calls.size(); ++o) {
      if (o == c || round.calls[o].kind != Call::Kind::kReserve) continue;
      const std::vector<OnceKey>& keys = round.calls[o].reserve.once_keys;
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) return true;
    }
    return false;
  }

  bool BudgetContended(const Round& round, size_t c, const BudgetRef& budget,
                       const ReferenceLedger& start) const {
    if (PhantomFen(budget) > 0) return true;
    if (GivenBackByAChange(round, c, /*corrections=*/true,
                           [&](const std::string& claim) { return start.DrawsOnBudget(claim, budget); }))
      return true;
    for (size_t o = 0; o < round.calls.size(); ++o) {
      if (o == c || round.calls[o].kind != Call::Kind::kReserve) continue;
      for (const BudgetRef& other : round.calls[o].reserve.budgets) {
        if (other.programme == budget.programme && other.budget_id == budget.budget_id) return true;
      }
    }
    return false;
  }

  // Whether another call of the round cancels, refunds or voids a claim that `held` something when the round
  // began (or corrects it: `corrections` for budgets, whose shares a correction lowers). Such a change gives
  // back the claim's once-keys and budget shares in their own slots after its buyer's step, each in its own
  // step: a concurrent reservation may find one still held and another already given back — in no serial
  // order, but never more than the text grants (docs/quota-ledger.md, "Under concurrency a provisional hold
  // can refuse"; the simulator found it: `redis` seed 40895).
  template <typename Held>
  static bool GivenBackByAChange(const Round& round, size_t c, bool corrections, Held held) {
    for (size_t o = 0; o < round.calls.size(); ++o) {
      const Call::Kind kind = round.calls[o].kind;
      const bool gives_back = kind == Call::Kind::kCancel || kind == Call::Kind::kRefund ||
                              kind == Call::Kind::kVoid || (corrections && kind == Call::Kind::kCorrect);
      if (o != c && gives_back && held(round.calls[o].claim_id)) return true;
    }
    return false;
  }

  // The serials a call takes in the serial slots before its buyer's script: a confirm's, a serial fix's new
  // one.
  static std::vector<SerialKey> SerialsTaken(const Call& call) {
    if (call.kind == Call::Kind::kConfirm) return call.confirm.serials;
    if (call.kind == Call::Kind::kCorrect && call.correct.fix.has_value() &&
        call.correct.fix->kind == ClaimEvent::Kind::kSerialCorrected) {
      return {call.correct.fix->new_serial};
    }
    return {};
  }

  // A confirm or serial fix refused SERIAL_ALREADY_SUBSIDISED because another confirm or fix of this round,
  // or a crashed one, held one of its serials for a moment.
  bool ProvisionalSerialRefusal(const Round& round, size_t c,
                                const absl::StatusOr<ClaimRecord>& actual) const {
    if (actual.ok() || ErrorReason(actual.status()) != "SERIAL_ALREADY_SUBSIDISED") return false;
    for (const SerialKey& serial : SerialsTaken(round.calls[c])) {
      const auto name = std::make_pair(serial.programme, serial.value_hash);
      for (const Phantom& p : phantoms_) {
        if (p.serials.count(name)) return true;
      }
      for (size_t o = 0; o < round.calls.size(); ++o) {
        if (o == c) continue;
        for (const SerialKey& other : SerialsTaken(round.calls[o])) {
          if (other.programme == serial.programme && other.value_hash == serial.value_hash) return true;
        }
      }
    }
    return false;
  }

  // A sweep reports only claims that expired, each once in the whole history.
  std::string ExplainSweep(const Outcome& outcome, ReferenceLedger& model, absl::Time now) {
    model.Sweep(now);
    if (!outcome.sweep.ok()) return absl::StrCat("the sweep failed: ", outcome.sweep.status().ToString());
    for (const ClaimRecord& expired : outcome.sweep->expired) {
      if (reported_.count(expired.claim_id))
        return absl::StrCat("reports ", expired.claim_id, " a second time");
      const ModelAnswer claim = model.Get(expired.claim_id, now);
      if (!claim.ok() || claim.record.state != ClaimState::kExpired) {
        return absl::StrCat(
            "reports ", expired.claim_id, " expired; the model has it ",
            claim.ok() ? absl::StrCat("in state ", static_cast<int>(claim.record.state)) : "missing");
      }
    }
    return "";
  }

  void NoteSweeps(const Round& round, const std::vector<Outcome>& outcomes) {
    const bool crashed_any = std::any_of(round.decisions.begin(), round.decisions.end(),
                                         [](const Decision& d) { return d.crash; });
    for (size_t c = 0; c < round.calls.size(); ++c) {
      if (round.calls[c].kind != Call::Kind::kSweep || !outcomes[c].sweep.ok()) continue;
      for (const ClaimRecord& expired : outcomes[c].sweep->expired) reported_.insert(expired.claim_id);
      if (!crashed_any) last_clean_sweep_ = std::max(last_clean_sweep_, round.calls[c].now);
    }
    std::erase_if(phantoms_, [this](const Phantom& p) { return p.until <= last_clean_sweep_; });
  }

  // What a crashed call may still hold elsewhere until its hold ends (or the sweeper reconciles it).
  void AddPhantoms(const Round& round, const std::vector<Outcome>& outcomes) {
    for (size_t c = 0; c < round.calls.size(); ++c) {
      const Call& call = round.calls[c];
      if (outcomes[c].crashed_at.empty() && !outcomes[c].Unavailable()) continue;
      const auto request = reserves_.find(call.claim_id);
      if (request == reserves_.end()) continue;
      Phantom phantom;
      const ReserveRequest& r = request->second;
      for (const LineRequest& line : r.lines) {
        for (uint16_t b : line.budgets) {
          phantom.budgets[{r.budgets[b].programme, r.budgets[b].budget_id}] +=
              int64_t{line.units} * line.unit_fen;
        }
      }
      for (const OnceKey& key : r.once_keys)
        phantom.once_keys.insert({key.programme, key.quota_id, key.value_hash});
      // A crashed confirm may hold its serials; a crashed change (refund, void, correction) may not have let go
      // of those a confirm of the claim committed.
      if (const auto named = confirm_serials_.find(call.claim_id); named != confirm_serials_.end())
        phantom.serials.insert(named->second.begin(), named->second.end());
      phantom.until = std::max(call.now, r.now) + kHold + absl::Seconds(10);
      phantoms_.push_back(std::move(phantom));
    }
  }

  int64_t PhantomFen(const BudgetRef& budget) const {
    int64_t fen = 0;
    for (const Phantom& p : phantoms_) {
      const auto it = p.budgets.find({budget.programme, budget.budget_id});
      if (it != p.budgets.end()) fen += it->second;
    }
    return fen;
  }

  // -------------------------------------------------------------------------------------------------------
  // The end of a history: every hold over, sweeps done, everything exact.

  void FinalCheck() {
    final_phase_ = true;
    now_ += absl::Hours(2);
    Round sweeps;
    for (int pass = 0; pass < 3 && failure_.empty(); ++pass) {
      Round round;
      Call sweep;
      sweep.kind = Call::Kind::kSweep;
      sweep.now = now_;
      round.calls.push_back(sweep);
      if (replay_ == nullptr) {
        RunRound(round);
      } else {
        replay_decisions_.clear();
        RunRound(round);
      }
    }
    if (!failure_.empty()) return;
    phantoms_.clear();
    const EndState end = ReadEndState();
    std::string problem;
    for (const ReferenceLedger& world : worlds_) {
      problem = EndProblem(world, end);
      if (problem.empty()) break;
    }
    if (!problem.empty()) return Fail(absl::StrCat("at the end: ", problem));
    digest_.Add("end");
  }

  // Everything the store holds once every hold ended and the sweeps ran.
  struct EndState {
    std::map<std::string, absl::StatusOr<ClaimRecord>> claims;
    std::vector<absl::StatusOr<std::vector<int64_t>>> usage;  // by buyer
    absl::StatusOr<std::vector<int64_t>> budgets = absl::UnknownError("");
    ClaimPageRequest listing;                      // the first page's request (cursor "")
    std::vector<absl::StatusOr<ClaimPage>> pages;  // the whole listing, page by page
  };

  EndState ReadEndState() {
    testing::SyncStore sync(*store_);
    EndState end;
    for (const auto& [id, request] : reserves_) end.claims.emplace(id, sync.Get(id, now_));
    for (int buyer = 0; buyer < kBuyers; ++buyer)
      end.usage.push_back(sync.Usage(TestBuyer(buyer), Counters(), now_));
    end.budgets = sync.BudgetUsage(Budgets(), now_);
    end.listing.first_day = absl::CivilDay(2025, 5, 30);
    end.listing.last_day = absl::CivilDay(2025, 6, 30);
    end.listing.newest_first = false;
    end.listing.limit = 7;
    end.listing.now = now_;
    ClaimPageRequest page = end.listing;
    for (int p = 0; p < 10000; ++p) {
      end.pages.push_back(sync.List(page));
      if (!end.pages.back().ok() || !end.pages.back()->more) break;
      page.cursor = end.pages.back()->entries.back().cursor;
    }
    return end;
  }

  // "" when `world` is what the store holds at the end: every claim, counter and budget, the whole listing
  // (and what it sums to), and every expiry reported exactly once.
  std::string EndProblem(ReferenceLedger world, const EndState& end) const {
    for (const auto& [id, record] : end.claims) {
      const std::string problem = Compare(world.Get(id, now_), record);
      if (!problem.empty()) return absl::StrCat("claim ", id, ": ", problem);
    }
    for (int buyer = 0; buyer < kBuyers; ++buyer) {
      const auto& used = end.usage[static_cast<size_t>(buyer)];
      const std::vector<int64_t> want = world.Usage({TestBuyer(buyer), Counters(), now_});
      if (!used.ok() || *used != want) {
        return absl::StrCat("buyer ", buyer, "'s counters ",
                            used.ok() ? absl::StrJoin(*used, ",") : used.status().ToString(),
                            ", the model has ", absl::StrJoin(want, ","));
      }
    }
    const std::vector<int64_t> budgets = world.BudgetUsage(Budgets(), now_);
    if (!end.budgets.ok() || *end.budgets != budgets) {
      return absl::StrCat("budgets ", end.budgets.ok() ? absl::StrJoin(*end.budgets, ",") : "error",
                          ", the model has ", absl::StrJoin(budgets, ","));
    }
    const std::string listing = ListingProblem(world, end);
    if (!listing.empty()) return listing;
    std::set<std::string> expired;
    for (const std::string& id : world.ClaimIds()) {
      if (world.Get(id, now_).record.state == ClaimState::kExpired) expired.insert(id);
    }
    if (expired != reported_) {
      return absl::StrCat("expiries reported ", absl::StrJoin(reported_, ","), "; expired ",
                          absl::StrJoin(expired, ","));
    }
    return "";
  }

  // The whole listing, page by page, is the world's, and it sums to what the world paid.
  static std::string ListingProblem(ReferenceLedger& world, const EndState& end) {
    ClaimPageRequest request = end.listing;
    int64_t net = 0;
    for (size_t page = 0; page < end.pages.size(); ++page) {
      const absl::StatusOr<ClaimPage>& got = end.pages[page];
      const absl::StatusOr<ClaimPage> want = world.List(request);
      if (!got.ok() || !want.ok()) return "a listing failed";
      if (got->more != want->more || got->entries.size() != want->entries.size()) {
        return absl::StrCat("listing page ", page, ": ", got->entries.size(), " entries more=", got->more,
                            ", the model has ", want->entries.size(), " more=", want->more);
      }
      for (size_t e = 0; e < got->entries.size(); ++e) {
        ModelAnswer expected;
        expected.record = want->entries[e].record;
        const std::string problem = Compare(expected, got->entries[e].record);
        if (!problem.empty() || got->entries[e].cursor != want->entries[e].cursor) {
          return absl::StrCat("listing page ", page, " entry ", e, ": ", problem, " cursor ",
                              got->entries[e].cursor, " vs ", want->entries[e].cursor);
        }
        const ClaimRecord& r = got->entries[e].record;
        if (r.state != ClaimState::kReserved && r.state != ClaimState::kCancelled &&
            r.state != ClaimState::kExpired && r.state != ClaimState::kRejected) {
          for (size_t i = 0; i < r.grants.size(); ++i) net += r.grants[i].fen - r.refunds[i].fen;
        }
      }
      if (got->more) request.cursor = got->entries.back().cursor;
    }
    if (net != world.NetPaidFen()) {
      return absl::StrCat("the listing sums to ", net, " fen paid, the model to ", world.NetPaidFen());
    }
    return "";
  }

  void Fail(std::string why) {
    if (failure_.empty()) failure_ = absl::StrCat("round ", round_index_, ": ", why);
  }

  Target& target_;
  SimGate& gate_;  // outlives the store
  const SimulationOptions& options_;
  SimulationStats& stats_;
  Rng rng_;
  const Script* const replay_;
  std::vector<Decision> replay_decisions_;
  size_t next_decision_ = 0;
  std::set<std::string> uncovered_;  // protocol steps this history has not crashed yet

  std::unique_ptr<QuotaStore> store_;
  static constexpr size_t kMaxWorlds = 16;
  std::vector<ReferenceLedger> worlds_ = std::vector<ReferenceLedger>(1);  // never empty
  Script script_;
  Digest digest_;
  std::string failure_;
  size_t round_index_ = 0;

  absl::Time now_ = absl::FromCivil(absl::CivilSecond(2025, 6, 1, 10, 0, 0), absl::UTCTimeZone());
  int next_request_ = 0;
  std::map<std::string, ReserveRequest> reserves_;  // every claim id the history made up
  std::map<std::string, std::set<std::pair<std::string, std::string>>> confirm_serials_;  // named by its confirms
  std::vector<Call> pending_;                       // calls whose outcome the client never learned
  std::vector<Phantom> phantoms_;
  std::set<std::string> reported_;  // expiries sweeps reported
  absl::Time last_clean_sweep_ = absl::InfinitePast();
  bool final_phase_ = false;

  absl::Mutex answers_mu_;
  std::string crashing_step_ ABSL_GUARDED_BY(answers_mu_);
};

// ---------------------------------------------------------------------------------------------------------
// Simulator

class Simulator::Gate final : public SimGate {};

Simulator::Simulator(Target& target, SimulationOptions options)
    : target_(target), gate_(std::make_unique<Gate>()), options_(options) {}
Simulator::~Simulator() = default;

HistoryResult Simulator::Run(uint64_t seed) {
  return History(target_, *gate_, options_, stats_, seed, nullptr).Run();
}

HistoryResult Simulator::Replay(const Script& script) {
  return History(target_, *gate_, options_, stats_, script.seed, &script).Run();
}

Script Simulator::Shrink(const Script& failing, int attempts) {
  Script best = failing;
  auto still_fails = [&](const Script& candidate) {
    if (attempts-- <= 0) return false;
    return !Replay(candidate).ok;
  };
  // Whole rounds, latest first (later rounds depend on earlier ones more than the other way round).
  for (size_t r = best.rounds.size(); r-- > 0 && attempts > 0;) {
    Script candidate = best;
    candidate.rounds.erase(candidate.rounds.begin() + static_cast<long>(r));
    if (still_fails(candidate)) best = std::move(candidate);
  }
  // Single calls of the rounds left.
  for (size_t r = 0; r < best.rounds.size() && attempts > 0; ++r) {
    for (size_t c = best.rounds[r].calls.size(); c-- > 0 && attempts > 0;) {
      if (best.rounds[r].calls.size() == 1) break;
      Script candidate = best;
      candidate.rounds[r].calls.erase(candidate.rounds[r].calls.begin() + static_cast<long>(c));
      if (still_fails(candidate)) best = std::move(candidate);
    }
  }
  return best;
}

}  // namespace tradein::quota::sim
