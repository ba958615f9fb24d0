#include "services/quota/redis_quota_store.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/civil_date.h"
#include "common/money.h"
#include "common/status.h"
#include "services/quota/redis_quota_store_scripts.h"
#include "services/quota/step_gate.h"
#include "services/quota/store_errors.h"
#include "services/redis/single_node_client.h"

namespace tradein::quota {

namespace redis_quota_internal {

// What the store and every call in flight share.
class Core {
 public:
  Core(RedisQuotaStoreOptions options_in, redis::KeyedClient& client_in)
      : options(std::move(options_in)), keys(options.key_prefix), client(client_in) {}

  void Eval(const redis::RedisScript& script, std::vector<std::string> script_keys,
            std::vector<std::string> args, absl::Time deadline, redis::RedisClient::Callback done) const {
    client.EvalScript(script, std::move(script_keys), std::move(args), deadline, redis::WriteConcern{},
                      Track(std::move(done)));
  }

  // `args[1]` is the command's key.
  void Command(std::vector<std::string> args, absl::Time deadline, redis::RedisClient::Callback done) const {
    client.Command(std::move(args), deadline, redis::WriteConcern{}, Track(std::move(done)));
  }

  // Continues a call past protocol step `step`: at once, or when the step gate lets it (StepGate).
  void Pass(absl::string_view step, StepGate::Resume next) const {
    if (options.step_gate == nullptr) return std::move(next)(false);
    options.step_gate->Before(step, std::move(next));
  }

  const RedisQuotaStoreOptions options;
  const RedisQuotaKeys keys;
  redis::KeyedClient& client;

