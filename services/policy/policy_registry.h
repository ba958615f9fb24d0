// -----------------------------------------------------------------------------
// File: policy_registry.h
// -----------------------------------------------------------------------------
//
// Holds the policy snapshot in force and swaps in a new one atomically on reload. A request calls Current()
// once and keeps the shared_ptr to its end, so an answer is always computed from one snapshot even while a
// reload happens; the old snapshot is freed when its last request finishes.
//
// Thread safety: all methods may be called from any thread. Current() takes no mutex (an atomic
// shared_ptr load); Reload() serialises reloads among themselves.
#ifndef TRADEIN_SERVICES_POLICY_POLICY_REGISTRY_H_
#define TRADEIN_SERVICES_POLICY_POLICY_REGISTRY_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "services/policy/policy_snapshot.h"

namespace tradein::policy {

class PolicyRegistry {
 public:
  // REQUIRES: `initial` is not null; `clock` outlives the registry.
  PolicyRegistry(std::shared_ptr<const PolicySnapshot> initial, const Clock& clock);

  std::shared_ptr<const PolicySnapshot> Current() const { return current_.load(std::memory_order_acquire); }
  // The clock policies are chosen by (simulated under --simulated_now).
  const Clock& clock() const { return clock_; }

  // Reload
  //
  // Loads the current snapshot's directory again. On success swaps the new snapshot in and returns OK; on
  // any problem keeps the current snapshot and returns the loader's INVALID_ARGUMENT (every problem listed).
  absl::Status Reload();

  // Replace
  //
  // Swaps in `snapshot` (tests, and reloads done elsewhere).
  void Replace(std::shared_ptr<const PolicySnapshot> snapshot);

 private:
  std::atomic<std::shared_ptr<const PolicySnapshot>> current_;
  const Clock& clock_;
  absl::Mutex reload_mu_;
};

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_POLICY_REGISTRY_H_
