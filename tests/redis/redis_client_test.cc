#include "services/redis/redis_client.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/free_port.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"

namespace tradein::redis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;
using ::tradein::testing::IsOk;
using ::tradein::testing::IsOkAndHolds;
using ::tradein::testing::PickFreePort;
using ::tradein::testing::RedisServer;
using ::tradein::testing::RedisServerOptions;
using ::tradein::testing::StatusIs;

// Sanity bound on waits for things that normally take milliseconds; never a timing assertion.
constexpr absl::Duration kLimit = absl::Seconds(20);

// The results of a set of callbacks, each of which must run exactly once. Shared with the callbacks, so a
// late callback never touches freed memory even when a test fails early.
class Results : public std::enable_shared_from_this<Results> {
 public:
  static std::shared_ptr<Results> Make(int n) { return std::shared_ptr<Results>(new Results(n)); }

  RedisClient::Callback Slot(int i) {
    return [self = shared_from_this(), i](absl::StatusOr<RedisValue> result) {
      absl::MutexLock lock(&self->mu_);
      ++self->calls_[static_cast<size_t>(i)];
      self->results_[static_cast<size_t>(i)] = std::move(result);
      ++self->total_;
    };
  }

  // Waits until every slot was called once (or more: calls() tells), at most `limit`.
  bool WaitAll(absl::Duration limit = kLimit) {
    absl::MutexLock lock(&mu_);
    auto done = [this]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return total_ >= static_cast<int>(calls_.size()); };
    return mu_.AwaitWithTimeout(absl::Condition(&done), limit);
  }

  int calls(int i) const {
    absl::MutexLock lock(&mu_);
    return calls_[static_cast<size_t>(i)];
  }

  absl::StatusOr<RedisValue> result(int i) const {
    absl::MutexLock lock(&mu_);
    return results_[static_cast<size_t>(i)];
  }

  int size() const { return size_; }

 private:
  explicit Results(int n)
      : size_(n),
        calls_(static_cast<size_t>(n), 0),
        results_(static_cast<size_t>(n), absl::InternalError("callback not called")) {}

  const int size_;
  mutable absl::Mutex mu_;
  std::vector<int> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::StatusOr<RedisValue>> results_ ABSL_GUARDED_BY(mu_);
  int total_ ABSL_GUARDED_BY(mu_) = 0;
};

// Runs one command with a deadline `timeout` from now and waits for its callback.
absl::StatusOr<RedisValue> Call(RedisClient& client, std::vector<std::string> args,
                                absl::Duration timeout = absl::Seconds(10)) {
  std::shared_ptr<Results> results = Results::Make(1);
  client.Command(std::move(args), absl::Now() + timeout, results->Slot(0));
  if (!results->WaitAll(std::max(5 * timeout, kLimit))) return absl::InternalError("callback not called");
  return results->result(0);
}

absl::StatusOr<RedisValue> Eval(RedisClient& client, const RedisScript& script, std::vector<std::string> keys,
                                std::vector<std::string> args) {
  std::shared_ptr<Results> results = Results::Make(1);
  client.EvalScript(script, std::move(keys), std::move(args), absl::Now() + absl::Seconds(10),
                    results->Slot(0));
  if (!results->WaitAll()) return absl::InternalError("callback not called");
  return results->result(0);
}

// Polls `condition` until it holds or kLimit passes.
bool Eventually(absl::FunctionRef<bool()> condition) {
  const absl::Time limit = absl::Now() + kLimit;
  while (absl::Now() < limit) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return condition();
}

class RedisClientTest : public ::testing::Test {
 protected:
  void StartServer(const RedisServerOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
  }

  // Options for server_, reconnecting quickly so restart tests stay short.
  RedisOptions Options() const {
    absl::StatusOr<RedisOptions> options = ParseRedisUrl(server_->url());
    EXPECT_THAT(options, IsOk());
    options->reconnect_backoff_max = absl::Milliseconds(200);
    return *options;
  }

  // A client that has at least one connection up.
  std::unique_ptr<RedisClient> Connect(const RedisOptions& options) {
    absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
    EXPECT_THAT(client, IsOk());
    if (!client.ok()) return nullptr;
    EXPECT_TRUE((*client)->WaitForConnection(absl::Now() + kLimit)) << options.DebugString();
    return *std::move(client);
  }

