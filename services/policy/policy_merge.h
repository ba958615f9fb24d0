// -----------------------------------------------------------------------------
// File: policy_merge.h
// -----------------------------------------------------------------------------
//
// Inheritance: a child policy (e.g. Rui'an) states only what differs from its parent (Zhejiang). Merging
// gives the policy the calculator applies and GetPolicy serves, and says where each of its values was
// written:
//   - id, title, title_zh, ref, region_code and inherits are the child's own;
//   - programme, the windows, rounding, hold and refund are the child's when its text sets them, else the
//     parent's;
//   - rules, quotas and budgets are the parent's, minus the child's removed_*_ids. A child entry whose id the
//     parent has overrides it field by field; an id the parent lacks is a new entry, appended;
//   - a parent's quota keeps counting in the parent's programme: one that names none gets it written in
//     (with the origin of the parent's `programme`), so a child's own programme does not move it; only an
//     override that writes `programme` does (a split: tradein-policy-lint warns);
//   - removed_*_ids are consumed (the merged policy has none).
//
// Field by field means: every field the child's text writes replaces the parent's, and every field it does
// not write stays the parent's. Presence comes from the text, not from proto3 (which cannot tell a zero,
// false or empty value from "not set"): the parse tree of the child's file (PolicyFile::locations) lists the
// fields the text wrote, so an override may set `per_product_type: false`, `max_units: 0` or `rule_ids: []`.
// What is replaced whole, as one value:
//   - a scalar;
//   - a list (repeated field): replaced, never appended to;
//   - a message with a `ref` of its own (DateWindow, Money, Rate, Requirement, FlatAmount, ..., and a
//     LegalReference itself): a number and its legal reference travel together, so an override that changes
//     the number must give the reference too (the validator checks that every such value has one).
// Messages without a `ref` of their own (Eligibility, VehicleConditions, Percentage, ...) merge field by
// field in the same way. Writing one member of a oneof (Rule.amount) drops the parent's other member.
//
// Every value of the merged policy gets a ValueOrigin (file, line) in `value_origins`, in field order, with
// rules, quotas and budgets named by id: "rules[N25-SCRAP-NEV].claim_window".
//
// Thread safety: pure functions.
#ifndef TRADEIN_SERVICES_POLICY_POLICY_MERGE_H_
#define TRADEIN_SERVICES_POLICY_POLICY_MERGE_H_

#include <functional>
#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "services/policy/policy_problem.h"
#include "tradein/v1/policy.pb.h"

namespace tradein::policy {

// MergePolicy
//
// `parent` is already merged with its own parents, value_origins included (nullptr for a root policy).
// Returns `child` merged onto it, with value_origins; version and source_files are empty.
// REQUIRES: `child` came from ParsePolicyText (its parse tree says what its text wrote).
v1::Policy MergePolicy(const v1::Policy* parent, const PolicyFile& child);

// One value of a merged policy: what inheritance replaces as one piece (see above).
struct PolicyValue {
  std::string path;                                   // as ValueOrigin.field, e.g. "rules[N25-DIG].title"
  const google::protobuf::Message* holder = nullptr;  // the message whose field it is
  const google::protobuf::FieldDescriptor* field = nullptr;
};

// ForEachPolicyValue
//
// Calls `visit` for every value slot of `policy`, in field order: each field of each present message, except
// that messages merged field by field are entered instead, and output fields and removed_*_ids are skipped.
// A slot may hold a default value; value_origins says which ones a file wrote.
void ForEachPolicyValue(const v1::Policy& policy, const std::function<void(const PolicyValue&)>& visit);

// IsOneValue
//
// True for the message types inheritance replaces whole: LegalReference, and every message with a `ref`.
bool IsOneValue(const google::protobuf::Descriptor* type);

}  // namespace tradein::policy

#endif  // TRADEIN_SERVICES_POLICY_POLICY_MERGE_H_
