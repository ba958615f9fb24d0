// What pricing costs on the request path, with the shipped policies:
//   BM_PriceOneItem                 PriceItem for one Rui'an grade-1 fridge (target ≤ 150 ns)
//   BM_PriceOneItemWithExplanation  plus ExplainPrice and DescribeReason per reason, as the reply builder
//   does
//                                   (target ≤ 1 µs more); /0 a granted fridge, /1 a car refused for 3 reasons
//   BM_PriceBasket20                a 20-line basket of appliances, digital, furniture, renovation, a car and
//                                   an e-bike (target ≤ 3 µs)
//   BM_PriceBasket20WithExplanation the same with every line's explanation and reasons
//   BM_SelectPolicy                 PolicySnapshot::Select by region and day
//   BM_LoadPolicyDirectory          the whole load: parse, validate, merge, compile, hash
//
//   ninja -C build/release pricing_benchmark && build/release/tools/benchmarks/pricing_benchmark
// The policies come from $TRADEIN_SOURCE_DIR/deploy/policies, else the source tree this was built from.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "common/civil_date.h"
#include "services/policy/policy_loader.h"
#include "services/policy/policy_snapshot.h"
#include "services/pricing/calculator.h"
#include "services/pricing/explanation.h"
#include "services/pricing/pricing_item.h"
#include "tests/policy/policy_test_util.h"
#include "tradein/v1/items.pb.h"

