// PortalService/ExportClaims outlives none of its in-flight store calls (issue 9, defects 3 and 8): a client
// cancels while a page fetch is in flight, gRPC finishes and deletes the reactor, and only then does the
// store answer. The answer must find live state (not the freed reactor and its mutex) and drop the page.
//
// A use after free rarely crashes on its own (the freed block is still mapped and may still look like an
// unlocked mutex), so this test binary replaces operator delete: every freed block is filled with 0x5a, and
// while the test quarantines, it is kept instead of freed. Afterwards any quarantined block whose bytes
// changed was written after it was freed: the old reactor's callback (locking its mutex, storing the page)
// is caught every time, without a sanitizer.
#include <malloc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "services/identity/keyed_hash.h"
#include "services/quota/memory_quota_store.h"
#include "tests/api/in_process_portal.h"
#include "tests/testing/sanitizers.h"
#include "tradein/v1/portal_service.grpc.pb.h"

namespace {

constexpr unsigned char kFreed = 0x5a;
constexpr size_t kQuarantineSlots = 1 << 16;
std::atomic<bool> quarantining{false};
std::array<std::pair<void*, size_t>, kQuarantineSlots> quarantine;  // no allocation inside operator delete
std::atomic<size_t> quarantined{0};

// The quarantined blocks written after they were freed; then frees them all.
size_t WrittenAfterFreeAndRelease() {
  quarantining = false;
  size_t written = 0;
  const size_t count = std::min(quarantined.load(), kQuarantineSlots);
  for (size_t i = 0; i < count; ++i) {
    const auto* bytes = static_cast<const unsigned char*>(quarantine[i].first);
    if (std::any_of(bytes, bytes + quarantine[i].second, [](unsigned char b) { return b != kFreed; }))
      ++written;
    std::free(quarantine[i].first);
  }
  quarantined = 0;
  return written;
}

}  // namespace

// Under AddressSanitizer (tools/test --sanitize) its own allocator poisons and quarantines freed blocks and
// reports the first access; a replaced operator delete would hand ASan's blocks to free() instead
// (alloc-dealloc-mismatch). There the quarantine below stays empty and ASan does the checking.
#ifndef TRADEIN_ASAN
void operator delete(void* block) noexcept {
  if (block == nullptr) return;
  const size_t size = malloc_usable_size(block);
  std::memset(block, kFreed, size);
  if (quarantining.load()) {
    if (const size_t slot = quarantined.fetch_add(1); slot < kQuarantineSlots) {
      quarantine[slot] = {block, size};
      return;
    }
  }
  std::free(block);
}
void operator delete(void* block, std::size_t) noexcept { operator delete(block); }
#endif

namespace tradein::api {
namespace {

using quota::ClaimPage;

// A memory store whose ListClaims does not answer until the test says so.
class HeldListStore final : public quota::QuotaStore {
 public:
  void Reserve(quota::ReserveRequest r, absl::Time d, Callback<quota::ClaimRecord> done) override {
    inner_.Reserve(std::move(r), d, std::move(done));
  }
  void Confirm(quota::ConfirmRequest r, absl::Time d, Callback<quota::ClaimRecord> done) override {
    inner_.Confirm(std::move(r), d, std::move(done));
  }
  void Cancel(quota::CancelRequest r, absl::Time d, Callback<quota::ClaimRecord> done) override {
    inner_.Cancel(std::move(r), d, std::move(done));
  }
  void Refund(quota::RefundRequest r, absl::Time d, Callback<quota::ClaimRecord> done) override {
    inner_.Refund(std::move(r), d, std::move(done));
  }
  void Void(quota::VoidRequest r, absl::Time d, Callback<quota::ClaimRecord> done) override {
    inner_.Void(std::move(r), d, std::move(done));
  }
  void Correct(quota::CorrectRequest r, absl::Time d, Callback<quota::ClaimRecord> done) override {
    inner_.Correct(std::move(r), d, std::move(done));
  }
  void ListClaims(quota::ClaimPageRequest, absl::Time, Callback<ClaimPage> done) override {
    absl::MutexLock lock(&mu_);
    held_ = std::move(done);
    fetching_.Notify();
  }
  void Get(std::string id, absl::Time now, absl::Time d, Callback<quota::ClaimRecord> done) override {
    inner_.Get(std::move(id), now, d, std::move(done));
  }
  void GetUsage(quota::UsageRequest r, absl::Time d, Callback<std::vector<int64_t>> done) override {
    inner_.GetUsage(std::move(r), d, std::move(done));
  }
  void GetBudgetUsage(std::vector<quota::BudgetRef> b, absl::Time now, absl::Time d,
                      Callback<std::vector<int64_t>> done) override {
    inner_.GetBudgetUsage(std::move(b), now, d, std::move(done));
  }
  void Sweep(absl::Time now, int limit, absl::Time d, Callback<quota::SweepResult> done) override {
    inner_.Sweep(now, limit, d, std::move(done));
  }
  void Ping(absl::Time d, Callback<bool> done) override { inner_.Ping(d, std::move(done)); }
  absl::string_view kind() const override { return "held"; }

  absl::Notification& fetching() { return fetching_; }
  Callback<ClaimPage> TakeHeld() {
    absl::MutexLock lock(&mu_);
    return std::move(held_);
  }

 private:
  quota::MemoryQuotaStore inner_;
  absl::Mutex mu_;
  Callback<ClaimPage> held_ ABSL_GUARDED_BY(mu_);
  absl::Notification fetching_;
};

TEST(ExportLifetimeTest, APageArrivingAfterTheCancelledExportIsDoneIsDroppedSafely) {
  SimulatedClock clock(absl::FromUnixSeconds(1748743200));  // 2025-06-01
  const identity::KeyedHasher hasher = identity::KeyedHasher::WithRandomKey();
  HeldListStore store;
  InProcessPortal portal(clock, hasher, store);
  ASSERT_TRUE(portal.ok());
  v1::PortalService::Stub* stub = &portal.stub();
  grpc::ClientContext context;
  v1::ExportClaimsRequest request;
  request.set_from_date("2025-05-01");
  request.set_to_date("2025-05-31");
  auto reader = stub->ExportClaims(&context, request);
  ASSERT_TRUE(store.fetching().WaitForNotificationWithTimeout(absl::Seconds(30)));
  quarantining = true;
  context.TryCancel();
  v1::ExportedClaim claim;
  EXPECT_FALSE(reader->Read(&claim));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // Every call done: gRPC has run the reactor's OnDone (and deleted it) by the time Wait returns.
  portal.Shutdown();

  // Now the store answers, on a thread of its own (as the Redis loop would).
  quota::QuotaStore::Callback<ClaimPage> held = store.TakeHeld();
  ASSERT_TRUE(held);
  auto answered = std::make_shared<absl::Notification>();
  std::thread store_thread([held = std::move(held), answered]() mutable {
    ClaimPage page;
    page.more = true;
    std::move(held)(std::move(page));
    answered->Notify();
  });
  const bool returned = answered->WaitForNotificationWithTimeout(absl::Seconds(30));
  EXPECT_TRUE(returned) << "the late page's callback blocked (on the freed reactor's mutex?)";
  if (returned) {
    store_thread.join();
  } else {
    store_thread.detach();
  }
  EXPECT_EQ(WrittenAfterFreeAndRelease(), 0u)
      << "freed memory was written: the late page used the deleted reactor";
}

}  // namespace
}  // namespace tradein::api
