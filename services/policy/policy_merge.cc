#include "services/policy/policy_merge.h"

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tradein::policy {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::RepeatedPtrField;
using google::protobuf::TextFormat;

struct Origin {
  std::string file;
  int line = 0;
};
// By value path. Ordered, so that a value and everything under it are one range.
using Origins = std::map<std::string, Origin>;

// What a field of Policy is to inheritance.
enum class Role { kOwn, kInherited, kEntries, kConsumed };

Role RoleOf(const FieldDescriptor* field) {
  switch (field->number()) {
    case v1::Policy::kIdFieldNumber:
    case v1::Policy::kTitleFieldNumber:
    case v1::Policy::kTitleZhFieldNumber:
    case v1::Policy::kRefFieldNumber:
    case v1::Policy::kRegionCodeFieldNumber:
    case v1::Policy::kInheritsFieldNumber:
      return Role::kOwn;
    case v1::Policy::kRulesFieldNumber:
    case v1::Policy::kQuotasFieldNumber:
    case v1::Policy::kBudgetsFieldNumber:
      return Role::kEntries;
    case v1::Policy::kRemovedRuleIdsFieldNumber:
    case v1::Policy::kRemovedQuotaIdsFieldNumber:
    case v1::Policy::kRemovedBudgetIdsFieldNumber:
    case v1::Policy::kVersionFieldNumber:
    case v1::Policy::kSourceFilesFieldNumber:
    case v1::Policy::kValueOriginsFieldNumber:
      return Role::kConsumed;
    default:
      return Role::kInherited;
  }
}

// A singular message without a ref of its own: merged (and walked) field by field.
bool MergesFieldByField(const FieldDescriptor* field) {
  return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_repeated() &&
         !IsOneValue(field->message_type());
}

std::string Join(const std::string& path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

std::string EntryPath(const FieldDescriptor* list, absl::string_view id) {
  return absl::StrCat(list->name(), "[", id, "]");
}

// Drops the origins of the value at `path` and of everything under it.
void Forget(const std::string& path, Origins& origins) {
  auto it = origins.lower_bound(path);
  while (it != origins.end() && absl::StartsWith(it->first, path)) {
    const absl::string_view rest = absl::string_view(it->first).substr(path.size());
    if (rest.empty() || rest.front() == '.') {
      it = origins.erase(it);
    } else {
      ++it;
    }
  }
}

void Record(const std::string& path, const PolicyFile& file, int line, Origins& origins) {
  Forget(path, origins);
  if (line > 0) origins[path] = {file.path, line};
}

// Replaces `field` of `to` by `from`'s: value, presence, and the case of its oneof. Reflection has no
// per-field copy; SwapFields moves exactly that field out of a scratch copy.
void CopyField(const Message& from, const FieldDescriptor* field, Message& to) {
  std::unique_ptr<Message> scratch(from.New());
  scratch->CopyFrom(from);
  to.GetReflection()->SwapFields(&to, scratch.get(), {field});
}

void MergeWritten(const Message& source, const TextFormat::ParseInfoTree* tree, const std::string& path,
                  const PolicyFile& file, Message& target, Origins& origins);

// Writes `field` of `source`, which the text wrote on `line`, onto `target` and records where under `path`
// (the path of `source`): a message without a ref of its own field by field, anything else whole.
void MergeField(const Message& source, const FieldDescriptor* field, int line,
                const TextFormat::ParseInfoTree* tree, const std::string& path, const PolicyFile& file,
                Message& target, Origins& origins) {
  if (const OneofDescriptor* oneof = field->real_containing_oneof(); oneof != nullptr) {
    for (int j = 0; j < oneof->field_count(); ++j) {
      if (oneof->field(j) != field) Forget(Join(path, oneof->field(j)->name()), origins);
    }
  }
  const std::string at = Join(path, field->name());
  if (MergesFieldByField(field)) {
    MergeWritten(source.GetReflection()->GetMessage(source, field), tree->GetTreeForNested(field, -1), at,
                 file, *target.GetReflection()->MutableMessage(&target, field), origins);
  } else {
    CopyField(source, field, target);
    Record(at, file, line, origins);
  }
}

// Writes onto `target` every field of `source` that the text wrote (`tree`, the parse tree of `source`).
void MergeWritten(const Message& source, const TextFormat::ParseInfoTree* tree, const std::string& path,
                  const PolicyFile& file, Message& target, Origins& origins) {
  const Descriptor* type = source.GetDescriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const int line = WrittenLine(tree, field);
    if (line > 0) MergeField(source, field, line, tree, path, file, target, origins);
  }
}

// Rules, quotas or budgets: the parent's minus `removed`, each of the child's entries merged onto the
// parent's entry of its id, or appended.
template <typename T>
void MergeEntries(const PolicyFile& child, int list_number, const RepeatedPtrField<T>& own,
                  const RepeatedPtrField<std::string>& removed, RepeatedPtrField<T>& merged,
                  Origins& origins) {
  const FieldDescriptor* list = v1::Policy::descriptor()->FindFieldByNumber(list_number);
  for (const std::string& id : removed) {
    merged.erase(
        std::remove_if(merged.begin(), merged.end(), [&id](const T& item) { return item.id() == id; }),
        merged.end());
    Forget(EntryPath(list, id), origins);
  }
  for (int i = 0; i < own.size(); ++i) {
    const T& entry = own[i];
    auto same =
        std::find_if(merged.begin(), merged.end(), [&entry](const T& m) { return m.id() == entry.id(); });
    T& target = same != merged.end() ? *same : *merged.Add();
    MergeWritten(entry, child.locations->GetTreeForNested(list, i), EntryPath(list, entry.id()), child,
                 target, origins);
  }
}

void VisitMessage(const Message& message, const std::string& path,
                  const std::function<void(const PolicyValue&)>& visit) {
  const Descriptor* type = message.GetDescriptor();
  const bool root = type == v1::Policy::descriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const Role role = root ? RoleOf(field) : Role::kInherited;
    if (role == Role::kConsumed) continue;
    if (role == Role::kEntries) {
      const auto& reflection = *message.GetReflection();
      for (int e = 0; e < reflection.FieldSize(message, field); ++e) {
        const Message& entry = reflection.GetRepeatedMessage(message, field, e);
        const FieldDescriptor* id = entry.GetDescriptor()->FindFieldByName("id");
        VisitMessage(entry, EntryPath(field, entry.GetReflection()->GetString(entry, id)), visit);
      }
    } else if (MergesFieldByField(field)) {
      if (message.GetReflection()->HasField(message, field)) {
        VisitMessage(message.GetReflection()->GetMessage(message, field), Join(path, field->name()), visit);
      }
    } else {
      visit({Join(path, field->name()), &message, field});
    }
  }
}

