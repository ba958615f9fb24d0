// -----------------------------------------------------------------------------
// File: counter_math.h
// -----------------------------------------------------------------------------
//
// How a line meets the buyer's counters (quota_store.h step 3), written once for MemoryQuotaStore's Reserve
// and Quote's advisory check; RedisQuotaStore's buyer script is the same arithmetic in Lua.
//
//   units = min(units, limit − used) over the unit counters          → QUOTA_EXHAUSTED when reduced
//   fen   = units × unit_fen, then min(fen, limit − used) over fen counters
//                                                                    → AMOUNT_CAP_REACHED (or QUOTA_EXHAUSTED
//                                                                    at 0)
//   fen = 0 → units = 0
//
// Thread safety: pure function.
#ifndef TRADEIN_SERVICES_QUOTA_COUNTER_MATH_H_
#define TRADEIN_SERVICES_QUOTA_COUNTER_MATH_H_

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "services/quota/quota_store.h"

namespace tradein::quota {

// ApplyCounters
//
// What `units` units at `unit_fen` each get from the counters `line_counters` (indices into `counters`),
// where `used(index)` is what counter `index` has used so far. Reasons are added to `grant.reasons`.
LineGrant ApplyCounters(int32_t units, int64_t unit_fen, const std::vector<uint16_t>& line_counters,
                        const std::vector<CounterLimit>& counters, absl::FunctionRef<int64_t(uint16_t)> used);

}  // namespace tradein::quota

#endif  // TRADEIN_SERVICES_QUOTA_COUNTER_MATH_H_
