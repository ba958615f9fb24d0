#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace tradein::testing {
namespace {

// What the child was doing when it failed, reported to the parent through the exec pipe with errno.
enum ChildStage : int { kRedirect, kChdir, kExec };

struct ChildFailure {
  int stage;
  int error;
};

// `program` itself when it names a path, else the first executable file called `program` in $PATH.
std::optional<std::string> FindProgram(const std::string& program) {
  if (absl::StrContains(program, '/')) return program;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", program);
    struct stat info;
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

std::vector<std::string> ChildEnvironment(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const absl::string_view name = absl::string_view(*entry).substr(0, absl::string_view(*entry).find('='));
    const bool overridden =
        std::any_of(overrides.begin(), overrides.end(), [&](const auto& kv) { return kv.first == name; });
    if (!overridden) env.emplace_back(*entry);
  }
  for (const auto& [name, value] : overrides) env.push_back(absl::StrCat(name, "=", value));
  return env;
}

// Null-terminated pointers into `strings`, for execve.
std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Child side, between fork and execve: async-signal-safe calls only.
[[noreturn]] void ReportAndExit(int fd, ChildStage stage) {
  const ChildFailure failure{stage, errno};
  [[maybe_unused]] const ssize_t ignored = write(fd, &failure, sizeof(failure));
  _exit(127);
}

void Redirect(const char* path, int flags, int target_fd, int report_fd) {
  const int fd = open(path, flags | O_CLOEXEC, 0644);
  if (fd < 0 || dup2(fd, target_fd) < 0) ReportAndExit(report_fd, kRedirect);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Spawn(SubprocessOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Subprocess::Spawn: empty argv");
  const std::optional<std::string> program = FindProgram(options.argv[0]);
  if (!program.has_value()) return absl::NotFoundError(absl::StrCat(options.argv[0], ": not found in $PATH"));
  std::vector<std::string> env = ChildEnvironment(options.env);
  std::vector<char*> argv_pointers = Pointers(options.argv);
  std::vector<char*> env_pointers = Pointers(env);
  const std::string stdout_path = options.stdout_path.empty() ? "/dev/null" : options.stdout_path;
  const std::string stderr_path = options.stderr_path.empty() ? "/dev/null" : options.stderr_path;

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0)
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    close(report[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &default_action, nullptr);
    Redirect("/dev/null", O_RDONLY, STDIN_FILENO, report[1]);
    Redirect(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO, report[1]);
    Redirect(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, STDERR_FILENO, report[1]);
    if (!options.working_dir.empty() && chdir(options.working_dir.c_str()) != 0)
      ReportAndExit(report[1], kChdir);
    execve(program->c_str(), argv_pointers.data(), env_pointers.data());
    ReportAndExit(report[1], kExec);
  }
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  // The pipe closes without data when execve succeeds (O_CLOEXEC).
  ChildFailure failure{};
  ssize_t n = 0;
  do {
    n = read(report[0], &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  auto child = std::unique_ptr<Subprocess>(new Subprocess(pid));
  if (n != static_cast<ssize_t>(sizeof(failure))) return child;
  child->Reap(/*block=*/true);
  switch (failure.stage) {
    case kRedirect:
      return absl::InternalError(absl::StrCat(*program, ": cannot open /dev/null, ", stdout_path, " or ",
                                              stderr_path, ": ", std::strerror(failure.error)));
    case kChdir:
      return absl::InternalError(
          absl::StrCat(*program, ": chdir ", options.working_dir, ": ", std::strerror(failure.error)));
    default:
      return absl::NotFoundError(absl::StrCat(*program, ": execve: ", std::strerror(failure.error)));
  }
}

Subprocess::~Subprocess() { Kill(); }

bool Subprocess::Reap(bool block) {
  if (exit_code_.has_value()) return true;
  int status = 0;
  pid_t result = 0;
  do {
    result = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == 0) return false;
  if (result < 0) {
    exit_code_ = -1;  // not our child any more (cannot happen unless someone else reaped it)
  } else {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return true;
}

bool Subprocess::Running() { return !Reap(/*block=*/false); }

absl::Status Subprocess::Signal(int signo) {
  if (!Running()) return absl::FailedPreconditionError(absl::StrCat("pid ", pid_, " has exited"));
  if (kill(pid_, signo) != 0) return absl::InternalError(absl::StrCat("kill: ", std::strerror(errno)));
  return absl::OkStatus();
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration poll = absl::Milliseconds(1);
  while (Running()) {
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("pid ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(std::min(poll, deadline - now));
    poll = std::min(poll * 2, absl::Milliseconds(20));
  }
  exit_reported_ = true;
  return *exit_code_;
}

int Subprocess::Kill() {
  if (Running()) kill(pid_, SIGKILL);
  Reap(/*block=*/true);
  exit_reported_ = true;
  return *exit_code_;
}

}  // namespace tradein::testing
