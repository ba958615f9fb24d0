// -----------------------------------------------------------------------------
// File: quota_store_contract.h
// -----------------------------------------------------------------------------
//
// What every QuotaStore must do (services/quota/quota_store.h), as one value-parameterised test suite. An
// implementation joins by instantiating the suite with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, QuotaStoreContractTest, ::testing::Values(MemoryStoreFactory()),
//                            FactoryName);
//
// Also here: a blocking adapter over the store's callbacks and builders for requests, used by the contract
// suite and the randomised model test.
#ifndef TRADEIN_TESTS_QUOTA_QUOTA_STORE_CONTRACT_H_
#define TRADEIN_TESTS_QUOTA_QUOTA_STORE_CONTRACT_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/quota/quota_store.h"

namespace tradein::quota::testing {

// Makes a fresh, empty store (each call a store that shares nothing with the previous ones).
struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<QuotaStore>()> make;
};

std::string FactoryName(const ::testing::TestParamInfo<StoreFactory>& info);
inline void PrintTo(const StoreFactory& factory, std::ostream* out) { *out << factory.name; }
StoreFactory MemoryStoreFactory();

// Waits for a store call. `call` receives the callback to hand to the store.
template <typename T>
absl::StatusOr<T> Await(const std::function<void(QuotaStore::Callback<T>)>& call) {
  auto done = std::make_shared<absl::Notification>();
  auto result = std::make_shared<absl::StatusOr<T>>(absl::UnknownError("no answer"));
  call([done, result](absl::StatusOr<T> answer) {
    *result = std::move(answer);
    done->Notify();
  });
  if (!done->WaitForNotificationWithTimeout(absl::Seconds(60)))
    return absl::DeadlineExceededError("store hung");
  return *result;
}

// Blocking calls with a generous deadline.
class SyncStore {
 public:
  explicit SyncStore(QuotaStore& store) : store_(store) {}

  absl::StatusOr<ClaimRecord> Reserve(const ReserveRequest& request);
  absl::StatusOr<ClaimRecord> Confirm(const std::string& claim_id, absl::Time now,
                                      const std::string& retailer = "");
  absl::StatusOr<ClaimRecord> Cancel(const std::string& claim_id, absl::Time now,
                                     const std::string& retailer = "");
  absl::StatusOr<ClaimRecord> Refund(const RefundRequest& request);
  // A confirmation with serial numbers.
  absl::StatusOr<ClaimRecord> ConfirmWith(const std::string& claim_id, absl::Time now,
                                          std::vector<SerialKey> serials);
  absl::StatusOr<ClaimRecord> Void(const VoidRequest& request);
  absl::StatusOr<ClaimRecord> Correct(const CorrectRequest& request);
  absl::StatusOr<ClaimPage> List(const ClaimPageRequest& request);
  absl::StatusOr<ClaimRecord> Get(const std::string& claim_id, absl::Time now);
  absl::StatusOr<std::vector<int64_t>> Usage(const BuyerRef& buyer, const std::vector<CounterLimit>& counters,
                                             absl::Time now);
  absl::StatusOr<std::vector<int64_t>> BudgetUsage(const std::vector<BudgetRef>& budgets, absl::Time now);
  absl::StatusOr<SweepResult> Sweep(absl::Time now, int limit = 1000);

 private:
  static absl::Time Deadline() { return absl::Now() + absl::Seconds(30); }
  QuotaStore& store_;
};

// A buyer from a small integer (a valid-looking keyed hash and its tag).
BuyerRef TestBuyer(int n);

// Builds ReserveRequests line by line; counters, once-keys and budgets are deduplicated like PlanLedger does.
class ReserveBuilder {
 public:
  ReserveBuilder(const BuyerRef& buyer, std::string retailer, std::string request_id, absl::Time now,
                 absl::Duration hold = absl::Minutes(30));

  // Adds a line of `units` units at `unit_fen`, drawing on the given counters, once-keys and budgets.
  ReserveBuilder& Line(std::string line_id, int32_t units, int64_t unit_fen,
                       std::vector<CounterLimit> counters = {}, std::vector<OnceKey> once_keys = {},
                       std::vector<BudgetRef> budgets = {});
  ReserveBuilder& RestoresQuotaOnRefund(bool restores);
  // Changes the fingerprint (same request id, different content).
  ReserveBuilder& Draft(std::string draft);
  ReserveRequest Build() const;

 private:
  ReserveRequest request_;
};

// The serial `number` (its hash is the number itself) of line `line_id`, given as
// lineSerials[line].serialNumbers[n].
SerialKey Serial(const std::string& number, const std::string& line_id, int line = 0, int n = 0);

// A serial fix of line `line_id` of a claim confirmed with SyncStore::ConfirmWith ("invoice-1"): its serial
// `from` becomes `to`.
CorrectRequest SerialFix(const std::string& claim_id, const std::string& request_id,
                         const std::string& line_id, const std::string& from, const std::string& to,
                         absl::Time now);

// Counters, once-keys and budgets by short names.
CounterLimit Units(const std::string& field, int64_t limit, const std::string& programme = "prog");
CounterLimit Fen(const std::string& field, int64_t limit, const std::string& programme = "prog");
OnceKey Home(const std::string& hash, const std::string& programme = "prog");
BudgetRef Budget(const std::string& id, int64_t total_fen, const std::string& programme = "prog");

class QuotaStoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;

  std::unique_ptr<QuotaStore> store_;
  std::unique_ptr<SyncStore> sync_;
  const absl::Time t0_ = absl::FromCivil(absl::CivilSecond(2025, 6, 1, 10, 0, 0), absl::UTCTimeZone());
};

}  // namespace tradein::quota::testing

#endif  // TRADEIN_TESTS_QUOTA_QUOTA_STORE_CONTRACT_H_
