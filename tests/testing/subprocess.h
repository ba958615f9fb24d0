// -----------------------------------------------------------------------------
// File: subprocess.h
// -----------------------------------------------------------------------------
//
// Subprocess runs a program as a child process for tests (redis-server, the tradein-server binary): with
// given arguments and extra environment, its stdout and stderr written to files, and means to signal it and
// wait for it with a bound.
//
//   SubprocessOptions options;
//   options.argv = {server_path, absl::StrCat("--port=", port)};
//   options.env = {{"TZ", "Asia/Shanghai"}};
//   options.stderr_path = dir.Join("server.stderr");
//   TRADEIN_ASSIGN_OR_RETURN(std::unique_ptr<Subprocess> server, Subprocess::Spawn(std::move(options)));
//   ...
//   TRADEIN_RETURN_IF_ERROR(server->Signal(SIGTERM));
//   TRADEIN_ASSIGN_OR_RETURN(int exit_code, server->Wait(absl::Seconds(10)));
//
// The child is started with fork + execve (only async-signal-safe calls in between), an empty signal mask
// and default SIGPIPE handling, and with PR_SET_PDEATHSIG = SIGKILL: it is killed when the thread that
// spawned it exits, so a crashed or killed test leaves no stray servers behind. Spawn from a thread that
// outlives the child (the test's main thread).
//
// Thread safety: not thread-safe; use one Subprocess from one thread at a time.
// Errors: Spawn() returns NOT_FOUND when the program cannot be found or executed and INTERNAL for other
// system call failures; Wait() returns DEADLINE_EXCEEDED when the child is still running at the bound.
#ifndef TRADEIN_TESTS_TESTING_SUBPROCESS_H_
#define TRADEIN_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tradein::testing {

struct SubprocessOptions {
  // argv[0] is the program: a path, or a name looked up in $PATH. Must not be empty.
  std::vector<std::string> argv;
  // Set in the child's environment, on top of (or replacing) the parent's.
  std::vector<std::pair<std::string, std::string>> env;
  // The child's working directory; empty: the parent's.
  std::string working_dir;
  // Files that receive the child's stdout and stderr (created or truncated); empty: /dev/null.
  std::string stdout_path;
  std::string stderr_path;
};

class Subprocess {
 public:
  // Spawn
  //
  // Starts the child and returns once it has called execve (so a missing program is reported here).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Subprocess>> Spawn(SubprocessOptions options);

  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Subprocess();

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // True until the child has exited (reaps it when it has).
  bool Running();

  // Sends `signo` to the child. FAILED_PRECONDITION when it has already exited.
  absl::Status Signal(int signo);

  // Wait
  //
  // Waits up to `timeout` for the child to exit and returns its exit code, or 128 + the signal number when a
  // signal ended it (the shell's convention: 143 for SIGTERM, 137 for SIGKILL). DEADLINE_EXCEEDED when it is
  // still running. Returns at once if it has already exited.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // Sends SIGKILL (if still running) and reaps the child; returns like Wait().
  int Kill();

  // True once Wait() or Kill() has returned the child's exit code to a caller: a child that exited while
  // nobody was waiting for it (a crash, say) is not.
  bool ExitReported() const { return exit_reported_; }

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  bool Reap(bool block);

  const pid_t pid_;
  std::optional<int> exit_code_;
  bool exit_reported_ = false;
};

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_TESTING_SUBPROCESS_H_
