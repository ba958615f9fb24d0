#include "services/policy/policy_merge.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace tradein::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::Policy Parse(const std::string& text) {
  v1::Policy policy;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &policy)) << text;
  return policy;
}

std::vector<std::string> RuleIds(const v1::Policy& p) {
  std::vector<std::string> out;
  for (const auto& r : p.rules()) out.push_back(r.id());
  return out;
}
std::vector<std::string> QuotaIds(const v1::Policy& p) {
  std::vector<std::string> out;
  for (const auto& q : p.quotas()) out.push_back(q.id());
  return out;
}
std::vector<std::string> BudgetIds(const v1::Policy& p) {
  std::vector<std::string> out;
  for (const auto& b : p.budgets()) out.push_back(b.id());
  return out;
}

const char kParent[] = R"pb(
  id: "parent"
  title: "Parent"
  region_code: "330000"
  inherits: "grandparent"
  programme: "p-2025"
  transaction_window { first_day: "2025-01-01" last_day: "2025-12-31" }
  claim_window { first_day: "2025-01-01" last_day: "2026-01-10" }
  rounding { unit: FEN mode: FLOOR }
  hold { seconds: 1800 }
  refund { restores_quota: true }
  rules { id: "A" title: "parent A" product_types: "digital.phone" }
  rules { id: "B" title: "parent B" product_types: "digital.tablet" }
  rules { id: "C" title: "parent C" product_types: "digital.smartwatch" }
  quotas { id: "q1" max_units: 1 }
  quotas { id: "q2" max_units: 2 }
  budgets { id: "b1" total_fen: 100 }
  version: "parentversion"
  source_files: "parent.textproto"
)pb";

TEST(MergePolicyTest, ChildReplacesInPlaceAppendsAndRemoves) {
  const v1::Policy parent = Parse(kParent);
  const v1::Policy child = Parse(R"pb(
    id: "child"
    title: "Child"
    region_code: "330381"
    inherits: "parent"
    rules { id: "D" title: "child D" product_types: "furniture.bed" }
    rules { id: "B" title: "child B" product_types: "digital.tablet" }
    quotas { id: "q1" max_units: 5 }
    quotas { id: "q3" max_units: 3 }
    budgets { id: "b2" total_fen: 200 }
    removed_rule_ids: "C"
    removed_quota_ids: "q2"
    removed_budget_ids: "b1"
  )pb");
  const v1::Policy merged = MergePolicy(&parent, child);

  EXPECT_THAT(RuleIds(merged), ElementsAre("A", "B", "D"));  // B replaced in place, D appended, C removed
  EXPECT_EQ(merged.rules(0).title(), "parent A");
  EXPECT_EQ(merged.rules(1).title(), "child B");
  EXPECT_EQ(merged.rules(2).title(), "child D");
  EXPECT_THAT(QuotaIds(merged), ElementsAre("q1", "q3"));
  EXPECT_EQ(merged.quotas(0).max_units(), 5);
  EXPECT_THAT(BudgetIds(merged), ElementsAre("b2"));
  // Identity from the child; settings inherited where the child is silent.
  EXPECT_EQ(merged.id(), "child");
  EXPECT_EQ(merged.title(), "Child");
  EXPECT_EQ(merged.region_code(), "330381");
  EXPECT_EQ(merged.inherits(), "parent");
  EXPECT_EQ(merged.programme(), "p-2025");
  EXPECT_EQ(merged.transaction_window().last_day(), "2025-12-31");
  EXPECT_EQ(merged.claim_window().last_day(), "2026-01-10");
  EXPECT_EQ(merged.hold().seconds(), 1800);
  EXPECT_TRUE(merged.refund().restores_quota());
  EXPECT_EQ(merged.rounding().mode(), v1::Rounding::FLOOR);
  // Consumed and output-only fields are empty.
  EXPECT_THAT(merged.removed_rule_ids(), IsEmpty());
  EXPECT_THAT(merged.removed_quota_ids(), IsEmpty());
  EXPECT_THAT(merged.removed_budget_ids(), IsEmpty());
  EXPECT_EQ(merged.version(), "");
  EXPECT_THAT(merged.source_files(), IsEmpty());
}

