// -----------------------------------------------------------------------------
// File: policy_test_util.h
// -----------------------------------------------------------------------------
//
// What the policy and pricing tests share: where the shipped policies are, the shipped directory loaded once
// per test binary, and throwaway copies of it that a test can break one string at a time.
//
//   PolicyDirCopy dir = PolicyDirCopy::OfShipped();
//   ASSERT_TRUE(dir.Replace("cn-2026.textproto", "fen: 150000\n", "fen: -1\n"));
//   PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
//
// Thread safety: ShippedSnapshot() may be called from any thread; a PolicyDirCopy belongs to one test.
// Errors: the helpers never throw; they report through their return values (and gtest assertions).
#ifndef TRADEIN_TESTS_POLICY_POLICY_TEST_UTIL_H_
#define TRADEIN_TESTS_POLICY_POLICY_TEST_UTIL_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "services/policy/policy_snapshot.h"

namespace tradein::policy_test {

// $TRADEIN_SOURCE_DIR/deploy/policies (set by tradein_add_test), else the source tree this was built from.
std::string ShippedPolicyDir();

// The shipped directory, loaded on first use and kept for the life of the process; nullptr (after printing
// the loader's problems to stderr) when it does not load.
std::shared_ptr<const policy::PolicySnapshot> ShippedSnapshot();

// A copy of a policy directory in a fresh temporary directory, removed again by the destructor.
class PolicyDirCopy {
 public:
  static PolicyDirCopy OfShipped();

  PolicyDirCopy(PolicyDirCopy&& other) noexcept;
  PolicyDirCopy& operator=(PolicyDirCopy&&) = delete;
  PolicyDirCopy(const PolicyDirCopy&) = delete;
  PolicyDirCopy& operator=(const PolicyDirCopy&) = delete;
  ~PolicyDirCopy();

  const std::string& path() const { return path_; }

  std::string Read(absl::string_view file) const;
  void Write(absl::string_view file, absl::string_view text) const;
  void Remove(absl::string_view file) const;

  // Replaces `from` in `file` by `to`; fails unless `from` occurs exactly once (so an edit never silently
  // lands somewhere else after someone changes the shipped file).
  ::testing::AssertionResult Replace(absl::string_view file, absl::string_view from,
                                     absl::string_view to) const;

  // The 1-based line of the one line of `file` that contains `needle`; 0 when none or several do.
  int LineOf(absl::string_view file, absl::string_view needle) const;

 private:
  explicit PolicyDirCopy(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The 1-based line of the one line of `text` that contains `needle`; 0 when none or several do.
int LineOfNeedle(absl::string_view text, absl::string_view needle);

}  // namespace tradein::policy_test

#endif  // TRADEIN_TESTS_POLICY_POLICY_TEST_UTIL_H_
