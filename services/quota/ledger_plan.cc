#include "services/quota/ledger_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace tradein::quota {
namespace {

using policy::CompiledBudget;
using policy::CompiledPolicy;
using policy::CompiledQuota;
using policy::ProductCatalogue;
using policy::ProductTypeId;

std::string GroupUnitsField(const CompiledQuota& quota) { return absl::StrCat("u:", quota.id()); }

// The units counter of `quota` for items counted as `counter_type`: one per product type when the quota
// counts each type separately (air conditioners: 3), else one for the whole quota group.
std::string UnitsField(const CompiledQuota& quota, ProductTypeId counter_type,
                       const ProductCatalogue& catalogue) {
  if (!quota.per_product_type) return GroupUnitsField(quota);
  return absl::StrCat("u:", quota.id(), ":", catalogue.Get(counter_type).code());
}

std::string FenField(const CompiledQuota& quota) { return absl::StrCat("f:", quota.id()); }

// A calendar-year limit: one counter per quota id and year, in the namespace every programme shares.
CounterLimit CalendarYearCounter(const CompiledQuota& quota, absl::CivilYear year) {
  return {"", absl::StrCat("u:", quota.id(), ":", year.year()), CounterLimit::Kind::kUnits,
          *quota.calendar_year_max_units};
}

template <typename T>
uint16_t IndexOf(std::vector<T>& list, T value) {
  auto it = std::find(list.begin(), list.end(), value);
  if (it == list.end()) it = list.insert(list.end(), std::move(value));
  return static_cast<uint16_t>(it - list.begin());
}

// The programmes whose namespace keeps `quota`'s counters and once-keys: its own first, then those it counted
// in before it moved (Quota.counted_before_in), which a line checks and charges too.
std::vector<absl::string_view> NamespacesOf(const CompiledQuota& quota) {
  std::vector<absl::string_view> out = {quota.programme};
  out.insert(out.end(), quota.counted_before_in.begin(), quota.counted_before_in.end());
  return out;
}

// Units and fen counters of `quota` for an item of `type` bought in `year`.
void AddCounters(const CompiledQuota& quota, ProductTypeId type, absl::CivilYear year,
                 const ProductCatalogue& catalogue, ReserveRequest& request, LineRequest& line) {
  const ProductTypeId counter_type = quota.CounterType(type);
  const std::optional<int32_t> unit_limit = quota.UnitLimit(counter_type);
  for (const absl::string_view programme : NamespacesOf(quota)) {
    if (unit_limit.has_value()) {
      line.counters.push_back(IndexOf(
          request.counters, CounterLimit{std::string(programme), UnitsField(quota, counter_type, catalogue),
                                         CounterLimit::Kind::kUnits, *unit_limit}));
    }
    if (quota.max_amount_fen.has_value()) {
      line.counters.push_back(
          IndexOf(request.counters, CounterLimit{std::string(programme), FenField(quota),
                                                 CounterLimit::Kind::kFen, *quota.max_amount_fen}));
    }
  }
  if (quota.calendar_year_max_units.has_value()) {
    line.counters.push_back(IndexOf(request.counters, CalendarYearCounter(quota, year)));
  }
}

void AddOnceKeys(const CompiledQuota& quota, const PlannedLine& planned, ReserveRequest& request,
                 LineRequest& line) {
  for (const absl::string_view programme : NamespacesOf(quota)) {
    if (quota.once_per_home && !planned.home_hash.empty()) {
      line.once_keys.push_back(
          IndexOf(request.once_keys, OnceKey{std::string(programme), quota.id(), planned.home_hash,
                                             pricing::ReasonCode::kHomeAlreadyUsed}));
    }
    if (quota.once_per_old_vehicle && !planned.vehicle_hash.empty()) {
      line.once_keys.push_back(
          IndexOf(request.once_keys, OnceKey{std::string(programme), quota.id(), planned.vehicle_hash,
                                             pricing::ReasonCode::kVehicleAlreadyUsed}));
    }
  }
  if (quota.once_per_new_vehicle && !planned.new_vehicle_hash.empty()) {
    line.once_keys.push_back(
        IndexOf(request.once_keys, OnceKey{"", std::string(kNewVehicleOnceKey), planned.new_vehicle_hash,
                                           pricing::ReasonCode::kNewVehicleAlreadySubsidised}));
  }
}

}  // namespace

