#include "tests/policy/policy_test_util.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/policy/policy_loader.h"

namespace tradein::policy_test {
namespace {

namespace fs = std::filesystem;

std::string FileText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::string ShippedPolicyDir() {
  const char* source = std::getenv("TRADEIN_SOURCE_DIR");
  const std::string root = source != nullptr && source[0] != '\0' ? source : TRADEIN_SOURCE_DIR;
  return root + "/deploy/policies";
}

std::shared_ptr<const policy::PolicySnapshot> ShippedSnapshot() {
  static const auto* const snapshot = [] {
    policy::PolicyLoadReport report = policy::LoadPolicyDirectoryReport(ShippedPolicyDir(), absl::Now());
    for (const policy::PolicyProblem& problem : report.problems) {
      std::cerr << "shipped policies: " << problem.ToString() << "\n";
    }
    return new std::shared_ptr<const policy::PolicySnapshot>(std::move(report.snapshot));
  }();
  return *snapshot;
}

PolicyDirCopy PolicyDirCopy::OfShipped() {
  std::string pattern = (fs::temp_directory_path() / "tradein-policies-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << pattern << ") failed";
    return PolicyDirCopy(std::string());
  }
  PolicyDirCopy copy(std::string(buffer.data()));
  std::error_code error;
  fs::copy(ShippedPolicyDir(), copy.path_, fs::copy_options::recursive, error);
  if (error) ADD_FAILURE() << "copying " << ShippedPolicyDir() << ": " << error.message();
  return copy;
}

PolicyDirCopy::PolicyDirCopy(PolicyDirCopy&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

PolicyDirCopy::~PolicyDirCopy() {
  if (path_.empty()) return;
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string PolicyDirCopy::Read(absl::string_view file) const {
  return FileText(fs::path(path_) / std::string(file));
}

void PolicyDirCopy::Write(absl::string_view file, absl::string_view text) const {
  std::ofstream out(fs::path(path_) / std::string(file), std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) ADD_FAILURE() << "cannot write " << file;
}

void PolicyDirCopy::Remove(absl::string_view file) const {
  std::error_code error;
  if (!fs::remove(fs::path(path_) / std::string(file), error)) ADD_FAILURE() << "cannot remove " << file;
}

::testing::AssertionResult PolicyDirCopy::Replace(absl::string_view file, absl::string_view from,
                                                  absl::string_view to) const {
  std::string text = Read(file);
  const std::string needle(from);
  const size_t at = text.find(needle);
  if (at == std::string::npos) {
    return ::testing::AssertionFailure() << file << " does not contain \"" << from << "\"";
  }
  if (text.find(needle, at + 1) != std::string::npos) {
    return ::testing::AssertionFailure() << file << " contains \"" << from << "\" more than once";
  }
  text.replace(at, needle.size(), std::string(to));
  Write(file, text);
  return ::testing::AssertionSuccess();
}

int PolicyDirCopy::LineOf(absl::string_view file, absl::string_view needle) const {
  return LineOfNeedle(Read(file), needle);
}

int LineOfNeedle(absl::string_view text, absl::string_view needle) {
  int found = 0;
  int line = 0;
  for (absl::string_view l : absl::StrSplit(text, '\n')) {
    ++line;
    if (l.find(needle) != absl::string_view::npos) {
      if (found != 0) return 0;
      found = line;
    }
  }
  return found;
}

}  // namespace tradein::policy_test
