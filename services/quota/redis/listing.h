// -----------------------------------------------------------------------------
// File: listing.h
// -----------------------------------------------------------------------------
//
// RedisQuotaStore::ListClaims (docs/quota-ledger.md, "Listings"): per day of the period, in the walk's
// direction, the day's index shards (or the retailer's shards and its unsharded key of before 2026-12) are
// read after the cursor in parallel and merged by (score, claim id); the claims are read in batches per buyer
// slot; entries with no claim behind them or for another time than the claim's are skipped, the filters
// applied, until the page and one more entry are found.
//
// Thread safety and errors: as QuotaStore::ListClaims.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_LISTING_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_LISTING_H_

#include "services/quota/redis/core.h"

namespace tradein::quota::redis_quota_internal {

void StartListClaims(CorePtr core, ClaimPageRequest request, absl::Time deadline,
                     QuotaStore::Callback<ClaimPage> done);

}  // namespace tradein::quota::redis_quota_internal

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_LISTING_H_
