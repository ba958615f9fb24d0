// -----------------------------------------------------------------------------
// File: calculator.h
// -----------------------------------------------------------------------------
//
// The subsidy calculator: a pure, I/O-free function of (item, policy). It finds the rule that prices the item
// (the first rule of the policy matching its product type and, for cars, trade-in kind and new-car energy
// type), checks every eligibility condition — collecting every reason that fails, not just the first — and
// computes the per-unit amount exactly in integer fen:
//
//   percentage: rate(grade) × price, rounded as the policy says (floor to the fen as shipped), then capped;
//   flat:       the rule's amount;
//   tiers:      the amount of the highest tier whose lower bound ≤ price.
//
// The line's amount is unit amount × quantity (decision D6: caps apply per unit). Quotas, budgets and
// cumulative caps are not the calculator's business: the quota ledger applies them to its result.
//
// Cost: no allocation, no lock; a few hundred instructions per item (tools/benchmarks/pricing_benchmark.cc).
// Thread safety: pure function.
#ifndef TRADEIN_SERVICES_PRICING_CALCULATOR_H_
#define TRADEIN_SERVICES_PRICING_CALCULATOR_H_

#include <cstdint>

#include "services/policy/compiled_policy.h"
#include "services/pricing/pricing_item.h"
#include "services/pricing/reason.h"

namespace tradein::pricing {

struct ItemPrice {
  const policy::CompiledRule* rule = nullptr;  // nullptr: no rule covers the item (NOT_COVERED)
  ReasonSet reasons;                           // empty: eligible
  int32_t rate_bp = 0;                         // the rate applied (percentage rules)
  int64_t cap_fen = 0;                         // the rule's per-unit cap; 0 when none
  bool capped = false;                         // rate × price was above the cap
  int64_t uncapped_unit_fen = 0;               // rate × price, rounded, before the cap
  int64_t unit_subsidy_fen = 0;                // per unit; 0 unless eligible
  int64_t line_subsidy_fen = 0;                // unit × quantity; 0 unless eligible

  bool eligible() const { return reasons.empty(); }
};

// PriceItem
//
// What `item` gets under `policy`. An item is priced as of item.transaction_day: a day outside the policy's
// or the rule's transaction window gives OUTSIDE_PROGRAMME_WINDOW (a pinned policyId may be outside it).
// REQUIRES: item came from the request validator against the catalogue `policy` was compiled with.
ItemPrice PriceItem(const PricingItem& item, const policy::CompiledPolicy& policy);

}  // namespace tradein::pricing

#endif  // TRADEIN_SERVICES_PRICING_CALCULATOR_H_