namespace tradein::pricing {
namespace {

using policy::CompiledPolicy;
using policy::PolicySnapshot;
using v1::Vehicle;

// The shipped policies, loaded once (tests/policy/policy_test_util.h); nullptr if they do not load.
const PolicySnapshot* Snapshot() { return policy_test::ShippedSnapshot().get(); }

absl::CivilDay Day(const char* text) { return ParseCivilDay(text).value_or(absl::CivilDay()); }

constexpr const char kRuian[] = "330381";
constexpr const char kDay[] = "2025-05-01";

// A line as the request validator hands it to the calculator.
PricingItem Item(const PolicySnapshot& snapshot, const char* type, int64_t price_fen, int32_t grade = 0,
                 int32_t quantity = 1) {
  PricingItem item;
  item.product_type = snapshot.catalogue().Find(type).value_or(0);
  item.price_fen = price_fen;
  item.quantity = quantity;
  item.best_grade = grade;
  item.transaction_day = Day(kDay);
  return item;
}

PricingItem Car(const PolicySnapshot& snapshot, int kind, int energy, int64_t price_fen,
                const char* registered, const char* owned, int32_t ml, bool catalogue) {
  PricingItem item = Item(snapshot, "car.new", price_fen);
  item.vehicle.trade_in_kind = kind;
  item.vehicle.new_energy_type = energy;
  item.vehicle.old_fuel_type = Vehicle::OldFuelType::GASOLINE;
  item.vehicle.old_registered_on = Day(registered);
  item.vehicle.old_owned_since = Day(owned);
  item.vehicle.new_displacement_ml = ml;
  item.vehicle.new_in_nev_catalogue = catalogue;
  return item;
}

std::vector<PricingItem> Basket20(const PolicySnapshot& s) {
  std::vector<PricingItem> items = {
      Item(s, "appliance.refrigerator", 500000, 1),
      Item(s, "appliance.washing_machine", 300000, 2),
      Item(s, "appliance.air_conditioner", 1200000, 1, 3),
      Item(s, "appliance.television", 800000, 1),
      Item(s, "appliance.dishwasher", 400000, 2),
      Item(s, "appliance.projector", 300000),
      Item(s, "appliance.range_hood", 250000, 3),  // not eligible
      Item(s, "appliance.rice_cooker", 60000, 1),
      Item(s, "digital.phone", 599900),
      Item(s, "digital.tablet", 300000),
      Item(s, "digital.smartwatch", 150000),
      Item(s, "furniture.bed", 500000),
      Item(s, "furniture.mattress", 300000),
      Item(s, "furniture.sofa", 800000, 2),
      Item(s, "furniture.smart_toilet", 600000, 1),
      Item(s, "furniture.smart_lock", 200000),
      Item(s, "renovation.old_home", 5000000),
      Item(s, "renovation.elderly_friendly", 1000000),
      Car(s, Vehicle::TradeInKind::REPLACEMENT, Vehicle::NewEnergyType::NEV, 15000000, "2016-03-01",
          "2019-03-01", 0, true),
      Item(s, "ebike.new", 250000),
  };
  items[16].home.completed_on = Day("2015-06-01");
  items[19].ebike = {true, true};
  return items;
}

// What the reply builder does with a priced line: the explanation and every reason's messages.
size_t BuildReply(const PricingItem& item, const ItemPrice& price, const CompiledPolicy& policy) {
  size_t bytes = ExplainPrice(item, price, policy).size();
  price.reasons.ForEach([&](ReasonCode code) {
    const ReasonText text = DescribeReason(code, item, price, policy);
    bytes += text.message.size() + text.message_zh.size();
  });
  return bytes;
}

const CompiledPolicy* Ruian(benchmark::State& state) {
  const PolicySnapshot* snapshot = Snapshot();
  const CompiledPolicy* policy = snapshot == nullptr ? nullptr : snapshot->Select(kRuian, Day(kDay));
  if (policy == nullptr) state.SkipWithError("the shipped policies do not load");
  return policy;
}

void BM_PriceOneItem(benchmark::State& state) {
  const CompiledPolicy* policy = Ruian(state);
  if (policy == nullptr) return;
  const PricingItem fridge = Item(*Snapshot(), "appliance.refrigerator", 500000, 1);
  for (auto _ : state) {
    const ItemPrice price = PriceItem(fridge, *policy);
    benchmark::DoNotOptimize(price.line_subsidy_fen);
    benchmark::DoNotOptimize(price.rule);
    benchmark::DoNotOptimize(price.reasons.bits());
  }
  if (PriceItem(fridge, *policy).line_subsidy_fen != 100000) state.SkipWithError("wrong amount");
}
BENCHMARK(BM_PriceOneItem);

void BM_PriceOneItemWithExplanation(benchmark::State& state) {
  const CompiledPolicy* policy = Ruian(state);
  if (policy == nullptr) return;
  const PricingItem item =
      state.range(0) == 0
          ? Item(*Snapshot(), "appliance.refrigerator", 500000, 1)
          // Registered too late, owned too recently, not in the catalogue: three reasons to describe.
          : Car(*Snapshot(), Vehicle::TradeInKind::SCRAPPAGE, Vehicle::NewEnergyType::NEV, 15000000,
                "2013-01-01", "2025-02-01", 0, false);
  for (auto _ : state) {
    const ItemPrice price = PriceItem(item, *policy);
    benchmark::DoNotOptimize(price.line_subsidy_fen);
    benchmark::DoNotOptimize(BuildReply(item, price, *policy));
  }
}
BENCHMARK(BM_PriceOneItemWithExplanation)->Arg(0)->Arg(1);

void BM_PriceBasket20(benchmark::State& state) {
  const CompiledPolicy* policy = Ruian(state);
  if (policy == nullptr) return;
  const std::vector<PricingItem> basket = Basket20(*Snapshot());
  for (auto _ : state) {
    int64_t total = 0;
    for (const PricingItem& item : basket) total += PriceItem(item, *policy).line_subsidy_fen;
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(basket.size()));
}
BENCHMARK(BM_PriceBasket20);

void BM_PriceBasket20WithExplanation(benchmark::State& state) {
  const CompiledPolicy* policy = Ruian(state);
  if (policy == nullptr) return;
  const std::vector<PricingItem> basket = Basket20(*Snapshot());
  for (auto _ : state) {
    size_t bytes = 0;
    for (const PricingItem& item : basket) bytes += BuildReply(item, PriceItem(item, *policy), *policy);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(basket.size()));
}
BENCHMARK(BM_PriceBasket20WithExplanation);

void BM_SelectPolicy(benchmark::State& state) {
  const PolicySnapshot* snapshot = Snapshot();
  if (snapshot == nullptr) {
    state.SkipWithError("the shipped policies do not load");
    return;
  }
  // Rui'an and Hangzhou in 2025 and 2026: found at the first, second and third step of the region chain.
  const struct {
    const char* region;
    absl::CivilDay day;
  } lookups[] = {{"330381", Day("2025-05-01")},
                 {"330381", Day("2026-05-01")},
                 {"330100", Day("2025-05-01")},
                 {"330100", Day("2026-05-01")}};
  size_t i = 0;
  for (auto _ : state) {
    const auto& lookup = lookups[i++ & 3];
    benchmark::DoNotOptimize(snapshot->Select(lookup.region, lookup.day));
  }
}
BENCHMARK(BM_SelectPolicy);

void BM_LoadPolicyDirectory(benchmark::State& state) {
  const std::string dir = policy_test::ShippedPolicyDir();
  for (auto _ : state) {
    absl::StatusOr<std::shared_ptr<const PolicySnapshot>> loaded =
        policy::LoadPolicyDirectory(dir, absl::Now());
    if (!loaded.ok()) {
      state.SkipWithError("the shipped policies do not load");
      break;
    }
    benchmark::DoNotOptimize(loaded->get());
  }
}
BENCHMARK(BM_LoadPolicyDirectory)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tradein::pricing

BENCHMARK_MAIN();
