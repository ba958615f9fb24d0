#include "services/api/subsidy_service.h"

#include "common/civil_date.h"
#include "common/status.h"
#include "services/api/basket.h"
#include "services/api/grpc_status.h"
#include "services/identity/prc_id.h"

namespace tradein::api {
namespace {

// A buyer is optional in a quote; when given it must be a valid id (it is never echoed or logged).
absl::Status ValidateOptionalBuyer(const v1::QuoteRequest& request, absl::CivilDay today) {
  if (!request.has_buyer()) return absl::OkStatus();
  if (request.buyer().id_type() != v1::Buyer::PRC_ID) {
    return InvalidArgumentError({{"buyer.idType", "FIELD_REQUIRED", "PRC_ID"}});
  }
  return identity::NormalizePrcId(request.buyer().id_number(), today).status();
}

absl::Status Quote(const v1::QuoteRequest& request, const policy::PolicySnapshot& snapshot,
                   absl::CivilDay today, v1::QuoteResponse& response) {
  TRADEIN_ASSIGN_OR_RETURN(Basket basket, PriceBasket({request.region_code(), request.transaction_date(),
                                                       request.policy_id(), request.items()},
                                                      snapshot));
  TRADEIN_RETURN_IF_ERROR(ValidateOptionalBuyer(request, today));
  response.set_policy_id(basket.policy->id());
  response.set_policy_version(basket.policy->version());
  response.mutable_items()->Reserve(request.items_size());
  for (size_t i = 0; i < basket.items.size(); ++i) {
    FillItemResult(basket, i, request.items(static_cast<int>(i)), *response.add_items());
  }
  response.set_total_subsidy_fen(basket.total_subsidy_fen);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* SubsidyService::Quote(grpc::CallbackServerContext* context,
                                                const v1::QuoteRequest* request,
                                                v1::QuoteResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::shared_ptr<const policy::PolicySnapshot> snapshot = policies_.Current();
  reactor->Finish(ToGrpcStatus(api::Quote(*request, *snapshot, ChinaCivilDay(clock_.Now()), *response)));
  return reactor;
}

}  // namespace tradein::api
