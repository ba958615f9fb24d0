#include "common/civil_date.h"

#include <optional>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tradein {
namespace {

TEST(ParseCivilDayTest, Table) {
  const struct {
    absl::string_view text;
    std::optional<absl::CivilDay> want;
  } cases[] = {
      {"2025-03-01", absl::CivilDay(2025, 3, 1)},
      {"2024-02-29", absl::CivilDay(2024, 2, 29)},
      {"2000-02-29", absl::CivilDay(2000, 2, 29)},
      {"2025-12-31", absl::CivilDay(2025, 12, 31)},
      {"1900-01-01", absl::CivilDay(1900, 1, 1)},
      {"2199-12-31", absl::CivilDay(2199, 12, 31)},
      {"2025-02-29", std::nullopt},  // not a leap year
      {"1900-02-29", std::nullopt},  // a century that is not a leap year
      {"2025-04-31", std::nullopt},
      {"2025-13-01", std::nullopt},
      {"2025-00-01", std::nullopt},
      {"2025-01-00", std::nullopt},
      {"2025-01-32", std::nullopt},
      {"1899-12-31", std::nullopt},
      {"2200-01-01", std::nullopt},
      {"2025-3-01", std::nullopt},
      {"2025-03-1", std::nullopt},
      {" 2025-03-01", std::nullopt},
      {"2025-03-01 ", std::nullopt},
      {"2025/03/01", std::nullopt},
      {"20250301", std::nullopt},
      {"2025-03-0a", std::nullopt},
      {"+025-03-01", std::nullopt},
      {"2025-+3-01", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(ParseCivilDay(c.text), c.want) << '"' << c.text << '"';
}

TEST(FormatCivilDayTest, RoundTrips) {
  for (const absl::string_view text : {"1900-01-01", "2024-02-29", "2025-03-01", "2199-12-31"}) {
    const std::optional<absl::CivilDay> day = ParseCivilDay(text);
    ASSERT_TRUE(day.has_value()) << text;
    EXPECT_EQ(FormatCivilDay(*day), text);
  }
}

TEST(ChinaCivilDayTest, ChangesAtChinaMidnight) {
  const absl::Time before = absl::FromCivil(absl::CivilSecond(2025, 2, 28, 15, 59, 59), absl::UTCTimeZone());
  const absl::Time midnight = absl::FromCivil(absl::CivilSecond(2025, 2, 28, 16, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(ChinaCivilDay(before), absl::CivilDay(2025, 2, 28));
  EXPECT_EQ(ChinaCivilDay(midnight), absl::CivilDay(2025, 3, 1));
  EXPECT_EQ(StartOfChinaDay(absl::CivilDay(2025, 3, 1)), midnight);
}

TEST(ChinaTimeZoneTest, IsUtcPlusEightAllYear) {
  for (const absl::CivilSecond local :
       {absl::CivilSecond(2025, 1, 15, 12, 0, 0), absl::CivilSecond(2025, 7, 15, 12, 0, 0)}) {
    EXPECT_EQ(absl::FromCivil(local, ChinaTimeZone()),
              absl::FromCivil(local, absl::UTCTimeZone()) - absl::Hours(8));
  }
}

}  // namespace
}  // namespace tradein
