#include "services/api/claim_preparation.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/api/basket.h"
#include "services/identity/prc_id.h"
#include "services/identity/vin.h"
#include "services/quota/ledger_plan.h"

namespace tradein::api {
namespace {

using pricing::ReasonCode;

constexpr size_t kFingerprintLength = 16;
constexpr size_t kBuyerRefLength = 16;

bool IsClientIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-';
}

// The claim window that applies to item `i` (its rule's, or the policy's when no rule prices it).
policy::DayWindow ClaimWindowOf(const Basket& basket, size_t i) {
  const policy::CompiledRule* rule = basket.prices[i].rule;
  return rule != nullptr ? rule->claim_window : basket.policy->claim_window();
}

// The ledger's view of item `i`: what the rules grant (nothing outside its claim window), and the keyed
// hashes of the home or old car it may use only once.
quota::PlannedLine PlanLine(const v1::Item& item, const Basket& basket, size_t i, bool window_open,
                            const identity::KeyedHasher& hasher) {
  const pricing::ItemPrice& price = basket.prices[i];
  quota::PlannedLine line;
  line.line_id = item.line_id();
  line.product_type = basket.items[i].product_type;
  line.rule_index = price.rule != nullptr ? price.rule->index : -1;
  line.units = price.eligible() && window_open ? basket.items[i].quantity : 0;
  line.unit_fen = price.unit_subsidy_fen;
  if (item.has_home()) {
    line.home_hash = hasher.ScopedKey(
        "home", absl::AsciiStrToUpper(absl::StripAsciiWhitespace(item.home().property_id())));
  }
  if (item.has_vehicle()) {
    absl::StatusOr<std::string> vin = identity::NormalizeVin(item.vehicle().old_vin(), "oldVin");
    if (vin.ok()) line.vehicle_hash = hasher.ScopedKey("vin", *vin);
    absl::StatusOr<std::string> new_vin = identity::NormalizeVin(item.vehicle().new_vin(), "newVin");
    if (new_vin.ok()) line.new_vehicle_hash = hasher.ScopedKey("vin", *new_vin);
  }
  return line;
}

// Under a policy that keys cars by their new VIN (one car subsidy per new car, decision D9) every car line of
// a claim must name its new car.
absl::Status RequireNewVins(const v1::ClaimRequest& request, const Basket& basket) {
  if (!basket.policy->requires_new_vin()) return absl::OkStatus();
  std::vector<FieldViolation> violations;
  for (int i = 0; i < request.items_size(); ++i) {
    if (!request.items(i).has_vehicle() || !request.items(i).vehicle().new_vin().empty()) continue;
    violations.push_back({absl::StrCat("items[", i, "].vehicle.newVin"), "FIELD_REQUIRED",
                          absl::StrCat("policy ", basket.policy->id(),
                                       " subsidises each new car once: the new car's VIN is required")});
  }
  return violations.empty() ? absl::OkStatus() : InvalidArgumentError(violations);
}

// The priced claim as it will be stored, before the ledger has decided anything.
v1::Claim Draft(const v1::ClaimRequest& request, const Basket& basket, const std::vector<bool>& window_open,
                const quota::BuyerRef& buyer) {
  v1::Claim draft;
  draft.set_request_id(request.request_id());
  draft.set_retailer_id(request.retailer_id());
  draft.set_region_code(request.region_code());
  draft.set_transaction_date(request.transaction_date());
  draft.set_policy_id(basket.policy->id());
  draft.set_policy_version(basket.policy->version());
  draft.set_programme(basket.policy->programme());
  draft.set_buyer_ref(buyer.key.substr(0, kBuyerRefLength));
  for (size_t i = 0; i < basket.items.size(); ++i) {
    v1::ItemResult* item = draft.add_items();
    FillItemResult(basket, i, request.items(static_cast<int>(i)), *item);
    *item->mutable_priced_input() = StoredInputOf(request.items(static_cast<int>(i)));
    if (window_open[i] || !basket.prices[i].eligible()) continue;
    AddLedgerReason(ReasonCode::kClaimWindowClosed, *item);
    item->set_eligible(false);
  }
  return draft;
}

absl::Status ValidateIds(const v1::ClaimRequest& request) {
  std::vector<FieldViolation> violations;
  for (const absl::Status& status : {ValidateClientId(request.request_id(), "requestId"),
                                     ValidateClientId(request.retailer_id(), "retailerId")}) {
    for (FieldViolation& v : FieldViolations(status)) violations.push_back(std::move(v));
  }
  return violations.empty() ? absl::OkStatus() : InvalidArgumentError(violations);
}

}  // namespace

