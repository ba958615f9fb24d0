#include "tools/tradeinctl/item_syntax.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace tradein::ctl {
namespace {

absl::Status Bad(absl::string_view spec, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("\"", spec, "\": ", what));
}

// The value of an enum by its name, case-insensitively; `prefix` lists the accepted names on failure.
template <typename Enum>
absl::StatusOr<Enum> ParseEnum(const google::protobuf::EnumDescriptor* descriptor, absl::string_view key,
                               absl::string_view value) {
  const std::string upper = absl::AsciiStrToUpper(value);
  std::vector<std::string> names;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = descriptor->value(i);
    if (v->number() == 0) continue;
    if (v->name() == upper) return static_cast<Enum>(v->number());
    names.push_back(v->name());
  }
  return absl::InvalidArgumentError(
      absl::StrCat(key, "=", value, ": expected one of ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<bool> ParseBool(absl::string_view key, absl::string_view value) {
  const std::string lower = absl::AsciiStrToLower(value);
  if (lower.empty() || lower == "true" || lower == "yes" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "0") return false;
  return absl::InvalidArgumentError(absl::StrCat(key, "=", value, ": expected true or false"));
}

absl::StatusOr<int32_t> ParseInt(absl::string_view key, absl::string_view value) {
  int32_t number = 0;
  if (!absl::SimpleAtoi(value, &number)) {
    return absl::InvalidArgumentError(absl::StrCat(key, "=", value, ": expected a whole number"));
  }
  return number;
}

absl::Status ApplyKey(v1::Item& item, absl::string_view key, absl::string_view value) {
  using v1::Vehicle;
  if (key == "line") {
    item.set_line_id(std::string(value));
  } else if (key == "qty" || key == "quantity") {
    absl::StatusOr<int32_t> n = ParseInt(key, value);
    if (!n.ok()) return n.status();
    item.set_quantity(*n);
  } else if (key == "grade" || key == "energy_grade") {
    absl::StatusOr<int32_t> n = ParseInt(key, value);
    if (!n.ok()) return n.status();
    item.set_energy_grade(*n);
  } else if (key == "water" || key == "water_grade") {
    absl::StatusOr<int32_t> n = ParseInt(key, value);
    if (!n.ok()) return n.status();
    item.set_water_grade(*n);
  } else if (key == "kind") {
    auto v = ParseEnum<Vehicle::TradeInKind::Value>(Vehicle::TradeInKind::Value_descriptor(), key, value);
    if (!v.ok()) return v.status();
    item.mutable_vehicle()->set_trade_in_kind(*v);
  } else if (key == "energy") {
    auto v = ParseEnum<Vehicle::NewEnergyType::Value>(Vehicle::NewEnergyType::Value_descriptor(), key, value);
    if (!v.ok()) return v.status();
    item.mutable_vehicle()->set_new_energy_type(*v);
  } else if (key == "ml" || key == "displacement") {
    absl::StatusOr<int32_t> n = ParseInt(key, value);
    if (!n.ok()) return n.status();
    item.mutable_vehicle()->set_new_displacement_ml(*n);
  } else if (key == "catalogue") {
    absl::StatusOr<bool> b = ParseBool(key, value);
    if (!b.ok()) return b.status();
    item.mutable_vehicle()->set_new_in_nev_catalogue(*b);
  } else if (key == "old_fuel") {
    auto v = ParseEnum<Vehicle::OldFuelType::Value>(Vehicle::OldFuelType::Value_descriptor(), key, value);
    if (!v.ok()) return v.status();
    item.mutable_vehicle()->set_old_fuel_type(*v);
  } else if (key == "registered") {
    item.mutable_vehicle()->set_old_registered_on(std::string(value));
  } else if (key == "owned" || key == "owned_since") {
    item.mutable_vehicle()->set_old_owned_since(std::string(value));
  } else if (key == "vin") {
    item.mutable_vehicle()->set_old_vin(std::string(value));
  } else if (key == "new_vin") {
    item.mutable_vehicle()->set_new_vin(std::string(value));
  } else if (key == "property") {
    item.mutable_home()->set_property_id(std::string(value));
  } else if (key == "completed") {
    item.mutable_home()->set_completed_on(std::string(value));
  } else if (key == "surrendered") {
    absl::StatusOr<bool> b = ParseBool(key, value);
    if (!b.ok()) return b.status();
    item.mutable_ebike()->set_old_bike_surrendered(*b);
  } else if (key == "certified") {
    absl::StatusOr<bool> b = ParseBool(key, value);
    if (!b.ok()) return b.status();
    item.mutable_ebike()->set_new_bike_certified(*b);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown key \"", key,
        "\" (known: line, qty, grade, water, kind, energy, ml, catalogue, old_fuel, registered, owned, vin, "
        "new_vin, property, completed, surrendered, certified)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> ParseYuan(absl::string_view text) {
  std::string digits;
  for (char c : text)
    if (c != ',') digits.push_back(c);
  const std::vector<std::string> parts = absl::StrSplit(digits, '.');
  const auto all_digits = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (parts.size() > 2 || !all_digits(parts[0]) || (parts.size() == 2 && !all_digits(parts[1])) ||
      (parts.size() == 2 && parts[1].size() > 2)) {
    return absl::InvalidArgumentError(
        absl::StrCat("price \"", text, "\": expected yuan like 5000, 4999.9 or 4999.99"));
  }
  int64_t yuan = 0;
  if (parts[0].size() > 16 || !absl::SimpleAtoi(parts[0], &yuan)) {
    return absl::InvalidArgumentError(absl::StrCat("price \"", text, "\": too large"));
  }
  int64_t fen = 0;
  if (parts.size() == 2) {
    std::string cents = parts[1];
    if (cents.size() == 1) cents += "0";
    (void)absl::SimpleAtoi(cents, &fen);
  }
  return yuan * 100 + fen;
}

absl::StatusOr<v1::Item> ParseItem(absl::string_view spec, int position) {
  v1::Item item;
  const absl::string_view trimmed = absl::StripAsciiWhitespace(spec);
  if (!trimmed.empty() && trimmed.front() == '{') {
    google::protobuf::util::JsonParseOptions options;
    if (auto status = google::protobuf::util::JsonStringToMessage(std::string(trimmed), &item, options);
        !status.ok()) {
      return Bad(spec, absl::StrCat("not a tradein.v1.Item in JSON: ", status.message().as_string()));
    }
    if (item.line_id().empty()) item.set_line_id(absl::StrCat(position));
    return item;
  }
  // TYPE:PRICE[:OPTIONS] — split twice only, so option values may contain ':'.
  const std::vector<absl::string_view> parts = absl::StrSplit(trimmed, absl::MaxSplits(':', 2));
  if (parts.size() < 2 || parts[0].empty()) {
    return Bad(spec, "expected TYPE:PRICE[:KEY=VALUE,...], e.g. appliance.refrigerator:5000:grade=1");
  }
  item.set_line_id(absl::StrCat(position));
  item.set_product_type(std::string(parts[0]));
  absl::StatusOr<int64_t> price = ParseYuan(parts[1]);
  if (!price.ok()) return Bad(spec, price.status().message());
  item.set_price_fen(*price);
  if (parts.size() == 3) {
    for (absl::string_view option : absl::StrSplit(parts[2], ',', absl::SkipEmpty())) {
      const std::vector<absl::string_view> kv = absl::StrSplit(option, absl::MaxSplits('=', 1));
      const std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(kv[0]));
      const absl::string_view value = kv.size() == 2 ? absl::StripAsciiWhitespace(kv[1]) : "";
      if (absl::Status status = ApplyKey(item, key, value); !status.ok()) return Bad(spec, status.message());
    }
  }
  return item;
}

absl::StatusOr<v1::LineSerials> ParseLineSerials(absl::string_view spec) {
  const std::vector<absl::string_view> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return Bad(spec, "expected LINE:SERIAL[,SERIAL...], e.g. 1:SN123,SN124");
  }
  v1::LineSerials serials;
  serials.set_line_id(std::string(parts[0]));
  for (absl::string_view serial : absl::StrSplit(parts[1], ',', absl::SkipEmpty())) {
    serials.add_serial_numbers(std::string(absl::StripAsciiWhitespace(serial)));
  }
  return serials;
}

absl::StatusOr<v1::RefundLine> ParseRefundLine(absl::string_view spec) {
  const std::vector<absl::string_view> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
  if (parts[0].empty()) return Bad(spec, "expected LINE[:QUANTITY], e.g. 1 or 1:2");
  v1::RefundLine line;
  line.set_line_id(std::string(parts[0]));
  if (parts.size() == 2) {
    absl::StatusOr<int32_t> quantity = ParseInt("quantity", parts[1]);
    if (!quantity.ok()) return Bad(spec, quantity.status().message());
    line.set_quantity(*quantity);
  }
  return line;
}

}  // namespace tradein::ctl
