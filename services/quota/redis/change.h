// -----------------------------------------------------------------------------
// File: change.h
// -----------------------------------------------------------------------------
//
// RedisQuotaStore::Cancel, Refund, Void and Correct (docs/quota-ledger.md, "Cancel, expiry, refund"): the
// buyer's script changes the claim, and reconcile brings the other slots in line when the claim holds
// anything there. Refunds, voids and corrections first add a reconcile-only due entry of their own
// ("<claim>#<r|v|c>:<id>", at now + refund_reconcile_delay), so that the sweeper finishes a reconcile a crash
// cut off; a cancel's is the claim's own entry, removed once the other slots are in line.
//
// Thread safety and errors: as QuotaStore.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_CHANGE_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_CHANGE_H_

#include <string>

#include "services/quota/redis/core.h"

namespace tradein::quota::redis_quota_internal {

void StartCancel(CorePtr core, const CancelRequest& request, absl::Time deadline,
                 QuotaStore::Callback<ClaimRecord> done);
void StartRefund(CorePtr core, const RefundRequest& request, absl::Time deadline,
                 QuotaStore::Callback<ClaimRecord> done);
void StartVoid(CorePtr core, const VoidRequest& request, absl::Time deadline,
               QuotaStore::Callback<ClaimRecord> done);
void StartCorrect(CorePtr core, const CorrectRequest& request, absl::Time deadline,
                  QuotaStore::Callback<ClaimRecord> done);

}  // namespace tradein::quota::redis_quota_internal

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_CHANGE_H_
