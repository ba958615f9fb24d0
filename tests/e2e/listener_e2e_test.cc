// A listener that cannot bind stops the start with a clear error, never a crash (issue 9, defect 2): a second
// tradein-server whose gRPC, health, JSON gateway or metrics address is already taken by a running one exits
// 1 with one JSON log line naming the flag and the address. (It used to die of SIGSEGV, exit 139, when the
// metrics port was taken; and gRPC's SO_REUSEPORT let a second server share the gRPC port silently.)
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/free_port.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tradein {
namespace {

using ::testing::HasSubstr;
using testing::ServerProcess;

struct Clash {
  std::string flag;  // the flag whose address the second server shares with the first
  std::string address;
};

TEST(ListenerE2eTest, ASecondServerOnATakenAddressExitsWithAnErrorNamingTheFlag) {
  const std::string health = absl::StrCat("127.0.0.1:", testing::PickFreePort());
  const std::string http = absl::StrCat("127.0.0.1:", testing::PickFreePort());
  const std::string metrics = absl::StrCat("127.0.0.1:", testing::PickFreePort());
  absl::StatusOr<std::unique_ptr<ServerProcess>> first =
      ServerProcess::Start({absl::StrCat("--health_listen=", health), absl::StrCat("--http_listen=", http),
                            absl::StrCat("--metrics_listen=", metrics)});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(testing::WaitUntil([&] { return (*first)->Stdout().find("try:") != std::string::npos; }))
      << "every listener of the first server is bound once its banner is out";

  const std::vector<Clash> clashes = {{"listen", (*first)->address()},
                                      {"health_listen", health},
                                      {"http_listen", http},
                                      {"metrics_listen", metrics}};
  for (const Clash& clash : clashes) {
    SCOPED_TRACE(clash.flag);
    // The second server's other listeners are free (or off), so only `clash` can fail.
    std::vector<std::string> argv = {
        testing::ServerBinaryPath(), absl::StrCat("--listen=127.0.0.1:", testing::PickFreePort()),
        absl::StrCat("--policy_dir=", testing::ShippedPolicyDir()), "--metrics_listen=127.0.0.1:0"};
    argv.push_back(absl::StrCat("--", clash.flag, "=", clash.address));
    absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-clash-");
    ASSERT_TRUE(dir.ok());
    testing::SubprocessOptions options;
    options.argv = argv;
    options.stdout_path = dir->Join("stdout");
    options.stderr_path = dir->Join("stderr");
    absl::StatusOr<std::unique_ptr<testing::Subprocess>> second =
        testing::Subprocess::Spawn(std::move(options));
    ASSERT_TRUE(second.ok()) << second.status();
    const absl::StatusOr<int> code = (*second)->Wait(absl::Seconds(60));
    ASSERT_TRUE(code.ok()) << "the second server kept running on a taken address";
    const std::string err = testing::ReadFile(dir->Join("stderr"));
    EXPECT_EQ(*code, 1) << "exit 1 with an error, not a crash (139 = SIGSEGV)\n" << err;
    EXPECT_THAT(err, HasSubstr("\"event\":\"start_failed\"")) << err;
    EXPECT_THAT(err, HasSubstr(absl::StrCat("--", clash.flag, "=", clash.address, ": cannot listen"))) << err;
    for (absl::string_view line : absl::StrSplit(err, '\n', absl::SkipEmpty())) {
      EXPECT_TRUE(absl::StartsWith(line, "{")) << "every stderr line is a JSON log line: " << line;
    }
  }
  EXPECT_TRUE(testing::WaitUntil([&] { return (*first)->process().Running(); }, absl::Seconds(1)))
      << "the first server is unharmed";
}

}  // namespace
}  // namespace tradein
