// What only RedisQuotaStore has to prove (the shared contract suite and the model test cover the rest): its
// key layout and hash slots, a real 3-node Redis Cluster, script-cache flushes, a paused, stopped and killed
// server, instances that die between steps, and races between many concurrent calls from several instances.
#include "services/quota/redis_quota_store.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/quota/memory_quota_store.h"
#include "services/quota/msgpack.h"
#include "services/quota/redis/script_sources.h"
#include "services/quota/redis/scripts.h"
#include "services/redis/cluster_client.h"
#include "services/redis/cluster_slots.h"
#include "services/redis/redis_client.h"
#include "tests/quota/alternating_store.h"
#include "tests/quota/quota_store_contract.h"
#include "tests/testing/redis_cluster.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"

namespace tradein::quota::testing {
namespace {

using pricing::ReasonCode;
using redis::RedisClient;
using redis::RedisValue;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::tradein::testing::IsOk;
using ::tradein::testing::RedisServer;
using ::tradein::testing::RedisServerOptions;
using ::tradein::testing::StatusIs;

// Sanity bound on waits for things that normally take milliseconds; never a timing assertion.
constexpr absl::Duration kLimit = absl::Seconds(30);
constexpr int64_t kFen = 100000;

const absl::Time kT0 = absl::FromCivil(absl::CivilSecond(2025, 6, 1, 10, 0, 0), absl::UTCTimeZone());

using redis::KeySlot;  // Redis Cluster's key slot (services/redis/cluster_slots.h)

// The hash tag of a key ("" when it has none).
std::string HashTag(absl::string_view key) {
  const size_t open = key.find('{');
  const size_t close = open == absl::string_view::npos ? open : key.find('}', open + 1);
  if (close == absl::string_view::npos || close == open + 1) return "";
  return std::string(key.substr(open + 1, close - open - 1));
}

bool Eventually(const std::function<bool()>& condition) {
  const absl::Time limit = absl::Now() + kLimit;
  while (absl::Now() < limit) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return condition();
}

redis::RedisOptions ClientOptions(const RedisServer& server) {
  absl::StatusOr<redis::RedisOptions> options = redis::ParseRedisUrl(server.url());
  EXPECT_THAT(options, IsOk());
  options->reconnect_backoff_max = absl::Milliseconds(200);
  return *options;
}

std::unique_ptr<RedisClient> Connect(const redis::RedisOptions& options) {
  absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
  EXPECT_THAT(client, IsOk());
  if (!client.ok()) return nullptr;
  EXPECT_TRUE((*client)->WaitForConnection(absl::Now() + kLimit));
  return *std::move(client);
}

absl::StatusOr<ClaimRecord> ReserveBy(QuotaStore& store, const ReserveRequest& request, absl::Time deadline) {
  return Await<ClaimRecord>(
      [&](QuotaStore::Callback<ClaimRecord> done) { store.Reserve(request, deadline, std::move(done)); });
}

absl::StatusOr<bool> PingOf(QuotaStore& store) {
  return Await<bool>(
      [&](QuotaStore::Callback<bool> done) { store.Ping(absl::Now() + absl::Seconds(5), std::move(done)); });
}

// Runs every request at once: `threads` threads each fire their share (round-robin over `stores`, so
// several instances race) without waiting, then the answers are collected.
std::vector<absl::StatusOr<ClaimRecord>> ReserveConcurrently(const std::vector<QuotaStore*>& stores,
                                                             const std::vector<ReserveRequest>& requests,
                                                             int threads) {
  std::vector<absl::StatusOr<ClaimRecord>> results(requests.size(), absl::UnknownError("no answer"));
  absl::Mutex mu;
  absl::BlockingCounter left(static_cast<int>(requests.size()));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < requests.size(); i += static_cast<size_t>(threads)) {
        stores[i % stores.size()]->Reserve(requests[i], absl::Now() + kLimit,
                                           [&, i](absl::StatusOr<ClaimRecord> result) {
                                             {
                                               absl::MutexLock lock(&mu);
                                               results[i] = std::move(result);
                                             }
                                             left.DecrementCount();
                                           });
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  left.Wait();
  return results;
}

class RedisQuotaStoreTest : public ::testing::Test {
 protected:
  void StartServer(const RedisServerOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    client_ = Connect(ClientOptions(*server_));
    ASSERT_NE(client_, nullptr);
  }

  std::unique_ptr<RedisQuotaStore> MakeStore(RedisQuotaStoreOptions options = {}) {
    options.key_prefix = "tq:";
    return std::make_unique<RedisQuotaStore>(*client_, std::move(options));
  }

  // A store on an emptied Redis, with or without full grants (RedisQuotaStoreOptions::full_grants).
  std::unique_ptr<RedisQuotaStore> EmptyStore(bool full_grants) {
    EXPECT_THAT(server_->Run({"FLUSHALL"}), IsOk());
    RedisQuotaStoreOptions options;
    options.full_grants = full_grants;
    return MakeStore(std::move(options));
  }

  // A store whose calls ask `crash(step)` before each protocol step and die there when it says true.
  template <typename Predicate>
  std::unique_ptr<RedisQuotaStore> MakeCrashingStore(Predicate crash, RedisQuotaStoreOptions options = {}) {
    gates_.push_back(std::make_unique<CrashGate<Predicate>>(std::move(crash)));
    options.step_gate = gates_.back().get();
    return MakeStore(std::move(options));
  }

  std::vector<std::string> AllKeys() const {
    absl::StatusOr<RedisValue> keys = server_->Run({"KEYS", "tq:*"});
    EXPECT_THAT(keys, IsOk());
    std::vector<std::string> out;
    if (keys.ok()) {
      for (const RedisValue& key : keys->elements()) out.push_back(key.str());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::unique_ptr<StepGate>> gates_;  // outlive the stores (declared first, destroyed last)
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisClient> client_;
};

// ---------------------------------------------------------------------------------------------------------
// Key layout and slots

TEST(RedisQuotaKeysTest, EachOwnersKeysShareOneSlotAndNamesAreUnambiguous) {
  const RedisQuotaKeys keys("tq:");
  const BuyerRef buyer = TestBuyer(7);
  const std::vector<std::string> buyer_keys = keys.Buyer(buyer.tag);
  ASSERT_THAT(buyer_keys, SizeIs(4));
  for (const std::string& key : buyer_keys) {
    EXPECT_EQ(KeySlot(key), KeySlot(buyer_keys[0])) << key;
    EXPECT_EQ(HashTag(key), absl::StrCat("b:", buyer.tag)) << key;
    // The buyer's keyed hash is not in the key names (its tag is 32 bits of it).
    EXPECT_FALSE(absl::StrContains(key, buyer.key)) << key;
  }
  // A claim id routes to its buyer's slot.
  const std::string claim_id = ClaimIdFor(buyer, std::string(64, 'c'));
  EXPECT_EQ(keys.Buyer(TagOfClaimId(claim_id)), buyer_keys);

  const std::string budget = keys.Budget("cn-2025", "national");
  EXPECT_EQ(budget, "tq:{g:cn-2025:national}:g");
  EXPECT_EQ(KeySlot(RedisQuotaKeys::BudgetHolds(budget)), KeySlot(budget));
  EXPECT_EQ(keys.Once(Home("ab12")), "tq:{o:prog:renovation:ab}:o:ab12");

  // Ids with ':' or braces cannot make two requests share a key, or break the hash tag.
  EXPECT_NE(keys.Request("a:b", "c"), keys.Request("a", "b:c"));
  EXPECT_EQ(HashTag(keys.Request("shop}", "r{1")), "r:shop%7D:r%7B1");

  // One retailer's request ids spread over slots (a national chain is not one hot slot).
  std::set<int> slots;
  for (int i = 0; i < 200; ++i) slots.insert(KeySlot(keys.Request("big-chain", absl::StrCat("req-", i))));
  EXPECT_GT(slots.size(), 150u);
  // So do the 16 due shards.
  std::set<int> due_slots;
  for (int n = 0; n < RedisQuotaKeys::kDueShards; ++n) due_slots.insert(KeySlot(keys.Due(n)));
  EXPECT_EQ(due_slots.size(), 16u);

  // Serial numbers: one programme-wide namespace ("" = one device, one subsidy), spread by their first two
  // hex.
  const SerialKey serial{"", "ab34ef", "line", "lineSerials[0].serialNumbers[0]"};
  EXPECT_EQ(keys.Serial(serial), "tq:{s::ab}:s:ab34ef");
  EXPECT_TRUE(RedisQuotaKeys::IsSerial(keys.Serial(serial)));
  EXPECT_FALSE(RedisQuotaKeys::IsSerial(keys.Once(Home("ab12"))));
  EXPECT_NE(KeySlot(keys.Serial(serial)), KeySlot(keys.Serial({"", "cd34ef", "", ""})));

  // The listing indexes: a day's 16 shards in 16 slots, days apart, and a retailer's day in 8 slots of its
  // own (and its unsharded key of before 2026-12).
  const absl::CivilDay day(2025, 6, 1);
  EXPECT_EQ(keys.DayIndex(day, 3), "tq:{d:2025-06-01:3}:cd");
  EXPECT_EQ(keys.RetailerDayIndex("big:chain", day, 5), "tq:{rd:big%3Achain:2025-06-01:5}:cd");
  EXPECT_EQ(keys.LegacyRetailerDayIndex("big:chain", day), "tq:{rd:big%3Achain:2025-06-01}:cd");
  std::set<int> index_slots;
  for (int n = 0; n < RedisQuotaKeys::kIndexShards; ++n) {
    index_slots.insert(KeySlot(keys.DayIndex(day, n)));
    index_slots.insert(KeySlot(keys.DayIndex(day + 1, n)));
  }
  EXPECT_GT(index_slots.size(), 30u);
  EXPECT_EQ(RedisQuotaKeys::IndexShard(claim_id), RedisQuotaKeys::DueShard(claim_id));
  EXPECT_NE(keys.RetailerDayIndex("a:b", day, 0), keys.RetailerDayIndex("a", day, 0));
  std::set<int> retailer_slots;
  for (int n = 0; n < RedisQuotaKeys::kRetailerIndexShards; ++n) {
    retailer_slots.insert(KeySlot(keys.RetailerDayIndex("national-chain", day, n)));
  }
  EXPECT_EQ(retailer_slots.size(), static_cast<size_t>(RedisQuotaKeys::kRetailerIndexShards))
      << "a chain's day is spread over slots";
}

// A budget's shards: budget keys of their own slots, the k-th of n in the k-th n-th of the slot space (where
// a cluster of n masters, or of a divisor of n, has a different master for each part), the same on every
// instance; a claim's shard is a function of its id.
TEST(RedisQuotaKeysTest, ABudgetsShardsSpreadOverTheSlotSpaceInEqualParts) {
  const RedisQuotaKeys keys("tq:");
  const std::string budget = keys.Budget("cn-2026", "national");
  const std::string suffix = RedisQuotaKeys::BudgetShardSuffix(budget, 1, 3);
  EXPECT_EQ(RedisQuotaKeys::BudgetShard(budget, suffix),
            absl::StrCat("tq:{g:cn-2026:national:", suffix, "}:g"));
  for (int n : {2, 3, 6, 16, 64}) {
    std::set<std::string> suffixes;
    for (int k = 0; k < n; ++k) {
      const std::string shard =
          RedisQuotaKeys::BudgetShard(budget, RedisQuotaKeys::BudgetShardSuffix(budget, k, n));
      suffixes.insert(shard);
      EXPECT_GE(KeySlot(shard), k * redis::kClusterSlots / n) << n << " shards, #" << k;
      EXPECT_LT(KeySlot(shard), (k + 1) * redis::kClusterSlots / n) << n << " shards, #" << k;
      EXPECT_EQ(KeySlot(RedisQuotaKeys::BudgetHolds(shard)), KeySlot(shard));
    }
    EXPECT_EQ(suffixes.size(), static_cast<size_t>(n));
  }
  // A shard of one budget is never another budget's key (the escaped ':' keeps them apart).
  EXPECT_NE(RedisQuotaKeys::BudgetShard(keys.Budget("p", "b"), "1"), keys.Budget("p", "b:1"));
  std::map<int, int> claims_per_shard;
  for (int i = 0; i < 400; ++i)
    ++claims_per_shard[RedisQuotaKeys::BudgetShardOf(absl::StrCat("claim-", i), 4)];
  EXPECT_THAT(claims_per_shard, SizeIs(4));
  for (const auto& [shard, count] : claims_per_shard) EXPECT_GT(count, 60) << "claims on shard " << shard;
}

// Every redis.call in every script names a key the script declared (KEYS, through the names its prelude
// gives them): together with the cluster test below, no script touches a key outside its one slot.
TEST(RedisQuotaScriptsTest, EveryKeyAScriptTouchesIsDeclared) {
  namespace source = scripts::source;
  const std::vector<std::pair<std::string, const char*>> sources = {
      {"buyer_reserve", source::kBuyerReserve},
      {"buyer_confirm", source::kBuyerConfirm},
      {"buyer_cancel", source::kBuyerCancel},
      {"buyer_refund", source::kBuyerRefund},
      {"buyer_void", source::kBuyerVoid},
      {"buyer_correct", source::kBuyerCorrect},
      {"buyer_get", source::kBuyerGet},
      {"buyer_sweep", source::kBuyerSweep},
      {"buyer_list", source::kBuyerList},
      {"buyer_usage", source::kBuyerUsage},
      {"once_take", source::kOnceTake},
      {"once_settle", source::kOnceSettle},
      {"budget_alloc", source::kBudgetAlloc},
      {"budget_settle", source::kBudgetSettle},
      {"budget_used", source::kBudgetUsed},
      {"budget_lease", source::kBudgetLease},
      {"budget_giveback", source::kBudgetGiveback},
      {"budget_returned", source::kBudgetReturned},
      {"due_settle", source::kDueSettle},
      {"index_range", source::kIndexRange},
      {"ping", source::kPing}};
  const std::set<std::string> declared = {"CLAIMS", "COUNTERS",     "HOLDS",  "LEDGER",
                                          "BUDGET", "BUDGET_HOLDS", "KEYS[1]"};
  const std::regex call(R"(redis\.call\('([A-Z]+)',\s*([^,)]+))");
  int calls = 0;
  for (const auto& [name, source] : sources) {
    const std::string text(source);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), call); it != std::sregex_iterator(); ++it) {
      ++calls;
      EXPECT_TRUE(declared.contains((*it)[2].str())) << name << ": " << it->str();
    }
    EXPECT_FALSE(absl::StrContains(text, "'TIME'")) << name << " must decide with the caller's now";
  }
  EXPECT_GT(calls, 50);
}

// A listing index key gets its TTL from the first claim of this instance that writes it: the claims after it
// would set the same deadline again, so they send no PEXPIRE for it (ExpiryMemo), and a day's claims send a
// few dozen, not three each.
TEST_F(RedisQuotaStoreTest, AnIndexKeysTtlIsSentOnceByAnInstance) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  auto pexpires_sent = [&] {
    const absl::StatusOr<RedisValue> info = server_->Run({"INFO", "commandstats"});
    int64_t calls = 0;
    if (info.ok()) {
      const std::string& text = info->str();
      const size_t at = text.find("cmdstat_pexpire:calls=");
      if (at != std::string::npos) calls = std::stoll(text.substr(at + 22));
    }
    return calls;
  };
  const int64_t before = pexpires_sent();
  for (int i = 0; i < 40; ++i) {
    const ReserveRequest request =
        ReserveBuilder(TestBuyer(10 + i), "shop", absl::StrCat("r", i), kT0).Line("1", 1, kFen).Build();
    ASSERT_EQ(sync.Reserve(request)->state, ClaimState::kReserved);
  }
  const absl::StatusOr<RedisValue> indexes = server_->Run({"KEYS", "*:cd"});
  ASSERT_THAT(indexes, IsOk());
  // The day's shards, the retailer's and its legacy key: fewer keys than claims.
  ASSERT_GT(indexes->elements().size(), 8u);
  ASSERT_LT(indexes->elements().size(), 40u);
  for (const RedisValue& index : indexes->elements()) {
    const absl::StatusOr<RedisValue> ttl = server_->Run({"PTTL", index.str()});
    ASSERT_THAT(ttl, IsOk());
    EXPECT_GT(ttl->integer(), absl::ToInt64Milliseconds(absl::Hours(400 * 24))) << index.str();
  }
  // One per key, and again for a key whose first PEXPIRE ran before its ZADD (on another connection).
  const int64_t sent = pexpires_sent() - before;
  EXPECT_GE(sent, static_cast<int64_t>(indexes->elements().size()));
  EXPECT_LT(sent, 40) << "three a claim before";
}

