#include "services/quota/quota_store.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tradein::quota {
namespace {

constexpr size_t kTagLength = 8;
constexpr size_t kSuffixLength = 20;
constexpr absl::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";

bool IsHex(absl::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

int64_t ClaimRecord::GrantedFen() const {
  int64_t total = 0;
  for (const LineGrant& grant : grants) total += grant.fen;
  return total;
}

int64_t ClaimRecord::RefundedFen() const {
  int64_t total = 0;
  for (const LineRefund& refund : refunds) total += refund.fen;
  return total;
}

void QuotaStore::Void(VoidRequest, absl::Time, Callback<ClaimRecord> done) {
  std::move(done)(absl::UnimplementedError("VoidClaim is not implemented by this store yet"));
}

void QuotaStore::Correct(CorrectRequest, absl::Time, Callback<ClaimRecord> done) {
  std::move(done)(absl::UnimplementedError("CorrectClaim is not implemented by this store yet"));
}

void QuotaStore::ListClaims(ClaimPageRequest, absl::Time, Callback<ClaimPage> done) {
  std::move(done)(absl::UnimplementedError("claim listings are not implemented by this store yet"));
}

std::string ClaimIdFor(const BuyerRef& buyer, absl::string_view request_key) {
  // 20 base32 characters = 100 bits of the request key (hex), plenty against collisions among one tag's
  // claims.
  std::string suffix;
  uint32_t bits = 0;
  int bit_count = 0;
  for (char c : request_key) {
    bits = (bits << 4) | static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'a' + 10);
    bit_count += 4;
    while (bit_count >= 5 && suffix.size() < kSuffixLength) {
      bit_count -= 5;
      suffix.push_back(kBase32[(bits >> bit_count) & 31u]);
    }
    if (suffix.size() == kSuffixLength) break;
  }
  return absl::StrCat(buyer.tag, "-", suffix);
}

std::string TagOfClaimId(absl::string_view claim_id) {
  if (claim_id.size() != kTagLength + 1 + kSuffixLength || claim_id[kTagLength] != '-') return "";
  const absl::string_view tag = claim_id.substr(0, kTagLength);
  const absl::string_view suffix = claim_id.substr(kTagLength + 1);
  const bool suffix_ok = std::all_of(suffix.begin(), suffix.end(),
                                     [](char c) { return kBase32.find(c) != absl::string_view::npos; });
  return IsHex(tag) && suffix_ok ? std::string(tag) : "";
}

}  // namespace tradein::quota
