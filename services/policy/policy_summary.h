// -----------------------------------------------------------------------------
// File: policy_summary.h
// -----------------------------------------------------------------------------
//
// A readable account of what a compiled policy pays: its windows and settings, then one line per rule
// (amount formula and conditions), quota and budget, each with its legal reference, and under each the values
// it is made of with the file and line that set them ("zj-2025.textproto:52  claim_window: { first_day:
// ...}"), from Policy.value_origins. Used by the policy linter and the operator CLI.
//
// Thread safety: pure function.
#ifndef TRADEIN_SERVICES_POLICY_POLICY_SUMMARY_H_
#define TRADEIN_SERVICES_POLICY_POLICY_SUMMARY_H_

#include <string>
#include <vector>

#include "services/policy/compiled_policy.h"
#include "services/policy/product_catalogue.h"

namespace tradein::policy {

std::string SummarizePolicy(const CompiledPolicy& policy, const ProductCatalogue& catalogue);

// QuotaSplitWarnings
//
// One warning per quota that `policy` counts in another programme than its parent does (an override that
// writes `programme`): a buyer's usage is then split in two, with the full limit in each. A warning, not an
// error: a deliberately separate local count is allowed. "wz-2026.textproto:40: quotas[car].programme: ..."
std::vector<std::string> QuotaSplitWarnings(const CompiledPolicy& policy, const CompiledPolicy& parent);

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_POLICY_SUMMARY_H_
