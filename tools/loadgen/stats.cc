#include "tools/loadgen/stats.h"

namespace tradein::loadgen {

absl::string_view CallKindName(CallKind kind) {
  switch (kind) {
    case CallKind::kHealth:
      return "health";
    case CallKind::kQuote:
      return "quote";
    case CallKind::kClaim:
      return "claim";
    case CallKind::kConfirm:
      return "confirm";
    case CallKind::kGetClaim:
      return "get_claim";
    case CallKind::kGetBuyerUsage:
      return "get_buyer_usage";
  }
  return "?";
}

absl::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kHealth:
      return "health";
    case OpKind::kQuote:
      return "quote";
    case OpKind::kClaimConfirm:
      return "claim+confirm";
    case OpKind::kHotClaim:
      return "hot_claim";
    case OpKind::kGetClaim:
      return "get_claim";
    case OpKind::kGetBuyerUsage:
      return "get_buyer_usage";
  }
  return "?";
}

bool IsMultiCall(OpKind kind) { return kind == OpKind::kClaimConfirm || kind == OpKind::kHotClaim; }

absl::string_view StatusCodeName(int code) {
  static constexpr absl::string_view kNames[kNumStatusCodes] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  return code >= 0 && code < kNumStatusCodes ? kNames[code] : "UNKNOWN_CODE";
}

absl::string_view ClaimStateName(int state) {
  static constexpr absl::string_view kNames[kNumClaimStates] = {"STATE_UNSPECIFIED",  "RESERVED", "CONFIRMED",
                                                                "CANCELLED",          "EXPIRED",  "REFUNDED",
                                                                "PARTIALLY_REFUNDED", "REJECTED"};
  return state >= 0 && state < kNumClaimStates ? kNames[state] : "UNKNOWN_STATE";
}

void CallStats::Merge(const CallStats& other) {
  count += other.count;
  latency.Merge(other.latency);
  for (size_t i = 0; i < by_code.size(); ++i) by_code[i] += other.by_code[i];
}

void OpStats::Merge(const OpStats& other) {
  count += other.count;
  failed += other.failed;
  latency.Merge(other.latency);
}

int64_t Stats::TotalCalls() const {
  int64_t total = 0;
  for (const CallStats& c : calls) total += c.count;
  return total;
}

int64_t Stats::TotalOps() const {
  int64_t total = 0;
  for (const OpStats& o : ops) total += o.count;
  return total;
}

int64_t Stats::TotalErrors() const {
  int64_t total = 0;
  for (const CallStats& c : calls) total += c.errors();
  return total;
}

void Stats::Merge(const Stats& other) {
  for (size_t i = 0; i < calls.size(); ++i) calls[i].Merge(other.calls[i]);
  for (size_t i = 0; i < ops.size(); ++i) ops[i].Merge(other.ops[i]);
  for (size_t i = 0; i < claim_states.size(); ++i) {
    claim_states[i] += other.claim_states[i];
    confirm_states[i] += other.confirm_states[i];
  }
}

Recorder::Recorder(size_t shards) {
  for (size_t i = 0; i < std::max<size_t>(shards, 1); ++i) shards_.push_back(std::make_unique<Shard>());
}

void Recorder::RecordCall(size_t shard, CallKind kind, int64_t latency_ns, int status_code) {
  Shard& s = ShardOf(shard);
  absl::MutexLock lock(&s.mu);
  CallStats& c = s.stats.call(kind);
  ++c.count;
  c.latency.Record(latency_ns);
  ++c.by_code[static_cast<size_t>(status_code >= 0 && status_code < kNumStatusCodes ? status_code : 2)];
}

void Recorder::RecordClaimState(size_t shard, bool confirm, int state) {
  Shard& s = ShardOf(shard);
  absl::MutexLock lock(&s.mu);
  const size_t i = static_cast<size_t>(state >= 0 && state < kNumClaimStates ? state : 0);
  ++(confirm ? s.stats.confirm_states : s.stats.claim_states)[i];
}

void Recorder::RecordOp(size_t shard, OpKind kind, int64_t latency_ns, bool failed) {
  Shard& s = ShardOf(shard);
  absl::MutexLock lock(&s.mu);
  OpStats& o = s.stats.op(kind);
  ++o.count;
  if (failed) ++o.failed;
  o.latency.Record(latency_ns);
}

Stats Recorder::Snapshot() const {
  Stats total;
  for (const std::unique_ptr<Shard>& s : shards_) {
    absl::MutexLock lock(&s->mu);
    total.Merge(s->stats);
  }
  return total;
}

}  // namespace tradein::loadgen