TEST_F(RedisQuotaStoreTest, AScenarioCreatesOnlyKeysOfItsOwnersSlots) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  const BuyerRef buyer = TestBuyer(1);
  const ClaimRecord claim =
      *sync.Reserve(ReserveBuilder(buyer, "shop", "r1", kT0)
                        .Line("1", 1, kFen, {Units("fridge", 1)}, {Home("h1")}, {Budget("b", 10 * kFen)})
                        .Build());
  ASSERT_EQ(claim.state, ClaimState::kReserved);
  ASSERT_THAT(sync.ConfirmWith(claim.claim_id, kT0, {Serial("f00d1", "1")}), IsOk());
  ASSERT_THAT(sync.Correct({claim.claim_id, "c", "fc", {{"1", kFen / 2}}, kT0}), IsOk());
  ASSERT_THAT(sync.Refund({claim.claim_id, "", "rf", "fp", {}, kT0}), IsOk());
  const ClaimRecord second =
      *sync.Reserve(ReserveBuilder(TestBuyer(2), "shop", "r2", kT0).Line("1", 1, kFen).Build());
  ASSERT_THAT(sync.ConfirmWith(second.claim_id, kT0, {Serial("f00d2", "1")}), IsOk());
  ASSERT_THAT(sync.Void({second.claim_id, "v", "fv", kT0}), IsOk());
  const ClaimRecord third =
      *sync.Reserve(ReserveBuilder(TestBuyer(3), "mall", "r3", kT0).Line("1", 1, kFen).Build());
  ASSERT_THAT(sync.ConfirmWith(third.claim_id, kT0, {Serial("f00d3", "1")}), IsOk());
  ClaimPageRequest page;
  page.first_day = page.last_day = absl::CivilDay(2025, 6, 1);
  page.now = kT0;
  page.retailer_id = "shop";
  ASSERT_EQ(sync.List(page)->entries.size(), 2u);

  const std::vector<std::string> keys = AllKeys();
  std::map<std::string, std::set<int>> slots_by_tag;
  for (const std::string& key : keys) {
    const std::string tag = HashTag(key);
    ASSERT_FALSE(tag.empty()) << key << " has no hash tag";
    slots_by_tag[tag].insert(KeySlot(key));
    EXPECT_FALSE(absl::StrContains(key, buyer.key)) << key;
  }
  for (const auto& [tag, slots] : slots_by_tag) EXPECT_THAT(slots, SizeIs(1)) << tag;
  // Both buyers' slots, a retailer request per request, the home, the budget and due shards.
  EXPECT_TRUE(slots_by_tag.contains(absl::StrCat("b:", buyer.tag)));
  EXPECT_TRUE(slots_by_tag.contains(absl::StrCat("b:", TestBuyer(2).tag)));
  EXPECT_TRUE(slots_by_tag.contains("r:shop:r1"));
  EXPECT_TRUE(slots_by_tag.contains("g:prog:b"));
  // The listing indexes of the day (the claims' shards and the retailer's) and the serials.
  EXPECT_TRUE(
      slots_by_tag.contains(absl::StrCat("d:2025-06-01:", RedisQuotaKeys::IndexShard(claim.claim_id))));
  EXPECT_TRUE(slots_by_tag.contains(
      absl::StrCat("rd:shop:2025-06-01:", RedisQuotaKeys::RetailerIndexShard(claim.claim_id))));
  EXPECT_TRUE(slots_by_tag.contains("rd:shop:2025-06-01")) << "written while legacy_retailer_index is on";
  EXPECT_TRUE(slots_by_tag.contains("s::f0"));  // the third claim's serial
  EXPECT_THAT(server_->Run({"GET", store->keys().Serial(Serial("f00d3", "1"))}),
              ::tradein::testing::IsOkAndHolds(RedisValue::String(absl::StrCat(third.claim_id, "|0"))));
  // The second claim's serial was let go by its void, the first's by its refund.
  EXPECT_THAT(server_->Run({"EXISTS", store->keys().Serial(Serial("f00d1", "1"))}),
              ::tradein::testing::IsOkAndHolds(RedisValue::Integer(0)));
  EXPECT_THAT(server_->Run({"EXISTS", store->keys().Serial(Serial("f00d2", "1"))}),
              ::tradein::testing::IsOkAndHolds(RedisValue::Integer(0)));
  // Index keys live a retention past their day (400 days by default), not forever.
  const absl::StatusOr<RedisValue> ttl = server_->Run(
      {"PTTL", store->keys().RetailerDayIndex("shop", absl::CivilDay(2025, 6, 1),
                                              RedisQuotaKeys::RetailerIndexShard(claim.claim_id))});
  ASSERT_THAT(ttl, IsOk());
  EXPECT_GT(ttl->integer(), absl::ToInt64Milliseconds(absl::Hours(400 * 24)));
  EXPECT_LE(ttl->integer(), absl::ToInt64Milliseconds(absl::Hours(401 * 24)));
  // The refunded claim let the home go (refunds restore quota in the builder's default).
  EXPECT_THAT(server_->Run({"EXISTS", store->keys().Once(Home("h1"))}),
              ::tradein::testing::IsOkAndHolds(RedisValue::Integer(0)));

  // The ledger has one line per money event of the buyer, with keyed hashes only.
  absl::StatusOr<RedisValue> ledger = server_->Run({"LRANGE", store->keys().Buyer(buyer.tag)[3], "0", "-1"});
  ASSERT_THAT(ledger, IsOk());
  std::vector<std::string> events;
  for (const RedisValue& line : ledger->elements()) {
    for (absl::string_view event : {"reserve", "confirm", "correct", "refund"}) {
      if (absl::StrContains(line.str(), absl::StrCat("\"event\":\"", event, "\"")))
        events.push_back(std::string(event));
    }
  }
  EXPECT_EQ(events, (std::vector<std::string>{"reserve", "confirm", "correct", "refund"}));
  absl::StatusOr<RedisValue> second_ledger =
      server_->Run({"LRANGE", store->keys().Buyer(TestBuyer(2).tag)[3], "0", "-1"});
  ASSERT_THAT(second_ledger, IsOk());
  ASSERT_EQ(second_ledger->elements().size(), 3u);
  EXPECT_TRUE(absl::StrContains(second_ledger->elements()[2].str(), "\"event\":\"void\""));
}

TEST_F(RedisQuotaStoreTest, DraftsAreOpaqueBytesAndTimesKeepNanoseconds) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  constexpr char kDraftBytes[] = "\0\xff{}|\r\n\x80 draft";
  const std::string draft(kDraftBytes, sizeof(kDraftBytes) - 1);  // every byte, the leading NUL too
  const absl::Time now = kT0 + absl::Nanoseconds(123456789);
  ReserveRequest request = ReserveBuilder(TestBuyer(1), "shop", "r1", now)
                               .Line("1", 1, kFen, {Units("a", 1)})
                               .Draft(draft)
                               .Build();
  request.expires_at = now + absl::Minutes(30) + absl::Nanoseconds(1);
  const ClaimRecord claim = *sync.Reserve(request);
  EXPECT_EQ(claim.draft, draft);
  EXPECT_EQ(claim.created_at, now);
  EXPECT_EQ(claim.expires_at, request.expires_at);
  // One nanosecond before the hold ends the claim is still held, at its end it is not.
  EXPECT_EQ(sync.Get(claim.claim_id, request.expires_at - absl::Nanoseconds(1))->state,
            ClaimState::kReserved);
  EXPECT_EQ(sync.Get(claim.claim_id, request.expires_at)->state, ClaimState::kExpired);
  EXPECT_EQ(sync.Get(claim.claim_id, request.expires_at)->updated_at, request.expires_at);
}

// ---------------------------------------------------------------------------------------------------------
// Randomised: what the model test's workload does not reach (lines on two budgets at once, homes shared by
// lines of one claim, old cars, partial refunds by line, retries later in time), every answer compared in
// full.

std::string Full(const absl::StatusOr<ClaimRecord>& r) {
  if (!r.ok())
    return absl::StrCat("error ", static_cast<int>(r.status().code()), " ", ErrorReason(r.status()));
  std::string out =
      absl::StrCat(r->claim_id, " st=", static_cast<int>(r->state), " rp=", r->replayed,
                   " cr=", absl::FormatTime(r->created_at), " up=", absl::FormatTime(r->updated_at),
                   " ex=", absl::FormatTime(r->expires_at), " rt=", r->retailer_id, " rq=", r->request_id,
                   " d=", r->draft, " k=", r->confirmation, " ch=", r->last_change_fen);
  for (size_t i = 0; i < r->grants.size(); ++i) {
    absl::StrAppend(&out, " [", r->grants[i].units, "u ", r->grants[i].fen, "f r",
                    r->grants[i].reasons.bits(), " -", r->refunds[i].units, "u ", r->refunds[i].fen, "f]");
  }
  return out;
}

template <typename T>
std::string Values(const absl::StatusOr<std::vector<T>>& r) {
  if (!r.ok()) return absl::StrCat("error ", static_cast<int>(r.status().code()));
  return absl::StrJoin(*r, ",");
}

std::string Expired(const absl::StatusOr<SweepResult>& r) {
  if (!r.ok()) return absl::StrCat("error ", static_cast<int>(r.status().code()));
  std::vector<std::string> ids;
  for (const ClaimRecord& c : r->expired) ids.push_back(Full(c));
  std::sort(ids.begin(), ids.end());
  return absl::StrJoin(ids, "\n");
}

// 700 random calls per seed, each answered by Redis exactly as by the memory store. `shards`: the
// budget_shards of the instances the calls alternate between (one instance when one value), on one ledger.
void ExpectRandomisedCallsAnswerLikeTheMemoryStore(RedisClient& client, const std::vector<int>& shards) {
  const BudgetRef national = Budget("national", 9000);
  const BudgetRef city = Budget("city", 4000);
  const std::vector<CounterLimit> counters = {Units("tv", 4), Fen("cap", 3000), Units("car", 1)};
  std::set<ClaimState> seen;
  for (uint32_t seed : {11u, 12u, 13u, 14u}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::vector<std::unique_ptr<QuotaStore>> instances;
    for (int n : shards) {
      RedisQuotaStoreOptions options;
      options.key_prefix = absl::StrCat("s", seed, ":");
      options.budget_shards = n;
      instances.push_back(std::make_unique<RedisQuotaStore>(client, std::move(options)));
    }
    AlternatingStore redis_store(std::move(instances));
    MemoryQuotaStore memory_store;
    SyncStore tested(redis_store);
    SyncStore model(memory_store);
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    absl::Time now = kT0;
    std::vector<std::string> claims;
    for (int step = 0; step < 700; ++step) {
      SCOPED_TRACE(absl::StrCat("step ", step));
      now += absl::Seconds(pick(200));
      // Half the time one of the latest claims, so that claims live long enough to be confirmed and refunded.
      const int recent = std::min<int>(static_cast<int>(claims.size()), 6);
      const std::string claim = claims.empty() ? ""
                                : pick(2) == 0
                                    ? claims[claims.size() - 1 - static_cast<size_t>(pick(recent))]
                                    : claims[static_cast<size_t>(pick(static_cast<int>(claims.size())))];
      switch (pick(11)) {
        case 0:
        case 1:
        case 2: {
          ReserveBuilder builder(TestBuyer(pick(5)), absl::StrCat("s", pick(2)), absl::StrCat("q", pick(60)),
                                 now, absl::Minutes(10 + pick(30)));
          for (int i = 0, lines = 1 + pick(3); i < lines; ++i) {
            const std::string id = absl::StrCat("l", i);
            switch (pick(4)) {
              case 0:
                builder.Line(id, 1 + pick(3), 300 * (1 + pick(3)), {counters[0]}, {}, {national, city});
                break;
              case 1:
                builder.Line(id, 1, 500 + 100 * pick(3), {}, {Home(absl::StrCat("home", pick(2)))}, {city});
                break;
              case 2:
                builder.Line(id, 1 + pick(2), 700, {counters[1]}, {}, {national});
                break;
              default:
                builder.Line(
                    id, 1, 2000, {counters[2]},
                    {OnceKey{"prog", "scrap", absl::StrCat("vin", pick(2)), ReasonCode::kVehicleAlreadyUsed}},
                    {national, city});
                break;
            }
          }
          builder.RestoresQuotaOnRefund(pick(3) != 0);
          const ReserveRequest request = builder.Build();
          const absl::StatusOr<ClaimRecord> expected = model.Reserve(request);
          ASSERT_EQ(Full(tested.Reserve(request)), Full(expected));
          if (expected.ok()) claims.push_back(expected->claim_id);
          break;
        }
        case 3:
          if (!claim.empty()) {
            ASSERT_EQ(Full(tested.Confirm(claim, now)), Full(model.Confirm(claim, now)));
          }
          break;
        case 4:
          if (!claim.empty()) {
            ASSERT_EQ(Full(tested.Cancel(claim, now)), Full(model.Cancel(claim, now)));
          }
          break;
        case 5: {
          if (claim.empty()) break;
          RefundRequest refund{claim, pick(5) == 0 ? "s1" : "", absl::StrCat("f", pick(4)), "", {}, now};
          for (int i = 0, lines = pick(3); i < lines; ++i)
            refund.lines.push_back({absl::StrCat("l", pick(3)), pick(3)});
          refund.fingerprint = absl::StrCat("fp", refund.lines.size());
          ASSERT_EQ(Full(tested.Refund(refund)), Full(model.Refund(refund)));
          break;
        }
        case 6:
          if (!claim.empty()) {
            ASSERT_EQ(Full(tested.Get(claim, now)), Full(model.Get(claim, now)));
          }
          break;
        case 7: {
          const BuyerRef buyer = TestBuyer(pick(5));
          ASSERT_EQ(Values(tested.Usage(buyer, counters, now)), Values(model.Usage(buyer, counters, now)));
          ASSERT_EQ(Values(tested.BudgetUsage({national, city}, now)),
                    Values(model.BudgetUsage({national, city}, now)));
          break;
        }
        case 8: {
          // Lines on two budgets, homes and old cars shared by lines: a void gives all of it back.
          if (claim.empty()) break;
          const VoidRequest request{claim, absl::StrCat("v", pick(2)), absl::StrCat("fv", pick(2)), now};
          ASSERT_EQ(Full(tested.Void(request)), Full(model.Void(request)));
          break;
        }
        case 9: {
          if (claim.empty()) break;
          CorrectRequest request{claim, absl::StrCat("c", pick(2)), "", {}, now};
          for (int i = 0, lines = 1 + pick(2); i < lines; ++i)
            request.lines.push_back({absl::StrCat("l", pick(3)), 100 * pick(20)});
          request.fingerprint = absl::StrCat("fc", request.lines[0].fen);
          ASSERT_EQ(Full(tested.Correct(request)), Full(model.Correct(request)));
          break;
        }
        default:
          ASSERT_EQ(Expired(tested.Sweep(now)), Expired(model.Sweep(now)));
          break;
      }
    }
    for (const std::string& claim : claims) seen.insert(model.Get(claim, now)->state);
  }
  std::string states;
  for (ClaimState state : seen) absl::StrAppend(&states, static_cast<int>(state), " ");
  EXPECT_EQ(seen.size(), 8u) << "the workload no longer reaches every state: " << states;
}

