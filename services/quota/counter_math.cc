#include "services/quota/counter_math.h"

#include <algorithm>

namespace tradein::quota {

LineGrant ApplyCounters(int32_t units, int64_t unit_fen, const std::vector<uint16_t>& line_counters,
                        const std::vector<CounterLimit>& counters,
                        absl::FunctionRef<int64_t(uint16_t)> used) {
  LineGrant grant;
  int32_t granted = units;
  for (uint16_t c : line_counters) {
    if (counters[c].kind != CounterLimit::Kind::kUnits) continue;
    granted = static_cast<int32_t>(std::clamp<int64_t>(counters[c].limit - used(c), 0, granted));
  }
  if (granted < units) grant.reasons.Add(pricing::ReasonCode::kQuotaExhausted);
  int64_t fen = granted * unit_fen;
  for (uint16_t c : line_counters) {
    if (counters[c].kind != CounterLimit::Kind::kFen) continue;
    const int64_t room = std::max<int64_t>(counters[c].limit - used(c), 0);
    if (fen > room) {
      fen = room;
      grant.reasons.Add(room == 0 ? pricing::ReasonCode::kQuotaExhausted
                                  : pricing::ReasonCode::kAmountCapReached);
    }
  }
  grant.units = fen == 0 ? 0 : granted;
  grant.fen = fen;
  return grant;
}

}  // namespace tradein::quota
