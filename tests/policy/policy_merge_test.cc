// Inheritance, on small hand-written policies: entries by id, field by field, zero values, whole lists,
// values with a ref replaced whole, oneofs, and where each merged value was written (value_origins).
#include "services/policy/policy_merge.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/policy/policy_problem.h"

namespace tradein::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::unique_ptr<PolicyFile> File(const std::string& path, const std::string& text) {
  std::vector<PolicyProblem> problems;
  std::unique_ptr<PolicyFile> file = ParsePolicyText(path, text, problems);
  EXPECT_NE(file, nullptr) << text;
  EXPECT_THAT(problems, IsEmpty());
  return file;
}

// `text` merged onto nothing (a root policy).
v1::Policy Root(const std::string& path, const std::string& text) {
  return MergePolicy(nullptr, *File(path, text));
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

// "file:line" of the first line of `text` that contains `needle` (0 when none does).
std::string At(const std::string& file, const std::string& text, const std::string& needle) {
  int line = 1;
  for (size_t start = 0; start <= text.size(); ++line) {
    const size_t end = std::min(text.find('\n', start), text.size());
    if (text.substr(start, end - start).find(needle) != std::string::npos)
      return file + ":" + std::to_string(line);
    start = end + 1;
  }
  return file + ":0";
}

// value_origins as "file:line" by field.
std::map<std::string, std::string> Origins(const v1::Policy& p) {
  std::map<std::string, std::string> out;
  for (const v1::ValueOrigin& o : p.value_origins())
    out[o.field()] = o.file() + ":" + std::to_string(o.line());
  return out;
}

// The parent every test starts from.
const char kParent[] = R"pb(id: "parent"
                            title: "Parent"
                            region_code: "330000"
                            programme: "p-2025"
                            transaction_window { first_day: "2025-01-01" last_day: "2025-12-31" }
                            claim_window { first_day: "2025-01-01" last_day: "2026-01-10" }
                            rounding { unit: FEN mode: FLOOR }
                            hold { seconds: 1800 }
                            refund { restores_quota: true }
                            rules {
                              id: "A"
                              title: "parent A"
                              product_types: [ "digital.phone", "digital.tablet" ]
                              transaction_window {
                                first_day: "2025-01-20"
                                last_day: "2025-12-31"
                                ref { document: "P" }
                              }
                              eligibility {
                                max_price {
                                  fen: 600000
                                  ref { document: "P" article: "price" }
                                }
                                min_price {
                                  fen: 100
                                  ref { document: "P" }
                                }
                              }
                              percentage {
                                grade_rates {
                                  max_grade: 1
                                  rate_bp: 2000
                                  ref { document: "P" }
                                }
                                grade_rates {
                                  max_grade: 2
                                  rate_bp: 1500
                                  ref { document: "P" }
                                }
                                other_rate {
                                  bp: 1000
                                  ref { document: "P" }
                                }
                                cap {
                                  fen: 50000
                                  ref { document: "P" article: "cap" }
                                }
                              }
                            }
                            rules { id: "B" title: "parent B" product_types: "digital.smartwatch" }
                            rules { id: "C" title: "parent C" product_types: "furniture.bed" }
                            quotas {
                              id: "q1"
                              product_types: [ "digital.phone", "digital.tablet" ]
                              per_product_type: true
                              max_units: 3
                              once_per_home: true
                              rule_ids: [ "A" ]
                            }
                            quotas { id: "q2" max_units: 2 }
                            budgets { id: "b1" total_fen: 100 }
)pb";