TEST_F(RedisQuotaStoreTest, RandomisedJointBudgetsSharedHomesAndRetriesAnswerLikeTheMemoryStore) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ExpectRandomisedCallsAnswerLikeTheMemoryStore(*client_, {1});
}

// Budgets spread over 4 shards: claims that exhaust them (leases, drains, allocations on the budget itself)
// grant and refuse exactly what the memory store does.
TEST_F(RedisQuotaStoreTest, RandomisedCallsOnBudgetShardsAnswerLikeTheMemoryStore) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ExpectRandomisedCallsAnswerLikeTheMemoryStore(*client_, {4});
  // The claims went to shards, which leased, and drains took fen back from them.
  absl::StatusOr<RedisValue> shards = server_->Run({"KEYS", "s11:{g:prog:national:*}:g"});
  ASSERT_THAT(shards, IsOk());
  EXPECT_THAT(shards->elements(), SizeIs(4));
  absl::StatusOr<RedisValue> parent = server_->Run({"HGETALL", "s11:{g:prog:national}:g"});
  ASSERT_THAT(parent, IsOk());
  std::set<std::string> fields;
  for (size_t i = 0; i < parent->elements().size(); i += 2)
    fields.insert(parent->elements()[i].str().substr(0, 2));
  EXPECT_TRUE(fields.count("l:") && fields.count("r:") && fields.count("sh")) << "leases and drains";
}

// A rolling deploy that turns shards on: instances with and without them share one ledger, call after call.
TEST_F(RedisQuotaStoreTest, InstancesWithAndWithoutBudgetShardsShareOneLedgerExactly) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ExpectRandomisedCallsAnswerLikeTheMemoryStore(*client_, {3, 1});
}

// The budget_alloc of the version before budget shards, as it ran (tests/quota/testdata).
std::string ScriptOfTheVersionBeforeShards() {
  std::ifstream in(absl::StrCat(TRADEIN_SOURCE_DIR, "/tests/quota/testdata/budget_alloc_5daf2e0.lua"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// An instance of the version before budget shards (5daf2e0) beside instances that lease to them: a rolling
// deploy that sets --redis_budget_shards before every instance runs this version, or a rollback. That
// version allocates on the budget's own hash with total − used, and `used` counts every fen leased to a
// shard, so it grants only fen that no claim and no shard holds; the sharded instances then grant the rest
// exactly.
TEST_F(RedisQuotaStoreTest, TheVersionBeforeShardsNeverGrantsWhatTheShardsHold) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  RedisQuotaStoreOptions options;
  options.budget_shards = 4;
  std::unique_ptr<RedisQuotaStore> store = MakeStore(std::move(options));
  SyncStore sharded(*store);
  constexpr int kUnits = 100;
  const BudgetRef budget = Budget("national", kUnits * kFen);
  int granted = 0;  // units the sharded store granted
  auto claim = [&](int buyer) {
    const absl::StatusOr<ClaimRecord> record =
        sharded.Reserve(ReserveBuilder(TestBuyer(buyer), "shop", absl::StrCat("r", buyer), kT0)
                            .Line("1", 1, kFen, {}, {}, {budget})
                            .Build());
    EXPECT_THAT(record, IsOk());
    const bool reserved = record.ok() && record->state == ClaimState::kReserved;
    granted += reserved ? 1 : 0;
    return reserved;
  };
  for (int buyer = 0; buyer < 40; ++buyer) ASSERT_TRUE(claim(buyer));

  // The old instance asks the budget's hash for every unit it will give, as that version's store did.
  const std::string parent = RedisQuotaKeys("tq:").Budget(budget.programme, budget.budget_id);
  const absl::StatusOr<RedisValue> used = server_->Run({"HGET", parent, "used"});
  ASSERT_THAT(used, IsOk());
  const int64_t used_before = std::stoll(used->str());
  EXPECT_GE(used_before, granted * kFen) << "the parent counts what it leased";
  const absl::Time hold_end = kT0 + absl::Minutes(30);
  const absl::StatusOr<RedisValue> reply = server_->Run(
      {"EVAL", ScriptOfTheVersionBeforeShards(), "2", parent, RedisQuotaKeys::BudgetHolds(parent),
       std::string("\x80", 1), "old-instance-claim", scripts::TimeText(kT0), scripts::TimeText(hold_end),
       absl::StrCat(scripts::Millis(hold_end)), absl::StrCat(kUnits * kFen), "1", absl::StrCat(kUnits),
       absl::StrCat(kFen)});
  ASSERT_THAT(reply, IsOk());
  const absl::StatusOr<msgpack::Document> answer = msgpack::Parse(reply->str());
  ASSERT_THAT(answer, IsOk());
  ASSERT_EQ((*answer)["s"].AsBytes(), "OK") << reply->str();
  ASSERT_THAT((*answer)["units"].AsArray(), SizeIs(1));
  const int64_t old_units = (*answer)["units"].AsArray()[0].AsInt();
  EXPECT_EQ(old_units, (kUnits * kFen - used_before) / kFen) << "total − used, and used holds the leases";
  EXPECT_GT(old_units, 0);
  std::cout << "[ figures ] before shards beside 4 shards: " << granted << " units granted through shards, "
            << used_before - granted * kFen << " fen leased to them unspent, " << old_units
            << " units granted by the old script" << std::endl;

  // The sharded store grants the rest to the last unit: drains bring back what the shards do not spend.
  int buyer = 100;
  while (claim(buyer) && buyer < 100 + kUnits) ++buyer;
  EXPECT_EQ(granted + old_units, kUnits) << "every unit granted once, none twice";
  EXPECT_EQ(*sharded.BudgetUsage({budget}, kT0), std::vector<int64_t>{kUnits * kFen});
}

// ---------------------------------------------------------------------------------------------------------
// A real Redis Cluster: each call goes to the node that owns its slot; a script whose keys spanned slots
// would fail with CROSSSLOT, a call routed by the wrong key with MOVED.

class RedisClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tradein::testing::RedisClusterOptions options;
    options.replicas_per_master = 0;
    absl::StatusOr<std::unique_ptr<tradein::testing::RedisCluster>> cluster =
        tradein::testing::RedisCluster::Start(options);
    if (absl::IsNotFound(cluster.status())) GTEST_SKIP() << "redis-cli is needed to create a cluster";
    ASSERT_THAT(cluster, IsOk());
    cluster_ = *std::move(cluster);
    redis::ClusterOptions client_options;
    client_options.seeds = *redis::ParseSeeds(cluster_->seeds(), "seeds");
    absl::StatusOr<std::unique_ptr<redis::ClusterClient>> client =
        redis::ClusterClient::Create(client_options);
    ASSERT_THAT(client, IsOk());
    ASSERT_TRUE((*client)->WaitForSlotMap(absl::Now() + kLimit));
    client_ = client->get();
    owned_client_ = *std::move(client);
  }

  // The store owns the client from here on.
  std::unique_ptr<RedisQuotaStore> MakeStore(RedisQuotaStoreOptions options = {}) {
    return std::make_unique<RedisQuotaStore>(std::move(owned_client_), std::move(options));
  }

  std::unique_ptr<tradein::testing::RedisCluster> cluster_;
  std::unique_ptr<redis::ClusterClient> owned_client_;
  redis::ClusterClient* client_ = nullptr;
};

// A budget over 3 shards on 3 masters: each shard on its own master, and claims, cancellations and the
// budget's use as the memory store has them down to the last unit (leases, drains and allocations on the
// budget itself crossing masters).
TEST_F(RedisClusterTest, ABudgetOverThreeShardsIsOnEveryMasterAndAnswersLikeTheMemoryStore) {
  RedisQuotaStoreOptions options;
  options.budget_shards = 3;
  std::unique_ptr<RedisQuotaStore> redis_store = MakeStore(std::move(options));
  MemoryQuotaStore memory_store;
  SyncStore tested(*redis_store);
  SyncStore model(memory_store);
  const BudgetRef budget = Budget("national", 20 * kFen + kFen / 2);
  auto claim = [&](int buyer, int32_t units) {
    const ReserveRequest request = ReserveBuilder(TestBuyer(buyer), "shop", absl::StrCat("r", buyer), kT0)
                                       .Line("1", units, kFen, {}, {}, {budget})
                                       .Build();
    const absl::StatusOr<ClaimRecord> expected = model.Reserve(request);
    const absl::StatusOr<ClaimRecord> got = tested.Reserve(request);
    EXPECT_EQ(Full(got), Full(expected));
    return request.claim_id;
  };
  std::vector<std::string> claims;
  for (int buyer = 0; buyer < 24; ++buyer) claims.push_back(claim(buyer, 1 + buyer % 2));
  for (size_t i = 0; i < claims.size(); i += 4) {
    const absl::Time now = kT0 + absl::Minutes(1);
    EXPECT_EQ(Full(tested.Cancel(claims[i], now)), Full(model.Cancel(claims[i], now)));
  }
  for (int buyer = 30; buyer < 40; ++buyer) claim(buyer, 2);
  EXPECT_EQ(*tested.BudgetUsage({budget}, kT0), *model.BudgetUsage({budget}, kT0));
  EXPECT_EQ(*tested.BudgetUsage({budget}, kT0), std::vector<int64_t>{20 * kFen}) << "every unit granted";

  const std::string parent = RedisQuotaKeys("tq:").Budget(budget.programme, budget.budget_id);
  std::set<int> masters;
  for (int k = 0; k < 3; ++k) {
    const std::string shard =
        RedisQuotaKeys::BudgetShard(parent, RedisQuotaKeys::BudgetShardSuffix(parent, k, 3));
    const absl::StatusOr<int> master = cluster_->MasterOf(KeySlot(shard));
    ASSERT_THAT(master, IsOk());
    masters.insert(*master);
    EXPECT_THAT(cluster_->node(static_cast<size_t>(*master)).Run({"EXISTS", shard}),
                ::tradein::testing::IsOkAndHolds(RedisValue::Integer(1)))
        << shard << " was used";
  }
  EXPECT_EQ(masters.size(), 3u) << "one shard per master";
}