 private:
  // With a step gate, tells it about every command in flight, so that a simulator knows when the store is
  // idle.
  redis::RedisClient::Callback Track(redis::RedisClient::Callback done) const {
    StepGate* gate = options.step_gate;
    if (gate == nullptr) return done;
    gate->Work(+1);
    return [gate, done = std::move(done)](absl::StatusOr<redis::RedisValue> reply) mutable {
      std::move(done)(std::move(reply));
      gate->Work(-1);
    };
  }
};

}  // namespace redis_quota_internal

namespace {

using pricing::ReasonCode;
using pricing::ReasonSet;
using redis::RedisClient;
using redis::RedisScript;
using redis::RedisValue;
using redis_quota_internal::Core;
using Reply = absl::StatusOr<RedisValue>;
using CorePtr = std::shared_ptr<const Core>;

struct Scripts {
  RedisScript buyer_reserve{scripts::kBuyerReserve};
  RedisScript buyer_confirm{scripts::kBuyerConfirm};
  RedisScript buyer_cancel{scripts::kBuyerCancel};
  RedisScript buyer_refund{scripts::kBuyerRefund};
  RedisScript buyer_get{scripts::kBuyerGet};
  RedisScript buyer_usage{scripts::kBuyerUsage};
  RedisScript buyer_void{scripts::kBuyerVoid};
  RedisScript buyer_correct{scripts::kBuyerCorrect};
  RedisScript buyer_list{scripts::kBuyerList};
  RedisScript index_add{scripts::kIndexAdd};
  RedisScript index_range{scripts::kIndexRange};
  RedisScript once_take{scripts::kOnceTake};
  RedisScript once_settle{scripts::kOnceSettle};
  RedisScript budget_alloc{scripts::kBudgetAlloc};
  RedisScript budget_settle{scripts::kBudgetSettle};
  RedisScript budget_used{scripts::kBudgetUsed};
  RedisScript due_settle{scripts::kDueSettle};
  RedisScript ping{scripts::kPing};
};

const Scripts& S() {
  static const Scripts* const scripts = new Scripts();
  return *scripts;
}

// ---------------------------------------------------------------------------------------------------------
// Keys and times

std::string Escape(absl::string_view part) {
  std::string out;
  out.reserve(part.size());
  for (char c : part) {
    if (c == ':' || c == '{' || c == '}' || c == '%') {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A time as the scripts keep it: 19-digit zero-padded nanoseconds since the epoch (exact; before 1970 is 0).
std::string TimeText(absl::Time t) {
  return absl::StrFormat("%019d", std::max<int64_t>(absl::ToUnixNanos(t), 0));
}

// The sorted-set score of a time (what the scripts' ms_of() computes).
int64_t Millis(absl::Time t) { return std::max<int64_t>(absl::ToUnixNanos(t), 0) / 1000000; }

std::string Bit(ReasonCode code) {
  ReasonSet set;
  set.Add(code);
  return absl::StrCat(set.bits());
}

// Units of a line that `remaining` fen fits (MemoryQuotaStore's rule).
int32_t UnitsThatFit(int64_t remaining, int64_t unit_fen, int32_t units) {
  if (unit_fen <= 0) return units;
  return static_cast<int32_t>(std::clamp<int64_t>(remaining / unit_fen, 0, units));
}

// ---------------------------------------------------------------------------------------------------------
// Errors

absl::Status NotFound() {
  return ReasonError(absl::StatusCode::kNotFound, "CLAIM_NOT_FOUND", "no such claim");
}

absl::Status Precondition(absl::string_view reason, absl::string_view message) {
  return ReasonError(absl::StatusCode::kFailedPrecondition, reason, message);
}

absl::Status BadReply(absl::string_view what) {
  // Never the reply itself: it may carry a draft.
  return absl::InternalError(absl::StrCat("unexpected reply shape from ", what));
}

absl::Status Crashed(absl::string_view step) {
  return absl::UnavailableError(absl::StrCat("simulated crash before ", step));
}

// ---------------------------------------------------------------------------------------------------------
// Replies of the buyer scripts

class Cursor {
 public:
  explicit Cursor(const std::vector<RedisValue>& values) : values_(values) {}

  std::string Str() {
    const RedisValue* v = Next();
    if (v == nullptr || (v->type() != RedisValue::Type::kString && v->type() != RedisValue::Type::kStatus)) {
      ok_ = false;
      return "";
    }
    return v->str();
  }
  int64_t Int() {
    const RedisValue* v = Next();
    if (v == nullptr || v->type() != RedisValue::Type::kInteger) {
      ok_ = false;
      return 0;
    }
    return v->integer();
  }
  absl::Time Time() {
    int64_t nanos = 0;
    if (!absl::SimpleAtoi(Str(), &nanos)) ok_ = false;
    return absl::FromUnixNanos(nanos);
  }
  bool ok() const { return ok_; }
  bool at_end() const { return next_ == values_.size(); }

 private:
  const RedisValue* Next() {
    if (next_ >= values_.size()) return nullptr;
    return &values_[next_++];
  }

  const std::vector<RedisValue>& values_;
  size_t next_ = 0;
  bool ok_ = true;
};

// What the other slots must hold for a claim (the scripts' append_plan()).
struct Plan {
  struct Budget {
    std::string key;
    int64_t target = 0;  // fen the claim holds there; 0 = no entry
  };
  struct Once {
    std::string key;
    bool keep = false;
  };
  std::vector<Budget> budgets;
  std::vector<Once> once;
};

struct BuyerAnswer {
  std::string status;   // "OK", "NEEDS_COMMIT" or an error name
  int64_t detail = 0;   // WRONG_STATE: the state; serial errors: the serial (1-based)
  int64_t detail2 = 0;  // SERIAL_COUNT: the line's granted units
  ClaimRecord record;
  Plan plan;
};

absl::StatusOr<BuyerAnswer> ParseBuyerValue(const RedisValue& value, absl::string_view script) {
  if (value.type() != RedisValue::Type::kArray || value.elements().empty()) return BadReply(script);
  Cursor c(value.elements());
  BuyerAnswer answer;
  answer.status = c.Str();
  if (answer.status != "OK" && answer.status != "NEEDS_COMMIT") {
    if (!c.at_end()) answer.detail = c.Int();
    if (!c.at_end()) answer.detail2 = c.Int();
    if (!c.ok() || !c.at_end()) return BadReply(script);
    return answer;
  }
  ClaimRecord& r = answer.record;
  r.replayed = c.Int() != 0;
  const int64_t state = c.Int();
  if (state < 1 || state > 8) return BadReply(script);
  r.state = static_cast<ClaimState>(state);
  r.claim_id = c.Str();
  r.retailer_id = c.Str();
  r.request_id = c.Str();
  r.created_at = c.Time();
  r.updated_at = c.Time();
  r.expires_at = c.Time();
  r.draft = c.Str();
  r.confirmation = c.Str();
  const int64_t lines = c.Int();
  for (int64_t i = 0; i < lines && c.ok(); ++i) {
    LineGrant grant;
    grant.units = static_cast<int32_t>(c.Int());
    grant.fen = c.Int();
    grant.reasons = ReasonSet::FromBits(static_cast<uint32_t>(c.Int()));
    LineRefund refund;
    refund.units = static_cast<int32_t>(c.Int());
    refund.fen = c.Int();
    r.grants.push_back(grant);
    r.refunds.push_back(refund);
  }
  const int64_t budgets = c.Int();
  for (int64_t i = 0; i < budgets && c.ok(); ++i) {
    Plan::Budget budget;
    budget.key = c.Str();
    budget.target = c.Int();
    answer.plan.budgets.push_back(std::move(budget));
  }
  const int64_t once = c.Int();
  for (int64_t i = 0; i < once && c.ok(); ++i) {
    Plan::Once key;
    key.key = c.Str();
    key.keep = c.Int() != 0;
    answer.plan.once.push_back(std::move(key));
  }
  if (!c.at_end()) r.last_change_fen = c.Int();  // buyer_refund/void/correct: what this call gave back
  if (!c.ok() || !c.at_end()) return BadReply(script);
  return answer;
}

absl::StatusOr<BuyerAnswer> ParseBuyerReply(const Reply& reply, absl::string_view script) {
  if (!reply.ok()) return reply.status();
  return ParseBuyerValue(*reply, script);
}

// The Status of an error answer; `action` as in "cannot be <action>".
absl::Status AnswerError(const BuyerAnswer& answer, absl::string_view action) {
  const std::string& s = answer.status;
  if (s == "NOT_FOUND") return NotFound();
  if (s == "HOLD_EXPIRED") {
    return Precondition("HOLD_EXPIRED", action == "confirmed"
                                            ? "the claim's hold expired before it was confirmed"
                                            : "the claim's hold already expired");
  }
  if (s == "WRONG_STATE") {
    return Precondition("WRONG_STATE",
                        absl::StrCat("a claim in state ", answer.detail, " cannot be ", action));
  }
  if (s == "REQUEST_ID_REUSED") {
    return ReasonError(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
                       "this requestId was used for a different claim");
  }
  if (s == "REFUND_ID_REUSED") {
    return ReasonError(absl::StatusCode::kAlreadyExists, "REFUND_ID_REUSED",
                       "this refund requestId was used for a different refund");
  }
  if (s == "VOID_ID_REUSED") return VoidIdReused();
  if (s == "CORRECTION_ID_REUSED") return CorrectionIdReused();
  if (s == "CORRECTION_NOT_A_REDUCTION") return NotAReduction();
  if (s == "LINE_NOT_FOUND") {
    return ReasonError(absl::StatusCode::kNotFound, "LINE_NOT_FOUND", "the claim has no such line");
  }
  if (s == "REFUND_EXCEEDS_GRANT") {
    return Precondition("REFUND_EXCEEDS_GRANT", "more units than were granted and not yet refunded");
  }
  return absl::InternalError(absl::StrCat("unexpected answer from a buyer script: ", s));
}

// ---------------------------------------------------------------------------------------------------------
// Calls in parallel

using Step = absl::AnyInvocable<void(RedisClient::Callback) &&>;

// Runs every step at once, then `then` (exactly once) with their replies in step order.
void All(std::vector<Step> steps, absl::AnyInvocable<void(std::vector<Reply>) &&> then) {
  if (steps.empty()) {
    std::move(then)({});
    return;
  }
  struct Join {
    std::vector<Reply> replies;
    std::atomic<size_t> left{0};
    absl::AnyInvocable<void(std::vector<Reply>) &&> then;
  };
  auto join = std::make_shared<Join>();
  join->replies.assign(steps.size(), absl::UnknownError("no reply"));
  join->left.store(steps.size());
  join->then = std::move(then);
  for (size_t i = 0; i < steps.size(); ++i) {
    std::move(steps[i])([join, i](Reply reply) {
      join->replies[i] = std::move(reply);
      if (join->left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::move(join->then)(std::move(join->replies));
      }
    });
  }
}

// Sends a command whose outcome does not matter (the sweeper cleans up after it); the callback holds nothing.
void FireAndForget(const Core& core, std::vector<std::string> args, absl::Time deadline) {
  core.Command(std::move(args), deadline, [](Reply) {});
}

// ---------------------------------------------------------------------------------------------------------
// Reconcile: the other slots brought in line with a claim's plan

enum class SettleMode { kHold, kCommit, kRelease };

SettleMode ModeFor(ClaimState state) {
  switch (state) {
    case ClaimState::kReserved:
      return SettleMode::kHold;
    case ClaimState::kCancelled:
    case ClaimState::kExpired:
    case ClaimState::kRejected:
      return SettleMode::kRelease;
    default:
      return SettleMode::kCommit;
  }
}

struct SettleOutcome {
  absl::Status status;  // the first error
  int changed = 0;      // entries that still held what the claim no longer holds
  bool gone = false;    // a commit found an entry missing or its hold ended
};

void Settle(const CorePtr& core, const std::string& claim_id, SettleMode mode, absl::Time hold_end,
            const Plan& plan, absl::Time now, absl::Time deadline,
            absl::AnyInvocable<void(SettleOutcome) &&> then) {
  const std::string hold = TimeText(hold_end);
  const std::string now_text = TimeText(now);
  const std::string grace = absl::StrCat(absl::ToInt64Milliseconds(core->options.hold_grace));
  const std::string mode_name = mode == SettleMode::kCommit ? "commit" : "hold";
  std::vector<Step> steps;
  for (const Plan::Budget& budget : plan.budgets) {
    const int64_t target = mode == SettleMode::kRelease ? 0 : budget.target;
    std::vector<std::string> budget_keys = {budget.key, RedisQuotaKeys::BudgetHolds(budget.key)};
    std::vector<std::string> budget_args = {claim_id, target > 0 ? mode_name : "hold", absl::StrCat(target),
                                            hold, now_text};
    steps.push_back([core, keys = std::move(budget_keys), args = std::move(budget_args),
                     deadline](RedisClient::Callback done) mutable {
      core->Eval(S().budget_settle, std::move(keys), std::move(args), deadline, std::move(done));
    });
  }
  for (const Plan::Once& once : plan.once) {
    const bool keep = mode != SettleMode::kRelease && once.keep;
    // A RESERVED claim's serial key it no longer wants is a confirmation in progress that another attempt of
    // the same claim replaced: released once the claim is confirmed or final, never while a confirm may
    // commit it.
    if (!keep && mode == SettleMode::kHold && RedisQuotaKeys::IsSerial(once.key)) continue;
    std::vector<std::string> once_args = {claim_id, keep ? mode_name : "release", hold, now_text, grace};
    steps.push_back(
        [core, key = once.key, args = std::move(once_args), deadline](RedisClient::Callback done) mutable {
          core->Eval(S().once_settle, {key}, std::move(args), deadline, std::move(done));
        });
  }
  All(std::move(steps), [then = std::move(then)](std::vector<Reply> replies) mutable {
    SettleOutcome outcome;
    for (const Reply& reply : replies) {
      if (!reply.ok()) {
        outcome.status.Update(reply.status());
        continue;
      }
      const std::vector<RedisValue>& e = reply->elements();
      if (reply->type() != RedisValue::Type::kArray || e.size() != 2 ||
          e[1].type() != RedisValue::Type::kInteger) {
        outcome.status.Update(BadReply("a settle script"));
        continue;
      }
      if (e[0].str() == "GONE") outcome.gone = true;
      outcome.changed += static_cast<int>(e[1].integer());
    }
    std::move(then)(std::move(outcome));
  });
}

// Reads a claim (buyer_get: expires it when due). A claim id that cannot be ours answers NOT_FOUND.
void ReadClaim(const CorePtr& core, const std::string& claim_id, absl::Time now, absl::Time deadline,
               absl::AnyInvocable<void(absl::StatusOr<BuyerAnswer>) &&> then) {
  const std::string tag = TagOfClaimId(claim_id);
  if (tag.empty()) {
    BuyerAnswer answer;
    answer.status = "NOT_FOUND";
    std::move(then)(std::move(answer));
    return;
  }
  core->Eval(S().buyer_get, core->keys.Buyer(tag), {claim_id, TimeText(now)}, deadline,
             [then = std::move(then)](Reply reply) mutable {
               std::move(then)(ParseBuyerReply(reply, "buyer_get"));
             });
}

// Answers a call exactly once.
template <typename T>
class Answer {
 public:
  explicit Answer(QuotaStore::Callback<T> done) : done_(std::move(done)) {}
  void operator()(absl::StatusOr<T> result) {
    if (answered_.exchange(true)) return;
    std::move(done_)(std::move(result));
  }

 private:
  QuotaStore::Callback<T> done_;
  std::atomic<bool> answered_{false};
};

// A call whose steps pass the step gate (Core::Pass): abandoned before one, it answers UNAVAILABLE, as if its
// instance crashed there. `Derived` has Finish(absl::Status).
template <typename Derived>
class SteppedCall : public std::enable_shared_from_this<Derived> {
 public:
  explicit SteppedCall(CorePtr core) : core_(std::move(core)) {}

 protected:
  // Runs `next` on this call past protocol step `step` (one of RedisQuotaStore::ProtocolSteps()).
  void PassStep(std::string step, absl::AnyInvocable<void(Derived&) &&> next) {
    core_->Pass(step, [self = this->shared_from_this(), step, next = std::move(next)](bool crash) mutable {
      if (crash) return self->Finish(Crashed(step));
      std::move(next)(*self);
    });
  }

  const CorePtr core_;
};

// ---------------------------------------------------------------------------------------------------------
// Reserve

class ReserveCall : public SteppedCall<ReserveCall> {
 public:
  ReserveCall(CorePtr core, ReserveRequest request, absl::Time deadline,
              QuotaStore::Callback<ClaimRecord> done)
      : SteppedCall(std::move(core)),
        request_(std::move(request)),
        deadline_(deadline),
        answer_(std::move(done)) {}

  void Finish(absl::StatusOr<ClaimRecord> result) { answer_(std::move(result)); }

  void Start() {
    if (absl::Status status = Validate(); !status.ok()) return Finish(status);
    tag_ = request_.buyer.tag;
    now_ = TimeText(request_.now);
    hold_end_ = TimeText(request_.expires_at);
    for (const OnceKey& once : request_.once_keys) once_names_.push_back(core_->keys.Once(once));
    for (const BudgetRef& budget : request_.budgets) {
      budget_names_.push_back(core_->keys.Budget(budget.programme, budget.budget_id));
    }
    once_touched_.assign(request_.once_keys.size(), false);
    budget_touched_.assign(request_.budgets.size(), false);
    units_.resize(request_.lines.size());
    reasons_.resize(request_.lines.size());
    for (size_t i = 0; i < request_.lines.size(); ++i) units_[i] = std::max(request_.lines[i].units, 0);

    created_ = request_.now;
    PassStep("reserve.request", [](ReserveCall& self) { self.ClaimRequestId(); });
  }

 private:
  // 1. The request id, with this attempt's now and fingerprint unless an earlier attempt's are there.
  void ClaimRequestId() {
    core_->Command(
        {"SET", core_->keys.Request(request_.retailer_id, request_.request_id),
         absl::StrCat(request_.claim_id, "|t", TimeText(request_.now), "|", request_.fingerprint), "NX",
         "GET", "PX", absl::StrCat(absl::ToInt64Milliseconds(core_->options.request_id_ttl))},
        deadline_, [self = shared_from_this()](Reply reply) { self->OnRequestKey(std::move(reply)); });
  }

  absl::Status Validate() const {
    const std::string tag = TagOfClaimId(request_.claim_id);
    if (tag.empty() || tag != request_.buyer.tag) {
      return absl::InvalidArgumentError("the claim id is not one of the buyer's (ClaimIdFor)");
    }
    // The bounds under which the scripts' Lua numbers (doubles) hold every amount exactly (common/money.h);
    // requests and policies are validated within them before they get here.
    constexpr size_t kMaxLines = 100;
    constexpr int32_t kMaxUnits = 100;
    bool exact = request_.lines.size() <= kMaxLines;
    for (const LineRequest& line : request_.lines) {
      exact = exact && line.units >= 0 && line.units <= kMaxUnits && line.unit_fen >= 0 &&
              line.unit_fen <= kMaxUnitFen;
    }
    for (const CounterLimit& counter : request_.counters) exact = exact && counter.limit <= kMaxTotalFen;
    for (const BudgetRef& budget : request_.budgets) exact = exact && budget.total_fen <= kMaxTotalFen;
    if (!exact) return absl::InvalidArgumentError("an amount outside the bounds of common/money.h");
    for (const LineRequest& line : request_.lines) {
      for (uint16_t c : line.counters) {
        if (c >= request_.counters.size())
          return absl::InvalidArgumentError("a line names an unknown counter");
      }
      for (uint16_t k : line.once_keys) {
        if (k >= request_.once_keys.size())
          return absl::InvalidArgumentError("a line names an unknown once-key");
      }
      for (uint16_t b : line.budgets) {
        if (b >= request_.budgets.size()) return absl::InvalidArgumentError("a line names an unknown budget");
      }
    }
    return absl::OkStatus();
  }

  // 1. The request id: first time, a retry, or a reuse.
  void OnRequestKey(Reply reply) {
    if (!reply.ok()) return Finish(reply.status());
    if (reply->is_nil()) return TakeHolds();
    if (reply->type() != RedisValue::Type::kString) return Finish(BadReply("SET NX GET"));
    const std::string& stored = reply->str();
    const size_t bar = stored.find('|');
    if (bar == std::string::npos) return Finish(BadReply("SET NX GET"));
    const std::string stored_claim = stored.substr(0, bar);
    absl::string_view stored_fingerprint = absl::string_view(stored).substr(bar + 1);
    // "t<time>|": the first attempt's now, the claim's creation time whichever attempt creates it (a value
    // written before times were kept has none).
    int64_t first_nanos = 0;
    if (stored_fingerprint.size() >= 21 && stored_fingerprint[0] == 't' && stored_fingerprint[20] == '|' &&
        absl::SimpleAtoi(stored_fingerprint.substr(1, 19), &first_nanos)) {
      created_ = absl::FromUnixNanos(first_nanos);
      stored_fingerprint.remove_prefix(21);
    }
    if (stored_fingerprint != request_.fingerprint) {
      return Finish(ReasonError(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
                                "this requestId was used for a different claim"));
    }
    // The same request again: its claim if it was decided, else the steps a crash cut short.
    ReadClaim(core_, stored_claim, request_.now, deadline_,
              [self = shared_from_this(), stored_claim](absl::StatusOr<BuyerAnswer> answer) {
                if (!answer.ok()) return self->Finish(answer.status());
                if (answer->status == "NOT_FOUND") {
                  if (stored_claim == self->request_.claim_id) return self->TakeHolds();
                  return self->Finish(absl::UnavailableError(
                      "the first attempt of this request id (for another buyer) is not finished"));
                }
                if (answer->status != "OK") return self->Finish(AnswerError(*answer, "read"));
                answer->record.replayed = true;
                self->Reconcile(*std::move(answer));
              });
  }

  // 2. The due entry, the listing index entries and the once-keys of the lines the rules grant.
  static constexpr size_t kFirstOnceStep = 3;

  void TakeHolds() {
    PassStep("reserve.holds", [](ReserveCall& self) { self.SendHolds(); });
  }

  void SendHolds() {
    std::vector<Step> steps;
    const std::string due = core_->keys.Due(RedisQuotaKeys::DueShard(request_.claim_id));
    steps.push_back([core = core_, due, score = absl::StrCat(Millis(request_.expires_at)),
                     claim = request_.claim_id, deadline = deadline_](RedisClient::Callback done) mutable {
      core->Command({"ZADD", due, score, claim}, deadline, std::move(done));
    });
    // The claim is in the listings before it can exist: a listing skips an entry with no claim behind it, and
    // never misses a claim.
    const ClaimPosition position = PositionOf(created_, request_.claim_id);
    const absl::Duration retention = core_->options.index_retention;
    const std::string ttl =
        retention > absl::ZeroDuration()
            ? absl::StrCat(std::max<int64_t>(
                  absl::ToInt64Milliseconds(StartOfChinaDay(position.day + 1) + retention - request_.now), 1))
            : "0";
    for (const std::string& index :
         {core_->keys.DayIndex(position.day, RedisQuotaKeys::IndexShard(request_.claim_id)),
          core_->keys.RetailerDayIndex(request_.retailer_id, position.day)}) {
      steps.push_back([core = core_, index, score = absl::StrCat(position.nanos_in_day),
                       claim = request_.claim_id, ttl,
                       deadline = deadline_](RedisClient::Callback done) mutable {
        core->Eval(S().index_add, {index}, {score, claim, ttl}, deadline, std::move(done));
      });
    }
    std::vector<uint16_t> wanted;
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      if (units_[i] == 0) continue;
      for (uint16_t k : request_.lines[i].once_keys) {
        if (std::find(wanted.begin(), wanted.end(), k) == wanted.end()) wanted.push_back(k);
      }
    }
    const std::string grace = absl::StrCat(absl::ToInt64Milliseconds(core_->options.hold_grace));
    for (uint16_t k : wanted) {
      steps.push_back([core = core_, key = once_names_[k], claim = request_.claim_id, now = now_,
                       hold = hold_end_, grace, deadline = deadline_](RedisClient::Callback done) mutable {
        core->Eval(S().once_take, {key}, {claim, now, hold, grace}, deadline, std::move(done));
      });
    }
    All(std::move(steps), [self = shared_from_this(), wanted](std::vector<Reply> replies) {
      self->OnHolds(wanted, std::move(replies));
    });
  }

  void OnHolds(const std::vector<uint16_t>& wanted, std::vector<Reply> replies) {
    for (size_t j = 0; j < kFirstOnceStep; ++j) {
      if (!replies[j].ok()) return Finish(replies[j].status());
    }
    std::vector<bool> taken(request_.once_keys.size(), false);
    for (size_t j = 0; j < wanted.size(); ++j) {
      const Reply& reply = replies[j + kFirstOnceStep];
      if (!reply.ok()) return Finish(reply.status());
      if (reply->str() == "OK") {
        once_touched_[wanted[j]] = true;
      } else if (reply->str() == "TAKEN") {
        taken[wanted[j]] = true;
      } else {
        return Finish(BadReply("once_take"));
      }
    }
    // A home or old car another claim holds takes the line out (the first such key gives the reason).
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      for (uint16_t k : request_.lines[i].once_keys) {
        if (units_[i] > 0 && taken[k]) {
          units_[i] = 0;
          reasons_[i].Add(request_.once_keys[k].reason_when_taken);
        }
      }
    }
    AllocateBudgets();
  }

  // 3. Budgets, in line order, before the buyer's counters.
  void AllocateBudgets() {
    bool any = false;
    bool joint = false;
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      if (units_[i] == 0 || request_.lines[i].budgets.empty()) continue;
      any = true;
      joint = joint || request_.lines[i].budgets.size() > 1;
    }
    if (!any) return Decide();
    PassStep("reserve.budgets", [joint](ReserveCall& self) {
      if (!joint) return self.Allocate(self.units_);
      self.AllocateJointly();
    });
  }

  void AllocateJointly() {
    // A line that draws on two budgets gets what both fit, and what it gets from one changes what later lines
    // get from it: compute the joint allocation from what each budget has used, then allocate exactly that.
    std::vector<std::string> names = DistinctBudgets();
    std::vector<Step> steps;
    for (const std::string& name : names) {
      steps.push_back(
          [core = core_, name, now = now_, deadline = deadline_](RedisClient::Callback done) mutable {
            core->Eval(S().budget_used, {name, RedisQuotaKeys::BudgetHolds(name)}, {now}, deadline,
                       std::move(done));
          });
    }
    All(std::move(steps), [self = shared_from_this(), names](std::vector<Reply> replies) {
      absl::flat_hash_map<std::string, int64_t> used;
      for (size_t j = 0; j < names.size(); ++j) {
        if (!replies[j].ok()) return self->Finish(replies[j].status());
        if (replies[j]->type() != RedisValue::Type::kInteger) return self->Finish(BadReply("budget_used"));
        used[names[j]] = replies[j]->integer();
      }
      self->Allocate(self->JointCaps(used));
    });
  }

  std::vector<std::string> DistinctBudgets() const {
    std::vector<std::string> names;
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      if (units_[i] == 0) continue;
      for (uint16_t b : request_.lines[i].budgets) {
        if (std::find(names.begin(), names.end(), budget_names_[b]) == names.end())
          names.push_back(budget_names_[b]);
      }
    }
    return names;
  }

