#include "services/pricing/reason.h"

#include <array>

namespace tradein::pricing {
namespace {

constexpr std::array<absl::string_view, static_cast<size_t>(ReasonCode::kCount)> kNames = {
    "NOT_COVERED",
    "OUTSIDE_PROGRAMME_WINDOW",
    "GRADE_NOT_ELIGIBLE",
    "PRICE_ABOVE_CEILING",
    "PRICE_BELOW_MINIMUM",
    "OLD_VEHICLE_TOO_NEW",
    "OWNERSHIP_TOO_RECENT",
    "DISPLACEMENT_TOO_LARGE",
    "NOT_IN_NEV_CATALOGUE",
    "FUEL_PAIRING_NOT_ALLOWED",
    "HOME_TOO_NEW",
    "OLD_BIKE_REQUIRED",
    "NEW_BIKE_NOT_CERTIFIED",
    "CLAIM_WINDOW_CLOSED",
    "QUOTA_EXHAUSTED",
    "HOME_ALREADY_USED",
    "VEHICLE_ALREADY_USED",
    "AMOUNT_CAP_REACHED",
    "BUDGET_EXHAUSTED",
    "SERIAL_ALREADY_SUBSIDISED",
    "NEW_VEHICLE_ALREADY_SUBSIDISED",
};

}  // namespace

absl::string_view ReasonName(ReasonCode code) { return kNames[static_cast<size_t>(code)]; }

bool ReasonFromName(absl::string_view name, ReasonCode& code) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      code = static_cast<ReasonCode>(i);
      return true;
    }
  }
  return false;
}

}  // namespace tradein::pricing