TEST_F(RedisClusterTest, EveryCallRunsOnTheNodeOfItsSlotAndAnswersLikeTheMemoryStore) {
  std::unique_ptr<RedisQuotaStore> redis_store = MakeStore();
  MemoryQuotaStore memory_store;
  SyncStore tested(*redis_store);
  SyncStore model(memory_store);
  auto same = [](const absl::StatusOr<ClaimRecord>& a, const absl::StatusOr<ClaimRecord>& b) {
    ASSERT_EQ(a.status().code(), b.status().code()) << a.status() << " vs " << b.status();
    if (!a.ok()) return;
    EXPECT_EQ(a->claim_id, b->claim_id);
    EXPECT_EQ(a->state, b->state);
    EXPECT_EQ(a->grants, b->grants);
    EXPECT_EQ(a->refunds, b->refunds);
    EXPECT_EQ(a->replayed, b->replayed);
  };
  const BudgetRef national = Budget("national", 5 * kFen);
  const BudgetRef city = Budget("city", 3 * kFen);
  std::vector<std::string> claims;
  // Lines that draw on two budgets at once (the joint allocation), homes, caps and plain lines, 12 buyers.
  for (int i = 0; i < 12; ++i) {
    const ReserveRequest request =
        ReserveBuilder(TestBuyer(i), "shop", absl::StrCat("r", i), kT0)
            .Line("tv", 2, kFen / 2, {Units("tv", 3)}, {}, {national, city})
            .Line("reno", 1, kFen / 4, {Fen("cap", kFen)}, {Home(absl::StrCat("h", i % 5))}, {national})
            .Build();
    const absl::StatusOr<ClaimRecord> expected = model.Reserve(request);
    same(tested.Reserve(request), expected);
    same(tested.Reserve(request), model.Reserve(request));  // replayed
    claims.push_back(expected->claim_id);
  }
  for (size_t i = 0; i < claims.size(); ++i) {
    const absl::Time now = kT0 + absl::Minutes(1);
    if (i % 3 == 0) same(tested.Confirm(claims[i], now), model.Confirm(claims[i], now));
    if (i % 3 == 1) same(tested.Cancel(claims[i], now), model.Cancel(claims[i], now));
  }
  for (size_t i = 0; i < claims.size(); i += 3) {
    const RefundRequest refund{claims[i], "", "refund", "fp", {{"tv", 1}}, kT0 + absl::Minutes(2)};
    same(tested.Refund(refund), model.Refund(refund));
  }
  // Corrections, voids and confirmations with serials (their keys in slots of their own).
  for (size_t i = 0; i < claims.size(); i += 3) {
    const CorrectRequest correct{claims[i], "c", "fc", {{"reno", 1}}, kT0 + absl::Minutes(3)};
    same(tested.Correct(correct), model.Correct(correct));
  }
  same(tested.Void({claims[3], "v", "fv", kT0 + absl::Minutes(3)}),
       model.Void({claims[3], "v", "fv", kT0 + absl::Minutes(3)}));
  // Serials: three more claims; two are confirmed with serials, the third (left to expire) asks for one of
  // them and fresh ones and is refused by both.
  const absl::Time at = kT0 + absl::Minutes(4);
  std::vector<std::string> serial_claims;
  for (int b = 0; b < 3; ++b) {
    const ReserveRequest request =
        ReserveBuilder(TestBuyer(20 + b), "mall", absl::StrCat("s", b), kT0).Line("tv", 2, kFen / 2).Build();
    same(tested.Reserve(request), model.Reserve(request));
    serial_claims.push_back(request.claim_id);
    claims.push_back(request.claim_id);
  }
  int refusals = 0;
  for (size_t b = 0; b < 2; ++b) {
    const std::vector<SerialKey> serials = {Serial(absl::StrCat("sn", b, "a"), "tv", 0, 0),
                                            Serial(absl::StrCat("sn", b, "b"), "tv", 0, 1)};
    same(tested.ConfirmWith(serial_claims[b], at, serials), model.ConfirmWith(serial_claims[b], at, serials));
    const std::vector<SerialKey> wanted = {Serial("fresh", "tv", 0, 0), serials[1]};
    const absl::StatusOr<ClaimRecord> refused = tested.ConfirmWith(serial_claims[2], at, wanted);
    same(refused, model.ConfirmWith(serial_claims[2], at, wanted));
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
    ++refusals;
  }
  EXPECT_GT(refusals, 0);
  // Listings: every page of a walk the same, cursors included, merging the day's shards across the nodes.
  auto page_of = [](const absl::StatusOr<ClaimPage>& page) {
    if (!page.ok()) return page.status().ToString();
    std::string out = absl::StrCat("more=", page->more);
    for (const ClaimPage::Entry& e : page->entries)
      absl::StrAppend(&out, " ", e.cursor, ":", static_cast<int>(e.record.state), ":", e.record.GrantedFen());
    return out;
  };
  int listed = 0;
  for (bool newest_first : {true, false}) {
    for (const std::string& retailer : {std::string(), std::string("shop")}) {
      ClaimPageRequest request;
      request.first_day = absl::CivilDay(2025, 5, 31);
      request.last_day = absl::CivilDay(2025, 6, 2);
      request.newest_first = newest_first;
      request.retailer_id = retailer;
      request.limit = 5;
      request.now = kT0 + absl::Minutes(5);
      for (int pages = 0; pages < 10; ++pages) {
        const absl::StatusOr<ClaimPage> expected = model.List(request);
        ASSERT_THAT(expected, IsOk());
        EXPECT_EQ(page_of(tested.List(request)), page_of(expected));
        listed += static_cast<int>(expected->entries.size());
        if (!expected->more) break;
        request.cursor = expected->entries.back().cursor;
      }
    }
  }
  EXPECT_EQ(listed, 2 * 15 + 2 * 12);  // every claim; "shop"'s without the three of "mall"
  const absl::Time later = kT0 + absl::Hours(1);
  EXPECT_EQ(*tested.BudgetUsage({national, city}, later), *model.BudgetUsage({national, city}, later));
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(*tested.Usage(TestBuyer(i), {Units("tv", 3), Fen("cap", kFen)}, later),
              *model.Usage(TestBuyer(i), {Units("tv", 3), Fen("cap", kFen)}, later));
  }
  absl::StatusOr<SweepResult> swept = tested.Sweep(later);
  absl::StatusOr<SweepResult> expected_sweep = model.Sweep(later);
  ASSERT_THAT(swept, IsOk());
  std::set<std::string> swept_ids, expected_ids;
  for (const ClaimRecord& c : swept->expired) swept_ids.insert(c.claim_id);
  for (const ClaimRecord& c : expected_sweep->expired) expected_ids.insert(c.claim_id);
  EXPECT_EQ(swept_ids, expected_ids);
  EXPECT_FALSE(swept_ids.empty());
  for (const std::string& id : claims) same(tested.Get(id, later), model.Get(id, later));
  EXPECT_THAT(PingOf(*redis_store), ::tradein::testing::IsOkAndHolds(true));

  // The keys really are spread over the nodes (a node holds only keys of the slots it serves), and every call
  // went straight to the master of its slot.
  int nodes_with_keys = 0;
  for (size_t n = 0; n < cluster_->size(); ++n) {
    absl::StatusOr<RedisValue> keys = cluster_->node(n).Run({"KEYS", "tq:*"});
    ASSERT_THAT(keys, IsOk());
    nodes_with_keys += keys->elements().empty() ? 0 : 1;
  }
  EXPECT_EQ(nodes_with_keys, 3);
  EXPECT_GT(client_->node_stats().commands_sent, 100);
  EXPECT_EQ(client_->stats().moved, 0);
  EXPECT_EQ(client_->stats().ask, 0);
}

// ---------------------------------------------------------------------------------------------------------
// Scripts

TEST_F(RedisQuotaStoreTest, EveryCallWorksAfterTheScriptCacheIsFlushed) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  const BudgetRef budget = Budget("b", 10 * kFen);
  const ClaimRecord first = *sync.Reserve(ReserveBuilder(TestBuyer(1), "shop", "r1", kT0)
                                              .Line("1", 1, kFen, {Units("a", 1)}, {Home("h")}, {budget})
                                              .Build());
  ASSERT_EQ(first.state, ClaimState::kReserved);

  ASSERT_THAT(server_->Run({"SCRIPT", "FLUSH"}), IsOk());
  const int64_t loads_before = client_->stats().script_loads;
  EXPECT_THAT(PingOf(*store), ::tradein::testing::IsOkAndHolds(true));
  // Ping ran a script, not just PING: the flushed cache made the client load it.
  EXPECT_EQ(client_->stats().script_loads, loads_before + 1);

  ASSERT_THAT(server_->Run({"SCRIPT", "FLUSH"}), IsOk());
  EXPECT_EQ(sync.Confirm(first.claim_id, kT0)->state, ClaimState::kConfirmed);
  const ClaimRecord second = *sync.Reserve(
      ReserveBuilder(TestBuyer(2), "shop", "r2", kT0).Line("1", 1, kFen, {}, {}, {budget}).Build());
  EXPECT_EQ(second.state, ClaimState::kReserved);
  ASSERT_THAT(server_->Run({"SCRIPT", "FLUSH"}), IsOk());
  EXPECT_EQ(sync.Sweep(kT0 + absl::Hours(1))->expired.size(), 1u);
  EXPECT_EQ(*sync.BudgetUsage({budget}, kT0 + absl::Hours(1)), std::vector<int64_t>{kFen});
  EXPECT_GT(client_->stats().script_loads, loads_before + 4);
}

// ---------------------------------------------------------------------------------------------------------
// Faults

TEST_F(RedisQuotaStoreTest, APausedServerFailsByTheDeadlineAndGrantsNothing) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  const BuyerRef buyer = TestBuyer(1);
  const BudgetRef budget = Budget("b", 10 * kFen);
  const ReserveRequest request = ReserveBuilder(buyer, "shop", "r1", kT0)
                                     .Line("1", 1, kFen, {Units("a", 1)}, {Home("h")}, {budget})
                                     .Build();

  ASSERT_THAT(server_->Pause(), IsOk());
  const absl::Time deadline = absl::Now() + absl::Milliseconds(300);
  const absl::StatusOr<ClaimRecord> paused = ReserveBy(*store, request, deadline);
  const absl::Time answered = absl::Now();
  EXPECT_THAT(paused,
              AnyOf(StatusIs(absl::StatusCode::kDeadlineExceeded), StatusIs(absl::StatusCode::kUnavailable)));
  EXPECT_LT(answered, deadline + absl::Seconds(10));  // sanity: it did not wait for the server
  ASSERT_THAT(server_->Resume(), IsOk());

  // Nothing granted, and the retry with the same ids gets exactly one claim.
  EXPECT_EQ(*sync.Usage(buyer, {Units("a", 1)}, kT0), std::vector<int64_t>{0});
  EXPECT_EQ(*sync.BudgetUsage({budget}, kT0), std::vector<int64_t>{0});
  EXPECT_THAT(sync.Get(request.claim_id, kT0), StatusIs(absl::StatusCode::kNotFound));
  const absl::StatusOr<ClaimRecord> retry = sync.Reserve(request);
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->state, ClaimState::kReserved);
  EXPECT_FALSE(retry->replayed);
  EXPECT_EQ(*sync.Usage(buyer, {Units("a", 1)}, kT0), std::vector<int64_t>{1});
  EXPECT_EQ(*sync.BudgetUsage({budget}, kT0), std::vector<int64_t>{kFen});
}

TEST_F(RedisQuotaStoreTest, ADeadlineBetweenStepsLeavesWhatARetryCompletesWithoutCountingTwice) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::atomic<bool> armed{false};
  std::atomic<bool> paused{false};
  // The server stops answering just before the buyer's script is sent: it runs when the server comes back,
  // after the caller has been told DEADLINE_EXCEEDED, and reconcile never ran.
  std::unique_ptr<RedisQuotaStore> store = MakeCrashingStore([&](absl::string_view step) {
    if (armed && step == "reserve.buyer" && !paused.exchange(true)) {
      EXPECT_THAT(server_->Pause(), IsOk());
    }
    return false;
  });
  SyncStore sync(*store);
  const BuyerRef buyer = TestBuyer(1);
  const BudgetRef budget = Budget("b", 10 * kFen);
  // Three units allocated from the budget, one granted by the counter.
  const ReserveRequest request =
      ReserveBuilder(buyer, "shop", "r1", kT0).Line("1", 3, kFen, {Units("a", 1)}, {}, {budget}).Build();
  // Scripts cached first: else the EVALSHA would meet NOSCRIPT after the deadline and never run at all.
  ASSERT_THAT(sync.Reserve(ReserveBuilder(TestBuyer(9), "shop", "warm-up", kT0).Line("1", 1, 1).Build()),
              IsOk());
  armed = true;
  EXPECT_THAT(ReserveBy(*store, request, absl::Now() + absl::Milliseconds(500)),
              AnyOf(StatusIs(absl::StatusCode::kDeadlineExceeded), StatusIs(absl::StatusCode::kUnavailable)));
  ASSERT_TRUE(paused.load());
  ASSERT_THAT(server_->Resume(), IsOk());
  // The buyer's script ran once the server came back (the caller never heard of it), and the whole
  // allocation is still held: reconcile never ran.
  ASSERT_TRUE(Eventually([&] { return sync.Get(request.claim_id, kT0).ok(); }));
  EXPECT_EQ(*sync.BudgetUsage({budget}, kT0), std::vector<int64_t>{3 * kFen});

  const absl::StatusOr<ClaimRecord> retry = sync.Reserve(request);
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->grants[0].units, 1);
  EXPECT_EQ(*sync.Usage(buyer, {Units("a", 1)}, kT0), std::vector<int64_t>{1});
  EXPECT_EQ(*sync.BudgetUsage({budget}, kT0), std::vector<int64_t>{kFen});
}

TEST_F(RedisQuotaStoreTest, AStoppedServerIsUnavailableAndTheSameStoreWorksAfterARestart) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  ASSERT_THAT(server_->Stop(), IsOk());
  const ReserveRequest request =
      ReserveBuilder(TestBuyer(1), "shop", "r1", kT0).Line("1", 1, kFen, {Units("a", 1)}).Build();
  EXPECT_TRUE(Eventually([&] {
    return ReserveBy(*store, request, absl::Now() + absl::Seconds(1)).status().code() ==
           absl::StatusCode::kUnavailable;
  }));
  EXPECT_THAT(PingOf(*store), StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_THAT(server_->Restart(), IsOk());
  EXPECT_TRUE(Eventually([&] { return PingOf(*store).ok(); }));
  const absl::StatusOr<ClaimRecord> claim = sync.Reserve(request);
  ASSERT_THAT(claim, IsOk());
  EXPECT_EQ(claim->state, ClaimState::kReserved);
}

TEST_F(RedisQuotaStoreTest, EveryConfirmedClaimSurvivesKillNineWithAppendfsyncAlways) {
  RedisServerOptions options;
  options.appendonly = true;
  options.appendfsync = "always";
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  const BudgetRef budget = Budget("b", 100 * kFen);
  std::vector<ClaimRecord> confirmed;
  for (int i = 0; i < 20; ++i) {
    const ClaimRecord claim =
        *sync.Reserve(ReserveBuilder(TestBuyer(i), "shop", absl::StrCat("r", i), kT0)
                          .Line("1", 1, kFen, {Units("a", 1)}, {Home(absl::StrCat("h", i))}, {budget})
                          .Build());
    ASSERT_EQ(claim.state, ClaimState::kReserved);
    absl::StatusOr<ClaimRecord> done = sync.Confirm(claim.claim_id, kT0 + absl::Minutes(1));
    ASSERT_THAT(done, IsOk());
    confirmed.push_back(*done);
  }
  server_->Kill();  // SIGKILL right after the last acknowledged write
  ASSERT_THAT(server_->Restart(), IsOk());
  ASSERT_TRUE(Eventually([&] { return PingOf(*store).ok(); }));

  const absl::Time later = kT0 + absl::Hours(48);
  for (int i = 0; i < 20; ++i) {
    const absl::StatusOr<ClaimRecord> claim = sync.Get(confirmed[static_cast<size_t>(i)].claim_id, later);
    ASSERT_THAT(claim, IsOk()) << i;
    EXPECT_EQ(claim->state, ClaimState::kConfirmed);
    EXPECT_EQ(claim->grants, confirmed[static_cast<size_t>(i)].grants);
    EXPECT_EQ(claim->confirmation, "invoice-1");
    EXPECT_EQ(*sync.Usage(TestBuyer(i), {Units("a", 1)}, later), std::vector<int64_t>{1});
  }
  EXPECT_EQ(*sync.BudgetUsage({budget}, later), std::vector<int64_t>{20 * kFen});
  // The homes are still used.
  const absl::StatusOr<ClaimRecord> again = sync.Reserve(
      ReserveBuilder(TestBuyer(99), "shop", "again", later).Line("1", 1, kFen, {}, {Home("h3")}).Build());
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->grants[0].reasons.Contains(ReasonCode::kHomeAlreadyUsed));
}

