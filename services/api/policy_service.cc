#include "services/api/policy_service.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/civil_date.h"
#include "common/reasons.h"
#include "common/status.h"
#include "services/api/authorize.h"
#include "services/api/grpc_status.h"
#include "services/policy/region.h"

namespace tradein::api {
namespace {

using policy::CompiledPolicy;
using policy::PolicySnapshot;

struct PolicyFilter {
  std::string region_code;            // empty: any
  std::optional<absl::CivilDay> day;  // empty: any
};

absl::StatusOr<PolicyFilter> ParseFilter(const std::string& region_code, const std::string& date) {
  std::vector<FieldViolation> violations;
  PolicyFilter filter;
  if (!region_code.empty() && !policy::IsRegionCode(region_code)) {
    violations.push_back({"regionCode", "REGION_CODE_INVALID", "must be a 6-digit GB/T 2260 code"});
  }
  filter.region_code = region_code;
  if (!date.empty()) {
    filter.day = ParseCivilDay(date);
    if (!filter.day.has_value())
      violations.push_back({"transactionDate", "DATE_INVALID", "must be YYYY-MM-DD"});
  }
  if (!violations.empty()) return InvalidArgumentError(violations);
  return filter;
}

bool Matches(const CompiledPolicy& policy, const PolicyFilter& filter) {
  return (filter.region_code.empty() || PolicySnapshot::AppliesToRegion(policy, filter.region_code)) &&
         (!filter.day.has_value() || policy.transaction_window().Contains(*filter.day));
}

void FillSummary(const CompiledPolicy& policy, v1::PolicySummary& out) {
  const v1::Policy& p = policy.proto();
  out.set_policy_id(p.id());
  out.set_title(p.title());
  out.set_title_zh(p.title_zh());
  out.set_region_code(p.region_code());
  out.set_inherits(p.inherits());
  out.set_programme(p.programme());
  *out.mutable_transaction_window() = p.transaction_window();
  out.mutable_claim_window()->set_first_day(FormatCivilDay(policy.claim_window().first));
  out.mutable_claim_window()->set_last_day(FormatCivilDay(policy.claim_window().last));
  out.set_version(p.version());
  *out.mutable_source_files() = p.source_files();
}

absl::Status List(const v1::ListPoliciesRequest& request, const PolicySnapshot& snapshot,
                  v1::ListPoliciesResponse& response) {
  TRADEIN_ASSIGN_OR_RETURN(PolicyFilter filter,
                           ParseFilter(request.region_code(), request.transaction_date()));
  for (const auto& policy : snapshot.policies()) {
    if (Matches(*policy, filter)) FillSummary(*policy, *response.add_policies());
  }
  response.set_snapshot_version(snapshot.version());
  response.set_loaded_at(absl::FormatTime(absl::RFC3339_sec, snapshot.loaded_at(), absl::UTCTimeZone()));
  return absl::OkStatus();
}

absl::StatusOr<const CompiledPolicy*> Find(const v1::GetPolicyRequest& request,
                                           const PolicySnapshot& snapshot) {
  if (!request.policy_id().empty()) {
    const CompiledPolicy* policy = snapshot.FindById(request.policy_id());
    if (policy == nullptr) {
      return ReasonError(absl::StatusCode::kNotFound, "POLICY_NOT_FOUND",
                         absl::StrCat("no policy \"", request.policy_id(), "\""));
    }
    return policy;
  }
  if (request.region_code().empty() || request.transaction_date().empty()) {
    return InvalidArgumentError(
        {{"policyId", "FIELD_REQUIRED", "give policyId, or regionCode and transactionDate"}});
  }
  TRADEIN_ASSIGN_OR_RETURN(PolicyFilter filter,
                           ParseFilter(request.region_code(), request.transaction_date()));
  const CompiledPolicy* policy = snapshot.Select(filter.region_code, *filter.day);
  if (policy == nullptr) {
    return ReasonError(absl::StatusCode::kNotFound, "NO_POLICY_IN_FORCE",
                       absl::StrCat("no policy is in force for region ", request.region_code(), " on ",
                                    request.transaction_date()));
  }
  return policy;
}

v1::ReasonInfo::TillAction TillActionProto(TillAction action) {
  switch (action) {
    case TillAction::kShowToCashier:
      return v1::ReasonInfo::SHOW_TO_CASHIER;
    case TillAction::kRetrySameRequest:
      return v1::ReasonInfo::RETRY_SAME_REQUEST;
    case TillAction::kCallSupport:
      return v1::ReasonInfo::CALL_SUPPORT;
  }
  return v1::ReasonInfo::TILL_ACTION_UNSPECIFIED;
}

void ListAllReasons(v1::ListReasonsResponse& response) {
  for (const Reason& reason : AllReasons()) {
    v1::ReasonInfo* out = response.add_reasons();
    out->set_code(std::string(reason.code));
    out->set_item_reason(reason.scope == ReasonScope::kItem || reason.scope == ReasonScope::kBoth);
    if (reason.status != absl::StatusCode::kOk) out->set_grpc_code(absl::StatusCodeToString(reason.status));
    out->set_gateway_only(reason.scope == ReasonScope::kGateway);
    out->set_till_action(TillActionProto(reason.action));
    out->set_message(std::string(reason.message));
    out->set_message_zh(std::string(reason.message_zh));
  }
}

}  // namespace

grpc::ServerUnaryReactor* PolicyService::ListReasons(grpc::CallbackServerContext* context,
                                                     const v1::ListReasonsRequest* request,
                                                     v1::ListReasonsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kReadPolicy);
  if (grant.ok()) ListAllReasons(*response);
  reactor->Finish(ToGrpcStatus(grant.status()));
  return reactor;
}

grpc::ServerUnaryReactor* PolicyService::ListPolicies(grpc::CallbackServerContext* context,
                                                      const v1::ListPoliciesRequest* request,
                                                      v1::ListPoliciesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kReadPolicy);
  const absl::Status status = grant.ok() ? List(*request, *policies_.Current(), *response) : grant.status();
  if (status.ok()) {
    const absl::Time now = policies_.clock().Now();
    response->set_server_now(absl::FormatTime(absl::RFC3339_sec, now, absl::UTCTimeZone()));
    response->set_server_date(absl::FormatTime("%Y-%m-%d", now, ChinaTimeZone()));
  }
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* PolicyService::GetPolicy(grpc::CallbackServerContext* context,
                                                   const v1::GetPolicyRequest* request,
                                                   v1::Policy* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kReadPolicy);
  if (!grant.ok()) {
    reactor->Finish(ToGrpcStatus(grant.status()));
    return reactor;
  }
  const std::shared_ptr<const PolicySnapshot> snapshot = policies_.Current();
  absl::StatusOr<const CompiledPolicy*> policy = Find(*request, *snapshot);
  if (policy.ok()) *response = (*policy)->proto();
  reactor->Finish(ToGrpcStatus(policy.status()));
  return reactor;
}

}  // namespace tradein::api
