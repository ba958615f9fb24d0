// tradeinctl's text formatting: yuan with thousands separators, China Standard Time, CJK-aware tables.
#include "tools/tradeinctl/format.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tradein::ctl {
namespace {

TEST(FormatYuanGroupedTest, GroupsThousandsAndKeepsTwoDecimals) {
  const struct {
    int64_t fen;
    const char* text;
  } cases[] = {
      {0, "0.00"},
      {1, "0.01"},
      {10, "0.10"},
      {100, "1.00"},
      {99999, "999.99"},
      {100000, "1,000.00"},
      {44985, "449.85"},
      {200000000, "2,000,000.00"},
      {123456789012, "1,234,567,890.12"},
      {-1, "-0.01"},
      {-100000, "-1,000.00"},
      {std::numeric_limits<int64_t>::max(), "92,233,720,368,547,758.07"},
      {std::numeric_limits<int64_t>::min(), "-92,233,720,368,547,758.08"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatYuanGrouped(c.fen), c.text) << c.fen;
}

TEST(FormatInstantCstTest, ShowsChinaStandardTime) {
  google::protobuf::Timestamp t;
  t.set_seconds(1748743200);  // 2025-06-01T02:00:00Z
  EXPECT_EQ(FormatInstantCst(t), "2025-06-01 10:00:00 +08:00");
  EXPECT_EQ(FormatInstantCst(google::protobuf::Timestamp()), "-");
}

TEST(DisplayWidthTest, CountsChineseAsTwoColumns) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("冰箱"), 4u);
  EXPECT_EQ(DisplayWidth("冰箱(含冰柜)"), 12u);
  EXPECT_EQ(DisplayWidth("手表（手环）"), 12u);  // full-width parentheses
  EXPECT_EQ(DisplayWidth("5000.00 × 20%"), 13u);
}

TEST(TableTest, AlignsColumnsByDisplayWidth) {
  Table table({{"LINE", Align::kLeft}, {"PRODUCT", Align::kLeft}, {"SUBSIDY", Align::kRight}});
  table.AddRow({"1", "冰箱(含冰柜)", "1,000.00"});
  table.AddNote("5000.00 × 20% = 1000.00");
  table.AddRow({"22", "TV", "0.00"});
  const std::vector<std::string> lines = absl::StrSplit(table.Render(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);
  // PRODUCT is as wide as 冰箱(含冰柜): 12 terminal columns, though 18 bytes.
  EXPECT_EQ(lines[0], "LINE  PRODUCT        SUBSIDY");
  EXPECT_EQ(lines[1], "1     冰箱(含冰柜)  1,000.00");
  EXPECT_EQ(lines[2], "      5000.00 × 20% = 1000.00");
  EXPECT_EQ(lines[3], "22    TV                0.00");
  // Every row ends at the same terminal column: right-aligned amounts line up under the header.
  EXPECT_EQ(DisplayWidth(lines[0]), DisplayWidth(lines[1]));
  EXPECT_EQ(DisplayWidth(lines[1]), DisplayWidth(lines[3]));
}

TEST(KeyValuesTest, AlignsValuesAndSkipsEmptyOnes) {
  EXPECT_EQ(KeyValues({{"Claim", "c-1"}, {"Invoice", ""}, {"Buyer ref", "3704"}}),
            "Claim      c-1\nBuyer ref  3704\n");
}

}  // namespace
}  // namespace tradein::ctl
