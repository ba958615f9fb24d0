#include "services/api/claim_service.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/api/authorize.h"
#include "services/api/basket.h"
#include "services/api/claim_calls.h"
#include "services/api/claim_preparation.h"
#include "services/api/claim_view.h"
#include "services/api/grpc_status.h"
#include "services/identity/imei.h"
#include "services/quota/ledger_plan.h"
#include "tradein/v1/stored_confirmation.pb.h"

namespace tradein::api {
namespace {

using quota::ClaimRecord;

constexpr size_t kMaxSerialsPerLine = 100;

v1::ClaimRequest WithRetailer(const v1::ClaimRequest& request, const std::string& retailer_id) {
  v1::ClaimRequest bound = request;
  bound.set_retailer_id(retailer_id);
  return bound;
}

absl::Status ValidateOptionalRetailer(const std::string& retailer_id) {
  return retailer_id.empty() ? absl::OkStatus() : ValidateClientId(retailer_id, "retailerId");
}

absl::Status ValidateConfirm(const v1::ConfirmClaimRequest& request) {
  TRADEIN_RETURN_IF_ERROR(ValidateClaimId(request.claim_id()));
  TRADEIN_RETURN_IF_ERROR(ValidateOptionalRetailer(request.retailer_id()));
  std::vector<FieldViolation> violations;
  if (request.invoice_number().size() > kMaxIdLength) {
    violations.push_back(
        {"invoiceNumber", "FIELD_TOO_LONG", absl::StrCat("at most ", kMaxIdLength, " bytes")});
  }
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < request.line_serials_size(); ++i) {
    const v1::LineSerials& line = request.line_serials(i);
    const std::string at = absl::StrCat("lineSerials[", i, "]");
    if (line.line_id().empty()) violations.push_back({at + ".lineId", "FIELD_REQUIRED", "is required"});
    if (line.line_id().size() > kMaxIdLength) {
      violations.push_back(
          {at + ".lineId", "FIELD_TOO_LONG", absl::StrCat("at most ", kMaxIdLength, " bytes")});
    }
    if (static_cast<size_t>(line.serial_numbers_size()) > kMaxSerialsPerLine) {
      violations.push_back({at + ".serialNumbers", "TOO_MANY_SERIALS", "one per unit, at most 100"});
    }
    for (int s = 0; s < line.serial_numbers_size(); ++s) {
      const std::string& serial = line.serial_numbers(s);
      if (serial.empty() || serial.size() > kMaxIdLength) {
        violations.push_back(
            {absl::StrCat(at, ".serialNumbers[", s, "]"), "SERIAL_INVALID", "1-64 characters"});
      }
    }
  }
  return violations.empty() ? absl::OkStatus() : InvalidArgumentError(violations);
}

// The keyed hashes of the unit serial numbers of a confirmation (one namespace for every programme: one
// device is subsidised once).
std::vector<quota::SerialKey> SerialKeysOf(const v1::ConfirmClaimRequest& request,
                                           const identity::KeyedHasher& hasher) {
  std::vector<quota::SerialKey> keys;
  for (int i = 0; i < request.line_serials_size(); ++i) {
    const v1::LineSerials& line = request.line_serials(i);
    for (int s = 0; s < line.serial_numbers_size(); ++s) {
      keys.push_back({"", hasher.ScopedKey("serial", absl::AsciiStrToUpper(line.serial_numbers(s))),
                      line.line_id(), absl::StrCat("lineSerials[", i, "].serialNumbers[", s, "]")});
    }
  }
  return keys;
}

absl::Status ValidateRefund(const v1::RefundClaimRequest& request) {
  TRADEIN_RETURN_IF_ERROR(ValidateClaimId(request.claim_id()));
  TRADEIN_RETURN_IF_ERROR(ValidateClientId(request.request_id(), "requestId"));
  TRADEIN_RETURN_IF_ERROR(ValidateOptionalRetailer(request.retailer_id()));
  TRADEIN_RETURN_IF_ERROR(ValidateReason(request.reason()));
  std::vector<FieldViolation> violations;
  for (int i = 0; i < request.lines_size(); ++i) {
    const std::string at = absl::StrCat("lines[", i, "]");
    if (request.lines(i).line_id().empty())
      violations.push_back({at + ".lineId", "FIELD_REQUIRED", "is required"});
    if (request.lines(i).quantity() < 0 || request.lines(i).quantity() > kMaxQuantity) {
      violations.push_back({at + ".quantity", "QUANTITY_OUT_OF_RANGE", "0 (all remaining) .. 100"});
    }
  }
  return violations.empty() ? absl::OkStatus() : InvalidArgumentError(violations);
}

// Joins each quota's counters (units, then fen) into one QuotaUsage entry.
void FillUsage(const std::vector<quota::UsageCounter>& counters, const std::vector<int64_t>& used,
               const policy::ProductCatalogue& catalogue, v1::BuyerUsage& out) {
  v1::QuotaUsage* entry = nullptr;
  for (size_t i = 0; i < counters.size(); ++i) {
    const quota::UsageCounter& counter = counters[i];
    const bool same = i > 0 && counters[i - 1].quota == counter.quota &&
                      counters[i - 1].product_type == counter.product_type &&
                      counters[i - 1].calendar_year == counter.calendar_year;
    if (!same) {
      entry = out.add_quotas();
      entry->set_quota_id(counter.quota->id());
      entry->set_title(counter.quota->source->title());
      entry->set_title_zh(counter.quota->source->title_zh());
      entry->set_programme(counter.counter.programme);
      if (counter.product_type.has_value())
        entry->set_product_type(catalogue.Get(*counter.product_type).code());
      if (counter.calendar_year.has_value())
        entry->set_calendar_year(static_cast<int32_t>(counter.calendar_year->year()));
    }
    const int64_t limit = counter.counter.limit;
    if (counter.counter.kind == quota::CounterLimit::Kind::kUnits) {
      entry->set_has_unit_limit(true);
      entry->set_used_units(static_cast<int32_t>(used[i]));
      entry->set_limit_units(static_cast<int32_t>(limit));
      entry->set_remaining_units(static_cast<int32_t>(std::max<int64_t>(limit - used[i], 0)));
    } else {
      entry->set_has_amount_limit(true);
      entry->set_used_fen(used[i]);
      entry->set_limit_fen(limit);
      entry->set_remaining_fen(std::max<int64_t>(limit - used[i], 0));
    }
  }
}

// True when some product type fixes the form of its serial numbers (ProductType.serial_format).
bool HasSerialFormats(const policy::ProductCatalogue& catalogue) {
  return std::any_of(catalogue.types().begin(), catalogue.types().end(), [](const v1::ProductType& type) {
    return type.serial_format() != v1::ProductType::SERIAL_FORMAT_UNSPECIFIED;
  });
}

// INVALID_ARGUMENT IMEI_INVALID naming each serial of `request` on a line whose product type wants IMEIs
// (serial_format: IMEI in the product catalogue) that is not one. Lines the claim does not have are left to
// the store (LINE_NOT_FOUND).
absl::Status CheckSerialFormats(const v1::ConfirmClaimRequest& request, const ClaimRecord& record,
                                const policy::ProductCatalogue& catalogue) {
  const absl::flat_hash_set<std::string> imei_lines = ImeiLines(record, catalogue);
  std::vector<FieldViolation> violations;
  for (int i = 0; i < request.line_serials_size(); ++i) {
    const v1::LineSerials& line = request.line_serials(i);
    if (!imei_lines.contains(line.line_id())) continue;
    for (int s = 0; s < line.serial_numbers_size(); ++s) {
      if (identity::IsValidImei(line.serial_numbers(s))) continue;
      violations.push_back({absl::StrCat("lineSerials[", i, "].serialNumbers[", s, "]"), "IMEI_INVALID",
                            "a phone's serial number is its IMEI: 15 digits, the last the Luhn check digit"});
    }
  }
  return violations.empty() ? absl::OkStatus() : InvalidArgumentError(violations);
}

// FAILED_PRECONDITION INVOICE_MISMATCH when a confirmation names an invoice number other than the one the
// claim was confirmed with (naming both); the same invoice, or none, is a retry and answers the claim.
absl::Status CheckSameInvoice(const ClaimRecord& record, const std::string& invoice) {
  if (invoice.empty()) return absl::OkStatus();
  v1::ConfirmClaimRequest confirmed;
  if (!confirmed.ParseFromString(record.confirmation) || confirmed.invoice_number() == invoice) {
    return absl::OkStatus();
  }
  const std::string before = confirmed.invoice_number().empty() ? "(none)" : confirmed.invoice_number();
  return WithChineseMessage(
      ReasonError(absl::StatusCode::kFailedPrecondition, "INVOICE_MISMATCH",
                  absl::StrCat("the claim was confirmed with invoice ", before, ", not ", invoice,
                               " (an administrator corrects an invoice number with CorrectClaim)")),
      absl::StrCat("该申领已用发票号 ", before, " 确认，与本次的 ", invoice,
                   " 不一致；如需更正发票号请联系管理员"));
}

}  // namespace