// ---------------------------------------------------------------------------------------------------------
// An instance that dies between two steps

class CrashTest : public RedisQuotaStoreTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartServer()); }

  // A store that dies before `step` (once).
  std::unique_ptr<RedisQuotaStore> Crashing(const std::string& step, RedisQuotaStoreOptions options = {}) {
    auto crashed = std::make_shared<std::atomic<bool>>(false);
    return MakeCrashingStore(
        [step, crashed](absl::string_view at) { return at == step && !crashed->exchange(true); },
        std::move(options));
  }

  static RedisQuotaStoreOptions OnShards(int budget_shards) {
    RedisQuotaStoreOptions options;
    options.budget_shards = budget_shards;
    return options;
  }

  // Buyer `n`'s claim for `units` units of kFen on the budget.
  ReserveRequest OnTheBudget(int n, int32_t units) const {
    return ReserveBuilder(TestBuyer(n), "shop", absl::StrCat("b", n), kT0)
        .Line("1", units, kFen, {}, {}, {budget_})
        .Build();
  }

  const BuyerRef buyer_ = TestBuyer(1);
  const BudgetRef budget_ = Budget("b", 10 * kFen);
  const CounterLimit counter_ = Units("a", 1);
  const absl::Time end_ = kT0 + absl::Minutes(30);
  ReserveRequest Request() const {
    return ReserveBuilder(buyer_, "shop", "r1", kT0)
        .Line("1", 3, kFen, {counter_}, {Home("h")}, {budget_})
        .Build();
  }
  // Another buyer's claim for the same home.
  ReserveRequest ForTheHome(absl::Time now, const std::string& request_id = "other") const {
    return ReserveBuilder(TestBuyer(2), "shop", request_id, now).Line("1", 1, kFen, {}, {Home("h")}).Build();
  }
};

TEST_F(CrashTest, BeforeTheBuyerScriptOnlyHoldsThatEndAreLeft) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("reserve.buyer");
  SyncStore sync(*store);
  EXPECT_THAT(sync.Reserve(Request()), StatusIs(absl::StatusCode::kUnavailable));
  // The home and the budget are held until the hold would have ended, no longer; no counter moved.
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{3 * kFen});
  EXPECT_EQ(*sync.Usage(buyer_, {counter_}, kT0), std::vector<int64_t>{0});
  EXPECT_TRUE(sync.Reserve(ForTheHome(kT0))->grants[0].reasons.Contains(ReasonCode::kHomeAlreadyUsed));
  EXPECT_EQ(*sync.BudgetUsage({budget_}, end_), std::vector<int64_t>{0});
  EXPECT_EQ(sync.Reserve(ForTheHome(end_, "other-2"))->state, ClaimState::kReserved);
  // The sweeper finds no claim behind the due entry: nothing to report, and the index is empty again.
  absl::StatusOr<SweepResult> swept = sync.Sweep(end_);
  ASSERT_THAT(swept, IsOk());
  EXPECT_TRUE(swept->expired.empty());
  for (int n = 0; n < RedisQuotaKeys::kDueShards; ++n) {
    absl::StatusOr<RedisValue> entries = server_->Run({"ZRANGE", store->keys().Due(n), "0", "-1"});
    ASSERT_THAT(entries, IsOk());
    for (const RedisValue& e : entries->elements()) EXPECT_NE(e.str(), Request().claim_id);
  }
}

// Budget shards (budget_shards.h): the parent leased to the claim's shard and the instance died before the
// shard used the lease. Nothing is held (the budget's use is 0), and the lease is not lost: the budget still
// grants every unit, the last ones after a drain that applies the lease and takes it back.
TEST_F(CrashTest, ALeaseTheShardNeverAppliedIsNotLost) {
  std::unique_ptr<RedisQuotaStore> crashing = Crashing("reserve.lease_apply", OnShards(2));
  SyncStore dying(*crashing);
  EXPECT_THAT(dying.Reserve(OnTheBudget(0, 1)), StatusIs(absl::StatusCode::kUnavailable));
  std::unique_ptr<RedisQuotaStore> store = MakeStore(OnShards(2));
  SyncStore sync(*store);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{0});
  for (int n = 1; n <= 10; ++n) {
    absl::StatusOr<ClaimRecord> claim = sync.Reserve(OnTheBudget(n, 1));
    ASSERT_THAT(claim, IsOk());
    EXPECT_EQ(claim->state, ClaimState::kReserved) << "claim " << n;
  }
  EXPECT_EQ(sync.Reserve(OnTheBudget(11, 1))->state, ClaimState::kRejected);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{10 * kFen});
}

// A drain whose shards gave back and whose budget never took it back (the instance died between): the next
// drain takes it back (each shard's `ret` only grows), and the claim gets the last two units.
TEST_F(CrashTest, WhatShardsGaveBackIsTakenBackByTheNextDrain) {
  std::unique_ptr<RedisQuotaStore> store = MakeStore(OnShards(2));
  SyncStore sync(*store);
  for (int n = 1; n <= 9; ++n) ASSERT_EQ(sync.Reserve(OnTheBudget(n, 1))->state, ClaimState::kReserved);
  // One unit back to its shard: 1 unit there, 1 on the budget, none anywhere else.
  ASSERT_EQ(sync.Cancel(OnTheBudget(1, 1).claim_id, kT0)->state, ClaimState::kCancelled);
  std::unique_ptr<RedisQuotaStore> crashing = Crashing("reserve.drain_return", OnShards(2));
  SyncStore dying(*crashing);
  EXPECT_THAT(dying.Reserve(OnTheBudget(20, 2)), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{8 * kFen});
  const absl::StatusOr<ClaimRecord> retried = sync.Reserve(OnTheBudget(20, 2));
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(retried->state, ClaimState::kReserved);
  EXPECT_EQ(retried->grants[0].units, 2);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{10 * kFen});
}

TEST_F(CrashTest, BeforeTheBuyerScriptARetryCompletesTheClaimOnce) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("reserve.buyer");
  SyncStore sync(*store);
  EXPECT_THAT(sync.Reserve(Request()), StatusIs(absl::StatusCode::kUnavailable));
  const absl::StatusOr<ClaimRecord> retry = sync.Reserve(Request());
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->state, ClaimState::kReserved);
  EXPECT_EQ(retry->grants[0].units, 1);
  EXPECT_EQ(*sync.Usage(buyer_, {counter_}, kT0), std::vector<int64_t>{1});
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{kFen});
}

TEST_F(CrashTest, BeforeReconcileTheSweeperGivesTheUnusedAllocationBackAtTheHoldEnd) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("reserve.reconcile");
  SyncStore sync(*store);
  EXPECT_THAT(sync.Reserve(Request()), StatusIs(absl::StatusCode::kUnavailable));
  // Decided (one unit) but the three allocated units are still held.
  EXPECT_EQ(sync.Get(Request().claim_id, kT0)->grants[0].units, 1);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{3 * kFen});
  absl::StatusOr<SweepResult> swept = sync.Sweep(end_);
  ASSERT_THAT(swept, IsOk());
  ASSERT_EQ(swept->expired.size(), 1u);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, end_), std::vector<int64_t>{0});
  EXPECT_EQ(*sync.Usage(buyer_, {counter_}, end_), std::vector<int64_t>{0});
}

TEST_F(CrashTest, BeforeReconcileAConfirmCommitsOnlyWhatWasGranted) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("reserve.reconcile");
  SyncStore sync(*store);
  EXPECT_THAT(sync.Reserve(Request()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(sync.Confirm(Request().claim_id, kT0)->state, ClaimState::kConfirmed);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, end_ + absl::Hours(1)), std::vector<int64_t>{kFen});
}

TEST_F(CrashTest, AfterTheCommitOfAConfirmTheSweeperReleasesWhatWasCommitted) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("confirm.final");
  SyncStore sync(*store);
  const ClaimRecord claim = *sync.Reserve(Request());
  EXPECT_THAT(sync.Confirm(claim.claim_id, kT0 + absl::Minutes(1)), StatusIs(absl::StatusCode::kUnavailable));
  // The budget entry and the home are committed for a claim that stays RESERVED and then expires.
  EXPECT_EQ(*sync.BudgetUsage({budget_}, end_), std::vector<int64_t>{kFen});
  EXPECT_EQ(sync.Get(claim.claim_id, end_)->state, ClaimState::kExpired);
  absl::StatusOr<SweepResult> swept = sync.Sweep(end_);
  ASSERT_THAT(swept, IsOk());
  ASSERT_EQ(swept->expired.size(), 1u);
  EXPECT_EQ(swept->reconciled, 1);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, end_), std::vector<int64_t>{0});
  EXPECT_EQ(sync.Reserve(ForTheHome(end_))->state, ClaimState::kReserved);
}

TEST_F(CrashTest, BeforeTheReconcileOfACancelARetryOrTheSweeperFinishesIt) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("cancel.reconcile");
  SyncStore sync(*store);
  const ClaimRecord claim = *sync.Reserve(Request());
  EXPECT_THAT(sync.Cancel(claim.claim_id, kT0), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(*sync.Usage(buyer_, {counter_}, kT0), std::vector<int64_t>{0});  // the buyer's slot is done
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{kFen});  // the budget not yet
  const absl::StatusOr<ClaimRecord> retry = sync.Cancel(claim.claim_id, kT0);
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{0});
  EXPECT_EQ(sync.Reserve(ForTheHome(kT0))->state, ClaimState::kReserved);
}

// A confirmed claim, `now` long after its hold (its own due entry swept), refunded whole by refund "rf" on a
// store that died before the refund's reconcile (Crashing("refund.reconcile")), into `claim`.
void RefundedByARefundThatDied(SyncStore& sync, const ReserveRequest& request, absl::Time now,
                               ClaimRecord& claim) {
  claim = *sync.Reserve(request);
  ASSERT_THAT(sync.Confirm(claim.claim_id, kT0), IsOk());
  ASSERT_THAT(sync.Sweep(now), IsOk());
  EXPECT_THAT(sync.Refund({claim.claim_id, "", "rf", "fp", {}, now}),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(CrashTest, BeforeTheReconcileOfARefundTheSweeperFinishesIt) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("refund.reconcile");
  SyncStore sync(*store);
  // Long after the hold: the claim's own due entry is gone, the refund's makes the sweeper look.
  const absl::Time now = kT0 + absl::Hours(5);
  ClaimRecord claim;
  ASSERT_NO_FATAL_FAILURE(RefundedByARefundThatDied(sync, Request(), now, claim));
  EXPECT_EQ(sync.Get(claim.claim_id, now)->state, ClaimState::kRefunded);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, now), std::vector<int64_t>{kFen});
  EXPECT_EQ(sync.Sweep(now)->reconciled, 0) << "not due yet";
  absl::StatusOr<SweepResult> swept = sync.Sweep(now + absl::Seconds(5));
  ASSERT_THAT(swept, IsOk());
  EXPECT_EQ(swept->reconciled, 1);
  EXPECT_TRUE(swept->expired.empty());
  EXPECT_EQ(*sync.BudgetUsage({budget_}, now), std::vector<int64_t>{0});
  EXPECT_EQ(sync.Reserve(ForTheHome(now))->state, ClaimState::kReserved);
}

// A second refund with the same id but other content is refused as reused, and leaves the due entry it shares
// with the first (which changed the claim and died before its reconcile) to the sweeper: it used to remove
// it, and the budget stayed charged for good (the simulator found it, seed 7153).
TEST_F(CrashTest, ARefundIdReusedDoesNotTakeAwayTheSweeperEntryOfTheRefundThatDied) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("refund.reconcile");
  SyncStore sync(*store);
  const absl::Time now = kT0 + absl::Hours(5);
  ClaimRecord claim;
  ASSERT_NO_FATAL_FAILURE(RefundedByARefundThatDied(sync, Request(), now, claim));
  EXPECT_THAT(sync.Refund({claim.claim_id, "", "rf", "other-fp", {{"1", 1}}, now}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(*sync.BudgetUsage({budget_}, now), std::vector<int64_t>{kFen}) << "not reconciled yet";
  absl::StatusOr<SweepResult> swept = sync.Sweep(now + absl::Seconds(5));
  ASSERT_THAT(swept, IsOk());
  EXPECT_EQ(swept->reconciled, 1);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, now), std::vector<int64_t>{0});
}

// ---------------------------------------------------------------------------------------------------------
// Listings, serials, voids and corrections across a crash

TEST_F(CrashTest, AClaimIsListedOnceAndAReservationThatDiedBeforeTheBuyerScriptIsSkipped) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("reserve.buyer");
  SyncStore sync(*store);
  EXPECT_THAT(sync.Reserve(Request()), StatusIs(absl::StatusCode::kUnavailable));
  const ClaimRecord other = *sync.Reserve(ForTheHome(kT0 + absl::Seconds(1), "listed"));
  // The dead reservation is in the index (written before the buyer's script), but no claim is behind it.
  const ClaimPosition position = PositionOf(kT0, Request().claim_id);
  const std::string index =
      store->keys().DayIndex(position.day, RedisQuotaKeys::IndexShard(Request().claim_id));
  EXPECT_THAT(server_->Run({"ZSCORE", index, Request().claim_id}),
              ::tradein::testing::IsOkAndHolds(RedisValue::String(absl::StrCat(position.nanos_in_day))));
  ClaimPageRequest page;
  page.first_day = page.last_day = position.day;
  page.now = kT0;
  page.limit = 1;
  for (bool newest_first : {true, false}) {
    page.newest_first = newest_first;
    const absl::StatusOr<ClaimPage> listed = sync.List(page);
    ASSERT_THAT(listed, IsOk());
    ASSERT_EQ(listed->entries.size(), 1u);
    EXPECT_EQ(listed->entries[0].record.claim_id, other.claim_id);
    EXPECT_FALSE(listed->more) << "the phantom is no further entry";
  }
  // A retry a minute later creates the claim at the first attempt's time: listed once, at its index entry
  // (the retry's own stray entry, of its own time, is skipped).
  const absl::StatusOr<ClaimRecord> retry = [&] {
    ReserveRequest later = Request();
    later.now = kT0 + absl::Minutes(1);
    return sync.Reserve(later);
  }();
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->created_at, kT0);
  page.limit = 10;
  page.newest_first = true;
  const absl::StatusOr<ClaimPage> both = sync.List(page);
  ASSERT_THAT(both, IsOk());
  ASSERT_EQ(both->entries.size(), 2u);
  EXPECT_EQ(both->entries[0].record.claim_id, other.claim_id);
  EXPECT_EQ(both->entries[1].record.claim_id, Request().claim_id);
}

