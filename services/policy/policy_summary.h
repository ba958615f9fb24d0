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

#include "services/policy/compiled_policy.h"
#include "services/policy/product_catalogue.h"

namespace tradein::policy {

std::string SummarizePolicy(const CompiledPolicy& policy, const ProductCatalogue& catalogue);

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_POLICY_SUMMARY_H_
