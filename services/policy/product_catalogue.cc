#include "services/policy/product_catalogue.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace tradein::policy {
namespace {

bool IsWellFormedCode(absl::string_view code) {
  const size_t dot = code.find('.');
  if (dot == absl::string_view::npos || dot == 0 || dot + 1 == code.size()) return false;
  for (char c : code) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return false;
  }
  return code.find('.', dot + 1) == absl::string_view::npos;
}

}  // namespace

absl::StatusOr<ProductCatalogue> ProductCatalogue::Build(const v1::ProductCatalogue& catalogue,
                                                         absl::string_view file) {
  ProductCatalogue out;
  if (catalogue.product_types().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": product_types: the catalogue is empty"));
  }
  if (catalogue.product_types_size() > std::numeric_limits<ProductTypeId>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": product_types: too many entries"));
  }
  for (int i = 0; i < catalogue.product_types_size(); ++i) {
    const v1::ProductType& type = catalogue.product_types(i);
    const std::string where = absl::StrCat(file, ": product_types[", i, "]");
    if (!IsWellFormedCode(type.code())) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".code: \"", type.code(), "\" is not a lowercase \"<kind>.<name>\" code"));
    }
    if (type.details() == v1::ProductType::DETAILS_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".details: must be NONE, VEHICLE, HOME or EBIKE"));
    }
    if (type.optional_details() == v1::ProductType::NONE ||
        (type.optional_details() != v1::ProductType::DETAILS_UNSPECIFIED &&
         type.optional_details() == type.details())) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".optional_details: must be VEHICLE, HOME or EBIKE and differ from details"));
    }
    const auto id = static_cast<ProductTypeId>(out.types_.size());
    if (!out.ids_.emplace(type.code(), id).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".code: duplicate code \"", type.code(), "\""));
    }
    out.types_.push_back(type);
  }
  return out;
}

std::optional<ProductTypeId> ProductCatalogue::Find(absl::string_view code) const {
  const auto it = ids_.find(code);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tradein::policy