TEST_F(RedisQuotaStoreTest, AnIndexEntryForAnotherTimeThanTheClaimsIsSkipped) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  const ClaimRecord claim =
      *sync.Reserve(ReserveBuilder(TestBuyer(1), "shop", "r1", kT0).Line("1", 1, kFen).Build());
  // What a retry long after the request id expired would write: the claim in another day's index.
  const ClaimPosition elsewhere = PositionOf(kT0 + absl::Hours(24 * 100), claim.claim_id);
  ASSERT_THAT(
      server_->Run({"ZADD", store->keys().DayIndex(elsewhere.day, RedisQuotaKeys::IndexShard(claim.claim_id)),
                    absl::StrCat(elsewhere.nanos_in_day), claim.claim_id}),
      IsOk());
  ClaimPageRequest page;
  page.first_day = absl::CivilDay(2025, 6, 1);
  page.last_day = elsewhere.day;
  page.now = kT0;
  const absl::StatusOr<ClaimPage> listed = sync.List(page);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->entries.size(), 1u);
  EXPECT_EQ(listed->entries[0].cursor, EncodeClaimCursor(PositionOf(kT0, claim.claim_id)));
}

TEST_F(CrashTest, SerialsTakenByAConfirmThatDiedEndWithTheHoldOrAreConfirmedByARetry) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("confirm.commit");
  SyncStore sync(*store);
  const ClaimRecord claim = *sync.Reserve(Request());
  EXPECT_THAT(sync.ConfirmWith(claim.claim_id, kT0, {Serial("S1", "1")}),
              StatusIs(absl::StatusCode::kUnavailable));
  auto other_confirm = [&](absl::Time now, const std::string& request) {
    const ClaimRecord other =
        *sync.Reserve(ReserveBuilder(TestBuyer(5), "shop", request, now).Line("1", 1, kFen).Build());
    return sync.ConfirmWith(other.claim_id, now, {Serial("S1", "1")});
  };
  // Held for the claim while its hold lasts.
  EXPECT_THAT(other_confirm(kT0 + absl::Minutes(1), "o1"), StatusIs(absl::StatusCode::kFailedPrecondition));
  // A retry with the same serial confirms.
  const absl::StatusOr<ClaimRecord> retry =
      sync.ConfirmWith(claim.claim_id, kT0 + absl::Minutes(2), {Serial("S1", "1")});
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->state, ClaimState::kConfirmed);
  EXPECT_THAT(other_confirm(end_ + absl::Hours(1), "o2"), StatusIs(absl::StatusCode::kFailedPrecondition))
      << "committed: held after the hold end too";
  EXPECT_THAT(server_->Run({"PTTL", store->keys().Serial(Serial("S1", "1"))}),
              ::tradein::testing::IsOkAndHolds(RedisValue::Integer(-1)));
}

TEST_F(CrashTest, SerialsCommittedForAClaimThatNeverGotConfirmedAreReleasedByTheSweeper) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("confirm.final");
  SyncStore sync(*store);
  const ClaimRecord claim = *sync.Reserve(Request());
  EXPECT_THAT(sync.ConfirmWith(claim.claim_id, kT0, {Serial("S1", "1")}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(server_->Run({"GET", store->keys().Serial(Serial("S1", "1"))}),
              ::tradein::testing::IsOkAndHolds(RedisValue::String(absl::StrCat(claim.claim_id, "|0"))));
  // The claim stays RESERVED and expires; the sweeper gives back the serial it committed.
  absl::StatusOr<SweepResult> swept = sync.Sweep(end_);
  ASSERT_THAT(swept, IsOk());
  ASSERT_EQ(swept->expired.size(), 1u);
  EXPECT_GE(swept->reconciled, 1);
  const ClaimRecord other =
      *sync.Reserve(ReserveBuilder(TestBuyer(5), "shop", "o", end_).Line("1", 1, kFen).Build());
  EXPECT_THAT(sync.ConfirmWith(other.claim_id, end_, {Serial("S1", "1")}), IsOk());
}

// A serial fix whose first attempt died after taking the new serial, tried again after that hold ended and
// refused, lets the serial go: a hold of the claim's that ended is no longer the claim's, so the retry takes
// it fresh. It used to keep it for 10 more minutes, and another claim's confirmation with that serial was
// refused (the simulator found it: seed 20070).
TEST_F(CrashTest, ARefusedSerialFixLetsGoOfTheSerialAnEarlierAttemptHeldUntilItsHoldEnded) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("correct.buyer");
  SyncStore sync(*store);
  const ClaimRecord claim =
      *sync.Reserve(ReserveBuilder(TestBuyer(3), "shop", "s", kT0).Line("1", 1, kFen).Build());
  ASSERT_THAT(sync.ConfirmWith(claim.claim_id, kT0, {Serial("S1", "1")}), IsOk());
  EXPECT_THAT(sync.Correct(SerialFix(claim.claim_id, "f1", "1", "S1", "S2", kT0)),
              StatusIs(absl::StatusCode::kUnavailable));
  const absl::Time later = kT0 + absl::Hours(1);  // the first attempt's hold of S2 has ended
  EXPECT_EQ(ErrorReason(sync.Correct(SerialFix(claim.claim_id, "f2", "1", "S9", "S2", later)).status()),
            "SERIAL_NOT_ON_LINE");
  const ClaimRecord other =
      *sync.Reserve(ReserveBuilder(TestBuyer(5), "shop", "o", later).Line("1", 1, kFen).Build());
  EXPECT_THAT(sync.ConfirmWith(other.claim_id, later, {Serial("S2", "1")}), IsOk());
}

TEST_F(CrashTest, BeforeTheReconcileOfAVoidTheSweeperFinishesIt) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("void.reconcile");
  SyncStore sync(*store);
  const ClaimRecord claim = *sync.Reserve(Request());
  ASSERT_THAT(sync.Confirm(claim.claim_id, kT0), IsOk());
  const absl::Time now = kT0 + absl::Hours(5);
  ASSERT_THAT(sync.Sweep(now), IsOk());  // the claim's own due entry is gone
  EXPECT_THAT(sync.Void({claim.claim_id, "v", "fv", now}), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(sync.Get(claim.claim_id, now)->state, ClaimState::kVoided);
  EXPECT_EQ(*sync.Usage(buyer_, {counter_}, now), std::vector<int64_t>{0});  // the buyer's slot is done
  EXPECT_EQ(*sync.BudgetUsage({budget_}, now), std::vector<int64_t>{kFen});  // the budget not yet
  EXPECT_EQ(sync.Reserve(ForTheHome(now))->state, ClaimState::kRejected);    // nor the home
  absl::StatusOr<SweepResult> swept = sync.Sweep(now + absl::Seconds(5));
  ASSERT_THAT(swept, IsOk());
  EXPECT_EQ(swept->reconciled, 1);
  EXPECT_TRUE(swept->expired.empty());
  EXPECT_EQ(*sync.BudgetUsage({budget_}, now), std::vector<int64_t>{0});
  EXPECT_EQ(sync.Reserve(ForTheHome(now, "other-2"))->state, ClaimState::kReserved);
  // A retry answers the void, replayed.
  EXPECT_TRUE(sync.Void({claim.claim_id, "v", "fv", now})->replayed);
}

TEST_F(CrashTest, BeforeTheReconcileOfACorrectionARetryOrTheSweeperFinishesIt) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("correct.reconcile");
  SyncStore sync(*store);
  const ClaimRecord claim = *sync.Reserve(Request());
  ASSERT_THAT(sync.Confirm(claim.claim_id, kT0), IsOk());
  const CorrectRequest correct{claim.claim_id, "c", "fc", {{"1", kFen / 4}}, kT0};
  EXPECT_THAT(sync.Correct(correct), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(sync.Get(claim.claim_id, kT0)->grants[0].fen, kFen / 4);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{kFen});
  const absl::StatusOr<ClaimRecord> retry = sync.Correct(correct);
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{kFen / 4});
  // The correction's due entry (left by the crash) is only a reconcile: no expiry is reported twice.
  absl::StatusOr<SweepResult> swept = sync.Sweep(kT0 + absl::Seconds(5));
  ASSERT_THAT(swept, IsOk());
  EXPECT_TRUE(swept->expired.empty());
  EXPECT_EQ(*sync.BudgetUsage({budget_}, kT0), std::vector<int64_t>{kFen / 4});
}

// ---------------------------------------------------------------------------------------------------------
// Races: several threads, several instances (stores on their own clients), one Redis

// ---------------------------------------------------------------------------------------------------------
// Rolling deploy: instances of the layout before 2026-12 (v1) and of this one share a Redis
// (docs/quota-ledger.md, "Rolling deploy"). These tests write what a v1 instance leaves and show that this
// version reads and finishes it, and that it writes what a v1 instance reads.

// A canonical text of a MessagePack value (maps by sorted key), to compare what two writers stored; a map's
// field `skip` is left out.
std::string Canonical(const msgpack::Value& v, absl::string_view skip = "") {
  switch (v.type()) {
    case msgpack::Value::Type::kNil:
      return "nil";
    case msgpack::Value::Type::kBool:
      return v.AsBool() ? "true" : "false";
    case msgpack::Value::Type::kInt:
      return absl::StrCat(v.AsInt());
    case msgpack::Value::Type::kBytes:
      return absl::StrCat("\"", v.AsBytes(), "\"");
    case msgpack::Value::Type::kArray: {
      std::vector<std::string> items;
      for (const msgpack::Value& item : v.AsArray()) items.push_back(Canonical(item));
      return absl::StrCat("[", absl::StrJoin(items, ","), "]");
    }
    case msgpack::Value::Type::kMap: {
      std::map<std::string, std::string> fields;
      for (const auto& [key, value] : v.AsMap()) {
        if (key != skip) fields[std::string(key)] = Canonical(value);
      }
      return absl::StrCat("{", absl::StrJoin(fields, ",", absl::PairFormatter("=")), "}");
    }
  }
  return "?";
}

// Everything a claim leaves in its buyer's slot, claims decoded (without gf, which only full grants write):
// what full grants and confirmations in place must reproduce.
std::string BuyerSlot(RedisServer& server, const RedisQuotaStore& store, const BuyerRef& buyer) {
  const std::vector<std::string> keys = store.keys().Buyer(buyer.tag);
  std::string out;
  const absl::StatusOr<RedisValue> claims = server.Run({"HGETALL", keys[0]});
  const absl::StatusOr<RedisValue> counters = server.Run({"HGETALL", keys[1]});
  const absl::StatusOr<RedisValue> holds = server.Run({"ZRANGE", keys[2], "0", "-1", "WITHSCORES"});
  const absl::StatusOr<RedisValue> ledger = server.Run({"LRANGE", keys[3], "0", "-1"});
  for (const absl::StatusOr<RedisValue>* reply : {&claims, &counters, &holds, &ledger}) {
    if (!reply->ok()) return reply->status().ToString();
    for (const RedisValue& element : (*reply)->elements()) {
      const absl::StatusOr<msgpack::Document> record = msgpack::Parse(element.str());
      if (!record.ok() || record->type() != msgpack::Value::Type::kMap) {
        absl::StrAppend(&out, element.str(), "\n");
        continue;
      }
      absl::StrAppend(&out, Canonical(*record, /*skip=*/"gf"), "\n");
    }
    absl::StrAppend(&out, "--\n");
  }
  return out;
}

// `request` reserved, then confirmed (a minute later, by its retailer), on `store`: both answers, the buyer's
// slot after each (BuyerSlot), and the claim's record as stored after the confirmation. A call that fails
// fails the test, and what is left stays empty.
struct ReservedThenConfirmed {
  ClaimRecord reserved, confirmed;
  std::string slot_reserved, slot_confirmed, stored;
};
ReservedThenConfirmed ReserveThenConfirm(RedisServer& server, RedisQuotaStore& store,
                                         const ReserveRequest& request) {
  ReservedThenConfirmed out;
  SyncStore sync(store);
  const absl::StatusOr<ClaimRecord> claim = sync.Reserve(request);
  EXPECT_THAT(claim, IsOk());
  if (!claim.ok()) return out;
  out.reserved = *claim;
  out.slot_reserved = BuyerSlot(server, store, request.buyer);
  const absl::StatusOr<ClaimRecord> done =
      sync.Confirm(claim->claim_id, request.now + absl::Minutes(1), request.retailer_id);
  EXPECT_THAT(done, IsOk());
  if (!done.ok()) return out;
  out.confirmed = *done;
  out.slot_confirmed = BuyerSlot(server, store, request.buyer);
  const absl::StatusOr<RedisValue> packed =
      server.Run({"HGET", store.keys().Buyer(request.buyer.tag)[0], claim->claim_id});
  EXPECT_THAT(packed, IsOk());
  if (packed.ok()) out.stored = packed->str();
  return out;
}

// Only a full grant writes its record in its own field order, st first, which a confirmation in place keeps
// (the general path packs it in Lua's order): true when both did the work.
bool ConfirmedInPlace(const std::string& stored) {
  return absl::StartsWith(stored, std::string("\xde\x00\x12\xa2st\x02", 7));
}

// The full grant (scripts.h FullGrant) stores the claim, counters, hold and ledger line the script's general
// path stores for the same request, and the confirmation in place (buyer_confirm.lua confirm_in_place) what
// the general confirmation does; both answer the same claim. So instances with and without them share a
// Redis.
TEST_F(RedisQuotaStoreTest, FullGrantsAndConfirmationsInPlaceLeaveWhatTheGeneralPathLeaves) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const ReserveRequest request =
      ReserveBuilder(TestBuyer(1), "shop", "r1", kT0)
          .Line("phone", 2, kFen, {Units("u:phones", 3), Fen("f:total", 10 * kFen)})
          .Line("free", 1, 0, {Units("u:phones", 3)})
          .Line("none", 0, kFen, {Fen("f:total", 10 * kFen)})
          .Line("tv", 1, 3 * kFen, {Fen("f:total", 10 * kFen)})
          .RestoresQuotaOnRefund(true)
          .Build();
  std::vector<ReservedThenConfirmed> runs;  // the general path, then full grants
  for (bool full_grants : {false, true}) {
    runs.push_back(ReserveThenConfirm(*server_, *EmptyStore(full_grants), request));
    // Only a full grant writes gf.
    EXPECT_EQ((*msgpack::Parse(runs.back().stored))["gf"].AsInt(), full_grants ? 5 * kFen : 0)
        << "the fen granted";
    EXPECT_EQ(ConfirmedInPlace(runs.back().stored), full_grants);
  }
  const ReservedThenConfirmed& g = runs[0];
  const ReservedThenConfirmed& f = runs[1];
  EXPECT_EQ(f.slot_reserved, g.slot_reserved);
  EXPECT_EQ(f.slot_confirmed, g.slot_confirmed);
  EXPECT_THAT(g.slot_reserved, HasSubstr("u:phones\n2\n")) << "the phones' units were charged";
  EXPECT_THAT(g.slot_confirmed, HasSubstr("invoice-1")) << "the confirmation was stored";
  for (const auto& [general, full] :
       {std::pair{&g.reserved, &f.reserved}, std::pair{&g.confirmed, &f.confirmed}}) {
    EXPECT_EQ(full->state, general == &g.reserved ? ClaimState::kReserved : ClaimState::kConfirmed);
    EXPECT_EQ(full->grants, general->grants);
    EXPECT_EQ(full->refunds, general->refunds);
    EXPECT_EQ(full->GrantedFen(), 5 * kFen);
    EXPECT_EQ(std::tie(full->claim_id, full->retailer_id, full->request_id, full->draft, full->confirmation),
              std::tie(general->claim_id, general->retailer_id, general->request_id, general->draft,
                       general->confirmation));
    EXPECT_EQ(std::tie(full->created_at, full->updated_at, full->expires_at, full->replayed),
              std::tie(general->created_at, general->updated_at, general->expires_at, general->replayed));
  }
}

