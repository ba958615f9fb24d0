#include "tests/e2e/till_load.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace tradein::testing {

v1::ClaimRequest FridgeClaim(const std::string& request_id, const std::string& buyer) {
  v1::ClaimRequest request;
  const std::string json = absl::StrCat(
      R"({"requestId":")", request_id,
      R"(","retailerId":"shop-1","regionCode":"330381","transactionDate":"2025-06-01",)",
      R"("buyer":{"idType":"PRC_ID","idNumber":")", buyer,
      R"("},"items":[{"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1}]})");
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok());
  return request;
}

grpc::Status CallRetrying(TillTally& tally, const RetryPolicy& policy,
                          const std::function<grpc::Status(grpc::ClientContext&)>& call) {
  bool failed = false;
  const absl::Time give_up = absl::Now() + policy.give_up_after;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + policy.deadline));
    const absl::Time start = absl::Now();
    const grpc::Status status = call(context);
    const absl::Duration took = absl::Now() - start;
    const bool retry = policy.retryable.count(status.error_code()) > 0;
    {
      absl::MutexLock lock(&tally.mu);
      ++tally.calls;
      if (!retry) {
        if (failed && status.ok()) ++tally.retried_to_success;
        return status;
      }
      failed = true;
      ++tally.failures_by_code[status.error_code()];
      tally.longest_failure = std::max(tally.longest_failure, took);
    }
    if (absl::Now() >= give_up) return status;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

bool ClaimAndConfirm(v1::ClaimService::Stub& stub, const std::string& request_id, const std::string& buyer,
                     const RetryPolicy& policy, TillTally& tally) {
  const v1::ClaimRequest request = FridgeClaim(request_id, buyer);
  v1::Claim claim;
  const grpc::Status status = CallRetrying(
      tally, policy, [&](grpc::ClientContext& context) { return stub.Claim(&context, request, &claim); });
  if (!status.ok()) {
    ADD_FAILURE() << request_id << ": " << status.error_message();
    return false;
  }
  {
    absl::MutexLock lock(&tally.mu);
    tally.claim_ids_by_request[request_id].insert(claim.claim_id());
    if (claim.state() == v1::Claim::RESERVED) ++tally.granted_by_buyer[buyer];
  }
  if (claim.state() != v1::Claim::RESERVED) return true;
  v1::ConfirmClaimRequest confirm;
  confirm.set_claim_id(claim.claim_id());
  confirm.set_invoice_number(request_id);
  v1::Claim confirmed;
  const grpc::Status confirmed_status = CallRetrying(tally, policy, [&](grpc::ClientContext& context) {
    return stub.ConfirmClaim(&context, confirm, &confirmed);
  });
  if (!confirmed_status.ok()) {
    ADD_FAILURE() << claim.claim_id() << ": " << confirmed_status.error_message();
    return false;
  }
  absl::MutexLock lock(&tally.mu);
  tally.confirmed.push_back(claim.claim_id());
  return true;
}

int CheckNothingLostOrOverGranted(TillTally& tally, const std::shared_ptr<grpc::Channel>& channel) {
  absl::MutexLock lock(&tally.mu);
  for (const auto& [request_id, claim_ids] : tally.claim_ids_by_request) {
    EXPECT_EQ(claim_ids.size(), 1u) << request_id << " made more than one claim";
  }
  for (const auto& [buyer, granted] : tally.granted_by_buyer) EXPECT_LE(granted, 1) << "one fridge each";
  auto stub = v1::ClaimService::NewStub(channel);
  int lost = 0;
  for (const std::string& claim_id : tally.confirmed) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetClaimRequest request;
    request.set_claim_id(claim_id);
    v1::Claim claim;
    const grpc::Status status = stub->GetClaim(&context, request, &claim);
    if (status.ok() && claim.state() == v1::Claim::CONFIRMED) continue;
    if (++lost <= 3) {
      ADD_FAILURE() << claim_id << ": " << (status.ok() ? claim.DebugString() : status.error_message());
    }
  }
  EXPECT_EQ(lost, 0) << "acknowledged CONFIRMED claims lost";
  return lost;
}

}  // namespace tradein::testing
