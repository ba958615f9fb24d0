// -----------------------------------------------------------------------------
// File: sweeper.h
// -----------------------------------------------------------------------------
//
// Every `interval`, asks the quota store to expire the claims whose hold has ended and to finish any
// reconciliation a crash interrupted (QuotaStore::Sweep), so quota and budget come back even when no one ever
// calls again. Each expired claim is handed to `on_expired` exactly once across all instances (the store
// guarantees that); the sweeper logs it.
//
// Thread safety: Start/Stop from one thread. The sweeper's own thread may block (it is not a gRPC thread).
#ifndef TRADEIN_SERVICES_SERVER_SWEEPER_H_
#define TRADEIN_SERVICES_SERVER_SWEEPER_H_

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "services/quota/quota_store.h"

namespace tradein::server {

class ExpirySweeper {
 public:
  using ExpiredListener = std::function<void(const quota::ClaimRecord&)>;

  // REQUIRES: `store` and `clock` outlive the sweeper.
  ExpirySweeper(quota::QuotaStore& store, const Clock& clock, absl::Duration interval,
                ExpiredListener on_expired);
  ~ExpirySweeper();  // stops

  void Start();
  void Stop();

 private:
  void Run();
  void SweepOnce();

  quota::QuotaStore& store_;
  const Clock& clock_;
  const absl::Duration interval_;
  ExpiredListener on_expired_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_SWEEPER_H_
