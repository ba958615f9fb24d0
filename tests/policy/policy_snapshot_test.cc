#include "services/policy/policy_snapshot.h"

#include <string>

#include "common/civil_date.h"
#include "gtest/gtest.h"
#include "tests/policy/policy_test_util.h"

namespace tradein::policy {
namespace {

absl::CivilDay Day(const char* text) {
  const std::optional<absl::CivilDay> day = ParseCivilDay(text);
  EXPECT_TRUE(day.has_value()) << text;
  return day.value_or(absl::CivilDay());
}

// D5: the region chain, then the transaction date.
TEST(PolicySnapshotTest, SelectByRegionAndDate) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const struct {
    const char* region;
    const char* day;
    const char* want;  // nullptr: no policy
  } cases[] = {
      {"330381", "2025-03-01", "ra-2025"},  // Rui'an has its own 2025 file
      {"330381", "2025-01-01", "ra-2025"},
      {"330381", "2025-12-31", "ra-2025"},
      {"330381", "2026-01-01", "wz-2026"},  // no Rui'an 2026 file: Wenzhou's
      {"330381", "2026-12-31", "wz-2026"},
      {"330300", "2025-03-01", "zj-2025"},  // Wenzhou city has no 2025 file: Zhejiang's
      {"330300", "2025-12-31", "zj-2025"},
      {"330300", "2026-01-01", "wz-2026"},
      {"330100", "2025-03-01", "zj-2025"},  // Hangzhou
      {"330102", "2025-03-01", "zj-2025"},  // a Hangzhou district
      {"330100", "2026-03-01", "cn-2026"},  // no Zhejiang 2026 file: national
      {"330000", "2025-03-01", "zj-2025"},
      {"330000", "2026-03-01", "cn-2026"},
      {"110000", "2025-03-01", "cn-2025"},  // outside Zhejiang
      {"110101", "2025-12-31", "cn-2025"},
      {"110000", "2026-01-01", "cn-2026"},
      {"440300", "2026-06-01", "cn-2026"},
      {"000000", "2025-06-01", "cn-2025"},
      {"330381", "2024-12-31", nullptr},  // before every programme
      {"330381", "2024-06-01", nullptr},
      {"110000", "2024-06-01", nullptr},
      {"330300", "2027-01-01", nullptr},  // after every programme
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.region) + " " + c.day);
    const CompiledPolicy* policy = snapshot->Select(c.region, Day(c.day));
    if (c.want == nullptr) {
      EXPECT_EQ(policy, nullptr) << policy->id();
    } else {
      ASSERT_NE(policy, nullptr);
      EXPECT_EQ(policy->id(), c.want);
    }
  }
}

TEST(PolicySnapshotTest, FindById) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  for (const char* id : {"cn-2025", "zj-2025", "ra-2025", "cn-2026", "wz-2026"}) {
    const CompiledPolicy* policy = snapshot->FindById(id);
    ASSERT_NE(policy, nullptr) << id;
    EXPECT_EQ(policy->id(), id);
  }
  EXPECT_EQ(snapshot->FindById("ra-2026"), nullptr);
  EXPECT_EQ(snapshot->FindById(""), nullptr);
  EXPECT_EQ(snapshot->FindById("RA-2025"), nullptr);
  EXPECT_EQ(snapshot->policies().size(), 5u);
}

TEST(PolicySnapshotTest, AppliesToRegion) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const struct {
    const char* policy;
    const char* region;
    bool want;
  } cases[] = {
      {"ra-2025", "330381", true},  {"ra-2025", "330300", false}, {"ra-2025", "330100", false},
      {"ra-2025", "110000", false}, {"zj-2025", "330381", true},  {"zj-2025", "330100", true},
      {"zj-2025", "330000", true},  {"zj-2025", "110000", false}, {"cn-2025", "330381", true},
      {"cn-2025", "110000", true},  {"wz-2026", "330381", true},  {"wz-2026", "330300", true},
      {"wz-2026", "330100", false}, {"wz-2026", "000000", false}, {"cn-2026", "440300", true},
  };
  for (const auto& c : cases) {
    const CompiledPolicy* policy = snapshot->FindById(c.policy);
    ASSERT_NE(policy, nullptr) << c.policy;
    EXPECT_EQ(PolicySnapshot::AppliesToRegion(*policy, c.region), c.want) << c.policy << " in " << c.region;
  }
}

TEST(PolicySnapshotTest, PoliciesAreSortedByRegionThenWindow) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  std::vector<std::string> ids;
  for (const auto& p : snapshot->policies()) ids.push_back(p->id());
  EXPECT_EQ(ids, (std::vector<std::string>{"cn-2025", "cn-2026", "zj-2025", "wz-2026", "ra-2025"}));
  EXPECT_EQ(snapshot->version().size(), 16u);
  EXPECT_EQ(snapshot->directory(), policy_test::ShippedPolicyDir());
}

}  // namespace
}  // namespace tradein::policy
