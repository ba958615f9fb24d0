#include "services/policy/policy_summary.h"

#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/civil_date.h"
#include "common/money.h"
#include "google/protobuf/text_format.h"
#include "services/policy/policy_merge.h"
#include "tradein/v1/items.pb.h"

namespace tradein::policy {
namespace {

std::string Window(const DayWindow& w) {
  return absl::StrCat(FormatCivilDay(w.first), " .. ", FormatCivilDay(w.last));
}

std::string Ref(const v1::LegalReference& ref) {
  std::string out = ref.document();
  if (!ref.article().empty()) absl::StrAppend(&out, " ", ref.article());
  return out;
}

std::string Amount(const CompiledRule& rule) {
  switch (rule.amount_kind) {
    case CompiledRule::AmountKind::kPercentage: {
      std::vector<std::string> parts;
      for (const auto& g : rule.grade_rates) {
        parts.push_back(
            absl::StrCat(FormatRate(g.rate_bp),
                         g.max_grade == 1 ? " (grade 1)" : absl::StrCat(" (grade ≤", g.max_grade, ")")));
      }
      if (rule.ungraded_rate_bp.has_value())
        parts.push_back(absl::StrCat(FormatRate(*rule.ungraded_rate_bp), " (no label defined)"));
      if (rule.other_rate_bp.has_value())
        parts.push_back(
            absl::StrCat(FormatRate(*rule.other_rate_bp), rule.grade_rates.empty() ? "" : " (other)"));
      return absl::StrCat(absl::StrJoin(parts, ", "), " of price",
                          rule.cap_fen.has_value() ? absl::StrCat(", cap ", FormatYuan(*rule.cap_fen)) : "");
    }
    case CompiledRule::AmountKind::kFlat:
      return absl::StrCat("flat ", FormatYuan(rule.flat_fen));
    case CompiledRule::AmountKind::kTiers: {
      std::vector<std::string> parts;
      for (const auto& t : rule.tiers)
        parts.push_back(absl::StrCat("≥", FormatYuan(t.min_price_fen), "→", FormatYuan(t.amount_fen)));
      return absl::StrCat("tiers ", absl::StrJoin(parts, ", "));
    }
  }
  return "";
}

std::string Conditions(const CompiledRule& rule) {
  std::vector<std::string> parts;
  if (rule.trade_in_kind != 0) {
    parts.push_back(absl::StrCat(v1::Vehicle::TradeInKind::Value_Name(
                                     static_cast<v1::Vehicle::TradeInKind::Value>(rule.trade_in_kind)),
                                 " → ",
                                 v1::Vehicle::NewEnergyType::Value_Name(
                                     static_cast<v1::Vehicle::NewEnergyType::Value>(rule.new_energy_type))));
  }
  if (rule.transaction_window.has_value())
    parts.push_back(absl::StrCat("from ", Window(*rule.transaction_window)));
  if (rule.min_price_fen.has_value())
    parts.push_back(absl::StrCat("price ≥ ", FormatYuan(*rule.min_price_fen)));
  if (rule.max_price_fen.has_value())
    parts.push_back(absl::StrCat("price ≤ ", FormatYuan(*rule.max_price_fen)));
  for (size_t fuel = 1; fuel < rule.registered_on_or_before.size(); ++fuel) {
    if (!rule.registered_on_or_before[fuel].has_value()) continue;
    parts.push_back(absl::StrCat(
        "old ", v1::Vehicle::OldFuelType::Value_Name(static_cast<v1::Vehicle::OldFuelType::Value>(fuel)),
        " registered ≤ ", FormatCivilDay(*rule.registered_on_or_before[fuel])));
  }
  if (rule.owned_since_on_or_before.has_value())
    parts.push_back(absl::StrCat("owned since ≤ ", FormatCivilDay(*rule.owned_since_on_or_before)));
  if (rule.max_displacement_ml.has_value())
    parts.push_back(absl::StrCat("≤ ", *rule.max_displacement_ml, " ml"));
  if (rule.require_nev_catalogue) parts.push_back("in NEV catalogue");
  if (rule.allowed_old_fuels != 0) {
    std::vector<std::string> fuels;
    for (int fuel = 1; fuel <= 4; ++fuel) {
      if ((rule.allowed_old_fuels & FuelBit(fuel)) != 0)
        fuels.push_back(
            v1::Vehicle::OldFuelType::Value_Name(static_cast<v1::Vehicle::OldFuelType::Value>(fuel)));
    }
    parts.push_back(absl::StrCat("old fuel ", absl::StrJoin(fuels, "/")));
  }
  if (rule.home_completed_before.has_value())
    parts.push_back(absl::StrCat("home completed < ", FormatCivilDay(*rule.home_completed_before)));
  if (rule.require_old_bike) parts.push_back("old bike surrendered");
  if (rule.require_new_bike_certified) parts.push_back("new bike certified");
  return absl::StrJoin(parts, "; ");
}

// The new-car once-key and a calendar-year count are kept outside any programme (ledger_plan.h).
bool CountsInProgramme(const CompiledQuota& q) {
  return q.max_units.has_value() || q.max_amount_fen.has_value() || q.once_per_home || q.once_per_old_vehicle;
}

std::string Quota(const CompiledQuota& q, const ProductCatalogue& catalogue) {
  std::vector<std::string> parts;
  if (q.max_units.has_value())
    parts.push_back(absl::StrCat(*q.max_units, q.per_product_type ? " per product type" : " in total"));
  for (const auto& [type, limit] : q.unit_overrides) {
    parts.push_back(absl::StrCat(catalogue.Get(type).code(), " ", limit));
  }
  for (const auto& [type, as] : q.counts_as) {
    parts.push_back(absl::StrCat(catalogue.Get(type).code(), " counts as ", catalogue.Get(as).code()));
  }
  if (q.max_amount_fen.has_value())
    parts.push_back(absl::StrCat("cumulative ≤ ", FormatYuan(*q.max_amount_fen)));
  if (q.once_per_home) parts.push_back("once per home");
  if (q.once_per_old_vehicle) parts.push_back("once per old car");
  if (q.once_per_new_vehicle) parts.push_back("once per new car, across programmes");
  if (q.calendar_year_max_units.has_value())
    parts.push_back(absl::StrCat(*q.calendar_year_max_units, " per calendar year, across programmes"));
  if (!CountsInProgramme(q)) return absl::StrJoin(parts, ", ");
  return absl::StrCat(absl::StrJoin(parts, ", "), " [programme ", q.programme,
                      q.counted_before_in.empty() ? ""
                                                  : absl::StrCat("; also counted before in ",
                                                                 absl::StrJoin(q.counted_before_in, ", ")),
                      "]");
}

// Longest value shown on a provenance line, in bytes (cut at a character boundary).
constexpr size_t kMaxValueText = 96;

// Clears every LegalReference in `message`: the ref lines say where numbers come from; provenance lines show
// the numbers.
void DropRefs(google::protobuf::Message& message) {
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->message_type() == v1::LegalReference::descriptor()) {
      reflection.ClearField(&message, field);
    } else if (field->is_repeated()) {
      for (int i = 0; i < reflection.FieldSize(message, field); ++i)
        DropRefs(*reflection.MutableRepeatedMessage(&message, field, i));
    } else {
      DropRefs(*reflection.MutableMessage(&message, field));
    }
  }
}

