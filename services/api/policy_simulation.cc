#include "services/api/policy_simulation.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "services/api/basket.h"
#include "services/policy/policy_loader.h"

namespace tradein::api {
namespace {

using quota::ClaimRecord;
using quota::ClaimState;

// Pricing reads neither, but a basket must carry a well-formed old VIN and a property id: stand-ins for the
// identifiers a claim does not keep.
constexpr absl::string_view kStandInVin = "1M8GDM9AXKP042788";
constexpr absl::string_view kStandInPropertyId = "-";
constexpr absl::string_view kNoRule = "-";

// "330300" → "3303", "330000" → "33", "000000" → "": the prefix every region within it starts with.
std::string RegionPrefix(absl::string_view region) {
  std::string prefix(region);
  while (absl::EndsWith(prefix, "00")) prefix.resize(prefix.size() - 2);
  return prefix;
}

bool Replayable(const v1::Claim& claim) {
  return std::all_of(claim.items().begin(), claim.items().end(),
                     [](const v1::ItemResult& item) { return item.has_priced_input(); });
}

v1::Item WithStandIns(const v1::Item& stored) {
  v1::Item item = stored;
  if (item.has_vehicle()) item.mutable_vehicle()->set_old_vin(std::string(kStandInVin));
  if (item.has_home()) item.mutable_home()->set_property_id(std::string(kStandInPropertyId));
  return item;
}

// The rule a line is reported under: today's, else the draft's, else "-".
std::string RowRule(const v1::ItemResult& today, const pricing::ItemPrice* draft) {
  if (!today.rule_id().empty()) return today.rule_id();
  if (draft != nullptr && draft->rule != nullptr) return draft->rule->id();
  return std::string(kNoRule);
}

// ⌊remaining × days / spent⌋: days until `remaining` is gone at `spent` fen per `days`; -1 when nothing was
// spent. 128-bit intermediate: fen × days cannot overflow.
int64_t DaysToExhaustion(int64_t remaining, int64_t spent, int64_t days) {
  if (spent <= 0) return -1;
  if (remaining <= 0) return 0;
  return static_cast<int64_t>(absl::int128(remaining) * days / spent);
}

bool IsDraftFileName(absl::string_view name) {
  return absl::EndsWith(name, ".textproto") && name.size() <= 64 && name.front() != '.' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
         });
}

// A directory of its own under the system's temporary directory, removed with everything in it.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tradein-draft-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  ~ScratchDirectory() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }  // "" when it could not be made

 private:
  std::string path_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const policy::PolicySnapshot>> LoadDraftPolicies(
    const google::protobuf::RepeatedPtrField<v1::PolicyFileText>& files, absl::Time now) {
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < files.size(); ++i) {
    if (!IsDraftFileName(files[i].name()) || !names.insert(files[i].name()).second) {
      return InvalidArgumentError(
          {{absl::StrCat("policyFiles[", i, "].name"), "FILE_NAME_INVALID",
            "a distinct file name: letters, digits, '-', '_', '.', ending .textproto"}});
    }
  }
  const ScratchDirectory scratch;
  if (scratch.path().empty()) return absl::UnavailableError("cannot make a directory for the draft");
  for (const v1::PolicyFileText& file : files) {
    std::ofstream out(std::filesystem::path(scratch.path()) / file.name(), std::ios::binary);
    out << file.text();
    if (!out) return absl::UnavailableError("cannot write the draft");
  }
  policy::PolicyLoadReport report = policy::LoadPolicyDirectoryReport(scratch.path(), now);
  if (report.snapshot != nullptr) return report.snapshot;
  std::string problems;
  for (const policy::PolicyProblem& problem : report.problems) {
    std::string line = problem.ToString();
    if (absl::StartsWith(line, scratch.path()))
      line = absl::StrCat("(draft)", line.substr(scratch.path().size()));
    absl::StrAppend(&problems, problems.empty() ? "" : "\n", line);
  }
  return InvalidArgumentError({{"policyFiles", "DRAFT_INVALID", problems}});
}

PolicySimulation::PolicySimulation(std::shared_ptr<const policy::PolicySnapshot> draft, std::string region,
                                   absl::CivilDay first_day, absl::CivilDay last_day)
    : draft_(std::move(draft)),
      region_prefix_(region.empty() ? "" : RegionPrefix(region)),
      period_days_(last_day - first_day + 1) {}

bool PolicySimulation::InRegion(const std::string& region_code) const {
  return absl::StartsWith(region_code, region_prefix_);
}

absl::Status PolicySimulation::Add(const ClaimRecord& record) {
  ++scanned_;
  if (record.state == ClaimState::kCancelled || record.state == ClaimState::kExpired) return absl::OkStatus();
  v1::Claim claim;
  if (!claim.ParseFromString(record.draft) || claim.items_size() != static_cast<int>(record.grants.size())) {
    return absl::InternalError(
        absl::StrCat("claim ", record.claim_id, ": stored draft does not match its grants"));
  }
  if (!InRegion(claim.region_code())) return absl::OkStatus();
  if (!Replayable(claim)) {
    ++not_replayable_;
    return absl::OkStatus();
  }
  ++replayed_;
  Replay(claim, record);
  return absl::OkStatus();
}

