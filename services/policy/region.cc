#include "services/policy/region.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tradein::policy {

bool IsRegionCode(absl::string_view code) {
  return code.size() == 6 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsPointOfSaleRegion(absl::string_view code) {
  if (!IsRegionCode(code)) return false;
  const int province = (code[0] - '0') * 10 + (code[1] - '0');
  return province >= 11 && province <= 82;
}

RegionChain AncestorsOf(absl::string_view code) {
  RegionChain chain;
  auto add = [&chain](std::string c) {
    if (chain.size == 0 || chain.codes[static_cast<size_t>(chain.size - 1)] != c) {
      chain.codes[static_cast<size_t>(chain.size++)] = std::move(c);
    }
  };
  add(std::string(code));
  add(absl::StrCat(code.substr(0, 4), "00"));
  add(absl::StrCat(code.substr(0, 2), "0000"));
  add(std::string(kNationalRegion));
  return chain;
}

}  // namespace tradein::policy
