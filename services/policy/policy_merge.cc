#include "services/policy/policy_merge.h"

#include <algorithm>

namespace tradein::policy {
namespace {

using google::protobuf::RepeatedPtrField;

template <typename T>
void MergeById(const RepeatedPtrField<T>& own, const RepeatedPtrField<std::string>& removed,
               RepeatedPtrField<T>& merged) {
  auto is_removed = [&removed](const T& item) {
    return std::find(removed.begin(), removed.end(), item.id()) != removed.end();
  };
  merged.erase(std::remove_if(merged.begin(), merged.end(), is_removed), merged.end());
  for (const T& item : own) {
    auto same_id =
        std::find_if(merged.begin(), merged.end(), [&item](const T& m) { return m.id() == item.id(); });
    if (same_id != merged.end()) {
      *same_id = item;
    } else {
      *merged.Add() = item;
    }
  }
}

}  // namespace

v1::Policy MergePolicy(const v1::Policy* parent, const v1::Policy& child) {
  if (parent == nullptr) {
    v1::Policy merged = child;
    merged.clear_removed_rule_ids();
    merged.clear_removed_quota_ids();
    merged.clear_removed_budget_ids();
    return merged;
  }
  v1::Policy merged = *parent;
  merged.set_id(child.id());
  merged.set_title(child.title());
  merged.set_title_zh(child.title_zh());
  *merged.mutable_ref() = child.ref();
  merged.set_region_code(child.region_code());
  merged.set_inherits(child.inherits());
  if (!child.programme().empty()) merged.set_programme(child.programme());
  if (child.has_transaction_window()) *merged.mutable_transaction_window() = child.transaction_window();
  if (child.has_claim_window()) *merged.mutable_claim_window() = child.claim_window();
  if (child.has_rounding()) *merged.mutable_rounding() = child.rounding();
  if (child.has_hold()) *merged.mutable_hold() = child.hold();
  if (child.has_refund()) *merged.mutable_refund() = child.refund();
  MergeById(child.rules(), child.removed_rule_ids(), *merged.mutable_rules());
  MergeById(child.quotas(), child.removed_quota_ids(), *merged.mutable_quotas());
  MergeById(child.budgets(), child.removed_budget_ids(), *merged.mutable_budgets());
  merged.clear_version();
  merged.clear_source_files();
  return merged;
}

}  // namespace tradein::policy
