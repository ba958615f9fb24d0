// -----------------------------------------------------------------------------
// File: region.h
// -----------------------------------------------------------------------------
//
// GB/T 2260 region codes and their parents. A six-digit code PPCCDD is a county (DD ≠ 00), a prefecture
// city (CC ≠ 00, DD = 00) or a province (PP0000); "000000" is the nation. Policies inherit up this chain:
// 330381 (Rui'an) → 330300 (Wenzhou) → 330000 (Zhejiang) → 000000.
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_POLICY_REGION_H_
#define TRADEIN_SERVICES_POLICY_REGION_H_

#include <array>
#include <string>

#include "absl/strings/string_view.h"

namespace tradein::policy {

inline constexpr absl::string_view kNationalRegion = "000000";

// Six ASCII digits (the national "000000" included).
bool IsRegionCode(absl::string_view code);

// A code a point of sale can be in: six digits, province part 11 .. 82.
bool IsPointOfSaleRegion(absl::string_view code);

// The region itself, then its ancestors, ending with "000000"; duplicates dropped (330000 → 330000, 000000).
// REQUIRES: IsRegionCode(code).
struct RegionChain {
  std::array<std::string, 4> codes;
  int size = 0;
};
RegionChain AncestorsOf(absl::string_view code);

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_REGION_H_