void PlanLedger(const CompiledPolicy& policy, const ProductCatalogue& catalogue,
                absl::CivilDay transaction_day, const std::vector<PlannedLine>& lines,
                ReserveRequest& request) {
  const absl::CivilYear year(transaction_day);
  for (const PlannedLine& planned : lines) {
    LineRequest line;
    line.line_id = planned.line_id;
    line.units = planned.units;
    line.unit_fen = planned.unit_fen;
    if (planned.units > 0) {
      for (const CompiledQuota& quota : policy.quotas()) {
        if (!quota.Covers(planned.product_type, planned.rule_index)) continue;
        AddCounters(quota, planned.product_type, year, catalogue, request, line);
        AddOnceKeys(quota, planned, request, line);
      }
      for (const CompiledBudget& budget : policy.budgets()) {
        if (!budget.Covers(planned.product_type, planned.rule_index)) continue;
        line.budgets.push_back(
            IndexOf(request.budgets, BudgetRef{budget.programme, budget.id(), budget.total_fen}));
      }
    }
    request.lines.push_back(std::move(line));
  }
}

std::vector<CounterLimit> UsageRequestCounters(const std::vector<UsageCounter>& counters) {
  std::vector<CounterLimit> out;
  for (const UsageCounter& counter : counters) {
    out.push_back(counter.counter);
    out.insert(out.end(), counter.counted_before.begin(), counter.counted_before.end());
  }
  return out;
}

std::vector<int64_t> MostUsed(const std::vector<UsageCounter>& counters, const std::vector<int64_t>& used) {
  std::vector<int64_t> out;
  size_t next = 0;
  for (const UsageCounter& counter : counters) {
    int64_t most = next < used.size() ? used[next] : 0;
    ++next;
    for (size_t i = 0; i < counter.counted_before.size(); ++i, ++next) {
      if (next < used.size()) most = std::max(most, used[next]);
    }
    out.push_back(most);
  }
  return out;
}

std::vector<UsageCounter> UsageCountersOf(const CompiledPolicy& policy, const ProductCatalogue& catalogue,
                                          absl::CivilYear year) {
  std::vector<UsageCounter> out;
  for (const CompiledQuota& quota : policy.quotas()) {
    const size_t first = out.size();
    if (quota.per_product_type) {
      for (size_t t = 0; t < quota.member_types.size(); ++t) {
        const auto type = static_cast<ProductTypeId>(t);
        const std::optional<int32_t> limit = quota.UnitLimit(type);
        if (!quota.member_types[t] || quota.CounterType(type) != type || !limit.has_value()) continue;
        out.push_back(
            {{quota.programme, UnitsField(quota, type, catalogue), CounterLimit::Kind::kUnits, *limit},
             &quota,
             type,
             std::nullopt,
             {}});
      }
    } else if (quota.max_units.has_value()) {
      out.push_back({{quota.programme, GroupUnitsField(quota), CounterLimit::Kind::kUnits, *quota.max_units},
                     &quota,
                     std::nullopt,
                     std::nullopt,
                     {}});
    }
    if (quota.max_amount_fen.has_value()) {
      out.push_back({{quota.programme, FenField(quota), CounterLimit::Kind::kFen, *quota.max_amount_fen},
                     &quota,
                     std::nullopt,
                     std::nullopt,
                     {}});
    }
    for (UsageCounter& counter : absl::MakeSpan(out).subspan(first)) {
      for (const std::string& before : quota.counted_before_in) {
        CounterLimit old = counter.counter;
        old.programme = before;
        counter.counted_before.push_back(std::move(old));
      }
    }
    if (quota.calendar_year_max_units.has_value()) {
      out.push_back({CalendarYearCounter(quota, year), &quota, std::nullopt, year, {}});
    }
  }
  return out;
}

}  // namespace tradein::quota
