// TradeinServer::Reload (SIGHUP, PortalService/ReloadPolicies) is one unit (issue 9, defect 4): the policy
// directory and the callers file are both loaded and validated before either is swapped in, so a broken
// callers file leaves the old policies in force too, and the "kept_snapshot" it logs is the one serving.
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/server/server.h"
#include "tests/testing/temp_dir.h"

namespace tradein::server {
namespace {

using ::testing::HasSubstr;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string CallersText() {
  // Any 64 hex digits will do: no call is made here.
  return absl::StrCat("callers {\n  id: \"admin\"\n  role: ADMIN\n  api_key_sha256: \"", std::string(64, 'a'),
                      "\"\n}\n");
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-reload-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));
    const std::string copy = absl::StrCat("mkdir ", dir_->Join("policies"), " && cp ", TRADEIN_SOURCE_DIR,
                                          "/deploy/policies/*.textproto ", dir_->Join("policies"));
    ASSERT_EQ(std::system(copy.c_str()), 0);
    WriteFile(dir_->Join("callers.textproto"), CallersText());
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "";
    options.policy_dir = dir_->Join("policies");
    options.callers_file = dir_->Join("callers.textproto");
    absl::StatusOr<std::unique_ptr<TradeinServer>> server = TradeinServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // Changes a rate in the Zhejiang policy: a valid directory with another snapshot version.
  void ChangePolicies() {
    const std::string edit = absl::StrCat("sed -i '0,/rate_bp: 2000/s//rate_bp: 1900/' ",
                                          dir_->Join("policies/zj-2025.textproto"));
    ASSERT_EQ(std::system(edit.c_str()), 0);
  }

  std::optional<testing::TempDir> dir_;
  std::unique_ptr<TradeinServer> server_;
};

TEST_F(ReloadTest, ABrokenCallersFileKeepsTheOldPoliciesToo) {
  const std::string before = server_->policies().Current()->version();
  ChangePolicies();
  WriteFile(dir_->Join("callers.textproto"), "callers { id: \"admin\" role: NO_SUCH_ROLE }\n");

  const absl::Status reloaded = server_->Reload();
  EXPECT_FALSE(reloaded.ok());
  EXPECT_EQ(server_->policies().Current()->version(), before)
      << "the reload failed, so the new policies must not be live";

  WriteFile(dir_->Join("callers.textproto"), CallersText());
  ASSERT_TRUE(server_->Reload().ok());
  EXPECT_NE(server_->policies().Current()->version(), before) << "fixed: both go live together";
}

TEST_F(ReloadTest, ABrokenPolicyDirectoryKeepsTheOldCallersAndPolicies) {
  const std::string before = server_->policies().Current()->version();
  const std::string edit =
      absl::StrCat("sed -i 's/rate_bp: 2000/rate_bp: 20000/' ", dir_->Join("policies/zj-2025.textproto"));
  ASSERT_EQ(std::system(edit.c_str()), 0);
  const absl::Status reloaded = server_->Reload();
  EXPECT_FALSE(reloaded.ok());
  EXPECT_THAT(std::string(reloaded.message()), HasSubstr("zj-2025.textproto"));
  EXPECT_EQ(server_->policies().Current()->version(), before);
}

}  // namespace
}  // namespace tradein::server
