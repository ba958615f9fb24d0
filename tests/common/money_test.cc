#include "common/money.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace tradein {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

constexpr RoundingRule kFenFloor{RoundingRule::Unit::kFen, RoundingRule::Mode::kFloor};
constexpr RoundingRule kFenHalfUp{RoundingRule::Unit::kFen, RoundingRule::Mode::kHalfUp};
constexpr RoundingRule kYuanFloor{RoundingRule::Unit::kYuan, RoundingRule::Mode::kFloor};
constexpr RoundingRule kYuanHalfUp{RoundingRule::Unit::kYuan, RoundingRule::Mode::kHalfUp};

struct PercentOfCase {
  int64_t price_fen;
  int32_t rate_bp;
  RoundingRule rounding;
  std::optional<int64_t> want;
};

TEST(PercentOfTest, Table) {
  const PercentOfCase cases[] = {
      // 199999 × 15% = 29999.85 fen = 299.9985 yuan.
      {199999, 1500, kFenFloor, 29999},
      {199999, 1500, kFenHalfUp, 30000},
      {199999, 1500, kYuanFloor, 29900},
      {199999, 1500, kYuanHalfUp, 30000},
      // Exact results are the same under every rule.
      {500000, 2000, kFenFloor, 100000},
      {500000, 2000, kFenHalfUp, 100000},
      {500000, 2000, kYuanFloor, 100000},
      {500000, 2000, kYuanHalfUp, 100000},
      // Exactly half a fen rounds up; just under half does not.
      {5, 5000, kFenFloor, 2},
      {5, 5000, kFenHalfUp, 3},
      {1, 4999, kFenHalfUp, 0},
      // Half a yuan: 12350 fen is 123.50 yuan.
      {12350, kFullRateBp, kYuanFloor, 12300},
      {12350, kFullRateBp, kYuanHalfUp, 12400},
      {12349, kFullRateBp, kYuanHalfUp, 12300},
      // 100% and 0%.
      {12345, kFullRateBp, kFenFloor, 12345},
      {12345, kFullRateBp, kFenHalfUp, 12345},
      {12345, 0, kFenHalfUp, 0},
      {12345, 0, kYuanHalfUp, 0},
      {0, 1500, kYuanHalfUp, 0},
      // The largest price whose product with 100% fits, and the smallest that does not.
      {kMax / kFullRateBp, kFullRateBp, kFenFloor, kMax / kFullRateBp},
      {kMax / kFullRateBp + 1, kFullRateBp, kFenFloor, std::nullopt},
      // INT64_MAX × 1 bp = 922337203685477.5807 fen.
      {kMax, 1, kFenFloor, 922337203685477},
      {kMax, 1, kFenHalfUp, 922337203685478},
      {kMax, 1, kYuanFloor, 922337203685400},
      {kMax, 1, kYuanHalfUp, 922337203685500},
      {kMax, 2, kFenFloor, std::nullopt},
      {kMax, kFullRateBp, kYuanHalfUp, std::nullopt},
  };
  for (const PercentOfCase& c : cases) {
    SCOPED_TRACE(testing::Message() << c.price_fen << " fen × " << c.rate_bp << " bp, unit "
                                    << static_cast<int>(c.rounding.unit) << ", mode "
                                    << static_cast<int>(c.rounding.mode));
    EXPECT_EQ(PercentOf(c.price_fen, c.rate_bp, c.rounding), c.want);
  }
}

TEST(CheckedMulTest, DetectsOverflow) {
  EXPECT_EQ(CheckedMul(3, -4), -12);
  EXPECT_EQ(CheckedMul(kMax, 1), kMax);
  EXPECT_EQ(CheckedMul(kMax, 2), std::nullopt);
  EXPECT_EQ(CheckedMul(kMin, -1), std::nullopt);
  EXPECT_EQ(CheckedMul(kMin, 1), kMin);
}

TEST(FormatYuanTest, Table) {
  const struct {
    int64_t fen;
    std::string want;
  } cases[] = {
      {0, "0.00"},
      {1, "0.01"},
      {100, "1.00"},
      {105, "1.05"},
      {500000, "5000.00"},
      {-1, "-0.01"},
      {-100, "-1.00"},
      {-123456, "-1234.56"},
      {kMax, "92233720368547758.07"},
      {kMin, "-92233720368547758.08"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatYuan(c.fen), c.want) << c.fen;
}

TEST(FormatRateTest, Table) {
  const struct {
    int32_t bp;
    std::string want;
  } cases[] = {
      {2000, "20%"},  {1250, "12.5%"}, {1205, "12.05%"},
      {1, "0.01%"},   {10, "0.1%"},    {99, "0.99%"},
      {0, "0%"},      {10000, "100%"}, {-150, "-1.5%"},
      {-50, "-0.5%"}, {-1, "-0.01%"},  {std::numeric_limits<int32_t>::min(), "-21474836.48%"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatRate(c.bp), c.want) << c.bp;
}

}  // namespace
}  // namespace tradein
