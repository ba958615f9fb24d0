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
  // By hand rather than StrFormat: explanations format several amounts per item on the reply path.
  const uint64_t magnitude = fen < 0 ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  char buffer[32];
  char* end = buffer + sizeof(buffer);
  char* p = end;
  uint64_t cents = magnitude % kFenPerYuan;
  uint64_t yuan = magnitude / kFenPerYuan;
  *--p = static_cast<char>('0' + cents % 10);
  *--p = static_cast<char>('0' + cents / 10);
  *--p = '.';
  do {
    *--p = static_cast<char>('0' + yuan % 10);
    yuan /= 10;
  } while (yuan != 0);
  if (fen < 0) *--p = '-';
  return std::string(p, static_cast<size_t>(end - p));
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
