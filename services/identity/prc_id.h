// -----------------------------------------------------------------------------
// File: prc_id.h
// -----------------------------------------------------------------------------
//
// Validation and normalisation of the 18-character PRC resident identity number (GB 11643-1999):
//
//   RRRRRR YYYYMMDD SSS C
//   region birth    seq check (ISO 7064 MOD 11-2: a digit or "X")
//
// The normalised form is the only one the service hashes into a buyer key (identity/keyed_hash.h), so a
// lowercase check character "x" is normalised to "X"; nothing else is rewritten, and surrounding whitespace
// is an error rather than trimmed.
//
// The raw id is personal data: no error raised here repeats it, not even in part. Descriptions say what is
// wrong ("the check character does not match"), never what was sent.
//
// Thread safety: pure functions.
//
// Errors: INVALID_ARGUMENT (common/status.h InvalidArgumentError) with one field violation whose reason is
// one of the stable codes below, checked in this order: ID_NUMBER_LENGTH, ID_NUMBER_FORMAT,
// ID_NUMBER_REGION, ID_NUMBER_BIRTH_DATE, ID_NUMBER_CHECK_DIGIT.
#ifndef TRADEIN_SERVICES_IDENTITY_PRC_ID_H_
#define TRADEIN_SERVICES_IDENTITY_PRC_ID_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace tradein::identity {

inline constexpr absl::string_view kIdNumberField = "buyer.idNumber";

// NormalizePrcId
//
// Returns `id` with a lowercase check character upper-cased, if it is a plausible PRC resident identity
// number:
//   - exactly 18 characters (ID_NUMBER_LENGTH);
//   - 17 ASCII digits then a digit, "X" or "x" (ID_NUMBER_FORMAT);
//   - the first two digits one of the GB/T 2260 province-level codes 11 .. 82 (ID_NUMBER_REGION);
//   - characters 7-14 a real calendar day from 1900-01-01 to `today` inclusive (ID_NUMBER_BIRTH_DATE);
//   - the last character the ISO 7064 MOD 11-2 check character of the first 17 (ID_NUMBER_CHECK_DIGIT).
// `today` is the caller's China civil day (common/civil_date.h ChinaCivilDay of its Clock); this function
// never reads the clock. `field` is the JSON path named in the violation.
[[nodiscard]] absl::StatusOr<std::string> NormalizePrcId(absl::string_view id, absl::CivilDay today,
                                                         absl::string_view field = kIdNumberField);

}  // namespace tradein::identity

#endif  // TRADEIN_SERVICES_IDENTITY_PRC_ID_H_
