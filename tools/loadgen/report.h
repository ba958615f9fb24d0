// -----------------------------------------------------------------------------
// File: report.h
// -----------------------------------------------------------------------------
//
// A run's results for people (FormatTable: a fixed-width table) and for programs (FormatJson: one JSON
// object, keys below). Latencies are reported in milliseconds in the table and microseconds in JSON, as the
// histogram's nearest-rank percentiles (at most 0.79% above the exact value, never below; see histogram.h).
//
// JSON: {"tool", "scenario", "mode" ("closed"|"open"), "concurrency", "rate", "channels", "target", "run_id",
//        "warmup_s", "window_s", "interrupted", "ops", "calls", "ops_per_s", "calls_per_s", "errors",
//        "calls_by_kind": {kind: {"count", "per_s", "errors", "errors_by_code": {CODE: n},
//                                 "latency_us": {"min", "mean", "p50", "p90", "p99", "p999", "max"}}},
//        "ops_by_kind": {kind: {"count", "per_s", "failed", "latency_us": {...}}},
//        "claim_outcomes": {STATE: n}, "confirm_outcomes": {STATE: n},
//        "open_loop": {"send_lag_us": {...}, "max_in_flight", "sender_throttled"} (open loop only)}
//
// Thread safety: pure functions. Errors: none.
#ifndef TRADEIN_TOOLS_LOADGEN_REPORT_H_
#define TRADEIN_TOOLS_LOADGEN_REPORT_H_

#include <string>

#include "tools/loadgen/loadgen.h"

namespace tradein::loadgen {

std::string FormatTable(const LoadgenOptions& options, const RunResult& result);
std::string FormatJson(const LoadgenOptions& options, const RunResult& result);

}  // namespace tradein::loadgen

#endif  // TRADEIN_TOOLS_LOADGEN_REPORT_H_
