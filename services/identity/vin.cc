#include "services/identity/vin.h"

#include <array>
#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace tradein::identity {
namespace {

constexpr size_t kLength = 17;
constexpr size_t kCheckPosition = 8;  // 0-based; "position 9" in the standard
constexpr std::array<int, kLength> kWeights = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};

absl::Status Violation(absl::string_view field, absl::string_view reason, absl::string_view description) {
  return InvalidArgumentError({{std::string(field), std::string(reason), std::string(description)}});
}

// The ISO 3779 transliteration of an upper-case VIN character, or -1 for one a VIN may not contain.
int Transliterate(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'H') return c - 'A' + 1;
  if (c >= 'J' && c <= 'N') return c - 'J' + 1;
  if (c == 'P') return 7;
  if (c == 'R') return 9;
  if (c >= 'S' && c <= 'Z') return c - 'S' + 2;
  return -1;  // I, O, Q and everything that is not a letter or digit
}

}  // namespace

absl::StatusOr<std::string> NormalizeVin(absl::string_view vin, absl::string_view field) {
  if (vin.size() != kLength) {
    return Violation(field, "VIN_LENGTH", "must be 17 characters");
  }
  std::string normalised = absl::AsciiStrToUpper(vin);
  int sum = 0;
  for (size_t i = 0; i < kLength; ++i) {
    const int value = Transliterate(normalised[i]);
    if (value < 0) {
      return Violation(field, "VIN_CHARACTERS",
                       absl::StrFormat("position %d is not a digit or a letter other than I, O, Q", i + 1));
    }
    sum += value * kWeights[i];
  }
  const int remainder = sum % 11;
  const char expected = remainder == 10 ? 'X' : static_cast<char>('0' + remainder);
  if (normalised[kCheckPosition] != expected) {
    return Violation(field, "VIN_CHECK_DIGIT",
                     "position 9 is not the check digit of the other 16 characters");
  }
  return normalised;
}

}  // namespace tradein::identity