  // MemoryQuotaStore's allocation over every budget at once.
  std::vector<int32_t> JointCaps(const absl::flat_hash_map<std::string, int64_t>& used) const {
    std::vector<int32_t> caps = units_;
    absl::flat_hash_map<std::string, int64_t> allocated;
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      const LineRequest& line = request_.lines[i];
      if (units_[i] == 0 || line.budgets.empty()) continue;
      int32_t fit = units_[i];
      for (uint16_t b : line.budgets) {
        const std::string& name = budget_names_[b];
        const auto u = used.find(name);
        fit = std::min(fit, UnitsThatFit(request_.budgets[b].total_fen - (u == used.end() ? 0 : u->second) -
                                             allocated[name],
                                         line.unit_fen, fit));
      }
      caps[i] = fit;
      for (uint16_t b : line.budgets) allocated[budget_names_[b]] += fit * line.unit_fen;
    }
    return caps;
  }

  void Allocate(const std::vector<int32_t>& caps) {
    std::vector<std::string> names = DistinctBudgets();
    std::vector<std::vector<size_t>> lines_of(names.size());
    std::vector<Step> steps;
    for (size_t j = 0; j < names.size(); ++j) {
      int64_t total = 0;
      bool found_total = false;
      std::vector<std::string> args = {request_.claim_id, now_, hold_end_, "", ""};
      for (size_t i = 0; i < request_.lines.size(); ++i) {
        const LineRequest& line = request_.lines[i];
        if (units_[i] == 0) continue;
        for (uint16_t b : line.budgets) {
          if (budget_names_[b] != names[j]) continue;
          if (!found_total) {
            total = request_.budgets[b].total_fen;
            found_total = true;
          }
          lines_of[j].push_back(i);
          args.push_back(absl::StrCat(i));
          args.push_back(absl::StrCat(caps[i]));
          args.push_back(absl::StrCat(line.unit_fen));
          break;  // a line once per budget
        }
      }
      args[3] = absl::StrCat(total);
      args[4] = absl::StrCat(lines_of[j].size());
      steps.push_back([core = core_, name = names[j], args = std::move(args),
                       deadline = deadline_](RedisClient::Callback done) mutable {
        core->Eval(S().budget_alloc, {name, RedisQuotaKeys::BudgetHolds(name)}, std::move(args), deadline,
                   std::move(done));
      });
    }
    All(std::move(steps), [self = shared_from_this(), names, lines_of](std::vector<Reply> replies) {
      self->OnBudgets(names, lines_of, std::move(replies));
    });
  }

