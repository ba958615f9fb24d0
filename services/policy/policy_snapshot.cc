#include "services/policy/policy_snapshot.h"

#include <utility>

#include "services/policy/region.h"

namespace tradein::policy {

PolicySnapshot::PolicySnapshot(ProductCatalogue catalogue,
                               std::vector<std::unique_ptr<const CompiledPolicy>> policies,
                               std::string version, std::string directory, absl::Time loaded_at)
    : catalogue_(std::move(catalogue)),
      policies_(std::move(policies)),
      version_(std::move(version)),
      directory_(std::move(directory)),
      loaded_at_(loaded_at) {
  for (const auto& policy : policies_) {
    by_id_.emplace(policy->id(), policy.get());
    by_region_[policy->region_code()].push_back(policy.get());
  }
}

const CompiledPolicy* PolicySnapshot::Select(absl::string_view region_code, absl::CivilDay day) const {
  const RegionChain chain = AncestorsOf(region_code);
  for (int i = 0; i < chain.size; ++i) {
    const auto it = by_region_.find(chain.codes[static_cast<size_t>(i)]);
    if (it == by_region_.end()) continue;
    for (const CompiledPolicy* policy : it->second) {
      if (policy->transaction_window().Contains(day)) return policy;
    }
  }
  return nullptr;
}

const CompiledPolicy* PolicySnapshot::FindById(absl::string_view id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

bool PolicySnapshot::AppliesToRegion(const CompiledPolicy& policy, absl::string_view region_code) {
  const RegionChain chain = AncestorsOf(region_code);
  for (int i = 0; i < chain.size; ++i) {
    if (chain.codes[static_cast<size_t>(i)] == policy.region_code()) return true;
  }
  return false;
}

}  // namespace tradein::policy
