// -----------------------------------------------------------------------------
// File: expiry_memo.h
// -----------------------------------------------------------------------------
//
// ExpiryMemo remembers which listing index keys this instance has given their TTL (internal to
// services/quota/redis), so that a claim sends the index's PEXPIRE only when no claim of this instance sent
// it lately. An index key's TTL is the end of its day plus the retention whichever claim sets it, so every
// PEXPIRE after the first sets the same deadline again: one per key every `refresh` is enough. The memo
// forgets a key after `refresh` (the store uses 10 minutes), so a key that lost its TTL — deleted by hand and
// re-created by the next claim's ZADD, or lost with a master's unreplicated writes — gets one back within
// that time. A TTL is only garbage collection (docs/quota-ledger.md, "Keys"): nothing depends on it but
// memory.
//
//   ExpiryMemo memo(absl::Minutes(10));
//   if (memo.ShouldSet(index_key, absl::Now())) commands.push_back({"PEXPIRE", index_key, ttl});
//   ...
//   if (the PEXPIRE failed) memo.Forget(index_key);
//
// Memory: one entry per index key set within `refresh` (the day's 16 shards and 8 per retailer and day, plus
// one per retailer with the legacy index); entries older than `refresh` are dropped as the memo grows.
//
// Thread safety: every method may be called from any thread.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_EXPIRY_MEMO_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_EXPIRY_MEMO_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tradein::quota::redis_quota_internal {

class ExpiryMemo {
 public:
  explicit ExpiryMemo(absl::Duration refresh) : refresh_(refresh) {}

  // True when `key`'s TTL should be sent now: no call marked it within `refresh` before `now` (the real
  // clock: Redis counts a TTL in its own time). True also marks it, so that concurrent claims send it once.
  bool ShouldSet(const std::string& key, absl::Time now);
  // The PEXPIRE marked by ShouldSet did not run: the next claim sends it again.
  void Forget(const std::string& key);

 private:
  // Drops the entries older than `refresh` once the memo has doubled since the last pass.
  void DropStale(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration refresh_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> set_at_ ABSL_GUARDED_BY(mu_);
  size_t size_after_last_pass_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tradein::quota::redis_quota_internal

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_EXPIRY_MEMO_H_
