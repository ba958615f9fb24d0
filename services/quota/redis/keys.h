// -----------------------------------------------------------------------------
// File: keys.h
// -----------------------------------------------------------------------------
//
// The names of RedisQuotaStore's keys (docs/quota-ledger.md, "Keys"), in one place. Every key of one owner
// shares a Redis Cluster hash tag ("{...}"), so the scripts about it run in one slot; id parts are %-escaped
// (':', '{',
// '}', '%' → %3A %7B %7D %25) so that no two owners share a name and no id can cut a hash tag short. Only
// keyed hashes appear in them, never a raw buyer id, home, VIN or serial number. Public for tests, operators
// and tools.
//
// Thread safety: immutable.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_KEYS_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_KEYS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/quota/quota_store.h"

namespace tradein::quota {

class RedisQuotaKeys {
 public:
  static constexpr int kDueShards = 16;
  static constexpr int kIndexShards = 16;
  // A retailer's day is spread over this many slots, so that a national chain's day is not one slot's work.
  static constexpr int kRetailerIndexShards = 8;

  explicit RedisQuotaKeys(std::string prefix) : prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }

  // Buyer slot: claims, counters, holds, ledger (the KEYS of every buyer script, in that order).
  std::vector<std::string> Buyer(absl::string_view tag) const;
  // The field of a counter in the buyer's counters hash.
  static std::string CounterField(absl::string_view buyer_key, absl::string_view programme,
                                  absl::string_view field);
  std::string Request(absl::string_view retailer_id, absl::string_view request_id) const;
  std::string Once(const OnceKey& once) const;
  // The budget's hash; its holds zset is the same name + "h".
  std::string Budget(absl::string_view programme, absl::string_view budget_id) const;
  static std::string BudgetHolds(absl::string_view budget_key) { return std::string(budget_key) + "h"; }
  // A budget's shard (RedisQuotaStoreOptions::budget_shards): a budget hash of its own slot,
  // {g:<programme>:<budget>:<suffix>}, whose room is what the budget leased it.
  static std::string BudgetShard(absl::string_view budget_key, absl::string_view suffix);
  // The suffix of the k-th of `shards` shards: the smallest number whose shard key's slot falls in the k-th
  // of `shards` equal parts of the 16,384 slots, so that the shards spread over a cluster's masters (which
  // own such ranges); the same on every instance.
  static std::string BudgetShardSuffix(absl::string_view budget_key, int k, int shards);
  // The shard a claim allocates on, of `shards`.
  static int BudgetShardOf(absl::string_view claim_id, int shards);
  std::string Due(int shard) const;
  static int DueShard(absl::string_view claim_id);
  // A confirmed unit's serial number; true for the names Serial() makes.
  std::string Serial(const SerialKey& serial) const;
  static bool IsSerial(absl::string_view key);
  // The listing indexes: claims created on a China day, in one of 16 shards / of one retailer (in one of 8
  // shards; the unsharded name is the layout before 2026-12, still read).
  std::string DayIndex(absl::CivilDay day, int shard) const;
  static int IndexShard(absl::string_view claim_id) { return DueShard(claim_id); }
  std::string RetailerDayIndex(absl::string_view retailer_id, absl::CivilDay day, int shard) const;
  static int RetailerIndexShard(absl::string_view claim_id) {
    return DueShard(claim_id) % kRetailerIndexShards;
  }
  std::string LegacyRetailerDayIndex(absl::string_view retailer_id, absl::CivilDay day) const;

  // Not ledger keys: the instances sharing this ledger (services/server/instance_registry.h), in one slot —
  // their heartbeats (hash: instance id → report), when each expires (zset: id → unix ms) and the reload
  // generation (hash field "g").
  std::string Instances() const { return prefix_ + "{instances}:hb"; }
  std::string InstanceExpiry() const { return prefix_ + "{instances}:hbx"; }
  std::string ReloadGeneration() const { return prefix_ + "{instances}:reload"; }

 private:
  std::string prefix_;
};

}  // namespace tradein::quota

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_KEYS_H_