  // Waits until the server sees `n` client connections that finished the handshake (last command PING).
  bool HandshakesDone(int n) const {
    return Eventually([&] {
      absl::StatusOr<RedisValue> list = server_->Run({"CLIENT", "LIST"});
      if (!list.ok()) return false;
      int done = 0;
      for (absl::string_view line : absl::StrSplit(list->str(), '\n'))
        done += absl::StrContains(line, " cmd=ping ");
      return done == n;
    });
  }

  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisClientTest, RepliesOfEveryType) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);

  EXPECT_THAT(Call(*client, {"SET", "k", "v"}), IsOkAndHolds(RedisValue::Status("OK")));
  EXPECT_THAT(Call(*client, {"GET", "k"}), IsOkAndHolds(RedisValue::String("v")));
  EXPECT_THAT(Call(*client, {"GET", "missing"}), IsOkAndHolds(RedisValue()));
  EXPECT_THAT(Call(*client, {"SET", "empty", ""}), IsOk());
  EXPECT_THAT(Call(*client, {"GET", "empty"}), IsOkAndHolds(RedisValue::String("")));
  EXPECT_THAT(Call(*client, {"INCRBY", "n", "-5"}), IsOkAndHolds(RedisValue::Integer(-5)));
  EXPECT_THAT(Call(*client, {"RPUSH", "list", "a", "b"}), IsOkAndHolds(RedisValue::Integer(2)));
  EXPECT_THAT(Call(*client, {"LRANGE", "list", "0", "-1"}),
              IsOkAndHolds(RedisValue::Array({RedisValue::String("a"), RedisValue::String("b")})));
  EXPECT_THAT(Call(*client, {"LRANGE", "missing", "0", "-1"}), IsOkAndHolds(RedisValue::Array({})));
  EXPECT_THAT(Call(*client, {"PING"}), IsOkAndHolds(RedisValue::Status("PONG")));

  const std::string binary("a\0b\r\n\xff", 6);
  EXPECT_THAT(Call(*client, {"SET", binary, binary}), IsOk());
  EXPECT_THAT(Call(*client, {"GET", binary}), IsOkAndHolds(RedisValue::String(binary)));

  // Nested arrays, nil inside an array, and an error nested in an array stay values.
  EXPECT_THAT(
      Call(*client, {"EVAL",
                     "return {1, 'two', false, {3, redis.status_reply('FOUR')}, "
                     "redis.error_reply('FIVE oops')}",
                     "0"}),
      IsOkAndHolds(RedisValue::Array({RedisValue::Integer(1), RedisValue::String("two"), RedisValue(),
                                      RedisValue::Array({RedisValue::Integer(3), RedisValue::Status("FOUR")}),
                                      RedisValue::Error("FIVE oops")})));
}

TEST_F(RedisClientTest, ErrorRepliesBecomeStatusesWithTheServerMessage) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(Call(*client, {"SET", "k", "v"}), IsOk());

  EXPECT_THAT(Call(*client, {"INCR", "k"}),
              StatusIs(absl::StatusCode::kInternal, "ERR value is not an integer or out of range"));
  EXPECT_THAT(Call(*client, {"LPUSH", "k", "x"}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("WRONGTYPE")));
  EXPECT_THAT(Call(*client, {"NOSUCHCOMMAND"}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("unknown command")));
  EXPECT_EQ(client->stats().server_errors, 3);

  // A replica refuses writes with READONLY: retryable, so UNAVAILABLE.
  ASSERT_THAT(server_->Run({"REPLICAOF", "127.0.0.1", absl::StrCat(PickFreePort())}), IsOk());
  EXPECT_THAT(Call(*client, {"SET", "k", "w"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("READONLY")));
  EXPECT_EQ(client->stats().retryable_errors, 1);
  ASSERT_THAT(server_->Run({"REPLICAOF", "NO", "ONE"}), IsOk());
  EXPECT_THAT(Call(*client, {"SET", "k", "w"}), IsOk());
}

