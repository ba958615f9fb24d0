#include "services/redis/redis_value.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hiredis/hiredis.h"
#include "tests/testing/status_matchers.h"

namespace tradein::redis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::tradein::testing::IsOkAndHolds;
using ::tradein::testing::StatusIs;

TEST(RedisValueTest, AccessorsOfEachType) {
  EXPECT_TRUE(RedisValue().is_nil());
  EXPECT_EQ(RedisValue::Integer(-7).integer(), -7);
  EXPECT_EQ(RedisValue::String("a").type(), RedisValue::Type::kString);
  EXPECT_EQ(RedisValue::Status("OK").type(), RedisValue::Type::kStatus);
  EXPECT_TRUE(RedisValue::Error("ERR x").is_error());
  const RedisValue array = RedisValue::Array({RedisValue::Integer(1), RedisValue()});
  EXPECT_THAT(array.elements(), ElementsAre(RedisValue::Integer(1), RedisValue()));
  EXPECT_TRUE(RedisValue::String("a").elements().empty());
}

TEST(RedisValueTest, AsIntegerAndAsStringCheckTheType) {
  EXPECT_THAT(RedisValue::Integer(42).AsInteger(), IsOkAndHolds(42));
  EXPECT_THAT(
      RedisValue::String("42").AsInteger(),
      StatusIs(absl::StatusCode::kInternal, HasSubstr("expected an integer reply, got string \"42\"")));
  EXPECT_THAT(RedisValue().AsInteger(), StatusIs(absl::StatusCode::kInternal, HasSubstr("got nil")));
  EXPECT_THAT(RedisValue::String("v").AsString(), IsOkAndHolds("v"));
  EXPECT_THAT(RedisValue::Status("OK").AsString(), IsOkAndHolds("OK"));
  EXPECT_THAT(RedisValue().AsString(), StatusIs(absl::StatusCode::kInternal, HasSubstr("got nil")));
  EXPECT_THAT(RedisValue::Error("ERR x").AsString(), StatusIs(absl::StatusCode::kInternal));
}

TEST(RedisValueTest, EqualityIsDeep) {
  EXPECT_EQ(RedisValue::Array({RedisValue::String("a")}), RedisValue::Array({RedisValue::String("a")}));
  EXPECT_NE(RedisValue::Array({RedisValue::String("a")}), RedisValue::Array({RedisValue::Status("a")}));
  EXPECT_NE(RedisValue::String(""), RedisValue());
  EXPECT_NE(RedisValue::Integer(0), RedisValue());
}

TEST(RedisValueTest, DebugStringEscapesBytes) {
  const RedisValue value =
      RedisValue::Array({RedisValue::Integer(1), RedisValue::String(std::string("a\0z", 3)), RedisValue(),
                         RedisValue::Error("ERR x"), RedisValue::Status("OK")});
  EXPECT_EQ(value.DebugString(), "[1, \"a\\x00z\", nil, (error) ERR x, OK]");
}

TEST(BoundReplyArraysTest, RefusesAnArrayHeaderOverTheBoundBeforeAllocatingIt) {
  std::unique_ptr<redisReader, decltype(&redisReaderFree)> reader(redisReaderCreate(), &redisReaderFree);
  BoundReplyArrays(*reader);
  const std::string fits = absl::StrCat("*", kMaxReplyElements, "\r\n");
  ASSERT_EQ(redisReaderFeed(reader.get(), fits.data(), fits.size()), REDIS_OK);
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader.get(), &reply), REDIS_OK);  // waiting for its elements
  EXPECT_EQ(reply, nullptr);

  reader.reset(redisReaderCreate());
  BoundReplyArrays(*reader);
  const std::string over = "*555555551\r\n";
  ASSERT_EQ(redisReaderFeed(reader.get(), over.data(), over.size()), REDIS_OK);
  EXPECT_EQ(redisReaderGetReply(reader.get(), &reply), REDIS_ERR);
  EXPECT_EQ(reader->err, REDIS_ERR_OOM);
}

TEST(EncodeCommandTest, ArrayOfBinarySafeBulkStrings) {
  EXPECT_EQ(EncodeCommand({"GET", "k"}), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  EXPECT_EQ(EncodeCommand({}), "*0\r\n");
  EXPECT_EQ(EncodeCommand({"", std::string("a\0\r\nb", 5)}),
            std::string("*2\r\n$0\r\n\r\n$5\r\na\0\r\nb\r\n", 21));
}

TEST(ErrorReplyToStatusTest, RetryableErrorsAreUnavailableOthersInternal) {
  struct Case {
    const char* message;
    absl::StatusCode code;
  };
  constexpr Case kCases[] = {
      {"LOADING Redis is loading the dataset in memory", absl::StatusCode::kUnavailable},
      {"BUSY Redis is busy running a script.", absl::StatusCode::kUnavailable},
      {"MASTERDOWN Link with MASTER is down", absl::StatusCode::kUnavailable},
      {"READONLY You can't write against a read only replica.", absl::StatusCode::kUnavailable},
      {"TRYAGAIN Multiple keys request during rehashing of slot", absl::StatusCode::kUnavailable},
      {"CLUSTERDOWN The cluster is down", absl::StatusCode::kUnavailable},
      {"MOVED 3999 127.0.0.1:6381", absl::StatusCode::kUnavailable},
      {"ASK 3999 127.0.0.1:6381", absl::StatusCode::kUnavailable},
      {"ERR unknown command 'FOO'", absl::StatusCode::kInternal},
      {"WRONGTYPE Operation against a key holding the wrong kind of value", absl::StatusCode::kInternal},
      {"NOSCRIPT No matching script. Please use EVAL.", absl::StatusCode::kInternal},
      {"NOAUTH Authentication required.", absl::StatusCode::kInternal},
      {"BUSYKEY Target key name already exists.", absl::StatusCode::kInternal},
      {"ASKING", absl::StatusCode::kInternal},
      {"QUOTA_EXCEEDED buyer 42", absl::StatusCode::kInternal},
      {"", absl::StatusCode::kInternal},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.message);
    const absl::Status status = ErrorReplyToStatus(c.message);
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(), c.message);
  }
}

}  // namespace
}  // namespace tradein::redis