TEST(MergePolicyTest, EntriesOverriddenInPlaceAppendedAndRemoved) {
  const v1::Policy parent = Root("parent.textproto", kParent);
  const v1::Policy merged = MergePolicy(&parent, *File("child.textproto", R"pb(
    id: "child"
    title: "Child"
    region_code: "330381"
    inherits: "parent"
    rules { id: "D" title: "child D" product_types: "furniture.sofa" }
    rules { id: "B" title: "child B" }
    quotas { id: "q1" max_units: 5 }
    quotas { id: "q3" max_units: 3 }
    budgets { id: "b2" total_fen: 200 }
    removed_rule_ids: "C"
    removed_quota_ids: "q2"
    removed_budget_ids: "b1"
  )pb"));

  EXPECT_THAT(RuleIds(merged), ElementsAre("A", "B", "D"));  // B overridden in place, D appended, C removed
  EXPECT_EQ(merged.rules(0).title(), "parent A");
  EXPECT_EQ(merged.rules(1).title(), "child B");
  EXPECT_THAT(merged.rules(1).product_types(), ElementsAre("digital.smartwatch"));  // not written: inherited
  EXPECT_EQ(merged.rules(2).title(), "child D");
  EXPECT_THAT(QuotaIds(merged), ElementsAre("q1", "q3"));
  EXPECT_EQ(merged.quotas(0).max_units(), 5);
  EXPECT_TRUE(merged.quotas(0).per_product_type());
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
  const v1::Policy parent = Root("parent.textproto", kParent);
  const v1::Policy merged = MergePolicy(&parent, *File("child.textproto", R"pb(
    id: "child"
    region_code: "330300"
    inherits: "parent"
    programme: "c-2025"
    transaction_window { first_day: "2025-03-01" last_day: "2025-06-30" }
    claim_window { first_day: "2025-03-01" last_day: "2025-07-31" }
    rounding { unit: YUAN mode: HALF_UP }
    hold { seconds: 600 }
    refund { restores_quota: false }
  )pb"));
  EXPECT_EQ(merged.programme(), "c-2025");
  EXPECT_EQ(merged.transaction_window().first_day(), "2025-03-01");
  EXPECT_EQ(merged.claim_window().last_day(), "2025-07-31");
  EXPECT_EQ(merged.rounding().unit(), v1::Rounding::YUAN);
  EXPECT_EQ(merged.rounding().mode(), v1::Rounding::HALF_UP);
  EXPECT_EQ(merged.hold().seconds(), 600);
  EXPECT_FALSE(merged.refund().restores_quota());
  EXPECT_EQ(merged.title(), "");  // the title is the child's own, written or not
  // Nothing of the parent's lists is lost when the child lists nothing.
  EXPECT_THAT(RuleIds(merged), ElementsAre("A", "B", "C"));
  EXPECT_THAT(QuotaIds(merged), ElementsAre("q1", "q2"));
  EXPECT_THAT(BudgetIds(merged), ElementsAre("b1"));
}

// Issue 11, item 2: a child with its own programme used to move every inherited quota into it, so a buyer
// had one count under the parent's programme and another under the child's.
TEST(MergePolicyTest, AnInheritedQuotaKeepsCountingInItsOriginsProgrammeUnlessTheChildWritesOne) {
  const v1::Policy parent = Root("parent.textproto", kParent);
  const std::string child_text = R"pb(
    id: "child"
    region_code: "330300"
    inherits: "parent"
    programme: "c-2025"
    quotas { id: "q1" max_units: 5 }
    quotas { id: "q2" programme: "c-2025" }
    quotas { id: "q3" max_units: 1 }
  )pb";
  const v1::Policy merged = MergePolicy(&parent, *File("child.textproto", child_text));
  ASSERT_THAT(QuotaIds(merged), ElementsAre("q1", "q2", "q3"));
  EXPECT_EQ(merged.quotas(0).programme(), "p-2025");  // overridden, but not its programme
  // The child writes it: a split, which the linter warns of.
  EXPECT_EQ(merged.quotas(1).programme(), "c-2025");
  EXPECT_EQ(merged.quotas(2).programme(), "");  // the child's own: the child's programme
  const std::map<std::string, std::string> origins = Origins(merged);
  EXPECT_EQ(origins.at("quotas[q1].programme"), At("parent.textproto", kParent, "programme:"));
  EXPECT_EQ(origins.at("quotas[q2].programme"), At("child.textproto", child_text, "id: \"q2\""));
  EXPECT_EQ(origins.count("quotas[q3].programme"), 0u);

  // A grandchild keeps them where they are; the child's own quota now counts in the child's programme.
  const v1::Policy grandchild = MergePolicy(&merged, *File("grandchild.textproto", R"pb(
    id: "grandchild"
    region_code: "330381"
    inherits: "child"
    programme: "g-2025"
  )pb"));
  EXPECT_EQ(grandchild.quotas(0).programme(), "p-2025");
  EXPECT_EQ(grandchild.quotas(1).programme(), "c-2025");
  EXPECT_EQ(grandchild.quotas(2).programme(), "c-2025");
}

TEST(MergePolicyTest, AnOverrideChangesOnlyTheFieldsItWrites) {
  const v1::Policy parent = Root("parent.textproto", kParent);
  const v1::Policy merged = MergePolicy(&parent, *File("child.textproto", R"pb(
    id: "child"
    inherits: "parent"
    rules {
      id: "A"
      claim_window {
        first_day: "2025-01-11"
        last_day: "2026-01-10"
        ref { document: "C" }
      }
      eligibility {
        max_price {
          fen: 500000
          ref { document: "C" }
        }
      }
      percentage {
        cap {
          fen: 40000
          ref { document: "C" }
        }
      }
    }
  )pb"));
  ASSERT_EQ(merged.rules_size(), 3);
  v1::Rule expected = parent.rules(0);
  *expected.mutable_claim_window() = merged.rules(0).claim_window();
  expected.mutable_eligibility()->mutable_max_price()->set_fen(500000);
  *expected.mutable_eligibility()->mutable_max_price()->mutable_ref() = merged.rules(0).claim_window().ref();
  expected.mutable_percentage()->mutable_cap()->set_fen(40000);
  *expected.mutable_percentage()->mutable_cap()->mutable_ref() = merged.rules(0).claim_window().ref();
  EXPECT_EQ(merged.rules(0).DebugString(), expected.DebugString());
  // What the child left alone: the parent's product types, window, min price, grade rates, other rate.
  EXPECT_THAT(merged.rules(0).product_types(), ElementsAre("digital.phone", "digital.tablet"));
  EXPECT_EQ(merged.rules(0).eligibility().min_price().fen(), 100);
  EXPECT_EQ(merged.rules(0).percentage().grade_rates_size(), 2);
  EXPECT_EQ(merged.rules(0).percentage().other_rate().bp(), 1000);
}

TEST(MergePolicyTest, AnOverrideCanSetZeroFalseAndEmpty) {
  const v1::Policy parent = Root("parent.textproto", kParent);
  const std::string child = R"pb(
    id: "child"
    inherits: "parent"
    rules { id: "B" title: "" }
    quotas {
      id: "q1"
      per_product_type: false
      max_units: 0
      once_per_home: false
      rule_ids: []
    }
    budgets { id: "b1" total_fen: 0 }
  )pb";
  const v1::Policy merged = MergePolicy(&parent, *File("child.textproto", child));
  EXPECT_EQ(merged.rules(1).title(), "");
  const v1::Quota& q1 = merged.quotas(0);
  EXPECT_FALSE(q1.per_product_type());
  EXPECT_TRUE(q1.has_max_units());  // written 0 is 0, not "absent"
  EXPECT_EQ(q1.max_units(), 0);
  EXPECT_FALSE(q1.once_per_home());
  EXPECT_THAT(q1.rule_ids(), IsEmpty());
  EXPECT_THAT(q1.product_types(), ElementsAre("digital.phone", "digital.tablet"));  // not written
  EXPECT_EQ(merged.budgets(0).total_fen(), 0);
  // Each written zero has its origin, though proto3 cannot see it in the message.
  const auto origins = Origins(merged);
  EXPECT_EQ(origins.at("quotas[q1].per_product_type"),
            At("child.textproto", child, "per_product_type: false"));
  EXPECT_EQ(origins.at("quotas[q1].max_units"), At("child.textproto", child, "max_units: 0"));
  EXPECT_EQ(origins.at("quotas[q1].once_per_home"), At("child.textproto", child, "once_per_home: false"));
  EXPECT_EQ(origins.at("quotas[q1].rule_ids"), At("child.textproto", child, "rule_ids: []"));
  EXPECT_EQ(origins.at("budgets[b1].total_fen"), At("child.textproto", child, "total_fen: 0"));
  EXPECT_EQ(origins.at("rules[B].title"), At("child.textproto", child, "title: \"\""));
}

TEST(MergePolicyTest, ListsAreReplacedWholeNeverAppendedTo) {
  const v1::Policy parent = Root("parent.textproto", kParent);
  const v1::Policy merged = MergePolicy(&parent, *File("child.textproto", R"pb(
    id: "child"
    inherits: "parent"
    rules {
      id: "A"
      product_types: [ "digital.phone" ]
      percentage {
        grade_rates {
          max_grade: 1
          rate_bp: 2500
          ref { document: "C" }
        }
      }
    }
  )pb"));
  const v1::Rule& a = merged.rules(0);
  EXPECT_THAT(a.product_types(), ElementsAre("digital.phone"));
  ASSERT_EQ(a.percentage().grade_rates_size(), 1);
  EXPECT_EQ(a.percentage().grade_rates(0).rate_bp(), 2500);
}

TEST(MergePolicyTest, AValueWithItsOwnRefIsReplacedWhole) {
  const v1::Policy parent = Root("parent.textproto", kParent);
  const v1::Policy merged = MergePolicy(&parent, *File("child.textproto", R"pb(
    id: "child"
    inherits: "parent"
    rules {
      id: "A"
      percentage {
        cap {
          fen: 30000
          ref { document: "C" }
        }
      }
    }
    rules {
      id: "B"
      ref { note: "only a note" }
    }
  )pb"));
  // The parent's article does not survive next to the child's number: the pair is one value.
  EXPECT_EQ(merged.rules(0).percentage().cap().ref().document(), "C");
  EXPECT_EQ(merged.rules(0).percentage().cap().ref().article(), "");
  // A ref is one value too.
  EXPECT_EQ(merged.rules(1).ref().note(), "only a note");
  EXPECT_EQ(merged.rules(1).ref().document(), "");
}

TEST(MergePolicyTest, WritingAnotherAmountKindDropsTheParentsAndItsOrigins) {
  const v1::Policy parent = Root("parent.textproto", kParent);
  const std::string child = R"pb(
    id: "child"
    inherits: "parent"
    rules {
      id: "A"
      flat {
        amount_fen: 700
        ref { document: "C" }
      }
    }
  )pb";
  const v1::Policy merged = MergePolicy(&parent, *File("child.textproto", child));
  EXPECT_EQ(merged.rules(0).amount_case(), v1::Rule::kFlat);
  EXPECT_EQ(merged.rules(0).flat().amount_fen(), 700);
  for (const v1::ValueOrigin& origin : merged.value_origins()) {
    EXPECT_EQ(origin.field().rfind("rules[A].percentage", 0), std::string::npos) << origin.field();
  }
  EXPECT_EQ(Origins(merged).at("rules[A].flat"), At("child.textproto", child, "flat {"));
}

TEST(MergePolicyTest, RemovedAndDeclaredAgainReplacesTheEntryWholeAtTheEnd) {
  const v1::Policy parent = Root("parent.textproto", kParent);
  const v1::Policy merged = MergePolicy(&parent, *File("child.textproto", R"pb(
    id: "child"
    inherits: "parent"
    removed_rule_ids: "A"
    rules { id: "A" title: "child A" product_types: "digital.phone" }
  )pb"));
  EXPECT_THAT(RuleIds(merged), ElementsAre("B", "C", "A"));
  const v1::Rule& a = merged.rules(2);
  EXPECT_EQ(a.title(), "child A");
  EXPECT_FALSE(a.has_transaction_window());
  EXPECT_EQ(a.amount_case(), v1::Rule::AMOUNT_NOT_SET);
  for (const v1::ValueOrigin& origin : merged.value_origins()) {
    if (origin.field().rfind("rules[A]", 0) == 0) {
      EXPECT_EQ(origin.file(), "child.textproto") << origin.field();
    }
  }
}

TEST(MergePolicyTest, RootPolicyIsItselfWithoutRemovalsOrOutputFields) {
  const v1::Policy merged = Root("root.textproto", std::string(kParent) + R"pb(
    removed_rule_ids: "X"
    removed_quota_ids: "Y"
    removed_budget_ids: "Z"
  )pb");
  v1::Policy expected;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kParent, &expected));
  *expected.mutable_value_origins() = merged.value_origins();
  EXPECT_EQ(merged.DebugString(), expected.DebugString());
}

TEST(MergePolicyTest, ValueOriginsNameTheFileAndLineOfEveryValue) {
  const v1::Policy parent = Root("parent.textproto", kParent);
  const std::string child_text = R"pb(
    id: "child"
    inherits: "parent"
    rules {
      id: "A"
      claim_window {
        first_day: "2025-01-11"
        last_day: "2026-01-10"
        ref { document: "C" }
      }
    }
  )pb";
  const v1::Policy child = MergePolicy(&parent, *File("child.textproto", child_text));
  const v1::Policy grandchild =
      MergePolicy(&child, *File("grandchild.textproto", "id: \"grandchild\"\ninherits: \"child\"\n"));
  const auto origins = Origins(grandchild);
  EXPECT_EQ(origins.at("id"), "grandchild.textproto:1");
  EXPECT_EQ(origins.at("inherits"), "grandchild.textproto:2");
  EXPECT_FALSE(origins.contains("title"));  // the grandchild has none: an empty title was set by no one
  const std::string parent_text = kParent;
  EXPECT_EQ(origins.at("programme"), At("parent.textproto", parent_text, "programme:"));
  EXPECT_EQ(origins.at("hold"), At("parent.textproto", parent_text, "hold {"));
  EXPECT_EQ(origins.at("rules[A].claim_window"), At("child.textproto", child_text, "claim_window {"));
  EXPECT_EQ(origins.at("rules[A].product_types"), At("parent.textproto", parent_text, "product_types:"));
  EXPECT_EQ(origins.at("rules[A].eligibility.max_price"), At("parent.textproto", parent_text, "max_price {"));
  EXPECT_EQ(origins.at("rules[A].percentage.grade_rates"),
            At("parent.textproto", parent_text, "grade_rates {"));
  EXPECT_EQ(origins.at("rules[A].percentage.cap"), At("parent.textproto", parent_text, "cap {"));
  EXPECT_EQ(origins.at("quotas[q1].max_units"), At("parent.textproto", parent_text, "max_units: 3"));
  EXPECT_EQ(origins.at("budgets[b1].total_fen"), At("parent.textproto", parent_text, "total_fen: 100"));
  for (const auto& [field, where] : origins) EXPECT_FALSE(absl::EndsWith(where, ":0")) << field;

  // Every value the merged policy holds has an origin, and every origin names a value it holds.
  std::map<std::string, std::string> unexplained;
  ForEachPolicyValue(grandchild, [&](const PolicyValue& value) {
    const auto& reflection = *value.holder->GetReflection();
    const bool present = value.field->is_repeated() ? reflection.FieldSize(*value.holder, value.field) > 0
                                                    : reflection.HasField(*value.holder, value.field);
    if (present && !origins.contains(value.path)) unexplained[value.path] = "no origin";
  });
  EXPECT_THAT(unexplained, IsEmpty());
  for (const auto& [field, where] : origins) {
    bool found = false;
    ForEachPolicyValue(grandchild, [&, f = field](const PolicyValue& value) { found |= value.path == f; });
    EXPECT_TRUE(found) << field << " (" << where << ") is not a value of the merged policy";
  }
}

}  // namespace
}  // namespace tradein::policy
