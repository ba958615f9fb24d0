#include "tools/tradeinctl/product_names.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"

namespace tradein::ctl {

absl::StatusOr<ProductNames> ProductNames::Load(const std::string& file) {
  std::string text = kEmbeddedCatalogue;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("--catalogue: cannot read ", file));
    std::ostringstream contents;
    contents << in.rdbuf();
    text = contents.str();
  }
  ProductNames names;
  // Unknown fields are allowed: a newer catalogue file still gives its names to an older tradeinctl.
  google::protobuf::TextFormat::Parser parser;
  parser.AllowUnknownField(true);
  if (!parser.ParseFromString(text, &names.catalogue_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--catalogue: ", file.empty() ? "the built-in catalogue" : file,
                     " is not a tradein.v1.ProductCatalogue"));
  }
  for (const v1::ProductType& type : names.catalogue_.product_types()) {
    if (!type.name_zh().empty()) names.chinese_[type.code()] = type.name_zh();
  }
  return names;
}

std::string ProductNames::Chinese(absl::string_view code) const {
  const auto it = chinese_.find(code);
  return it == chinese_.end() ? std::string(code) : it->second;
}

}  // namespace tradein::ctl
