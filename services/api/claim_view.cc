#include "services/api/claim_view.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/money.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/api/basket.h"
#include "tradein/v1/stored_confirmation.pb.h"

namespace tradein::api {
namespace {

void SetTime(absl::Time t, google::protobuf::Timestamp& out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out.set_seconds(nanos / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

// Adds the ledger's reasons to an item and says in its explanation what was granted.
void ApplyGrant(const quota::LineGrant& grant, const quota::LineRefund& refund, v1::ItemResult& item) {
  grant.reasons.ForEach([&item](pricing::ReasonCode code) { AddLedgerReason(code, item); });
  const bool reduced = item.eligible() && (grant.units < item.quantity() || grant.fen < item.subsidy_fen());
  if (reduced) {
    absl::StrAppend(item.mutable_explanation(), "; granted ", grant.units, " of ", item.quantity(),
                    " unit(s) = ", FormatYuan(grant.fen));
    absl::StrAppend(item.mutable_explanation_zh(), "；实际补贴 ", grant.units, "/", item.quantity(),
                    " 件 = ", FormatYuan(grant.fen));
  }
  item.set_granted_quantity(grant.units);
  item.set_subsidy_fen(grant.fen);
  item.set_eligible(grant.units > 0);
  item.set_refunded_quantity(refund.units);
}

void ViewEvent(const quota::ClaimEvent& event, v1::ClaimEvent& out) {
  out.set_kind(static_cast<v1::ClaimEvent::Kind>(event.kind));
  SetTime(event.at, *out.mutable_at());
  out.set_caller_id(event.actor);
  out.set_reason(event.reason);
  out.set_request_id(event.request_id);
  for (const quota::ClaimEvent::Line& line : event.lines) {
    v1::ClaimEvent::Line& changed = *out.add_lines();
    changed.set_line_id(line.line_id);
    changed.set_refunded_quantity(line.units);
    changed.set_subsidy_fen_before(line.fen_before);
    changed.set_subsidy_fen_after(line.fen_after);
  }
  out.set_before(event.before);
  out.set_after(event.after);
}

bool OwesMoney(quota::ClaimState state) {
  return state == quota::ClaimState::kReserved || state == quota::ClaimState::kConfirmed ||
         state == quota::ClaimState::kPartiallyRefunded;
}

}  // namespace

bool WasConfirmed(quota::ClaimState state) {
  return state == quota::ClaimState::kConfirmed || state == quota::ClaimState::kPartiallyRefunded ||
         state == quota::ClaimState::kRefunded || state == quota::ClaimState::kVoided;
}

absl::Status ViewClaim(const quota::ClaimRecord& record, v1::Claim& out) {
  if (!out.ParseFromString(record.draft) || out.items_size() != static_cast<int>(record.grants.size())) {
    return absl::InternalError(
        absl::StrCat("claim ", record.claim_id, ": stored draft does not match its grants"));
  }
  out.set_claim_id(record.claim_id);
  out.set_state(static_cast<v1::Claim::State>(record.state));
  for (int i = 0; i < out.items_size(); ++i) {
    out.mutable_items(i)->clear_priced_input();  // kept for simulations, never shown
    ApplyGrant(record.grants[static_cast<size_t>(i)], record.refunds[static_cast<size_t>(i)],
               *out.mutable_items(i));
  }
  if (!record.confirmation.empty()) {
    v1::StoredConfirmation confirmation;
    if (confirmation.ParseFromString(record.confirmation)) {
      if (confirmation.has_confirmed_at() && WasConfirmed(record.state)) {
        *out.mutable_confirmed_at() = confirmation.confirmed_at();
      }
      out.set_invoice_number(confirmation.invoice_number());
      for (const v1::LineSerials& line : confirmation.line_serials()) {
        for (v1::ItemResult& item : *out.mutable_items()) {
          if (item.line_id() == line.line_id()) *item.mutable_serial_numbers() = line.serial_numbers();
        }
      }
    }
  }
  out.set_refunded_fen(record.RefundedFen());
  out.set_total_subsidy_fen(OwesMoney(record.state) ? record.GrantedFen() - record.RefundedFen() : 0);
  for (const quota::ClaimEvent& event : record.history) ViewEvent(event, *out.add_history());
  out.set_history_omitted(record.history_omitted);
  SetTime(record.created_at, *out.mutable_created_at());
  SetTime(record.updated_at, *out.mutable_updated_at());
  if (record.state == quota::ClaimState::kReserved) SetTime(record.expires_at, *out.mutable_expires_at());
  return absl::OkStatus();
}

}  // namespace tradein::api
