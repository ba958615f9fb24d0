#include "services/policy/policy_problem.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/stubs/common.h"  // internal::IsStructurallyValidUTF8, UTF8SpnStructurallyValid

namespace tradein::policy {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// `text` with every byte that is not part of a UTF-8 character written as \xHH: the parser's messages quote
// what it found, and problems end up in JSON log lines and on terminals.
std::string Utf8Safe(absl::string_view text) {
  std::string out;
  while (!text.empty()) {
    const auto valid = static_cast<size_t>(google::protobuf::internal::UTF8SpnStructurallyValid(
        google::protobuf::StringPiece(text.data(), text.size())));
    out.append(text.data(), valid);
    if (valid == text.size()) break;
    absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(text[valid]), absl::kZeroPad2));
    text.remove_prefix(valid + 1);
  }
  return out;
}

class CollectingErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  CollectingErrorCollector(absl::string_view path, std::vector<PolicyProblem>& problems)
      : path_(path), problems_(problems) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    problems_.push_back({path_, line + 1, "", absl::StrCat("column ", column + 1, ": ", Utf8Safe(message))});
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    AddError(line, column, message);
  }

 private:
  std::string path_;
  std::vector<PolicyProblem>& problems_;
};

// The location of the `offset`-th value after the '[' that follows `statement` in `text`.
TextFormat::ParseLocation ListElementLocation(absl::string_view text, TextFormat::ParseLocation statement,
                                              int offset) {
  google::protobuf::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  class IgnoreErrors final : public google::protobuf::io::ErrorCollector {
    void AddError(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  } ignore_errors;
  google::protobuf::io::Tokenizer tokenizer(&input, &ignore_errors);
  bool in_list = false;
  int values = 0;
  while (tokenizer.Next()) {
    const auto& token = tokenizer.current();
    if (token.line < statement.line || (token.line == statement.line && token.column < statement.column))
      continue;
    if (!in_list) {
      in_list = token.text == "[";
      continue;
    }
    if (token.text == "]") break;
    if (token.text == ",") continue;
    if (values++ == offset) return TextFormat::ParseLocation(token.line, token.column);
  }
  return statement;
}

// Where element `index` of `field` was written. A list written as one statement (`product_types: [a, b]`)
// records one location, under the index of its first element, at the field's name; `text` locates the
// element itself by counting the list's values from there.
TextFormat::ParseLocation LocationOf(const TextFormat::ParseInfoTree& tree, const FieldDescriptor* field,
                                     int index, absl::string_view text) {
  if (!field->is_repeated()) return tree.GetLocation(field, -1);
  for (int first = std::max(index, 0); first >= 0; --first) {
    const TextFormat::ParseLocation statement = tree.GetLocation(field, first);
    if (statement.line < 0) continue;
    if (first == index || field->type() == FieldDescriptor::TYPE_MESSAGE) return statement;
    return ListElementLocation(text, statement, index - first);
  }
  return TextFormat::ParseLocation();
}

// Where a string field is not UTF-8.
struct NonUtf8 {
  std::string field;
  int line = 0;
};

// The first string field of `message` or of a message in it that is not UTF-8 (protobuf's own check, the one
// serialisation applies), with where it was written; nullopt when there is none.
std::optional<NonUtf8> FirstNonUtf8(const google::protobuf::Message& message,
                                    const TextFormat::ParseInfoTree* tree, absl::string_view text,
                                    const std::string& prefix) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const int count = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const int index = field->is_repeated() ? i : -1;
      const std::string at = absl::StrCat(prefix, prefix.empty() ? "" : ".", field->name(),
                                          index < 0 ? "" : absl::StrCat("[", i, "]"));
      if (field->type() == FieldDescriptor::TYPE_STRING) {
        std::string scratch;
        const std::string& value = index < 0
                                       ? reflection->GetStringReference(message, field, &scratch)
                                       : reflection->GetRepeatedStringReference(message, field, i, &scratch);
        if (google::protobuf::internal::IsStructurallyValidUTF8(value)) continue;
        const int line = tree == nullptr ? -1 : LocationOf(*tree, field, index, text).line;
        return NonUtf8{at, line + 1};
      }
      if (field->type() != FieldDescriptor::TYPE_MESSAGE) continue;
      const google::protobuf::Message& nested = index < 0 ? reflection->GetMessage(message, field)
                                                          : reflection->GetRepeatedMessage(message, field, i);
      const TextFormat::ParseInfoTree* nested_tree =
          tree == nullptr ? nullptr : tree->GetTreeForNested(field, index);
      if (std::optional<NonUtf8> bad = FirstNonUtf8(nested, nested_tree, text, at)) return bad;
    }
  }
  return std::nullopt;
}