void PolicySimulation::Replay(const v1::Claim& claim, const ClaimRecord& record) {
  google::protobuf::RepeatedPtrField<v1::Item> items;
  for (const v1::ItemResult& line : claim.items()) {
    v1::Item* item = items.Add();
    *item = WithStandIns(line.priced_input());
    item->set_line_id(line.line_id());
  }
  const std::string no_policy_id;
  // The draft's policy for the claim's region and date; none in force (or a basket the draft refuses) prices
  // every line at nothing.
  const absl::StatusOr<Basket> basket =
      PriceBasket({claim.region_code(), claim.transaction_date(), no_policy_id, items}, *draft_);
  for (int i = 0; i < claim.items_size(); ++i) {
    const v1::ItemResult& today = claim.items(i);
    const quota::LineGrant& grant = record.grants[static_cast<size_t>(i)];
    const pricing::ItemPrice* price = basket.ok() ? &basket->prices[static_cast<size_t>(i)] : nullptr;
    const bool draft_eligible = price != nullptr && price->eligible();
    const int32_t units = today.eligible() ? grant.units : today.quantity();
    const int64_t draft_fen = draft_eligible ? price->unit_subsidy_fen * units : 0;

    const RowKey key{today.product_type(), RowRule(today, price), claim.region_code()};
    v1::SimulationRow& row = rows_[key];
    std::string& last_claim = row_last_claim_[key];
    if (last_claim != record.claim_id) {  // a claim's lines come together
      last_claim = record.claim_id;
      row.set_claims(row.claims() + 1);
    }
    row.set_lines(row.lines() + 1);
    row.set_units(row.units() + grant.units);
    row.set_subsidy_today_fen(row.subsidy_today_fen() + grant.fen);
    row.set_subsidy_draft_fen(row.subsidy_draft_fen() + draft_fen);
    if (draft_eligible && !today.eligible())
      row.set_lines_becoming_eligible(row.lines_becoming_eligible() + 1);
    if (!draft_eligible && today.eligible()) {
      row.set_lines_becoming_ineligible(row.lines_becoming_ineligible() + 1);
    }

    if (!basket.ok()) continue;
    const int rule_index = draft_eligible ? price->rule->index : -1;
    for (const policy::CompiledBudget& budget : basket->policy->budgets()) {
      if (!budget.Covers(basket->items[static_cast<size_t>(i)].product_type, rule_index)) continue;
      BudgetDraw& draw = budgets_[{basket->policy->id(), budget.id()}];
      draw.ref = {budget.programme, budget.id(), budget.total_fen};
      draw.today_fen += grant.fen;
      draw.draft_fen += draft_fen;
    }
  }
}

std::vector<quota::BudgetRef> PolicySimulation::Budgets() const {
  std::vector<quota::BudgetRef> out;
  for (const auto& [key, draw] : budgets_) out.push_back(draw.ref);
  return out;
}

v1::SimulationReport PolicySimulation::Report(const std::vector<int64_t>& budget_used_fen) const {
  v1::SimulationReport report;
  report.set_period_days(period_days_);
  report.set_claims_scanned(scanned_);
  report.set_claims_replayed(replayed_);
  report.set_claims_not_replayable(not_replayable_);
  report.set_draft_version(draft_->version());
  for (const auto& [key, row] : rows_) {
    v1::SimulationRow* out = report.add_rows();
    *out = row;
    out->set_product_type(std::get<0>(key));
    out->set_rule_id(std::get<1>(key));
    out->set_region_code(std::get<2>(key));
    out->set_difference_fen(row.subsidy_draft_fen() - row.subsidy_today_fen());
    report.set_subsidy_today_fen(report.subsidy_today_fen() + row.subsidy_today_fen());
    report.set_subsidy_draft_fen(report.subsidy_draft_fen() + row.subsidy_draft_fen());
  }
  report.set_difference_fen(report.subsidy_draft_fen() - report.subsidy_today_fen());
  size_t i = 0;
  for (const auto& [key, draw] : budgets_) {
    v1::BudgetForecast* out = report.add_budgets();
    const int64_t used = i < budget_used_fen.size() ? budget_used_fen[i] : 0;
    ++i;
    out->set_policy_id(key.policy_id);
    out->set_budget_id(key.budget_id);
    out->set_programme(draw.ref.programme);
    out->set_total_fen(draw.ref.total_fen);
    out->set_used_fen(used);
    out->set_period_today_fen(draw.today_fen);
    out->set_period_draft_fen(draw.draft_fen);
    const int64_t remaining = draw.ref.total_fen - used;
    out->set_days_to_exhaustion_today(DaysToExhaustion(remaining, draw.today_fen, period_days_));
    out->set_days_to_exhaustion_draft(DaysToExhaustion(remaining, draw.draft_fen, period_days_));
  }
  return report;
}

}  // namespace tradein::api
