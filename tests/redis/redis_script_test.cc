#include "services/redis/redis_script.h"

#include "gtest/gtest.h"

namespace tradein::redis {
namespace {

TEST(RedisScriptTest, Sha1OfKnownInputs) {
  EXPECT_EQ(RedisScript("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(RedisScript("abc").sha1(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(RedisScriptTest, CopiesShareSourceAndSha) {
  const RedisScript script("return 1");
  const RedisScript copy =
      script;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
  EXPECT_EQ(copy.source(), "return 1");
  EXPECT_EQ(copy.sha1(), script.sha1());
  EXPECT_EQ(&copy.source(), &script.source());
}

}  // namespace
}  // namespace tradein::redis
