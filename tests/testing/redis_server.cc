#include "tests/testing/redis_server.h"

#include <signal.h>
#include <sys/time.h>

#include <cstdlib>
#include <deque>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "hiredis/hiredis.h"
#include "tests/testing/free_port.h"

namespace tradein::testing {
namespace {

using redis::RedisValue;

constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kStopTimeout = absl::Seconds(10);
constexpr absl::Duration kSyncTimeout = absl::Seconds(5);
constexpr int kStartAttempts = 5;

// A redis.conf argument in double quotes (sdssplitargs syntax).
std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\\", "\\\\"}, {"\"", "\\\""}}), "\"");
}

std::string ServerBinary() {
  const char* binary = std::getenv("TRADEIN_REDIS_SERVER");
  return binary != nullptr && binary[0] != '\0' ? binary : "redis-server";
}

absl::StatusOr<RedisValue> SyncCommand(redisContext* context, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    argvlen.push_back(arg.size());
  }
  void* raw = redisCommandArgv(context, static_cast<int>(args.size()), argv.data(), argvlen.data());
  if (raw == nullptr) return absl::UnavailableError(absl::StrCat("redis ", args[0], ": ", context->errstr));
  const std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(static_cast<redisReply*>(raw),
                                                                      &freeReplyObject);
  RedisValue value = RedisValue::FromReply(*reply);
  if (value.is_error()) return redis::ErrorReplyToStatus(value.str());
  return value;
}

std::deque<std::string> LastLines(const std::string& path, size_t count) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > count) lines.pop_front();
  }
  return lines;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(RedisServerOptions options) {
  signal(SIGPIPE, SIG_IGN);
  TRADEIN_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("tradein-redis-"));
  std::unique_ptr<RedisServer> server(new RedisServer(std::move(options), std::move(dir)));
  TRADEIN_RETURN_IF_ERROR(server->WriteConfig());
  absl::Status status;
  // The port was free when picked; another process may bind it first. Then try another.
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    server->port_ = PickFreePort();
    status = server->Launch();
    if (status.ok()) return server;
    if (!absl::StrContains(status.message(), "Address already in use")) break;
  }
  return status;
}

RedisServer::RedisServer(RedisServerOptions options, TempDir dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

RedisServer::~RedisServer() { Kill(); }  // then ~TempDir removes the directory

std::string RedisServer::url() const {
  return absl::StrCat("redis://",
                      options_.requirepass.empty() ? "" : absl::StrCat(":", options_.requirepass, "@"), host_,
                      ":", port_);
}

absl::Status RedisServer::WriteConfig() const {
  std::vector<std::string> lines = {
      absl::StrCat("bind ", host_),
      absl::StrCat("dir ", Quote(dir_.path())),
      absl::StrCat("logfile ", Quote(dir_.Join("redis.log"))),
      "daemonize no",
      "save \"\"",
      "enable-debug-command local",
      absl::StrCat("appendonly ", options_.appendonly ? "yes" : "no"),
      absl::StrCat("appendfsync ", options_.appendfsync),
  };
  if (!options_.requirepass.empty())
    lines.push_back(absl::StrCat("requirepass ", Quote(options_.requirepass)));
  if (!options_.acl_user.empty()) {
    lines.push_back(absl::StrCat("user ", options_.acl_user, " on ",
                                 Quote(absl::StrCat(">", options_.acl_password)), " ~* &* +@all"));
  }
  lines.insert(lines.end(), options_.extra_config.begin(), options_.extra_config.end());
  std::ofstream out(dir_.Join("redis.conf"));
  out << absl::StrJoin(lines, "\n") << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", dir_.Join("redis.conf")));
  return absl::OkStatus();
}

absl::Status RedisServer::Launch() {
  SubprocessOptions spawn;
  spawn.argv = {ServerBinary(), dir_.Join("redis.conf"), "--port", absl::StrCat(port_)};
  spawn.stdout_path = dir_.Join("stdout.log");
  spawn.stderr_path = dir_.Join("stderr.log");
  TRADEIN_ASSIGN_OR_RETURN(process_, Subprocess::Spawn(std::move(spawn)));
  paused_ = false;
  const absl::Time deadline = absl::Now() + kStartTimeout;
  absl::Status last = absl::UnknownError("not tried");
  while (absl::Now() < deadline) {
    if (!process_->Running()) {
      return absl::UnavailableError(absl::StrCat("redis-server on port ", port_, " exited with code ",
                                                 process_->Kill(), ":\n", LogTail()));
    }
    absl::StatusOr<RedisValue> pong = Run({"PING"});
    if (pong.ok()) return absl::OkStatus();
    last = pong.status();  // refused while starting, LOADING while the AOF replays
    absl::SleepFor(absl::Milliseconds(10));
  }
  process_->Kill();
  return absl::DeadlineExceededError(
      absl::StrCat("redis-server on port ", port_, " did not answer PING within ",
                   absl::FormatDuration(kStartTimeout), " (", last.message(), "):\n", LogTail()));
}

absl::Status RedisServer::Stop() {
  if (process_ == nullptr || !process_->Running()) return absl::OkStatus();
  TRADEIN_RETURN_IF_ERROR(process_->Signal(SIGTERM));
  if (paused_) TRADEIN_RETURN_IF_ERROR(Resume());
  absl::StatusOr<int> exit_code = process_->Wait(kStopTimeout);
  if (!exit_code.ok()) {
    Kill();
    return exit_code.status();
  }
  return absl::OkStatus();
}

void RedisServer::Kill() {
  if (process_ != nullptr) process_->Kill();
  paused_ = false;
}

absl::Status RedisServer::Pause() {
  if (process_ == nullptr) return absl::FailedPreconditionError("redis-server is not running");
  TRADEIN_RETURN_IF_ERROR(process_->Signal(SIGSTOP));
  paused_ = true;
  return absl::OkStatus();
}

absl::Status RedisServer::Resume() {
  if (process_ == nullptr) return absl::FailedPreconditionError("redis-server is not running");
  TRADEIN_RETURN_IF_ERROR(process_->Signal(SIGCONT));
  paused_ = false;
  return absl::OkStatus();
}

absl::Status RedisServer::Restart() {
  TRADEIN_RETURN_IF_ERROR(Stop());
  return Launch();
}

absl::StatusOr<RedisValue> RedisServer::Run(const std::vector<std::string>& args) const {
  const timeval timeout = absl::ToTimeval(kSyncTimeout);
  const std::unique_ptr<redisContext, decltype(&redisFree)> context(
      redisConnectWithTimeout(host_.c_str(), port_, timeout), &redisFree);
  if (context == nullptr) return absl::UnavailableError("redisConnectWithTimeout: out of memory");
  if (context->err != 0) {
    return absl::UnavailableError(absl::StrCat("connect ", host_, ":", port_, ": ", context->errstr));
  }
  redisSetTimeout(context.get(), timeout);
  if (!options_.requirepass.empty()) {
    TRADEIN_RETURN_IF_ERROR(SyncCommand(context.get(), {"AUTH", options_.requirepass}).status());
  }
  return SyncCommand(context.get(), args);
}

std::string RedisServer::LogTail() const {
  std::deque<std::string> lines = LastLines(dir_.Join("redis.log"), 20);
  for (std::string& line : LastLines(dir_.Join("stderr.log"), 5)) lines.push_back(std::move(line));
  return absl::StrJoin(lines, "\n");
}

}  // namespace tradein::testing
