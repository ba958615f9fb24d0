#include "common/civil_date.h"

namespace tradein {
namespace {

constexpr int kMinYear = 1900;
constexpr int kMaxYear = 2199;

// Reads `count` ASCII digits at `text[pos]`; -1 if any is not a digit.
int ReadDigits(absl::string_view text, size_t pos, size_t count) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

std::optional<absl::CivilDay> ParseCivilDay(absl::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const int year = ReadDigits(text, 0, 4);
  const int month = ReadDigits(text, 5, 2);
  const int day = ReadDigits(text, 8, 2);
  if (year < kMinYear || year > kMaxYear || month < 1 || day < 1) return std::nullopt;
  const absl::CivilDay civil(year, month, day);
  // CivilDay normalises out-of-range fields (2025-02-30 → 2025-03-02); a real day survives unchanged.
  if (civil.month() != month || civil.day() != day) return std::nullopt;
  return civil;
}

std::string FormatCivilDay(absl::CivilDay day) {
  // By hand rather than StrFormat: reason messages format dates on the reply path.
  std::string out = "0000-00-00";
  auto put = [&out](size_t end, int64_t value, size_t digits) {
    for (size_t i = 0; i < digits; ++i, value /= 10) out[end - i] = static_cast<char>('0' + value % 10);
  };
  put(3, day.year(), 4);
  put(6, day.month(), 2);
  put(9, day.day(), 2);
  return out;
}

absl::TimeZone ChinaTimeZone() { return absl::FixedTimeZone(8 * 60 * 60); }

absl::CivilDay ChinaCivilDay(absl::Time t) { return absl::ToCivilDay(t, ChinaTimeZone()); }

absl::Time StartOfChinaDay(absl::CivilDay day) { return absl::FromCivil(day, ChinaTimeZone()); }

}  // namespace tradein
