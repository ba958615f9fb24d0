#include "tools/loadgen/report.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace tradein::loadgen {
namespace {

struct Quantile {
  const char* key;
  double q;
};
constexpr Quantile kQuantiles[] = {{"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p999", 0.999}};

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }
double Us(int64_t ns) { return static_cast<double>(ns) / 1e3; }
double PerSecond(int64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }

std::string JsonString(absl::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

std::string JsonNumber(double v) { return absl::StrFormat("%.3f", v); }

// {"k": v, ...} from already-encoded values.
std::string JsonObject(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : fields) parts.push_back(absl::StrCat(JsonString(key), ":", value));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string LatencyJson(const LatencyHistogram& h) {
  std::vector<std::pair<std::string, std::string>> fields = {{"min", JsonNumber(Us(h.min()))},
                                                             {"mean", JsonNumber(h.mean() / 1e3)}};
  for (const Quantile& q : kQuantiles) fields.emplace_back(q.key, JsonNumber(Us(h.ValueAtQuantile(q.q))));
  fields.emplace_back("max", JsonNumber(Us(h.max())));
  return JsonObject(fields);
}

std::string StatesJson(const std::array<int64_t, kNumClaimStates>& states) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (int s = 0; s < kNumClaimStates; ++s) {
    if (states[static_cast<size_t>(s)] > 0) {
      fields.emplace_back(std::string(ClaimStateName(s)), absl::StrCat(states[static_cast<size_t>(s)]));
    }
  }
  return JsonObject(fields);
}

