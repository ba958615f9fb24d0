// -----------------------------------------------------------------------------
// File: pricing_item.h
// -----------------------------------------------------------------------------
//
// One line of a basket as the calculator sees it: validated, with its product type resolved to an id and its
// dates parsed. Built from a tradein.v1.Item by the request validator (services/api); never from raw input.
//
// Thread safety: plain value.
#ifndef TRADEIN_SERVICES_PRICING_PRICING_ITEM_H_
#define TRADEIN_SERVICES_PRICING_PRICING_ITEM_H_

#include <cstdint>

#include "absl/time/civil_time.h"
#include "services/policy/product_catalogue.h"

namespace tradein::pricing {

struct VehicleFacts {
  int trade_in_kind = 0;    // tradein.v1.Vehicle.TradeInKind.Value
  int new_energy_type = 0;  // tradein.v1.Vehicle.NewEnergyType.Value
  int32_t new_displacement_ml = 0;
  bool new_in_nev_catalogue = false;
  int old_fuel_type = 0;  // tradein.v1.Vehicle.OldFuelType.Value
  absl::CivilDay old_registered_on;
  absl::CivilDay old_owned_since;
};

struct HomeFacts {
  absl::CivilDay completed_on;
};

struct EbikeFacts {
  bool old_bike_surrendered = false;
  bool new_bike_certified = false;
};

struct PricingItem {
  policy::ProductTypeId product_type = 0;
  int64_t price_fen = 0;  // per unit, > 0
  int32_t quantity = 1;   // ≥ 1
  // The better (lower, non-zero) of the energy and water label grades; 0 = no label.
  int32_t best_grade = 0;
  absl::CivilDay transaction_day;
  // Meaningful only for product types whose catalogue entry needs them (the validator guarantees presence).
  VehicleFacts vehicle;
  HomeFacts home;
  EbikeFacts ebike;
};

}  // namespace tradein::pricing

#endif  // TRADEIN_SERVICES_PRICING_PRICING_ITEM_H_
