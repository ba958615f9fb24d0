#include "services/quota/redis/core.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/quota/store_errors.h"

namespace tradein::quota::redis_quota_internal {

using scripts::ClaimReply;
using scripts::SettleMode;

void Core::Write(const redis::RedisScript& script, std::vector<std::string> script_keys, std::string args,
                 absl::Time deadline, ReplyCallback done) const {
  Write(script, std::move(script_keys), std::vector<std::string>{std::move(args)}, deadline, std::move(done));
}

void Core::Write(const redis::RedisScript& script, std::vector<std::string> script_keys,
                 std::vector<std::string> argv, absl::Time deadline, ReplyCallback done) const {
  client_.EvalScript(script, std::move(script_keys), std::move(argv), deadline, options.write_concern,
                     Track(std::move(done)));
}

void Core::Read(const redis::RedisScript& script, std::vector<std::string> script_keys, std::string args,
                absl::Time deadline, ReplyCallback done) const {
  client_.EvalScript(script, std::move(script_keys), {std::move(args)}, deadline, redis::WriteConcern{},
                     Track(std::move(done)));
}

void Core::Command(std::vector<std::string> args, bool write, absl::Time deadline, ReplyCallback done) const {
  client_.Command(std::move(args), deadline, write ? options.write_concern : redis::WriteConcern{},
                  Track(std::move(done)));
}

void Core::FireAndForget(std::vector<std::string> args, absl::Time deadline) const {
  client_.Command(std::move(args), deadline, redis::WriteConcern{}, Track([](Reply) {}));
}

void Core::Pass(absl::string_view step, StepGate::Resume next) const {
  if (options.step_gate == nullptr) return std::move(next)(false);
  options.step_gate->Before(step, std::move(next));
}

ReplyCallback Core::Track(ReplyCallback done) const {
  StepGate* gate = options.step_gate;
  if (gate == nullptr) return done;
  gate->Work(+1);
  return [gate, done = std::move(done)](Reply reply) mutable {
    std::move(done)(std::move(reply));
    gate->Work(-1);
  };
}

absl::Status Crashed(absl::string_view step) {
  return absl::UnavailableError(absl::StrCat("simulated crash before ", step));
}

void All(std::vector<Step> steps, absl::AnyInvocable<void(std::vector<Reply>) &&> then) {
  AllOf<Reply>(std::move(steps), std::move(then));
}

absl::Status AnswerError(const ClaimReply& answer, absl::string_view action) {
  const std::string& s = answer.status;
  if (s == "NOT_FOUND") return ClaimNotFound();
  if (s == "HOLD_EXPIRED") return HoldExpired(action);
  if (s == "WRONG_STATE") return WrongState(answer.state, action);
  if (s == "REQUEST_ID_REUSED") return RequestIdReused();
  if (s == "REFUND_ID_REUSED") return RefundIdReused();
  if (s == "VOID_ID_REUSED") return VoidIdReused();
  if (s == "CORRECTION_ID_REUSED") return CorrectionIdReused();
  if (s == "CORRECTION_NOT_A_REDUCTION") return NotAReduction();
  if (s == "LINE_NOT_FOUND") return LineNotFound();
  if (s == "REFUND_EXCEEDS_GRANT") return RefundExceedsGrant();
  if (s == "SERIAL_NOT_ON_LINE") return SerialNotOnLine();
  if (s == "ABORTED") return ConfirmationChanged();
  return absl::InternalError(absl::StrCat("unexpected answer from a buyer script: ", s));
}

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

void Settle(const CorePtr& core, const std::string& claim_id, SettleMode mode, absl::Time hold_end,
            const scripts::Plan& plan, absl::Time now, absl::Time deadline,
            absl::AnyInvocable<void(SettleOutcome) &&> then) {
  const scripts::Scripts& s = scripts::Get();
  std::vector<Step> steps;
  for (const scripts::Plan::Budget& budget : plan.budgets) {
    const int64_t target = mode == SettleMode::kRelease ? 0 : budget.target;
    steps.push_back([core, &s,
                     keys = std::vector<std::string>{budget.key, RedisQuotaKeys::BudgetHolds(budget.key)},
                     args = scripts::BudgetSettleArgs(claim_id, mode, target, hold_end, now),
                     deadline](ReplyCallback done) mutable {
      core->Write(s.budget_settle, std::move(keys), std::move(args), deadline, std::move(done));
    });
  }
  for (const scripts::Plan::Once& once : plan.once) {
    const bool keep = mode != SettleMode::kRelease && once.keep;
    // A RESERVED claim's serial key it no longer wants is a confirmation in progress that another attempt of
    // the same claim replaced: released once the claim is confirmed or final, never while a confirm may
    // commit it.
    if (!keep && mode == SettleMode::kHold && RedisQuotaKeys::IsSerial(once.key)) continue;
    steps.push_back([core, &s, key = once.key,
                     args = scripts::OnceSettleArgs(claim_id, keep ? mode : SettleMode::kRelease, hold_end,
                                                    now, core->options.hold_grace),
                     deadline](ReplyCallback done) mutable {
      core->Write(s.once_settle, {key}, std::move(args), deadline, std::move(done));
    });
  }
  All(std::move(steps), [then = std::move(then)](std::vector<Reply> replies) mutable {
    SettleOutcome outcome;
    for (const Reply& reply : replies) {
      absl::StatusOr<scripts::SettleReply> settled = scripts::ParseSettleReply(reply);
      if (!settled.ok()) {
        outcome.status.Update(settled.status());
        continue;
      }
      outcome.gone = outcome.gone || settled->gone;
      outcome.changed += settled->changed ? 1 : 0;
    }
    std::move(then)(std::move(outcome));
  });
}

void ReadClaim(const CorePtr& core, const std::string& claim_id, absl::Time now, absl::Time deadline,
               absl::AnyInvocable<void(absl::StatusOr<ClaimReply>) &&> then) {
  const std::string tag = TagOfClaimId(claim_id);
  if (tag.empty()) {
    ClaimReply answer;
    answer.status = "NOT_FOUND";
    std::move(then)(std::move(answer));
    return;
  }
  core->Read(scripts::Get().buyer_get, core->keys.Buyer(tag), scripts::ClaimArgs(claim_id, now), deadline,
             [then = std::move(then)](Reply reply) mutable {
               std::move(then)(scripts::ParseClaimReply(reply, "buyer_get"));
             });
}

}  // namespace tradein::quota::redis_quota_internal
