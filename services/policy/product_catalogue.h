// -----------------------------------------------------------------------------
// File: product_catalogue.h
// -----------------------------------------------------------------------------
//
// The product types the service knows, read from product_types.textproto in the policy directory. Each code
// gets a dense ProductTypeId so the calculator indexes arrays instead of hashing strings; the only string
// lookup on the request path is Find(), once per item.
//
// Thread safety: immutable after construction; safe to share.
#ifndef TRADEIN_SERVICES_POLICY_PRODUCT_CATALOGUE_H_
#define TRADEIN_SERVICES_POLICY_PRODUCT_CATALOGUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradein/v1/policy.pb.h"

namespace tradein::policy {

using ProductTypeId = uint16_t;

class ProductCatalogue {
 public:
  // Build
  //
  // Indexes `catalogue`. Fails (INVALID_ARGUMENT naming `file` and the entry) on an empty or duplicate code,
  // a code that is not lowercase "<kind>.<name>", DETAILS_UNSPECIFIED, or optional_details that are NONE or
  // repeat `details`.
  [[nodiscard]] static absl::StatusOr<ProductCatalogue> Build(const v1::ProductCatalogue& catalogue,
                                                              absl::string_view file);

  // Find
  //
  // The id of `code`, or std::nullopt when the code is unknown.
  std::optional<ProductTypeId> Find(absl::string_view code) const;

  const v1::ProductType& Get(ProductTypeId id) const { return types_[id]; }
  size_t size() const { return types_.size(); }
  const std::vector<v1::ProductType>& types() const { return types_; }

 private:
  std::vector<v1::ProductType> types_;
  absl::flat_hash_map<std::string, ProductTypeId> ids_;
};

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_PRODUCT_CATALOGUE_H_