TEST(MergePolicyTest, ChildSettingsWin) {
  const v1::Policy parent = Parse(kParent);
  const v1::Policy child = Parse(R"pb(
    id: "child"
    region_code: "330300"
    inherits: "parent"
    programme: "c-2025"
    transaction_window { first_day: "2025-03-01" last_day: "2025-06-30" }
    claim_window { first_day: "2025-03-01" last_day: "2025-07-31" }
    rounding { unit: YUAN mode: HALF_UP }
    hold { seconds: 600 }
    refund { restores_quota: false }
  )pb");
  const v1::Policy merged = MergePolicy(&parent, child);
  EXPECT_EQ(merged.programme(), "c-2025");
  EXPECT_EQ(merged.transaction_window().first_day(), "2025-03-01");
  EXPECT_EQ(merged.claim_window().last_day(), "2025-07-31");
  EXPECT_EQ(merged.rounding().unit(), v1::Rounding::YUAN);
  EXPECT_EQ(merged.rounding().mode(), v1::Rounding::HALF_UP);
  EXPECT_EQ(merged.hold().seconds(), 600);
  EXPECT_FALSE(merged.refund().restores_quota());
  // Nothing of the parent's lists is lost when the child lists nothing.
  EXPECT_THAT(RuleIds(merged), ElementsAre("A", "B", "C"));
  EXPECT_THAT(QuotaIds(merged), ElementsAre("q1", "q2"));
  EXPECT_THAT(BudgetIds(merged), ElementsAre("b1"));
}

TEST(MergePolicyTest, ReplacedEntryIsWholeNotMergedFieldByField) {
  const v1::Policy parent = Parse(R"pb(
    id: "parent"
    rules {
      id: "A"
      product_types: [ "digital.phone", "digital.tablet" ]
      transaction_window { first_day: "2025-01-20" last_day: "2025-12-31" }
    }
  )pb");
  const v1::Policy child = Parse(R"pb(
    id: "child"
    inherits: "parent"
    rules { id: "A" product_types: "digital.phone" }
  )pb");
  const v1::Policy merged = MergePolicy(&parent, child);
  ASSERT_EQ(merged.rules_size(), 1);
  EXPECT_THAT(merged.rules(0).product_types(), ElementsAre("digital.phone"));
  EXPECT_FALSE(merged.rules(0).has_transaction_window());
}

TEST(MergePolicyTest, RootPolicyIsItselfWithoutRemovalsOrOutputFields) {
  v1::Policy root = Parse(kParent);
  root.clear_inherits();
  root.add_removed_rule_ids("X");
  root.add_removed_quota_ids("Y");
  root.add_removed_budget_ids("Z");
  const v1::Policy merged = MergePolicy(nullptr, root);
  EXPECT_THAT(RuleIds(merged), ElementsAre("A", "B", "C"));
  EXPECT_THAT(merged.removed_rule_ids(), IsEmpty());
  EXPECT_THAT(merged.removed_quota_ids(), IsEmpty());
  EXPECT_THAT(merged.removed_budget_ids(), IsEmpty());
  EXPECT_EQ(merged.programme(), "p-2025");
}

TEST(MergePolicyTest, RemovedAndReAddedInOneChildGoesToTheEnd) {
  const v1::Policy parent = Parse(kParent);
  const v1::Policy child = Parse(R"pb(
    id: "child"
    inherits: "parent"
    removed_rule_ids: "A"
    rules { id: "A" title: "child A" product_types: "digital.phone" }
  )pb");
  const v1::Policy merged = MergePolicy(&parent, child);
  EXPECT_THAT(RuleIds(merged), ElementsAre("B", "C", "A"));
  EXPECT_EQ(merged.rules(2).title(), "child A");
}

}  // namespace
}  // namespace tradein::policy
