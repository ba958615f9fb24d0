#include "services/identity/imei.h"

namespace tradein::identity {

bool IsValidImei(absl::string_view imei) {
  if (imei.size() != 15) return false;
  int sum = 0;
  for (size_t i = 0; i < imei.size(); ++i) {
    if (imei[i] < '0' || imei[i] > '9') return false;
    int digit = imei[i] - '0';
    // From the left, every second digit (the 2nd, 4th, ... 14th) is doubled; the check digit is not.
    if (i % 2 == 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 == 0;
}

}  // namespace tradein::identity