std::string StatesLine(const std::array<int64_t, kNumClaimStates>& states) {
  std::vector<std::string> parts;
  for (int s = 0; s < kNumClaimStates; ++s) {
    if (states[static_cast<size_t>(s)] > 0) {
      parts.push_back(absl::StrCat(ClaimStateName(s), " ", states[static_cast<size_t>(s)]));
    }
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

std::string ModeLine(const LoadgenOptions& options) {
  return options.rate > 0 ? absl::StrFormat("open loop at %.1f ops/s", options.rate)
                          : absl::StrFormat("closed loop, %d in flight", options.concurrency);
}

std::string TableRow(absl::string_view name, int64_t count, double per_s, int64_t errors,
                     const LatencyHistogram& h) {
  std::string row = absl::StrFormat("%-22s %9d %10.1f %7d", name, count, per_s, errors);
  for (const Quantile& q : kQuantiles) absl::StrAppendFormat(&row, " %9.3f", Ms(h.ValueAtQuantile(q.q)));
  absl::StrAppendFormat(&row, " %9.3f\n", Ms(h.max()));
  return row;
}

}  // namespace

std::string FormatTable(const LoadgenOptions& options, const RunResult& result) {
  const Stats& s = result.stats;
  const double w = result.window_seconds;
  std::string out = absl::StrFormat(
      "tradein-loadgen: scenario %s, %s, %d channel(s) to %s, run_id %s\n"
      "recorded %.2f s after %s warm-up%s: %d ops (%.1f ops/s), %d calls (%.1f calls/s), %d errors\n\n",
      ScenarioName(options.scenario), ModeLine(options), options.channels, options.target, result.run_id, w,
      absl::FormatDuration(options.warmup), result.interrupted ? " (interrupted)" : "", s.TotalOps(),
      PerSecond(s.TotalOps(), w), s.TotalCalls(), PerSecond(s.TotalCalls(), w), s.TotalErrors());
  absl::StrAppendFormat(&out, "%-22s %9s %10s %7s %9s %9s %9s %9s %9s\n", "latency (ms)", "count", "per s",
                        "errors", "p50", "p90", "p99", "p99.9", "max");
  for (int k = 0; k < kNumCallKinds; ++k) {
    const CallStats& c = s.calls[static_cast<size_t>(k)];
    if (c.count == 0) continue;
    out += TableRow(absl::StrCat("call ", CallKindName(static_cast<CallKind>(k))), c.count,
                    PerSecond(c.count, w), c.errors(), c.latency);
  }
  for (int k = 0; k < kNumOpKinds; ++k) {
    const OpStats& o = s.ops[static_cast<size_t>(k)];
    if (o.count == 0 || !IsMultiCall(static_cast<OpKind>(k))) continue;
    out += TableRow(absl::StrCat("op ", OpKindName(static_cast<OpKind>(k))), o.count, PerSecond(o.count, w),
                    o.failed, o.latency);
  }
  std::vector<std::string> errors;
  for (int k = 0; k < kNumCallKinds; ++k) {
    const CallStats& c = s.calls[static_cast<size_t>(k)];
    for (int code = 1; code < kNumStatusCodes; ++code) {
      if (c.by_code[static_cast<size_t>(code)] > 0) {
        errors.push_back(absl::StrCat(CallKindName(static_cast<CallKind>(k)), " ", StatusCodeName(code), " ",
                                      c.by_code[static_cast<size_t>(code)]));
      }
    }
  }
  absl::StrAppend(&out, "\nerrors: ", errors.empty() ? "none" : absl::StrJoin(errors, ", "), "\n");
  if (s.call(CallKind::kClaim).count > 0) {
    absl::StrAppend(&out, "claim outcomes: ", StatesLine(s.claim_states), "\n");
    absl::StrAppend(&out, "confirm outcomes: ", StatesLine(s.confirm_states), "\n");
  }
  if (options.rate > 0) {
    absl::StrAppendFormat(
        &out,
        "open loop: %.1f ops/s started; sender lag behind schedule p99 %.3f ms, max %.3f ms; "
        "max %d in flight%s\n",
        PerSecond(result.send_lag.count(), w), Ms(result.send_lag.ValueAtQuantile(0.99)),
        Ms(result.send_lag.max()), result.max_in_flight,
        result.sender_throttled > 0
            ? absl::StrCat(" (sender waited at --max_in_flight ", result.sender_throttled, " times)")
            : "");
  }
  return out;
}

std::string FormatJson(const LoadgenOptions& options, const RunResult& result) {
  const Stats& s = result.stats;
  const double w = result.window_seconds;
  std::vector<std::pair<std::string, std::string>> calls;
  for (int k = 0; k < kNumCallKinds; ++k) {
    const CallStats& c = s.calls[static_cast<size_t>(k)];
    if (c.count == 0) continue;
    std::vector<std::pair<std::string, std::string>> codes;
    for (int code = 1; code < kNumStatusCodes; ++code) {
      if (c.by_code[static_cast<size_t>(code)] > 0) {
        codes.emplace_back(std::string(StatusCodeName(code)),
                           absl::StrCat(c.by_code[static_cast<size_t>(code)]));
      }
    }
    calls.emplace_back(std::string(CallKindName(static_cast<CallKind>(k))),
                       JsonObject({{"count", absl::StrCat(c.count)},
                                   {"per_s", JsonNumber(PerSecond(c.count, w))},
                                   {"errors", absl::StrCat(c.errors())},
                                   {"errors_by_code", JsonObject(codes)},
                                   {"latency_us", LatencyJson(c.latency)}}));
  }
  std::vector<std::pair<std::string, std::string>> ops;
  for (int k = 0; k < kNumOpKinds; ++k) {
    const OpStats& o = s.ops[static_cast<size_t>(k)];
    if (o.count == 0) continue;
    ops.emplace_back(std::string(OpKindName(static_cast<OpKind>(k))),
                     JsonObject({{"count", absl::StrCat(o.count)},
                                 {"per_s", JsonNumber(PerSecond(o.count, w))},
                                 {"failed", absl::StrCat(o.failed)},
                                 {"latency_us", LatencyJson(o.latency)}}));
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"tool", JsonString("tradein-loadgen")},
      {"scenario", JsonString(ScenarioName(options.scenario))},
      {"mode", JsonString(options.rate > 0 ? "open" : "closed")},
      {"concurrency", absl::StrCat(options.rate > 0 ? 0 : options.concurrency)},
      {"rate", JsonNumber(options.rate)},
      {"channels", absl::StrCat(options.channels)},
      {"target", JsonString(options.target)},
      {"run_id", JsonString(result.run_id)},
      {"warmup_s", JsonNumber(absl::ToDoubleSeconds(options.warmup))},
      {"window_s", JsonNumber(w)},
      {"interrupted", result.interrupted ? "true" : "false"},
      {"ops", absl::StrCat(s.TotalOps())},
      {"calls", absl::StrCat(s.TotalCalls())},
      {"ops_per_s", JsonNumber(PerSecond(s.TotalOps(), w))},
      {"calls_per_s", JsonNumber(PerSecond(s.TotalCalls(), w))},
      {"errors", absl::StrCat(s.TotalErrors())},
      {"calls_by_kind", JsonObject(calls)},
      {"ops_by_kind", JsonObject(ops)},
      {"claim_outcomes", StatesJson(s.claim_states)},
      {"confirm_outcomes", StatesJson(s.confirm_states)},
  };
  if (options.rate > 0) {
    fields.emplace_back("open_loop",
                        JsonObject({{"send_lag_us", LatencyJson(result.send_lag)},
                                    {"max_in_flight", absl::StrCat(result.max_in_flight)},
                                    {"sender_throttled", absl::StrCat(result.sender_throttled)}}));
  }
  return absl::StrCat(JsonObject(fields), "\n");
}

}  // namespace tradein::loadgen
