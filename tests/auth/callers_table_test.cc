#include "services/auth/callers_table.h"

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/common.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace tradein::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::tradein::testing::StatusIs;

// SHA-256 of "test".
constexpr char kTestKeyHash[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

class CallersTableTest : public ::testing::Test {
 protected:
  // Loads `text` as the callers file.
  absl::StatusOr<std::shared_ptr<const CallersTable>> Load(const std::string& text) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
    return CallersTable::Load(path_);
  }

  const absl::StatusOr<testing::TempDir> dir_ = testing::TempDir::Create("callers-");
  const std::string path_ = dir_->Join("callers.textproto");
};

TEST_F(CallersTableTest, FindsCallersByKeyAndByTlsIdentity) {
  const absl::StatusOr<std::shared_ptr<const CallersTable>> table = Load(absl::StrCat(
      R"(callers { id: "till" role: RETAILER retailer_id: "shop-1" region_codes: "330381" api_key_sha256: ")",
      kTestKeyHash, R"(" }
         callers { id: "portal" role: PORTAL tls_identities: "portal.example" })"));
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_NE((*table)->FindByApiKey("test"), nullptr);
  EXPECT_EQ((*table)->FindByApiKey("test")->id(), "till");
  EXPECT_EQ((*table)->FindByApiKey("tesT"), nullptr);
  ASSERT_NE((*table)->FindByTlsIdentity("portal.example"), nullptr);
  EXPECT_EQ((*table)->FindByTlsIdentity("portal.example")->id(), "portal");
  EXPECT_EQ((*table)->FindByTlsIdentity("till"), nullptr);
}

// A problem an operator must fix names the file, the line and column where the entry starts, and the entry.
TEST_F(CallersTableTest, AnEntryThatDoesNotValidateIsNamedWithItsLineAndColumn) {
  const absl::StatusOr<std::shared_ptr<const CallersTable>> table = Load(absl::StrCat(
      "# callers\n"
      R"(callers { id: "till" role: RETAILER retailer_id: "shop-1" region_codes: "330381" api_key_sha256: ")",
      kTestKeyHash,
      "\" }\n\n  callers {\n    id: \"ops\"\n    role: ADMIN\n    api_key_sha256: \"ABC\"\n  }\n"));
  EXPECT_THAT(table, StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr(absl::StrCat(path_, ":4:3: callers[1] (\"ops\"): api_key_sha256"))));
  // Built from a message (no text): the source alone.
  v1::CallersFile file;
  file.add_callers()->set_id("x");
  EXPECT_THAT(CallersTable::FromProto(file, "inline"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inline: callers[0] (\"x\"): role")));
}

// Found by tests/fuzz callers_fuzzer: the parser wrote its complaint to stderr as a libprotobuf line (not a
// JSON log line, and with the file's raw bytes in it); now the problem is in the status, escaped.
TEST_F(CallersTableTest, AFileThatDoesNotParseSaysWhereInItsStatusAndLogsNothing) {
  ::testing::internal::CaptureStderr();
  const absl::StatusOr<std::shared_ptr<const CallersTable>> table =
      Load("callers {\n  id: \"a\"\n  rôle\xff: 1\n}\n");
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(table, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(absl::StrCat(path_, ":3:"))));
  EXPECT_THAT(table.status().message(), Not(HasSubstr("\xff")));
  EXPECT_EQ(logged, "");
}

// Text format takes any bytes in a string ("\xff"); ids end up in JSON log and audit lines, which must stay
// UTF-8.
TEST_F(CallersTableTest, AStringThatIsNotUtf8IsRefused) {
  for (const char* text : {
           R"(callers { id: "op\xff" role: ADMIN tls_identities: "ops.example" })",
           R"(callers { id: "till" role: RETAILER retailer_id: "shop\xc3" region_codes: "330381"
                        tls_identities: "till.example" })",
           R"(callers { id: "portal" role: PORTAL tls_identities: "\xed\xa0\x80.example" })",
       }) {
    SCOPED_TRACE(text);
    const absl::StatusOr<std::shared_ptr<const CallersTable>> table = Load(text);
    EXPECT_THAT(table, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not valid UTF-8")));
    EXPECT_TRUE(google::protobuf::internal::IsStructurallyValidUTF8(std::string(table.status().message())));
  }
}

}  // namespace
}  // namespace tradein::auth