std::string Cut(std::string text) {
  if (text.size() <= kMaxValueText) return text;
  size_t end = kMaxValueText;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // a UTF-8 continuation
  text.resize(end);
  return absl::StrCat(text, "…");
}

// One value as text format writes it, on one line, without legal references (a ref itself: its document and
// article).
std::string ValueText(const PolicyValue& value) {
  const google::protobuf::FieldDescriptor* field = value.field;
  if (field->message_type() == v1::LegalReference::descriptor()) {
    return Cut(Ref(static_cast<const v1::LegalReference&>(
        value.holder->GetReflection()->GetMessage(*value.holder, field))));
  }
  std::unique_ptr<google::protobuf::Message> copy(value.holder->New());
  copy->CopyFrom(*value.holder);
  DropRefs(*copy);
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.SetUseUtf8StringEscaping(true);
  const google::protobuf::Reflection& reflection = *copy->GetReflection();
  // Strings as written, in double quotes (text format would also escape ' and non-ASCII).
  const auto print = [&](int index, std::string* text) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      printer.PrintFieldValueToString(*copy, field, index, text);
      return;
    }
    std::string scratch;
    const std::string& raw = index < 0 ? reflection.GetStringReference(*copy, field, &scratch)
                                       : reflection.GetRepeatedStringReference(*copy, field, index, &scratch);
    *text = absl::StrCat("\"", absl::StrReplaceAll(raw, {{"\\", "\\\\"}, {"\"", "\\\""}}), "\"");
  };
  if (!field->is_repeated()) {
    std::string text;
    print(-1, &text);
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE)
      text = absl::StrCat("{ ", text, "}");
    return Cut(text);
  }
  std::vector<std::string> items;
  for (int i = 0; i < reflection.FieldSize(*copy, field); ++i) {
    std::string text;
    print(i, &text);
    items.push_back(field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE
                        ? absl::StrCat("{ ", text, "}")
                        : text);
  }
  return Cut(absl::StrCat("[", absl::StrJoin(items, ", "), "]"));
}

// The entry a value path belongs to ("rules[N25-DIG]"), or "" for the policy's own settings.
std::string EntryOf(const std::string& path) {
  const size_t bracket = path.find(']');
  return bracket == std::string::npos ? "" : path.substr(0, bracket + 1);
}