bool Parse(absl::string_view path, absl::string_view text, google::protobuf::Message& message,
           TextFormat::ParseInfoTree* tree, std::vector<PolicyProblem>& problems) {
  CollectingErrorCollector errors(path, problems);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(tree);
  if (!parser.ParseFromString(std::string(text), &message)) return false;
  // Text format takes any bytes in a string ("\xff"), but a proto3 string must be UTF-8: serialising one
  // that is not logs a libprotobuf error (a non-JSON line in our log) and clients refuse the message.
  if (std::optional<NonUtf8> bad = FirstNonUtf8(message, tree, text, "")) {
    problems.push_back({std::string(path), bad->line, bad->field, "is not valid UTF-8"});
    return false;
  }
  return true;
}

}  // namespace

FieldPath FieldPath::Then(absl::string_view field, int index) const {
  FieldPath out = *this;
  out.segments_.push_back({std::string(field), index});
  return out;
}

std::string FieldPath::ToString() const {
  std::string out;
  for (const Segment& s : segments_) {
    if (!out.empty()) out.push_back('.');
    absl::StrAppend(&out, s.field);
    if (s.index >= 0) absl::StrAppend(&out, "[", s.index, "]");
  }
  return out;
}

std::string PolicyProblem::ToString() const {
  std::string out = file;
  if (line > 0) absl::StrAppend(&out, ":", line);
  absl::StrAppend(&out, ": ");
  if (!field.empty()) absl::StrAppend(&out, field, ": ");
  absl::StrAppend(&out, message);
  return out;
}

int PolicyFile::LineOf(const FieldPath& field_path) const {
  const google::protobuf::Descriptor* descriptor = v1::Policy::descriptor();
  const TextFormat::ParseInfoTree* tree = locations.get();
  int line = 0;
  for (const FieldPath::Segment& segment : field_path.segments()) {
    if (tree == nullptr || descriptor == nullptr) break;
    const FieldDescriptor* field = descriptor->FindFieldByName(segment.field);
    if (field == nullptr) break;
    const TextFormat::ParseLocation location = LocationOf(*tree, field, segment.index, text);
    if (location.line < 0) break;
    line = location.line + 1;
    if (field->type() != FieldDescriptor::TYPE_MESSAGE) break;
    tree = tree->GetTreeForNested(field, field->is_repeated() ? std::max(segment.index, 0) : -1);
    descriptor = field->message_type();
  }
  return line;
}

int WrittenLine(const TextFormat::ParseInfoTree* tree, const FieldDescriptor* field) {
  if (tree == nullptr) return 0;
  const TextFormat::ParseLocation location = tree->GetLocation(field, field->is_repeated() ? 0 : -1);
  return location.line < 0 ? 0 : location.line + 1;
}

std::unique_ptr<PolicyFile> ParsePolicyText(absl::string_view path, absl::string_view text,
                                            std::vector<PolicyProblem>& problems) {
  auto file = std::make_unique<PolicyFile>();
  file->path = std::string(path);
  file->locations = std::make_shared<TextFormat::ParseInfoTree>();
  file->text = std::string(text);
  if (!Parse(path, text, file->policy, file->locations.get(), problems)) return nullptr;
  return file;
}

bool ParseMessageText(absl::string_view path, absl::string_view text, google::protobuf::Message& message,
                      std::vector<PolicyProblem>& problems) {
  TextFormat::ParseInfoTree tree;
  return Parse(path, text, message, &tree, problems);
}

}  // namespace tradein::policy