  void OnBudgets(const std::vector<std::string>& names, const std::vector<std::vector<size_t>>& lines_of,
                 std::vector<Reply> replies) {
    // allocation[j][i]: units budget j allocated to line i.
    std::vector<absl::flat_hash_map<size_t, int32_t>> allocation(names.size());
    for (size_t j = 0; j < names.size(); ++j) {
      if (!replies[j].ok()) return Finish(replies[j].status());
      const std::vector<RedisValue>& units = replies[j]->elements();
      if (replies[j]->type() != RedisValue::Type::kArray || units.size() != lines_of[j].size()) {
        return Finish(BadReply("budget_alloc"));
      }
      bool touched = false;
      for (size_t k = 0; k < units.size(); ++k) {
        if (units[k].type() != RedisValue::Type::kInteger) return Finish(BadReply("budget_alloc"));
        allocation[j][lines_of[j][k]] = static_cast<int32_t>(units[k].integer());
        touched = touched || units[k].integer() > 0;
      }
      if (!touched) continue;
      for (size_t b = 0; b < budget_names_.size(); ++b) {
        if (budget_names_[b] == names[j]) budget_touched_[b] = true;
      }
    }
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      if (units_[i] == 0 || request_.lines[i].budgets.empty()) continue;
      int32_t fit = units_[i];
      for (uint16_t b : request_.lines[i].budgets) {
        const size_t j =
            static_cast<size_t>(std::find(names.begin(), names.end(), budget_names_[b]) - names.begin());
        const auto it = allocation[j].find(i);
        fit = std::min(fit, it == allocation[j].end() ? 0 : it->second);
      }
      if (fit < units_[i]) reasons_[i].Add(ReasonCode::kBudgetExhausted);
      units_[i] = fit;
    }
    Decide();
  }

  // 4. The buyer's script decides.
  void Decide() {
    PassStep("reserve.buyer", [](ReserveCall& self) { self.RunBuyerScript(); });
  }

  void RunBuyerScript() {
    const ReserveRequest& r = request_;
    std::vector<std::string> args = {r.claim_id,
                                     r.buyer.key,
                                     r.retailer_id,
                                     r.request_id,
                                     r.fingerprint,
                                     now_,
                                     hold_end_,
                                     r.refund_restores_quota ? "1" : "0",
                                     r.draft,
                                     Bit(ReasonCode::kQuotaExhausted),
                                     Bit(ReasonCode::kAmountCapReached),
                                     TimeText(created_),
                                     absl::StrCat(r.counters.size())};
    for (const CounterLimit& counter : r.counters) {
      args.push_back(RedisQuotaKeys::CounterField(r.buyer.key, counter.programme, counter.field));
      args.push_back(counter.kind == CounterLimit::Kind::kUnits ? "u" : "f");
      args.push_back(absl::StrCat(counter.limit));
    }
    args.push_back(absl::StrCat(once_names_.size()));
    for (size_t k = 0; k < once_names_.size(); ++k) {
      args.push_back(once_names_[k]);
      args.push_back(once_touched_[k] ? "1" : "0");
    }
    args.push_back(absl::StrCat(budget_names_.size()));
    for (size_t b = 0; b < budget_names_.size(); ++b) {
      args.push_back(budget_names_[b]);
      args.push_back(budget_touched_[b] ? "1" : "0");
    }
    args.push_back(absl::StrCat(r.lines.size()));
    for (size_t i = 0; i < r.lines.size(); ++i) {
      const LineRequest& line = r.lines[i];
      args.push_back(line.line_id);
      args.push_back(absl::StrCat(units_[i]));
      args.push_back(absl::StrCat(line.unit_fen));
      args.push_back(absl::StrCat(reasons_[i].bits()));
      args.push_back(absl::StrCat(line.counters.size()));
      for (uint16_t c : line.counters) args.push_back(absl::StrCat(c + 1));
      args.push_back(absl::StrCat(line.once_keys.size()));
      for (uint16_t k : line.once_keys) args.push_back(absl::StrCat(k + 1));
      args.push_back(absl::StrCat(line.budgets.size()));
      for (uint16_t b : line.budgets) args.push_back(absl::StrCat(b + 1));
    }
    core_->Eval(S().buyer_reserve, core_->keys.Buyer(tag_), std::move(args), deadline_,
                [self = shared_from_this()](Reply reply) {
                  absl::StatusOr<BuyerAnswer> answer = ParseBuyerReply(reply, "buyer_reserve");
                  if (!answer.ok()) return self->Finish(answer.status());
                  if (answer->status != "OK") return self->Finish(AnswerError(*answer, "reserved"));
                  self->Reconcile(*std::move(answer));
                });
  }

  // 5. The other slots in line with the decision, then the answer.
  void Reconcile(BuyerAnswer answer) {
    PassStep("reserve.reconcile", [answer = std::move(answer)](ReserveCall& self) mutable {
      self.SettleDecision(std::move(answer));
    });
  }

  void SettleDecision(BuyerAnswer answer) {
    // (Read before the record moves into the continuation.)
    const std::string claim_id = answer.record.claim_id;
    const SettleMode mode = ModeFor(answer.record.state);
    const absl::Time hold_end = answer.record.expires_at;
    Settle(core_, claim_id, mode, hold_end, answer.plan, request_.now, deadline_,
           [self = shared_from_this(), record = std::move(answer.record)](SettleOutcome outcome) mutable {
             if (!outcome.status.ok()) return self->Finish(outcome.status);
             if (record.state == ClaimState::kRejected) {
               // Nothing to expire: the sweeper need not look at it.
               FireAndForget(*self->core_,
                             {"ZREM", self->core_->keys.Due(RedisQuotaKeys::DueShard(record.claim_id)),
                              record.claim_id},
                             self->deadline_);
             }
             self->Finish(std::move(record));
           });
  }

  const ReserveRequest request_;
  const absl::Time deadline_;
  Answer<ClaimRecord> answer_;
  std::string tag_;
  std::string now_;
  std::string hold_end_;
  absl::Time created_;  // the request id's first attempt's now: the claim's created_at
  std::vector<std::string> once_names_;
  std::vector<std::string> budget_names_;
  std::vector<bool> once_touched_;    // per request once-key: this claim holds it
  std::vector<bool> budget_touched_;  // per request budget: this claim has an entry
  std::vector<int32_t> units_;        // per line: what the rules, once-keys and budgets allow so far
  std::vector<ReasonSet> reasons_;
};

// ---------------------------------------------------------------------------------------------------------
// Confirm

class ConfirmCall : public SteppedCall<ConfirmCall> {
 public:
  ConfirmCall(CorePtr core, ConfirmRequest request, absl::Time deadline,
              QuotaStore::Callback<ClaimRecord> done)
      : SteppedCall(std::move(core)),
        request_(std::move(request)),
        deadline_(deadline),
        answer_(std::move(done)) {}

  void Start() {
    tag_ = TagOfClaimId(request_.claim_id);
    if (tag_.empty()) return Finish(NotFound());
    for (const SerialKey& serial : request_.serials) serial_names_.push_back(core_->keys.Serial(serial));
    PassStep("confirm.buyer", [](ConfirmCall& self) { self.Run(false); });
  }

  void Finish(absl::StatusOr<ClaimRecord> result) { answer_(std::move(result)); }

 private:
  // 1. (committed = false) the check, and the serials recorded as pending; 4. (true) CONFIRMED.
  void Run(bool committed) {
    std::vector<std::string> args = {request_.claim_id,      request_.retailer_id,
                                     TimeText(request_.now), request_.confirmation,
                                     committed ? "1" : "0",  absl::StrCat(request_.serials.size())};
    for (size_t n = 0; n < request_.serials.size(); ++n) {
      args.push_back(serial_names_[n]);
      args.push_back(request_.serials[n].line_id);
    }
    core_->Eval(
        S().buyer_confirm, core_->keys.Buyer(tag_), std::move(args), deadline_,
        [self = shared_from_this(), committed](Reply reply) {
          absl::StatusOr<BuyerAnswer> answer = ParseBuyerReply(reply, "buyer_confirm");
          if (!answer.ok()) return self->Finish(answer.status());
          if (answer->status == "OK") {
            // Confirmed: the commit's due entry is no longer needed (the claim's own, at the same time,
            // still makes the sweeper look once).
            if (committed && !answer->record.replayed)
              FireAndForget(*self->core_, {"ZREM", self->due_key_, self->DueMember()}, self->deadline_);
            return self->Finish(std::move(answer->record));
          }
          if (committed) return self->FinishAfterCommit();
          if (answer->status != "NEEDS_COMMIT") return self->Finish(self->Error(*answer));
          if (self->request_.serials.empty()) return self->Commit(*std::move(answer));
          self->TakeSerials(*std::move(answer));
        });
  }

