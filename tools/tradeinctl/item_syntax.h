// -----------------------------------------------------------------------------
// File: item_syntax.h
// -----------------------------------------------------------------------------
//
// tradeinctl's compact syntax for basket lines and the other repeated arguments, parsed into the API's
// messages:
//
//   --item TYPE:PRICE[:KEY=VALUE,KEY=VALUE...]      PRICE in yuan ("5000", "4999.99"), exact to the fen
//   --item appliance.refrigerator:5000:grade=1
//   --item digital.phone:3000:qty=2,line=a
//   --item
//   car.new:150000:kind=REPLACEMENT,energy=NEV,old_fuel=GASOLINE,registered=2015-03-01,owned=2020-01-01,vin=LSVAU218XN2183294,new_vin=LFV3A23C4P3000001
//   --item renovation.old_home:50000:property=浙(2015)瑞安市不动产权第0001234号,completed=2015-06-30
//   --item ebike.new:3000:surrendered,certified
//   --item '{"productType":"appliance.television","priceFen":"300000","energyGrade":2}'   (proto JSON)
//
// Keys: line, qty (quantity), grade (energy label), water (water label); cars: kind, energy (new car
// NEV|FUEL), ml (displacement), catalogue (in the NEV catalogue), old_fuel, registered, owned, vin (the old
// car's), new_vin (the new car's: claims under the 2025 and 2026 policies need it); homes:
// property, completed; e-bikes: surrendered, certified. A bare key means true. Enum values are
// case-insensitive. Lines without `line=` are numbered "1", "2", ... in order.
//
// Thread safety: pure functions.
// Errors: INVALID_ARGUMENT naming the argument and what is wrong; nothing is sent to the server.
#ifndef TRADEIN_TOOLS_TRADEINCTL_ITEM_SYNTAX_H_
#define TRADEIN_TOOLS_TRADEINCTL_ITEM_SYNTAX_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/items.pb.h"

namespace tradein::ctl {

// ParseYuan
//
// "5000" → 500000, "4999.9" → 499990, "0.01" → 1, "1,000.50" → 100050. At most two decimals, no sign.
[[nodiscard]] absl::StatusOr<int64_t> ParseYuan(absl::string_view text);

// ParseItem
//
// One --item argument; `position` (1-based) is its default line id.
[[nodiscard]] absl::StatusOr<v1::Item> ParseItem(absl::string_view spec, int position);

// ParseLineSerials
//
// --serials LINE:SN1,SN2,...  (ConfirmClaim: one serial number or IMEI per unit of the line)
[[nodiscard]] absl::StatusOr<v1::LineSerials> ParseLineSerials(absl::string_view spec);

// ParseRefundLine
//
// --line LINE[:QUANTITY]  (RefundClaim: without a quantity, every remaining unit of the line)
[[nodiscard]] absl::StatusOr<v1::RefundLine> ParseRefundLine(absl::string_view spec);

}  // namespace tradein::ctl

#endif  // TRADEIN_TOOLS_TRADEINCTL_ITEM_SYNTAX_H_
