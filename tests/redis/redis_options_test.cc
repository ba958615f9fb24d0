#include "services/redis/redis_options.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace tradein::redis {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::tradein::testing::IsOk;
using ::tradein::testing::StatusIs;

struct ValidUrl {
  const char* url;
  const char* host;
  int port;
  const char* user;
  const char* password;
  int db;
};

TEST(ParseRedisUrlTest, ValidUrls) {
  constexpr ValidUrl kCases[] = {
      {"redis://localhost", "localhost", 6379, "", "", 0},
      {"redis://10.0.0.5:6380", "10.0.0.5", 6380, "", "", 0},
      {"redis://redis.tradein.svc:6379/2", "redis.tradein.svc", 6379, "", "", 2},
      {"redis://h/", "h", 6379, "", "", 0},
      {"redis://:s3cret@h:1", "h", 1, "", "s3cret", 0},
      {"redis://quota:s3cret@h:65535/15", "h", 65535, "quota", "s3cret", 15},
      {"redis://quota:@h", "h", 6379, "quota", "", 0},
      {"redis://:p%40ss%3Aw%2Fd@h", "h", 6379, "", "p@ss:w/d", 0},
      {"redis://:p@ss@h:7000", "h", 7000, "", "p@ss", 0},
      {"redis://[::1]:6380/3", "::1", 6380, "", "", 3},
      {"redis://[fe80::1]", "fe80::1", 6379, "", "", 0},
  };
  for (const ValidUrl& c : kCases) {
    SCOPED_TRACE(c.url);
    absl::StatusOr<RedisOptions> options = ParseRedisUrl(c.url);
    ASSERT_THAT(options, IsOk());
    EXPECT_EQ(options->host, c.host);
    EXPECT_EQ(options->port, c.port);
    EXPECT_EQ(options->user, c.user);
    EXPECT_EQ(options->password, c.password);
    EXPECT_EQ(options->db, c.db);
    EXPECT_EQ(options->connections, RedisOptions().connections);
    EXPECT_THAT(options->Validate(), IsOk());
  }
}

struct InvalidUrl {
  const char* url;
  const char* error;
};

TEST(ParseRedisUrlTest, InvalidUrlsSayWhatIsWrongWithoutThePassword) {
  constexpr InvalidUrl kCases[] = {
      {"", "must start with redis://"},
      {"localhost:6379", "must start with redis://"},
      {"http://h", "must start with redis://"},
      // A mistyped scheme: still no password in the message (found by tests/fuzz redis_fuzzer).
      {"redis:/:hunter2@h", "must start with redis://"},
      {"redis//quota:hunter2@h:6379", "must start with redis://"},
      {":hunter2@h", "must start with redis://"},
      {"quota:hunter2@h://x", "must start with redis://"},
      {"rediss://:hunter2@h", "TLS"},
      {"redis://", "host is empty"},
      {"redis://:6379", "host is empty"},
      {"redis://:hunter2@/0", "host is empty"},
      {"redis://h:", "port \"\""},
      {"redis://h:0", "port \"0\""},
      {"redis://h:65536", "port \"65536\""},
      {"redis://h:-1", "port \"-1\""},
      {"redis://h:+80", "port \"+80\""},
      {"redis://h:port", "port \"port\""},
      {"redis://h/x", "db \"x\""},
      {"redis://h/-1", "db \"-1\""},
      {"redis://h/1/2", "db \"1/2\""},
      {"redis://h/0?timeout=1", "db \"0?timeout=1\""},
      {"redis://h/99999999999", "db \"99999999999\""},
      {"redis://hunter2@h", "[user]:password@"},
      {"redis://:hunt%zzer2@h", "percent-encoding"},
      {"redis://:hunter2%4@h", "percent-encoding"},
      {"redis://::1:6379", "brackets"},
      {"redis://[::1:6379", "missing ']'"},
      {"redis://[::1]6379", "expected ':' after ']'"},
  };
  for (const InvalidUrl& c : kCases) {
    SCOPED_TRACE(c.url);
    absl::StatusOr<RedisOptions> options = ParseRedisUrl(c.url);
    EXPECT_THAT(options, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)));
    EXPECT_THAT(options.status().message(), Not(HasSubstr("hunter2")));
    EXPECT_THAT(options.status().message(), Not(HasSubstr("hunt%zzer2")));
  }
}

TEST(RedisOptionsTest, DebugStringMasksThePassword) {
  RedisOptions options;
  options.host = "10.1.2.3";
  options.port = 6380;
  options.user = "quota";
  options.password = "hunter2";
  options.db = 4;
  const std::string text = options.DebugString();
  EXPECT_THAT(text, HasSubstr("redis://quota:****@10.1.2.3:6380/4"));
  EXPECT_THAT(text, HasSubstr("connections=4"));
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));

  options.user.clear();
  options.password.clear();
  options.host = "::1";
  EXPECT_THAT(options.DebugString(), HasSubstr("redis://[::1]:6380/4 "));
}

TEST(RedisOptionsTest, ValidateRejectsEachBadField) {
  struct Case {
    const char* name;
    void (*mutate)(RedisOptions&);
    const char* error;
  };
  const Case kCases[] = {
      {"empty host", [](RedisOptions& o) { o.host.clear(); }, "host"},
      {"port 0", [](RedisOptions& o) { o.port = 0; }, "port"},
      {"port too big", [](RedisOptions& o) { o.port = 70000; }, "port"},
      {"negative db", [](RedisOptions& o) { o.db = -1; }, "db"},
      {"no connections", [](RedisOptions& o) { o.connections = 0; }, "connections"},
      {"no in-flight commands", [](RedisOptions& o) { o.max_in_flight_per_connection = 0; },
       "max_in_flight_per_connection"},
      {"zero connect timeout", [](RedisOptions& o) { o.connect_timeout = absl::ZeroDuration(); },
       "connect_timeout"},
      {"zero backoff", [](RedisOptions& o) { o.reconnect_backoff_min = absl::ZeroDuration(); }, "backoff"},
      {"max below min",
       [](RedisOptions& o) {
         o.reconnect_backoff_min = absl::Seconds(2);
         o.reconnect_backoff_max = absl::Seconds(1);
       },
       "backoff"},
  };
  EXPECT_THAT(RedisOptions().Validate(), IsOk());
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    RedisOptions options;
    c.mutate(options);
    EXPECT_THAT(options.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)));
  }
}

}  // namespace
}  // namespace tradein::redis