  absl::Status Error(const BuyerAnswer& answer) const {
    const size_t n = static_cast<size_t>(answer.detail) - 1;
    const bool names_serial = answer.detail >= 1 && n < request_.serials.size();
    if (answer.status == "LINE_NOT_FOUND" && names_serial)
      return SerialLineNotFound(request_.serials[n].field);
    if (answer.status == "SERIAL_DUPLICATE" && names_serial) return SerialTaken(request_.serials[n].field);
    if (answer.status == "SERIAL_COUNT" && names_serial) {
      const std::string& line = request_.serials[n].line_id;
      const auto given = std::count_if(request_.serials.begin(), request_.serials.end(),
                                       [&line](const SerialKey& s) { return s.line_id == line; });
      return SerialCount(request_.serials[n].field, given, answer.detail2);
    }
    return AnswerError(answer, "confirmed");
  }

  // 2. Each serial held for the claim until its hold ends (once_take), so that a crash leaves only holds that
  // end by themselves; one another claim holds → every serial this attempt took is let go, and nothing
  // changed.
  void TakeSerials(BuyerAnswer answer) {
    PassStep("confirm.serials", [answer = std::move(answer)](ConfirmCall& self) mutable {
      self.HoldSerials(std::move(answer));
    });
  }

  void HoldSerials(BuyerAnswer answer) {
    const std::string hold = TimeText(answer.record.expires_at);
    const std::string now = TimeText(request_.now);
    const std::string grace = absl::StrCat(absl::ToInt64Milliseconds(core_->options.hold_grace));
    std::vector<Step> steps;
    for (const std::string& name : serial_names_) {
      steps.push_back([core = core_, name, claim = request_.claim_id, now, hold, grace,
                       deadline = deadline_](RedisClient::Callback done) mutable {
        core->Eval(S().once_take, {name}, {claim, now, hold, grace}, deadline, std::move(done));
      });
    }
    All(std::move(steps), [self = shared_from_this(), answer = std::move(answer), hold, now,
                           grace](std::vector<Reply> replies) mutable {
      absl::Status error;
      std::optional<size_t> taken;
      std::vector<size_t> took;
      for (size_t n = 0; n < replies.size(); ++n) {
        if (!replies[n].ok()) {
          error.Update(replies[n].status());
        } else if (replies[n]->str() == "OK") {
          took.push_back(n);
        } else if (replies[n]->str() == "TAKEN") {
          if (!taken.has_value()) taken = n;
        } else {
          error.Update(BadReply("once_take"));
        }
      }
      if (!taken.has_value() && error.ok()) return self->Commit(std::move(answer));
      // Let go of what this attempt took (the holds would end by themselves; the claim may be confirmed later
      // with other serials).
      std::vector<Step> releases;
      for (size_t n : took) {
        releases.push_back([core = self->core_, name = self->serial_names_[n],
                            claim = self->request_.claim_id, hold, now, grace,
                            deadline = self->deadline_](RedisClient::Callback done) mutable {
          core->Eval(S().once_settle, {name}, {claim, "release", hold, now, grace}, deadline,
                     std::move(done));
        });
      }
      const absl::Status status =
          taken.has_value() ? SerialTaken(self->request_.serials[*taken].field) : error;
      All(std::move(releases), [self, status](std::vector<Reply>) { self->Finish(status); });
    });
  }

  // 3. The claim's budget entries, once-keys and serials stop ending with the hold before the claim is
  // CONFIRMED. A due entry at the hold end first ("<claim>#confirm", reconcile only: it never reports an
  // expiry), so that the sweeper brings them in line with the claim whatever happens next: this instance dies
  // before the last step, or the claim is expired meanwhile by a call whose now is later (its own due entry
  // may already be gone when the instances' clocks disagree by more than a hold).
  void Commit(BuyerAnswer answer) {
    due_key_ = core_->keys.Due(RedisQuotaKeys::DueShard(request_.claim_id));
    const std::string score = absl::StrCat(Millis(answer.record.expires_at));
    core_->Command({"ZADD", due_key_, score, DueMember()}, deadline_,
                   [self = shared_from_this(), answer = std::move(answer)](Reply reply) mutable {
                     if (!reply.ok()) return self->Finish(reply.status());
                     self->CommitHeld(std::move(answer));
                   });
  }

  std::string DueMember() const { return absl::StrCat(request_.claim_id, "#confirm"); }

  void CommitHeld(BuyerAnswer answer) {
    PassStep("confirm.commit", [answer = std::move(answer)](ConfirmCall& self) mutable {
      self.SettleCommit(std::move(answer));
    });
  }

  void SettleCommit(BuyerAnswer answer) {
    // Serial keys: only this request's, which this call took. Another attempt's pending serials (the claim's
    // `sp`) may never have been taken — that attempt died before once_take — and committing them would find
    // them gone and refuse every later confirmation of a live claim (the simulator found it); nor are serials
    // the claim no longer wants released here: another confirm attempt may still be committing them.
    Plan plan;
    plan.budgets = std::move(answer.plan.budgets);
    for (Plan::Once& once : answer.plan.once) {
      if (!RedisQuotaKeys::IsSerial(once.key)) plan.once.push_back(std::move(once));
    }
    for (const std::string& name : serial_names_) {
      if (std::none_of(plan.once.begin(), plan.once.end(),
                       [&name](const Plan::Once& o) { return o.key == name; }))
        plan.once.push_back({name, true});
    }
    Settle(core_, request_.claim_id, SettleMode::kCommit, answer.record.expires_at, plan, request_.now,
           deadline_, [self = shared_from_this()](SettleOutcome outcome) {
             if (!outcome.status.ok()) return self->Finish(outcome.status);
             if (outcome.gone) return self->FinishAfterCommit();
             self->PassStep("confirm.final", [](ConfirmCall& call) { call.Run(true); });
           });
  }

  // Something this call had to commit was gone, or the claim stopped being RESERVED before the last step:
  // another call cancelled, expired (one whose now was later) or confirmed it meanwhile. The answer is what
  // confirming the claim as it now is answers — the claim itself (replayed) when confirmed, WRONG_STATE when
  // cancelled, HOLD_EXPIRED when expired (or still reserved without what it held elsewhere: it cannot be
  // confirmed and will expire) — and the other slots are first brought in line with the claim, as the sweeper
  // would (whose due entry may be gone when instances' clocks disagree by more than a hold).
  void FinishAfterCommit() {
    ReadClaim(core_, request_.claim_id, request_.now, deadline_,
              [self = shared_from_this()](absl::StatusOr<BuyerAnswer> answer) mutable {
                if (!answer.ok()) return self->Finish(answer.status());
                if (answer->status != "OK") return self->Finish(AnswerError(*answer, "confirmed"));
                const ClaimState state = answer->record.state;
                const absl::Time hold_end = answer->record.expires_at;
                absl::StatusOr<ClaimRecord> result = std::move(answer->record);
                if (state == ClaimState::kConfirmed) {
                  result->replayed = true;
                } else if (state == ClaimState::kReserved || state == ClaimState::kExpired) {
                  result = Precondition("HOLD_EXPIRED", "the claim's hold expired before it was confirmed");
                } else {
                  result = Precondition(
                      "WRONG_STATE",
                      absl::StrCat("a claim in state ", static_cast<int>(state), " cannot be confirmed"));
                }
                if (state == ClaimState::kReserved) return self->Finish(std::move(result));
                Settle(self->core_, self->request_.claim_id, ModeFor(state), hold_end, answer->plan,
                       self->request_.now, self->deadline_,
                       [self, result = std::move(result)](SettleOutcome) mutable {
                         self->Finish(std::move(result));
                       });
              });
  }

  const ConfirmRequest request_;
  const absl::Time deadline_;
  Answer<ClaimRecord> answer_;
  std::string tag_;
  std::vector<std::string> serial_names_;  // per request serial: its key
  std::string due_key_;
};

// ---------------------------------------------------------------------------------------------------------
// Cancel, Refund, Void and Correct: the buyer's script, then reconcile.

class ChangeCall : public SteppedCall<ChangeCall> {
 public:
  enum class Kind { kCancel, kRefund, kVoid, kCorrect };

  // `change_id`: the refund id or the void / correction request id (unused by a cancel).
  ChangeCall(CorePtr core, Kind kind, std::string claim_id, std::string change_id, absl::Time now,
             std::vector<std::string> args, absl::Time deadline, QuotaStore::Callback<ClaimRecord> done)
      : SteppedCall(std::move(core)),
        kind_(kind),
        claim_id_(std::move(claim_id)),
        change_id_(std::move(change_id)),
        now_(now),
        args_(std::move(args)),
        deadline_(deadline),
        answer_(std::move(done)) {}

  void Start() {
    tag_ = TagOfClaimId(claim_id_);
    if (tag_.empty()) return Finish(NotFound());
    if (kind_ == Kind::kCancel) return PassStep("cancel.buyer", [](ChangeCall& self) { self.RunScript(); });
    PassStep(absl::StrCat(Name(), ".due"), [](ChangeCall& self) { self.AddDueEntry(); });
  }

  void Finish(absl::StatusOr<ClaimRecord> result) { answer_(std::move(result)); }

 private:
  void AddDueEntry() {
    // A due entry of this change first ("<claim>#<r|v|c>:<id>", its own member so that concurrent changes of
    // one claim do not remove each other's), so that the sweeper finishes the reconcile if this instance dies
    // after the buyer's script.
    due_member_ = absl::StrCat(claim_id_, "#", Name().substr(0, 1), ":", change_id_);
    core_->Command(
        {"ZADD", DueKey(), absl::StrCat(Millis(now_ + core_->options.refund_reconcile_delay)), due_member_},
        deadline_, [self = shared_from_this()](Reply reply) {
          if (!reply.ok()) return self->Finish(reply.status());
          self->PassStep(absl::StrCat(self->Name(), ".buyer"), [](ChangeCall& call) { call.RunScript(); });
        });
  }

