#include "services/quota/redis/change.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/quota/store_errors.h"

namespace tradein::quota::redis_quota_internal {
namespace {

using scripts::ClaimReply;

// How long a serial fix holds the new serial before its buyer's script and reconcile make it the claim's for
// good: far longer than a call (a store deadline is seconds) and than the sweeper's reconcile delay.
constexpr absl::Duration kSerialFixHold = absl::Minutes(10);

// What differs between the four changes.
struct ChangeKind {
  const char* name;    // the protocol steps' prefix: "cancel", "refund", "void", "correct"
  const char* action;  // as in "cannot be <action>"
  const redis::RedisScript& script;
  bool own_due_entry;  // refunds, voids and corrections: "<claim>#<first letter>:<change id>"
};

class ChangeCall : public SteppedCall<ChangeCall> {
 public:
  // `change_id`: the refund id or the void / correction request id (unused by a cancel).
  // A serial fix (CorrectRequest::Fix) takes the new serial's key before the buyer's script.
  struct SerialTake {
    std::string key;    // the serial key's name
    std::string field;  // the request field SERIAL_ALREADY_SUBSIDISED names
  };

  ChangeCall(CorePtr core, const ChangeKind& kind, std::string claim_id, std::string change_id,
             absl::Time now, std::string args, std::optional<SerialTake> take, absl::Time deadline,
             QuotaStore::Callback<ClaimRecord> done)
      : SteppedCall(std::move(core)),
        kind_(kind),
        claim_id_(std::move(claim_id)),
        change_id_(std::move(change_id)),
        now_(now),
        args_(std::move(args)),
        take_(std::move(take)),
        deadline_(deadline),
        answer_(std::move(done)) {}

  void Start() {
    tag_ = TagOfClaimId(claim_id_);
    if (tag_.empty()) return Finish(ClaimNotFound());
    if (!kind_.own_due_entry) return PassStep(StepName("buyer"), [](ChangeCall& self) { self.RunScript(); });
    due_member_ = absl::StrCat(claim_id_, "#", std::string(kind_.name).substr(0, 1), ":", change_id_);
    PassStep(StepName("due"), [](ChangeCall& self) { self.AddDueEntry(); });
  }

  void Finish(absl::StatusOr<ClaimRecord> result) { answer_(std::move(result)); }

 private:
  std::string StepName(absl::string_view what) const { return absl::StrCat(kind_.name, ".", what); }
  std::string DueKey() const { return core_->keys.Due(RedisQuotaKeys::DueShard(claim_id_)); }

  // Its own member, so that concurrent changes of one claim do not remove each other's.
  void AddDueEntry() {
    core_->Command({"ZADD", DueKey(),
                    absl::StrCat(scripts::Millis(now_ + core_->options.refund_reconcile_delay)), due_member_},
                   /*write=*/true, deadline_, [self = shared_from_this()](Reply reply) {
                     if (!reply.ok()) return self->Finish(reply.status());
                     if (self->take_.has_value()) {
                       return self->PassStep(self->StepName("serial"),
                                             [](ChangeCall& call) { call.TakeSerial(); });
                     }
                     self->PassStep(self->StepName("buyer"), [](ChangeCall& call) { call.RunScript(); });
                   });
  }

  // A serial fix holds the new serial for the claim until now + kSerialFixHold (a crash before the buyer's
  // script leaves a hold that ends by itself; after it, reconcile — this call's or the sweeper's at the due
  // entry — commits it). Another claim's → SERIAL_ALREADY_SUBSIDISED, nothing changed.
  void TakeSerial() {
    core_->Write(scripts::Get().once_take, {take_->key},
                 scripts::OnceTakeArgs(claim_id_, now_, now_ + kSerialFixHold, core_->options.hold_grace),
                 deadline_, [self = shared_from_this()](Reply reply) {
                   absl::StatusOr<scripts::OnceTakeReply> taken = scripts::ParseOnceTakeReply(reply);
                   if (!taken.ok()) return self->Finish(taken.status());
                   if (!taken->held) {
                     self->Cleanup();
                     return self->Finish(SerialTaken(self->take_->field));
                   }
                   self->took_serial_ = taken->fresh;
                   self->PassStep(self->StepName("buyer"), [](ChangeCall& call) { call.RunScript(); });
                 });
  }

