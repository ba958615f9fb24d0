#include "services/quota/redis/confirm.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/fnv1a.h"
#include "services/quota/store_errors.h"

namespace tradein::quota::redis_quota_internal {
namespace {

using scripts::ClaimReply;
using scripts::SettleMode;

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
    if (tag_.empty()) return Finish(ClaimNotFound());
    for (const SerialKey& serial : request_.serials) serial_names_.push_back(core_->keys.Serial(serial));
    PassStep("confirm.buyer", [](ConfirmCall& self) { self.Run(false); });
  }

  void Finish(absl::StatusOr<ClaimRecord> result) { answer_(std::move(result)); }

 private:
  std::string DueKey() const { return core_->keys.Due(RedisQuotaKeys::DueShard(request_.claim_id)); }
  // This attempt's own due entry: another confirmation of the claim, with other serials, must not remove it
  // (the serials this attempt may have committed before dying are released only by a reconcile).
  std::string CommitMember() const {
    Fnv1a64 hash;  // over the serial keys, each ended by '\n': stable across instances
    for (const std::string& name : serial_names_) hash.Add(name).Add("\n");
    return absl::StrCat(request_.claim_id, "#confirm:", absl::Hex(hash.value(), absl::kZeroPad16));
  }

  // 1. (committed = false) the check, and the serials recorded as pending; 4. (true) CONFIRMED.
  void Run(bool committed) {
    const scripts::ConfirmArgs args{request_, serial_names_, committed, core_->options.full_grants};
    core_->Write(scripts::Get().buyer_confirm, core_->keys.Buyer(tag_), args.Encode(), deadline_,
                 [self = shared_from_this(), committed](Reply reply) {
                   absl::StatusOr<ClaimReply> answer = scripts::ParseClaimReply(reply, "buyer_confirm");
                   if (!answer.ok()) return self->Finish(answer.status());
                   if (answer->status == "OK" && committed && answer->record.replayed)
                     return self->ConfirmedByAnother(*std::move(answer));
                   if (answer->status == "OK") return self->Confirmed(std::move(answer->record), committed);
                   if (committed) return self->FinishAfterCommit();
                   if (answer->status != "NEEDS_COMMIT") return self->Finish(self->Error(*answer));
                   self->PassStep("confirm.serials",
                                  [answer = *std::move(answer)](ConfirmCall& call) mutable {
                                    call.HoldSerials(std::move(answer));
                                  });
                 });
  }

  // A confirmed claim never expires: the sweeper need not look at it (nor at this call's commit entry).
  void Confirmed(ClaimRecord record, bool committed) {
    if (!record.replayed) {
      core_->FireAndForget({"ZREM", DueKey(), request_.claim_id}, deadline_);
      if (committed) core_->FireAndForget({"ZREM", DueKey(), CommitMember()}, deadline_);
    }
    Finish(std::move(record));
  }

  // Another confirmation of the claim won while this one committed its serials, which the claim may not
  // have: the other slots are brought in line with the claim (as the sweeper would at the hold end) before
  // the answer, so that a serial the claim does not have is free when this call answers.
  void ConfirmedByAnother(ClaimReply answer) {
    const absl::Time hold_end = answer.record.expires_at;
    Settle(core_, request_.claim_id, ModeFor(answer.record.state), hold_end, answer.plan, request_.now, deadline_,
           [self = shared_from_this(), record = std::move(answer.record)](SettleOutcome outcome) mutable {
             if (!outcome.status.ok()) return self->Finish(outcome.status);
             self->core_->FireAndForget({"ZREM", self->DueKey(), self->CommitMember()}, self->deadline_);
             self->Finish(std::move(record));
           });
  }

  absl::Status Error(const ClaimReply& answer) const {
    const size_t n = static_cast<size_t>(answer.serial) - 1;
    const bool names_serial = answer.serial >= 1 && n < request_.serials.size();
    if (answer.status == "LINE_NOT_FOUND" && names_serial)
      return SerialLineNotFound(request_.serials[n].field);
    if (answer.status == "SERIAL_DUPLICATE" && names_serial) return SerialTaken(request_.serials[n].field);
    if (answer.status == "SERIAL_COUNT" && names_serial) {
      const std::string& line = request_.serials[n].line_id;
      const auto given = std::count_if(request_.serials.begin(), request_.serials.end(),
                                       [&line](const SerialKey& s) { return s.line_id == line; });
      return SerialCount(request_.serials[n].field, given, answer.units);
    }
    return AnswerError(answer, "confirmed");
  }

