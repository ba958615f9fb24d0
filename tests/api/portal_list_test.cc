// PortalService/ListClaims with a filter that matches little (issue 12, item 5): one call reads at most
// 5,000 claims of the period and answers a short (here empty) page with a token after the last claim it read,
// so the walk goes on where it stopped and sees every match once. Over the memory store, in process.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "services/identity/keyed_hash.h"
#include "services/quota/memory_quota_store.h"
#include "tests/api/in_process_portal.h"
#include "tradein/v1/portal_service.grpc.pb.h"

namespace tradein::api {
namespace {

constexpr int kClaims = 5200;

// Reserves claim `n` made in `region` (one fridge line, no quotas or budgets), at `now`.
std::string Reserve(quota::MemoryQuotaStore& store, const identity::KeyedHasher& hasher, int n,
                    const std::string& region, absl::Time now) {
  quota::ReserveRequest request;
  const std::string buyer = hasher.BuyerKey(absl::StrCat("buyer-", n));
  request.buyer = {buyer, buyer.substr(0, 8)};
  request.retailer_id = "shop-1";
  request.request_id = absl::StrCat("r-", n);
  request.claim_id = quota::ClaimIdFor(request.buyer, hasher.ScopedKey("request", request.request_id));
  request.fingerprint = "f";
  request.now = now;
  request.expires_at = now + absl::Minutes(30);
  v1::Claim draft;
  draft.set_region_code(region);
  draft.add_items()->set_product_type("appliance.refrigerator");
  request.draft = draft.SerializeAsString();
  request.lines.push_back({"1", 1, 100000, {}, {}, {}});
  std::string id;
  store.Reserve(std::move(request), absl::InfiniteFuture(), [&id](absl::StatusOr<quota::ClaimRecord> record) {
    ASSERT_TRUE(record.ok()) << record.status();
    id = record->claim_id;
  });
  return id;
}

TEST(PortalListTest, AFilterThatMatchesLittleReadsAtMost5000ClaimsACallAndGoesOnWhereItStopped) {
  const absl::Time start = absl::FromUnixSeconds(1748743200);  // 2025-06-01 10:00 China time
  SimulatedClock clock(start);
  const identity::KeyedHasher hasher = identity::KeyedHasher::WithRandomKey();
  quota::MemoryQuotaStore store;
  // Newest first: the newest 5,000 claims are Rui'an's; Hangzhou's two are older.
  std::set<std::string> hangzhou;
  for (int n = 0; n < kClaims; ++n) {
    const bool in_hangzhou = n == 10 || n == 20;
    const std::string id =
        Reserve(store, hasher, n, in_hangzhou ? "330102" : "330381", start + absl::Milliseconds(n));
    if (in_hangzhou) hangzhou.insert(id);
  }
  InProcessPortal portal(clock, hasher, store);
  ASSERT_TRUE(portal.ok());
  v1::PortalService::Stub* stub = &portal.stub();

  v1::ListClaimsRequest request;
  request.set_from_date("2025-06-01");
  request.set_to_date("2025-06-01");
  request.set_page_size(10);
  request.mutable_filter()->set_region_code("330100");
  std::vector<int> page_sizes;
  std::set<std::string> seen;
  do {
    grpc::ClientContext context;
    v1::ListClaimsResponse page;
    const grpc::Status status = stub->ListClaims(&context, request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    page_sizes.push_back(page.claims_size());
    for (const v1::Claim& claim : page.claims()) {
      EXPECT_TRUE(seen.insert(claim.claim_id()).second) << "seen twice: " << claim.claim_id();
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty() && page_sizes.size() < 10);
  // The first call read the newest 5,000 (all Rui'an): an empty page with a token; the second the rest.
  EXPECT_EQ(page_sizes, (std::vector<int>{0, 2}));
  EXPECT_EQ(seen, hangzhou);
}

}  // namespace
}  // namespace tradein::api
