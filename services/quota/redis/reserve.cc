#include "services/quota/redis/reserve.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/civil_date.h"
#include "common/money.h"
#include "services/quota/redis/budget_shards.h"
#include "services/quota/store_errors.h"

namespace tradein::quota::redis_quota_internal {
namespace {

using pricing::ReasonCode;
using pricing::ReasonSet;
using scripts::ClaimReply;

// Units of a line that `remaining` fen fits (quota_store.h, "Amounts", step 3).
int32_t UnitsThatFit(int64_t remaining, int64_t unit_fen, int32_t units) {
  if (unit_fen <= 0) return units;
  return static_cast<int32_t>(std::clamp<int64_t>(remaining / unit_fen, 0, units));
}

class ReserveCall : public SteppedCall<ReserveCall> {
 public:
  ReserveCall(CorePtr core, ReserveRequest request, absl::Time deadline,
              QuotaStore::Callback<ClaimRecord> done)
      : SteppedCall(std::move(core)),
        request_(std::move(request)),
        deadline_(deadline),
        answer_(std::move(done)) {}

  void Start() {
    if (absl::Status status = Validate(); !status.ok()) return Finish(status);
    for (const OnceKey& once : request_.once_keys) once_names_.push_back(core_->keys.Once(once));
    for (const BudgetRef& budget : request_.budgets) {
      budget_names_.push_back(core_->keys.Budget(budget.programme, budget.budget_id));
    }
    budget_keys_ = budget_names_;
    once_touched_.assign(request_.once_keys.size(), false);
    budget_touched_.assign(request_.budgets.size(), false);
    reasons_.resize(request_.lines.size());
    for (const LineRequest& line : request_.lines) units_.push_back(std::max(line.units, 0));
    PassStep("reserve.request", [](ReserveCall& self) { self.SendFirst(); });
  }

  void Finish(absl::StatusOr<ClaimRecord> result) { answer_(std::move(result)); }

 private:
  // A listing index command of steps 1–2: a ZADD, or a key's PEXPIRE (`expire`).
  struct IndexCommand {
    std::vector<std::string> args;
    bool expire = false;
  };

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
    for (const CounterLimit& counter : request_.counters) exact = exact && counter.limit <= kMaxTotalFen;
    for (const BudgetRef& budget : request_.budgets) exact = exact && budget.total_fen <= kMaxTotalFen;
    if (!exact) return absl::InvalidArgumentError("an amount outside the bounds of common/money.h");
    return absl::OkStatus();
  }

  // ---------------------------------------------------------------------------------------------------------
  // 1. In parallel: the request id, the due entry and the listing index entries. Nothing is taken in another
  // owner's slot before the request id is known to be this content's: a request id reused for other content
  // names the same claim id (same buyer), and what it took there would pass for the claim's own.

  void SendFirst() {
    std::vector<Step> steps;
    steps.push_back(WriteCommand(
        {"SET", core_->keys.Request(request_.retailer_id, request_.request_id),
         absl::StrCat(request_.claim_id, "|t", scripts::TimeText(request_.now), "|", request_.fingerprint),
         "NX", "GET", "PX", absl::StrCat(absl::ToInt64Milliseconds(core_->options.request_id_ttl))}));
    // Always this attempt's hold end: a sweeper that read an earlier attempt's entry (and found no claim
    // behind it) then cannot remove it under this attempt (due_settle removes only what it read). A replay
    // puts back the claim's own hold end (Done).
    steps.push_back(WriteCommand({"ZADD", DueKey(), absl::StrCat(scripts::Millis(request_.expires_at)),
                                  request_.claim_id}));
    index_ = IndexCommands(request_.now, /*only_new=*/true);
    for (const IndexCommand& command : index_) steps.push_back(WriteCommand(command.args));
    All(std::move(steps),
        [self = shared_from_this()](std::vector<Reply> replies) { self->OnFirst(replies); });
  }

