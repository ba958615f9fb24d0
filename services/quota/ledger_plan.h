// -----------------------------------------------------------------------------
// File: ledger_plan.h
// -----------------------------------------------------------------------------
//
// Turns a priced basket and its policy into what the quota store checks: for each line, the buyer counters
// (per quota and, for per-product-type quotas, per product type), the once-keys (a home, an old car, a new
// car) and the budgets it draws on. This is where a quota's id becomes a counter's name, in one place:
//
//   units of a shared quota            u:<quota id>                  under the quota's programme
//   units of a per-product-type quota  u:<quota id>:<product type>   (counts_as maps a type to another's)
//   fen of a cumulative amount cap     f:<quota id>
//   units of a calendar-year limit     u:<quota id>:<YYYY>           under programme "" (every programme)
//   once-key of a home / an old car    (programme, quota id, keyed hash)
//   once-key of a new car              ("", "new-vehicle", keyed hash of the VIN): every programme, every
//   quota
//
// each kept under the quota's programme (or the programme-independent "" namespace, as serial numbers are) —
// never under a policy file's content hash, so a reload keeps usage. The year of a calendar-year counter is
// the transaction date's. A quota that moved to another programme (Quota.counted_before_in) keeps its
// counters and once-keys in the old programmes too: a line checks and charges each of them, so what was
// recorded before the move still counts.
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_QUOTA_LEDGER_PLAN_H_
#define TRADEIN_SERVICES_QUOTA_LEDGER_PLAN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/policy/compiled_policy.h"
#include "services/policy/product_catalogue.h"
#include "services/quota/quota_store.h"

namespace tradein::quota {

// One line as the ledger sees it.
struct PlannedLine {
  std::string line_id;
  policy::ProductTypeId product_type = 0;
  int rule_index = -1;  // the rule that priced it; -1 when none
  int32_t units = 0;    // 0 when the rules refuse it
  int64_t unit_fen = 0;
  std::string home_hash;         // keyed hash of Home.property_id; "" when the item has none
  std::string vehicle_hash;      // keyed hash of Vehicle.old_vin; "" when the item has none
  std::string new_vehicle_hash;  // keyed hash of Vehicle.new_vin; "" when the item has none
};

// The once-key namespace of new cars: one subsidy per new car across every programme (decision D9).
inline constexpr absl::string_view kNewVehicleOnceKey = "new-vehicle";

// PlanLedger
//
// Fills request.lines, counters, once_keys and budgets (deduplicated; lines refer to them by index), for a
// basket whose transaction date is `transaction_day`.
void PlanLedger(const policy::CompiledPolicy& policy, const policy::ProductCatalogue& catalogue,
                absl::CivilDay transaction_day, const std::vector<PlannedLine>& lines,
                ReserveRequest& request);

// A counter GetBuyerUsage reports, with the quota it belongs to.
struct UsageCounter {
  CounterLimit counter;
  const policy::CompiledQuota* quota = nullptr;
  std::optional<policy::ProductTypeId> product_type;  // per-product-type quotas
  std::optional<absl::CivilYear> calendar_year;       // a calendar-year limit's counter
  std::vector<CounterLimit> counted_before;           // the same counter where it counted before it moved
};

// UsageCountersOf
//
// Every counter of `policy`'s quotas, in quota order (each product type of a per-type quota; the fen counter
// of an amount cap after the units one; the calendar-year counter, of `year`, last). Once-per-home/vehicle
// quotas have no per-buyer counter.
std::vector<UsageCounter> UsageCountersOf(const policy::CompiledPolicy& policy,
                                          const policy::ProductCatalogue& catalogue, absl::CivilYear year);

// UsageRequestCounters / MostUsed
//
// The counters a usage request reads for `counters` (each one, then where it counted before), and back from
// what the store answered in that order: per counter, the most any of its namespaces recorded (a line
// needs room in each, so the fullest is what limits the buyer).
std::vector<CounterLimit> UsageRequestCounters(const std::vector<UsageCounter>& counters);
std::vector<int64_t> MostUsed(const std::vector<UsageCounter>& counters, const std::vector<int64_t>& used);

}  // namespace tradein::quota

#endif  // TRADEIN_SERVICES_QUOTA_LEDGER_PLAN_H_