  // 2. In parallel: each serial held for the claim until its hold ends (once_take), so that a crash leaves
  // only holds that end by themselves, and a due entry at the hold end (CommitMember, reconcile only: it
  // never reports an expiry), so that the sweeper brings the other slots in line with the claim whatever
  // happens next — this instance dies before the last step, or the claim is expired meanwhile by a call whose
  // now is later (its own due entry may already be gone when the instances' clocks disagree by more than a
  // hold). One serial another claim holds → every serial this attempt took is let go, and nothing changed.
  void HoldSerials(ClaimReply answer) {
    const absl::Time hold_end = answer.record.expires_at;
    std::vector<Step> steps;
    steps.push_back([core = core_, due = DueKey(), score = absl::StrCat(scripts::Millis(hold_end)),
                     member = CommitMember(), deadline = deadline_](ReplyCallback done) mutable {
      core->Command({"ZADD", due, score, member}, /*write=*/true, deadline, std::move(done));
    });
    for (const std::string& name : serial_names_) {
      steps.push_back(
          [core = core_, name,
           args = scripts::OnceTakeArgs(request_.claim_id, request_.now, hold_end, core_->options.hold_grace),
           deadline = deadline_](ReplyCallback done) mutable {
            core->Write(scripts::Get().once_take, {name}, std::move(args), deadline, std::move(done));
          });
    }
    All(std::move(steps),
        [self = shared_from_this(), answer = std::move(answer)](std::vector<Reply> replies) mutable {
          if (!replies[0].ok()) return self->Finish(replies[0].status());
          absl::Status error;
          std::optional<size_t> taken;
          std::vector<size_t> took;
          for (size_t n = 0; n + 1 < replies.size(); ++n) {
            absl::StatusOr<scripts::OnceTakeReply> ok = scripts::ParseOnceTakeReply(replies[n + 1]);
            if (!ok.ok()) {
              error.Update(ok.status());
            } else if (ok->fresh) {
              took.push_back(n);
            } else if (!ok->held && !taken.has_value()) {
              taken = n;
            }
          }
          if (!taken.has_value() && error.ok()) {
            return self->PassStep("confirm.commit", [answer = std::move(answer)](ConfirmCall& call) mutable {
              call.Commit(std::move(answer));
            });
          }
          self->ReleaseTaken(took, answer.record.expires_at,
                             taken.has_value() ? SerialTaken(self->request_.serials[*taken].field) : error);
        });
  }

  // Lets go of the serials this attempt took (the holds would end by themselves; the claim may be confirmed
  // later with other serials), then answers `status`. Only holds it took itself, and never a committed key:
  // a concurrent confirmation of the claim may hold (or have committed) the others.
  void ReleaseTaken(const std::vector<size_t>& took, absl::Time hold_end, absl::Status status) {
    std::vector<Step> releases;
    for (size_t n : took) {
      releases.push_back([core = core_, name = serial_names_[n],
                          args = scripts::OnceSettleArgs(request_.claim_id, SettleMode::kDrop, hold_end,
                                                         request_.now, core_->options.hold_grace),
                          deadline = deadline_](ReplyCallback done) mutable {
        core->Write(scripts::Get().once_settle, {name}, std::move(args), deadline, std::move(done));
      });
    }
    All(std::move(releases),
        [self = shared_from_this(), status](std::vector<Reply>) { self->Finish(status); });
  }

  // 3. The claim's budget entries, once-keys and this confirmation's serials stop ending with the hold before
  // the claim is CONFIRMED. Serial keys: only this request's, which this call took. Another attempt's pending
  // serials (the claim's `sp`) may never have been taken — that attempt died before once_take — and
  // committing them would find them gone and refuse every later confirmation of a live claim (the simulator
  // found it); nor are serials the claim no longer wants released here: another confirm attempt may still be
  // committing them.
  void Commit(ClaimReply answer) {
    scripts::Plan plan;
    plan.budgets = std::move(answer.plan.budgets);
    for (scripts::Plan::Once& once : answer.plan.once) {
      if (!RedisQuotaKeys::IsSerial(once.key)) plan.once.push_back(std::move(once));
    }
    for (const std::string& name : serial_names_) plan.once.push_back({name, true});
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
  // would (whose due entry may be gone when instances' clocks disagree by more than a hold). A claim still
  // RESERVED whose hold is live lost only serials — a concurrent confirmation of it let go of one both took —
  // and is confirmed once more from the start.
  void FinishAfterCommit() {
    ReadClaim(core_, request_.claim_id, request_.now, deadline_,
              [self = shared_from_this()](absl::StatusOr<ClaimReply> answer) mutable {
                if (!answer.ok()) return self->Finish(answer.status());
                if (answer->status != "OK") return self->Finish(AnswerError(*answer, "confirmed"));
                const ClaimState state = answer->record.state;
                const absl::Time hold_end = answer->record.expires_at;
                absl::StatusOr<ClaimRecord> result = std::move(answer->record);
                if (state == ClaimState::kConfirmed) {
                  result->replayed = true;
                } else if (state == ClaimState::kReserved || state == ClaimState::kExpired) {
                  result = HoldExpired("confirmed");
                } else {
                  result = WrongState(static_cast<int64_t>(state), "confirmed");
                }
                if (state == ClaimState::kReserved) {
                  if (hold_end > self->request_.now && !self->rerun_) {
                    self->rerun_ = true;
                    return self->PassStep("confirm.buyer", [](ConfirmCall& call) { call.Run(false); });
                  }
                  return self->Finish(std::move(result));
                }
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
  bool rerun_ = false;                     // confirmed once more from the start (FinishAfterCommit)
};

}  // namespace

void StartConfirm(CorePtr core, ConfirmRequest request, absl::Time deadline,
                  QuotaStore::Callback<ClaimRecord> done) {
  std::make_shared<ConfirmCall>(std::move(core), std::move(request), deadline, std::move(done))->Start();
}

}  // namespace tradein::quota::redis_quota_internal