  void OnFirst(const std::vector<Reply>& replies) {
    CheckExpiries(replies, 2);
    absl::StatusOr<absl::Time> created = CreationTime(replies[0]);
    if (!created.ok()) {
      if (replies[0].ok() && replies[1].ok()) return PutBackDueEntryOfTheClaim(created.status());
      return Finish(created.status());
    }
    created_ = *created;
    bool indexed = created_ == request_.now && replies[0]->is_nil();
    for (size_t j = 1; j < replies.size(); ++j) {
      if (!replies[j].ok()) return Finish(replies[j].status());
      // ZADD NX: 1 = added at this attempt's now.
      if (j >= 2 && !index_[j - 2].expire) indexed = indexed && replies[j]->integer() == 1;
    }
    reindex_ = !indexed;
    once_wanted_ = WantedOnceKeys();
    if (once_wanted_.empty() && !LinesOnBudgets() && !reindex_) return Decide();
    PassStep("reserve.holds", [](ReserveCall& self) { self.TakeHolds(); });
  }

  // ---------------------------------------------------------------------------------------------------------
  // 2. In parallel: the once-keys of the lines the rules grant, and the budgets — unless the request has
  // both, then the budgets after the once-keys, so that a line refused its home allocates nothing
  // (quota_store.h, "Amounts": step 2 before step 3).

  bool BudgetsAfterOnceKeys() const { return !once_wanted_.empty() && LinesOnBudgets(); }

  void TakeHolds() {
    std::vector<Step> steps;
    index_.clear();
    if (reindex_) index_ = IndexCommands(created_, /*only_new=*/false);
    for (const IndexCommand& command : index_) steps.push_back(WriteCommand(command.args));
    for (uint16_t k : once_wanted_) {
      steps.push_back(WriteScript(scripts::Get().once_take, {once_names_[k]},
                                  scripts::OnceTakeArgs(request_.claim_id, request_.now, request_.expires_at,
                                                        core_->options.hold_grace)));
    }
    std::vector<std::string> budget_reads;
    if (!BudgetsAfterOnceKeys()) AddBudgetSteps(steps, budget_reads);
    All(std::move(steps), [self = shared_from_this(), budget_reads](std::vector<Reply> replies) mutable {
      self->OnHolds(std::move(replies), std::move(budget_reads));
    });
  }

  void OnHolds(std::vector<Reply> replies, std::vector<std::string> budget_reads) {
    CheckExpiries(replies, 0);
    for (size_t j = 0; j < index_.size(); ++j) {
      if (!replies[j].ok()) return Finish(replies[j].status());
    }
    replies.erase(replies.begin(), replies.begin() + static_cast<long>(index_.size()));
    const size_t once = once_wanted_.size();
    for (size_t j = 0; j < once; ++j) {
      absl::StatusOr<scripts::OnceTakeReply> took = scripts::ParseOnceTakeReply(replies[j]);
      if (!took.ok()) return Finish(took.status());
      if (took->held) once_touched_[once_wanted_[j]] = true;
    }
    const bool budgets_after = BudgetsAfterOnceKeys();
    TakeOutLinesWithOnceKeysTaken();
    if (budgets_after) {
      if (!LinesOnBudgets()) return Decide();
      return PassStep("reserve.budgets", [](ReserveCall& self) { self.TakeBudgets(); });
    }
    std::vector<Reply> budget_replies(std::make_move_iterator(replies.begin() + static_cast<long>(once)),
                                      std::make_move_iterator(replies.end()));
    OnBudgetReplies(std::move(budget_replies), std::move(budget_reads));
  }

  Step WriteCommand(std::vector<std::string> command) {
    return [core = core_, command = std::move(command), deadline = deadline_](ReplyCallback done) mutable {
      core->Command(std::move(command), /*write=*/true, deadline, std::move(done));
    };
  }