// With once-keys and budgets the full grant stores what the general path stores too (the claim holds them),
// and its confirmation in place asks the caller to commit them in their slots (NEEDS_COMMIT with the stored
// record, whose plan the C++ reads from its lines) and then confirms it: the same claim, slot and budget.
TEST_F(RedisQuotaStoreTest, AFullGrantWithOnceKeysAndBudgetsLeavesWhatTheGeneralPathLeaves) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const BuyerRef buyer = TestBuyer(1);
  const BudgetRef pool = Budget("pool", 10 * kFen);
  const ReserveRequest request = ReserveBuilder(buyer, "shop", "r1", kT0)
                                     .Line("kitchen", 1, 2 * kFen, {Units("u:reno", 1)}, {Home("h1")}, {pool})
                                     .Line("fridge", 2, kFen, {Units("u:fridge", 2)}, {}, {pool})
                                     .Line("phone", 1, kFen, {Units("u:phones", 3)})
                                     .Build();
  std::vector<ReservedThenConfirmed> runs;  // the general path, then full grants
  std::vector<int64_t> budget_used;
  for (bool full_grants : {false, true}) {
    std::unique_ptr<RedisQuotaStore> store = EmptyStore(full_grants);
    runs.push_back(ReserveThenConfirm(*server_, *store, request));
    EXPECT_EQ(runs.back().reserved.GrantedFen(), 5 * kFen);
    EXPECT_EQ(ConfirmedInPlace(runs.back().stored), full_grants);
    SyncStore sync(*store);
    budget_used.push_back(sync.BudgetUsage({pool}, kT0 + absl::Hours(2))->at(0));
    // Committed elsewhere too: the home's once-key outlives the hold, so a second kitchen is refused.
    const absl::StatusOr<ClaimRecord> again =
        sync.Reserve(ReserveBuilder(buyer, "shop", "r2", kT0 + absl::Hours(2))
                         .Line("kitchen", 1, 2 * kFen, {Units("u:reno", 5)}, {Home("h1")}, {pool})
                         .Build());
    ASSERT_THAT(again, IsOk());
    EXPECT_EQ(again->grants[0].units, 0) << "the home's renovation was subsidised";
  }
  const ReservedThenConfirmed& g = runs[0];
  const ReservedThenConfirmed& f = runs[1];
  EXPECT_EQ(f.slot_reserved, g.slot_reserved);
  EXPECT_EQ(f.slot_confirmed, g.slot_confirmed);
  EXPECT_EQ(f.confirmed.state, ClaimState::kConfirmed);
  EXPECT_EQ(f.confirmed.grants, g.confirmed.grants);
  EXPECT_EQ(
      std::tie(f.confirmed.draft, f.confirmed.confirmation, f.confirmed.updated_at, f.confirmed.replayed),
      std::tie(g.confirmed.draft, g.confirmed.confirmation, g.confirmed.updated_at, g.confirmed.replayed));
  EXPECT_EQ(budget_used, (std::vector<int64_t>{4 * kFen, 4 * kFen})) << "committed: the kitchen and fridges";
}

// A claim the full grant cannot cover in full (a counter short, or a claim whose hold is due in the slot) is
// decided by the general path: the same answer as without full grants.
TEST_F(RedisQuotaStoreTest, AFullGrantThatDoesNotFitFallsBackToTheGeneralPath) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  const BuyerRef buyer = TestBuyer(1);
  const ClaimRecord first =
      *sync.Reserve(ReserveBuilder(buyer, "shop", "r1", kT0).Line("1", 2, kFen, {Units("u", 3)}).Build());
  EXPECT_EQ(first.grants[0].units, 2);
  // One unit left of three: cut to it, QUOTA_EXHAUSTED, by the general path.
  const ClaimRecord second = *sync.Reserve(ReserveBuilder(buyer, "shop", "r2", kT0 + absl::Seconds(1))
                                               .Line("1", 2, kFen, {Units("u", 3)})
                                               .Build());
  EXPECT_EQ(second.grants[0].units, 1);
  EXPECT_TRUE(second.grants[0].reasons.Contains(ReasonCode::kQuotaExhausted));
  // After both holds ended, a full grant finds them due: the general path expires them first, then grants.
  const ClaimRecord third = *sync.Reserve(
      ReserveBuilder(buyer, "shop", "r3", kT0 + absl::Hours(1)).Line("1", 3, kFen, {Units("u", 3)}).Build());
  EXPECT_EQ(third.grants[0].units, 3);
  EXPECT_EQ(sync.Get(first.claim_id, kT0 + absl::Hours(1))->state, ClaimState::kExpired);
  // A retry of a decided claim is a replay either way.
  const ClaimRecord again = *sync.Reserve(
      ReserveBuilder(buyer, "shop", "r3", kT0 + absl::Hours(1)).Line("1", 3, kFen, {Units("u", 3)}).Build());
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.grants, third.grants);
}

// Rolling deploy from the layout before claim histories (docs/quota-ledger.md): the history is the claims
// hash's field "<claim id>:h", beside the record and never inside it. Instances of the previous version
// unpack and repack the record alone, so they neither read nor lose a history (and add no event for their
// own changes); this version reads a claim without the field as one with no history, and its next change
// starts one.
TEST_F(RedisQuotaStoreTest, HistoriesWorkAcrossTheOldAndNewClaimLayouts) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();
  SyncStore sync(*store);
  const ClaimRecord claim =
      *sync.Reserve(ReserveBuilder(TestBuyer(1), "shop", "h", kT0).Line("1", 2, kFen).Build());
  ASSERT_THAT(sync.Confirm(claim.claim_id, kT0), IsOk());
  ASSERT_THAT(sync.Refund({claim.claim_id, "", "r1", "f", {{"1", 1}}, kT0, {"till", "returned"}}), IsOk());
  const std::string claims = store->keys().Buyer(TagOfClaimId(claim.claim_id))[0];

  // The record holds only the fields the previous version knows, and gf (the fen granted, which full grants
  // write since 2026-12-05 and only a RESERVED claim's confirmation reads): a field it keeps without knowing.
  absl::StatusOr<RedisValue> packed = server_->Run({"HGET", claims, claim.claim_id});
  ASSERT_THAT(packed, IsOk());
  absl::StatusOr<msgpack::Document> record = msgpack::Parse(packed->str());
  ASSERT_THAT(record, IsOk());
  const std::set<std::string, std::less<>> known = {"st", "rt",  "rq", "fp", "bu", "cr", "up",
                                                    "ex", "rs",  "ln", "rf", "vd", "co", "bk",
                                                    "ok", "okr", "sp", "rp", "gf"};
  for (const auto& [field, value] : record->AsMap()) EXPECT_TRUE(known.contains(field)) << field;

  // The previous version's refund rewrites the record (the same layout) and leaves the history alone.
  ASSERT_THAT(server_->Run({"HSET", claims, claim.claim_id, packed->str()}), IsOk());
  EXPECT_EQ(sync.Get(claim.claim_id, kT0)->history.size(), 1u);

  // A claim only the previous version changed has no history field: read as none, started by the next change.
  ASSERT_THAT(server_->Run({"HDEL", claims, absl::StrCat(claim.claim_id, ":h")}), IsOk());
  const absl::StatusOr<ClaimRecord> old = sync.Get(claim.claim_id, kT0);
  ASSERT_THAT(old, IsOk());
  EXPECT_TRUE(old->history.empty());
  EXPECT_EQ(old->refunds[0], (LineRefund{1, kFen}));
  const absl::StatusOr<ClaimRecord> voided = sync.Void({claim.claim_id, "v1", "fv", kT0, {"ops", "fraud"}});
  ASSERT_THAT(voided, IsOk());
  ASSERT_EQ(voided->history.size(), 1u);
  EXPECT_EQ(voided->history[0].kind, ClaimEvent::Kind::kVoided);
  EXPECT_EQ(voided->history[0].lines, (std::vector<ClaimEvent::Line>{{"1", 1, kFen, 0}}));
}

TEST_F(RedisQuotaStoreTest, RetailerListingsWorkAcrossTheOldAndNewRetailerIndexLayouts) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisQuotaStore> store = MakeStore();  // legacy_retailer_index on: the default
  SyncStore sync(*store);
  const ClaimRecord mixed =
      *sync.Reserve(ReserveBuilder(TestBuyer(1), "shop", "mixed", kT0).Line("1", 1, kFen).Build());
  const ClaimPosition position = PositionOf(kT0, mixed.claim_id);
  const std::string legacy = store->keys().LegacyRetailerDayIndex("shop", position.day);
  const std::string sharded = store->keys().RetailerDayIndex(
      "shop", position.day, RedisQuotaKeys::RetailerIndexShard(mixed.claim_id));
  // A v1 instance, which reads only the unsharded key, lists this version's claim at the same position.
  EXPECT_THAT(server_->Run({"ZSCORE", legacy, mixed.claim_id}),
              ::tradein::testing::IsOkAndHolds(RedisValue::String(absl::StrCat(position.nanos_in_day))));
  // A claim a v1 instance made is only in the unsharded key.
  const ClaimRecord old = *sync.Reserve(
      ReserveBuilder(TestBuyer(2), "shop", "old", kT0 + absl::Seconds(1)).Line("1", 1, kFen).Build());
  ASSERT_THAT(server_->Run({"ZREM",
                            store->keys().RetailerDayIndex("shop", position.day,
                                                           RedisQuotaKeys::RetailerIndexShard(old.claim_id)),
                            old.claim_id}),
              IsOk());
  // After the deploy the unsharded key is no longer written, and the claims are still listed.
  RedisQuotaStoreOptions after;
  after.legacy_retailer_index = false;
  std::unique_ptr<RedisQuotaStore> upgraded = MakeStore(std::move(after));
  SyncStore upgraded_sync(*upgraded);
  const ClaimRecord fresh = *upgraded_sync.Reserve(
      ReserveBuilder(TestBuyer(3), "shop", "fresh", kT0 + absl::Seconds(2)).Line("1", 1, kFen).Build());
  EXPECT_THAT(server_->Run({"ZSCORE", legacy, fresh.claim_id}),
              ::tradein::testing::IsOkAndHolds(RedisValue()));
  EXPECT_THAT(server_->Run({"ZSCORE", sharded, mixed.claim_id}),
              ::tradein::testing::IsOkAndHolds(RedisValue::String(absl::StrCat(position.nanos_in_day))));
  ClaimPageRequest page;
  page.retailer_id = "shop";
  page.first_day = page.last_day = position.day;
  page.now = kT0;
  page.newest_first = false;
  for (int limit : {1, 10}) {  // one per page and all at once: each claim once, in order
    page.limit = limit;
    page.cursor.clear();
    std::vector<std::string> listed;
    for (int pages = 0; pages < 10; ++pages) {
      const absl::StatusOr<ClaimPage> got = upgraded_sync.List(page);
      ASSERT_THAT(got, IsOk());
      for (const ClaimPage::Entry& entry : got->entries) listed.push_back(entry.record.claim_id);
      if (!got->more) break;
      page.cursor = got->entries.back().cursor;
    }
    EXPECT_EQ(listed, (std::vector<std::string>{mixed.claim_id, old.claim_id, fresh.claim_id}))
        << "limit " << limit;
  }
}

TEST_F(CrashTest, AConfirmationEntryOfTheOldLayoutIsSweptAndItsExpiryReportedOnce) {
  std::unique_ptr<RedisQuotaStore> store = Crashing("confirm.final");
  SyncStore sync(*store);
  const ClaimRecord claim = *sync.Reserve(Request());
  EXPECT_THAT(sync.Confirm(claim.claim_id, kT0 + absl::Minutes(1)), StatusIs(absl::StatusCode::kUnavailable));
  // What a v1 instance that died after its commit leaves: the budget entry and the home committed for a
  // RESERVED claim, and only a "<claim>#confirm" due entry (v1's member) to finish it.
  const std::string due = store->keys().Due(RedisQuotaKeys::DueShard(claim.claim_id));
  absl::StatusOr<RedisValue> members = server_->Run({"ZRANGE", due, "0", "-1"});
  ASSERT_THAT(members, IsOk());
  for (const RedisValue& member : members->elements()) {
    if (!absl::StartsWith(member.str(), claim.claim_id)) continue;
    ASSERT_THAT(server_->Run({"ZREM", due, member.str()}), IsOk());
  }
  ASSERT_THAT(server_->Run({"ZADD", due, absl::StrCat(absl::ToUnixMillis(end_)),
                            absl::StrCat(claim.claim_id, "#confirm")}),
              IsOk());
  absl::StatusOr<SweepResult> swept = sync.Sweep(end_);
  ASSERT_THAT(swept, IsOk());
  ASSERT_EQ(swept->expired.size(), 1u);
  EXPECT_EQ(swept->expired[0].claim_id, claim.claim_id);
  EXPECT_EQ(swept->reconciled, 1);
  EXPECT_EQ(*sync.BudgetUsage({budget_}, end_), std::vector<int64_t>{0});
  EXPECT_EQ(sync.Reserve(ForTheHome(end_))->state, ClaimState::kReserved);
  EXPECT_THAT(server_->Run({"ZSCORE", due, absl::StrCat(claim.claim_id, "#confirm")}),
              ::tradein::testing::IsOkAndHolds(RedisValue()));
  absl::StatusOr<SweepResult> later = sync.Sweep(end_ + absl::Hours(1));
  ASSERT_THAT(later, IsOk());
  for (const ClaimRecord& expired : later->expired)
    EXPECT_NE(expired.claim_id, claim.claim_id) << "reported once";
}

