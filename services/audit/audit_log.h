// -----------------------------------------------------------------------------
// File: audit_log.h
// -----------------------------------------------------------------------------
//
// The audit trail of public money: one JSON line per state change of a claim's money — reserved, confirmed,
// cancelled, expired, refunded, voided, corrected — written whole and flushed before the call is answered:
//
//   {"ts":"…","event":"claim_confirmed","claim_id":"…","caller":"shop-1","retailer_id":"shop-1",
//    "request_id":"…","buyer_ref":"3704bd29e84a4e5d","policy_id":"ra-2025","policy_version":"…",
//    "programme":"zj-2025","fen":100000,"total_fen":100000,"refunded_fen":0,"items":[…]}
//
// Never a raw buyer id: buyer_ref is the first 16 hex of the keyed hash. A replayed (idempotent) call writes
// nothing: nothing changed.
//
// Thread safety: Record may be called from any thread; lines never interleave.
#ifndef TRADEIN_SERVICES_AUDIT_AUDIT_LOG_H_
#define TRADEIN_SERVICES_AUDIT_AUDIT_LOG_H_

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tradein/v1/claim_service.pb.h"

namespace tradein::audit {

struct AuditContext {
  std::string caller;      // who asked ("sweeper" for expiries)
  std::string request_id;  // the call's request id
  std::string reason;      // corrections and cancellations: the reason given
};

class AuditLog {
 public:
  // Open
  //
  // "-" or "" = stdout; otherwise appends to the file (created 0600).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();

  // Record
  //
  // One line for `event` (e.g. "claim_confirmed") on `claim` as it is after the change; `fen` is the amount
  // this change moved (granted, released or refunded).
  void Record(absl::string_view event, const v1::Claim& claim, int64_t fen, const AuditContext& context,
              absl::Time now);

 private:
  AuditLog(std::FILE* file, bool owned) : file_(file), owned_(owned) {}
  absl::Mutex mu_;
  std::FILE* file_ ABSL_GUARDED_BY(mu_);
  const bool owned_;
};

}  // namespace tradein::audit

#endif  // TRADEIN_SERVICES_AUDIT_AUDIT_LOG_H_
