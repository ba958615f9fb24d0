// -----------------------------------------------------------------------------
// File: memory_quota_store.h
// -----------------------------------------------------------------------------
//
// QuotaStore in this process's memory: the embedded default when tradein-server has no --redis. Behaves
// exactly like RedisQuotaStore (the contract suite in tests/quota proves it) but serves one process only and
// forgets everything on exit. Every call completes inline, under one mutex; callbacks run after it is
// released. Listings read an ordered index of every claim by (created_at, claim id): a page costs
// O(log n + entries scanned).
//
// Thread safety: all methods may be called concurrently.
#ifndef TRADEIN_SERVICES_QUOTA_MEMORY_QUOTA_STORE_H_
#define TRADEIN_SERVICES_QUOTA_MEMORY_QUOTA_STORE_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/quota/quota_store.h"

namespace tradein::quota {

class MemoryQuotaStore final : public QuotaStore {
 public:
  MemoryQuotaStore() = default;

  void Reserve(ReserveRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Confirm(ConfirmRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Cancel(CancelRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Refund(RefundRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Void(VoidRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void Correct(CorrectRequest request, absl::Time deadline, Callback<ClaimRecord> done) override;
  void ListClaims(ClaimPageRequest request, absl::Time deadline, Callback<ClaimPage> done) override;
  void Get(std::string claim_id, absl::Time now, absl::Time deadline, Callback<ClaimRecord> done) override;
  void GetUsage(UsageRequest request, absl::Time deadline, Callback<std::vector<int64_t>> done) override;
  void GetBudgetUsage(std::vector<BudgetRef> budgets, absl::Time now, absl::Time deadline,
                      Callback<std::vector<int64_t>> done) override;
  void Sweep(absl::Time now, int limit, absl::Time deadline, Callback<SweepResult> done) override;
  void Ping(absl::Time deadline, Callback<bool> done) override;
  absl::string_view kind() const override { return "memory"; }

 private:
  // What a line took, so that it can be given back.
  struct Charge {
    std::string counter;  // key in counters_
    int64_t amount = 0;   // units or fen
    bool is_units = true;
  };
  struct LineHoldings {
    std::vector<Charge> charges;
    std::vector<std::string> once_keys;                       // keys in once_
    std::vector<std::string> serials;                         // keys in serials_
    std::vector<std::pair<std::string, int64_t>> budget_fen;  // key in budgets_, fen charged
  };
  struct StoredClaim {
    ClaimRecord record;
    std::string buyer_key;
    std::string fingerprint;
    std::vector<LineHoldings> holdings;
    std::vector<std::string> line_ids;
    bool refund_restores_quota = false;
    absl::flat_hash_map<std::string, std::string> refund_fingerprints;      // refund id → fingerprint
    absl::flat_hash_map<std::string, std::string> void_fingerprints;        // request id → fingerprint
    absl::flat_hash_map<std::string, std::string> correction_fingerprints;  // request id → fingerprint
  };
  struct Budget {
    int64_t used = 0;
  };

  absl::StatusOr<ClaimRecord> ReserveLocked(const ReserveRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ClaimRecord> ConfirmLocked(const ConfirmRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ClaimRecord> CancelLocked(const CancelRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A change of money after payment (refund, void, correction) of claim `claim_id` (of `retailer_id`, any
  // when empty), idempotent on `change_id` with `fingerprint` in the claim's map `fingerprints`: the claim to
  // change, or the claim replayed for a known id; `reused` for a known id with another fingerprint;
  // NOT_FOUND; FAILED_PRECONDITION WRONG_STATE unless CONFIRMED or PARTIALLY_REFUNDED.
  struct ChangeKey {
    const std::string& claim_id;
    const std::string& retailer_id;
    const std::string& change_id;
    const std::string& fingerprint;
  };
  struct PaidChange {
    StoredClaim* claim;                 // when the change may go ahead
    std::optional<ClaimRecord> replay;  // when the id is known
  };
  using FingerprintsOf = absl::flat_hash_map<std::string, std::string> StoredClaim::*;
  absl::StatusOr<PaidChange> OpenPaidChangeLocked(const ChangeKey& key, FingerprintsOf fingerprints,
                                                  absl::Time now, const absl::Status& reused,
                                                  absl::string_view action)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ClaimRecord> RefundLocked(const RefundRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ClaimRecord> VoidLocked(const VoidRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ClaimRecord> CorrectLocked(const CorrectRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A correction that fixes the claim's confirmation (an invoice or a serial number; quota_store.h).
  absl::StatusOr<ClaimRecord> FixConfirmationLocked(StoredClaim& claim, const CorrectRequest& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends a change of a paid claim: appends `event` to its history with the lines that changed since
  // `before`, and answers the record with last_change_fen = `change_fen`.
  static ClaimRecord Changed(StoredClaim& claim, const ClaimRecord& before, ClaimEvent event,
                             int64_t change_fen);
  absl::StatusOr<ClaimPage> ListLocked(const ClaimPageRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks a confirmation's serials (quota_store.h) and, when every one is free, takes them for the claim.
  absl::Status TakeSerialsLocked(StoredClaim& claim, const std::vector<SerialKey>& serials)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Runs `locked()` under mu_, then answers `done` with its result once mu_ is released (a callback may call
  // the store again).
  template <typename T, typename Locked>
  void AnswerLocked(Callback<T>& done, Locked locked) ABSL_LOCKS_EXCLUDED(mu_);

  // The claim `claim_id` of `retailer_id` (any retailer when empty), or NOT_FOUND.
  absl::StatusOr<StoredClaim*> FindLocked(const std::string& claim_id, const std::string& retailer_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves every RESERVED claim whose hold ended by `now` to EXPIRED, giving back what it held.
  void ExpireDueLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives back everything the line holds: counters, once-keys, budget.
  void ReleaseLineLocked(const std::string& claim_id, LineHoldings& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Frees the line's once-keys and serials that `claim_id` still holds (never another claim's).
  void ReleaseOnceKeysLocked(const std::string& claim_id, LineHoldings& line)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Line `i` was refunded whole: frees its serials, and its once-keys that no other line of the claim (one
  // with units not yet refunded) still uses.
  void ReleaseRefundedLineLocked(StoredClaim& claim, size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseAllLocked(StoredClaim& claim) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, StoredClaim> claims_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> requests_
      ABSL_GUARDED_BY(mu_);                                                  // retailer\0request → claim id
  absl::flat_hash_map<std::string, int64_t> counters_ ABSL_GUARDED_BY(mu_);  // buyer\0programme\0field → used
  absl::flat_hash_map<std::string, std::string> once_ ABSL_GUARDED_BY(mu_);  // programme\0quota\0hash → claim
  absl::flat_hash_map<std::string, std::string> serials_ ABSL_GUARDED_BY(mu_);  // programme\0hash → claim
  absl::flat_hash_map<std::string, Budget> budgets_ ABSL_GUARDED_BY(mu_);       // programme\0budget → used
  std::multimap<absl::Time, std::string> holds_ ABSL_GUARDED_BY(mu_);           // hold end → claim id
  std::vector<ClaimRecord> expired_unreported_ ABSL_GUARDED_BY(mu_);            // for the next Sweep()
  std::set<std::pair<absl::Time, std::string>> by_creation_ ABSL_GUARDED_BY(mu_);  // (created_at, claim id)
};

}  // namespace tradein::quota

#endif  // TRADEIN_SERVICES_QUOTA_MEMORY_QUOTA_STORE_H_
