// -----------------------------------------------------------------------------
// File: policy_simulation.h
// -----------------------------------------------------------------------------
//
// What-if: the recorded claims of a period replayed under a draft policy directory (PortalService/
// SimulatePolicy, `tradeinctl simulate`). Each line is re-priced on its own from the inputs its claim kept
// (ItemResult.priced_input: everything the calculator reads, without the identifiers), under the policy the
// draft puts in force for the claim's region and transaction date, and compared with what the ledger granted:
//
//   subsidy today   the fen the ledger granted the line (refunds, voids and corrections not deducted: the
//                   simulation compares decisions, not settlement);
//   subsidy draft   the draft's unit subsidy × the line's units, where the units are what the ledger granted
//                   when today's rules made the line eligible (quota and budget outcomes are reported as
//                   they were, not re-simulated: a line a quota cut keeps its cut), and the line's quantity
//                   when today's rules refused it (the ledger never saw it). Cumulative amount caps
//                   (Quota.max_amount) are not applied again either.
//
// Rows are per (product type, rule, region): the rule that priced the line today (else the draft's, else
// "-"), the claim's region. A line changes eligibility when today's rules and the draft's disagree on it.
// Claims whose lines kept no inputs (made before the inputs were stored) are counted as not replayable,
// never guessed. CANCELLED and EXPIRED claims are skipped (no sale was subsidised); REJECTED ones are
// replayed (the draft might have paid them).
//
// Budgets: for every budget of a draft policy that a replayed line falls under, the fen the period drew
// today and under the draft (by the draft's budget membership), and the days until the budget's remaining
// money (draft total − what the store says is used now) runs out at each pace: ⌊remaining × period days /
// period fen⌋, -1 when the period drew nothing. Integer arithmetic throughout.
//
// Read-only: nothing here touches quota.
//
// Thread safety: a PolicySimulation belongs to one call (not thread-safe); the snapshot it holds is
// immutable.
#ifndef TRADEIN_SERVICES_API_POLICY_SIMULATION_H_
#define TRADEIN_SERVICES_API_POLICY_SIMULATION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/policy/policy_snapshot.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/portal_service.pb.h"

namespace tradein::api {

// LoadDraftPolicies
//
// The draft directory sent with a request, loaded exactly as a reload loads the policy directory (the files
// are written to a private temporary directory for the loader). INVALID_ARGUMENT naming `field`: a file name
// that is not a plain "*.textproto" name, a name given twice, or the loader's problems (DRAFT_INVALID, every
// problem listed, one per line).
[[nodiscard]] absl::StatusOr<std::shared_ptr<const policy::PolicySnapshot>> LoadDraftPolicies(
    const google::protobuf::RepeatedPtrField<v1::PolicyFileText>& files, absl::Time now);

class PolicySimulation {
 public:
  // `region` filters claims by point of sale: "" = all, else the region and every region within it
  // (330300 takes 330381).
  PolicySimulation(std::shared_ptr<const policy::PolicySnapshot> draft, std::string region,
                   absl::CivilDay first_day, absl::CivilDay last_day);

  // Replays one stored claim. INTERNAL when its draft does not parse (a store written by another build).
  absl::Status Add(const quota::ClaimRecord& record);

  int64_t claims_scanned() const { return scanned_; }

  // The budgets the report forecasts, in report order: the caller reads their usage from the store.
  std::vector<quota::BudgetRef> Budgets() const;

  // The report; `budget_used_fen[i]` is what the store says Budgets()[i] has used now.
  v1::SimulationReport Report(const std::vector<int64_t>& budget_used_fen) const;

 private:
  struct BudgetKey {
    std::string policy_id;
    std::string budget_id;
    friend bool operator<(const BudgetKey& a, const BudgetKey& b) {
      return std::tie(a.policy_id, a.budget_id) < std::tie(b.policy_id, b.budget_id);
    }
  };
  struct BudgetDraw {
    quota::BudgetRef ref;
    int64_t today_fen = 0;
    int64_t draft_fen = 0;
  };
  using RowKey = std::tuple<std::string, std::string, std::string>;  // product type, rule, region

  bool InRegion(const std::string& region_code) const;
  void Replay(const v1::Claim& claim, const quota::ClaimRecord& record);

  const std::shared_ptr<const policy::PolicySnapshot> draft_;
  const std::string region_prefix_;
  const int64_t period_days_;
  int64_t scanned_ = 0;
  int64_t replayed_ = 0;
  int64_t not_replayable_ = 0;
  std::map<RowKey, v1::SimulationRow> rows_;
  std::map<RowKey, std::string> row_last_claim_;  // the last claim counted in a row
  std::map<BudgetKey, BudgetDraw> budgets_;
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_POLICY_SIMULATION_H_
