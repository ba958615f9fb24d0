// -----------------------------------------------------------------------------
// File: claim_events.h
// -----------------------------------------------------------------------------
//
// What the claim and quote paths report after the store has answered: one audit line per state change of
// money (services/audit) and the domain metrics — quotes, claims, confirmations, cancellations, expiries and
// refunds by product type and outcome, fen granted and refunded, quota and budget refusals, idempotent
// replays. Replays change nothing and write no audit line.
//
// Thread safety: all methods may be called from any thread.
#ifndef TRADEIN_SERVICES_API_CLAIM_EVENTS_H_
#define TRADEIN_SERVICES_API_CLAIM_EVENTS_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "services/audit/audit_log.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/subsidy_service.pb.h"

namespace tradein::api {

class ClaimEvents {
 public:
  // `audit` may be null (no audit log configured). REQUIRES: the references outlive this object.
  ClaimEvents(MetricsRegistry& metrics, audit::AuditLog* audit, const Clock& clock);

  void Quoted(const v1::QuoteResponse& response);
  // A new claim: RESERVED (money held) or REJECTED (nothing held: metrics only).
  void Claimed(const v1::Claim& claim, const audit::AuditContext& context);
  void Confirmed(const v1::Claim& claim, const audit::AuditContext& context);
  void Cancelled(const v1::Claim& claim, const audit::AuditContext& context);
  void Expired(const v1::Claim& claim);
  // `refunded_fen` is what this refund moved.
  void Refunded(const v1::Claim& claim, int64_t refunded_fen, const audit::AuditContext& context);
  // An administrator voided a confirmed claim; `fen` is what came back.
  void Voided(const v1::Claim& claim, int64_t fen, const audit::AuditContext& context);
  // An administrator lowered amounts of a confirmed claim; `fen` is the total reduction.
  void Corrected(const v1::Claim& claim, int64_t fen, const audit::AuditContext& context);
  // An administrator fixed the invoice number (`what` = "invoice") or a serial number ("serial") of a claim;
  // the audit line's reason also says what it was and what it is.
  void ConfirmationFixed(const v1::Claim& claim, absl::string_view what, absl::string_view before,
                         absl::string_view after, audit::AuditContext context);
  // An idempotent repeat of `method` ("Claim", "ConfirmClaim", ...).
  void Replayed(absl::string_view method);

 private:
  using LabelViews = std::initializer_list<std::pair<absl::string_view, absl::string_view>>;
  // The counter of `name` with `labels`, registered once and then found in a cache without allocating
  // (this runs for every quoted and claimed item).
  Counter& Cached(absl::string_view name, absl::string_view help, LabelViews labels);
  // A counter of `name` labelled by product type (and outcome, when given), cached.
  Counter& ByType(absl::string_view name, absl::string_view help, absl::string_view product_type,
                  absl::string_view outcome = "");
  void CountItems(absl::string_view name, absl::string_view help, const v1::Claim& claim);
  void Audit(absl::string_view event, const v1::Claim& claim, int64_t fen,
             const audit::AuditContext& context);

  MetricsRegistry& metrics_;
  audit::AuditLog* audit_;
  const Clock& clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Counter*> counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_CLAIM_EVENTS_H_
