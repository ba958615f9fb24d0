#include "common/fnv1a.h"

#include "gtest/gtest.h"

namespace tradein {
namespace {

// The published FNV-1a test vectors (http://www.isthe.com/chongo/src/fnv/test_fnv.c): the shard numbers
// and commit-entry names stored in Redis depend on these exact values.
TEST(Fnv1aTest, MatchesThePublishedVectors) {
  EXPECT_EQ(Fnv1a32(""), 0x811c9dc5u);
  EXPECT_EQ(Fnv1a32("a"), 0xe40c292cu);
  EXPECT_EQ(Fnv1a32("foobar"), 0xbf9cf968u);
  EXPECT_EQ(Fnv1a64Of(""), 0xcbf29ce484222325u);
  EXPECT_EQ(Fnv1a64Of("a"), 0xaf63dc4c8601ec8cu);
  EXPECT_EQ(Fnv1a64Of("foobar"), 0x85944171f73967e8u);
}

TEST(Fnv1aTest, PiecesHashAsTheirConcatenation) {
  EXPECT_EQ(Fnv1a64().Add("foo").Add("").Add("bar").value(), Fnv1a64Of("foobar"));
}

TEST(Fnv1aTest, BytesAboveAsciiAreHashedUnsigned) {
  // "é" in UTF-8 is 0xc3 0xa9: a signed char would sign-extend into the xor.
  uint32_t expected = 2166136261u;
  for (const uint32_t byte : {0xc3u, 0xa9u}) expected = (expected ^ byte) * 16777619u;
  EXPECT_EQ(Fnv1a32("\xc3\xa9"), expected);
}

}  // namespace
}  // namespace tradein