  // `args`: the script's argument map (std::string), or its ARGV (std::vector<std::string>).
  template <typename Args>
  Step WriteScript(const redis::RedisScript& script, std::vector<std::string> keys, Args args) {
    return [core = core_, &script, keys = std::move(keys), args = std::move(args),
            deadline = deadline_](ReplyCallback done) mutable {
      core->Write(script, std::move(keys), std::move(args), deadline, std::move(done));
    };
  }

  // The claim is in the listings before it can exist: a listing skips an entry with no claim behind it (or
  // one for another time: a stray of a retry), and never misses a claim. The claim's created_at is its first
  // attempt's now (kept with the request id): the first attempt adds the entries in step 1 (`only_new`, so
  // that a concurrent retry's stray cannot move them); any other attempt, or a first one that found an entry
  // there, sets them at the creation time in step 2, before the buyer's script may create the claim. Each
  // key's PEXPIRE goes with it unless this instance set that key's TTL lately (ExpiryMemo: the same
  // deadline).
  std::vector<IndexCommand> IndexCommands(absl::Time created, bool only_new) const {
    const ClaimPosition position = PositionOf(created, request_.claim_id);
    const std::string score = absl::StrCat(position.nanos_in_day);
    std::vector<std::string> indexes = {
        core_->keys.DayIndex(position.day, RedisQuotaKeys::IndexShard(request_.claim_id)),
        core_->keys.RetailerDayIndex(request_.retailer_id, position.day,
                                     RedisQuotaKeys::RetailerIndexShard(request_.claim_id))};
    if (core_->options.legacy_retailer_index) {
      indexes.push_back(core_->keys.LegacyRetailerDayIndex(request_.retailer_id, position.day));
    }
    std::vector<IndexCommand> commands;
    const absl::Time real_now = absl::Now();
    for (std::string& index : indexes) {
      if (only_new) {
        commands.push_back({{"ZADD", index, "NX", score, request_.claim_id}, false});
      } else {
        commands.push_back({{"ZADD", index, score, request_.claim_id}, false});
      }
      if (core_->options.index_retention > absl::ZeroDuration() &&
          core_->index_expiries.ShouldSet(index, real_now)) {
        // Garbage collection only: from now to the end of the entry's day plus the retention.
        const int64_t ttl = std::max<int64_t>(
            absl::ToInt64Milliseconds(StartOfChinaDay(position.day + 1) + core_->options.index_retention -
                                      request_.now),
            1);
        commands.push_back({{"PEXPIRE", std::move(index), absl::StrCat(ttl)}, true});
      }
    }
    return commands;
  }

  // A PEXPIRE that failed (or may not have run) is sent by the next claim. One that ran before its key's ZADD
  // (they may travel on two connections) found no key and set nothing: sent again now that the ZADD is done.
  void CheckExpiries(const std::vector<Reply>& replies, size_t first) const {
    for (size_t k = 0; k < index_.size(); ++k) {
      if (!index_[k].expire) continue;
      const Reply& reply = replies[first + k];
      if (!reply.ok()) {
        core_->index_expiries.Forget(index_[k].args[1]);
      } else if (reply->type() == redis::RedisValue::Type::kInteger && reply->integer() == 0) {
        core_->FireAndForget(index_[k].args, deadline_);
      }
    }
  }

  // The once-keys of the lines the rules grant, each once.
  std::vector<uint16_t> WantedOnceKeys() const {
    std::vector<uint16_t> wanted;
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      if (units_[i] == 0) continue;
      for (uint16_t k : request_.lines[i].once_keys) {
        if (std::find(wanted.begin(), wanted.end(), k) == wanted.end()) wanted.push_back(k);
      }
    }
    return wanted;
  }

