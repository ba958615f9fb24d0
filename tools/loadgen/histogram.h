// -----------------------------------------------------------------------------
// File: histogram.h
// -----------------------------------------------------------------------------
//
// LatencyHistogram counts non-negative integer values (the load generator records nanoseconds) in
// HdrHistogram-style log-linear buckets, so percentiles of millions of samples cost a fixed 35 KiB and a walk
// over ~4,500 counters, with a stated error bound:
//
//   - every value below 2^(kSubBucketBits + 1) = 256 has a bucket of its own (exact);
//   - above that, each power-of-two range [2^e, 2^(e+1)) is cut into 2^kSubBucketBits = 128 equal buckets, so
//     a bucket is never wider than 1/128 of the smallest value it holds.
//
// ValueAtQuantile(q) finds the bucket holding the ceil(q·count)-th smallest recorded value (the nearest-rank
// percentile) and reports the highest value that bucket can hold, capped at the exact maximum. So, for the
// exact nearest-rank value x: x <= reported <= x · (1 + kMaxRelativeError), with kMaxRelativeError = 2^-7
// (0.79%). A percentile is never reported below the truth. count, min, max and sum are exact; q = 1 is max.
//
// Values above kMaxTrackableValue (2^41 - 1 ns, about 36 minutes) are counted in the top bucket; max stays
// exact. Negative values are recorded as 0.
//
//   LatencyHistogram h;
//   h.Record(latency_ns);
//   total.Merge(h);
//   int64_t p99 = total.ValueAtQuantile(0.99);
//
// Thread safety: none; one writer at a time (the load generator keeps one per shard under a lock and merges
// them at the end). Errors: none.
#ifndef TRADEIN_TOOLS_LOADGEN_HISTOGRAM_H_
#define TRADEIN_TOOLS_LOADGEN_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tradein::loadgen {

class LatencyHistogram {
 public:
  // Bits of sub-bucket resolution per power of two: 2^7 = 128 buckets per octave.
  static constexpr int kSubBucketBits = 7;
  // Highest bit of a tracked value: values up to 2^(kMaxValueBits + 1) - 1.
  static constexpr int kMaxValueBits = 40;
  static constexpr int64_t kMaxTrackableValue = (int64_t{1} << (kMaxValueBits + 1)) - 1;
  // The bound on (reported - exact) / exact of ValueAtQuantile.
  static constexpr double kMaxRelativeError = 1.0 / static_cast<double>(1 << kSubBucketBits);

  LatencyHistogram();

  void Record(int64_t value);
  // Adds every count of `other` (which may be *this's copy, but not *this).
  void Merge(const LatencyHistogram& other);
  void Clear();

  int64_t count() const { return count_; }
  // 0 when empty.
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return max_; }
  int64_t sum() const { return sum_; }
  double mean() const;

  // ValueAtQuantile
  //
  // The nearest-rank value at quantile `q` (clamped to [0, 1]) within the bound above; 0 when empty.
  int64_t ValueAtQuantile(double q) const;

  // Bucket geometry, public for the tests.
  static size_t BucketIndex(int64_t value);
  static int64_t BucketLowest(size_t index);
  static int64_t BucketHighest(size_t index);
  static size_t BucketCount();

 private:
  std::vector<int64_t> counts_;
  int64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  int64_t sum_ = 0;
};

}  // namespace tradein::loadgen

#endif  // TRADEIN_TOOLS_LOADGEN_HISTOGRAM_H_