TEST_F(RedisClientTest, PipelinesConcurrentCommandsFromManyThreads) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(HandshakesDone(Options().connections));  // commands will use every connection

  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::shared_ptr<Results> results = Results::Make(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        client->Command({"INCR", "counter"}, absl::Now() + kLimit, results->Slot(t * kPerThread + i));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(results->WaitAll());

  // INCR returns each value 1..N exactly once: no command was lost, duplicated or given another's reply.
  std::vector<int64_t> values;
  for (int i = 0; i < results->size(); ++i) {
    absl::StatusOr<RedisValue> result = results->result(i);
    ASSERT_THAT(result, IsOk()) << i;
    values.push_back(result->integer());
  }
  std::vector<int64_t> expected(values.size());
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_THAT(values, UnorderedElementsAreArray(expected));
  EXPECT_THAT(Call(*client, {"GET", "counter"}),
              IsOkAndHolds(RedisValue::String(absl::StrCat(kThreads * kPerThread))));

  const RedisClientStats stats = client->stats();
  EXPECT_GE(stats.commands_sent, kThreads * kPerThread);
  EXPECT_EQ(stats.replies, stats.commands_sent);
  EXPECT_EQ(stats.latency_count, stats.replies);
  EXPECT_GT(stats.latency_micros_sum, 0);

  client.reset();  // no callback may run again
  for (int i = 0; i < results->size(); ++i) EXPECT_EQ(results->calls(i), 1) << i;
}

TEST_F(RedisClientTest, CallbacksMayIssueCommands) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  std::shared_ptr<Results> results = Results::Make(1);
  client->Command({"SET", "a", "1"}, absl::Now() + kLimit,
                  [&client, results](absl::StatusOr<RedisValue> first) {
                    EXPECT_THAT(first, IsOk());
                    client->Command({"GET", "a"}, absl::Now() + kLimit, results->Slot(0));
                  });
  ASSERT_TRUE(results->WaitAll());
  EXPECT_THAT(results->result(0), IsOkAndHolds(RedisValue::String("1")));
}

TEST_F(RedisClientTest, DeadlineAlreadyPassedFailsWithoutSending) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  const int64_t sent = client->stats().commands_sent;
  std::shared_ptr<Results> results = Results::Make(1);
  client->Command({"SET", "k", "v"}, absl::Now() - absl::Seconds(1), results->Slot(0));
  ASSERT_TRUE(results->WaitAll());
  EXPECT_THAT(results->result(0), StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("before sending")));
  EXPECT_EQ(client->stats().commands_sent, sent);
  EXPECT_EQ(client->stats().timeouts, 1);
  EXPECT_THAT(server_->Run({"EXISTS", "k"}), IsOkAndHolds(RedisValue::Integer(0)));
}

TEST_F(RedisClientTest, InfiniteDeadline) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  std::shared_ptr<Results> results = Results::Make(1);
  client->Ping(absl::InfiniteFuture(), results->Slot(0));
  ASSERT_TRUE(results->WaitAll());
  EXPECT_THAT(results->result(0), IsOkAndHolds(RedisValue::Status("PONG")));
}

// ---- Scripts ----------------------------------------------------------------------------------------------

const RedisScript& IncrScript() {
  static const RedisScript* const script = new RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  return *script;
}

TEST_F(RedisClientTest, EvalScriptLoadsTheScriptOnceAndAfterScriptFlush) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  // Our SHA1 is the server's.
  ASSERT_THAT(server_->Run({"SCRIPT", "LOAD", IncrScript().source()}),
              IsOkAndHolds(RedisValue::String(IncrScript().sha1())));
  ASSERT_THAT(server_->Run({"SCRIPT", "FLUSH"}), IsOk());

  EXPECT_THAT(Eval(*client, IncrScript(), {"q"}, {"5"}), IsOkAndHolds(RedisValue::Integer(5)));
  EXPECT_EQ(client->stats().script_loads, 1);
  EXPECT_THAT(Eval(*client, IncrScript(), {"q"}, {"2"}), IsOkAndHolds(RedisValue::Integer(7)));
  EXPECT_EQ(client->stats().script_loads, 1);  // cached now

  ASSERT_THAT(server_->Run({"SCRIPT", "FLUSH"}), IsOk());
  EXPECT_THAT(Eval(*client, IncrScript(), {"q"}, {"1"}), IsOkAndHolds(RedisValue::Integer(8)));
  EXPECT_EQ(client->stats().script_loads, 2);
  EXPECT_THAT(server_->Run({"SCRIPT", "EXISTS", IncrScript().sha1()}),
              IsOkAndHolds(RedisValue::Array({RedisValue::Integer(1)})));
}

