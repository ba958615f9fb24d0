// tradein-policy-lint: checks a policy directory exactly as tradein-server loads it, and prints what each
// policy pays.
//
//   tradein-policy-lint --policy_dir=deploy/policies            # problems, or a one-line verdict per policy
//   tradein-policy-lint --policy_dir=deploy/policies --summary  # and the rules, quotas and budgets, each
//   value
//                                                              # with the file and line that set it
//   tradein-policy-lint --summary --policy=ra-2025              # the same for one policy (all are checked)
//
// A quota a child counts in another programme than its parent (a split count) is a warning, printed first.
// Exit status: 0 when the directory loads (warnings or not), 1 when any file is refused (every problem is
// printed), 2 on usage.
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/clock.h"
#include "services/policy/policy_loader.h"
#include "services/policy/policy_summary.h"

ABSL_FLAG(std::string, policy_dir, TRADEIN_DEFAULT_POLICY_DIR, "Directory of policy files to check.");
ABSL_FLAG(
    bool, summary, false,
    "Print what each policy pays: rules, quotas, budgets, their references, and the file and line that set "
    "each value.");
ABSL_FLAG(std::string, policy, "", "Print only this policy (by id); the whole directory is still checked.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Checks a trade-in policy directory the way tradein-server loads it.\n"
      "Usage: tradein-policy-lint [--policy_dir=DIR] [--summary] [--policy=ID]");
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_policy_dir);
  const tradein::policy::PolicyLoadReport report =
      tradein::policy::LoadPolicyDirectoryReport(dir, absl::Now());
  if (report.snapshot == nullptr) {
    for (const auto& problem : report.problems) std::cout << problem.ToString() << "\n";
    std::cout << dir << ": refused, " << report.problems.size() << " problem(s)\n";
    return 1;
  }
  const tradein::policy::PolicySnapshot& snapshot = *report.snapshot;
  const std::string only = absl::GetFlag(FLAGS_policy);
  if (!only.empty() && snapshot.FindById(only) == nullptr) {
    std::cout << dir << ": no policy \"" << only << "\"\n";
    return 2;
  }
  for (const auto& policy : snapshot.policies()) {
    const tradein::policy::CompiledPolicy* parent = snapshot.FindById(policy->proto().inherits());
    if (parent != nullptr) {
      for (const std::string& warning : tradein::policy::QuotaSplitWarnings(*policy, *parent)) {
        std::cout << "warning: " << warning << "\n";
      }
    }
    if (!only.empty() && policy->id() != only) continue;
    if (absl::GetFlag(FLAGS_summary)) {
      std::cout << tradein::policy::SummarizePolicy(*policy, snapshot.catalogue()) << "\n";
    } else {
      std::cout << "ok  " << policy->id() << "  region " << policy->region_code() << "  version "
                << policy->version() << "  " << policy->rules().size() << " rules, "
                << policy->quotas().size() << " quotas, " << policy->budgets().size() << " budgets\n";
    }
  }
  std::cout << dir << ": " << snapshot.policies().size() << " policies, " << snapshot.catalogue().size()
            << " product types, snapshot " << snapshot.version() << "\n";
  return 0;
}
