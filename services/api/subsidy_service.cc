#include "services/api/subsidy_service.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "services/api/authorize.h"
#include "services/api/basket.h"
#include "services/api/claim_preparation.h"
#include "services/api/grpc_status.h"
#include "services/quota/counter_math.h"
#include "services/quota/ledger_plan.h"

namespace tradein::api {
namespace {

// The counters a quote's eligible lines draw on, as the ledger would plan them for a claim.
quota::ReserveRequest PlanAdvice(const Basket& basket, const v1::QuoteRequest& request,
                                 const policy::ProductCatalogue& catalogue) {
  quota::ReserveRequest plan;
  std::vector<quota::PlannedLine> lines;
  for (size_t i = 0; i < basket.items.size(); ++i) {
    const pricing::ItemPrice& price = basket.prices[i];
    lines.push_back({request.items(static_cast<int>(i)).line_id(), basket.items[i].product_type,
                     price.rule != nullptr ? price.rule->index : -1,
                     price.eligible() ? basket.items[i].quantity : 0, price.unit_subsidy_fen, "", "", ""});
  }
  quota::PlanLedger(*basket.policy, catalogue, basket.day, lines, plan);
  return plan;
}

// Marks the lines the buyer's counters (`used`) no longer cover, lines in order as a claim would take them.
void ApplyAdvice(const quota::ReserveRequest& plan, const std::vector<int64_t>& used,
                 v1::QuoteResponse& response) {
  std::vector<int64_t> taken = used;
  int64_t total = 0;
  for (size_t i = 0; i < plan.lines.size(); ++i) {
    const quota::LineRequest& line = plan.lines[i];
    v1::ItemResult& item = *response.mutable_items(static_cast<int>(i));
    if (line.units > 0) {
      const quota::LineGrant grant = quota::ApplyCounters(
          line.units, line.unit_fen, line.counters, plan.counters, [&taken](uint16_t c) { return taken[c]; });
      for (uint16_t c : line.counters) {
        taken[c] += plan.counters[c].kind == quota::CounterLimit::Kind::kUnits ? grant.units : grant.fen;
      }
      grant.reasons.ForEach([&item](pricing::ReasonCode code) { AddLedgerReason(code, item); });
      item.set_subsidy_fen(grant.fen);
      item.set_eligible(grant.units > 0);
    }
    total += item.subsidy_fen();
  }
  response.set_total_subsidy_fen(total);
  response.set_quota_checked(true);
}

absl::StatusOr<Basket> PriceQuote(const v1::QuoteRequest& request, const policy::PolicySnapshot& snapshot,
                                  v1::QuoteResponse& response) {
  TRADEIN_ASSIGN_OR_RETURN(Basket basket, PriceBasket({request.region_code(), request.transaction_date(),
                                                       request.policy_id(), request.items()},
                                                      snapshot));
  response.set_policy_id(basket.policy->id());
  response.set_policy_version(basket.policy->version());
  response.mutable_items()->Reserve(request.items_size());
  for (size_t i = 0; i < basket.items.size(); ++i) {
    FillItemResult(basket, i, request.items(static_cast<int>(i)), *response.add_items());
  }
  response.set_total_subsidy_fen(basket.total_subsidy_fen);
  return basket;
}

}  // namespace

SubsidyService::SubsidyService(const policy::PolicyRegistry& policies, const Clock& clock,
                               const identity::KeyedHasher& hasher, quota::QuotaStore& store, CallGate& gate,
                               ClaimEvents& events, Options options)
    : policies_(policies),
      clock_(clock),
      hasher_(hasher),
      store_(store),
      gate_(gate),
      events_(events),
      options_(options) {
  SetMessageAllocatorFor_Quote(&quote_allocator_);
}

grpc::ServerUnaryReactor* SubsidyService::Quote(grpc::CallbackServerContext* context,
                                                const v1::QuoteRequest* request,
                                                v1::QuoteResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kQuote);
      !grant.ok()) {
    reactor->Finish(ToGrpcStatus(grant.status()));
    return reactor;
  }
  const std::shared_ptr<const policy::PolicySnapshot> snapshot = policies_.Current();
  const absl::Time now = clock_.Now();
  absl::StatusOr<Basket> basket = PriceQuote(*request, *snapshot, *response);
  if (!basket.ok() || !request->has_buyer()) {
    if (basket.ok()) events_.Quoted(*response);
    reactor->Finish(ToGrpcStatus(basket.status()));
    return reactor;
  }
  absl::StatusOr<quota::BuyerRef> buyer = BuyerRefOf(request->buyer(), true, ChinaCivilDay(now), hasher_);
  if (!buyer.ok()) {
    reactor->Finish(ToGrpcStatus(buyer.status()));
    return reactor;
  }
  auto plan = std::make_shared<quota::ReserveRequest>(PlanAdvice(*basket, *request, snapshot->catalogue()));
  const absl::Time deadline =
      std::min(absl::FromChrono(context->deadline()), absl::Now() + options_.quota_check_timeout);
  store_.GetUsage({*buyer, plan->counters, now}, deadline,
                  [this, reactor, response, plan](absl::StatusOr<std::vector<int64_t>> used) {
                    if (used.ok()) ApplyAdvice(*plan, *used, *response);
                    events_.Quoted(*response);
                    reactor->Finish(grpc::Status::OK);
                  });
  return reactor;
}

}  // namespace tradein::api
