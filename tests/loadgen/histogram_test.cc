// LatencyHistogram: bucket geometry, nearest-rank percentiles within the stated bound against the exact
// sorted values, merge, min/max/mean, clamping.
#include "tools/loadgen/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tradein::loadgen {
namespace {

// The exact nearest-rank percentile of `sorted`.
int64_t ExactQuantile(const std::vector<int64_t>& sorted, double q) {
  const int64_t n = static_cast<int64_t>(sorted.size());
  int64_t rank =
      static_cast<int64_t>(std::ceil(q * static_cast<double>(n) - 1e-9 * q * static_cast<double>(n)));
  rank = std::clamp<int64_t>(rank, 1, n);
  return sorted[static_cast<size_t>(rank - 1)];
}

void ExpectWithinBound(const LatencyHistogram& h, std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  for (const double q : {0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.995, 0.999, 0.9999, 1.0}) {
    const int64_t exact = ExactQuantile(values, q);
    const int64_t reported = h.ValueAtQuantile(q);
    EXPECT_GE(reported, exact) << "q=" << q;
    EXPECT_LE(static_cast<double>(reported),
              static_cast<double>(exact) * (1.0 + LatencyHistogram::kMaxRelativeError))
        << "q=" << q << " exact=" << exact;
  }
}

TEST(LatencyHistogramTest, BucketsTileTheRangeWithBoundedWidth) {
  int64_t expected_lowest = 0;
  for (size_t i = 0; i < LatencyHistogram::BucketCount(); ++i) {
    const int64_t lowest = LatencyHistogram::BucketLowest(i);
    const int64_t highest = LatencyHistogram::BucketHighest(i);
    ASSERT_EQ(lowest, expected_lowest) << "bucket " << i;  // no gap, no overlap
    ASSERT_GE(highest, lowest);
    ASSERT_EQ(LatencyHistogram::BucketIndex(lowest), i);
    ASSERT_EQ(LatencyHistogram::BucketIndex(highest), i);
    const int64_t width = highest - lowest + 1;
    ASSERT_LE(static_cast<double>(width - 1),
              static_cast<double>(std::max<int64_t>(lowest, 1)) * LatencyHistogram::kMaxRelativeError)
        << "bucket " << i;
    expected_lowest = highest + 1;
  }
  EXPECT_EQ(expected_lowest - 1, LatencyHistogram::kMaxTrackableValue);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  std::vector<int64_t> values;
  for (int64_t v = 0; v < 256; ++v) {
    h.Record(v);
    values.push_back(v);
  }
  for (const double q : {0.01, 0.5, 0.9, 0.99}) {
    EXPECT_EQ(h.ValueAtQuantile(q), ExactQuantile(values, q)) << q;
  }
}

TEST(LatencyHistogramTest, EmptyReportsZero) {
  const LatencyHistogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.ValueAtQuantile(0.99), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogramTest, PercentilesOfLogNormalLatenciesWithinBound) {
  // Latency-like: log-normal around 300 µs with a long tail, in nanoseconds.
  std::mt19937_64 engine(42);
  std::lognormal_distribution<double> latency(std::log(300000.0), 0.8);
  LatencyHistogram h;
  std::vector<int64_t> values;
  for (int i = 0; i < 200000; ++i) {
    const int64_t v = static_cast<int64_t>(latency(engine));
    h.Record(v);
    values.push_back(v);
  }
  ExpectWithinBound(h, values);
}

TEST(LatencyHistogramTest, PercentilesOfWideUniformValuesWithinBound) {
  // Every octave from 1 ns to 2^40 ns.
  std::mt19937_64 engine(7);
  std::uniform_int_distribution<int> octave(0, 40);
  LatencyHistogram h;
  std::vector<int64_t> values;
  for (int i = 0; i < 100000; ++i) {
    const int bits = octave(engine);
    const int64_t v = (int64_t{1} << bits) + static_cast<int64_t>(engine() % (uint64_t{1} << bits));
    h.Record(v);
    values.push_back(v);
  }
  ExpectWithinBound(h, values);
}

TEST(LatencyHistogramTest, SmallSamplesUseNearestRank) {
  // 100 values 1..100 ms: p99 is the 99th (99 ms), p50 the 50th, p100 the max.
  LatencyHistogram h;
  std::vector<int64_t> values;
  for (int64_t ms = 1; ms <= 100; ++ms) {
    h.Record(ms * 1000000);
    values.push_back(ms * 1000000);
  }
  ExpectWithinBound(h, values);
  EXPECT_EQ(h.ValueAtQuantile(1.0), 100000000);
  EXPECT_LT(h.ValueAtQuantile(0.99), 100000000);
}

TEST(LatencyHistogramTest, MaxMinMeanAreExact) {
  LatencyHistogram h;
  h.Record(1234567);
  h.Record(89);
  h.Record(987654321);
  EXPECT_EQ(h.count(), 3);
  EXPECT_EQ(h.min(), 89);
  EXPECT_EQ(h.max(), 987654321);
  EXPECT_EQ(h.ValueAtQuantile(1.0), 987654321);  // capped at the exact max, not the bucket's top
  EXPECT_EQ(h.sum(), 1234567 + 89 + 987654321);
  EXPECT_DOUBLE_EQ(h.mean(), static_cast<double>(1234567 + 89 + 987654321) / 3.0);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 engine(3);
  std::lognormal_distribution<double> latency(std::log(1000000.0), 1.0);
  LatencyHistogram all, a, b, c;
  std::vector<int64_t> values;
  for (int i = 0; i < 30000; ++i) {
    const int64_t v = static_cast<int64_t>(latency(engine));
    all.Record(v);
    (i % 3 == 0 ? a : i % 3 == 1 ? b : c).Record(v);
    values.push_back(v);
  }
  LatencyHistogram merged;
  merged.Merge(a);
  merged.Merge(b);
  merged.Merge(LatencyHistogram());  // an empty one changes nothing
  merged.Merge(c);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_EQ(merged.sum(), all.sum());
  for (const double q : {0.5, 0.9, 0.99, 0.999, 1.0}) {
    EXPECT_EQ(merged.ValueAtQuantile(q), all.ValueAtQuantile(q)) << q;
  }
  ExpectWithinBound(merged, values);
}

TEST(LatencyHistogramTest, MergeIntoEmptyKeepsTheOthersMin) {
  LatencyHistogram a, merged;
  a.Record(5000);
  a.Record(7000);
  merged.Merge(a);
  EXPECT_EQ(merged.min(), 5000);
  EXPECT_EQ(merged.max(), 7000);
}

TEST(LatencyHistogramTest, OutOfRangeValuesAreClamped) {
  LatencyHistogram h;
  h.Record(-5);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.ValueAtQuantile(0.5), 0);
  const int64_t huge = LatencyHistogram::kMaxTrackableValue * 4;
  h.Record(huge);
  EXPECT_EQ(h.max(), huge);
  EXPECT_EQ(h.count(), 2);
  EXPECT_EQ(h.ValueAtQuantile(1.0), huge);
  EXPECT_EQ(LatencyHistogram::BucketIndex(huge), LatencyHistogram::BucketCount() - 1);
}

TEST(LatencyHistogramTest, ClearEmpties) {
  LatencyHistogram h;
  h.Record(42);
  h.Clear();
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.ValueAtQuantile(0.5), 0);
}

}  // namespace
}  // namespace tradein::loadgen