  std::string DueKey() const { return core_->keys.Due(RedisQuotaKeys::DueShard(claim_id_)); }
  std::string Name() const {
    switch (kind_) {
      case Kind::kCancel:
        return "cancel";
      case Kind::kRefund:
        return "refund";
      case Kind::kVoid:
        return "void";
      case Kind::kCorrect:
        return "correct";
    }
    return "";
  }
  absl::string_view Action() const {
    switch (kind_) {
      case Kind::kCancel:
        return "cancelled";
      case Kind::kRefund:
        return "refunded";
      case Kind::kVoid:
        return "voided";
      case Kind::kCorrect:
        return "corrected";
    }
    return "";
  }
  const RedisScript& Script() const {
    switch (kind_) {
      case Kind::kCancel:
        return S().buyer_cancel;
      case Kind::kRefund:
        return S().buyer_refund;
      case Kind::kVoid:
        return S().buyer_void;
      case Kind::kCorrect:
        break;
    }
    return S().buyer_correct;
  }

  void RunScript() {
    core_->Eval(
        Script(), core_->keys.Buyer(tag_), args_, deadline_, [self = shared_from_this()](Reply reply) {
          absl::StatusOr<BuyerAnswer> answer = ParseBuyerReply(reply, absl::StrCat("buyer_", self->Name()));
          if (!answer.ok()) return self->Finish(answer.status());
          if (answer->status != "OK") {
            // Nothing changed. A change's own due entry can go; a claim's must stay (e.g. HOLD_EXPIRED: the
            // sweeper still has to report that expiry).
            if (self->kind_ != Kind::kCancel) self->Cleanup();
            return self->Finish(AnswerError(*answer, self->Action()));
          }
          self->Reconcile(*std::move(answer));
        });
  }

  void Reconcile(BuyerAnswer answer) {
    PassStep(absl::StrCat(Name(), ".reconcile"), [answer = std::move(answer)](ChangeCall& self) mutable {
      self.SettleChange(std::move(answer));
    });
  }

  void SettleChange(BuyerAnswer answer) {
    const SettleMode mode = ModeFor(answer.record.state);
    const absl::Time hold_end = answer.record.expires_at;
    Settle(core_, claim_id_, mode, hold_end, answer.plan, now_, deadline_,
           [self = shared_from_this(), record = std::move(answer.record)](SettleOutcome outcome) mutable {
             if (!outcome.status.ok()) return self->Finish(outcome.status);
             self->Cleanup();
             self->Finish(std::move(record));
           });
  }

  // The due entry is no longer needed once the other slots are in line.
  void Cleanup() {
    const std::string member = kind_ == Kind::kCancel ? claim_id_ : due_member_;
    FireAndForget(*core_, {"ZREM", DueKey(), member}, deadline_);
  }

  const Kind kind_;
  const std::string claim_id_;
  const std::string change_id_;
  const absl::Time now_;
  const std::vector<std::string> args_;
  const absl::Time deadline_;
  Answer<ClaimRecord> answer_;
  std::string tag_;
  std::string due_member_;
};

// ---------------------------------------------------------------------------------------------------------
// ListClaims: the day indexes in order, a day's 16 shards merged, claims read in batches per buyer slot.

class ListCall : public std::enable_shared_from_this<ListCall> {
 public:
  ListCall(CorePtr core, ClaimPageRequest request, absl::Time deadline, QuotaStore::Callback<ClaimPage> done)
      : core_(std::move(core)), request_(std::move(request)), deadline_(deadline), answer_(std::move(done)) {}

  void Start() {
    if (request_.limit < 1) return answer_(LimitInvalid());
    std::optional<ClaimPosition> after;
    if (!request_.cursor.empty()) {
      absl::StatusOr<ClaimPosition> parsed = ParseClaimCursor(request_.cursor);
      if (!parsed.ok()) return answer_(parsed.status());
      after = *std::move(parsed);
    }
    if (request_.last_day < request_.first_day) return Finish();
    const bool desc = request_.newest_first;
    day_ = desc ? request_.last_day : request_.first_day;
    if (after.has_value()) {
      // A cursor before the period (in the direction of the walk) starts at its edge; one past it ends the
      // walk.
      const bool before_period = desc ? after->day > request_.last_day : after->day < request_.first_day;
      const bool past_period = desc ? after->day < request_.first_day : after->day > request_.last_day;
      if (past_period) return Finish();
      if (!before_period) {
        day_ = after->day;
        position_ = Candidate{after->nanos_in_day, after->claim_id};
      }
    }
    now_ = TimeText(request_.now);
    Round();
  }

 private:
  struct Candidate {
    int64_t score = 0;  // nanoseconds in the day
    std::string claim_id;
  };

  // a before b in the walk's direction: (score, claim id) ascending, or descending when newest first.
  bool InOrder(const Candidate& a, const Candidate& b) const {
    return request_.newest_first ? std::tie(b.score, b.claim_id) < std::tie(a.score, a.claim_id)
                                 : std::tie(a.score, a.claim_id) < std::tie(b.score, b.claim_id);
  }

  // The index keys of the current day: the retailer's, or the 16 shards.
  std::vector<std::string> IndexKeys() const {
    if (!request_.retailer_id.empty()) return {core_->keys.RetailerDayIndex(request_.retailer_id, day_)};
    std::vector<std::string> keys;
    for (int n = 0; n < RedisQuotaKeys::kIndexShards; ++n) keys.push_back(core_->keys.DayIndex(day_, n));
    return keys;
  }

  // One step: the next candidates of the current day after the position.
  void Round() {
    if (absl::Now() >= deadline_) {
      return answer_(absl::DeadlineExceededError("the listing did not finish by the deadline"));
    }
    const size_t need = static_cast<size_t>(request_.limit) + 1 - page_.entries.size();
    const size_t count = std::clamp<size_t>(need, 1, kMaxBatch);
    std::vector<std::string> args = {request_.newest_first ? "desc" : "asc",
                                     position_.has_value() ? "1" : "0",
                                     position_.has_value() ? absl::StrCat(position_->score) : "0",
                                     position_.has_value() ? position_->claim_id : "", absl::StrCat(count)};
    std::vector<Step> steps;
    for (std::string& key : IndexKeys()) {
      steps.push_back([core = core_, key = std::move(key), args,
                       deadline = deadline_](RedisClient::Callback done) mutable {
        core->Eval(S().index_range, {key}, std::move(args), deadline, std::move(done));
      });
    }
    All(std::move(steps), [self = shared_from_this(), count](std::vector<Reply> replies) {
      self->OnRange(count, std::move(replies));
    });
  }

  void OnRange(size_t count, std::vector<Reply> replies) {
    std::vector<Candidate> merged;
    bool full = false;  // a shard may have more after what it returned
    for (const Reply& reply : replies) {
      if (!reply.ok()) return answer_(reply.status());
      const std::vector<RedisValue>& e = reply->elements();
      if (reply->type() != RedisValue::Type::kArray || e.size() % 2 != 0)
        return answer_(BadReply("index_range"));
      for (size_t k = 0; k + 1 < e.size(); k += 2) {
        Candidate candidate;
        candidate.claim_id = e[k].str();
        if (!absl::SimpleAtoi(e[k + 1].str(), &candidate.score)) return answer_(BadReply("index_range"));
        merged.push_back(std::move(candidate));
      }
      full = full || e.size() / 2 >= count;
    }
    std::sort(merged.begin(), merged.end(),
              [this](const Candidate& a, const Candidate& b) { return InOrder(a, b); });
    if (merged.size() > count) {
      merged.resize(count);
      full = true;
    }
    if (merged.empty()) return NextDay();
    Read(std::move(merged), full);
  }

  // The claims of the candidates, in batches per buyer slot (buyer_list expires what is due, as Get does).
  void Read(std::vector<Candidate> candidates, bool full) {
    std::vector<std::string> tags;
    std::vector<std::vector<size_t>> members;  // per tag: indices into candidates
    for (size_t i = 0; i < candidates.size(); ++i) {
      const std::string tag = TagOfClaimId(candidates[i].claim_id);
      if (tag.empty()) continue;
      const auto it = std::find(tags.begin(), tags.end(), tag);
      if (it == tags.end()) {
        tags.push_back(tag);
        members.push_back({i});
      } else {
        members[static_cast<size_t>(it - tags.begin())].push_back(i);
      }
    }
    std::vector<Step> steps;
    for (size_t t = 0; t < tags.size(); ++t) {
      std::vector<std::string> args = {now_};
      for (size_t i : members[t]) args.push_back(candidates[i].claim_id);
      steps.push_back([core = core_, keys = core_->keys.Buyer(tags[t]), args = std::move(args),
                       deadline = deadline_](RedisClient::Callback done) mutable {
        core->Eval(S().buyer_list, std::move(keys), std::move(args), deadline, std::move(done));
      });
    }
    All(std::move(steps), [self = shared_from_this(), candidates = std::move(candidates), members,
                           full](std::vector<Reply> replies) mutable {
      std::vector<std::optional<ClaimRecord>> records(candidates.size());
      for (size_t t = 0; t < replies.size(); ++t) {
        const Reply& reply = replies[t];
        if (!reply.ok()) return self->answer_(reply.status());
        if (reply->type() != RedisValue::Type::kArray || reply->elements().size() != members[t].size()) {
          return self->answer_(BadReply("buyer_list"));
        }
        for (size_t k = 0; k < members[t].size(); ++k) {
          absl::StatusOr<BuyerAnswer> answer = ParseBuyerValue(reply->elements()[k], "buyer_list");
          if (!answer.ok()) return self->answer_(answer.status());
          if (answer->status == "OK") records[members[t][k]] = std::move(answer->record);
        }
      }
      self->Take(std::move(candidates), std::move(records), full);
    });
  }

