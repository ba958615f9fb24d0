// -----------------------------------------------------------------------------
// File: redis_quota_store_factory.h
// -----------------------------------------------------------------------------
//
// RedisStoreFactory: RedisQuotaStore for the shared contract suite and the randomised model test. Every store
// it makes shares one throwaway redis-server (tests/testing/redis_server.h, started on first use) and one
// client, under a key prefix of its own, so stores share nothing:
//
//   INSTANTIATE_TEST_SUITE_P(Redis, QuotaStoreContractTest, ::testing::Values(RedisStoreFactory()),
//   FactoryName);
//
// Thread safety: make() may be called from any thread.
#ifndef TRADEIN_TESTS_QUOTA_REDIS_QUOTA_STORE_FACTORY_H_
#define TRADEIN_TESTS_QUOTA_REDIS_QUOTA_STORE_FACTORY_H_

#include "tests/quota/quota_store_contract.h"

namespace tradein::quota::testing {

StoreFactory RedisStoreFactory();
// The same with RedisQuotaStoreOptions::full_grants off: every claim decided by buyer_reserve's general path,
// as before full grants.
StoreFactory RedisGeneralPathStoreFactory();
// The same with every budget spread over 4 shards (RedisQuotaStoreOptions::budget_shards).
StoreFactory RedisBudgetShardsStoreFactory();

}  // namespace tradein::quota::testing

#endif  // TRADEIN_TESTS_QUOTA_REDIS_QUOTA_STORE_FACTORY_H_
