// -----------------------------------------------------------------------------
// File: clock.h
// -----------------------------------------------------------------------------
//
// The service never reads the wall clock directly: it asks a Clock, injected at start-up. `--simulated_now`
// gives a SimulatedClock so launch days can be rehearsed and 2025 claims tested today; tests use ManualClock.
//
// Thread safety: every Clock is safe to call from any thread.
#ifndef TRADEIN_COMMON_CLOCK_H_
#define TRADEIN_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tradein {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // True when the clock is not the real one (logged loudly and exported as a metric).
  virtual bool IsSimulated() const { return false; }
};

// The real time.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// Starts at a given instant and runs forward at real speed, so holds still expire during a rehearsal.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start)
      : start_(start), offset_ns_(absl::ToInt64Nanoseconds(start - absl::Now())) {}
  absl::Time Now() const override {
    return absl::Now() + absl::Nanoseconds(offset_ns_.load(std::memory_order_relaxed));
  }
  bool IsSimulated() const override { return true; }

  // The instant it was asked to start at (--simulated_now).
  absl::Time start() const { return start_; }
  // Runs `offset` ahead of real time from now on: an instance joining others started with the same
  // --simulated_now takes their clock (services/server/instance_registry.h). Start-up only.
  void AdoptOffset(absl::Duration offset) {
    offset_ns_.store(absl::ToInt64Nanoseconds(offset), std::memory_order_relaxed);
  }

 private:
  const absl::Time start_;
  std::atomic<int64_t> offset_ns_;
};

// Stands still until a test moves it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_ns_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override { return absl::FromUnixNanos(now_ns_.load(std::memory_order_acquire)); }
  bool IsSimulated() const override { return true; }
  void Set(absl::Time t) { now_ns_.store(absl::ToUnixNanos(t), std::memory_order_release); }
  void Advance(absl::Duration d) { Set(Now() + d); }

 private:
  std::atomic<int64_t> now_ns_;
};

}  // namespace tradein

#endif  // TRADEIN_COMMON_CLOCK_H_
