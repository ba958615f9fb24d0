#include "tools/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tradein::loadgen {
namespace {

constexpr int kSub = LatencyHistogram::kSubBucketBits;

// For v with highest set bit e, shift = max(0, e - kSub): the bucket is v >> shift, offset by shift octaves.
// Below 2^(kSub + 1) the shift is 0 and the index is v itself.
int ShiftOf(uint64_t v) {
  const int highest_bit = 63 - std::countl_zero(v | 1);
  return std::max(0, highest_bit - kSub);
}

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(BucketCount(), 0) {}

size_t LatencyHistogram::BucketIndex(int64_t value) {
  const uint64_t v = static_cast<uint64_t>(std::clamp<int64_t>(value, 0, kMaxTrackableValue));
  const int shift = ShiftOf(v);
  return (static_cast<size_t>(shift) << kSub) + static_cast<size_t>(v >> shift);
}

int64_t LatencyHistogram::BucketLowest(size_t index) {
  const int shift = std::max(0, static_cast<int>(index >> kSub) - 1);
  const uint64_t sub = index - (static_cast<size_t>(shift) << kSub);
  return static_cast<int64_t>(sub << shift);
}

int64_t LatencyHistogram::BucketHighest(size_t index) {
  const int shift = std::max(0, static_cast<int>(index >> kSub) - 1);
  return BucketLowest(index) + (int64_t{1} << shift) - 1;
}

size_t LatencyHistogram::BucketCount() { return BucketIndex(kMaxTrackableValue) + 1; }

void LatencyHistogram::Record(int64_t value) {
  value = std::max<int64_t>(value, 0);
  ++counts_[BucketIndex(value)];
  if (count_ == 0 || value < min_) min_ = value;
  if (value > max_) max_ = value;
  ++count_;
  sum_ += value;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::Clear() { *this = LatencyHistogram(); }

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

int64_t LatencyHistogram::ValueAtQuantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the ceil(q·n)-th smallest, at least the first. The small epsilon keeps 0.99 × 100 (which is
  // 99.00000000000001 in binary floating point) at rank 99.
  const double exact_rank = q * static_cast<double>(count_);
  int64_t rank = static_cast<int64_t>(std::ceil(exact_rank - 1e-9 * std::max(1.0, exact_rank)));
  rank = std::clamp<int64_t>(rank, 1, count_);
  if (rank == count_) return max_;  // the largest value is known exactly
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(BucketHighest(i), max_);
  }
  return max_;
}

}  // namespace tradein::loadgen
