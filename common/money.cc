#include "common/money.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tradein {

std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

std::optional<int64_t> PercentOf(int64_t price_fen, int32_t rate_bp, RoundingRule rounding) {
  const std::optional<int64_t> scaled = CheckedMul(price_fen, rate_bp);  // fen × 10^-4
  if (!scaled.has_value()) return std::nullopt;
  const int64_t divisor = rounding.unit == RoundingRule::Unit::kFen ? kFullRateBp : kFullRateBp * kFenPerYuan;
  int64_t units = *scaled / divisor;
  if (rounding.mode == RoundingRule::Mode::kHalfUp && (*scaled % divisor) * 2 >= divisor) ++units;
  return rounding.unit == RoundingRule::Unit::kFen ? units : CheckedMul(units, kFenPerYuan);
}

std::string FormatYuan(int64_t fen) {
  const uint64_t magnitude = fen < 0 ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  return absl::StrFormat("%s%d.%02d", fen < 0 ? "-" : "", magnitude / kFenPerYuan, magnitude % kFenPerYuan);
}

std::string FormatRate(int32_t bp) {
  // The sign goes first on its own: -50 / 100 is 0, which would print "0.5%".
  const int64_t magnitude = std::abs(static_cast<int64_t>(bp));
  std::string out = absl::StrCat(bp < 0 ? "-" : "", magnitude / 100);
  const int64_t fraction = magnitude % 100;
  if (fraction != 0) {
    absl::StrAppend(&out, ".", fraction / 10);
    if (fraction % 10 != 0) absl::StrAppend(&out, fraction % 10);
  }
  out.push_back('%');
  return out;
}

}  // namespace tradein
