// -----------------------------------------------------------------------------
// File: policy_snapshot.h
// -----------------------------------------------------------------------------
//
// Everything loaded from one policy directory, frozen: the product catalogue and every compiled policy,
// indexed by id and by region. A request takes one snapshot when it starts and uses it to the end, so a
// reload never mixes two versions in one answer (see PolicyRegistry).
//
// Selection (decision D5): the policy in force for a point of sale in region R on day D is found by walking
// R's chain (330381 → 330300 → 330000 → 000000) and taking, at the first region that has one, the policy
// whose transaction window contains D. The loader guarantees at most one per region and day.
//
// Thread safety: immutable; share it as std::shared_ptr<const PolicySnapshot>.
#ifndef TRADEIN_SERVICES_POLICY_POLICY_SNAPSHOT_H_
#define TRADEIN_SERVICES_POLICY_POLICY_SNAPSHOT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/policy/compiled_policy.h"
#include "services/policy/product_catalogue.h"

namespace tradein::policy {

class PolicySnapshot {
 public:
  // `policies` sorted by region, then window start. `version` identifies the whole set.
  PolicySnapshot(ProductCatalogue catalogue, std::vector<std::unique_ptr<const CompiledPolicy>> policies,
                 std::string version, std::string directory, absl::Time loaded_at);

  PolicySnapshot(const PolicySnapshot&) = delete;
  PolicySnapshot& operator=(const PolicySnapshot&) = delete;

  // Select
  //
  // The policy in force for a point of sale in `region_code` on `day`, or nullptr when none is.
  // REQUIRES: IsRegionCode(region_code).
  const CompiledPolicy* Select(absl::string_view region_code, absl::CivilDay day) const;

  // FindById
  //
  // The policy with `id`, or nullptr.
  const CompiledPolicy* FindById(absl::string_view id) const;

  // AppliesToRegion
  //
  // True when `policy`'s region is `region_code` or one of its ancestors (a pinned policyId must be one of
  // these: a till cannot pick another region's policy).
  static bool AppliesToRegion(const CompiledPolicy& policy, absl::string_view region_code);

  const ProductCatalogue& catalogue() const { return catalogue_; }
  const std::vector<std::unique_ptr<const CompiledPolicy>>& policies() const { return policies_; }
  const std::string& version() const { return version_; }
  const std::string& directory() const { return directory_; }
  absl::Time loaded_at() const { return loaded_at_; }

 private:
  ProductCatalogue catalogue_;
  std::vector<std::unique_ptr<const CompiledPolicy>> policies_;
  absl::flat_hash_map<std::string, const CompiledPolicy*> by_id_;
  absl::flat_hash_map<std::string, std::vector<const CompiledPolicy*>> by_region_;
  std::string version_;
  std::string directory_;
  absl::Time loaded_at_;
};

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_POLICY_SNAPSHOT_H_
