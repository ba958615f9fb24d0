#include "tests/testing/redis_server.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/free_port.h"
#include "tests/testing/status_matchers.h"

namespace tradein::testing {
namespace {

using redis::RedisValue;
using ::testing::HasSubstr;

TEST(FreePortTest, PortsAreInRangeAndDiffer) {
  const int a = PickFreePort();
  const int b = PickFreePort();
  EXPECT_GT(a, 0);
  EXPECT_LE(a, 65535);
  EXPECT_GT(b, 0);
  EXPECT_NE(a, b);  // the kernel does not hand out the same ephemeral port twice in a row
}

TEST(RedisServerTest, StartsRunsCommandsAndCleansUp) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  ASSERT_THAT(server, IsOk());
  const std::string dir = (*server)->dir();
  const int port = (*server)->port();
  EXPECT_EQ((*server)->url(), absl::StrCat("redis://127.0.0.1:", port));
  EXPECT_THAT((*server)->Run({"SET", "k", "v"}), IsOkAndHolds(RedisValue::Status("OK")));
  EXPECT_THAT((*server)->Run({"GET", "k"}), IsOkAndHolds(RedisValue::String("v")));
  EXPECT_THAT((*server)->Run({"DEBUG", "SLEEP", "0"}), IsOk());  // enable-debug-command local
  EXPECT_THAT((*server)->Run({"INCR", "k"}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("not an integer")));
  EXPECT_TRUE(std::filesystem::exists(dir + "/redis.log"));

  server->reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(RedisServerTest, PasswordAndAclUser) {
  RedisServerOptions options;
  options.requirepass = "p\"w d";
  options.acl_user = "quota";
  options.acl_password = "q";
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start(options);
  ASSERT_THAT(server, IsOk());
  EXPECT_EQ((*server)->url(), absl::StrCat("redis://:p\"w d@127.0.0.1:", (*server)->port()));
  EXPECT_THAT((*server)->Run({"ACL", "WHOAMI"}), IsOkAndHolds(RedisValue::String("default")));
  EXPECT_THAT((*server)->Run({"AUTH", "quota", "q"}), IsOk());
  EXPECT_THAT((*server)->Run({"AUTH", "quota", "wrong"}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("WRONGPASS")));
}

TEST(RedisServerTest, StopKillAndRestartKeepThePortAndTheAof) {
  RedisServerOptions options;
  options.appendonly = true;
  absl::StatusOr<std::unique_ptr<RedisServer>> started = RedisServer::Start(options);
  ASSERT_THAT(started, IsOk());
  RedisServer& server = **started;
  const int port = server.port();
  ASSERT_THAT(server.Run({"SET", "k", "1"}), IsOk());

  ASSERT_THAT(server.Stop(), IsOk());
  EXPECT_THAT(server.Run({"PING"}), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(server.Restart(), IsOk());
  EXPECT_EQ(server.port(), port);
  EXPECT_THAT(server.Run({"INCR", "k"}), IsOkAndHolds(RedisValue::Integer(2)));

  server.Kill();  // no shutdown work: appendfsync always already wrote the INCR
  EXPECT_THAT(server.Run({"PING"}), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(server.Restart(), IsOk());
  EXPECT_THAT(server.Run({"GET", "k"}), IsOkAndHolds(RedisValue::String("2")));
}

TEST(RedisServerTest, PausedServerCanBeStopped) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  ASSERT_THAT(server, IsOk());
  ASSERT_THAT((*server)->Pause(), IsOk());
  ASSERT_THAT((*server)->Stop(), IsOk());  // SIGTERM is delivered once it is continued
  EXPECT_THAT((*server)->Run({"PING"}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(RedisServerTest, ServerBinaryFromTheEnvironment) {
  ASSERT_EQ(setenv("TRADEIN_REDIS_SERVER", "/nonexistent/redis-server", 1), 0);
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  unsetenv("TRADEIN_REDIS_SERVER");
  EXPECT_THAT(server, StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/redis-server")));
}

}  // namespace
}  // namespace tradein::testing
