// ClusterClient and the slot-map parsing it relies on: pure parsing first, then against real Redis Clusters
// (tests/testing/redis_cluster.h): routing, MOVED, ASK, TRYAGAIN, durable writes, and a master that dies.
#include "services/redis/cluster_client.h"

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/redis/cluster_slots.h"
#include "tests/testing/redis_cluster.h"
#include "tests/testing/status_matchers.h"

namespace tradein::redis {
namespace {

using ::testing::HasSubstr;
using ::tradein::testing::IsOk;
using ::tradein::testing::IsOkAndHolds;
using ::tradein::testing::RedisCluster;
using ::tradein::testing::RedisClusterOptions;
using ::tradein::testing::StatusIs;

constexpr absl::Duration kLimit = absl::Seconds(60);  // sanity bound only

RedisValue Node(RedisValue host, int64_t port, std::string id) {
  return RedisValue::Array({std::move(host), RedisValue::Integer(port), RedisValue::String(std::move(id))});
}

RedisValue Range(int64_t first, int64_t last, std::vector<RedisValue> nodes) {
  std::vector<RedisValue> range = {RedisValue::Integer(first), RedisValue::Integer(last)};
  for (RedisValue& node : nodes) range.push_back(std::move(node));
  return RedisValue::Array(std::move(range));
}

TEST(KeySlotTest, HashTagsDecide) {
  EXPECT_EQ(KeySlot("123456789"), 0x31C3 % 16384);  // CRC16-XMODEM check value
  EXPECT_EQ(KeySlot("tq:{b:ab12cd34}:c"), KeySlot("b:ab12cd34"));
  EXPECT_EQ(KeySlot("{}x"), KeySlot("{}x"));
  EXPECT_NE(KeySlot("{}x"), KeySlot("x"));  // an empty tag is no tag: the whole key is hashed
  EXPECT_EQ(KeySlot("a{b}{c}"), KeySlot("b"));
}

TEST(ParseClusterSlotsTest, MastersReplicasAndUnknownHosts) {
  const RedisValue reply = RedisValue::Array({
      Range(0, 5460,
            {Node(RedisValue::String("10.0.0.1"), 7000, "m1"),
             Node(RedisValue::String("10.0.0.4"), 7003, "r1")}),
      Range(5461, 10922,
            {Node(RedisValue(), 7001, "m2"), Node(RedisValue::String("?"), 7004, "r2"),
             Node(RedisValue::String(""), 7005, "r3")}),
      Range(10923, 16000, {Node(RedisValue::String("10.0.0.1"), 7000, "m1")}),
  });
  absl::StatusOr<SlotMap> map = ParseClusterSlots(reply, "seed.example");
  ASSERT_THAT(map, IsOk());
  ASSERT_EQ(map->shards().size(), 2u);
  EXPECT_EQ(map->ShardOf(0)->master.address(), "10.0.0.1:7000");
  EXPECT_EQ(map->ShardOf(12000)->master.address(), "10.0.0.1:7000");  // two ranges, one shard
  EXPECT_EQ(map->ShardOf(5461)->master.address(), "seed.example:7001");
  ASSERT_EQ(map->ShardOf(5461)->replicas.size(), 2u);
  EXPECT_EQ(map->ShardOf(5461)->replicas[0].address(), "seed.example:7004");
  EXPECT_EQ(map->ShardOf(5461)->replicas[1].id, "r3");
  EXPECT_EQ(map->ShardOf(16001), nullptr);
  EXPECT_EQ(map->UncoveredSlots(), 16383 - 16000);
  EXPECT_EQ(map->MinReplicas(), 1);
  EXPECT_THAT(map->DebugString(), HasSubstr("10.0.0.1:7000 0-5460,10923-16000 (1 replicas)"));
}

TEST(ParseClusterSlotsTest, MalformedRepliesAreInternal) {
  for (const RedisValue& bad : {
           RedisValue::Integer(1),
           RedisValue::Array({RedisValue::Integer(0)}),
           RedisValue::Array({Range(10, 5, {Node(RedisValue::String("h"), 1, "")})}),
           RedisValue::Array({Range(0, 16384, {Node(RedisValue::String("h"), 1, "")})}),
           RedisValue::Array({Range(0, 1, {RedisValue::String("h:1")})}),
       }) {
    EXPECT_THAT(ParseClusterSlots(bad, "h"), StatusIs(absl::StatusCode::kInternal)) << bad.DebugString();
  }
}

TEST(ParseRedirectTest, MovedAskAndOthers) {
  std::optional<Redirect> moved = ParseRedirect("MOVED 3999 127.0.0.1:6381", "x");
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->kind, Redirect::Kind::kMoved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->to.address(), "127.0.0.1:6381");
  std::optional<Redirect> ask = ParseRedirect("ASK 1 :6390", "10.1.1.1");
  ASSERT_TRUE(ask.has_value());
  EXPECT_EQ(ask->kind, Redirect::Kind::kAsk);
  EXPECT_EQ(ask->to.address(), "10.1.1.1:6390");
  EXPECT_EQ(ParseRedirect("MOVED [::1]:7000", "x"), std::nullopt);
  EXPECT_EQ(ParseRedirect("MOVED 16384 h:1", "x"), std::nullopt);
  EXPECT_EQ(ParseRedirect("TRYAGAIN Multiple keys request during rehashing of slot", "x"), std::nullopt);
  std::optional<Redirect> v6 = ParseRedirect("MOVED 7 [::1]:7000", "x");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->to.host, "::1");
}

