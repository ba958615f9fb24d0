// -----------------------------------------------------------------------------
// File: step_gate.h
// -----------------------------------------------------------------------------
//
// StepGate is the seam through which tests stand between the protocol steps of a multi-step QuotaStore
// (RedisQuotaStore: see its ProtocolSteps()). Production stores have none, and every step follows the last at
// once. A test's gate can
//   - abandon a call before a named step, as if the instance serving it crashed there (crash injection), and
//   - hold a call before a step and let it go later, so that a deterministic simulator decides the order in
//     which the steps of concurrent calls run (tests/quota/sim).
//
//   class Gate : public StepGate {
//     void Before(absl::string_view step, Resume resume) override { parked_.push_back(std::move(resume)); }
//   };
//
// Thread safety: Before() and Work() are called on the store's threads (for RedisQuotaStore, the Redis
// client's loop thread) and must not block; `resume` may be called once, from any thread.
#ifndef TRADEIN_SERVICES_QUOTA_STEP_GATE_H_
#define TRADEIN_SERVICES_QUOTA_STEP_GATE_H_

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"

namespace tradein::quota {

class StepGate {
 public:
  // Continues the call past the step (crash = false) or abandons it there with UNAVAILABLE (crash = true).
  using Resume = absl::AnyInvocable<void(bool crash) &&>;

  virtual ~StepGate() = default;

  // Before
  //
  // Called before protocol step `step` of a call; the call waits until `resume` is called.
  virtual void Before(absl::string_view step, Resume resume) = 0;

  // Work
  //
  // The store sent a command (+1) or finished handling its reply (−1). The store is idle — nothing of it runs
  // and nothing is awaited from the server — when the sum is 0 and no resume is running.
  virtual void Work(int delta) = 0;
};

// A gate that abandons every call before the steps `crash` names and lets every other step go at once.
template <typename Predicate>
class CrashGate final : public StepGate {
 public:
  explicit CrashGate(Predicate crash) : crash_(std::move(crash)) {}
  void Before(absl::string_view step, Resume resume) override { std::move(resume)(crash_(step)); }
  void Work(int) override {}

 private:
  Predicate crash_;
};

}  // namespace tradein::quota

#endif  // TRADEIN_SERVICES_QUOTA_STEP_GATE_H_