  void Take(std::vector<Candidate> candidates, std::vector<std::optional<ClaimRecord>> records, bool full) {
    for (size_t i = 0; i < candidates.size(); ++i) {
      position_ = candidates[i];
      std::optional<ClaimRecord>& record = records[i];
      // No claim behind the entry (a reservation that died before the buyer's script), or an entry another
      // attempt wrote for another time (the claim is listed at its own): skipped.
      if (!record.has_value()) continue;
      const ClaimPosition at{day_, candidates[i].score, candidates[i].claim_id};
      if (PositionOf(record->created_at, record->claim_id) != at) continue;
      if (!request_.retailer_id.empty() && record->retailer_id != request_.retailer_id) continue;
      if (!request_.states.empty() &&
          std::find(request_.states.begin(), request_.states.end(), record->state) == request_.states.end()) {
        continue;
      }
      if (page_.entries.size() == static_cast<size_t>(request_.limit)) {
        page_.more = true;
        return Finish();
      }
      page_.entries.push_back({*std::move(record), EncodeClaimCursor(at)});
    }
    if (full) return Round();
    NextDay();
  }

  void NextDay() {
    position_.reset();
    day_ += request_.newest_first ? -1 : 1;
    if (day_ < request_.first_day || day_ > request_.last_day) return Finish();
    Round();
  }

  void Finish() { answer_(std::move(page_)); }

  static constexpr size_t kMaxBatch = 1000;

  const CorePtr core_;
  const ClaimPageRequest request_;
  const absl::Time deadline_;
  Answer<ClaimPage> answer_;
  std::string now_;
  absl::CivilDay day_;
  std::optional<Candidate> position_;  // the last entry looked at, in day_
  ClaimPage page_;
};

// ---------------------------------------------------------------------------------------------------------
// Sweep

class SweepCall : public std::enable_shared_from_this<SweepCall> {
 public:
  SweepCall(CorePtr core, absl::Time now, int limit, absl::Time deadline,
            QuotaStore::Callback<SweepResult> done)
      : core_(std::move(core)), now_(now), limit_(limit), deadline_(deadline), answer_(std::move(done)) {}

  void Start() { Fetch(); }

 private:
  struct Entry {
    int shard = 0;
    std::string member;
    std::string score_text;  // as Redis printed it: due_settle compares it
    double score = 0;
  };

  int Reported() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return static_cast<int>(result_.expired.size()); }

  // One pass: the entries due by now, from every shard, earliest first.
  void Fetch() {
    int want = 0;
    size_t seen = 0;
    {
      absl::MutexLock lock(&mu_);
      want = limit_ - Reported();
      seen = seen_.size();
    }
    if (want <= 0 || absl::Now() >= deadline_) return Finish(absl::OkStatus());
    std::vector<Step> steps;
    const std::string max = absl::StrCat(Millis(now_));
    const std::string count = absl::StrCat(static_cast<size_t>(want) + seen);
    for (int shard = 0; shard < RedisQuotaKeys::kDueShards; ++shard) {
      steps.push_back([core = core_, key = core_->keys.Due(shard), max, count,
                       deadline = deadline_](RedisClient::Callback done) mutable {
        core->Command({"ZRANGEBYSCORE", key, "-inf", max, "WITHSCORES", "LIMIT", "0", count}, deadline,
                      std::move(done));
      });
    }
    All(std::move(steps), [self = shared_from_this(), want](std::vector<Reply> replies) {
      self->OnFetch(want, std::move(replies));
    });
  }

  void OnFetch(int want, std::vector<Reply> replies) {
    std::vector<Entry> entries;
    absl::Status error;
    int answered = 0;
    for (int shard = 0; shard < RedisQuotaKeys::kDueShards; ++shard) {
      const Reply& reply = replies[static_cast<size_t>(shard)];
      if (!reply.ok()) {
        error.Update(reply.status());
        continue;
      }
      ++answered;
      const std::vector<RedisValue>& e = reply->elements();
      for (size_t k = 0; k + 1 < e.size(); k += 2) {
        Entry entry;
        entry.shard = shard;
        entry.member = e[k].str();
        entry.score_text = e[k + 1].str();
        if (!absl::SimpleAtod(entry.score_text, &entry.score)) continue;
        entries.push_back(std::move(entry));
      }
    }
    {
      absl::MutexLock lock(&mu_);
      entries.erase(std::remove_if(entries.begin(), entries.end(),
                                   [this](const Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                                     return seen_.contains(e.member);
                                   }),
                    entries.end());
    }
    if (answered == 0) return Finish(error);
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.score != b.score ? a.score < b.score : a.member < b.member;
    });
    if (entries.size() > static_cast<size_t>(want)) entries.resize(static_cast<size_t>(want));
    if (entries.empty()) return Finish(absl::OkStatus());
    {
      absl::MutexLock lock(&mu_);
      for (const Entry& e : entries) seen_.insert(e.member);
      queue_ = std::move(entries);
      next_ = 0;
      running_ = 0;
      progress_ = 0;
    }
    Pump();
  }

  // Starts entries while fewer than sweep_parallelism are running.
  void Pump() {
    for (;;) {
      Entry entry;
      {
        absl::MutexLock lock(&mu_);
        if (next_ >= queue_.size() || running_ >= std::max(core_->options.sweep_parallelism, 1)) return;
        entry = queue_[next_++];
        ++running_;
      }
      SweepOne(std::move(entry));
    }
  }

  struct Outcome {
    bool ok = false;
    bool reconciled = false;
    std::optional<ClaimRecord> expired;
  };

  void SweepOne(Entry entry) {
    // "<claim id>#...": a refund's, void's or correction's entry, only to finish its reconcile.
    const size_t hash = entry.member.find('#');
    const bool refund_only = hash != std::string::npos;
    const std::string claim_id = entry.member.substr(0, hash);
    ReadClaim(core_, claim_id, now_, deadline_,
              [self = shared_from_this(), entry = std::move(entry), claim_id,
               refund_only](absl::StatusOr<BuyerAnswer> answer) mutable {
                if (!answer.ok() || (answer->status != "OK" && answer->status != "NOT_FOUND")) {
                  return self->Done(Outcome{});
                }
                if (answer->status == "NOT_FOUND") {
                  // A reservation a crash cut off before the buyer's script: its holds end by themselves.
                  return self->SettleEntry(entry, "remove", "", Outcome{true, false, std::nullopt});
                }
                const ClaimState state = answer->record.state;
                const absl::Time hold_end = answer->record.expires_at;
                if (state == ClaimState::kReserved && !refund_only) {
                  // Not due yet (a retry moved the entry): look again at the hold end.
                  return self->SettleEntry(entry, "reschedule", absl::StrCat(Millis(hold_end)),
                                           Outcome{true, false, std::nullopt});
                }
                self->core_->Pass("sweep.reconcile", [self, entry, claim_id, refund_only, state, hold_end,
                                                      answer = *std::move(answer)](bool crash) mutable {
                  if (crash) return self->Done(Outcome{});
                  self->Reconcile(entry, claim_id, refund_only, state, hold_end, std::move(answer));
                });
              });
  }

  void Reconcile(const Entry& entry, const std::string& claim_id, bool refund_only, ClaimState state,
                 absl::Time hold_end, BuyerAnswer answer) {
    Settle(core_, claim_id, ModeFor(state), hold_end, answer.plan, now_, deadline_,
           [self = shared_from_this(), entry, refund_only,
            record = std::move(answer.record)](SettleOutcome settled) mutable {
             if (!settled.status.ok()) return self->Done(Outcome{});
             self->core_->Pass("sweep.settle", [self, entry, refund_only, changed = settled.changed,
                                                record = std::move(record)](bool crash) mutable {
               if (crash) return self->Done(Outcome{});
               Outcome outcome{true, changed > 0, std::nullopt};
               if (!refund_only && record.state == ClaimState::kExpired) outcome.expired = std::move(record);
               self->SettleEntry(entry, "remove", "", std::move(outcome));
             });
           });
  }

  // Removes (or moves) the entry if no one changed it since it was read; an expiry is reported only by the
  // call that removed its entry.
  void SettleEntry(const Entry& entry, const std::string& mode, const std::string& new_score,
                   Outcome outcome) {
    core_->Eval(S().due_settle, {core_->keys.Due(entry.shard)},
                {entry.member, entry.score_text, mode, new_score}, deadline_,
                [self = shared_from_this(), outcome = std::move(outcome)](Reply reply) mutable {
                  if (!reply.ok() || reply->type() != RedisValue::Type::kInteger)
                    return self->Done(Outcome{});
                  if (reply->integer() != 1) outcome.expired.reset();
                  self->Done(std::move(outcome));
                });
  }

  void Done(Outcome outcome) {
    bool pass_over = false;
    bool more = false;
    {
      absl::MutexLock lock(&mu_);
      --running_;
      if (outcome.ok) ++progress_;
      if (outcome.reconciled) ++result_.reconciled;
      if (outcome.expired.has_value()) result_.expired.push_back(*std::move(outcome.expired));
      pass_over = next_ >= queue_.size() && running_ == 0;
      more = progress_ > 0 && Reported() < limit_;
    }
    if (!pass_over) return Pump();
    if (more) return Fetch();
    Finish(absl::OkStatus());
  }

  void Finish(absl::Status status) {
    SweepResult result;
    {
      absl::MutexLock lock(&mu_);
      result = std::move(result_);
      result_ = SweepResult();
    }
    std::sort(result.expired.begin(), result.expired.end(), [](const ClaimRecord& a, const ClaimRecord& b) {
      return a.expires_at != b.expires_at ? a.expires_at < b.expires_at : a.claim_id < b.claim_id;
    });
    // Expiries already taken off the due index must be reported even if a later pass failed.
    if (!status.ok() && result.expired.empty() && result.reconciled == 0) return answer_(status);
    answer_(std::move(result));
  }

  const CorePtr core_;
  const absl::Time now_;
  const int limit_;
  const absl::Time deadline_;
  Answer<SweepResult> answer_;

  absl::Mutex mu_;
  SweepResult result_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);  // entries this call already worked on
  std::vector<Entry> queue_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int progress_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

// -------------------------------------------------------------------------------------------------------------
// RedisQuotaKeys

std::vector<std::string> RedisQuotaKeys::Buyer(absl::string_view tag) const {
  const std::string base = absl::StrCat(prefix_, "{b:", Escape(tag), "}:");
  return {base + "c", base + "q", base + "h", base + "l"};
}

