#include "services/api/claim_filter.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/util/time_util.h"
#include "services/api/claim_preparation.h"
#include "services/api/claim_view.h"
#include "services/policy/region.h"

namespace tradein::api {
namespace {

constexpr size_t kMaxFilterTextLength = 64;
constexpr int kMaxConfirmedDays = 366;
constexpr absl::string_view kLegacyTokenPrefix = "c1.";
constexpr absl::string_view kBoundTokenPrefix = "c2.";

// A catalogue product type code: 1..64 of [a-z0-9._-] (product_types.textproto: "appliance.television").
bool IsProductTypeCode(absl::string_view code) {
  if (code.empty() || code.size() > kMaxFilterTextLength) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

// Parses an optional day of the confirmation range into `out`; a violation otherwise.
void ParseOptionalDay(const std::string& text, const std::string& field, std::optional<absl::CivilDay>& out,
                      std::vector<FieldViolation>& violations) {
  if (text.empty()) return;
  out = ParseCivilDay(text);
  if (!out) violations.push_back({field, "DATE_INVALID", "must be a real date written YYYY-MM-DD"});
}

void CheckLength(const std::string& text, const std::string& field, std::vector<FieldViolation>& violations) {
  if (text.size() > kMaxFilterTextLength) {
    violations.push_back({field, "FIELD_TOO_LONG", absl::StrCat("at most ", kMaxFilterTextLength, " bytes")});
  }
}

bool HasSerial(const v1::Claim& view, const std::string& serial) {
  for (const v1::ItemResult& item : view.items()) {
    for (const std::string& number : item.serial_numbers()) {
      if (number == serial) return true;
    }
  }
  return false;
}

// Sorts every repeated scalar field of `message` and of the messages it holds.
void SortRepeatedScalars(google::protobuf::Message& message) {
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    using Type = google::protobuf::FieldDescriptor::CppType;
    if (!field->is_repeated()) {
      if (field->cpp_type() == Type::CPPTYPE_MESSAGE)
        SortRepeatedScalars(*reflection.MutableMessage(&message, field));
      continue;
    }
    if (field->cpp_type() == Type::CPPTYPE_STRING) {
      auto values = reflection.GetMutableRepeatedFieldRef<std::string>(&message, field);
      const auto read = reflection.GetRepeatedFieldRef<std::string>(message, field);
      std::vector<std::string> sorted(read.begin(), read.end());
      std::sort(sorted.begin(), sorted.end());
      for (int i = 0; i < static_cast<int>(sorted.size()); ++i) values.Set(i, sorted[static_cast<size_t>(i)]);
    } else if (field->cpp_type() == Type::CPPTYPE_ENUM) {
      auto values = reflection.GetMutableRepeatedFieldRef<int32_t>(&message, field);
      const auto read = reflection.GetRepeatedFieldRef<int32_t>(message, field);
      std::vector<int32_t> sorted(read.begin(), read.end());
      std::sort(sorted.begin(), sorted.end());
      for (int i = 0; i < static_cast<int>(sorted.size()); ++i) values.Set(i, sorted[static_cast<size_t>(i)]);
    }
  }
}

absl::Status TokenInvalid(absl::string_view field) {
  return InvalidArgumentError({{std::string(field), "TOKEN_INVALID", "not a token this service gave out"}});
}

}  // namespace

absl::StatusOr<ClaimMatcher> ClaimMatcher::Create(const v1::ClaimFilter& filter, absl::string_view field) {
  const auto path = [field](absl::string_view name) { return absl::StrCat(field, ".", name); };
  std::vector<FieldViolation> violations;
  ClaimMatcher matcher;
  if (!filter.region_code().empty() && !policy::IsRegionCode(filter.region_code())) {
    violations.push_back({path("regionCode"), "REGION_CODE_INVALID", "six digits (GB/T 2260), e.g. 330300"});
  }
  matcher.region_code_ = filter.region_code();
  for (int i = 0; i < filter.product_types_size(); ++i) {
    if (!IsProductTypeCode(filter.product_types(i))) {
      violations.push_back({path(absl::StrCat("productTypes[", i, "]")), "ID_INVALID",
                            "a product type code: 1-64 of a-z 0-9 . _ -, e.g. digital.phone"});
    }
    matcher.product_types_.insert(filter.product_types(i));
  }
  ParseOptionalDay(filter.confirmed_from_date(), path("confirmedFromDate"), matcher.confirmed_first_,
                   violations);
  ParseOptionalDay(filter.confirmed_to_date(), path("confirmedToDate"), matcher.confirmed_last_, violations);
  if (matcher.confirmed_first_ && matcher.confirmed_last_ &&
      (*matcher.confirmed_last_ < *matcher.confirmed_first_ ||
       *matcher.confirmed_last_ - *matcher.confirmed_first_ >= kMaxConfirmedDays)) {
    violations.push_back({path("confirmedToDate"), "PERIOD_INVALID",
                          "must be on or after confirmedFromDate, at most 366 days in all"});
  }
  CheckLength(filter.invoice_number(), path("invoiceNumber"), violations);
  CheckLength(filter.serial_number(), path("serialNumber"), violations);
  if (!violations.empty()) return InvalidArgumentError(violations);
  matcher.invoice_number_ = filter.invoice_number();
  matcher.serial_number_ = filter.serial_number();
  return matcher;
}

bool ClaimMatcher::Matches(const quota::ClaimRecord& record, const v1::Claim& view) const {
  if (!region_code_.empty()) {
    if (!policy::IsRegionCode(view.region_code())) return false;
    const policy::RegionChain chain = policy::AncestorsOf(view.region_code());
    if (std::find(chain.codes.begin(), chain.codes.begin() + chain.size, region_code_) ==
        chain.codes.begin() + chain.size) {
      return false;
    }
  }
  if (!product_types_.empty() &&
      std::none_of(view.items().begin(), view.items().end(),
                   [this](const v1::ItemResult& item) { return CountsProductType(item.product_type()); })) {
    return false;
  }
  if (confirmed_first_ || confirmed_last_) {
    const std::optional<absl::Time> confirmed = ConfirmedAt(record, view);
    if (!confirmed) return false;
    const absl::CivilDay day = ChinaCivilDay(*confirmed);
    if ((confirmed_first_ && day < *confirmed_first_) || (confirmed_last_ && day > *confirmed_last_))
      return false;
  }
  if (!invoice_number_.empty() && view.invoice_number() != invoice_number_) return false;
  return serial_number_.empty() || HasSerial(view, serial_number_);
}

bool ClaimMatcher::filters() const {
  return !region_code_.empty() || !product_types_.empty() || confirmed_first_ || confirmed_last_ ||
         !invoice_number_.empty() || !serial_number_.empty();
}

bool ClaimMatcher::CountsProductType(const std::string& product_type) const {
  return product_types_.empty() || product_types_.contains(product_type);
}

absl::Status ValidateStates(const google::protobuf::RepeatedField<int>& states, absl::string_view field) {
  std::vector<FieldViolation> violations;
  for (int i = 0; i < states.size(); ++i) {
    if (states.Get(i) == v1::Claim::STATE_UNSPECIFIED || !v1::Claim::State_IsValid(states.Get(i))) {
      violations.push_back({absl::StrCat(field, "[", i, "]"), "STATE_INVALID",
                            "a claim state: RESERVED, CONFIRMED, CANCELLED, EXPIRED, REFUNDED, "
                            "PARTIALLY_REFUNDED, REJECTED or VOIDED"});
    }
  }
  return violations.empty() ? absl::OkStatus() : InvalidArgumentError(violations);
}

std::optional<absl::Time> ConfirmedAt(const quota::ClaimRecord& record, const v1::Claim& view) {
  if (!WasConfirmed(record.state)) return std::nullopt;
  if (view.has_confirmed_at()) {
    return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(view.confirmed_at()));
  }
  // Confirmed before the confirmation kept its time: a claim still CONFIRMED (and never fixed) was last
  // changed by its confirmation; a later one is dated by its creation (the confirmation came within the
  // hold).
  return record.state == quota::ClaimState::kConfirmed ? record.updated_at : record.created_at;
}

