#include "services/quota/quota_store.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/civil_date.h"
#include "common/status.h"

namespace tradein::quota {
namespace {

constexpr size_t kTagLength = 8;
constexpr size_t kSuffixLength = 20;
constexpr absl::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr int64_t kNanosPerDay = int64_t{86400} * 1000 * 1000 * 1000;
constexpr size_t kNanosDigits = 14;  // kNanosPerDay has 14 digits

bool IsHex(absl::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsDigits(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void AppendClaimEvent(ClaimRecord& record, ClaimEvent event) {
  record.history.push_back(std::move(event));
  if (record.history.size() > kMaxClaimEvents) {
    record.history.erase(record.history.begin());
    ++record.history_omitted;
  }
}

std::vector<ClaimEvent::Line> ChangedLines(const ClaimRecord& before, const ClaimRecord& after,
                                           const std::vector<std::string>& line_ids) {
  std::vector<ClaimEvent::Line> lines;
  for (size_t i = 0; i < after.grants.size() && i < before.grants.size() && i < line_ids.size(); ++i) {
    const int64_t owed_before = before.grants[i].fen - before.refunds[i].fen;
    const int64_t owed_after = after.grants[i].fen - after.refunds[i].fen;
    const int32_t units = after.refunds[i].units - before.refunds[i].units;
    if (owed_before != owed_after || units != 0)
      lines.push_back({line_ids[i], units, owed_before, owed_after});
  }
  return lines;
}

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

absl::Time ClaimPosition::created_at() const {
  return StartOfChinaDay(day) + absl::Nanoseconds(nanos_in_day);
}

ClaimPosition PositionOf(absl::Time created_at, absl::string_view claim_id) {
  ClaimPosition position;
  position.day = ChinaCivilDay(created_at);
  position.nanos_in_day = absl::ToInt64Nanoseconds(created_at - StartOfChinaDay(position.day));
  position.claim_id = std::string(claim_id);
  return position;
}

std::string EncodeClaimCursor(const ClaimPosition& position) {
  return absl::StrFormat("%s|%014d|%s", FormatCivilDay(position.day), position.nanos_in_day,
                         position.claim_id);
}

absl::StatusOr<ClaimPosition> ParseClaimCursor(absl::string_view cursor) {
  const absl::Status invalid =
      ReasonError(absl::StatusCode::kInvalidArgument, "CURSOR_INVALID", "not a cursor of a claim listing");
  const std::vector<absl::string_view> parts = absl::StrSplit(cursor, '|');
  if (parts.size() != 3 || parts[1].size() != kNanosDigits) return invalid;
  const std::optional<absl::CivilDay> day = ParseCivilDay(parts[0]);
  int64_t nanos = -1;
  if (!day.has_value() || !IsDigits(parts[1]) || !absl::SimpleAtoi(parts[1], &nanos) ||
      nanos >= kNanosPerDay || TagOfClaimId(parts[2]).empty()) {
    return invalid;
  }
  return ClaimPosition{*day, nanos, std::string(parts[2])};
}

std::string SerialLineField(absl::string_view serial_field) {
  return std::string(serial_field.substr(0, serial_field.find('.')));
}

}  // namespace tradein::quota