TEST_F(RedisClientTest, EvalScriptErrors) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  // A script that does not compile reports the SCRIPT LOAD error, not NOSCRIPT.
  EXPECT_THAT(Eval(*client, RedisScript("return +"), {}, {}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("Error compiling script")));
  // A script's own error reply reaches the caller as is.
  EXPECT_THAT(
      Eval(*client, RedisScript("return redis.error_reply('QUOTA_EXCEEDED buyer ' .. ARGV[1])"), {}, {"42"}),
      StatusIs(absl::StatusCode::kInternal, "QUOTA_EXCEEDED buyer 42"));
  EXPECT_EQ(client->stats().script_loads, 2);
}

// ---- Authentication and databases -------------------------------------------------------------------------

TEST_F(RedisClientTest, AuthenticatesWithThePassword) {
  RedisServerOptions server_options;
  server_options.requirepass = "pa ss\"word";
  ASSERT_NO_FATAL_FAILURE(StartServer(server_options));
  RedisOptions options = Options();
  EXPECT_EQ(options.password, "pa ss\"word");
  std::unique_ptr<RedisClient> client = Connect(options);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Call(*client, {"ACL", "WHOAMI"}), IsOkAndHolds(RedisValue::String("default")));
}

TEST_F(RedisClientTest, AuthenticatesAsAnAclUser) {
  RedisServerOptions server_options;
  server_options.acl_user = "quota";
  server_options.acl_password = "quota-secret";
  ASSERT_NO_FATAL_FAILURE(StartServer(server_options));
  RedisOptions options = Options();
  options.user = "quota";
  options.password = "quota-secret";
  std::unique_ptr<RedisClient> client = Connect(options);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Call(*client, {"ACL", "WHOAMI"}), IsOkAndHolds(RedisValue::String("quota")));
}

TEST_F(RedisClientTest, WrongOrMissingPasswordFailsFastWithTheReason) {
  RedisServerOptions server_options;
  server_options.requirepass = "right";
  ASSERT_NO_FATAL_FAILURE(StartServer(server_options));
  struct Case {
    const char* password;
    const char* error;
  };
  for (const Case& c : {Case{"wrong", "WRONGPASS"}, Case{"", "NOAUTH"}}) {
    SCOPED_TRACE(c.error);
    RedisOptions options = Options();
    options.password = c.password;
    absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
    ASSERT_THAT(client, IsOk());
    ASSERT_TRUE(Eventually([&] { return (*client)->stats().connect_failures >= options.connections; }));
    EXPECT_FALSE((*client)->connected());
    EXPECT_THAT(Call(**client, {"PING"}), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(c.error)));
    EXPECT_EQ((*client)->stats().commands_sent, 0);
  }
}

TEST_F(RedisClientTest, SelectsTheDatabase) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  RedisOptions options = Options();
  options.db = 3;
  std::unique_ptr<RedisClient> client = Connect(options);
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(Call(*client, {"SET", "k", "in-db-3"}), IsOk());
  EXPECT_THAT(server_->Run({"GET", "k"}), IsOkAndHolds(RedisValue()));
  EXPECT_THAT(server_->Run({"EVAL", "redis.call('SELECT', 3) return redis.call('GET', 'k')", "0"}),
              IsOkAndHolds(RedisValue::String("in-db-3")));
}

// ---- Deadlines --------------------------------------------------------------------------------------------

TEST_F(RedisClientTest, DeadlineExceededWhileTheServerIsPaused) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(server_->Pause(), IsOk());

  constexpr absl::Duration kDeadline = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  EXPECT_THAT(Call(*client, {"SET", "k", "late"}, kDeadline),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("SET: no reply within")));
  EXPECT_LT(absl::Now() - start, 5 * kDeadline);
  EXPECT_EQ(client->stats().timeouts, 1);

  // The connection stays up; the late reply is dropped once the server runs again.
  ASSERT_THAT(server_->Resume(), IsOk());
  EXPECT_THAT(Call(*client, {"PING"}), IsOk());
  EXPECT_TRUE(Eventually([&] { return client->stats().late_replies == 1; }));
  EXPECT_EQ(client->stats().disconnects, 0);
  // The timed-out command did execute: callers must be idempotent.
  EXPECT_THAT(server_->Run({"GET", "k"}), IsOkAndHolds(RedisValue::String("late")));
}

