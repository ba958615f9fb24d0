#include "services/policy/policy_registry.h"

#include <utility>

#include "services/policy/policy_loader.h"

namespace tradein::policy {

PolicyRegistry::PolicyRegistry(std::shared_ptr<const PolicySnapshot> initial, const Clock& clock)
    : current_(std::move(initial)), clock_(clock) {}

absl::Status PolicyRegistry::Reload() {
  absl::MutexLock lock(&reload_mu_);
  absl::StatusOr<std::shared_ptr<const PolicySnapshot>> loaded =
      LoadPolicyDirectory(Current()->directory(), clock_.Now());
  if (!loaded.ok()) return loaded.status();
  Replace(*std::move(loaded));
  return absl::OkStatus();
}

void PolicyRegistry::Replace(std::shared_ptr<const PolicySnapshot> snapshot) {
  current_.store(std::move(snapshot), std::memory_order_release);
}

}  // namespace tradein::policy