  // The request id: first time (nil: the claim is created now), a retry (its content: go on with the first
  // attempt's now; the buyer's script replays a decided claim), or reused with other content or for another
  // buyer (REQUEST_ID_REUSED; what this attempt took in other slots ends with its hold).
  absl::StatusOr<absl::Time> CreationTime(const Reply& reply) const {
    if (!reply.ok()) return reply.status();
    if (reply->is_nil()) return request_.now;
    if (reply->type() != redis::RedisValue::Type::kString)
      return absl::InternalError("unexpected reply to SET NX GET");
    // "<claim>|t<first attempt's now>|<fingerprint>" ("<claim>|<fingerprint>" before times were kept).
    const std::string& stored = reply->str();
    const size_t bar = stored.find('|');
    if (bar == std::string::npos) return absl::InternalError("unexpected reply to SET NX GET");
    absl::string_view fingerprint = absl::string_view(stored).substr(bar + 1);
    absl::Time created = request_.now;
    int64_t nanos = 0;
    if (fingerprint.size() >= 21 && fingerprint[0] == 't' && fingerprint[20] == '|' &&
        absl::SimpleAtoi(fingerprint.substr(1, 19), &nanos)) {
      created = absl::FromUnixNanos(nanos);
      fingerprint.remove_prefix(21);
    }
    if (fingerprint != request_.fingerprint || stored.substr(0, bar) != request_.claim_id)
      return RequestIdReused();
    return created;
  }

