#include "services/quota/redis/listing.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/quota/store_errors.h"

namespace tradein::quota::redis_quota_internal {
namespace {

using scripts::IndexEntry;

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
        position_ = IndexEntry{after->claim_id, after->nanos_in_day};
      }
    }
    Round();
  }

 private:
  // a before b in the walk's direction: (score, claim id) ascending, or descending when newest first.
  bool InOrder(const IndexEntry& a, const IndexEntry& b) const {
    return request_.newest_first ? std::tie(b.score, b.claim_id) < std::tie(a.score, a.claim_id)
                                 : std::tie(a.score, a.claim_id) < std::tie(b.score, b.claim_id);
  }

  // The index keys of the current day: the retailer's shards and its unsharded key, or the day's shards.
  std::vector<std::string> IndexKeys() const {
    std::vector<std::string> keys;
    if (!request_.retailer_id.empty()) {
      for (int n = 0; n < RedisQuotaKeys::kRetailerIndexShards; ++n) {
        keys.push_back(core_->keys.RetailerDayIndex(request_.retailer_id, day_, n));
      }
      keys.push_back(core_->keys.LegacyRetailerDayIndex(request_.retailer_id, day_));
      return keys;
    }
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
    const std::string args =
        scripts::IndexRangeArgs(request_.newest_first, position_.has_value() ? &*position_ : nullptr, count);
    std::vector<Step> steps;
    for (std::string& key : IndexKeys()) {
      steps.push_back(
          [core = core_, key = std::move(key), args, deadline = deadline_](ReplyCallback done) mutable {
            core->Read(scripts::Get().index_range, {key}, std::move(args), deadline, std::move(done));
          });
    }
    All(std::move(steps), [self = shared_from_this(), count](std::vector<Reply> replies) {
      self->OnRange(count, std::move(replies));
    });
  }

  void OnRange(size_t count, std::vector<Reply> replies) {
    std::vector<IndexEntry> merged;
    bool full = false;  // a shard may have more after what it returned
    for (const Reply& reply : replies) {
      absl::StatusOr<std::vector<IndexEntry>> entries = scripts::ParseIndexRangeReply(reply);
      if (!entries.ok()) return answer_(entries.status());
      full = full || entries->size() >= count;
      merged.insert(merged.end(), entries->begin(), entries->end());
    }
    std::sort(merged.begin(), merged.end(),
              [this](const IndexEntry& a, const IndexEntry& b) { return InOrder(a, b); });
    // A claim written to a retailer's shard and to its unsharded key (while both are written) is one entry.
    merged.erase(std::unique(merged.begin(), merged.end(),
                             [](const IndexEntry& a, const IndexEntry& b) {
                               return a.score == b.score && a.claim_id == b.claim_id;
                             }),
                 merged.end());
    if (merged.size() > count) {
      merged.resize(count);
      full = true;
    }
    if (merged.empty()) return NextDay();
    Read(std::move(merged), full);
  }

  // The claims of the candidates, in batches per buyer slot (buyer_list expires what is due, as Get does).
  void Read(std::vector<IndexEntry> candidates, bool full) {
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
      std::vector<std::string> ids;
      for (size_t i : members[t]) ids.push_back(candidates[i].claim_id);
      steps.push_back([core = core_, keys = core_->keys.Buyer(tags[t]),
                       args = scripts::ListArgs(request_.now, ids),
                       deadline = deadline_](ReplyCallback done) mutable {
        core->Read(scripts::Get().buyer_list, std::move(keys), std::move(args), deadline, std::move(done));
      });
    }
    All(std::move(steps), [self = shared_from_this(), candidates = std::move(candidates), members,
                           full](std::vector<Reply> replies) mutable {
      std::vector<std::optional<ClaimRecord>> records(candidates.size());
      for (size_t t = 0; t < replies.size(); ++t) {
        absl::StatusOr<std::vector<std::optional<ClaimRecord>>> claims =
            scripts::ParseListReply(replies[t], members[t].size());
        if (!claims.ok()) return self->answer_(claims.status());
        for (size_t k = 0; k < members[t].size(); ++k) records[members[t][k]] = std::move((*claims)[k]);
      }
      self->Take(std::move(candidates), std::move(records), full);
    });
  }

  void Take(std::vector<IndexEntry> candidates, std::vector<std::optional<ClaimRecord>> records, bool full) {
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
  absl::CivilDay day_;
  std::optional<IndexEntry> position_;  // the last entry looked at, in day_
  ClaimPage page_;
};

}  // namespace

void StartListClaims(CorePtr core, ClaimPageRequest request, absl::Time deadline,
                     QuotaStore::Callback<ClaimPage> done) {
  std::make_shared<ListCall>(std::move(core), std::move(request), deadline, std::move(done))->Start();
}

}  // namespace tradein::quota::redis_quota_internal