TEST_F(RedisClientTest, DeadlineExceededWhileTheServerSleeps) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  RedisOptions options = Options();
  options.connections = 1;  // so GET is pipelined behind DEBUG SLEEP, not run before it
  std::unique_ptr<RedisClient> client = Connect(options);
  ASSERT_NE(client, nullptr);
  constexpr absl::Duration kSleep = absl::Seconds(3);
  constexpr absl::Duration kDeadline = absl::Milliseconds(200);

  std::shared_ptr<Results> results = Results::Make(2);
  const absl::Time start = absl::Now();
  client->Command({"DEBUG", "SLEEP", absl::StrCat(absl::ToInt64Seconds(kSleep))}, start + kDeadline,
                  results->Slot(0));
  client->Command({"GET", "k"}, start + kDeadline, results->Slot(1));
  ASSERT_TRUE(results->WaitAll());
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_THAT(results->result(0), StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("DEBUG")));
  EXPECT_THAT(results->result(1), StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("GET")));
  // Both failed by their timers, long before the sleep (and so any reply) ended.
  EXPECT_LT(elapsed, kSleep - absl::Milliseconds(500));

  EXPECT_THAT(Call(*client, {"PING"}, 3 * kSleep), IsOk());
  EXPECT_TRUE(Eventually([&] { return client->stats().late_replies == 2; }));
}

TEST_F(RedisClientTest, InFlightLimitFailsFastWhileRedisStalls) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  RedisOptions options = Options();
  options.connections = 2;
  options.max_in_flight_per_connection = 3;
  std::unique_ptr<RedisClient> client = Connect(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(HandshakesDone(options.connections));
  ASSERT_THAT(server_->Pause(), IsOk());

  // Timed-out commands still hold their slot until their reply comes.
  std::shared_ptr<Results> timed_out = Results::Make(1);
  client->Command({"INCR", "n"}, absl::Now() + absl::Milliseconds(50), timed_out->Slot(0));
  ASSERT_TRUE(timed_out->WaitAll());
  EXPECT_THAT(timed_out->result(0), StatusIs(absl::StatusCode::kDeadlineExceeded));

  constexpr int kCommands = 8;
  std::shared_ptr<Results> results = Results::Make(kCommands);
  for (int i = 0; i < kCommands; ++i) client->Command({"INCR", "n"}, absl::Now() + kLimit, results->Slot(i));
  ASSERT_TRUE(Eventually([&] { return client->stats().unavailable == 3; }));
  ASSERT_THAT(server_->Resume(), IsOk());
  ASSERT_TRUE(results->WaitAll());

  int unavailable = 0;
  for (int i = 0; i < kCommands; ++i) {
    absl::StatusOr<RedisValue> result = results->result(i);
    if (result.ok()) continue;
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("3 commands in flight"))) << i;
    ++unavailable;
  }
  EXPECT_EQ(unavailable, 3);  // 2 connections x 3 slots, one held by the timed-out INCR
  EXPECT_THAT(server_->Run({"GET", "n"}), IsOkAndHolds(RedisValue::String("6")));
}

// ---- Connection failures ----------------------------------------------------------------------------------

TEST_F(RedisClientTest, RefusedConnectionIsUnavailable) {
  RedisOptions options;
  options.port = PickFreePort();  // nothing listens there
  absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
  ASSERT_THAT(client, IsOk());
  ASSERT_TRUE(Eventually([&] { return (*client)->stats().connect_failures >= options.connections; }));
  EXPECT_THAT(Call(**client, {"PING"}), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("refused")));
  EXPECT_FALSE((*client)->WaitForConnection(absl::Now() + absl::Milliseconds(100)));
}

TEST_F(RedisClientTest, ConnectTimesOutWhenTheServerDoesNotAnswer) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_THAT(server_->Pause(), IsOk());  // the kernel still accepts TCP connections
  RedisOptions options = Options();
  options.connect_timeout = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
  ASSERT_THAT(client, IsOk());
  ASSERT_TRUE(Eventually([&] { return (*client)->stats().connect_failures >= 1; }));
  EXPECT_FALSE((*client)->connected());
  EXPECT_THAT(Call(**client, {"PING"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("no handshake reply")));

  ASSERT_THAT(server_->Resume(), IsOk());
  EXPECT_TRUE((*client)->WaitForConnection(absl::Now() + kLimit));
  EXPECT_THAT(Call(**client, {"PING"}), IsOk());
}