// A parent's quota that names no programme counts in the parent's; inherited, it keeps counting there
// (policy.proto, Quota.programme), so it is written down before the child's programme can take its place.
void PinInheritedProgrammes(v1::Policy& merged, Origins& origins) {
  const auto programme_origin = origins.find("programme");
  if (merged.programme().empty()) return;  // a broken parent (reported there)
  for (v1::Quota& quota : *merged.mutable_quotas()) {
    if (!quota.programme().empty()) continue;
    quota.set_programme(merged.programme());
    if (programme_origin != origins.end()) {
      origins[absl::StrCat("quotas[", quota.id(), "].programme")] = programme_origin->second;
    }
  }
}

}  // namespace

bool IsOneValue(const Descriptor* type) {
  if (type == v1::LegalReference::descriptor()) return true;
  const FieldDescriptor* ref = type->FindFieldByName("ref");
  return ref != nullptr && ref->message_type() == v1::LegalReference::descriptor();
}

void ForEachPolicyValue(const v1::Policy& policy, const std::function<void(const PolicyValue&)>& visit) {
  VisitMessage(policy, "", visit);
}

v1::Policy MergePolicy(const v1::Policy* parent, const PolicyFile& child) {
  v1::Policy merged;
  Origins origins;
  if (parent != nullptr) {
    merged = *parent;
    for (const v1::ValueOrigin& origin : parent->value_origins()) {
      origins[origin.field()] = {origin.file(), origin.line()};
    }
    PinInheritedProgrammes(merged, origins);
  }
  const v1::Policy& own = child.policy;
  const TextFormat::ParseInfoTree* tree = child.locations.get();
  const Descriptor* type = v1::Policy::descriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const int line = WrittenLine(tree, field);
    switch (RoleOf(field)) {
      case Role::kOwn:
        CopyField(own, field, merged);
        Record(field->name(), child, line, origins);
        break;
      case Role::kInherited:
        // An empty programme is "inherit" (policy.proto), whether written or not.
        if (line == 0 || (field->number() == v1::Policy::kProgrammeFieldNumber && own.programme().empty())) {
          break;
        }
        MergeField(own, field, line, tree, "", child, merged, origins);
        break;
      case Role::kEntries:
      case Role::kConsumed:
        break;
    }
  }
  MergeEntries(child, v1::Policy::kRulesFieldNumber, own.rules(), own.removed_rule_ids(),
               *merged.mutable_rules(), origins);
  MergeEntries(child, v1::Policy::kQuotasFieldNumber, own.quotas(), own.removed_quota_ids(),
               *merged.mutable_quotas(), origins);
  MergeEntries(child, v1::Policy::kBudgetsFieldNumber, own.budgets(), own.removed_budget_ids(),
               *merged.mutable_budgets(), origins);
  merged.clear_removed_rule_ids();
  merged.clear_removed_quota_ids();
  merged.clear_removed_budget_ids();
  merged.clear_version();
  merged.clear_source_files();
  merged.clear_value_origins();
  RepeatedPtrField<v1::ValueOrigin> value_origins;
  ForEachPolicyValue(merged, [&origins, &value_origins](const PolicyValue& value) {
    const auto origin = origins.find(value.path);
    if (origin == origins.end()) return;
    v1::ValueOrigin* out = value_origins.Add();
    out->set_field(value.path);
    out->set_file(origin->second.file);
    out->set_line(origin->second.line);
  });
  merged.mutable_value_origins()->Swap(&value_origins);
  return merged;
}

}  // namespace tradein::policy