v1::Item StoredInputOf(const v1::Item& item) {
  v1::Item out = item;
  out.clear_line_id();  // the line's id is ItemResult.line_id
  if (out.has_vehicle()) {
    out.mutable_vehicle()->clear_old_vin();
    out.mutable_vehicle()->clear_new_vin();
  }
  if (out.has_home()) out.mutable_home()->clear_property_id();
  return out;
}

absl::Status ValidateClientId(const std::string& value, const std::string& field) {
  if (value.empty()) return InvalidArgumentError({{field, "FIELD_REQUIRED", "is required"}});
  if (value.size() > kMaxIdLength || !std::all_of(value.begin(), value.end(), IsClientIdChar)) {
    return InvalidArgumentError({{field, "ID_INVALID", "1-64 characters of A-Z a-z 0-9 . _ : -"}});
  }
  return absl::OkStatus();
}

absl::StatusOr<quota::BuyerRef> BuyerRefOf(const v1::Buyer& buyer, bool present, absl::CivilDay today,
                                           const identity::KeyedHasher& hasher) {
  if (!present) return InvalidArgumentError({{"buyer", "FIELD_REQUIRED", "the buyer's id is required"}});
  if (buyer.id_type() != v1::Buyer::PRC_ID) {
    return InvalidArgumentError({{"buyer.idType", "FIELD_REQUIRED", "PRC_ID"}});
  }
  TRADEIN_ASSIGN_OR_RETURN(const std::string normalised, identity::NormalizePrcId(buyer.id_number(), today));
  quota::BuyerRef ref;
  ref.key = hasher.BuyerKey(normalised);
  ref.tag = identity::KeyedHasher::ShardTag(ref.key);
  return ref;
}

std::string Fingerprint(const google::protobuf::Message& message, absl::string_view scope,
                        const identity::KeyedHasher& hasher) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return hasher.ScopedKey(scope, bytes).substr(0, kFingerprintLength);
}

absl::StatusOr<quota::ReserveRequest> PrepareClaim(const v1::ClaimRequest& request,
                                                   const policy::PolicySnapshot& snapshot, absl::Time now,
                                                   const identity::KeyedHasher& hasher) {
  TRADEIN_RETURN_IF_ERROR(ValidateIds(request));
  const absl::CivilDay today = ChinaCivilDay(now);
  TRADEIN_ASSIGN_OR_RETURN(const quota::BuyerRef buyer,
                           BuyerRefOf(request.buyer(), request.has_buyer(), today, hasher));
  TRADEIN_ASSIGN_OR_RETURN(
      const Basket basket,
      PriceBasket({request.region_code(), request.transaction_date(), request.policy_id(), request.items()},
                  snapshot));
  TRADEIN_RETURN_IF_ERROR(RequireNewVins(request, basket));
  if (basket.day > today) {
    return InvalidArgumentError({{"transactionDate", "TRANSACTION_DATE_IN_FUTURE",
                                  absl::StrCat("is after today (", FormatCivilDay(today), ")")}});
  }
  std::vector<bool> window_open(basket.items.size());
  for (size_t i = 0; i < basket.items.size(); ++i) window_open[i] = ClaimWindowOf(basket, i).Contains(today);
  if (std::none_of(window_open.begin(), window_open.end(), [](bool open) { return open; })) {
    return ReasonError(absl::StatusCode::kFailedPrecondition, "CLAIM_WINDOW_CLOSED",
                       absl::StrCat("claims under policy ", basket.policy->id(), " cannot be made on ",
                                    FormatCivilDay(today)));
  }

  quota::ReserveRequest reserve;
  reserve.buyer = buyer;
  reserve.claim_id = quota::ClaimIdFor(
      buyer, hasher.ScopedKey("request", absl::StrCat(request.retailer_id(), absl::string_view("\0", 1),
                                                      request.request_id())));
  reserve.retailer_id = request.retailer_id();
  reserve.request_id = request.request_id();
  v1::ClaimRequest keyed = request;  // the fingerprint never sees the raw id either
  keyed.mutable_buyer()->set_id_number(buyer.key);
  reserve.fingerprint = Fingerprint(keyed, "claim-request", hasher);
  reserve.now = now;
  reserve.expires_at = now + basket.policy->hold();
  reserve.refund_restores_quota = basket.policy->refund_restores_quota();
  reserve.draft = Draft(request, basket, window_open, buyer).SerializeAsString();
  std::vector<quota::PlannedLine> lines;
  for (size_t i = 0; i < basket.items.size(); ++i) {
    lines.push_back(PlanLine(request.items(static_cast<int>(i)), basket, i, window_open[i], hasher));
  }
  quota::PlanLedger(*basket.policy, snapshot.catalogue(), basket.day, lines, reserve);
  return reserve;
}

}  // namespace tradein::api
