// -----------------------------------------------------------------------------
// File: imei.h
// -----------------------------------------------------------------------------
//
// The form of a mobile device's IMEI (3GPP TS 23.003): 15 decimal digits, the last the Luhn check digit of
// the first 14. Checked on ConfirmClaim's serial numbers of lines whose product type says so in the product
// catalogue (ProductType.serial_format = IMEI), so a typing error is caught at the till, not at settlement.
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_IDENTITY_IMEI_H_
#define TRADEIN_SERVICES_IDENTITY_IMEI_H_

#include "absl/strings/string_view.h"

namespace tradein::identity {

// IsValidImei
//
// True for exactly 15 ASCII digits whose Luhn sum is a multiple of 10 (no spaces, dashes or IMEISV).
bool IsValidImei(absl::string_view imei);

}  // namespace tradein::identity

#endif  // TRADEIN_SERVICES_IDENTITY_IMEI_H_