  // A home or old car another claim holds takes the line out (the first such key gives the reason).
  void TakeOutLinesWithOnceKeysTaken() {
    for (size_t j = 0; j < once_wanted_.size(); ++j) {
      const uint16_t k = once_wanted_[j];
      if (once_touched_[k]) continue;
      for (size_t i = 0; i < request_.lines.size(); ++i) {
        const std::vector<uint16_t>& keys = request_.lines[i].once_keys;
        if (units_[i] > 0 && std::find(keys.begin(), keys.end(), k) != keys.end()) {
          units_[i] = 0;
          reasons_[i].Add(request_.once_keys[k].reason_when_taken);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Budgets, in line order, before the buyer's counters.

  bool LinesOnBudgets() const {
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      if (units_[i] > 0 && !request_.lines[i].budgets.empty()) return true;
    }
    return false;
  }

  bool Joint() const {
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      if (units_[i] > 0 && request_.lines[i].budgets.size() > 1) return true;
    }
    return false;
  }

  std::vector<std::string> DistinctBudgets() const {
    std::vector<std::string> names;
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      if (units_[i] == 0) continue;
      for (uint16_t b : request_.lines[i].budgets) {
        if (std::find(names.begin(), names.end(), budget_names_[b]) == names.end()) {
          names.push_back(budget_names_[b]);
        }
      }
    }
    return names;
  }

  // The budget steps: an allocation per budget, or, when a line draws on two budgets, first a read of each
  // budget's use (the joint allocation of quota_store.h is computed from them, then allocated exactly on the
  // budgets themselves: AllocateJointly). Appends the names of the budgets read to `reads` (empty when the
  // steps allocate).
  void AddBudgetSteps(std::vector<Step>& steps, std::vector<std::string>& reads) {
    if (!LinesOnBudgets()) return;
    if (!Joint()) {
      AddAllocations(steps, units_, /*after_drain=*/false);
      return;
    }
    reads = DistinctBudgets();
    for (const std::string& name : reads) {
      steps.push_back(
          [core = core_, name, now = request_.now, deadline = deadline_](ReplyCallback done) mutable {
            core->Read(scripts::Get().budget_used, {name, RedisQuotaKeys::BudgetHolds(name)},
                       scripts::BudgetUsedArgs(now), deadline, std::move(done));
          });
    }
  }

  void TakeBudgets() {
    std::vector<Step> steps;
    std::vector<std::string> reads;
    AddBudgetSteps(steps, reads);
    All(std::move(steps),
        [self = shared_from_this(), reads = std::move(reads)](std::vector<Reply> replies) mutable {
          self->OnBudgetReplies(std::move(replies), std::move(reads));
        });
  }

  void OnBudgetReplies(std::vector<Reply> replies, std::vector<std::string> reads) {
    if (reads.empty()) {
      if (absl::Status status = ApplyAllocations(replies); !status.ok()) return Finish(status);
      return Decide();
    }
    // Each budget's whole use: its shards' too, when it leased to any (budget_shards.h).
    using Use = absl::StatusOr<int64_t>;
    std::vector<StepOf<Use>> steps;
    std::vector<scripts::BudgetUse> parents;
    for (size_t j = 0; j < reads.size(); ++j) {
      absl::StatusOr<scripts::BudgetUse> use = scripts::ParseBudgetUsedReply(replies[j]);
      if (!use.ok()) return Finish(use.status());
      parents.push_back(*use);
      steps.push_back([core = core_, name = reads[j], use = *std::move(use), now = request_.now,
                       deadline = deadline_](absl::AnyInvocable<void(Use) &&> done) mutable {
        AddShardUse(core, name, use, now, deadline, std::move(done));
      });
    }
    AllOf<Use>(std::move(steps), [self = shared_from_this(), reads = std::move(reads),
                                  parents = std::move(parents)](std::vector<Use> uses) mutable {
      std::map<std::string, int64_t> used;
      for (size_t j = 0; j < uses.size(); ++j) {
        if (!uses[j].ok()) return self->Finish(uses[j].status());
        used[reads[j]] = *uses[j];
      }
      self->AllocateJointly(self->JointCaps(used), reads, parents);
    });
  }

  // The joint allocation `caps`, on the budgets themselves: a budget whose own room (its total less its used,
  // leases included) cannot pay what the caps draw on it is drained first, so that it can.
  void AllocateJointly(std::vector<int32_t> caps, const std::vector<std::string>& reads,
                       const std::vector<scripts::BudgetUse>& parents) {
    std::vector<Step> drains;
    for (size_t j = 0; j < reads.size(); ++j) {
      int64_t drawn = 0, total = 0;
      for (size_t i = 0; i < request_.lines.size(); ++i) {
        for (uint16_t b : request_.lines[i].budgets) {
          if (budget_names_[b] != reads[j]) continue;
          total = request_.budgets[b].total_fen;
          drawn += int64_t{caps[i]} * request_.lines[i].unit_fen;
        }
      }
      if (parents[j].leased_out == 0 || drawn <= total - parents[j].used) continue;
      drains.push_back([core = core_, name = reads[j], now = request_.now,
                        deadline = deadline_](ReplyCallback done) mutable {
        DrainBudget(core, name, now, deadline, std::move(done));
      });
    }
    All(std::move(drains), [self = shared_from_this(), caps = std::move(caps)](std::vector<Reply> drained) {
      for (const Reply& reply : drained) {
        if (!reply.ok()) return self->Finish(reply.status());
      }
      std::vector<Step> steps;
      self->AddAllocations(steps, caps, /*after_drain=*/true);
      All(std::move(steps), [self](std::vector<Reply> allocations) {
        if (absl::Status status = self->ApplyAllocations(allocations); !status.ok())
          return self->Finish(status);
        self->Decide();
      });
    });
  }

  // MemoryQuotaStore's allocation over every budget at once, from what each budget has used.
  std::vector<int32_t> JointCaps(const std::map<std::string, int64_t>& used) const {
    std::vector<int32_t> caps = units_;
    std::map<std::string, int64_t> allocated;
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
      for (uint16_t b : line.budgets) allocated[budget_names_[b]] += int64_t{fit} * line.unit_fen;
    }
    return caps;
  }

