// Fuzzes the identity normalisers (services/identity): NormalizePrcId (prc_id.h) and NormalizeVin (vin.h).
//
// Input: the first byte chooses the normaliser — 'p' the PRC id, 'v' the VIN, anything else both — and the
// rest is the id as a client sent it.
//
// Properties, besides "no sanitizer report": an accepted id comes back with the same length and characters
// except the case the header allows to change, and normalising it again changes nothing; a refused one is
// INVALID_ARGUMENT with exactly one violation on the given field, with one of the documented reasons; a PRC
// id (personal data) is never repeated in an error.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/status.h"
#include "services/identity/prc_id.h"
#include "services/identity/vin.h"
#include "tests/fuzz/fuzz_support.h"

namespace tradein::fuzz {
namespace {

void CheckRefusal(const absl::Status& status, absl::string_view field,
                  std::vector<absl::string_view> reasons) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument, status.ToString());
  const std::vector<FieldViolation> violations = FieldViolations(status);
  FUZZ_CHECK(violations.size() == 1 && violations[0].field == field, status.ToString());
  FUZZ_CHECK(std::find(reasons.begin(), reasons.end(), violations[0].reason) != reasons.end(),
             violations[0].reason);
}

// The runs of at least `min_length` consecutive ASCII digits in `text`.
std::vector<absl::string_view> DigitRuns(absl::string_view text, size_t min_length) {
  std::vector<absl::string_view> runs;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) continue;
    if (i - start >= min_length) runs.push_back(text.substr(start, i - start));
    start = i + 1;
  }
  return runs;
}

void PrcId(absl::string_view id) {
  constexpr absl::string_view kField = "buyer.idNumber";
  for (const absl::CivilDay today : {absl::CivilDay(2025, 6, 1), absl::CivilDay(1900, 1, 1)}) {
    const absl::StatusOr<std::string> normal = identity::NormalizePrcId(id, today, kField);
    if (!normal.ok()) {
      CheckRefusal(normal.status(), kField,
                   {"ID_NUMBER_LENGTH", "ID_NUMBER_FORMAT", "ID_NUMBER_REGION", "ID_NUMBER_BIRTH_DATE",
                    "ID_NUMBER_CHECK_DIGIT"});
      // What identifies a person is the digits: no run of 8 of them may be repeated (the messages' own fixed
      // text has at most 4 digits in a row, e.g. "1900-01-01").
      for (const absl::string_view run : DigitRuns(id, 8)) {
        FUZZ_CHECK(!absl::StrContains(normal.status().ToString(), run), "an error repeats the id");
      }
      continue;
    }
    FUZZ_CHECK(id.size() == 18 && normal->size() == 18 && normal->substr(0, 17) == id.substr(0, 17), *normal);
    FUZZ_CHECK((*normal)[17] == absl::ascii_toupper(static_cast<unsigned char>(id[17])), *normal);
    const absl::StatusOr<std::string> again = identity::NormalizePrcId(*normal, today, kField);
    FUZZ_CHECK(again.ok() && *again == *normal, *normal);
  }
}

void Vin(absl::string_view vin) {
  constexpr absl::string_view kField = "items[0].vehicle.oldVin";
  const absl::StatusOr<std::string> normal = identity::NormalizeVin(vin, kField);
  if (!normal.ok()) {
    CheckRefusal(normal.status(), kField, {"VIN_LENGTH", "VIN_CHARACTERS", "VIN_CHECK_DIGIT"});
    return;
  }
  FUZZ_CHECK(*normal == absl::AsciiStrToUpper(vin) && normal->size() == 17, *normal);
  const absl::StatusOr<std::string> again = identity::NormalizeVin(*normal, kField);
  FUZZ_CHECK(again.ok() && *again == *normal, *normal);
}

}  // namespace
}  // namespace tradein::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view id(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] != 'v') tradein::fuzz::PrcId(id);
  if (data[0] != 'p') tradein::fuzz::Vin(id);
  return 0;
}
