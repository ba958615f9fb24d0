#include "services/server/sweeper.h"

#include <memory>
#include <utility>

#include "common/log.h"

namespace tradein::server {
namespace {

constexpr int kMaxClaimsPerSweep = 1000;

}  // namespace

ExpirySweeper::ExpirySweeper(quota::QuotaStore& store, const Clock& clock, absl::Duration interval,
                             ExpiredListener on_expired)
    : store_(store), clock_(clock), interval_(interval), on_expired_(std::move(on_expired)) {}

ExpirySweeper::~ExpirySweeper() { Stop(); }

void ExpirySweeper::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ExpirySweeper::Stop() {
  if (!thread_.joinable()) return;
  if (!stop_.HasBeenNotified()) stop_.Notify();
  thread_.join();
}

void ExpirySweeper::Run() {
  while (!stop_.WaitForNotificationWithTimeout(interval_)) SweepOnce();
}

void ExpirySweeper::SweepOnce() {
  // The callback may outlive this call if the store is slow; it owns what it touches.
  auto done = std::make_shared<absl::Notification>();
  auto listener = on_expired_;
  const absl::Duration timeout = std::max(interval_, absl::Seconds(1));
  store_.Sweep(clock_.Now(), kMaxClaimsPerSweep, absl::Now() + timeout,
               [done, listener](absl::StatusOr<quota::SweepResult> result) {
                 if (!result.ok()) {
                   Log(LogLevel::kWarning, "sweep_failed", {{"error", result.status().message()}});
                 } else {
                   for (const quota::ClaimRecord& claim : result->expired) listener(claim);
                 }
                 done->Notify();
               });
  done->WaitForNotificationWithTimeout(timeout + absl::Seconds(1));
}

}  // namespace tradein::server
