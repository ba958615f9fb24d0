// -----------------------------------------------------------------------------
// File: policy_validator.h
// -----------------------------------------------------------------------------
//
// The checks a policy file must pass before the service will price anything with it. A file with any problem
// is refused whole; the loader refuses the whole directory, so a half-valid rule set is never served.
//
//   ValidatePolicyFile   — what one file says on its own: its policy-level settings (formats, ranges,
//                          references), unique ids, no output fields.
//   ValidateMergedPolicy — the rules, quotas and budgets the file writes, as merged with its parents (an
//                          override names only the fields it changes, so it is complete only merged):
//                          formats, ranges, orders, references, known product types, every number with its
//                          legal reference, an override that changes a plain field restating the entry's
//                          ref; and what only shows merged: removed ids that exist, quota and budget members
//                          that exist, windows inside the parent's, shadowed rules, settings a root policy
//                          must have.
//   ValidateRegionWindows — no region has two policies in force on one day.
//
// Each problem names the file, line and field (see policy_problem.h).
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_POLICY_POLICY_VALIDATOR_H_
#define TRADEIN_SERVICES_POLICY_POLICY_VALIDATOR_H_

#include <vector>

#include "services/policy/policy_problem.h"
#include "services/policy/product_catalogue.h"
#include "tradein/v1/policy.pb.h"

namespace tradein::policy {

void ValidatePolicyFile(const PolicyFile& file, std::vector<PolicyProblem>& problems);

// `parent` is the merged parent (nullptr for a root policy); `merged` is `file` merged onto it.
void ValidateMergedPolicy(const PolicyFile& file, const v1::Policy* parent, const v1::Policy& merged,
                          const ProductCatalogue& catalogue, std::vector<PolicyProblem>& problems);

// `merged[i]` was built from `files[i]`.
void ValidateRegionWindows(const std::vector<const PolicyFile*>& files, const std::vector<v1::Policy>& merged,
                           std::vector<PolicyProblem>& problems);

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_POLICY_VALIDATOR_H_
