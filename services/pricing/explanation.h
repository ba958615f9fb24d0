// -----------------------------------------------------------------------------
// File: explanation.h
// -----------------------------------------------------------------------------
//
// The human side of a price: the one-line explanation ("5000.00 × 20% = 1000.00; cap 2000.00 not reached")
// in English and Chinese, and each reason's English and Chinese message (the Chinese, and the ledger reasons'
// English, from the reason catalogue common/reasons.h). Rendered only when a reply is built, never while
// pricing, so the calculator stays allocation-free.
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_PRICING_EXPLANATION_H_
#define TRADEIN_SERVICES_PRICING_EXPLANATION_H_

#include <string>

#include "services/policy/compiled_policy.h"
#include "services/pricing/calculator.h"
#include "services/pricing/pricing_item.h"
#include "services/pricing/reason.h"

namespace tradein::pricing {

struct ReasonText {
  std::string message;     // English
  std::string message_zh;  // Chinese, for the till's screen
};

// ExplainPrice
//
// One line: how the unit amount came about, then the line total for several units, or why the item is not
// eligible.
std::string ExplainPrice(const PricingItem& item, const ItemPrice& price,
                         const policy::CompiledPolicy& policy);

// ExplainPriceZh
//
// ExplainPrice in Chinese ("5000.00 × 20% = 1000.00；单件上限 2000.00 未达到"), for the till's receipt.
std::string ExplainPriceZh(const PricingItem& item, const ItemPrice& price,
                           const policy::CompiledPolicy& policy);

// DescribeReason
//
// The messages for `code` on this item. Ledger reasons (QUOTA_EXHAUSTED, …) get DescribeLedgerReason's text.
ReasonText DescribeReason(ReasonCode code, const PricingItem& item, const ItemPrice& price,
                          const policy::CompiledPolicy& policy);

// DescribeLedgerReason
//
// The messages of a reason the claim service or quota ledger sets (CLAIM_WINDOW_CLOSED ..
// SERIAL_ALREADY_SUBSIDISED).
ReasonText DescribeLedgerReason(ReasonCode code);

}  // namespace tradein::pricing

#endif  // TRADEIN_SERVICES_PRICING_EXPLANATION_H_