ClaimService::ClaimService(const policy::PolicyRegistry& policies, const Clock& clock,
                           const identity::KeyedHasher& hasher, quota::QuotaStore& store, CallGate& gate,
                           ClaimEvents& events, Options options)
    : policies_(policies),
      clock_(clock),
      hasher_(hasher),
      store_(store),
      gate_(gate),
      events_(events),
      options_(options) {
  SetMessageAllocatorFor_Claim(&claim_allocator_);
  SetMessageAllocatorFor_ConfirmClaim(&confirm_allocator_);
}

absl::Time ClaimService::StoreDeadline(const grpc::CallbackServerContext& context) const {
  return std::min(absl::FromChrono(context.deadline()), absl::Now() + options_.store_timeout);
}

grpc::ServerUnaryReactor* ClaimService::Claim(grpc::CallbackServerContext* context,
                                              const v1::ClaimRequest* request, v1::Claim* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kClaim,
                                                    request->retailer_id(), request->region_code());
  if (!grant.ok()) return Refuse(reactor, grant.status());
  absl::StatusOr<quota::ReserveRequest> reserve =
      grant->retailer_id == request->retailer_id()
          ? PrepareClaim(*request, *policies_.Current(), clock_.Now(), hasher_)
          : PrepareClaim(WithRetailer(*request, grant->retailer_id), *policies_.Current(), clock_.Now(),
                         hasher_);
  if (!reserve.ok()) return Refuse(reactor, reserve.status());
  store_.Reserve(*std::move(reserve), StoreDeadline(*context),
                 FinishWithClaim(
                     reactor, response, events_, "Claim",
                     [this, audit = AuditContextOf(gate_.calls, context)](
                         const ClaimRecord&, const v1::Claim& claim) { events_.Claimed(claim, audit); },
                     gate_.calls.Find(context)));
  return reactor;
}

