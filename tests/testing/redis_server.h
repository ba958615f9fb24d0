// -----------------------------------------------------------------------------
// File: redis_server.h
// -----------------------------------------------------------------------------
//
// RedisServer runs a throwaway redis-server for one test: a real server (the binary named by
// $TRADEIN_REDIS_SERVER, else `redis-server` from $PATH) on a free port of 127.0.0.1, with its config, data
// and log in a fresh temporary directory. Tests can stop, kill, pause and restart it to exercise failures.
//
//   RedisServerOptions options;
//   options.requirepass = "s3cret";
//   TRADEIN_ASSIGN_OR_RETURN(std::unique_ptr<RedisServer> redis, RedisServer::Start(options));
//   auto client = RedisClient::Create(*ParseRedisUrl(redis->url()));
//   ASSERT_THAT(redis->Run({"SCRIPT", "FLUSH"}), IsOk());
//
// The server always runs with `save ""` (no RDB snapshots) and `enable-debug-command local` (DEBUG SLEEP).
// Starting one makes the test process ignore SIGPIPE, so a synchronous write to a server that just died
// fails instead of killing the test.
//
// Thread safety: Run(), port(), url() and the other const methods may be called from any thread; the methods
// that change the process (Stop, Kill, Pause, Resume, Restart) need external synchronization.
// Errors: Start() and Restart() fail with the tail of the server's log when it does not answer PING within
// 10 s; the destructor always kills and reaps the process and removes the directory.
#ifndef TRADEIN_TESTS_TESTING_REDIS_SERVER_H_
#define TRADEIN_TESTS_TESTING_REDIS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/redis/redis_value.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tradein::testing {

struct RedisServerOptions {
  // Append-only file persistence, so Restart() (and even Kill() then Restart()) keeps the data.
  bool appendonly = false;
  std::string appendfsync = "always";  // used with appendonly: always, everysec or no
  // Password of the default user (requirepass); empty: none.
  std::string requirepass;
  // An extra ACL user allowed every command on every key; empty name: none.
  std::string acl_user;
  std::string acl_password;
  // More redis.conf lines, e.g. "maxmemory 1mb".
  std::vector<std::string> extra_config;
};

class RedisServer {
 public:
  // Start
  //
  // Starts the server and waits (up to 10 s) until it answers PING.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RedisServer>> Start(RedisServerOptions options = {});

  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }

  // "redis://127.0.0.1:<port>", with ":<requirepass>@" when a password is set.
  std::string url() const;

  // Stop
  //
  // SIGTERM (plus SIGCONT if paused) and waits up to 10 s for a clean exit; then SIGKILL and
  // DEADLINE_EXCEEDED. OK when the server is not running.
  absl::Status Stop();

  // SIGKILL, then reaps the process: a crash, no shutdown work.
  void Kill();

  // SIGSTOP / SIGCONT: the server keeps its sockets (clients can even connect) but answers nothing.
  absl::Status Pause();
  absl::Status Resume();

  // Restart
  //
  // Stop() if running, then starts again on the same port and directory (the AOF replays when appendonly)
  // and waits until it answers PING.
  absl::Status Restart();

  // Run
  //
  // Runs one command on a new synchronous connection (hiredis, 5 s connect and I/O timeouts), authenticated
  // as the default user. An error reply becomes a Status as in RedisClient (ErrorReplyToStatus); a connection
  // failure is UNAVAILABLE.
  absl::StatusOr<redis::RedisValue> Run(const std::vector<std::string>& args) const;

  // The last lines of the server's log, for failure messages.
  std::string LogTail() const;

 private:
  RedisServer(RedisServerOptions options, TempDir dir);
  absl::Status WriteConfig() const;
  absl::Status Launch();  // starts the process on port_ and waits for PING

  const RedisServerOptions options_;
  const TempDir dir_;
  const std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
  bool paused_ = false;
};

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_TESTING_REDIS_SERVER_H_
