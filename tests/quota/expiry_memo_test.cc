#include "services/quota/redis/expiry_memo.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tradein::quota::redis_quota_internal {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1748743200);
constexpr absl::Duration kRefresh = absl::Minutes(10);

TEST(ExpiryMemoTest, AKeyIsSetOnceThenAgainAfterTheRefresh) {
  ExpiryMemo memo(kRefresh);
  EXPECT_TRUE(memo.ShouldSet("a", kT0));
  EXPECT_FALSE(memo.ShouldSet("a", kT0));
  EXPECT_FALSE(memo.ShouldSet("a", kT0 + kRefresh - absl::Milliseconds(1)));
  EXPECT_TRUE(memo.ShouldSet("b", kT0)) << "keys are apart";
  EXPECT_TRUE(memo.ShouldSet("a", kT0 + kRefresh)) << "a key that lost its TTL gets it back";
  EXPECT_FALSE(memo.ShouldSet("a", kT0 + kRefresh + absl::Minutes(1)));
}

TEST(ExpiryMemoTest, AForgottenKeyIsSetByTheNextCall) {
  ExpiryMemo memo(kRefresh);
  ASSERT_TRUE(memo.ShouldSet("a", kT0));
  memo.Forget("a");
  EXPECT_TRUE(memo.ShouldSet("a", kT0));
  EXPECT_FALSE(memo.ShouldSet("a", kT0));
}

// Stale entries are dropped as the memo grows; the keys set within the refresh are kept.
TEST(ExpiryMemoTest, PruningKeepsTheKeysSetWithinTheRefresh) {
  ExpiryMemo memo(kRefresh);
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(memo.ShouldSet(absl::StrCat("old", i), kT0));
  const absl::Time later = kT0 + kRefresh;
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(memo.ShouldSet(absl::StrCat("new", i), later));
  for (int i = 0; i < 5000; i += 499) EXPECT_FALSE(memo.ShouldSet(absl::StrCat("new", i), later)) << i;
  EXPECT_TRUE(memo.ShouldSet("old0", later));
}

}  // namespace
}  // namespace tradein::quota::redis_quota_internal