grpc::ServerUnaryReactor* ClaimService::ConfirmClaim(grpc::CallbackServerContext* context,
                                                     const v1::ConfirmClaimRequest* request,
                                                     v1::Claim* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant =
      AuthorizeCall(gate_, *context, *request, auth::Action::kChangeClaim, request->retailer_id());
  if (!grant.ok()) return Refuse(reactor, grant.status());
  if (absl::Status status = ValidateConfirm(*request); !status.ok()) return Refuse(reactor, status);
  std::shared_ptr<const policy::PolicySnapshot> snapshot = policies_.Current();
  if (request->line_serials_size() == 0 || !HasSerialFormats(snapshot->catalogue())) {
    ConfirmInStore(context, request, grant->retailer_id, reactor, response);
    return reactor;
  }
  // Serials whose form the catalogue fixes (IMEIs of phones) are checked against the claim's lines before
  // anything is recorded: one read more, only for confirmations that carry serials.
  store_.Get(request->claim_id(), clock_.Now(), StoreDeadline(*context),
             [this, context, request, reactor, response, snapshot = std::move(snapshot),
              grant = *std::move(grant)](absl::StatusOr<ClaimRecord> record) {
               absl::Status status = record.status();
               if (status.ok() && grant.retailer_bound && record->retailer_id != grant.retailer_id) {
                 status = ReasonError(absl::StatusCode::kNotFound, "CLAIM_NOT_FOUND", "no such claim");
               }
               if (status.ok()) status = CheckSerialFormats(*request, *record, snapshot->catalogue());
               if (!status.ok()) {
                 Refuse(reactor, status);
                 return;
               }
               ConfirmInStore(context, request, grant.retailer_id, reactor, response);
             });
  return reactor;
}

