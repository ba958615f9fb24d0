#include "services/identity/prc_id.h"

#include <algorithm>
#include <array>
#include <cstddef>

#include "common/status.h"

namespace tradein::identity {
namespace {

constexpr size_t kLength = 18;
constexpr size_t kBodyLength = 17;  // everything before the check character
constexpr size_t kBirthDateOffset = 6;

// GB/T 2260 province-level codes (省级行政区划代码) 11 .. 82.
constexpr std::array<int, 34> kProvinceCodes = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
                                                35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
                                                53, 54, 61, 62, 63, 64, 65, 71, 81, 82};

// ISO 7064 MOD 11-2 as GB 11643 writes it: weight 2^(17-i) mod 11 and the character for each remainder.
constexpr std::array<int, kBodyLength> kCheckWeights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr absl::string_view kCheckCharacters = "10X98765432";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

absl::Status Violation(absl::string_view field, absl::string_view reason, absl::string_view description) {
  return InvalidArgumentError({{std::string(field), std::string(reason), std::string(description)}});
}

// `count` ASCII digits at `text[pos]` as a number. REQUIRES: they are digits.
int DigitsValue(absl::string_view text, size_t pos, size_t count) {
  int value = 0;
  for (const char c : text.substr(pos, count)) value = value * 10 + (c - '0');
  return value;
}

bool IsProvinceCode(int code) {
  return std::find(kProvinceCodes.begin(), kProvinceCodes.end(), code) != kProvinceCodes.end();
}

bool IsBirthDateValid(absl::string_view id, absl::CivilDay today) {
  const int year = DigitsValue(id, kBirthDateOffset, 4);
  const int month = DigitsValue(id, kBirthDateOffset + 4, 2);
  const int day = DigitsValue(id, kBirthDateOffset + 6, 2);
  if (year < 1900 || month < 1 || day < 1) return false;
  const absl::CivilDay birth(year, month, day);
  // CivilDay normalises out-of-range fields (02-30 → 03-02); a real day survives unchanged.
  return birth.month() == month && birth.day() == day && birth <= today;
}

char CheckCharacter(absl::string_view body) {
  int sum = 0;
  for (size_t i = 0; i < kBodyLength; ++i) sum += (body[i] - '0') * kCheckWeights[i];
  return kCheckCharacters[static_cast<size_t>(sum % 11)];
}

}  // namespace

absl::StatusOr<std::string> NormalizePrcId(absl::string_view id, absl::CivilDay today,
                                           absl::string_view field) {
  if (id.size() != kLength) {
    return Violation(field, "ID_NUMBER_LENGTH", "must be 18 characters");
  }
  const absl::string_view body = id.substr(0, kBodyLength);
  const char check = id.back() == 'x' ? 'X' : id.back();
  if (!std::all_of(body.begin(), body.end(), IsDigit) || !(IsDigit(check) || check == 'X')) {
    return Violation(field, "ID_NUMBER_FORMAT", "must be 17 digits followed by a digit or X");
  }
  if (!IsProvinceCode(DigitsValue(id, 0, 2))) {
    return Violation(field, "ID_NUMBER_REGION", "the first two digits are not a province code");
  }
  if (!IsBirthDateValid(id, today)) {
    return Violation(field, "ID_NUMBER_BIRTH_DATE",
                     "characters 7-14 are not a birth date between 1900-01-01 and today");
  }
  if (CheckCharacter(body) != check) {
    return Violation(field, "ID_NUMBER_CHECK_DIGIT", "the check character does not match the other 17");
  }
  std::string normalised(id);
  normalised.back() = check;
  return normalised;
}

}  // namespace tradein::identity