TEST_F(RedisClientTest, UnavailableWhileStoppedThenRecoversAfterRestart) {
  RedisServerOptions server_options;
  server_options.appendonly = true;
  ASSERT_NO_FATAL_FAILURE(StartServer(server_options));
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(Call(*client, {"SET", "k", "kept"}), IsOk());
  ASSERT_THAT(Eval(*client, IncrScript(), {"q"}, {"1"}), IsOk());
  const int64_t script_loads = client->stats().script_loads;

  ASSERT_THAT(server_->Stop(), IsOk());
  ASSERT_TRUE(Eventually([&] { return !client->connected(); }));
  EXPECT_THAT(Call(*client, {"GET", "k"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("no connection")));
  EXPECT_GE(client->stats().disconnects, 1);

  ASSERT_THAT(server_->Restart(), IsOk());
  ASSERT_TRUE(client->WaitForConnection(absl::Now() + kLimit));
  EXPECT_THAT(Call(*client, {"GET", "k"}), IsOkAndHolds(RedisValue::String("kept")));  // from the AOF
  EXPECT_GE(client->stats().reconnects, 1);
  // The restarted server forgot the script; EvalScript loads it again.
  EXPECT_THAT(Eval(*client, IncrScript(), {"q"}, {"1"}), IsOkAndHolds(RedisValue::Integer(2)));
  EXPECT_EQ(client->stats().script_loads, script_loads + 1);
}

TEST_F(RedisClientTest, CommandsInFlightFailWhenTheServerDies) {
  RedisServerOptions server_options;
  server_options.appendonly = true;
  ASSERT_NO_FATAL_FAILURE(StartServer(server_options));
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(Call(*client, {"SET", "k", "synced"}), IsOk());

  std::shared_ptr<Results> results = Results::Make(1);
  client->Command({"DEBUG", "SLEEP", "10"}, absl::Now() + kLimit, results->Slot(0));
  ASSERT_TRUE(Eventually([&] { return client->stats().commands_sent >= 2; }));
  server_->Kill();
  ASSERT_TRUE(results->WaitAll());
  EXPECT_THAT(results->result(0), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connection lost")));

  ASSERT_THAT(server_->Restart(), IsOk());  // after SIGKILL: appendfsync always kept the write
  ASSERT_TRUE(client->WaitForConnection(absl::Now() + kLimit));
  EXPECT_THAT(Call(*client, {"GET", "k"}), IsOkAndHolds(RedisValue::String("synced")));
}

TEST_F(RedisClientTest, AReplyArrayOverTheBoundDropsTheConnectionNotTheProcess) {
  // hiredis would allocate every announced element's pointer up front; the client refuses the header.
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_NE(client, nullptr);
  const std::string script = "local t = {} for i = 1, tonumber(ARGV[1]) do t[i] = 1 end return t";
  absl::StatusOr<RedisValue> fits = Call(*client, {"EVAL", script, "0", absl::StrCat(kMaxReplyElements)});
  ASSERT_THAT(fits, IsOk());
  EXPECT_EQ(fits->elements().size(), static_cast<size_t>(kMaxReplyElements));
  EXPECT_THAT(Call(*client, {"EVAL", script, "0", absl::StrCat(kMaxReplyElements + 1)}),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("a reply array over ", kMaxReplyElements, " elements"))));
  ASSERT_TRUE(client->WaitForConnection(absl::Now() + kLimit));
  EXPECT_THAT(Call(*client, {"PING"}), IsOkAndHolds(RedisValue::Status("PONG")));
}