void ClaimService::ConfirmInStore(grpc::CallbackServerContext* context,
                                  const v1::ConfirmClaimRequest* request, const std::string& retailer_id,
                                  grpc::ServerUnaryReactor* reactor, v1::Claim* response) {
  const absl::Time now = clock_.Now();
  v1::StoredConfirmation confirmation;
  confirmation.set_invoice_number(request->invoice_number());
  *confirmation.mutable_line_serials() = request->line_serials();
  *confirmation.mutable_confirmed_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now));
  quota::QuotaStore::Callback<ClaimRecord> finish =
      FinishWithClaim(reactor, response, events_, "ConfirmClaim",
                      [this, audit = AuditContextOf(gate_.calls, context)](
                          const ClaimRecord&, const v1::Claim& claim) { events_.Confirmed(claim, audit); });
  store_.Confirm({request->claim_id(), retailer_id, now, confirmation.SerializeAsString(),
                  SerialKeysOf(*request, hasher_)},
                 StoreDeadline(*context),
                 [finish = std::move(finish),
                  invoice = request->invoice_number()](absl::StatusOr<ClaimRecord> record) mutable {
                   // A claim already confirmed answers as it is: with another invoice, that is an error.
                   if (record.ok() && record->replayed) {
                     if (absl::Status mismatch = CheckSameInvoice(*record, invoice); !mismatch.ok()) {
                       record = std::move(mismatch);
                     }
                   }
                   std::move(finish)(std::move(record));
                 });
}

grpc::ServerUnaryReactor* ClaimService::CancelClaim(grpc::CallbackServerContext* context,
                                                    const v1::CancelClaimRequest* request,
                                                    v1::Claim* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant =
      AuthorizeCall(gate_, *context, *request, auth::Action::kChangeClaim, request->retailer_id());
  if (!grant.ok()) return Refuse(reactor, grant.status());
  absl::Status status = ValidateClaimId(request->claim_id());
  if (status.ok()) status = ValidateReason(request->reason());
  if (!status.ok()) return Refuse(reactor, status);
  store_.Cancel(
      {request->claim_id(), grant->retailer_id, clock_.Now()}, StoreDeadline(*context),
      FinishWithClaim(reactor, response, events_, "CancelClaim",
                      [this, audit = AuditContextOf(gate_.calls, context, request->reason())](
                          const ClaimRecord&, const v1::Claim& claim) { events_.Cancelled(claim, audit); }));
  return reactor;
}

grpc::ServerUnaryReactor* ClaimService::RefundClaim(grpc::CallbackServerContext* context,
                                                    const v1::RefundClaimRequest* request,
                                                    v1::Claim* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant =
      AuthorizeCall(gate_, *context, *request, auth::Action::kChangeClaim, request->retailer_id());
  if (!grant.ok()) return Refuse(reactor, grant.status());
  if (absl::Status status = ValidateRefund(*request); !status.ok()) return Refuse(reactor, status);
  quota::RefundRequest refund;
  refund.claim_id = request->claim_id();
  refund.retailer_id = grant->retailer_id;
  refund.refund_id = request->request_id();
  refund.fingerprint = Fingerprint(*request, "refund-request", hasher_);
  for (const v1::RefundLine& line : request->lines())
    refund.lines.push_back({line.line_id(), line.quantity()});
  refund.now = clock_.Now();
  audit::AuditContext audit = AuditContextOf(gate_.calls, context, request->reason());
  refund.note = NoteOf(audit);
  // What this refund moved is the difference from before; the store answers with the claim after it.
  store_.Refund(
      std::move(refund), StoreDeadline(*context),
      FinishWithClaim(reactor, response, events_, "RefundClaim",
                      [this, audit = std::move(audit)](const ClaimRecord& record, const v1::Claim& claim) {
                        events_.Refunded(claim, record.last_change_fen, audit);
                      }));
  return reactor;
}

grpc::ServerUnaryReactor* ClaimService::GetClaim(grpc::CallbackServerContext* context,
                                                 const v1::GetClaimRequest* request, v1::Claim* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kReadClaim);
  if (!grant.ok()) return Refuse(reactor, grant.status());
  if (absl::Status status = ValidateClaimId(request->claim_id()); !status.ok())
    return Refuse(reactor, status);
  store_.Get(request->claim_id(), clock_.Now(), StoreDeadline(*context),
             [reactor, response, grant = *std::move(grant)](absl::StatusOr<ClaimRecord> record) {
               absl::Status status = record.status();
               if (status.ok() && grant.retailer_bound && record->retailer_id != grant.retailer_id) {
                 status = ReasonError(absl::StatusCode::kNotFound, "CLAIM_NOT_FOUND", "no such claim");
               }
               if (status.ok()) status = ViewClaim(*record, *response);
               reactor->Finish(ToGrpcStatus(status));
             });
  return reactor;
}

