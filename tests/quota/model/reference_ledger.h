// -----------------------------------------------------------------------------
// File: reference_ledger.h
// -----------------------------------------------------------------------------
//
// ReferenceLedger is the oracle of the quota ledger: a plain, synchronous, in-memory ledger written from the
// text of services/quota/quota_store.h alone ("Amounts", the lifecycle, idempotency, serial numbers,
// listings) and sharing no code with either store — not counter_math, not store_errors, not the cursor
// helpers of quota_store.cc. A bug the two stores share (they were written by the same hands) cannot hide in
// it.
//
// It takes the stores' request types (plain data) and answers what a store must answer: a ClaimRecord or an
// error (gRPC code + reason). Tests drive it side by side with a store and compare every answer, then check
// Invariants(): per line 0 ≤ refunded ≤ granted; every buyer counter equals the sum of the live charges of
// its claims and stays within its limit; every budget's use equals the sum of its live entries and stays
// within its total; every once-key and serial number is held by at most one live claim.
//
//   ReferenceLedger model;
//   ModelAnswer expected = model.Reserve(request);
//   EXPECT_EQ(Compare(expected, store_answer), "");
//
// Beyond the text, two things a crashed multi-step store leaves that a single call cannot show (the
// simulator in tests/quota/sim uses them):
//   - NoteAttempt: an attempt of a Reserve that reached the store's request-id step but decided nothing still
//     fixes the claim's creation time and its fingerprint (quota_store.h: created_at is the first attempt's
//     now; a request id is bound to the first attempt's content).
//   - ProvisionalRefusals: under concurrency (or after a crash) a home, old car or budget that another,
//     undecided claim holds for a moment may refuse a line that a serial order would have granted
//     (docs/quota-ledger.md). The caller says which lines to refuse; the model never grants more than the
//     text.
//
// Thread safety: none; one thread at a time. Copyable (the simulator tries serial orders on copies).
#ifndef TRADEIN_TESTS_QUOTA_MODEL_REFERENCE_LEDGER_H_
#define TRADEIN_TESTS_QUOTA_MODEL_REFERENCE_LEDGER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/quota/quota_store.h"

namespace tradein::quota::model {

// What the model says a call answers: OK with a record, or an error code and reason.
struct ModelAnswer {
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string reason;  // the ErrorInfo reason when code is not OK
  ClaimRecord record;  // when code is OK

  bool ok() const { return code == absl::StatusCode::kOk; }
};

// Compare
//
// "" when `actual` (a store's answer) is what `expected` says, else a description of the first difference.
std::string Compare(const ModelAnswer& expected, const absl::StatusOr<ClaimRecord>& actual);

// A line refused by a provisional hold of another claim (see the top of this file).
struct ProvisionalRefusal {
  enum class Where : uint8_t { kOnceKey, kBudget };
  Where where = Where::kBudget;
  int32_t units = 0;  // the most units the line may keep (budget)
  pricing::ReasonCode reason = pricing::ReasonCode::kBudgetExhausted;  // for kOnceKey: the once-key's reason
};
using ProvisionalRefusals = std::map<size_t, ProvisionalRefusal>;  // by line index

class ReferenceLedger {
 public:
  ModelAnswer Reserve(const ReserveRequest& request, const ProvisionalRefusals& provisional = {});
  ModelAnswer Confirm(const ConfirmRequest& request);
  ModelAnswer Cancel(const CancelRequest& request);
  ModelAnswer Refund(const RefundRequest& request);
  ModelAnswer Void(const VoidRequest& request);
  ModelAnswer Correct(const CorrectRequest& request);
  ModelAnswer Get(const std::string& claim_id, absl::Time now);
  std::vector<int64_t> Usage(const UsageRequest& request);
  std::vector<int64_t> BudgetUsage(const std::vector<BudgetRef>& budgets, absl::Time now);
  // Claims expired by `now` and not reported by an earlier Sweep (each expiry is reported once).
  std::set<std::string> Sweep(absl::Time now);
  // The claims a listing of `request` shows, in order, with `more`; error code/reason for a bad request.
  absl::StatusOr<ClaimPage> List(const ClaimPageRequest& request);

  // A Reserve attempt that may have reached the request-id step without deciding.
  void NoteAttempt(const ReserveRequest& request);
  // Expiries a crashed sweep may have reported: a later Sweep may or may not report them again.
  void ForgetUnreportedExpiries();

  // "" when every invariant holds, else what is broken.
  std::string Invariants() const;

  // The whole state as text: two ledgers with the same fingerprint answer every call alike.
  std::string Fingerprint() const;