  // One allocation per budget: the lines that draw on it, each at most `caps` units — by AllocateOnBudget (on
  // the claim's shard, or on the budget, with a drain when needed: budget_shards.h), or `after_drain` (the
  // joint allocation, which drained what it needs) on the budget itself, exactly.
  void AddAllocations(std::vector<Step>& steps, const std::vector<int32_t>& caps, bool after_drain) {
    allocations_.clear();
    for (const std::string& name : DistinctBudgets()) {
      Allocation allocation{name, name, {}, 0};
      std::vector<scripts::BudgetLine> lines;
      for (size_t i = 0; i < request_.lines.size(); ++i) {
        const LineRequest& line = request_.lines[i];
        if (units_[i] == 0) continue;
        for (uint16_t b : line.budgets) {
          if (budget_names_[b] != name) continue;
          allocation.total_fen = request_.budgets[b].total_fen;
          allocation.lines.push_back(i);
          lines.push_back({i, caps[i], line.unit_fen});
          break;  // a line once per budget
        }
      }
      if (!after_drain) {
        steps.push_back(AllocateOnBudgetStep(allocations_.size(),
                                             {name, allocation.total_fen, std::move(lines), request_.claim_id,
                                              request_.now, request_.expires_at, deadline_}));
      } else {
        steps.push_back(WriteScript(
            scripts::Get().budget_alloc, {name, RedisQuotaKeys::BudgetHolds(name)},
            scripts::BudgetAllocArgs(request_.claim_id, request_.now, request_.expires_at,
                                     allocation.total_fen, lines, scripts::BudgetRoom::kAfterDrain)));
      }
      allocations_.push_back(std::move(allocation));
    }
  }

  // Allocation `j` by AllocateOnBudget; the key its entry ends up in becomes the allocation's.
  Step AllocateOnBudgetStep(size_t j, BudgetAllocation allocation) {
    return [self = shared_from_this(), j, allocation = std::move(allocation)](ReplyCallback done) mutable {
      AllocateOnBudget(self->core_, std::move(allocation),
                       [self, j, done = std::move(done)](Reply reply, std::string key) mutable {
                         self->allocations_[j].key = std::move(key);
                         std::move(done)(std::move(reply));
                       });
    };
  }

  absl::Status ApplyAllocations(const std::vector<Reply>& replies) {
    std::vector<std::map<size_t, int32_t>> units(allocations_.size());  // per budget: units per line
    for (size_t j = 0; j < allocations_.size(); ++j) {
      absl::StatusOr<scripts::BudgetAllocReply> got =
          scripts::ParseBudgetAllocReply(replies[j], allocations_[j].lines.size());
      if (!got.ok()) return got.status();
      for (size_t k = 0; k < got->units.size(); ++k) {
        units[j][allocations_[j].lines[k]] = got->units[k];
        allocated_fen_[allocations_[j].key] +=
            int64_t{got->units[k]} * request_.lines[allocations_[j].lines[k]].unit_fen;
      }
      if (allocated_fen_[allocations_[j].key] == 0) continue;
      for (size_t b = 0; b < budget_names_.size(); ++b) {
        if (budget_names_[b] != allocations_[j].name) continue;
        budget_touched_[b] = true;
        budget_keys_[b] = allocations_[j].key;
      }
    }
    for (size_t i = 0; i < request_.lines.size(); ++i) {
      if (units_[i] == 0 || request_.lines[i].budgets.empty()) continue;
      int32_t fit = units_[i];
      for (uint16_t b : request_.lines[i].budgets) {
        for (size_t j = 0; j < allocations_.size(); ++j) {
          if (allocations_[j].name != budget_names_[b]) continue;
          const auto it = units[j].find(i);
          fit = std::min(fit, it == units[j].end() ? 0 : it->second);
        }
      }
      if (fit < units_[i]) reasons_[i].Add(ReasonCode::kBudgetExhausted);
      units_[i] = fit;
    }
    return absl::OkStatus();
  }

  // ---------------------------------------------------------------------------------------------------------
  // 2. The buyer's script decides; 3. the other slots are brought in line with the decision when it left them
  // holding more than it granted.

  void Decide() {
    PassStep("reserve.buyer", [](ReserveCall& self) { self.RunBuyerScript(); });
  }