// "file:line  field: value" for each value of `policy` that a file wrote, by entry (see EntryOf); fields are
// named relative to their entry.
std::map<std::string, std::vector<std::string>> OriginLines(const v1::Policy& policy) {
  std::map<std::string, const v1::ValueOrigin*> origins;
  for (const v1::ValueOrigin& origin : policy.value_origins()) origins[origin.field()] = &origin;
  std::map<std::string, std::vector<std::string>> out;
  ForEachPolicyValue(policy, [&](const PolicyValue& value) {
    const auto origin = origins.find(value.path);
    if (origin == origins.end()) return;
    const std::string entry = EntryOf(value.path);
    const std::string where = absl::StrCat(origin->second->file(), ":", origin->second->line());
    const std::string field = value.path.substr(entry.empty() ? 0 : entry.size() + 1);
    out[entry].push_back(absl::StrCat(where, std::string(where.size() < 24 ? 24 - where.size() : 1, ' '),
                                      field, ": ", ValueText(value)));
  });
  return out;
}

void AppendOrigins(const std::vector<std::string>& lines, absl::string_view indent, std::string& out) {
  for (const std::string& line : lines) absl::StrAppend(&out, indent, line, "\n");
}

}  // namespace

std::string SummarizePolicy(const CompiledPolicy& policy, const ProductCatalogue& catalogue) {
  const v1::Policy& p = policy.proto();
  std::string out = absl::StrCat(p.id(), " — ", p.title(), " ", p.title_zh(), "\n");
  absl::StrAppend(&out, "  region ", p.region_code(),
                  p.inherits().empty() ? "" : absl::StrCat(", inherits ", p.inherits()), ", programme ",
                  p.programme(), ", version ", p.version(), "\n");
  absl::StrAppend(&out, "  transactions ", Window(policy.transaction_window()), "; claims ",
                  Window(policy.claim_window()), "; hold ", absl::FormatDuration(policy.hold()),
                  "; refund restores quota: ", policy.refund_restores_quota() ? "yes" : "no", "\n");
  absl::StrAppend(&out, "  source ", absl::StrJoin(p.source_files(), " ← "), "\n");
  std::map<std::string, std::vector<std::string>> origins = OriginLines(p);
  absl::StrAppend(&out, "  settings, set by:\n");
  AppendOrigins(origins[""], "      ", out);
  absl::StrAppend(&out, "  rules:\n");
  for (const CompiledRule& rule : policy.rules()) {
    std::vector<std::string> names;
    for (const std::string& code : rule.source->product_types()) {
      const std::optional<ProductTypeId> id = catalogue.Find(code);
      names.push_back(id.has_value() ? absl::StrCat(code, " ", catalogue.Get(*id).name_zh()) : code);
    }
    absl::StrAppend(&out, "    ", rule.id(), ": ", Amount(rule), "\n      for ", absl::StrJoin(names, ", "),
                    "\n");
    const std::string conditions = Conditions(rule);
    if (!conditions.empty()) absl::StrAppend(&out, "      when ", conditions, "\n");
    absl::StrAppend(&out, "      ref ", Ref(rule.source->ref()), "\n      set by:\n");
    AppendOrigins(origins[absl::StrCat("rules[", rule.id(), "]")], "        ", out);
  }
  if (!policy.quotas().empty()) absl::StrAppend(&out, "  quotas per buyer:\n");
  for (const CompiledQuota& q : policy.quotas()) {
    absl::StrAppend(&out, "    ", q.id(), ": ", Quota(q, catalogue), " — ", Ref(q.source->ref()),
                    "\n      set by:\n");
    AppendOrigins(origins[absl::StrCat("quotas[", q.id(), "]")], "        ", out);
  }
  if (!policy.budgets().empty()) absl::StrAppend(&out, "  budgets:\n");
  for (const CompiledBudget& b : policy.budgets()) {
    absl::StrAppend(&out, "    ", b.id(), ": ", FormatYuan(b.total_fen), " [programme ", b.programme, "] — ",
                    Ref(b.source->ref()), "\n      set by:\n");
    AppendOrigins(origins[absl::StrCat("budgets[", b.id(), "]")], "        ", out);
  }
  return out;
}

std::vector<std::string> QuotaSplitWarnings(const CompiledPolicy& policy, const CompiledPolicy& parent) {
  std::vector<std::string> out;
  for (const CompiledQuota& quota : policy.quotas()) {
    for (const CompiledQuota& theirs : parent.quotas()) {
      if (theirs.id() != quota.id() || theirs.programme == quota.programme || !CountsInProgramme(quota)) {
        continue;
      }
      const std::string field = absl::StrCat("quotas[", quota.id(), "].programme");
      std::string where = policy.id();
      for (const v1::ValueOrigin& origin : policy.proto().value_origins()) {
        if (origin.field() == field) where = absl::StrCat(origin.file(), ":", origin.line());
      }
      out.push_back(absl::StrCat(where, ": ", field, ": counts in ", quota.programme, ", but ", parent.id(),
                                 " counts it in ", theirs.programme,
                                 ": a buyer's usage is split in two, with the full limit in each"));
    }
  }
  return out;
}

}  // namespace tradein::policy