TEST(ParseSeedsTest, ListsAndErrors) {
  absl::StatusOr<std::vector<ClusterEndpoint>> seeds =
      ParseSeeds("10.0.0.1:7000, redis-2:7001,[::1]:7002", "--redis_cluster");
  ASSERT_THAT(seeds, IsOk());
  ASSERT_EQ(seeds->size(), 3u);
  EXPECT_EQ((*seeds)[1].address(), "redis-2:7001");
  EXPECT_EQ((*seeds)[2].host, "::1");
  for (absl::string_view bad : {"", "host", "host:0", ":7000", "h:1,h"}) {
    EXPECT_THAT(ParseSeeds(bad, "--redis_cluster"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--redis_cluster")))
        << bad;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Against a real cluster.

absl::StatusOr<RedisValue> Call(KeyedClient& client, std::vector<std::string> args,
                                absl::Duration deadline = absl::Seconds(10), WriteConcern concern = {}) {
  auto done = std::make_shared<absl::Notification>();
  auto result = std::make_shared<absl::StatusOr<RedisValue>>(absl::InternalError("not called"));
  client.Command(std::move(args), absl::Now() + deadline, concern,
                 [done, result](absl::StatusOr<RedisValue> r) {
                   *result = std::move(r);
                   done->Notify();
                 });
  if (!done->WaitForNotificationWithTimeout(kLimit)) return absl::InternalError("callback not called");
  return *result;
}

absl::StatusOr<RedisValue> RunScript(KeyedClient& client, const RedisScript& script,
                                     std::vector<std::string> keys,
                                     absl::Duration deadline = absl::Seconds(10)) {
  auto done = std::make_shared<absl::Notification>();
  auto result = std::make_shared<absl::StatusOr<RedisValue>>(absl::InternalError("not called"));
  client.EvalScript(script, std::move(keys), {}, absl::Now() + deadline, {},
                    [done, result](absl::StatusOr<RedisValue> r) {
                      *result = std::move(r);
                      done->Notify();
                    });
  if (!done->WaitForNotificationWithTimeout(kLimit)) return absl::InternalError("callback not called");
  return *result;
}

ClusterOptions OptionsFor(const RedisCluster& cluster) {
  ClusterOptions options;
  options.seeds = *ParseSeeds(cluster.seeds(), "seeds");
  options.node.reconnect_backoff_max = absl::Milliseconds(200);
  options.node.connections = 2;
  return options;
}

std::unique_ptr<ClusterClient> Connect(ClusterOptions options) {
  absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Create(std::move(options));
  EXPECT_THAT(client, IsOk());
  if (!client.ok()) return nullptr;
  EXPECT_TRUE((*client)->WaitForSlotMap(absl::Now() + kLimit));
  return *std::move(client);
}

// A key in `slot`, found by trying names.
std::string KeyInSlot(int slot, absl::string_view prefix) {
  for (int i = 0;; ++i) {
    std::string tag = absl::StrCat(prefix, i);
    if (KeySlot(tag) == slot) return tag;
  }
}

class ClusterClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<RedisCluster>> cluster = RedisCluster::Start();
    ASSERT_THAT(cluster, IsOk());
    cluster_ = cluster->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ASSERT_THAT(cluster_->AwaitHealthy(), IsOk());
  }

  static RedisCluster* cluster_;
};

RedisCluster* ClusterClientTest::cluster_ = nullptr;

TEST_F(ClusterClientTest, RoutesEveryKeyToItsMasterAndKnowsTheReplicas) {
  std::unique_ptr<ClusterClient> client = Connect(OptionsFor(*cluster_));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->slot_map()->shards().size(), 3u);
  EXPECT_EQ(client->slot_map()->MinReplicas(), 1);
  for (int i = 0; i < 300; ++i) {
    const std::string key = absl::StrCat("route:", i);
    ASSERT_THAT(Call(*client, {"SET", key, absl::StrCat(i)}), IsOk());
    // The server agrees with the client's slot function, and the key lives on the master the map names.
    if (i % 50 == 0) {
      EXPECT_THAT(cluster_->node(0).Run({"CLUSTER", "KEYSLOT", key}),
                  IsOkAndHolds(RedisValue::Integer(KeySlot(key))));
    }
  }
  for (int i = 0; i < 300; ++i) {
    EXPECT_THAT(Call(*client, {"GET", absl::StrCat("route:", i)}),
                IsOkAndHolds(RedisValue::String(absl::StrCat(i))));
  }
  EXPECT_EQ(client->stats().moved, 0);
  EXPECT_EQ(client->stats().ask, 0);
  // A call without a key runs on every master.
  EXPECT_THAT(RunScript(*client, RedisScript("return 'PONG'"), {}), IsOkAndHolds(RedisValue::String("PONG")));
  EXPECT_GE(client->node_stats().commands_sent, 600 + 3);
}

TEST_F(ClusterClientTest, FollowsMovedAndAskAndRetriesTryAgain) {
  ClusterOptions options = OptionsFor(*cluster_);
  options.refresh_interval = absl::Hours(1);  // only redirects teach the client here
  std::unique_ptr<ClusterClient> client = Connect(options);
  ASSERT_NE(client, nullptr);
  const std::string tag = "{move}";
  const int slot = KeySlot(tag);
  const int from = *cluster_->MasterOf(slot);
  std::vector<int> masters = *cluster_->Masters();
  const int to = masters[0] == from ? masters[1] : masters[0];
  const std::string a = tag + "a", b = tag + "b", c = tag + "c";
  for (const std::string& key : {a, b, c}) ASSERT_THAT(Call(*client, {"SET", key, key}), IsOk());

  // Half migrated: `a` moved to the importing node, `b` and `c` not yet.
  ASSERT_THAT(cluster_->BeginMove(slot, from, to), IsOk());
  ASSERT_THAT(cluster_->node(static_cast<size_t>(from))
                  .Run({"MIGRATE", "127.0.0.1", absl::StrCat(cluster_->node(static_cast<size_t>(to)).port()),
                        "", "0", "5000", "KEYS", a}),
              IsOk());
  // ASK: `a` is served by the importing node after ASKING; the map is not changed.
  EXPECT_THAT(Call(*client, {"GET", a}), IsOkAndHolds(RedisValue::String(a)));
  EXPECT_EQ(client->stats().ask, 1);
  EXPECT_EQ(client->slot_map()->ShardOf(slot)->master.port, cluster_->node(static_cast<size_t>(from)).port());
  EXPECT_THAT(Call(*client, {"GET", b}), IsOkAndHolds(RedisValue::String(b)));  // still at the source

  // TRYAGAIN: a multi-key call over a and b is retried until the slot has settled.
  std::thread finish([&] {
    while (client->stats().tryagain == 0) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_THAT(cluster_->MigrateKeys(slot, from, to, 100), IsOkAndHolds(0));
    ASSERT_THAT(cluster_->EndMove(slot, from, to), IsOk());
  });
  EXPECT_THAT(Call(*client, {"MGET", a, b}, absl::Seconds(20)),
              IsOkAndHolds(RedisValue::Array({RedisValue::String(a), RedisValue::String(b)})));
  finish.join();
  EXPECT_GE(client->stats().tryagain, 1);

  // MOVED: the slot is now `to`'s; the client learns it from the redirect and updates its map.
  EXPECT_THAT(Call(*client, {"GET", c}), IsOkAndHolds(RedisValue::String(c)));
  EXPECT_GE(client->stats().moved, 1);
  EXPECT_EQ(client->slot_map()->ShardOf(slot)->master.port, cluster_->node(static_cast<size_t>(to)).port());
  const int64_t moved = client->stats().moved;
  EXPECT_THAT(Call(*client, {"GET", c}), IsOk());
  EXPECT_EQ(client->stats().moved, moved) << "the map was updated";
  std::cout << "[ figures ] moved=" << client->stats().moved << " ask=" << client->stats().ask
            << " tryagain=" << client->stats().tryagain << "\n";
  // Put it back for the other tests.
  ASSERT_THAT(cluster_->BeginMove(slot, to, from), IsOk());
  ASSERT_THAT(cluster_->MigrateKeys(slot, to, from, 100), IsOkAndHolds(0));
  ASSERT_THAT(cluster_->EndMove(slot, to, from), IsOk());
}

TEST_F(ClusterClientTest, DurableWritesWaitForTheMastersReplica) {
  std::unique_ptr<ClusterClient> client = Connect(OptionsFor(*cluster_));
  ASSERT_NE(client, nullptr);
  const std::string key = "{durable}k";
  EXPECT_THAT(Call(*client, {"SET", key, "v"}, absl::Seconds(10), {1, absl::Seconds(5)}),
              IsOkAndHolds(RedisValue::Status("OK")));
  const int master = *cluster_->MasterOf(KeySlot(key));
  absl::StatusOr<int> replica = cluster_->ReplicaOf(master);
  ASSERT_THAT(replica, IsOk());
  EXPECT_THAT(cluster_->node(static_cast<size_t>(*replica)).Run({"READONLY"}), IsOk());
  ASSERT_THAT(cluster_->node(static_cast<size_t>(*replica)).Pause(), IsOk());
  EXPECT_THAT(Call(*client, {"SET", key, "w"}, absl::Seconds(10), {1, absl::Milliseconds(200)}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("acknowledged by 0 of 1 replicas")));
  // Other masters' writes are not affected.
  int other = 0;
  while (*cluster_->MasterOf(other) == master) other += 1000;
  EXPECT_THAT(Call(*client, {"SET", KeyInSlot(other, "k"), "v"}, absl::Seconds(10), {1, absl::Seconds(5)}),
              IsOk());
  ASSERT_THAT(cluster_->node(static_cast<size_t>(*replica)).Resume(), IsOk());
}

// A master that dies: its calls fail UNAVAILABLE within their deadline, never hang; once a replica took
// over, the client finds it by itself and drops the dead node; the node restarted rejoins as a replica.
TEST(ClusterClientFailoverTest, AMasterThatDisappearsIsReplacedByItsReplica) {
  RedisClusterOptions cluster_options;
  cluster_options.node_timeout = absl::Milliseconds(1000);
  absl::StatusOr<std::unique_ptr<RedisCluster>> cluster = RedisCluster::Start(cluster_options);
  ASSERT_THAT(cluster, IsOk());
  std::unique_ptr<ClusterClient> client = Connect(OptionsFor(**cluster));
  ASSERT_NE(client, nullptr);
  const std::string key = "{dies}k";
  ASSERT_THAT(Call(*client, {"SET", key, "v"}, absl::Seconds(10), {1, absl::Seconds(5)}), IsOk());
  const int master = *(*cluster)->MasterOf(KeySlot(key));
  (*cluster)->node(static_cast<size_t>(master)).Kill();

  const absl::Time killed = absl::Now();
  int failed = 0;
  for (;;) {
    const absl::Time start = absl::Now();
    absl::StatusOr<RedisValue> got = Call(*client, {"GET", key}, absl::Milliseconds(300));
    if (got.ok()) {
      EXPECT_EQ(*got, RedisValue::String("v")) << "acknowledged with WAIT 1: the promoted replica has it";
      break;
    }
    ++failed;
    EXPECT_TRUE(absl::IsUnavailable(got.status()) || absl::IsDeadlineExceeded(got.status())) << got.status();
    EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "sanity bound: a call must end near its deadline";
    ASSERT_LT(absl::Now() - killed, kLimit) << "no failover: " << got.status();
  }
  std::cout << "[ figures ] recovered " << absl::FormatDuration(absl::Now() - killed) << " after the kill, "
            << failed << " calls failed meanwhile\n";
  EXPECT_GT(failed, 0);
  EXPECT_GE(client->stats().masters_dropped, 1);
  EXPECT_THAT(RunScript(*client, RedisScript("return 1"), {}), IsOkAndHolds(RedisValue::Integer(1)));
  for (const ClusterShard& shard : client->slot_map()->shards()) {
    EXPECT_NE(shard.master.port, (*cluster)->node(static_cast<size_t>(master)).port());
  }
  // Back as a replica: the client does not make it a master again.
  ASSERT_THAT((*cluster)->node(static_cast<size_t>(master)).Restart(), IsOk());
  ASSERT_THAT((*cluster)->AwaitHealthy(), IsOk());
  client->RefreshSoon();
  const int64_t refreshes = client->stats().refreshes;
  while (client->stats().refreshes == refreshes) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(client->slot_map()->shards().size(), 3u);
  EXPECT_THAT(Call(*client, {"SET", key, "w"}, absl::Seconds(10), {1, absl::Seconds(5)}), IsOk());
}

}  // namespace
}  // namespace tradein::redis
