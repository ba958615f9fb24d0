#include "services/api/request_limits.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "google/protobuf/descriptor.h"

namespace tradein::api {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Enough to say what is wrong; grpc_status.h bounds what travels anyway.
constexpr size_t kMaxReported = 5;

FieldLimit LimitOf(const FieldDescriptor& field) {
  for (const FieldLimit& limit : kFieldLimits) {
    if (limit.field == field.full_name()) return limit;
  }
  return field.is_repeated() ? FieldLimit{"", static_cast<size_t>(kMaxRepeatedEntries), "TOO_MANY_ENTRIES"}
                             : FieldLimit{"", kMaxStringBytes, "FIELD_TOO_LONG"};
}

FieldViolation TooLong(const std::string& path, size_t size, size_t max) {
  return {path, "FIELD_TOO_LONG", absl::StrCat("is ", size, " bytes; at most ", max)};
}

bool IsText(const FieldDescriptor& field) { return field.cpp_type() == FieldDescriptor::CPPTYPE_STRING; }

class LimitChecker {
 public:
  void Check(const Message& message, const std::string& prefix) {
    const Reflection& reflection = *message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection.ListFields(message, &fields);
    for (const FieldDescriptor* field : fields) {
      if (violations_.size() >= kMaxReported) return;
      const std::string path =
          prefix.empty() ? field->json_name() : absl::StrCat(prefix, ".", field->json_name());
      if (field->is_repeated()) {
        CheckRepeated(message, *field, path);
      } else if (IsText(*field)) {
        std::string scratch;
        CheckText(reflection.GetStringReference(message, field, &scratch), *field, path);
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        Check(reflection.GetMessage(message, field), path);
      }
    }
  }

  std::vector<FieldViolation>& violations() { return violations_; }

 private:
  void CheckRepeated(const Message& message, const FieldDescriptor& field, const std::string& path) {
    const Reflection& reflection = *message.GetReflection();
    const int size = reflection.FieldSize(message, &field);
    const FieldLimit limit = LimitOf(field);
    if (static_cast<size_t>(size) > limit.max) {
      violations_.push_back(
          {path, std::string(limit.reason), absl::StrCat(size, " entries; at most ", limit.max)});
      return;
    }
    for (int i = 0; i < size && violations_.size() < kMaxReported; ++i) {
      const std::string at = absl::StrCat(path, "[", i, "]");
      if (IsText(field)) {
        std::string scratch;
        const std::string& text = reflection.GetRepeatedStringReference(message, &field, i, &scratch);
        if (text.size() > kMaxStringBytes) violations_.push_back(TooLong(at, text.size(), kMaxStringBytes));
      } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        Check(reflection.GetRepeatedMessage(message, &field, i), at);
      }
    }
  }

  void CheckText(const std::string& text, const FieldDescriptor& field, const std::string& path) {
    if (const size_t max = LimitOf(field).max; text.size() > max)
      violations_.push_back(TooLong(path, text.size(), max));
  }

  std::vector<FieldViolation> violations_;
};

}  // namespace

absl::Status CheckRequestLimits(const google::protobuf::Message& request) {
  LimitChecker checker;
  checker.Check(request, "");
  if (checker.violations().empty()) return absl::OkStatus();
  return InvalidArgumentError(checker.violations());
}

}  // namespace tradein::api
