// -----------------------------------------------------------------------------
// File: metrics.h
// -----------------------------------------------------------------------------
//
// Prometheus metrics: counters, gauges and histograms registered once (name, help, fixed label values) and
// rendered in the text exposition format for /metrics. Updating a metric is one relaxed atomic operation;
// registration takes a mutex and is meant for start-up or for a call site's first use (cache the reference).
// Values computed at scrape time (budget remaining, loaded policy versions) come from collectors.
//
//   Counter& claims = registry.AddCounter("tradein_claims_total", "Claims by outcome.", {{"outcome",
//   "reserved"}}); claims.Increment();
//
// Labels must never carry a buyer, a request id or anything per call: cardinality stays bounded.
//
// Thread safety: all methods may be called from any thread. References returned stay valid for the
// registry's lifetime.
#ifndef TRADEIN_COMMON_METRICS_H_
#define TRADEIN_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace tradein {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Cumulative buckets of observations in seconds (latencies; never money).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double seconds);
  std::vector<uint64_t> BucketCounts() const;  // per bound, then +Inf; not cumulative
  double sum() const;
  uint64_t count() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> sum_nanos_{0};
  std::atomic<uint64_t> count_{0};
};

// Default latency buckets: 100 µs .. 10 s.
std::vector<double> LatencyBuckets();

// Writes samples for a collector at scrape time.
class MetricsWriter {
 public:
  virtual ~MetricsWriter() = default;
  virtual void Gauge(absl::string_view name, absl::string_view help, const MetricLabels& labels,
                     double value) = 0;
  virtual void Counter(absl::string_view name, absl::string_view help, const MetricLabels& labels,
                       double value) = 0;
};

class MetricsRegistry {
 public:
  Counter& AddCounter(absl::string_view name, absl::string_view help, const MetricLabels& labels = {});
  Gauge& AddGauge(absl::string_view name, absl::string_view help, const MetricLabels& labels = {});
  Histogram& AddHistogram(absl::string_view name, absl::string_view help, const MetricLabels& labels = {},
                          std::vector<double> upper_bounds = LatencyBuckets());
  void AddCollector(std::function<void(MetricsWriter&)> collector);

  // Render
  //
  // Everything in the Prometheus text format (version 0.0.4), families sorted by name.
  std::string Render() const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // by rendered label set
    std::map<std::string, std::unique_ptr<class Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& FamilyLocked(absl::string_view name, absl::string_view help, absl::string_view type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void(MetricsWriter&)>> collectors_ ABSL_GUARDED_BY(mu_);
};

// RenderLabels
//
// {a="x",b="y"} with Prometheus escaping; "" for no labels.
std::string RenderLabels(const MetricLabels& labels);

}  // namespace tradein

#endif  // TRADEIN_COMMON_METRICS_H_
