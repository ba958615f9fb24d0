#include "services/api/claim_events.h"

#include "absl/strings/str_cat.h"

namespace tradein::api {
namespace {

bool IsLedgerRefusal(absl::string_view code) {
  return code == "QUOTA_EXHAUSTED" || code == "BUDGET_EXHAUSTED" || code == "AMOUNT_CAP_REACHED" ||
         code == "HOME_ALREADY_USED" || code == "VEHICLE_ALREADY_USED";
}

}  // namespace

ClaimEvents::ClaimEvents(MetricsRegistry& metrics, audit::AuditLog* audit, const Clock& clock)
    : metrics_(metrics), audit_(audit), clock_(clock) {}

Counter& ClaimEvents::Cached(absl::string_view name, absl::string_view help, LabelViews labels) {
  thread_local std::string key;  // keeps its capacity: no allocation once warm
  key.assign(name.data(), name.size());
  for (const auto& [label, value] : labels) absl::StrAppend(&key, "|", label, "=", value);
  {
    absl::ReaderMutexLock lock(&mu_);
    if (const auto it = counters_.find(key); it != counters_.end()) return *it->second;
  }
  MetricLabels owned;
  for (const auto& [label, value] : labels) owned.emplace_back(label, value);
  Counter& counter = metrics_.AddCounter(name, help, owned);
  absl::MutexLock lock(&mu_);
  counters_[key] = &counter;
  return counter;
}

Counter& ClaimEvents::ByType(absl::string_view name, absl::string_view help, absl::string_view product_type,
                             absl::string_view outcome) {
  if (outcome.empty()) return Cached(name, help, {{"product_type", product_type}});
  return Cached(name, help, {{"product_type", product_type}, {"outcome", outcome}});
}

void ClaimEvents::CountItems(absl::string_view name, absl::string_view help, const v1::Claim& claim) {
  for (const v1::ItemResult& item : claim.items()) {
    if (item.granted_quantity() > 0) ByType(name, help, item.product_type()).Increment();
  }
}

void ClaimEvents::Audit(absl::string_view event, const v1::Claim& claim, int64_t fen,
                        const audit::AuditContext& context) {
  if (audit_ != nullptr) audit_->Record(event, claim, fen, context, clock_.Now());
}

void ClaimEvents::Quoted(const v1::QuoteResponse& response) {
  for (const v1::ItemResult& item : response.items()) {
    ByType("tradein_quote_items_total", "Quoted items, by product type and outcome.", item.product_type(),
           item.eligible() ? "eligible" : "not_eligible")
        .Increment();
  }
}

void ClaimEvents::Claimed(const v1::Claim& claim, const audit::AuditContext& context) {
  for (const v1::ItemResult& item : claim.items()) {
    const absl::string_view outcome = item.granted_quantity() == 0                ? "refused"
                                      : item.granted_quantity() < item.quantity() ? "partial"
                                                                                  : "granted";
    ByType("tradein_claim_items_total", "Claimed items, by product type and outcome.", item.product_type(),
           outcome)
        .Increment();
    ByType("tradein_granted_fen_total", "Fen granted (reserved) by claims, by product type.",
           item.product_type())
        .Increment(static_cast<uint64_t>(item.subsidy_fen()));
    for (const v1::Reason& reason : item.reasons()) {
      if (!IsLedgerRefusal(reason.code())) continue;
      Cached("tradein_ledger_refusals_total", "Items reduced or refused by a quota or budget, by reason.",
             {{"reason", reason.code()}})
          .Increment();
    }
  }
  const bool reserved = claim.state() == v1::Claim::RESERVED;
  Cached("tradein_claims_total", "New claims, by outcome.", {{"outcome", reserved ? "reserved" : "rejected"}})
      .Increment();
  if (reserved) Audit("claim_reserved", claim, claim.total_subsidy_fen(), context);
}

void ClaimEvents::Confirmed(const v1::Claim& claim, const audit::AuditContext& context) {
  CountItems("tradein_confirmations_total", "Confirmed claim items, by product type.", claim);
  Audit("claim_confirmed", claim, claim.total_subsidy_fen(), context);
}

void ClaimEvents::Cancelled(const v1::Claim& claim, const audit::AuditContext& context) {
  CountItems("tradein_cancellations_total", "Cancelled claim items, by product type.", claim);
  int64_t released = 0;
  for (const v1::ItemResult& item : claim.items()) released += item.subsidy_fen();
  Audit("claim_cancelled", claim, released, context);
}

void ClaimEvents::Expired(const v1::Claim& claim) {
  CountItems("tradein_expiries_total", "Claim items whose hold expired, by product type.", claim);
  int64_t released = 0;
  for (const v1::ItemResult& item : claim.items()) released += item.subsidy_fen();
  Audit("claim_expired", claim, released, {"sweeper", "", ""});
}

void ClaimEvents::Refunded(const v1::Claim& claim, int64_t refunded_fen, const audit::AuditContext& context) {
  for (const v1::ItemResult& item : claim.items()) {
    if (item.refunded_quantity() == 0) continue;
    ByType("tradein_refunds_total", "Refunded claim items, by product type and outcome.", item.product_type(),
           item.refunded_quantity() == item.granted_quantity() ? "full" : "partial")
        .Increment();
  }
  Cached("tradein_refunded_fen_total", "Fen refunded.", {}).Increment(static_cast<uint64_t>(refunded_fen));
  Audit(claim.state() == v1::Claim::REFUNDED ? "claim_refunded" : "claim_partially_refunded", claim,
        refunded_fen, context);
}

void ClaimEvents::Voided(const v1::Claim& claim, int64_t fen, const audit::AuditContext& context) {
  Cached("tradein_corrections_total", "Administrative voids and corrections.", {{"kind", "void"}})
      .Increment();
  Cached("tradein_refunded_fen_total", "Fen refunded.", {}).Increment(static_cast<uint64_t>(fen));
  Audit("claim_voided", claim, fen, context);
}

void ClaimEvents::Corrected(const v1::Claim& claim, int64_t fen, const audit::AuditContext& context) {
  Cached("tradein_corrections_total", "Administrative voids and corrections.", {{"kind", "correct"}})
      .Increment();
  Audit("claim_corrected", claim, fen, context);
}

void ClaimEvents::ConfirmationFixed(const v1::Claim& claim, absl::string_view what, absl::string_view before,
                                    absl::string_view after, audit::AuditContext context) {
  Cached("tradein_corrections_total", "Administrative voids and corrections.", {{"kind", what}}).Increment();
  absl::StrAppend(&context.reason, " (", before, " → ", after, ")");
  Audit(absl::StrCat("claim_", what, "_corrected"), claim, 0, context);
}

void ClaimEvents::Replayed(absl::string_view method) {
  Cached("tradein_idempotent_replays_total", "Calls answered from an earlier identical call.",
         {{"method", std::string(method)}})
      .Increment();
}

}  // namespace tradein::api