grpc::ServerUnaryReactor* ClaimService::GetBuyerUsage(grpc::CallbackServerContext* context,
                                                      const v1::GetBuyerUsageRequest* request,
                                                      v1::BuyerUsage* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kReadUsage);
      !grant.ok()) {
    return Refuse(reactor, grant.status());
  }
  const absl::Time now = clock_.Now();
  std::shared_ptr<const policy::PolicySnapshot> snapshot = policies_.Current();
  absl::StatusOr<quota::BuyerRef> buyer =
      BuyerRefOf(request->buyer(), request->has_buyer(), ChinaCivilDay(now), hasher_);
  absl::StatusOr<const policy::CompiledPolicy*> policy =
      buyer.ok()
          ? SelectPolicy(request->region_code(), request->transaction_date(), request->policy_id(), *snapshot)
          : buyer.status();
  if (!policy.ok()) {
    reactor->Finish(ToGrpcStatus(policy.status()));
    return reactor;
  }
  response->set_policy_id((*policy)->id());
  response->set_programme((*policy)->programme());
  response->set_buyer_ref(buyer->key.substr(0, 16));
  // A calendar-year limit counts the year of the transaction date, else of the policy's first day.
  const std::optional<absl::CivilDay> day = ParseCivilDay(request->transaction_date());
  const absl::CivilYear year(day.value_or((*policy)->transaction_window().first));
  std::vector<quota::UsageCounter> counters = quota::UsageCountersOf(**policy, snapshot->catalogue(), year);
  quota::UsageRequest usage{*buyer, quota::UsageRequestCounters(counters), now};
  store_.GetUsage(std::move(usage), StoreDeadline(*context),
                  [reactor, response, snapshot,
                   counters = std::move(counters)](absl::StatusOr<std::vector<int64_t>> used) {
                    if (used.ok()) {
                      FillUsage(counters, quota::MostUsed(counters, *used), snapshot->catalogue(), *response);
                    }
                    reactor->Finish(ToGrpcStatus(used.status()));
                  });
  return reactor;
}

grpc::ServerUnaryReactor* ClaimService::GetBudgetUsage(grpc::CallbackServerContext* context,
                                                       const v1::GetBudgetUsageRequest* request,
                                                       v1::BudgetUsage* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kReadUsage);
      !grant.ok()) {
    return Refuse(reactor, grant.status());
  }
  std::shared_ptr<const policy::PolicySnapshot> snapshot = policies_.Current();
  absl::StatusOr<const policy::CompiledPolicy*> policy =
      SelectPolicy(request->region_code(), request->transaction_date(), request->policy_id(), *snapshot);
  if (!policy.ok()) return Refuse(reactor, policy.status());
  response->set_policy_id((*policy)->id());
  response->set_programme((*policy)->programme());
  std::vector<quota::BudgetRef> budgets;
  for (const policy::CompiledBudget& budget : (*policy)->budgets()) {
    budgets.push_back({budget.programme, budget.id(), budget.total_fen});
    v1::BudgetStatus* status = response->add_budgets();
    status->set_budget_id(budget.id());
    status->set_title(budget.source->title());
    status->set_programme(budget.programme);
    status->set_total_fen(budget.total_fen);
  }
  store_.GetBudgetUsage(std::move(budgets), clock_.Now(), StoreDeadline(*context),
                        [reactor, response, snapshot](absl::StatusOr<std::vector<int64_t>> used) {
                          for (size_t i = 0; used.ok() && i < used->size(); ++i) {
                            v1::BudgetStatus* status = response->mutable_budgets(static_cast<int>(i));
                            status->set_used_fen((*used)[i]);
                            status->set_remaining_fen(std::max<int64_t>(status->total_fen() - (*used)[i], 0));
                          }
                          reactor->Finish(ToGrpcStatus(used.status()));
                        });
  return reactor;
}

}  // namespace tradein::api