  // Every claim id the model knows, and whether a claim exists.
  std::vector<std::string> ClaimIds() const;
  bool HasClaim(const std::string& claim_id) const { return claims_.count(claim_id) > 0; }
  // Whether the live claim `claim_id` holds once-key `key` (a home, an old car), and whether a line of it
  // still draws fen on `budget`: what a cancel, refund or void of it gives back in those slots, after its
  // buyer's step (the simulator asks the ledger of a round's start, to explain a concurrent claim's refusal).
  bool HoldsOnceKey(const std::string& claim_id, const OnceKey& key) const;
  bool DrawsOnBudget(const std::string& claim_id, const BudgetRef& budget) const;
  // Σ granted − refunded over every claim that counts for settlement (CONFIRMED, PARTIALLY_REFUNDED,
  // REFUNDED, VOIDED: what was paid and not given back).
  int64_t NetPaidFen() const;

 private:
  using CounterKey = std::tuple<std::string, std::string, std::string>;  // buyer key, programme, field
  using BudgetKey = std::pair<std::string, std::string>;                 // programme, budget id
  using OnceName = std::tuple<std::string, std::string, std::string>;    // programme, quota id, hash
  using SerialName = std::pair<std::string, std::string>;                // programme, hash
  using RequestKey = std::pair<std::string, std::string>;                // retailer, request id

  struct Line {
    std::string id;
    int32_t units = 0;  // u
    int64_t fen = 0;    // f
    pricing::ReasonSet reasons;
    int32_t refunded_units = 0;  // ru
    int64_t refunded_fen = 0;    // rf
    std::vector<CounterKey> unit_counters;
    std::vector<CounterKey> fen_counters;
    std::vector<BudgetKey> budgets;
    std::vector<OnceName> once_keys;  // held while the line keeps them
    std::vector<SerialName> serials;  // held from confirmation
  };
  struct Claim {
    std::string id;
    ClaimState state = ClaimState::kRejected;
    std::string retailer, request_id, fingerprint, buyer, draft, confirmation;
    absl::Time created, updated, expires;
    bool restores = false;
    std::vector<Line> lines;
    std::map<std::string, std::string> refund_ids, void_ids, correction_ids;  // id → fingerprint
    std::vector<ClaimEvent> history;
    int32_t history_omitted = 0;
  };
  // A line's refunded units and fen owed (granted − refunded), before a change.
  struct Owed {
    int32_t refunded_units = 0;
    int64_t fen = 0;
  };
  struct Attempt {
    absl::Time first_now;
    std::string fingerprint;
    std::string claim_id;
  };

  static bool Live(const Claim& claim);
  ClaimRecord RecordOf(const Claim& claim) const;
  ModelAnswer Answer(const Claim& claim, bool replayed = false, int64_t change = 0) const;
  void ExpireUpTo(absl::Time now);
  void ReleaseEverything(Claim& claim);
  void GiveBack(Claim& claim, size_t line, int32_t units, int64_t fen);
  void ReleaseLineKeys(Claim& claim, size_t line);
  Claim* Find(const std::string& claim_id, const std::string& retailer);
  // A correction that fixes the confirmation (an invoice or serial number).
  ModelAnswer Fix(Claim& claim, const CorrectRequest& request);
  static std::vector<Owed> OwedOf(const Claim& claim);
  // Appends the history event of a change: the lines whose refunded units or fen owed moved since `before`.
  static void Record(Claim& claim, const std::vector<Owed>& before, ClaimEvent::Kind kind, absl::Time now,
                     const ChangeNote& note, const std::string& change_id);
  // The claim for a refund, void or correction, or the answer that ends the call (see quota_store.h).
  Claim* OpenChange(const std::string& claim_id, const std::string& retailer, absl::Time now,
                    std::map<std::string, std::string> Claim::*ids, const std::string& change_id,
                    const std::string& fingerprint, const std::string& reused_reason, ModelAnswer& answer);

  std::map<std::string, Claim> claims_;
  std::map<RequestKey, std::string> requests_;  // decided: the claim
  std::map<RequestKey, Attempt> attempts_;      // first attempts
  std::map<CounterKey, int64_t> counters_;
  std::map<CounterKey, int64_t> counter_limits_;
  std::map<BudgetKey, int64_t> budgets_;
  std::map<BudgetKey, int64_t> budget_totals_;
  std::map<OnceName, std::string> once_holders_;
  std::map<SerialName, std::string> serial_holders_;
  std::set<std::string> unreported_expiries_;
};

}  // namespace tradein::quota::model

#endif  // TRADEIN_TESTS_QUOTA_MODEL_REFERENCE_LEDGER_H_
