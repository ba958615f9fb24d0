// -----------------------------------------------------------------------------
// File: reserve.h
// -----------------------------------------------------------------------------
//
// RedisQuotaStore::Reserve (docs/quota-ledger.md, "Claim"). The common path — lines without once-keys or
// budgets — is two round trips: (1) in parallel, the request id (SET NX GET), the due entry and the listing
// index entries (written before the claim can exist, so that no claim is ever missing from them); (2) the
// buyer's script decides. Once-keys and budgets are taken between the two, once the request id is known to be
// this content's (budgets after the once-keys when a request has both, so that a line refused a home
// allocates nothing), and reconciled to the decision in a last step only when the decision left them holding
// more than it granted.
//
// Thread safety and errors: as QuotaStore::Reserve.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_RESERVE_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_RESERVE_H_

#include "services/quota/redis/core.h"

namespace tradein::quota::redis_quota_internal {

void StartReserve(CorePtr core, ReserveRequest request, absl::Time deadline,
                  QuotaStore::Callback<ClaimRecord> done);

}  // namespace tradein::quota::redis_quota_internal

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_RESERVE_H_
