#include "services/quota/redis/sweep.h"

#include <algorithm>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace tradein::quota::redis_quota_internal {
namespace {

using scripts::ClaimReply;

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

  struct Outcome {
    bool ok = false;
    std::string reconciled;  // the claim whose other slots this entry's reconcile changed, or ""
    std::optional<ClaimRecord> expired;
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
    const std::string max = absl::StrCat(scripts::Millis(now_));
    const std::string count = absl::StrCat(static_cast<size_t>(want) + seen);
    for (int shard = 0; shard < RedisQuotaKeys::kDueShards; ++shard) {
      steps.push_back([core = core_, key = core_->keys.Due(shard), max, count,
                       deadline = deadline_](ReplyCallback done) mutable {
        core->Command({"ZRANGEBYSCORE", key, "-inf", max, "WITHSCORES", "LIMIT", "0", count}, /*write=*/false,
                      deadline, std::move(done));
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
      const std::vector<redis::RedisValue>& e = reply->elements();
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

  void SweepOne(Entry entry) {
    // "<claim id>#...": a change's or a confirmation's entry, only to finish its reconcile.
    const size_t hash = entry.member.find('#');
    const bool reconcile_only = hash != std::string::npos;
    const std::string claim_id = entry.member.substr(0, hash);
    if (TagOfClaimId(claim_id).empty()) return SettleEntry(entry, true, 0, Outcome{true, "", std::nullopt});
    ReadForSweep(claim_id, false,
                 [self = shared_from_this(), entry = std::move(entry), claim_id,
                  reconcile_only](absl::StatusOr<ClaimReply> answer) mutable {
                   if (!answer.ok() || (answer->status != "OK" && answer->status != "NOT_FOUND"))
                     return self->Done(Outcome{});
                   if (answer->status == "NOT_FOUND") {
                     // A reservation a crash cut off before the buyer's script: its holds end by themselves.
                     return self->SettleEntry(entry, true, 0, Outcome{true, "", std::nullopt});
                   }
                   if (answer->record.state == ClaimState::kReserved && !reconcile_only) {
                     // Not due yet (a retry moved the entry): look again at the hold end.
                     return self->SettleEntry(entry, false, scripts::Millis(answer->record.expires_at),
                                              Outcome{true, "", std::nullopt});
                   }
                   self->core_->Pass("sweep.reconcile", [self, entry, claim_id,
                                                         answer = *std::move(answer)](bool crash) mutable {
                     if (crash) return self->Done(Outcome{});
                     self->Reconcile(entry, claim_id, std::move(answer));
                   });
                 });
  }

  // buyer_sweep: the claim (expired when due); with `mark`, its expiry marked reported.
  void ReadForSweep(const std::string& claim_id, bool mark,
                    absl::AnyInvocable<void(absl::StatusOr<ClaimReply>) &&> then) {
    core_->Write(scripts::Get().buyer_sweep, core_->keys.Buyer(TagOfClaimId(claim_id)),
                 scripts::SweepArgs(claim_id, now_, mark), deadline_,
                 [then = std::move(then)](Reply reply) mutable {
                   std::move(then)(scripts::ParseClaimReply(reply, "buyer_sweep"));
                 });
  }

  // The other slots in line with the claim; then an expired claim's expiry is marked reported (the call that
  // marks it reports it) and the entry removed. A crash before the mark leaves the entry for the next
  // sweeper.
  void Reconcile(const Entry& entry, const std::string& claim_id, ClaimReply answer) {
    Settle(core_, claim_id, ModeFor(answer.record.state), answer.record.expires_at, answer.plan, now_,
           deadline_,
           [self = shared_from_this(), entry, claim_id,
            expired = answer.record.state == ClaimState::kExpired](SettleOutcome settled) mutable {
             if (!settled.status.ok()) return self->Done(Outcome{});
             self->core_->Pass("sweep.settle", [self, entry, claim_id, expired,
                                                changed = settled.changed](bool crash) mutable {
               if (crash) return self->Done(Outcome{});
               Outcome outcome{true, changed > 0 ? claim_id : "", std::nullopt};
               if (!expired) return self->SettleEntry(entry, true, 0, outcome);
               self->ReadForSweep(claim_id, true,
                                  [self, entry, outcome](absl::StatusOr<ClaimReply> marked) mutable {
                                    if (!marked.ok() || marked->status != "OK") return self->Done(Outcome{});
                                    if (marked->report) outcome.expired = std::move(marked->record);
                                    self->SettleEntry(entry, true, 0, std::move(outcome));
                                  });
             });
           });
  }

  // Removes (or moves) the entry if no one changed it since it was read. Whether an expiry is reported was
  // decided by buyer_sweep: once per claim, whichever sweeper and however many entries the claim had.
  void SettleEntry(const Entry& entry, bool remove, int64_t new_score, Outcome outcome) {
    core_->Write(scripts::Get().due_settle, {core_->keys.Due(entry.shard)},
                 scripts::DueSettleArgs(entry.member, entry.score_text, remove, new_score), deadline_,
                 [self = shared_from_this(), outcome = std::move(outcome)](Reply reply) mutable {
                   if (!scripts::ParseDueSettleReply(reply).ok()) outcome.ok = false;
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
      // A claim's entries (its expiry, a confirmation's, a change's) may be swept side by side, and each
      // reconcile may be the first to change one of its slots: the claim is counted once.
      if (!outcome.reconciled.empty() && reconciled_.insert(outcome.reconciled).second) ++result_.reconciled;
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
    // Expiries already marked reported must be reported even if a later pass failed.
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
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);        // entries this call already worked on
  absl::flat_hash_set<std::string> reconciled_ ABSL_GUARDED_BY(mu_);  // claims counted in result_.reconciled
  std::vector<Entry> queue_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int progress_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

void StartSweep(CorePtr core, absl::Time now, int limit, absl::Time deadline,
                QuotaStore::Callback<SweepResult> done) {
  std::make_shared<SweepCall>(std::move(core), now, limit, deadline, std::move(done))->Start();
}

}  // namespace tradein::quota::redis_quota_internal
