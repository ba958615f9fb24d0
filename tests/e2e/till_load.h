// -----------------------------------------------------------------------------
// File: till_load.h
// -----------------------------------------------------------------------------
//
// Tills under load for the e2e tests that break something mid-run (a Redis master's failover, a reshard, an
// instance killed behind nginx): each till claims a fridge and confirms it when granted, retrying every call
// with the same request as a real till does, and a TillTally records what the tills were told, so the test
// can check afterwards that nothing acknowledged was lost and nothing was granted twice.
//
//   TillTally tally;
//   ClaimAndConfirm(*stub, "till-1-7", PrcId(7), RetryPolicy{}, tally);
//   EXPECT_EQ(CheckNothingLostOrOverGranted(tally, channel), 0);
//
// Thread safety: a TillTally may be shared by any number of tills; the functions are thread-safe.
#ifndef TRADEIN_TESTS_E2E_TILL_LOAD_H_
#define TRADEIN_TESTS_E2E_TILL_LOAD_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "tradein/v1/claim_service.grpc.pb.h"

namespace tradein::testing {

// What the tills saw.
struct TillTally {
  absl::Mutex mu;
  std::map<std::string, std::set<std::string>> claim_ids_by_request ABSL_GUARDED_BY(mu);
  std::map<std::string, int> granted_by_buyer ABSL_GUARDED_BY(mu);
  std::vector<std::string> confirmed ABSL_GUARDED_BY(mu);  // claim ids acknowledged CONFIRMED
  std::map<int, int> failures_by_code ABSL_GUARDED_BY(mu);
  int calls ABSL_GUARDED_BY(mu) = 0;
  int retried_to_success ABSL_GUARDED_BY(mu) = 0;  // calls that failed, then succeeded with the same ids
  absl::Duration longest_failure ABSL_GUARDED_BY(mu);

  // Attempts that failed, of every code.
  int Failures() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    int failures = 0;
    for (const auto& [code, count] : failures_by_code) failures += count;
    return failures;
  }
};

// When a till tries a call again, and for how long each attempt may take.
struct RetryPolicy {
  std::set<grpc::StatusCode> retryable = {grpc::UNAVAILABLE, grpc::DEADLINE_EXCEEDED};
  absl::Duration deadline = absl::Seconds(3);
  // A till keeps trying for this long: a count of attempts would run out sooner when they fail fast (a
  // server that knows its store is down answers at once) on a machine where a failover takes longer.
  absl::Duration give_up_after = absl::Seconds(60);
};

// A one-fridge Claim (shop-1 in 330381 on 2025-06-01, grade 1, 5,000 yuan) for `buyer` (a PRC id number).
v1::ClaimRequest FridgeClaim(const std::string& request_id, const std::string& buyer);

// Calls `call` with a fresh context (deadline `policy.deadline`) until it answers anything `policy` does not
// retry, 50 ms apart, for at most `policy.give_up_after`; counts every attempt and failure in `tally`.
grpc::Status CallRetrying(TillTally& tally, const RetryPolicy& policy,
                          const std::function<grpc::Status(grpc::ClientContext&)>& call);

// Claims a fridge for `buyer` with `request_id` and, when it is RESERVED, confirms it (invoice = the request
// id), each call retried per `policy`; records the claim and the confirmation in `tally`. False, with a test
// failure naming the call, when a call never answered OK.
bool ClaimAndConfirm(v1::ClaimService::Stub& stub, const std::string& request_id, const std::string& buyer,
                     const RetryPolicy& policy, TillTally& tally);

// What every run under load must show (each a test failure otherwise): each request id made one claim, no
// buyer was granted more than one fridge, and every claim acknowledged CONFIRMED is still CONFIRMED when read
// through `channel`. Returns how many acknowledged confirmations were lost.
int CheckNothingLostOrOverGranted(TillTally& tally, const std::shared_ptr<grpc::Channel>& channel);

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_E2E_TILL_LOAD_H_
