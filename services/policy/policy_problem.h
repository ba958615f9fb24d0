// -----------------------------------------------------------------------------
// File: policy_problem.h
// -----------------------------------------------------------------------------
//
// What is wrong with a policy file, where: "zj-2025.textproto:42: rules[3].percentage.cap.fen: -1 is below
// 0". A PolicyFile keeps the parse tree of its text so that any field path can be turned back into a line.
//
// Thread safety: plain values; a PolicyFile is immutable after parsing.
#ifndef TRADEIN_SERVICES_POLICY_POLICY_PROBLEM_H_
#define TRADEIN_SERVICES_POLICY_POLICY_PROBLEM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/text_format.h"
#include "tradein/v1/policy.pb.h"

namespace tradein::policy {

// A path of fields from the root message, e.g. {{"rules", 3}, {"percentage"}, {"cap"}, {"fen"}}.
class FieldPath {
 public:
  struct Segment {
    std::string field;
    int index = -1;  // -1: a singular field
  };
  FieldPath() = default;
  FieldPath Then(absl::string_view field, int index = -1) const;
  std::string ToString() const;  // "rules[3].percentage.cap.fen"
  const std::vector<Segment>& segments() const { return segments_; }

 private:
  std::vector<Segment> segments_;
};

struct PolicyProblem {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  std::string field;
  std::string message;
  std::string ToString() const;
};

// One parsed policy file: the message, and where each field was written.
struct PolicyFile {
  std::string path;  // as shown in messages (relative to the policy directory)
  v1::Policy policy;
  std::shared_ptr<google::protobuf::TextFormat::ParseInfoTree> locations;
  std::string text;  // the file as read: lists written as one statement are located element by element

  // Line (1-based) where the field at `path` was written; the nearest written ancestor's line when the field
  // itself is absent; 0 if none.
  int LineOf(const FieldPath& field_path) const;
};

// WrittenLine
//
// The 1-based line where the text behind `tree` (a message's parse tree) wrote `field` — a list's first
// statement for a repeated field, `[]` included; 0 when the text does not write it or `tree` is null. Whether
// a field was written is what inheritance reads as presence (policy_merge.h).
int WrittenLine(const google::protobuf::TextFormat::ParseInfoTree* tree,
                const google::protobuf::FieldDescriptor* field);

// ParsePolicyText
//
// Parses `text` as a tradein.v1.Policy. On failure, appends the parser's problems (with lines) to `problems`
// and returns nullptr. Unknown fields are errors.
std::unique_ptr<PolicyFile> ParsePolicyText(absl::string_view path, absl::string_view text,
                                            std::vector<PolicyProblem>& problems);

// ParseMessageText
//
// Parses `text` as `message` (e.g. the product catalogue); problems as above. Returns false on failure.
bool ParseMessageText(absl::string_view path, absl::string_view text, google::protobuf::Message& message,
                      std::vector<PolicyProblem>& problems);

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_POLICY_PROBLEM_H_
