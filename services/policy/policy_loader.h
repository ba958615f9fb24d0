// -----------------------------------------------------------------------------
// File: policy_loader.h
// -----------------------------------------------------------------------------
//
// Reads a policy directory into a PolicySnapshot: `product_types.textproto` (the catalogue) and every other
// `*.textproto` file (one tradein.v1.Policy each; other files are ignored). Each file is parsed, validated on
// its own, merged onto its parent (`inherits`, field by field: policy_merge.h), validated again merged,
// compiled, and stamped with a content hash (`version`). Any problem in any file refuses the whole directory:
// the caller keeps its last good snapshot.
//
// Thread safety: no shared state; reads the file system.
#ifndef TRADEIN_SERVICES_POLICY_POLICY_LOADER_H_
#define TRADEIN_SERVICES_POLICY_POLICY_LOADER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/policy/policy_problem.h"
#include "services/policy/policy_snapshot.h"

namespace tradein::policy {

inline constexpr absl::string_view kCatalogueFileName = "product_types.textproto";

struct PolicyLoadReport {
  std::shared_ptr<const PolicySnapshot> snapshot;  // null when there are problems
  std::vector<PolicyProblem> problems;             // every problem found, in file order
};

// LoadPolicyDirectoryReport
//
// Loads `directory`, collecting every problem rather than stopping at the first (the linter prints them all).
PolicyLoadReport LoadPolicyDirectoryReport(const std::string& directory, absl::Time now);

// LoadPolicyDirectory
//
// As above; on problems returns INVALID_ARGUMENT whose message lists them, one per line
// ("zj-2025.textproto:42: rules[3].percentage.cap.fen: -1 is below 0").
[[nodiscard]] absl::StatusOr<std::shared_ptr<const PolicySnapshot>> LoadPolicyDirectory(
    const std::string& directory, absl::Time now);

// PolicyContentHash
//
// First 16 hex digits of SHA-256 over the deterministic serialisation of `policy` without its output fields
// (version, source files, value origins): the same rules give the same version, whatever the files' comments
// or layout, and however the values are spread over a chain of files.
std::string PolicyContentHash(const v1::Policy& policy);

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_POLICY_LOADER_H_