std::string QueryDigest(google::protobuf::Message& query, absl::string_view scope,
                        const identity::KeyedHasher& hasher) {
  SortRepeatedScalars(query);
  return Fingerprint(query, scope, hasher);
}

std::string BoundToken(const std::string& cursor, const std::string& digest) {
  return absl::StrCat(kBoundTokenPrefix, absl::WebSafeBase64Escape(cursor), ".", digest);
}

absl::StatusOr<std::string> CursorOfToken(const std::string& token, const std::string& digest, bool legacy_ok,
                                          absl::string_view field) {
  if (token.empty()) return std::string();
  std::string encoded;
  if (absl::StartsWith(token, kBoundTokenPrefix)) {
    const std::vector<absl::string_view> parts =
        absl::StrSplit(absl::string_view(token).substr(kBoundTokenPrefix.size()), '.');
    if (parts.size() != 2) return TokenInvalid(field);
    if (parts[1] != digest) {
      return InvalidArgumentError(
          {{std::string(field), "TOKEN_QUERY_MISMATCH",
            "the token belongs to another query (period, retailer, states or filter): repeat that query, or "
            "start this one without a token"}});
    }
    encoded = std::string(parts[0]);
  } else if (absl::StartsWith(token, kLegacyTokenPrefix)) {
    if (!legacy_ok) {
      return InvalidArgumentError({{std::string(field), "TOKEN_QUERY_MISMATCH",
                                    "a token of an earlier version, given out for a query without filters: "
                                    "start this one without a token"}});
    }
    encoded = token.substr(kLegacyTokenPrefix.size());
  } else {
    return TokenInvalid(field);
  }
  std::string cursor;
  if (!absl::WebSafeBase64Unescape(encoded, &cursor) || !quota::ParseClaimCursor(cursor).ok())
    return TokenInvalid(field);
  return cursor;
}

}  // namespace tradein::api
