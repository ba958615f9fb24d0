#include "tests/testing/subprocess.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace tradein::testing {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Polls Running() (which reaps but reports nothing) until the child has exited; false after 30 s.
bool WaitUntilExited(Subprocess& child) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (child.Running()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

class SubprocessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create();
    ASSERT_THAT(dir, IsOk());
    dir_ = std::make_unique<TempDir>(*std::move(dir));
  }

  // Runs `sh -c script` with stdout and stderr captured in dir_.
  std::unique_ptr<Subprocess> Shell(const std::string& script, SubprocessOptions options = {}) {
    options.argv = {"sh", "-c", script};
    options.stdout_path = dir_->Join("stdout");
    options.stderr_path = dir_->Join("stderr");
    absl::StatusOr<std::unique_ptr<Subprocess>> child = Subprocess::Spawn(std::move(options));
    EXPECT_THAT(child, IsOk());
    return child.ok() ? *std::move(child) : nullptr;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(SubprocessTest, ExitCodeAndCapturedOutput) {
  std::unique_ptr<Subprocess> child = Shell("echo out; echo err >&2; exit 3");
  ASSERT_NE(child, nullptr);
  EXPECT_THAT(child->Wait(absl::Seconds(30)), IsOkAndHolds(3));
  EXPECT_FALSE(child->Running());
  EXPECT_EQ(ReadFile(dir_->Join("stdout")), "out\n");
  EXPECT_EQ(ReadFile(dir_->Join("stderr")), "err\n");
}

TEST_F(SubprocessTest, EnvironmentAndWorkingDirectory) {
  SubprocessOptions options;
  options.env = {{"TRADEIN_SUBPROCESS_TEST", "42"}};
  options.working_dir = dir_->path();
  std::unique_ptr<Subprocess> child =
      Shell("echo $TRADEIN_SUBPROCESS_TEST ${PATH:+inherited}; pwd -P", options);
  ASSERT_NE(child, nullptr);
  EXPECT_THAT(child->Wait(absl::Seconds(30)), IsOkAndHolds(0));
  EXPECT_EQ(ReadFile(dir_->Join("stdout")),
            "42 inherited\n" + std::filesystem::canonical(dir_->path()).string() + "\n");
}

TEST_F(SubprocessTest, SignalWaitAndKill) {
  std::unique_ptr<Subprocess> child = Shell("exec sleep 60");
  ASSERT_NE(child, nullptr);
  EXPECT_THAT(child->Wait(absl::Milliseconds(50)), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_TRUE(child->Running());
  ASSERT_THAT(child->Signal(SIGTERM), IsOk());
  EXPECT_THAT(child->Wait(absl::Seconds(30)), IsOkAndHolds(128 + SIGTERM));
  EXPECT_THAT(child->Signal(SIGTERM), StatusIs(absl::StatusCode::kFailedPrecondition));

  std::unique_ptr<Subprocess> other = Shell("exec sleep 60");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->Kill(), 128 + SIGKILL);
}

TEST_F(SubprocessTest, AnExitIsReportedOnlyOnceWaitOrKillReturnedIt) {
  std::unique_ptr<Subprocess> child = Shell("exit 5");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(WaitUntilExited(*child));
  EXPECT_FALSE(child->ExitReported());  // exited, reaped by Running(), but nobody was told
  EXPECT_THAT(child->Wait(absl::ZeroDuration()), IsOkAndHolds(5));
  EXPECT_TRUE(child->ExitReported());

  std::unique_ptr<Subprocess> killed = Shell("exec sleep 60");
  ASSERT_NE(killed, nullptr);
  EXPECT_FALSE(killed->ExitReported());
  killed->Kill();
  EXPECT_TRUE(killed->ExitReported());
}

TEST_F(SubprocessTest, DestructorKillsTheChild) {
  std::unique_ptr<Subprocess> child = Shell("exec sleep 60");
  ASSERT_NE(child, nullptr);
  const pid_t pid = child->pid();
  child.reset();
  EXPECT_NE(kill(pid, 0), 0);  // reaped: the pid no longer exists
}

TEST_F(SubprocessTest, MissingProgramIsNotFound) {
  SubprocessOptions options;
  options.argv = {"tradein-no-such-program"};
  EXPECT_THAT(Subprocess::Spawn(options), StatusIs(absl::StatusCode::kNotFound, HasSubstr("not found")));
  options.argv = {dir_->path()};  // a directory: execve fails
  EXPECT_THAT(Subprocess::Spawn(options), StatusIs(absl::StatusCode::kNotFound, HasSubstr("execve")));
}

TEST(TempDirTest, CreatesAndRemovesEverythingInside) {
  std::string path;
  {
    absl::StatusOr<TempDir> dir = TempDir::Create("tradein-test-");
    ASSERT_THAT(dir, IsOk());
    path = dir->path();
    EXPECT_TRUE(std::filesystem::is_directory(path));
    EXPECT_THAT(path, HasSubstr("/tradein-test-"));
    std::filesystem::create_directory(dir->Join("sub"));
    std::ofstream(dir->Join("sub/file")) << "x";
    TempDir moved = *std::move(dir);
    EXPECT_EQ(moved.path(), path);
    EXPECT_TRUE(std::filesystem::exists(moved.Join("sub/file")));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace tradein::testing
