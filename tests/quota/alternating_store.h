// -----------------------------------------------------------------------------
// File: alternating_store.h
// -----------------------------------------------------------------------------
//
// Several instances of a store on one ledger, as behind a load balancer: each call goes to the next one in
// turn. Tests use it for rolling deploys (instances of two versions, or with two settings, on one ledger).
//
//   std::vector<std::unique_ptr<QuotaStore>> instances;  // e.g. two RedisQuotaStores with one key prefix
//   AlternatingStore store(std::move(instances));
//
// Thread safety: as the stores it holds, but for the turn, which one thread at a time may take.
#ifndef TRADEIN_TESTS_QUOTA_ALTERNATING_STORE_H_
#define TRADEIN_TESTS_QUOTA_ALTERNATING_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "services/quota/quota_store.h"

namespace tradein::quota::testing {

class AlternatingStore final : public QuotaStore {
 public:
  explicit AlternatingStore(std::vector<std::unique_ptr<QuotaStore>> stores) : stores_(std::move(stores)) {}
  void Reserve(ReserveRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Next().Reserve(std::move(r), d, std::move(done));
  }
  void Confirm(ConfirmRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Next().Confirm(std::move(r), d, std::move(done));
  }
  void Cancel(CancelRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Next().Cancel(std::move(r), d, std::move(done));
  }
  void Refund(RefundRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Next().Refund(std::move(r), d, std::move(done));
  }
  void Void(VoidRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Next().Void(std::move(r), d, std::move(done));
  }
  void Correct(CorrectRequest r, absl::Time d, Callback<ClaimRecord> done) override {
    Next().Correct(std::move(r), d, std::move(done));
  }
  void ListClaims(ClaimPageRequest r, absl::Time d, Callback<ClaimPage> done) override {
    Next().ListClaims(std::move(r), d, std::move(done));
  }
  void Get(std::string id, absl::Time now, absl::Time d, Callback<ClaimRecord> done) override {
    Next().Get(std::move(id), now, d, std::move(done));
  }
  void GetUsage(UsageRequest r, absl::Time d, Callback<std::vector<int64_t>> done) override {
    Next().GetUsage(std::move(r), d, std::move(done));
  }
  void GetBudgetUsage(std::vector<BudgetRef> b, absl::Time now, absl::Time d,
                      Callback<std::vector<int64_t>> done) override {
    Next().GetBudgetUsage(std::move(b), now, d, std::move(done));
  }
  void Sweep(absl::Time now, int limit, absl::Time d, Callback<SweepResult> done) override {
    Next().Sweep(now, limit, d, std::move(done));
  }
  void Ping(absl::Time d, Callback<bool> done) override { Next().Ping(d, std::move(done)); }
  absl::string_view kind() const override { return stores_[0]->kind(); }

 private:
  QuotaStore& Next() { return *stores_[calls_++ % stores_.size()]; }
  std::vector<std::unique_ptr<QuotaStore>> stores_;
  uint64_t calls_ = 0;
};

}  // namespace tradein::quota::testing

#endif  // TRADEIN_TESTS_QUOTA_ALTERNATING_STORE_H_
