// -----------------------------------------------------------------------------
// File: compiled_policy.h
// -----------------------------------------------------------------------------
//
// A merged, validated policy turned into the form the calculator and the quota ledger read on every request:
// dates as civil days, product types as dense ids, the candidate rules of each product type precomputed, and
// each quota's and budget's members as bitmaps. Built once per load; never changed afterwards.
//
// The merged proto is kept (proto()) and served as is by PolicyService/GetPolicy; every compiled rule, quota
// and budget points back to its source message there.
//
// Thread safety: immutable after Compile(); safe to share between threads.
#ifndef TRADEIN_SERVICES_POLICY_COMPILED_POLICY_H_
#define TRADEIN_SERVICES_POLICY_COMPILED_POLICY_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/money.h"
#include "services/policy/product_catalogue.h"
#include "tradein/v1/policy.pb.h"

namespace tradein::policy {

// Inclusive range of civil days.
struct DayWindow {
  absl::CivilDay first;
  absl::CivilDay last;
  bool Contains(absl::CivilDay day) const { return first <= day && day <= last; }
};

// The old car's fuel type as a bit, for masks of allowed fuel types.
inline uint8_t FuelBit(int old_fuel_type) { return static_cast<uint8_t>(1u << old_fuel_type); }

struct CompiledRule {
  enum class AmountKind : uint8_t { kPercentage, kFlat, kTiers };
  struct GradeRate {
    int32_t max_grade;
    int32_t rate_bp;
  };
  struct Tier {
    int64_t min_price_fen;
    int64_t amount_fen;
  };

  const v1::Rule* source = nullptr;  // in CompiledPolicy::proto()
  int index = 0;                     // position in the policy's rules (quota and budget membership)

  // Matching (cars only; 0 for other rules).
  int trade_in_kind = 0;
  int new_energy_type = 0;

  // Eligibility.
  std::optional<DayWindow> transaction_window;  // narrower than the policy's
  DayWindow claim_window;                       // resolved: rule → policy → policy's transaction window
  std::optional<int64_t> min_price_fen;
  std::optional<int64_t> max_price_fen;
  std::array<std::optional<absl::CivilDay>, 5> registered_on_or_before{};  // by Vehicle.OldFuelType value
  std::optional<absl::CivilDay> owned_since_on_or_before;
  std::optional<int32_t> max_displacement_ml;
  bool require_nev_catalogue = false;
  uint8_t allowed_old_fuels = 0;  // FuelBit mask; 0 = any
  std::optional<absl::CivilDay> home_completed_before;
  bool require_old_bike = false;
  bool require_new_bike_certified = false;

  // Amount.
  AmountKind amount_kind = AmountKind::kFlat;
  std::vector<GradeRate> grade_rates;  // ascending max_grade
  std::optional<int32_t> other_rate_bp;
  std::optional<int32_t> ungraded_rate_bp;
  std::vector<ProductTypeId> ungraded_types;
  std::optional<int64_t> cap_fen;
  int64_t flat_fen = 0;
  std::vector<Tier> tiers;  // ascending min_price_fen

  const std::string& id() const { return source->id(); }
};

struct CompiledQuota {
  const v1::Quota* source = nullptr;
  std::string programme;  // resolved: the quota's own (an inherited one: its origin's), else the policy's
  // Where it counted before it moved (Quota.counted_before_in): also checked and charged.
  std::vector<std::string> counted_before_in;
  bool per_product_type = false;
  std::optional<int32_t> max_units;
  std::vector<std::pair<ProductTypeId, int32_t>> unit_overrides;
  std::vector<std::pair<ProductTypeId, ProductTypeId>> counts_as;  // type → the type whose counter it uses
  std::optional<int64_t> max_amount_fen;
  bool once_per_home = false;
  bool once_per_old_vehicle = false;
  bool once_per_new_vehicle = false;               // one namespace across programmes (decision D9)
  std::optional<int32_t> calendar_year_max_units;  // one counter per calendar year, across programmes
  std::vector<bool> member_types;                  // by ProductTypeId
  std::vector<bool> member_rules;                  // by CompiledRule::index

  const std::string& id() const { return source->id(); }
  bool Covers(ProductTypeId type, int rule_index) const;
  // The unit limit for `type` (overrides first); std::nullopt when the quota limits no count.
  std::optional<int32_t> UnitLimit(ProductTypeId type) const;
  // The product type whose counter `type` uses (itself unless counts_as says otherwise).
  ProductTypeId CounterType(ProductTypeId type) const;
};

struct CompiledBudget {
  const v1::Budget* source = nullptr;
  std::string programme;
  int64_t total_fen = 0;
  std::vector<bool> member_types;  // both empty: every item
  std::vector<bool> member_rules;

  const std::string& id() const { return source->id(); }
  bool Covers(ProductTypeId type, int rule_index) const;
};

class CompiledPolicy {
 public:
  // Compile
  //
  // REQUIRES: `merged` passed ValidatePolicyFile/ValidateMergedPolicy against `catalogue`. Still returns
  // INTERNAL rather than crashing if a date or product type does not resolve.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CompiledPolicy>> Compile(
      v1::Policy merged, const ProductCatalogue& catalogue);

  CompiledPolicy(const CompiledPolicy&) = delete;
  CompiledPolicy& operator=(const CompiledPolicy&) = delete;

  const v1::Policy& proto() const { return proto_; }
  const std::string& id() const { return proto_.id(); }
  const std::string& version() const { return proto_.version(); }
  const std::string& programme() const { return proto_.programme(); }
  const std::string& region_code() const { return proto_.region_code(); }
  DayWindow transaction_window() const { return transaction_window_; }
  DayWindow claim_window() const { return claim_window_; }
  RoundingRule rounding() const { return rounding_; }
  absl::Duration hold() const { return hold_; }
  bool refund_restores_quota() const { return proto_.refund().restores_quota(); }
  // Whether a quota keys cars by their new VIN: a Claim must then carry vehicle.newVin on every car line.
  bool requires_new_vin() const { return requires_new_vin_; }

  const std::vector<CompiledRule>& rules() const { return rules_; }
  // Indices into rules() of the rules that may price `type`, in file order.
  const std::vector<uint16_t>& RulesFor(ProductTypeId type) const { return rules_by_type_[type]; }
  const std::vector<CompiledQuota>& quotas() const { return quotas_; }
  const std::vector<CompiledBudget>& budgets() const { return budgets_; }

 private:
  CompiledPolicy() = default;

  v1::Policy proto_;
  DayWindow transaction_window_;
  DayWindow claim_window_;
  RoundingRule rounding_;
  absl::Duration hold_;
  bool requires_new_vin_ = false;
  std::vector<CompiledRule> rules_;
  std::vector<std::vector<uint16_t>> rules_by_type_;
  std::vector<CompiledQuota> quotas_;
  std::vector<CompiledBudget> budgets_;
};

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_COMPILED_POLICY_H_
