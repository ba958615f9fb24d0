// -----------------------------------------------------------------------------
// File: confirm.h
// -----------------------------------------------------------------------------
//
// RedisQuotaStore::Confirm (docs/quota-ledger.md, "Confirm"). A claim that holds nothing in other slots and
// whose confirmation names no serial numbers is confirmed by the buyer's script in one round trip. Otherwise:
// the serials are held and a reconcile-only due entry added (one round trip), the claim's budget entries,
// once-keys and this confirmation's serials committed (one), and the buyer's script confirms (one).
//
// Thread safety and errors: as QuotaStore::Confirm.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_CONFIRM_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_CONFIRM_H_

#include "services/quota/redis/core.h"

namespace tradein::quota::redis_quota_internal {

void StartConfirm(CorePtr core, ConfirmRequest request, absl::Time deadline,
                  QuotaStore::Callback<ClaimRecord> done);

}  // namespace tradein::quota::redis_quota_internal

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_CONFIRM_H_
