// -----------------------------------------------------------------------------
// File: stats.h
// -----------------------------------------------------------------------------
//
// What one load-generator run measures: for each kind of gRPC call (Health/Check, Quote, Claim, ...) its
// count, a latency histogram and its errors by gRPC status code; for each kind of operation (a scenario's
// unit of work: one call, or a Claim followed by its ConfirmClaim) its count and end-to-end latency; and the
// states the Claim and ConfirmClaim responses came back in (RESERVED, REJECTED, CONFIRMED, ...).
//
// Recorder spreads the writers over shards, each behind its own lock (callbacks of different calls run on
// different gRPC threads), and Snapshot() merges the shards into one Stats.
//
// Thread safety: Stats is a value (no locking); every Recorder method may be called from any thread.
// Errors: none.
#ifndef TRADEIN_TOOLS_LOADGEN_STATS_H_
#define TRADEIN_TOOLS_LOADGEN_STATS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tools/loadgen/histogram.h"

namespace tradein::loadgen {

enum class CallKind : int { kHealth, kQuote, kClaim, kConfirm, kGetClaim, kGetBuyerUsage };
inline constexpr int kNumCallKinds = 6;
// "health", "quote", "claim", "confirm", "get_claim", "get_buyer_usage".
absl::string_view CallKindName(CallKind kind);

enum class OpKind : int { kHealth, kQuote, kClaimConfirm, kHotClaim, kGetClaim, kGetBuyerUsage };
inline constexpr int kNumOpKinds = 6;
// "health", "quote", "claim+confirm", "hot_claim", "get_claim", "get_buyer_usage".
absl::string_view OpKindName(OpKind kind);
// An operation made of more than one call (its latency is not one call's).
bool IsMultiCall(OpKind kind);

// gRPC status codes 0 (OK) .. 16 (UNAUTHENTICATED).
inline constexpr int kNumStatusCodes = 17;
absl::string_view StatusCodeName(int code);

// tradein.v1.Claim.State values 0 .. 7.
inline constexpr int kNumClaimStates = 8;
absl::string_view ClaimStateName(int state);

struct CallStats {
  int64_t count = 0;
  // Every finished call, whatever its status: a failure that took 5 s is 5 s of somebody's wait.
  LatencyHistogram latency;
  std::array<int64_t, kNumStatusCodes> by_code{};

  int64_t errors() const { return count - by_code[0]; }
  void Merge(const CallStats& other);
};

struct OpStats {
  int64_t count = 0;
  int64_t failed = 0;  // operations with at least one call that did not return OK
  LatencyHistogram latency;

  void Merge(const OpStats& other);
};

struct Stats {
  std::array<CallStats, kNumCallKinds> calls;
  std::array<OpStats, kNumOpKinds> ops;
  std::array<int64_t, kNumClaimStates> claim_states{};    // Claim responses (and hot claims)
  std::array<int64_t, kNumClaimStates> confirm_states{};  // ConfirmClaim responses

  CallStats& call(CallKind kind) { return calls[static_cast<size_t>(kind)]; }
  const CallStats& call(CallKind kind) const { return calls[static_cast<size_t>(kind)]; }
  OpStats& op(OpKind kind) { return ops[static_cast<size_t>(kind)]; }
  const OpStats& op(OpKind kind) const { return ops[static_cast<size_t>(kind)]; }

  int64_t TotalCalls() const;
  int64_t TotalOps() const;
  int64_t TotalErrors() const;
  void Merge(const Stats& other);
};

class Recorder {
 public:
  explicit Recorder(size_t shards);

  // `shard` is any number (taken modulo the shard count): a slot or sequence number spreads the writers.
  void RecordCall(size_t shard, CallKind kind, int64_t latency_ns, int status_code);
  void RecordClaimState(size_t shard, bool confirm, int state);
  void RecordOp(size_t shard, OpKind kind, int64_t latency_ns, bool failed);

  Stats Snapshot() const;

 private:
  struct Shard {
    mutable absl::Mutex mu;
    Stats stats ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(size_t shard) { return *shards_[shard % shards_.size()]; }

  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace tradein::loadgen

#endif  // TRADEIN_TOOLS_LOADGEN_STATS_H_
