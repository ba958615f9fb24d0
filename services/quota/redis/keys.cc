#include "services/quota/redis/keys.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/civil_date.h"
#include "common/fnv1a.h"
#include "services/redis/cluster_slots.h"

namespace tradein::quota {
namespace {

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

}  // namespace

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

std::string RedisQuotaKeys::BudgetShard(absl::string_view budget_key, absl::string_view suffix) {
  const size_t close = budget_key.rfind('}');
  return absl::StrCat(budget_key.substr(0, close), ":", suffix, budget_key.substr(close));
}

std::string RedisQuotaKeys::BudgetShardSuffix(absl::string_view budget_key, int k, int shards) {
  const int first = k * redis::kClusterSlots / shards, end = (k + 1) * redis::kClusterSlots / shards;
  for (int n = 0; n < 256 * shards; ++n) {
    const std::string suffix = absl::StrCat(n);
    const int slot = redis::KeySlot(BudgetShard(budget_key, suffix));
    if (slot >= first && slot < end) return suffix;
  }
  return absl::StrCat(k);  // not reached for shards ≤ 64 (each try lands in the part with 1/shards)
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

std::string RedisQuotaKeys::RetailerDayIndex(absl::string_view retailer_id, absl::CivilDay day,
                                             int shard) const {
  return absl::StrCat(prefix_, "{rd:", Escape(retailer_id), ":", FormatCivilDay(day), ":", shard, "}:cd");
}

std::string RedisQuotaKeys::LegacyRetailerDayIndex(absl::string_view retailer_id, absl::CivilDay day) const {
  return absl::StrCat(prefix_, "{rd:", Escape(retailer_id), ":", FormatCivilDay(day), "}:cd");
}

int RedisQuotaKeys::BudgetShardOf(absl::string_view claim_id, int shards) {
  return static_cast<int>(Fnv1a32(claim_id) % static_cast<uint32_t>(shards));
}

int RedisQuotaKeys::DueShard(absl::string_view claim_id) {
  return static_cast<int>(Fnv1a32(claim_id) % static_cast<uint32_t>(kDueShards));
}

}  // namespace tradein::quota