  void RunBuyerScript() {
    std::vector<uint32_t> reasons;
    for (const ReasonSet& set : reasons_) reasons.push_back(set.bits());
    const scripts::ReserveArgs args{request_,     created_,        once_names_, once_touched_,
                                    budget_keys_, budget_touched_, units_,      reasons};
    std::optional<scripts::FullGrant> full;
    if (core_->options.full_grants) full = args.FullGrantOf();
    std::vector<std::string> argv = args.Encode(full ? &*full : nullptr);
    core_->Write(scripts::Get().buyer_reserve, core_->keys.Buyer(request_.buyer.tag), std::move(argv),
                 deadline_, [self = shared_from_this(), full = std::move(full)](Reply reply) mutable {
                   absl::StatusOr<ClaimReply> answer = scripts::ParseClaimReply(reply, "buyer_reserve");
                   if (!answer.ok()) return self->Finish(answer.status());
                   if (answer->status == "FULL" && full) {
                     answer->status = "OK";
                     answer->record = std::move(full->record);
                     answer->plan = std::move(full->plan);
                   }
                   if (answer->status != "OK") return self->Finish(AnswerError(*answer, "reserved"));
                   if (!self->NeedsReconcile(*answer)) return self->Done(std::move(answer->record));
                   self->PassStep("reserve.reconcile",
                                  [answer = *std::move(answer)](ReserveCall& call) mutable {
                                    call.SettleDecision(std::move(answer));
                                  });
                 });
  }

  // A retry of a decided claim may have taken again what the claim does not hold — a once-key the claim let
  // go or never got, a budget it has no entry in: the plan releases those too.
  void AddWhatThisAttemptTook(scripts::Plan& plan) const {
    for (size_t k = 0; k < once_names_.size(); ++k) {
      const bool planned = std::any_of(plan.once.begin(), plan.once.end(),
                                       [&](const scripts::Plan::Once& o) { return o.key == once_names_[k]; });
      if (once_touched_[k] && !planned) plan.once.push_back({once_names_[k], false});
    }
    for (const auto& [budget_key, fen] : allocated_fen_) {
      const std::string& key = budget_key;  // clang 14 cannot capture a structured binding
      const bool planned = std::any_of(plan.budgets.begin(), plan.budgets.end(),
                                       [&](const scripts::Plan::Budget& b) { return b.key == key; });
      if (fen > 0 && !planned) plan.budgets.push_back({key, 0});
    }
  }

  // Reconcile is needed when the other slots hold more than the decision kept: an allocation above the grant,
  // a once-key of a line that got nothing — or, for a replayed claim, anything it holds (the attempt that
  // decided it may have died before reconciling) or this attempt took (again, or what the claim never got).
  bool NeedsReconcile(const ClaimReply& answer) const {
    if (answer.record.replayed) return !answer.plan.empty() || TookAnything();
    if (answer.plan.empty()) return false;
    for (const scripts::Plan::Once& once : answer.plan.once) {
      if (!once.keep) return true;
    }
    for (const scripts::Plan::Budget& budget : answer.plan.budgets) {
      const auto allocated = allocated_fen_.find(budget.key);
      if (allocated == allocated_fen_.end() || allocated->second != budget.target) return true;
    }
    return false;
  }

  bool TookAnything() const {
    return std::find(once_touched_.begin(), once_touched_.end(), true) != once_touched_.end() ||
           std::any_of(allocated_fen_.begin(), allocated_fen_.end(),
                       [](const auto& allocated) { return allocated.second > 0; });
  }

  void SettleDecision(ClaimReply answer) {
    AddWhatThisAttemptTook(answer.plan);
    const std::string claim_id = answer.record.claim_id;
    const scripts::SettleMode mode = ModeFor(answer.record.state);
    const absl::Time hold_end = answer.record.expires_at;
    Settle(core_, claim_id, mode, hold_end, answer.plan, request_.now, deadline_,
           [self = shared_from_this(), record = std::move(answer.record)](SettleOutcome outcome) mutable {
             if (!outcome.status.ok()) return self->Finish(outcome.status);
             self->Done(std::move(record));
           });
  }

