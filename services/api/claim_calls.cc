#include "services/api/claim_calls.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "services/api/claim_view.h"
#include "services/api/grpc_status.h"

namespace tradein::api {
namespace {

constexpr size_t kMaxReasonLength = 256;

}  // namespace

quota::QuotaStore::Callback<quota::ClaimRecord> FinishWithClaim(grpc::ServerUnaryReactor* reactor,
                                                                v1::Claim* response, ClaimEvents& events,
                                                                absl::string_view method, ChangeReport report,
                                                                CallInfo* call) {
  // `call` lives until the call ends, after Finish below.
  return [reactor, response, &events, method, report = std::move(report),
          call](absl::StatusOr<quota::ClaimRecord> record) {
    absl::Status status = record.status();
    if (status.ok()) status = ViewClaim(*record, *response);
    if (status.ok() && call != nullptr) call->claim_id = response->claim_id();
    if (status.ok() && record->replayed) events.Replayed(method);
    if (status.ok() && !record->replayed && report) report(*record, *response);
    reactor->Finish(ToGrpcStatus(status));
  };
}

audit::AuditContext AuditContextOf(CallRegistry& calls, const grpc::ServerContextBase* context,
                                   std::string reason) {
  const CallInfo* call = calls.Find(context);
  return {call != nullptr ? call->caller_id : "", call != nullptr ? call->request_id : "", std::move(reason)};
}

absl::flat_hash_set<std::string> ImeiLines(const quota::ClaimRecord& record,
                                           const policy::ProductCatalogue& catalogue) {
  absl::flat_hash_set<std::string> lines;
  v1::Claim draft;
  if (!draft.ParseFromString(record.draft)) return lines;
  for (const v1::ItemResult& item : draft.items()) {
    const std::optional<policy::ProductTypeId> type = catalogue.Find(item.product_type());
    if (type.has_value() && catalogue.Get(*type).serial_format() == v1::ProductType::IMEI) {
      lines.insert(item.line_id());
    }
  }
  return lines;
}

quota::ChangeNote NoteOf(const audit::AuditContext& audit) { return {audit.caller, audit.reason}; }

grpc::ServerUnaryReactor* Refuse(grpc::ServerUnaryReactor* reactor, const absl::Status& status) {
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::Status ValidateClaimId(const std::string& claim_id) {
  if (quota::TagOfClaimId(claim_id).empty()) {
    return ReasonError(absl::StatusCode::kNotFound, "CLAIM_NOT_FOUND", "no such claim");
  }
  return absl::OkStatus();
}

absl::Status ValidateReason(const std::string& reason, bool required) {
  if (required && reason.empty())
    return InvalidArgumentError({{"reason", "FIELD_REQUIRED", "a reason is required"}});
  if (reason.size() <= kMaxReasonLength) return absl::OkStatus();
  return InvalidArgumentError(
      {{"reason", "FIELD_TOO_LONG", absl::StrCat("at most ", kMaxReasonLength, " bytes")}});
}

}  // namespace tradein::api
