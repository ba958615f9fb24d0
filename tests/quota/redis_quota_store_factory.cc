#include "tests/quota/redis_quota_store_factory.h"

#include <unistd.h>

#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/quota/redis_quota_store.h"
#include "services/redis/redis_client.h"
#include "tests/testing/redis_server.h"

namespace tradein::quota::testing {
namespace {

// The server and client every store of this process shares (destroyed at exit: the client first, then the
// server is killed and its directory removed).
struct SharedRedis {
  std::unique_ptr<tradein::testing::RedisServer> server;
  std::unique_ptr<redis::RedisClient> client;
};

redis::RedisClient* SharedClient() {
  static absl::Mutex mu(absl::kConstInit);
  static std::unique_ptr<SharedRedis> shared;
  absl::MutexLock lock(&mu);
  if (shared == nullptr) {
    auto fresh = std::make_unique<SharedRedis>();
    absl::StatusOr<std::unique_ptr<tradein::testing::RedisServer>> server =
        tradein::testing::RedisServer::Start();
    if (!server.ok()) {
      ADD_FAILURE() << "redis-server: " << server.status();
      return nullptr;
    }
    fresh->server = *std::move(server);
    absl::StatusOr<redis::RedisOptions> options = redis::ParseRedisUrl(fresh->server->url());
    if (!options.ok()) return nullptr;
    absl::StatusOr<std::unique_ptr<redis::RedisClient>> client = redis::RedisClient::Create(*options);
    if (!client.ok() || !(*client)->WaitForConnection(absl::Now() + absl::Seconds(20))) {
      ADD_FAILURE() << "cannot connect to " << fresh->server->url();
      return nullptr;
    }
    fresh->client = *std::move(client);
    shared = std::move(fresh);
  }
  return shared->client.get();
}

StoreFactory Factory(std::string name, bool full_grants, int budget_shards = 1) {
  return {std::move(name), [full_grants, budget_shards]() -> std::unique_ptr<QuotaStore> {
            static std::atomic<int> next{0};
            redis::RedisClient* client = SharedClient();
            if (client == nullptr) return nullptr;
            RedisQuotaStoreOptions options;
            options.key_prefix = absl::StrCat("t", getpid(), "-", next.fetch_add(1), ":");
            options.full_grants = full_grants;
            options.budget_shards = budget_shards;
            return std::make_unique<RedisQuotaStore>(*client, std::move(options));
          }};
}

}  // namespace

StoreFactory RedisStoreFactory() { return Factory("Redis", /*full_grants=*/true); }
StoreFactory RedisGeneralPathStoreFactory() { return Factory("RedisGeneralPath", /*full_grants=*/false); }
StoreFactory RedisBudgetShardsStoreFactory() {
  return Factory("RedisBudgetShards", /*full_grants=*/true, /*budget_shards=*/4);
}

}  // namespace tradein::quota::testing