  void Done(ClaimRecord record) {
    if (record.state == ClaimState::kRejected) {
      // Nothing to expire: the sweeper need not look at it.
      core_->FireAndForget({"ZREM", DueKey(), record.claim_id}, deadline_);
    } else if (record.replayed) {
      const ClaimState state = record.state;
      const absl::Time hold_end = record.expires_at;
      return PutBackDueEntry(state, hold_end, std::move(record));
    }
    Finish(std::move(record));
  }

  // Step 1 moved the claim's due entry to this attempt's hold end; an attempt that did not decide the claim
  // (a replay, or a request id reused with other content) puts back the claim's own hold end before it
  // answers, so that a sweep after it reports the expiry when due (XX: never again once the sweeper is done).
  void PutBackDueEntry(ClaimState state, absl::Time hold_end, absl::StatusOr<ClaimRecord> answer) {
    if (state != ClaimState::kReserved && state != ClaimState::kExpired) return Finish(std::move(answer));
    core_->Command({"ZADD", DueKey(), "XX", absl::StrCat(scripts::Millis(hold_end)), request_.claim_id},
                   /*write=*/true, deadline_,
                   [self = shared_from_this(), answer = std::move(answer)](Reply reply) mutable {
                     if (!reply.ok()) return self->Finish(reply.status());
                     self->Finish(std::move(answer));
                   });
  }

  void PutBackDueEntryOfTheClaim(absl::Status refusal) {
    ReadClaim(core_, request_.claim_id, request_.now, deadline_,
              [self = shared_from_this(), refusal](absl::StatusOr<ClaimReply> claim) mutable {
                if (!claim.ok()) return self->Finish(claim.status());
                if (claim->status != "OK") return self->Finish(refusal);
                self->PutBackDueEntry(claim->record.state, claim->record.expires_at, refusal);
              });
  }

  std::string DueKey() const { return core_->keys.Due(RedisQuotaKeys::DueShard(request_.claim_id)); }

  struct Allocation {
    std::string name;           // the budget's key
    std::string key;            // the key the claim's entry is in: the budget's, or one of its shards'
    std::vector<size_t> lines;  // the lines that draw on it, in the order of its budget_alloc
    int64_t total_fen = 0;
  };

  const ReserveRequest request_;
  const absl::Time deadline_;
  Answer<ClaimRecord> answer_;
  std::vector<std::string> once_names_;
  std::vector<std::string> budget_names_;
  // Per request budget: the key its entry is in (its own, or one of its shards').
  std::vector<std::string> budget_keys_;
  std::vector<bool> once_touched_;    // per request once-key: this claim holds it
  std::vector<bool> budget_touched_;  // per request budget: this claim has an entry
  std::vector<int32_t> units_;        // per line: what the rules, once-keys and budgets allow so far
  std::vector<ReasonSet> reasons_;
  absl::Time created_;                            // the first attempt's now (step 1)
  bool reindex_ = false;                          // step 2 sets the listing entries at created_
  std::vector<IndexCommand> index_;               // the listing index commands of step 1, then of step 2
  std::vector<uint16_t> once_wanted_;             // the once-keys taken in step 1, in its order
  std::vector<Allocation> allocations_;           // the budget_alloc steps, in their order
  std::map<std::string, int64_t> allocated_fen_;  // per budget key: fen this attempt allocated
};

}  // namespace

void StartReserve(CorePtr core, ReserveRequest request, absl::Time deadline,
                  QuotaStore::Callback<ClaimRecord> done) {
  std::make_shared<ReserveCall>(std::move(core), std::move(request), deadline, std::move(done))->Start();
}

}  // namespace tradein::quota::redis_quota_internal
