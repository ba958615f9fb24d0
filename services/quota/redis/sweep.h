// -----------------------------------------------------------------------------
// File: sweep.h
// -----------------------------------------------------------------------------
//
// RedisQuotaStore::Sweep (docs/quota-ledger.md, "Cancel, expiry, refund"): the due entries of the 16 shards
// that are due by now, earliest first; per entry the sweeper reads the claim with buyer_sweep (which expires
// it when due, and tells the one sweeper that marks an expiry reported to report it), reconciles the other
// slots with it, and removes the entry if no one moved it since it was read (a claim still RESERVED — a retry
// moved its hold — is looked at again at its hold end).
//
// Thread safety and errors: as QuotaStore::Sweep.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_SWEEP_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_SWEEP_H_

#include "services/quota/redis/core.h"

namespace tradein::quota::redis_quota_internal {

void StartSweep(CorePtr core, absl::Time now, int limit, absl::Time deadline,
                QuotaStore::Callback<SweepResult> done);

}  // namespace tradein::quota::redis_quota_internal

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_SWEEP_H_
