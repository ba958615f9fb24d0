// -----------------------------------------------------------------------------
// File: policy_merge.h
// -----------------------------------------------------------------------------
//
// Inheritance: a child policy (e.g. Rui'an) states only what differs from its parent (Zhejiang). Merging
// gives the policy the calculator applies and GetPolicy serves:
//   - id, region_code, inherits, title, ref come from the child;
//   - programme, windows, rounding, hold and refund come from the child when it sets them, else the parent;
//   - rules, quotas and budgets are the parent's, minus the child's removed_*_ids, with each child entry
//     replacing the parent's entry of the same id in place, or appended when new;
//   - removed_*_ids are consumed (the merged policy has none).
//
// Thread safety: pure function.
#ifndef TRADEIN_SERVICES_POLICY_POLICY_MERGE_H_
#define TRADEIN_SERVICES_POLICY_POLICY_MERGE_H_

#include "tradein/v1/policy.pb.h"

namespace tradein::policy {

// `parent` is already merged with its own parents (nullptr for a root policy).
v1::Policy MergePolicy(const v1::Policy* parent, const v1::Policy& child);

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_POLICY_MERGE_H_