TEST_F(RedisClientTest, DestructorFailsEveryCommandNotCompleted) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  RedisOptions options = Options();
  options.connections = 1;  // every command queues behind DEBUG SLEEP
  std::unique_ptr<RedisClient> client = Connect(options);
  ASSERT_NE(client, nullptr);

  constexpr int kCommands = 100;
  std::shared_ptr<Results> results = Results::Make(kCommands + 1);
  client->Command({"DEBUG", "SLEEP", "10"}, absl::Now() + kLimit, results->Slot(0));
  for (int i = 1; i < kCommands; ++i) client->Command({"INCR", "n"}, absl::Now() + kLimit, results->Slot(i));
  // A callback that submits a command while the client shuts down: that command fails too.
  RedisClient* raw = client.get();
  client->Command({"PING"}, absl::Now() + kLimit, [raw, results](absl::StatusOr<RedisValue>) {
    raw->Command({"PING"}, absl::Now() + kLimit, results->Slot(kCommands));
  });
  // All sent and waiting behind DEBUG SLEEP: in flight, not just queued.
  ASSERT_TRUE(Eventually([&] { return client->stats().commands_sent == kCommands + 1; }));
  client.reset();

  ASSERT_TRUE(results->WaitAll(absl::ZeroDuration()));  // all called before the destructor returned
  int shut_down = 0;
  for (int i = 0; i <= kCommands; ++i) {
    EXPECT_EQ(results->calls(i), 1) << i;
    absl::StatusOr<RedisValue> result = results->result(i);
    if (!result.ok()) {
      EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shut down"))) << i;
      ++shut_down;
    }
  }
  EXPECT_EQ(shut_down, kCommands + 1);  // DEBUG SLEEP held the server: no reply came
  EXPECT_THAT(results->result(kCommands), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shut down")));
}

TEST_F(RedisClientTest, CreateRejectsInvalidOptions) {
  RedisOptions options;
  options.connections = 0;
  EXPECT_THAT(RedisClient::Create(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("connections")));
}

// ---------------------------------------------------------------------------------------------------------
// Durable writes: the write and its WAIT on one connection, answered only once replicas acknowledged.

class DurableWriteTest : public RedisClientTest {
 protected:
  void SetUp() override {
    RedisServerOptions master;
    master.extra_config = {"repl-diskless-sync-delay 0"};  // the replica syncs at once, not after 5 s
    ASSERT_NO_FATAL_FAILURE(StartServer(master));
    RedisServerOptions options;
    options.extra_config = {absl::StrCat("replicaof ", server_->host(), " ", server_->port())};
    absl::StatusOr<std::unique_ptr<RedisServer>> replica = RedisServer::Start(options);
    ASSERT_THAT(replica, IsOk());
    replica_ = *std::move(replica);
    ASSERT_TRUE(Eventually([&] {
      absl::StatusOr<RedisValue> info = server_->Run({"INFO", "replication"});
      return info.ok() && absl::StrContains(info->str(), "connected_slaves:1") &&
             absl::StrContains(info->str(), "state=online");
    }));
  }

  static absl::StatusOr<RedisValue> Durable(RedisClient& client, std::vector<std::string> args, int replicas,
                                            absl::Duration timeout, absl::Duration deadline) {
    std::shared_ptr<Results> results = Results::Make(1);
    client.Command(std::move(args), absl::Now() + deadline, SendOptions{{replicas, timeout}},
                   results->Slot(0));
    if (!results->WaitAll()) return absl::InternalError("callback not called");
    return results->result(0);
  }

  std::unique_ptr<RedisServer> replica_;
};

TEST_F(DurableWriteTest, AnsweredAfterTheReplicaAcknowledged) {
  std::unique_ptr<RedisClient> client = Connect(Options());
  EXPECT_THAT(Durable(*client, {"SET", "k", "v"}, 1, absl::Seconds(5), absl::Seconds(10)),
              IsOkAndHolds(RedisValue::Status("OK")));
  // Acknowledged means the replica has it: read it there at once.
  EXPECT_THAT(replica_->Run({"GET", "k"}), IsOkAndHolds(RedisValue::String("v")));
  EXPECT_EQ(client->stats().waits, 1);
  // A script too, also after its NOSCRIPT → SCRIPT LOAD → EVALSHA dance (which sends a WAIT of its own).
  const RedisScript script("redis.call('SET', KEYS[1], ARGV[1]) return 7");
  ASSERT_THAT(server_->Run({"SCRIPT", "FLUSH"}), IsOk());
  std::shared_ptr<Results> results = Results::Make(1);
  client->EvalScript(script, {"s"}, {"x"}, absl::Now() + absl::Seconds(10),
                     SendOptions{{1, absl::Seconds(5)}}, results->Slot(0));
  ASSERT_TRUE(results->WaitAll());
  EXPECT_THAT(results->result(0), IsOkAndHolds(RedisValue::Integer(7)));
  EXPECT_THAT(replica_->Run({"GET", "s"}), IsOkAndHolds(RedisValue::String("x")));
  EXPECT_EQ(client->stats().script_loads, 1);
  EXPECT_EQ(client->stats().waits, 3);
  // An error reply is answered at once, not after a WAIT: nothing was acknowledged.
  EXPECT_THAT(Durable(*client, {"INCR", "k"}, 1, absl::Seconds(5), absl::Seconds(10)),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("not an integer")));
}