std::string RedisQuotaKeys::CounterField(absl::string_view buyer_key, absl::string_view programme,
                                         absl::string_view field) {
  return absl::StrCat(Escape(buyer_key), ":", Escape(programme), ":", field);
}

std::string RedisQuotaKeys::Request(absl::string_view retailer_id, absl::string_view request_id) const {
  return absl::StrCat(prefix_, "{r:", Escape(retailer_id), ":", Escape(request_id), "}:r");
}

std::string RedisQuotaKeys::Once(const OnceKey& once) const {
  return absl::StrCat(prefix_, "{o:", Escape(once.programme), ":", Escape(once.quota_id), ":",
                      Escape(absl::string_view(once.value_hash).substr(0, 2)),
                      "}:o:", Escape(once.value_hash));
}

std::string RedisQuotaKeys::Budget(absl::string_view programme, absl::string_view budget_id) const {
  return absl::StrCat(prefix_, "{g:", Escape(programme), ":", Escape(budget_id), "}:g");
}

std::string RedisQuotaKeys::Due(int shard) const { return absl::StrCat(prefix_, "{x:", shard, "}:due"); }

std::string RedisQuotaKeys::Serial(const SerialKey& serial) const {
  return absl::StrCat(prefix_, "{s:", Escape(serial.programme), ":",
                      Escape(absl::string_view(serial.value_hash).substr(0, 2)),
                      "}:s:", Escape(serial.value_hash));
}

bool RedisQuotaKeys::IsSerial(absl::string_view key) { return absl::StrContains(key, "{s:"); }

std::string RedisQuotaKeys::DayIndex(absl::CivilDay day, int shard) const {
  return absl::StrCat(prefix_, "{d:", FormatCivilDay(day), ":", shard, "}:cd");
}

std::string RedisQuotaKeys::RetailerDayIndex(absl::string_view retailer_id, absl::CivilDay day) const {
  return absl::StrCat(prefix_, "{rd:", Escape(retailer_id), ":", FormatCivilDay(day), "}:cd");
}

int RedisQuotaKeys::DueShard(absl::string_view claim_id) {
  uint32_t hash = 2166136261u;  // FNV-1a
  for (char c : claim_id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return static_cast<int>(hash % static_cast<uint32_t>(kDueShards));
}

// -------------------------------------------------------------------------------------------------------------
// RedisQuotaStore

RedisQuotaStore::RedisQuotaStore(redis::RedisClient& client, std::string key_prefix)
    : RedisQuotaStore(client, [&] {
        RedisQuotaStoreOptions options;
        options.key_prefix = std::move(key_prefix);
        return options;
      }()) {}

RedisQuotaStore::RedisQuotaStore(redis::RedisClient& client, RedisQuotaStoreOptions options)
    : RedisQuotaStore(std::make_unique<redis::SingleNodeClient>(client), std::move(options)) {}

RedisQuotaStore::RedisQuotaStore(std::unique_ptr<redis::RedisClient> client, RedisQuotaStoreOptions options)
    : RedisQuotaStore(std::make_unique<redis::SingleNodeClient>(std::move(client)), std::move(options)) {}

RedisQuotaStore::RedisQuotaStore(std::unique_ptr<redis::KeyedClient> client, RedisQuotaStoreOptions options)
    : RedisQuotaStore(*client, std::move(options)) {
  owned_client_ = std::move(client);
}

RedisQuotaStore::RedisQuotaStore(redis::KeyedClient& client, RedisQuotaStoreOptions options)
    : core_(std::make_shared<const Core>(std::move(options), client)) {}

RedisQuotaStore::~RedisQuotaStore() { owned_client_.reset(); }

const RedisQuotaKeys& RedisQuotaStore::keys() const { return core_->keys; }

const std::vector<std::string>& RedisQuotaStore::ProtocolSteps() {
  static const std::vector<std::string>* const steps = new std::vector<std::string>{
      "reserve.request",  "reserve.holds",   "reserve.budgets", "reserve.buyer",    "reserve.reconcile",
      "confirm.buyer",    "confirm.serials", "confirm.commit",  "confirm.final",    "cancel.buyer",
      "cancel.reconcile", "refund.due",      "refund.buyer",    "refund.reconcile", "void.due",
      "void.buyer",       "void.reconcile",  "correct.due",     "correct.buyer",    "correct.reconcile",
      "sweep.reconcile",  "sweep.settle"};
  return *steps;
}

void RedisQuotaStore::Reserve(ReserveRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  std::make_shared<ReserveCall>(core_, std::move(request), deadline, std::move(done))->Start();
}

void RedisQuotaStore::Confirm(ConfirmRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  std::make_shared<ConfirmCall>(core_, std::move(request), deadline, std::move(done))->Start();
}

void RedisQuotaStore::Cancel(CancelRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  std::vector<std::string> args = {request.claim_id, request.retailer_id, TimeText(request.now)};
  std::make_shared<ChangeCall>(core_, ChangeCall::Kind::kCancel, request.claim_id, "", request.now,
                               std::move(args), deadline, std::move(done))
      ->Start();
}

void RedisQuotaStore::Refund(RefundRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  std::vector<std::string> args = {request.claim_id,      request.retailer_id,
                                   request.refund_id,     request.fingerprint,
                                   TimeText(request.now), absl::StrCat(request.lines.size())};
  for (const RefundLine& line : request.lines) {
    args.push_back(line.line_id);
    args.push_back(absl::StrCat(line.units));
  }
  std::make_shared<ChangeCall>(core_, ChangeCall::Kind::kRefund, request.claim_id, request.refund_id,
                               request.now, std::move(args), deadline, std::move(done))
      ->Start();
}

void RedisQuotaStore::Void(VoidRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  std::vector<std::string> args = {request.claim_id, request.request_id, request.fingerprint,
                                   TimeText(request.now)};
  std::make_shared<ChangeCall>(core_, ChangeCall::Kind::kVoid, request.claim_id, request.request_id,
                               request.now, std::move(args), deadline, std::move(done))
      ->Start();
}

void RedisQuotaStore::Correct(CorrectRequest request, absl::Time deadline, Callback<ClaimRecord> done) {
  std::vector<std::string> args = {request.claim_id, request.request_id, request.fingerprint,
                                   TimeText(request.now), absl::StrCat(request.lines.size())};
  for (const CorrectRequest::Line& line : request.lines) {
    args.push_back(line.line_id);
    args.push_back(absl::StrCat(line.fen));
  }
  std::make_shared<ChangeCall>(core_, ChangeCall::Kind::kCorrect, request.claim_id, request.request_id,
                               request.now, std::move(args), deadline, std::move(done))
      ->Start();
}

void RedisQuotaStore::ListClaims(ClaimPageRequest request, absl::Time deadline, Callback<ClaimPage> done) {
  std::make_shared<ListCall>(core_, std::move(request), deadline, std::move(done))->Start();
}

void RedisQuotaStore::Get(std::string claim_id, absl::Time now, absl::Time deadline,
                          Callback<ClaimRecord> done) {
  ReadClaim(core_, claim_id, now, deadline,
            [done = std::move(done)](absl::StatusOr<BuyerAnswer> answer) mutable {
              if (!answer.ok()) return std::move(done)(answer.status());
              if (answer->status != "OK") return std::move(done)(AnswerError(*answer, "read"));
              std::move(done)(std::move(answer->record));
            });
}

void RedisQuotaStore::GetUsage(UsageRequest request, absl::Time deadline,
                               Callback<std::vector<int64_t>> done) {
  std::vector<std::string> args = {TimeText(request.now)};
  for (const CounterLimit& counter : request.counters) {
    args.push_back(RedisQuotaKeys::CounterField(request.buyer.key, counter.programme, counter.field));
  }
  const size_t n = request.counters.size();
  core_->Eval(S().buyer_usage, core_->keys.Buyer(request.buyer.tag), std::move(args), deadline,
              [done = std::move(done), n](Reply reply) mutable {
                if (!reply.ok()) return std::move(done)(reply.status());
                if (reply->type() != RedisValue::Type::kArray || reply->elements().size() != n) {
                  return std::move(done)(BadReply("buyer_usage"));
                }
                std::vector<int64_t> used;
                for (const RedisValue& v : reply->elements()) {
                  if (v.type() != RedisValue::Type::kInteger) return std::move(done)(BadReply("buyer_usage"));
                  used.push_back(v.integer());
                }
                std::move(done)(std::move(used));
              });
}

void RedisQuotaStore::GetBudgetUsage(std::vector<BudgetRef> budgets, absl::Time now, absl::Time deadline,
                                     Callback<std::vector<int64_t>> done) {
  std::vector<Step> steps;
  for (const BudgetRef& budget : budgets) {
    steps.push_back([core = core_, key = core_->keys.Budget(budget.programme, budget.budget_id),
                     now = TimeText(now), deadline](RedisClient::Callback step_done) mutable {
      core->Eval(S().budget_used, {key, RedisQuotaKeys::BudgetHolds(key)}, {now}, deadline,
                 std::move(step_done));
    });
  }
  All(std::move(steps), [done = std::move(done)](std::vector<Reply> replies) mutable {
    std::vector<int64_t> used;
    for (const Reply& reply : replies) {
      if (!reply.ok()) return std::move(done)(reply.status());
      if (reply->type() != RedisValue::Type::kInteger) return std::move(done)(BadReply("budget_used"));
      used.push_back(reply->integer());
    }
    std::move(done)(std::move(used));
  });
}

void RedisQuotaStore::Sweep(absl::Time now, int limit, absl::Time deadline, Callback<SweepResult> done) {
  if (limit <= 0) return std::move(done)(SweepResult());
  std::make_shared<SweepCall>(core_, now, limit, deadline, std::move(done))->Start();
}

void RedisQuotaStore::Ping(absl::Time deadline, Callback<bool> done) {
  core_->Eval(S().ping, {}, {}, deadline, [done = std::move(done)](Reply reply) mutable {
    if (!reply.ok()) return std::move(done)(reply.status());
    if (reply->str() != "PONG") return std::move(done)(BadReply("ping"));
    std::move(done)(true);
  });
}

}  // namespace tradein::quota
