// -----------------------------------------------------------------------------
// File: access_control.h
// -----------------------------------------------------------------------------
//
// Who may do what. Every RPC handler of ours asks AccessControl first:
//
//   absl::StatusOr<Grant> grant = access_.Authorize(*context, Action::kClaim, request.retailer_id(),
//                                                   request.region_code());
//
// Authentication: an mTLS client identity (the certificate's CN or a SAN) or `authorization: Bearer <key>`,
// looked up in the callers table (callers_table.h). Without a callers file the service runs unauthenticated:
// every call is the "anonymous" caller with every right (the server allows that only on loopback unless told
// otherwise). Health and reflection never come here.
//
// Authorisation (README has the full matrix):
//   retailer  Quote; Claim/Confirm/Cancel/Refund/GetClaim of its own claims (its retailerId comes from the
//             credentials; another in the request is PERMISSION_DENIED) and only for its regions; usage
//             reads.
//   portal    every read (claims, buyer usage, budgets, reports, exports); changes nothing.
//   admin     portal rights plus reloads and corrections.
// Errors: UNAUTHENTICATED (no or unknown credentials), PERMISSION_DENIED (wrong role, retailer or region),
// RESOURCE_EXHAUSTED with a RetryInfo (the caller's token bucket is empty). None says whether the thing asked
// for exists: ownership of a claim is checked by the store, which answers NOT_FOUND for another's.
//
// Thread safety: all methods may be called from any thread; ReplaceCallers swaps atomically.
#ifndef TRADEIN_SERVICES_AUTH_ACCESS_CONTROL_H_
#define TRADEIN_SERVICES_AUTH_ACCESS_CONTROL_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "services/auth/callers_table.h"

namespace tradein::auth {

enum class Action : uint8_t {
  kQuote,
  kReadPolicy,
  kClaim,        // a new claim (retailer + region bound)
  kChangeClaim,  // confirm, cancel, refund (retailer bound)
  kReadClaim,    // get one claim (retailers: their own)
  kReadUsage,    // buyer usage, budget usage
  kPortalRead,   // listings, exports, totals, any buyer's usage
  kAdmin,        // reloads, corrections
};

// What a call may act as.
struct Grant {
  std::string caller_id;  // "anonymous" without authentication
  // The retailer the call acts for: from the credentials for retailers, else from the request (may be "").
  std::string retailer_id;
  // True for retailers: store lookups of claims must be limited to retailer_id.
  bool retailer_bound = false;
};

class AccessControl {
 public:
  // `callers` null: authentication off (everyone is "anonymous" with every right).
  explicit AccessControl(std::shared_ptr<const CallersTable> callers);

  // Authorize
  //
  // Authenticates the call, checks its rate limit and that its role may do `action` for `request_retailer`
  // (the request's retailerId, may be empty) in `request_region` (Claim only; empty otherwise).
  // `caller_id`, when given, receives who the credentials name even when the call is refused (for the access
  // line); it is left empty when no caller could be identified.
  [[nodiscard]] absl::StatusOr<Grant> Authorize(const grpc::ServerContextBase& context, Action action,
                                                absl::string_view request_retailer = "",
                                                absl::string_view request_region = "",
                                                std::string* caller_id = nullptr);

  bool enabled() const { return callers_.load() != nullptr; }
  // The callers table in force (null without authentication).
  std::shared_ptr<const CallersTable> callers() const { return callers_.load(); }
  // Swaps in a reloaded callers table (rate-limit buckets of callers that stay are kept).
  void ReplaceCallers(std::shared_ptr<const CallersTable> callers);

 private:
  struct Bucket {
    int64_t tokens_nanos = 0;    // tokens × 1e9
    int64_t refilled_nanos = 0;  // steady clock: a wall-clock step never drains or fills a bucket
  };
  // Takes one token of `caller`'s bucket, or returns how long until one is there.
  absl::Status TakeToken(const Caller& caller);

  std::atomic<std::shared_ptr<const CallersTable>> callers_;
  absl::Mutex buckets_mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(buckets_mu_);
};

// ActionName
//
// "claim", "portal_read", ... for messages and the README matrix.
absl::string_view ActionName(Action action);

}  // namespace tradein::auth

#endif  // TRADEIN_SERVICES_AUTH_ACCESS_CONTROL_H_
