// -----------------------------------------------------------------------------
// File: vin.h
// -----------------------------------------------------------------------------
//
// Validation and normalisation of a 17-character vehicle identification number (ISO 3779, GB 16735), as sent
// for the old car of a car trade-in. Position 9 must be the check digit (GB 16735 and 49 CFR 565): the
// weighted sum of the transliterated other 16 characters mod 11, with 10 written "X".
//
// The normalised form is upper case; that is the form "once per old vehicle" is keyed by. A VIN is not
// personal data on its own, so errors may name the offending position and character.
//
// Thread safety: pure functions.
//
// Errors: INVALID_ARGUMENT (common/status.h InvalidArgumentError) with one field violation whose reason is
// one of the stable codes VIN_LENGTH, VIN_CHARACTERS, VIN_CHECK_DIGIT, checked in that order.
#ifndef TRADEIN_SERVICES_IDENTITY_VIN_H_
#define TRADEIN_SERVICES_IDENTITY_VIN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradein::identity {

// NormalizeVin
//
// Returns `vin` upper-cased if it is exactly 17 characters (VIN_LENGTH; surrounding whitespace counts), every
// one an ASCII letter or digit other than I, O and Q in either case (VIN_CHARACTERS), and position 9 is the
// check digit of the others (VIN_CHECK_DIGIT). `field` is the JSON path named in the violation, e.g.
// "items[0].vehicle.oldVin".
[[nodiscard]] absl::StatusOr<std::string> NormalizeVin(absl::string_view vin, absl::string_view field);

}  // namespace tradein::identity

#endif  // TRADEIN_SERVICES_IDENTITY_VIN_H_