  void RunScript() {
    core_->Write(
        kind_.script, core_->keys.Buyer(tag_), args_, deadline_, [self = shared_from_this()](Reply reply) {
          absl::StatusOr<ClaimReply> answer = scripts::ParseClaimReply(reply, self->kind_.name);
          if (!answer.ok()) return self->Finish(answer.status());
          if (answer->status != "OK") {
            // Nothing changed, and the due entry stays: a claim's (e.g. HOLD_EXPIRED: the sweeper still has
            // to report that expiry), and a change's own too, which is also the entry of every other attempt
            // with this change id. One with other content (refused here as reused) must not take away the
            // entry of one that changed the claim and died before its reconcile (the simulator found it: seed
            // 7153). The sweeper reconciles at the entry and removes it.
            self->DropTakenSerial();
            return self->Finish(answer->status == "SERIAL_ALREADY_SUBSIDISED" && self->take_.has_value()
                                    ? SerialTaken(self->take_->field)
                                    : AnswerError(*answer, self->kind_.action));
          }
          if (answer->plan.empty()) return self->Done(std::move(answer->record));
          self->PassStep(
              self->StepName("reconcile"),
              [answer = *std::move(answer)](ChangeCall& call) mutable { call.Reconcile(std::move(answer)); });
        });
  }

  void Reconcile(ClaimReply answer) {
    const scripts::SettleMode mode = ModeFor(answer.record.state);
    const absl::Time hold_end = answer.record.expires_at;
    Settle(core_, claim_id_, mode, hold_end, answer.plan, now_, deadline_,
           [self = shared_from_this(), record = std::move(answer.record)](SettleOutcome outcome) mutable {
             if (!outcome.status.ok()) return self->Finish(outcome.status);
             self->Done(std::move(record));
           });
  }

  void Done(ClaimRecord record) {
    Cleanup();
    Finish(std::move(record));
  }

  // A serial fix the buyer's script refused lets go of the hold it took (never of a committed key).
  void DropTakenSerial() {
    if (!took_serial_) return;
    core_->Write(scripts::Get().once_settle, {take_->key},
                 scripts::OnceSettleArgs(claim_id_, scripts::SettleMode::kDrop, now_ + kSerialFixHold, now_,
                                         core_->options.hold_grace),
                 deadline_, [](Reply) {});
  }

  // The due entry is no longer needed once the other slots are in line.
  void Cleanup() {
    core_->FireAndForget({"ZREM", DueKey(), kind_.own_due_entry ? due_member_ : claim_id_}, deadline_);
  }

  const ChangeKind& kind_;
  const std::string claim_id_;
  const std::string change_id_;
  const absl::Time now_;
  const std::string args_;
  const std::optional<SerialTake> take_;
  const absl::Time deadline_;
  bool took_serial_ = false;
  Answer<ClaimRecord> answer_;
  std::string tag_;
  std::string due_member_;
};

const ChangeKind& Kind(absl::string_view name) {
  const scripts::Scripts& s = scripts::Get();
  static const ChangeKind* const kinds = new ChangeKind[4]{{"cancel", "cancelled", s.buyer_cancel, false},
                                                           {"refund", "refunded", s.buyer_refund, true},
                                                           {"void", "voided", s.buyer_void, true},
                                                           {"correct", "corrected", s.buyer_correct, true}};
  for (int k = 0; k < 4; ++k) {
    if (name == kinds[k].name) return kinds[k];
  }
  return kinds[0];
}

void Start(CorePtr core, absl::string_view kind, std::string claim_id, std::string change_id, absl::Time now,
           std::string args, absl::Time deadline, QuotaStore::Callback<ClaimRecord> done,
           std::optional<ChangeCall::SerialTake> take = std::nullopt) {
  std::make_shared<ChangeCall>(std::move(core), Kind(kind), std::move(claim_id), std::move(change_id), now,
                               std::move(args), std::move(take), deadline, std::move(done))
      ->Start();
}

}  // namespace

void StartCancel(CorePtr core, const CancelRequest& request, absl::Time deadline,
                 QuotaStore::Callback<ClaimRecord> done) {
  Start(std::move(core), "cancel", request.claim_id, "", request.now, scripts::CancelArgs(request), deadline,
        std::move(done));
}

void StartRefund(CorePtr core, const RefundRequest& request, absl::Time deadline,
                 QuotaStore::Callback<ClaimRecord> done) {
  Start(std::move(core), "refund", request.claim_id, request.refund_id, request.now,
        scripts::RefundArgs(request), deadline, std::move(done));
}

void StartVoid(CorePtr core, const VoidRequest& request, absl::Time deadline,
               QuotaStore::Callback<ClaimRecord> done) {
  Start(std::move(core), "void", request.claim_id, request.request_id, request.now,
        scripts::VoidArgs(request), deadline, std::move(done));
}

void StartCorrect(CorePtr core, const CorrectRequest& request, absl::Time deadline,
                  QuotaStore::Callback<ClaimRecord> done) {
  std::optional<ChangeCall::SerialTake> take;
  if (request.fix.has_value() && request.fix->kind == ClaimEvent::Kind::kSerialCorrected) {
    take = ChangeCall::SerialTake{core->keys.Serial(request.fix->new_serial), request.fix->new_serial.field};
  }
  std::string args = scripts::CorrectArgs(request, core->keys);
  Start(std::move(core), "correct", request.claim_id, request.request_id, request.now, std::move(args),
        deadline, std::move(done), std::move(take));
}

}  // namespace tradein::quota::redis_quota_internal
