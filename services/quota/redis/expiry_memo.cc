#include "services/quota/redis/expiry_memo.h"

#include <algorithm>

namespace tradein::quota::redis_quota_internal {
namespace {
// The memo is not pruned below this many entries (a day's 16 shards and a few hundred retailers).
constexpr size_t kMinEntriesBeforePruning = 1024;
}  // namespace

bool ExpiryMemo::ShouldSet(const std::string& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  const auto [it, added] = set_at_.try_emplace(key, now);
  if (!added) {
    if (now - it->second < refresh_) return false;
    it->second = now;
    return true;
  }
  DropStale(now);
  return true;
}

void ExpiryMemo::Forget(const std::string& key) {
  absl::MutexLock lock(&mu_);
  set_at_.erase(key);
}

void ExpiryMemo::DropStale(absl::Time now) {
  if (set_at_.size() < std::max(kMinEntriesBeforePruning, 2 * size_after_last_pass_)) return;
  absl::erase_if(set_at_, [&](const auto& entry) { return now - entry.second >= refresh_; });
  size_after_last_pass_ = set_at_.size();
}

}  // namespace tradein::quota::redis_quota_internal