class RaceTest : public RedisQuotaStoreTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartInstances(1)); }

  // Four instances with budgets over `budget_shards` shards, each on its own connection.
  void StartInstances(int budget_shards) {
    ASSERT_NO_FATAL_FAILURE(StartServer());
    for (int i = 0; i < 4; ++i) {
      clients_.push_back(Connect(ClientOptions(*server_)));
      ASSERT_NE(clients_.back(), nullptr);
      RedisQuotaStoreOptions options;
      options.budget_shards = budget_shards;
      stores_.push_back(std::make_unique<RedisQuotaStore>(*clients_.back(), std::move(options)));
      store_ptrs_.push_back(stores_.back().get());
    }
  }

  std::vector<std::unique_ptr<RedisClient>> clients_;
  std::vector<std::unique_ptr<RedisQuotaStore>> stores_;
  std::vector<QuotaStore*> store_ptrs_;
};

TEST_F(RaceTest, TwoHundredClaimsOfOneBuyerForOneProductTypeGetExactlyTheLimit) {
  const BuyerRef buyer = TestBuyer(1);
  const CounterLimit fridge = Units("appliance:fridge", 5);
  std::vector<ReserveRequest> requests;
  for (int i = 0; i < 200; ++i) {
    requests.push_back(
        ReserveBuilder(buyer, "shop", absl::StrCat("r", i), kT0).Line("1", 1, kFen, {fridge}).Build());
  }
  const std::vector<absl::StatusOr<ClaimRecord>> results = ReserveConcurrently(store_ptrs_, requests, 8);
  int granted = 0, rejected = 0;
  for (const absl::StatusOr<ClaimRecord>& r : results) {
    ASSERT_THAT(r, IsOk());
    granted += r->grants[0].units;
    rejected += r->state == ClaimState::kRejected;
  }
  EXPECT_EQ(granted, 5);
  EXPECT_EQ(rejected, 195);
  SyncStore sync(*stores_[0]);
  EXPECT_EQ(*sync.Usage(buyer, {fridge}, kT0), std::vector<int64_t>{5});
}

// Over shards too: claims race to lease, drain and allocate on the budget itself; the last fen is exact.
class ShardedRaceTest : public RaceTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartInstances(4)); }
};

void ExpectTwoHundredClaimsAgainstABudgetThatFitsThirtySevenGetThirtySeven(
    const std::vector<QuotaStore*>& stores) {
  const BudgetRef budget = Budget("b", 37 * kFen + kFen / 2);
  std::vector<ReserveRequest> requests;
  for (int i = 0; i < 200; ++i) {
    requests.push_back(ReserveBuilder(TestBuyer(i), "shop", absl::StrCat("r", i), kT0)
                           .Line("1", 1, kFen, {Units("a", 1)}, {}, {budget})
                           .Build());
  }
  const std::vector<absl::StatusOr<ClaimRecord>> results = ReserveConcurrently(stores, requests, 8);
  int reserved = 0;
  for (const absl::StatusOr<ClaimRecord>& r : results) {
    ASSERT_THAT(r, IsOk());
    if (r->state == ClaimState::kReserved) {
      ++reserved;
    } else {
      EXPECT_TRUE(r->grants[0].reasons.Contains(ReasonCode::kBudgetExhausted));
    }
  }
  EXPECT_EQ(reserved, 37);
  SyncStore sync(*stores[0]);
  EXPECT_EQ(*sync.BudgetUsage({budget}, kT0), std::vector<int64_t>{37 * kFen});
}

TEST_F(RaceTest, TwoHundredClaimsAgainstABudgetThatFitsThirtySevenGetThirtySeven) {
  ExpectTwoHundredClaimsAgainstABudgetThatFitsThirtySevenGetThirtySeven(store_ptrs_);
}

TEST_F(ShardedRaceTest, TwoHundredClaimsAgainstABudgetThatFitsThirtySevenGetThirtySeven) {
  ExpectTwoHundredClaimsAgainstABudgetThatFitsThirtySevenGetThirtySeven(store_ptrs_);
}

TEST_F(RaceTest, TheSameReserveFiftyTimesAtOnceMakesOneClaim) {
  const BuyerRef buyer = TestBuyer(1);
  const BudgetRef budget = Budget("b", 10 * kFen);
  const ReserveRequest request = ReserveBuilder(buyer, "shop", "r1", kT0)
                                     .Line("1", 2, kFen, {Units("a", 1)}, {Home("h")}, {budget})
                                     .Build();
  const std::vector<absl::StatusOr<ClaimRecord>> results =
      ReserveConcurrently(store_ptrs_, std::vector<ReserveRequest>(50, request), 8);
  int first = 0;
  for (const absl::StatusOr<ClaimRecord>& r : results) {
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->claim_id, request.claim_id);
    EXPECT_EQ(r->state, ClaimState::kReserved);
    EXPECT_EQ(r->grants[0].units, 1);
    first += r->replayed ? 0 : 1;
  }
  EXPECT_EQ(first, 1);
  SyncStore sync(*stores_[0]);
  EXPECT_EQ(*sync.Usage(buyer, {Units("a", 1)}, kT0), std::vector<int64_t>{1});
  EXPECT_EQ(*sync.BudgetUsage({budget}, kT0), std::vector<int64_t>{kFen});
}

TEST_F(RaceTest, FiftyBuyersForOneHomeOneGetsIt) {
  std::vector<ReserveRequest> requests;
  for (int i = 0; i < 50; ++i) {
    requests.push_back(ReserveBuilder(TestBuyer(i), "shop", absl::StrCat("r", i), kT0)
                           .Line("1", 1, kFen, {}, {Home("h")})
                           .Build());
  }
  const std::vector<absl::StatusOr<ClaimRecord>> results = ReserveConcurrently(store_ptrs_, requests, 8);
  int reserved = 0;
  for (const absl::StatusOr<ClaimRecord>& r : results) {
    ASSERT_THAT(r, IsOk());
    reserved += r->state == ClaimState::kReserved;
  }
  EXPECT_EQ(reserved, 1);
}

TEST_F(RaceTest, ConfirmAndCancelOfOneClaimAtOnceOneWinsAndTheBudgetAgrees) {
  const BudgetRef budget = Budget("b", 100 * kFen);
  for (int round = 0; round < 20; ++round) {
    SyncStore sync(*stores_[0]);
    const ClaimRecord claim =
        *sync.Reserve(ReserveBuilder(TestBuyer(round), "shop", absl::StrCat("r", round), kT0)
                          .Line("1", 1, kFen, {}, {Home(absl::StrCat("h", round))}, {budget})
                          .Build());
    ASSERT_EQ(claim.state, ClaimState::kReserved);
    absl::StatusOr<ClaimRecord> confirmed, cancelled;
    std::thread a([&] { confirmed = SyncStore(*stores_[1]).Confirm(claim.claim_id, kT0); });
    std::thread b([&] { cancelled = SyncStore(*stores_[2]).Cancel(claim.claim_id, kT0); });
    a.join();
    b.join();
    EXPECT_NE(confirmed.ok(), cancelled.ok()) << confirmed.status() << " / " << cancelled.status();
    const ClaimState state = sync.Get(claim.claim_id, kT0 + absl::Hours(2))->state;
    EXPECT_EQ(state, confirmed.ok() ? ClaimState::kConfirmed : ClaimState::kCancelled);
  }
  // Whatever won, the budget holds exactly the confirmed claims, long after every hold ended.
  SyncStore sync(*stores_[0]);
  int confirmed = 0;
  for (int round = 0; round < 20; ++round) {
    const std::string id =
        ReserveBuilder(TestBuyer(round), "shop", absl::StrCat("r", round), kT0).Build().claim_id;
    confirmed += sync.Get(id, kT0 + absl::Hours(2))->state == ClaimState::kConfirmed;
  }
  EXPECT_EQ(*sync.BudgetUsage({budget}, kT0 + absl::Hours(2)), std::vector<int64_t>{confirmed * kFen});
}

TEST_F(RaceTest, InstancesSweepingAtOnceReportEachExpiryOnce) {
  SyncStore sync(*stores_[0]);
  std::set<std::string> reserved;
  for (int i = 0; i < 120; ++i) {
    const ClaimRecord claim =
        *sync.Reserve(ReserveBuilder(TestBuyer(i), "shop", absl::StrCat("r", i), kT0)
                          .Line("1", 1, kFen, {Units("a", 1)}, {}, {Budget("b", 1000 * kFen)})
                          .Build());
    reserved.insert(claim.claim_id);
  }
  absl::Mutex mu;
  std::vector<std::string> reported;
  std::vector<std::thread> sweepers;
  for (size_t s = 0; s < stores_.size(); ++s) {
    sweepers.emplace_back([&, s] {
      for (int pass = 0; pass < 5; ++pass) {
        absl::StatusOr<SweepResult> result = SyncStore(*stores_[s]).Sweep(kT0 + absl::Hours(1), 50);
        ASSERT_THAT(result, IsOk());
        absl::MutexLock lock(&mu);
        for (const ClaimRecord& c : result->expired) reported.push_back(c.claim_id);
      }
    });
  }
  for (std::thread& t : sweepers) t.join();
  std::set<std::string> distinct(reported.begin(), reported.end());
  EXPECT_EQ(reported.size(), distinct.size()) << "an expiry was reported twice";
  EXPECT_EQ(distinct, reserved);
  EXPECT_EQ(*sync.BudgetUsage({Budget("b", 1000 * kFen)}, kT0 + absl::Hours(1)), std::vector<int64_t>{0});
}

// Random traffic from 8 threads over 4 instances, with `now`s that disagree by up to two minutes around 30 s
// holds, so confirms, cancels, refunds, expiries and sweeps race at hold ends. Afterwards (every hold over,
// swept) the ledger must be exactly the confirmed claims: no counter, budget or home over-granted or left
// behind.
TEST_F(RaceTest, RandomConcurrentTrafficLeavesExactlyTheConfirmedClaims) {
  constexpr int kBuyers = 24;
  constexpr int kHomes = 20;
  const CounterLimit fridge = Units("fridge", 2);
  const BudgetRef budget = Budget("b", 12 * kFen);
  absl::Mutex mu;
  std::vector<std::string> claims;
  std::map<std::string, int> buyer_of, home_of;
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(100 + t));
      auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
      SyncStore sync(*stores_[static_cast<size_t>(t) % stores_.size()]);
      for (int op = 0; op < 120; ++op) {
        const absl::Time now = kT0 + absl::Seconds(pick(120));
        std::string claim;
        {
          absl::MutexLock lock(&mu);
          if (!claims.empty()) claim = claims[static_cast<size_t>(pick(static_cast<int>(claims.size())))];
        }
        const int what = claim.empty() ? 0 : pick(10);
        absl::StatusOr<ClaimRecord> result = absl::UnknownError("none");
        if (what < 4) {
          const int buyer = pick(kBuyers), home = pick(kHomes);
          const ReserveRequest request =
              ReserveBuilder(TestBuyer(buyer), "shop", absl::StrCat("t", t, "-", pick(2) == 0 ? 0 : op), now,
                             absl::Seconds(30))
                  .Line("1", 1, kFen, {fridge}, {Home(absl::StrCat("h", home))}, {budget})
                  .Build();
          result = sync.Reserve(request);
          if (result.ok() && !result->replayed) {
            absl::MutexLock lock(&mu);
            claims.push_back(result->claim_id);
            buyer_of[result->claim_id] = buyer;
            home_of[result->claim_id] = home;
          }
        } else if (what < 7) {
          result = sync.Confirm(claim, now);
        } else if (what < 8) {
          result = sync.Cancel(claim, now);
        } else if (what < 9) {
          result = sync.Refund({claim, "", absl::StrCat("rf", pick(2)), "fp", {}, now});
        } else {
          EXPECT_THAT(sync.Sweep(now, 20), IsOk());
          continue;
        }
        // Business refusals are fine; the store itself must always answer.
        EXPECT_THAT(result.status().code(),
                    AnyOf(absl::StatusCode::kOk, absl::StatusCode::kFailedPrecondition,
                          absl::StatusCode::kAlreadyExists, absl::StatusCode::kNotFound))
            << result.status();
        answered.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_GT(answered.load(), 500);

  const absl::Time end = kT0 + absl::Hours(1);
  SyncStore sync(*stores_[0]);
  ASSERT_THAT(sync.Sweep(end, 100000), IsOk());
  std::vector<int> confirmed_of_buyer(kBuyers, 0), confirmed_on_home(kHomes, 0);
  int confirmed = 0, states_seen = 0;
  std::set<ClaimState> states;
  for (const std::string& id : claims) {
    const absl::StatusOr<ClaimRecord> claim = sync.Get(id, end);
    ASSERT_THAT(claim, IsOk());
    states.insert(claim->state);
    EXPECT_NE(claim->state, ClaimState::kReserved) << "every hold is over";
    if (claim->state != ClaimState::kConfirmed) continue;
    ++confirmed;
    ++confirmed_of_buyer[static_cast<size_t>(buyer_of[id])];
    ++confirmed_on_home[static_cast<size_t>(home_of[id])];
  }
  states_seen = static_cast<int>(states.size());
  EXPECT_GE(states_seen, 4) << "the traffic should confirm, cancel, refund and expire claims";
  EXPECT_GT(confirmed, 0);
  EXPECT_EQ(*sync.BudgetUsage({budget}, end), std::vector<int64_t>{confirmed * kFen});
  for (int b = 0; b < kBuyers; ++b) {
    EXPECT_LE(confirmed_of_buyer[static_cast<size_t>(b)], 2) << "buyer " << b;
    EXPECT_EQ(*sync.Usage(TestBuyer(b), {fridge}, end),
              std::vector<int64_t>{confirmed_of_buyer[static_cast<size_t>(b)]})
        << "buyer " << b;
  }
  for (int h = 0; h < kHomes; ++h) {
    EXPECT_LE(confirmed_on_home[static_cast<size_t>(h)], 1) << "home " << h;
    // A home no confirmed claim holds is free again; one that is held refuses.
    const absl::StatusOr<ClaimRecord> probe =
        sync.Reserve(ReserveBuilder(TestBuyer(50 + h), "probe", absl::StrCat("p", h), end)
                         .Line("1", 1, 1, {}, {Home(absl::StrCat("h", h))})
                         .Build());
    ASSERT_THAT(probe, IsOk());
    EXPECT_EQ(probe->state,
              confirmed_on_home[static_cast<size_t>(h)] == 1 ? ClaimState::kRejected : ClaimState::kReserved)
        << "home " << h;
  }
}

}  // namespace
}  // namespace tradein::quota::testing
