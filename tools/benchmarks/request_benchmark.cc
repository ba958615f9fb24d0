// What a Quote costs before and around the calculator: PriceBasket (services/api/basket.h) on a parsed
// QuoteRequest — every field validated, the policy selected, every item priced — with the shipped policies.
//   BM_ValidateAndPriceRequest/1   one Rui'an fridge
//   BM_ValidateAndPriceRequest/20  the 20-line basket of pricing_benchmark (appliances, digital, furniture,
//                                  renovation, a car, an e-bike)
//   BM_RejectInvalidRequest        20 lines, each with a bad field: every violation collected and described
// Validation's own cost is this minus BM_SelectPolicy and BM_PriceOneItem / BM_PriceBasket20.
//
//   ninja -C build/release request_benchmark && build/release/tools/benchmarks/request_benchmark
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/util/json_util.h"
#include "services/api/basket.h"
#include "tests/policy/policy_test_util.h"
#include "tradein/v1/subsidy_service.pb.h"

namespace tradein::api {
namespace {

constexpr const char* kLines[] = {
    R"({"productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})",
    R"({"productType":"appliance.washing_machine","priceFen":"300000","energyGrade":2})",
    R"({"productType":"appliance.air_conditioner","priceFen":"1200000","energyGrade":1,"quantity":3})",
    R"({"productType":"appliance.television","priceFen":"800000","energyGrade":1})",
    R"({"productType":"appliance.dishwasher","priceFen":"400000","energyGrade":2})",
    R"({"productType":"appliance.projector","priceFen":"300000"})",
    R"({"productType":"appliance.range_hood","priceFen":"250000","energyGrade":3})",
    R"({"productType":"appliance.rice_cooker","priceFen":"60000","energyGrade":1})",
    R"({"productType":"digital.phone","priceFen":"599900"})",
    R"({"productType":"digital.tablet","priceFen":"300000"})",
    R"({"productType":"digital.smartwatch","priceFen":"150000"})",
    R"({"productType":"furniture.bed","priceFen":"500000"})",
    R"({"productType":"furniture.mattress","priceFen":"300000"})",
    R"({"productType":"furniture.sofa","priceFen":"800000","energyGrade":2})",
    R"({"productType":"furniture.smart_toilet","priceFen":"600000","energyGrade":1})",
    R"({"productType":"furniture.smart_lock","priceFen":"200000"})",
    R"({"productType":"renovation.old_home","priceFen":"5000000","home":{"propertyId":"P-1","completedOn":"2015-06-01"}})",
    R"({"productType":"renovation.elderly_friendly","priceFen":"1000000"})",
    R"({"productType":"car.new","priceFen":"15000000","vehicle":{"tradeInKind":"REPLACEMENT","newEnergyType":"NEV","oldFuelType":"GASOLINE","oldVin":"LSVAU218XN2183294","oldRegisteredOn":"2016-03-01","oldOwnedSince":"2019-03-01","newInNevCatalogue":true}})",
    R"({"productType":"ebike.new","priceFen":"250000","ebike":{"oldBikeSurrendered":true,"newBikeCertified":true}})",
};

// A Rui'an QuoteRequest of the first `lines` lines of kLines; when `broken`, every price is negative.
v1::QuoteRequest Request(int lines, bool broken) {
  std::string items;
  for (int i = 0; i < lines; ++i) {
    std::string line = kLines[i];
    line.insert(1, absl::StrCat(R"("lineId":")", i + 1, R"(",)"));
    if (broken) line = absl::StrReplaceAll(line, {{R"("priceFen":")", R"("priceFen":"-)"}});
    absl::StrAppend(&items, i == 0 ? "" : ",", line);
  }
  v1::QuoteRequest request;
  const auto status = google::protobuf::util::JsonStringToMessage(
      absl::StrCat(R"({"regionCode":"330381","transactionDate":"2025-05-01","items":[)", items, "]}"),
      &request);
  if (!status.ok()) std::abort();  // the benchmark's own input is wrong
  return request;
}

BasketRequest BasketOf(const v1::QuoteRequest& request) {
  return {request.region_code(), request.transaction_date(), request.policy_id(), request.items()};
}

void BM_ValidateAndPriceRequest(benchmark::State& state) {
  const auto snapshot = policy_test::ShippedSnapshot();
  if (snapshot == nullptr) return state.SkipWithError("the shipped policies do not load");
  const v1::QuoteRequest request = Request(static_cast<int>(state.range(0)), /*broken=*/false);
  absl::StatusOr<Basket> first = PriceBasket(BasketOf(request), *snapshot);
  if (!first.ok()) return state.SkipWithError(std::string(first.status().message()).c_str());
  for (auto _ : state) {
    absl::StatusOr<Basket> basket = PriceBasket(BasketOf(request), *snapshot);
    benchmark::DoNotOptimize(basket->total_subsidy_fen);
  }
}
BENCHMARK(BM_ValidateAndPriceRequest)->Arg(1)->Arg(20);

void BM_RejectInvalidRequest(benchmark::State& state) {
  const auto snapshot = policy_test::ShippedSnapshot();
  if (snapshot == nullptr) return state.SkipWithError("the shipped policies do not load");
  const v1::QuoteRequest request = Request(20, /*broken=*/true);
  if (PriceBasket(BasketOf(request), *snapshot).ok()) return state.SkipWithError("the request passed");
  for (auto _ : state) {
    absl::StatusOr<Basket> basket = PriceBasket(BasketOf(request), *snapshot);
    benchmark::DoNotOptimize(basket.status().raw_code());
  }
}
BENCHMARK(BM_RejectInvalidRequest);

}  // namespace
}  // namespace tradein::api

BENCHMARK_MAIN();
