// -----------------------------------------------------------------------------
// File: money.h
// -----------------------------------------------------------------------------
//
// Money is integer fen (1 yuan = 100 fen) in int64_t; rates are basis points (10000 = 100%). No floating
// point ever touches an amount. Rounding is explicit and comes from the policy (RoundingRule).
//
// Thread safety: every function here is pure.
#ifndef TRADEIN_COMMON_MONEY_H_
#define TRADEIN_COMMON_MONEY_H_

#include <cstdint>
#include <optional>
#include <string>

namespace tradein {

inline constexpr int32_t kFullRateBp = 10000;
inline constexpr int64_t kFenPerYuan = 100;

// Bounds that keep every amount of the ledger exact where a Lua number (a double, exact below 2^53 ≈ 9.007·10^15)
// carries it in Redis: a unit price or per-unit amount ≤ kMaxUnitFen, at most 100 units a line and 100 lines a
// request (services/api/basket.h), so a line is ≤ 10^12 fen, a claim ≤ 10^14, a refund's (fen left × units)
// ≤ 10^14; a budget total or cumulative cap ≤ kMaxTotalFen, so a budget's use plus one claim's allocation stays
// ≤ 1.1·10^15. The request validator and the policy validator enforce them.
inline constexpr int64_t kMaxUnitFen = 10'000'000'000;             // 100 million yuan
inline constexpr int64_t kMaxTotalFen = 1'000'000'000'000'000;     // 10 trillion yuan
inline constexpr int64_t kMaxExactLuaInteger = int64_t{1} << 53;   // what a double holds exactly
static_assert(kMaxTotalFen + 100 * 100 * kMaxUnitFen < kMaxExactLuaInteger);

// How a fraction of a fen (or of a yuan) is resolved.
struct RoundingRule {
  enum class Unit : uint8_t { kFen, kYuan };
  enum class Mode : uint8_t { kFloor, kHalfUp };
  Unit unit = Unit::kFen;
  Mode mode = Mode::kFloor;
};

// PercentOf
//
// Returns `price_fen × rate_bp / 10000`, rounded to the rule's unit with its mode, computed exactly in
// integers. Returns std::nullopt if an intermediate would overflow int64_t. REQUIRES: price_fen >= 0, 0 <=
// rate_bp <= kFullRateBp.
[[nodiscard]] std::optional<int64_t> PercentOf(int64_t price_fen, int32_t rate_bp, RoundingRule rounding);

// CheckedMul
//
// Returns a × b, or std::nullopt on overflow.
[[nodiscard]] std::optional<int64_t> CheckedMul(int64_t a, int64_t b);

// FormatYuan
//
// "5000.00" for 500000 fen, "-0.01" for -1. Exact: no floating point.
std::string FormatYuan(int64_t fen);

// FormatRate
//
// "20%" for 2000 bp, "12.5%" for 1250 bp, "0.01%" for 1 bp, "-0.5%" for -50 bp.
std::string FormatRate(int32_t bp);

}  // namespace tradein

#endif  // TRADEIN_COMMON_MONEY_H_
