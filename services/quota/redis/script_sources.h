// -----------------------------------------------------------------------------
// File: script_sources.h
// -----------------------------------------------------------------------------
//
// The Lua sources of RedisQuotaStore's scripts: services/quota/redis/lua/<name>.lua with its preludes,
// embedded at build time (services/quota/redis/lua/embed_lua.cmake writes the definitions into a generated
// .cc). Each is one script run with EVALSHA (scripts.h is how C++ calls it); what it does and which slot it
// touches is written at the top of its .lua file.
//
// Thread safety: immutable constants.
#ifndef TRADEIN_SERVICES_QUOTA_REDIS_SCRIPT_SOURCES_H_
#define TRADEIN_SERVICES_QUOTA_REDIS_SCRIPT_SOURCES_H_

namespace tradein::quota::scripts::source {

// Buyer slot {b:<tag>}: KEYS = claims, counters, holds, ledger.
extern const char* const kBuyerReserve;
extern const char* const kBuyerConfirm;
extern const char* const kBuyerCancel;
extern const char* const kBuyerRefund;
extern const char* const kBuyerVoid;
extern const char* const kBuyerCorrect;
extern const char* const kBuyerGet;
extern const char* const kBuyerSweep;
extern const char* const kBuyerList;
extern const char* const kBuyerUsage;
// Once-key slot {o:...} and serial slot {s:...}: KEYS = the once-key or serial key.
extern const char* const kOnceTake;
extern const char* const kOnceSettle;
// Budget slot {g:...} (a budget or one of its shards): KEYS = the budget hash, its holds.
extern const char* const kBudgetAlloc;
extern const char* const kBudgetSettle;
extern const char* const kBudgetUsed;
extern const char* const kBudgetLease;
extern const char* const kBudgetGiveback;
extern const char* const kBudgetReturned;
// Due shard {x:<n>}: KEYS = the shard.
extern const char* const kDueSettle;
// Listing index {d:<day>:<n>} or {rd:<retailer>:<day>:<n>}: KEYS = the index.
extern const char* const kIndexRange;
// No key.
extern const char* const kPing;

}  // namespace tradein::quota::scripts::source

#endif  // TRADEIN_SERVICES_QUOTA_REDIS_SCRIPT_SOURCES_H_
