// -----------------------------------------------------------------------------
// File: product_names.h
// -----------------------------------------------------------------------------
//
// Chinese (and English) names of product types for tradeinctl's tables, from a product catalogue
// (tradein.v1.ProductCatalogue text format): the file given with --catalogue, else the copy of
// deploy/policies/product_types.textproto compiled into tradeinctl. The API returns codes only
// ("appliance.refrigerator"); this turns them into 冰箱(含冰柜). A code the catalogue does not know is shown
// as is.
//
// Thread safety: immutable after Load; safe to share.
#ifndef TRADEIN_TOOLS_TRADEINCTL_PRODUCT_NAMES_H_
#define TRADEIN_TOOLS_TRADEINCTL_PRODUCT_NAMES_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradein/v1/policy.pb.h"

namespace tradein::ctl {

class ProductNames {
 public:
  // Load
  //
  // From `file` when not empty, else the compiled-in catalogue. INVALID_ARGUMENT when the file cannot be
  // read or parsed.
  [[nodiscard]] static absl::StatusOr<ProductNames> Load(const std::string& file);

  // 冰箱(含冰柜) for "appliance.refrigerator"; the code itself when unknown or without a Chinese name.
  std::string Chinese(absl::string_view code) const;

  const v1::ProductCatalogue& catalogue() const { return catalogue_; }

 private:
  v1::ProductCatalogue catalogue_;
  absl::flat_hash_map<std::string, std::string> chinese_;
};

// The text of deploy/policies/product_types.textproto when tradeinctl was built.
extern const char kEmbeddedCatalogue[];

}  // namespace tradein::ctl

#endif  // TRADEIN_TOOLS_TRADEINCTL_PRODUCT_NAMES_H_
