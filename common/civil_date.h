// -----------------------------------------------------------------------------
// File: civil_date.h
// -----------------------------------------------------------------------------
//
// Civil dates ("YYYY-MM-DD") in China Standard Time (UTC+8, no daylight saving), as used by the API and the
// policy files, and the one time zone the service reasons in.
//
// Thread safety: every function here is pure.
#ifndef TRADEIN_COMMON_CIVIL_DATE_H_
#define TRADEIN_COMMON_CIVIL_DATE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace tradein {

// ParseCivilDay
//
// Parses exactly "YYYY-MM-DD" (four-digit year 1900..2199, a real calendar day: 2025-02-29 is refused).
// Returns std::nullopt for anything else, including surrounding spaces.
[[nodiscard]] std::optional<absl::CivilDay> ParseCivilDay(absl::string_view text);

// FormatCivilDay
//
// "2025-03-01".
std::string FormatCivilDay(absl::CivilDay day);

// ChinaTimeZone
//
// Fixed UTC+8: needs no tzdata.
absl::TimeZone ChinaTimeZone();

// ChinaCivilDay
//
// The civil day in China at instant `t`.
absl::CivilDay ChinaCivilDay(absl::Time t);

// StartOfChinaDay
//
// 00:00 China time of `day`, as an instant.
absl::Time StartOfChinaDay(absl::CivilDay day);

}  // namespace tradein

#endif  // TRADEIN_COMMON_CIVIL_DATE_H_
