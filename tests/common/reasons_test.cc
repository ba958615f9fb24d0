#include "common/reasons.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tradein {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ReasonCatalogueTest, CheckedInDocumentIsTheGeneratedOne) {
  const std::string checked_in = ReadFile(std::filesystem::path(TRADEIN_SOURCE_DIR) / "docs" / "reasons.md");
  EXPECT_EQ(checked_in, RenderReasonsMarkdown())
      << "docs/reasons.md is stale: run `ninja -C build/test reasons_doc` and commit it";
}

TEST(ReasonCatalogueTest, CodesAreUniqueAndEveryTextIsThere) {
  std::set<std::string> seen;
  for (const Reason& reason : AllReasons()) {
    SCOPED_TRACE(reason.code);
    EXPECT_TRUE(seen.insert(std::string(reason.code)).second) << "duplicate";
    EXPECT_FALSE(reason.message.empty());
    EXPECT_FALSE(reason.message_zh.empty());
    // Chinese text holds Chinese characters (UTF-8 lead bytes of the CJK block), not an English copy.
    EXPECT_NE(reason.message_zh.find_first_of("\xe4\xe5\xe6\xe7\xe8\xe9"), absl::string_view::npos);
    EXPECT_EQ(reason.message.find('|'), absl::string_view::npos) << "breaks the markdown table";
    EXPECT_EQ(reason.scope == ReasonScope::kItem, reason.status == absl::StatusCode::kOk);
  }
}

TEST(ReasonCatalogueTest, ErrorsWithoutAReasonGetTheirCodesText) {
  EXPECT_EQ(ChineseTextFor("", absl::StatusCode::kUnavailable), FindReason("UNAVAILABLE")->message_zh);
  EXPECT_EQ(ChineseTextFor("NO_SUCH_REASON", absl::StatusCode::kDeadlineExceeded),
            FindReason("DEADLINE_EXCEEDED")->message_zh);
  EXPECT_EQ(ChineseTextFor("HOLD_EXPIRED", absl::StatusCode::kFailedPrecondition),
            FindReason("HOLD_EXPIRED")->message_zh);
  // A code with no entry of its own falls back to UNKNOWN's text.
  EXPECT_EQ(ChineseTextFor("", absl::StatusCode::kOutOfRange), FindReason("UNKNOWN")->message_zh);
}

// UPPER_SNAKE literals in the service's code that are not reasons: gRPC code names (metrics labels), claim
// state names, enum value names and the quota scripts' internal answers.
const std::set<std::string>& NotReasons() {
  static const auto* const kNot = new std::set<std::string>{
      "INVALID_ARGUMENT",    "NOT_FOUND",    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "OUT_OF_RANGE", "DATA_LOSS",      "DEADLINE_EXCEEDED", "STATE_UNSPECIFIED",
      "PARTIALLY_REFUNDED",  "PRC_ID",       "NEEDS_COMMIT",   "SERIAL_DUPLICATE"};
  return *kNot;
}

// A reason added in code without a catalogue entry would reach tills with no Chinese text and miss
// docs/reasons.md: every UPPER_SNAKE literal in services/ must be catalogued (or be listed above).
TEST(ReasonCatalogueTest, EveryReasonInTheSourceIsCatalogued) {
  const std::regex literal("\"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\"");
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(TRADEIN_SOURCE_DIR) / "services")) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".cc" && ext != ".h") continue;
    ++files;
    const std::string text = ReadFile(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), literal), end; it != end; ++it) {
      const std::string code = (*it)[1].str();
      if (NotReasons().count(code) > 0) continue;
      EXPECT_NE(FindReason(code), nullptr)
          << code << " in " << entry.path() << " is not in common/reasons.cc";
    }
  }
  EXPECT_GT(files, 50);
}

}  // namespace
}  // namespace tradein