TEST_F(DurableWriteTest, UnavailableWithinTheDeadlineWhenTheReplicaDoesNotAcknowledge) {
  std::unique_ptr<RedisClient> client = Connect(Options());
  ASSERT_THAT(replica_->Pause(), IsOk());
  // The WAIT's own timeout ...
  EXPECT_THAT(Durable(*client, {"SET", "k", "v"}, 1, absl::Milliseconds(100), absl::Seconds(10)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("acknowledged by 0 of 1 replicas")));
  // ... or the deadline, whichever comes first (the WAIT's timeout is cut to the deadline).
  const absl::Time start = absl::Now();
  absl::StatusOr<RedisValue> late =
      Durable(*client, {"SET", "k", "w"}, 1, absl::Seconds(60), absl::Seconds(1));
  EXPECT_TRUE(absl::IsUnavailable(late.status()) || absl::IsDeadlineExceeded(late.status())) << late.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10)) << "sanity bound: the WAIT must not outlive the call";
  EXPECT_GE(client->stats().waits_short, 1);
  // Two replicas asked of a master that has one: never enough (once the resumed replica caught up, it is the
  // one that acknowledged).
  ASSERT_THAT(replica_->Resume(), IsOk());
  ASSERT_THAT(Durable(*client, {"SET", "k", "v"}, 1, absl::Seconds(5), absl::Seconds(10)), IsOk());
  EXPECT_THAT(Durable(*client, {"SET", "k", "v"}, 2, absl::Milliseconds(200), absl::Seconds(10)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("acknowledged by 1 of 2 replicas")));
}

TEST_F(DurableWriteTest, CommandsAreNotQueuedBehindAWaitInFlight) {
  RedisOptions options = Options();
  options.connections = 2;
  std::unique_ptr<RedisClient> client = Connect(options);
  ASSERT_TRUE(Eventually([&] { return HandshakesDone(2); }));
  ASSERT_THAT(replica_->Pause(), IsOk());
  // A durable write whose WAIT will block its connection for 3 s ...
  std::shared_ptr<Results> durable = Results::Make(1);
  client->Command({"SET", "k", "v"}, absl::Now() + absl::Seconds(20), SendOptions{{1, absl::Seconds(3)}},
                  durable->Slot(0));
  ASSERT_TRUE(Eventually([&] { return client->stats().waits == 1; }));
  // ... does not hold up the commands that come after it: they take the other connection.
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(Call(*client, {"GET", "k"}), IsOkAndHolds(RedisValue::String("v")));
    EXPECT_EQ(durable->calls(0), 0) << "the GET was answered only after the WAIT";
  }
  ASSERT_TRUE(durable->WaitAll());
  EXPECT_THAT(durable->result(0), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(replica_->Resume(), IsOk());
}

TEST_F(DurableWriteTest, ConcurrentDurableWritesShareWaits) {
  std::unique_ptr<RedisClient> client = Connect(Options());
  constexpr int kWrites = 200;
  std::shared_ptr<Results> results = Results::Make(kWrites);
  for (int i = 0; i < kWrites; ++i) {
    client->Command({"SET", absl::StrCat("k", i), "v"}, absl::Now() + absl::Seconds(10),
                    SendOptions{{1, absl::Seconds(5)}}, results->Slot(i));
  }
  ASSERT_TRUE(results->WaitAll());
  for (int i = 0; i < kWrites; ++i) EXPECT_THAT(results->result(i), IsOk());
  const int64_t waits = client->stats().waits;
  std::cout << "[ figures ] " << kWrites << " durable writes submitted at once took " << waits << " WAITs\n";
  EXPECT_GE(waits, 1);
  EXPECT_LE(waits, kWrites);
  EXPECT_THAT(replica_->Run({"DBSIZE"}), IsOkAndHolds(RedisValue::Integer(kWrites)));
}

}  // namespace
}  // namespace tradein::redis
