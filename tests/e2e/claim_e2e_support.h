// -----------------------------------------------------------------------------
// File: claim_e2e_support.h
// -----------------------------------------------------------------------------
//
// The fixture of the ClaimService end-to-end tests: a real tradein-server (tests/e2e/server_process.h) over
// the embedded memory store or over a real redis-server (tests/testing/redis_server.h), with the shipped
// policies or a copy edited for the test (a short hold, a small budget), and blocking helpers for each call.
#ifndef TRADEIN_TESTS_E2E_CLAIM_E2E_SUPPORT_H_
#define TRADEIN_TESTS_E2E_CLAIM_E2E_SUPPORT_H_

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/temp_dir.h"
#include "tradein/v1/claim_service.grpc.pb.h"

namespace tradein::testing {

enum class StoreMode { kMemory, kRedis };
std::string StoreModeName(const ::testing::TestParamInfo<StoreMode>& info);
inline void PrintTo(StoreMode mode, std::ostream* out) {
  *out << (mode == StoreMode::kMemory ? "Memory" : "Redis");
}

// A call's answer as a StatusOr: the response, or the gRPC status (code and message).
absl::Status ToAbsl(const grpc::Status& status);
template <typename Response>
absl::StatusOr<Response> Answer(const grpc::Status& status, Response response) {
  if (!status.ok()) return ToAbsl(status);
  return response;
}

// A valid 18-character PRC id for test buyer `n`, distinct for n in [0, 50,000) (born in Rui'an on 1 January
// 1990 for n < 1000, a year earlier for each further thousand; the check digit computed).
std::string PrcId(int n);

// A text edit of one shipped policy file: `from` → `to` (every occurrence; `from` must occur).
struct PolicyEdit {
  std::string file;
  std::string from;
  std::string to;
};

// Copies the shipped policies into directory `target` (created) with `edits` applied; NOT_FOUND when an
// edit's `from` does not occur in its file.
absl::Status CopyPoliciesWithEdits(const std::string& target, const std::vector<PolicyEdit>& edits);

class ClaimE2eTest : public ::testing::TestWithParam<StoreMode> {
 protected:
  // Starts the server (and Redis in kRedis mode) with the shipped policies edited by `edits`, its clock at
  // `simulated_now`. False (with a failure recorded) if anything cannot start.
  bool StartServer(const std::vector<PolicyEdit>& edits,
                   const std::string& simulated_now = "2025-06-01T10:00:00+08:00",
                   std::vector<std::string> extra_args = {});

  std::shared_ptr<grpc::Channel> channel() const { return server_->channel(); }
  ServerProcess& server() { return *server_; }
  RedisServer* redis() { return redis_.get(); }
  // The policy directory the server was started with (the edited copy).
  std::string policy_dir() const { return dir_->Join("policies"); }

  // Metadata every helper call below sends, e.g. {"authorization", "Bearer <key>"} for a server started with
  // --callers_file. None by default.
  void SetCallMetadata(std::vector<std::pair<std::string, std::string>> metadata) {
    call_metadata_ = std::move(metadata);
  }
  // A client context with a deadline and the call metadata.
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration deadline = absl::Seconds(10)) const;

  // A Rui'an claim by retailer "shop-1" for `buyer` of the item (JSON of one tradein.v1.Item).
  static v1::ClaimRequest ClaimRequest(const std::string& request_id, const std::string& buyer,
                                       const std::string& item_json, const std::string& date = "2025-06-01");

  absl::StatusOr<v1::Claim> Claim(const v1::ClaimRequest& request,
                                  absl::Duration deadline = absl::Seconds(10));
  absl::StatusOr<v1::Claim> Confirm(
      const std::string& claim_id, const std::string& invoice,
      const std::vector<std::pair<std::string, std::vector<std::string>>>& serials);
  absl::StatusOr<v1::Claim> Cancel(const std::string& claim_id);
  absl::StatusOr<v1::Claim> Refund(const std::string& claim_id, const std::string& request_id);
  absl::StatusOr<v1::Claim> Get(const std::string& claim_id);
  absl::StatusOr<v1::BuyerUsage> Usage(const std::string& buyer, const std::string& date = "2025-06-01");
  absl::StatusOr<v1::BudgetUsage> BudgetUsage(const std::string& region, const std::string& date);
  // Units used of the buyer's refrigerator / air-conditioner quota (Zhejiang 2025), -1 on error.
  int FridgeUnitsUsed(const std::string& buyer);
  int AirConditionerUnitsUsed(const std::string& buyer);

  // All requests in flight at once over one channel; answers in request order. An answer that says "try
  // again" (UNAVAILABLE or DEADLINE_EXCEEDED: a machine too busy to answer within the server's store timeout)
  // is retried with the same request, as a till would (till_load.h's RetryPolicy); the claim a retry answers
  // is the one the first attempt made, if it made one.
  std::vector<absl::StatusOr<v1::Claim>> ClaimConcurrently(const std::vector<v1::ClaimRequest>& requests);

  // Prints a figure for the closing note and records it in the test's XML.
  void RecordNumber(const std::string& name, int64_t value);

 private:
  int UnitsUsed(const std::string& buyer, const std::string& product_type);

  std::optional<TempDir> dir_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<std::pair<std::string, std::string>> call_metadata_;
};

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_E2E_CLAIM_E2E_SUPPORT_H_
