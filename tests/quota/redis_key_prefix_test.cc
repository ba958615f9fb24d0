// --redis_key_prefix (issue 12): a prefix "tq:NAME:" puts every key RedisQuotaKeys builds — the ledger's and
// the instance registry's — under it, and keeps each key's Redis Cluster hash tag, so a key lives in the same
// slot with and without it (what the Cluster client routes by).
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/quota/redis/keys.h"
#include "services/redis/cluster_slots.h"

namespace tradein::quota {
namespace {

// Every kind of key, named by `keys`.
std::vector<std::string> EveryKey(const RedisQuotaKeys& keys) {
  std::vector<std::string> out = keys.Buyer("ab12cd34");
  const absl::CivilDay day(2025, 6, 1);
  const std::string budget = keys.Budget("cn-2025", "national");
  out.insert(out.end(),
             {keys.Request("shop:1", "req{1}"), keys.Once({"zj-2025", "renovation", "ab12", {}}), budget,
              RedisQuotaKeys::BudgetHolds(budget), keys.Due(7), keys.Serial({"", "cd34ef", "1", "f"}),
              keys.DayIndex(day, 3), keys.RetailerDayIndex("big:chain", day, 5),
              keys.LegacyRetailerDayIndex("big:chain", day), keys.Instances(), keys.InstanceExpiry(),
              keys.ReloadGeneration()});
  return out;
}

// The hash tag: what is between the first '{' and the next '}'.
std::string TagOf(const std::string& key) {
  const size_t open = key.find('{');
  const size_t close = key.find('}', open);
  return open == std::string::npos || close == std::string::npos ? ""
                                                                 : key.substr(open + 1, close - open - 1);
}

TEST(RedisKeyPrefixTest, EveryKeyCarriesThePrefixAndKeepsItsSlot) {
  const std::vector<std::string> plain = EveryKey(RedisQuotaKeys("tq:"));
  const std::vector<std::string> prefixed = EveryKey(RedisQuotaKeys("tq:rehearsal-2025:"));
  ASSERT_EQ(plain.size(), prefixed.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    SCOPED_TRACE(prefixed[i]);
    EXPECT_TRUE(absl::StartsWith(prefixed[i], "tq:rehearsal-2025:{"));
    EXPECT_EQ(prefixed[i], absl::StrCat("tq:rehearsal-2025:", plain[i].substr(3)))
        << "only the prefix differs";
    EXPECT_FALSE(TagOf(prefixed[i]).empty()) << "every key has a hash tag";
    EXPECT_EQ(TagOf(prefixed[i]), TagOf(plain[i]));
    EXPECT_EQ(redis::KeySlot(prefixed[i]), redis::KeySlot(plain[i]));
  }
  // The instance registry's keys share one slot (one script writes them).
  const RedisQuotaKeys keys("tq:x:");
  EXPECT_EQ(redis::KeySlot(keys.Instances()), redis::KeySlot(keys.InstanceExpiry()));
  EXPECT_EQ(redis::KeySlot(keys.Instances()), redis::KeySlot(keys.ReloadGeneration()));
}

}  // namespace
}  // namespace tradein::quota
