// Fuzzes everything a Quote or a Claim decides before it reaches the quota store: request validation and
// pricing (services/api/basket.h PriceBasket) and, for a claim, the buyer, the ids and the ledger plan
// (services/api/claim_preparation.h PrepareClaim), under the shipped policies.
//
// Input: the first byte says how the rest becomes a request.
//   'q' / 'c'  a tradein.v1.QuoteRequest / ClaimRequest in protobuf text format (the hand-written seeds);
//   'Q' / 'C'  the same in protobuf wire format, as a gRPC client would send it;
//   otherwise  a request built field by field with FuzzedDataProvider, mostly from plausible values (known
//              regions, dates inside the programmes, catalogue product types, valid VINs and PRC ids) so that
//              the fuzzer gets past the validators into pricing.
//
// Properties, besides "no sanitizer report": an error is INVALID_ARGUMENT with at least one named violation,
// NOT_FOUND or (claims) FAILED_PRECONDITION; a priced basket has one price per item, no negative amount,
// nothing for an ineligible item, line = unit × quantity, a capped eligible unit at its cap, and a total that
// is the sum.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status.h"
#include "google/protobuf/stubs/common.h"  // internal::IsStructurallyValidUTF8
#include "google/protobuf/text_format.h"
#include "services/api/basket.h"
#include "services/api/claim_preparation.h"
#include "services/identity/keyed_hash.h"
#include "services/policy/policy_loader.h"
#include "tests/fuzz/fuzz_support.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/subsidy_service.pb.h"

namespace tradein::fuzz {
namespace {

const policy::PolicySnapshot& Shipped() {
  static const std::shared_ptr<const policy::PolicySnapshot>* const snapshot = [] {
    absl::StatusOr<std::shared_ptr<const policy::PolicySnapshot>> loaded =
        policy::LoadPolicyDirectory(ShippedPolicyDir(), absl::Now());
    FUZZ_CHECK(loaded.ok(), loaded.status().ToString());
    return new std::shared_ptr<const policy::PolicySnapshot>(*std::move(loaded));
  }();
  return **snapshot;
}

const identity::KeyedHasher& Hasher() {
  static const identity::KeyedHasher* const hasher =
      new identity::KeyedHasher(identity::KeyedHasher::ForTesting("fuzz-key-0123456789abcdef0123456789"));
  return *hasher;
}

// Fuzz bytes as a request string: UTF-8 as it is, otherwise with every non-ASCII byte replaced. Both ways
// into the server refuse a request whose strings are not UTF-8 before our code sees it (protobuf's parser
// for gRPC, its JSON parser for the gateway).
std::string Text(std::string bytes) {
  if (google::protobuf::internal::IsStructurallyValidUTF8(bytes)) return bytes;
  for (char& c : bytes) c = static_cast<unsigned char>(c) < 0x80 ? c : '?';
  return bytes;
}

// One of `options`, or (one time in options.size() + 1) a string of fuzz bytes.
std::string Pick(FuzzedDataProvider& in, const std::vector<std::string>& options) {
  const size_t i = in.ConsumeIntegralInRange<size_t>(0, options.size());
  return i < options.size() ? options[i] : Text(in.ConsumeRandomLengthString(80));
}

std::string Day(FuzzedDataProvider& in) {
  return Pick(in, {"2025-01-01", "2025-03-01", "2025-06-01", "2025-12-31", "2026-01-01", "2026-06-30",
                   "2024-12-31", "2020-02-29", "2025-02-29", "1999-01-01"});
}

int64_t PriceFen(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return in.ConsumeIntegralInRange<int64_t>(1, api::kMaxPriceFen);
    case 1:
      return in.ConsumeIntegralInRange<int64_t>(100'00, 20'000'00);  // a typical appliance
    case 2:
      return in.PickValueInArray<int64_t>(
          {0, 1, -1, api::kMaxPriceFen, api::kMaxPriceFen + 1, INT64_MAX, INT64_MIN});
    default:
      return in.ConsumeIntegral<int64_t>();
  }
}

void FillVehicle(FuzzedDataProvider& in, v1::Vehicle& vehicle) {
  vehicle.set_trade_in_kind(static_cast<v1::Vehicle::TradeInKind::Value>(in.ConsumeIntegralInRange(0, 3)));
  vehicle.set_new_energy_type(
      static_cast<v1::Vehicle::NewEnergyType::Value>(in.ConsumeIntegralInRange(0, 3)));
  vehicle.set_new_displacement_ml(in.ConsumeBool() ? in.ConsumeIntegralInRange(0, 12'000)
                                                   : in.ConsumeIntegral<int32_t>());
  vehicle.set_new_in_nev_catalogue(in.ConsumeBool());
  vehicle.set_old_fuel_type(static_cast<v1::Vehicle::OldFuelType::Value>(in.ConsumeIntegralInRange(0, 5)));
  vehicle.set_old_registered_on(Pick(in, {"2012-06-30", "2013-01-01", "2018-04-30", "2019-01-01"}));
  vehicle.set_old_owned_since(Pick(in, {"2024-01-01", "2025-01-08", "2020-05-05"}));
  vehicle.set_old_vin(Pick(in, {"JHMCM56557C404453", "1M8GDM9AXKP042788", "jhmcm56557c404453"}));
}

void FillItem(FuzzedDataProvider& in, int index, v1::Item& item) {
  item.set_line_id(Pick(in, {absl::StrCat(index + 1), "1", "2"}));
  const auto& types = Shipped().catalogue().types();
  const size_t type = in.ConsumeIntegralInRange<size_t>(0, types.size());
  item.set_product_type(type < types.size() ? types[type].code() : Text(in.ConsumeRandomLengthString(80)));
  item.set_price_fen(PriceFen(in));
  if (in.ConsumeBool()) {
    item.set_quantity(in.ConsumeBool() ? in.ConsumeIntegralInRange(-1, api::kMaxQuantity + 1)
                                       : in.ConsumeIntegral<int32_t>());
  }
  item.set_energy_grade(in.ConsumeIntegralInRange(-1, 6));
  item.set_water_grade(in.ConsumeIntegralInRange(-1, 6));
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 1:
      FillVehicle(in, *item.mutable_vehicle());
      break;
    case 2:
      item.mutable_home()->set_property_id(Pick(in, {"ZJ-WZ-2019-000123", " zj-wz-2019-000123 "}));
      item.mutable_home()->set_completed_on(Pick(in, {"2005-05-01", "2019-01-01", "2025-05-01"}));
      break;
    case 3:
      item.mutable_ebike()->set_old_bike_surrendered(in.ConsumeBool());
      item.mutable_ebike()->set_new_bike_certified(in.ConsumeBool());
      break;
    default:
      break;
  }
}

// The basket fields both requests share.
template <typename Request>
void FillBasket(FuzzedDataProvider& in, Request& request) {
  request.set_region_code(
      Pick(in, {"330381", "330300", "330000", "000000", "110105", "330106", "440300", "33038"}));
  request.set_transaction_date(Day(in));
  std::vector<std::string> policy_ids = {""};
  for (const auto& policy : Shipped().policies()) policy_ids.push_back(policy->id());
  request.set_policy_id(in.ConsumeBool() ? "" : Pick(in, policy_ids));
  const int items = in.ConsumeIntegralInRange(0, 9);
  const int count = items == 9 ? api::kMaxItems + 1 : items;
  for (int i = 0; i < count; ++i) FillItem(in, i, *request.add_items());
}

void FillBuyer(FuzzedDataProvider& in, v1::Buyer& buyer) {
  buyer.set_id_type(static_cast<v1::Buyer::IdType>(in.ConsumeIntegralInRange(0, 2)));
  buyer.set_id_number(Pick(in, {"11010519491231002X", "11010519491231002x", "110105194912310027"}));
}

void CheckBasket(const absl::StatusOr<api::Basket>& basket, int item_count) {
  if (!basket.ok()) {
    const absl::StatusCode code = basket.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kNotFound,
               basket.status().ToString());
    if (code == absl::StatusCode::kInvalidArgument) {
      const std::vector<FieldViolation> violations = FieldViolations(basket.status());
      FUZZ_CHECK(!violations.empty(), basket.status().ToString());
      for (const FieldViolation& v : violations) FUZZ_CHECK(!v.field.empty() && !v.reason.empty(), v.field);
    }
    return;
  }
  FUZZ_CHECK(basket->policy != nullptr, "no policy");
  FUZZ_CHECK(basket->items.size() == static_cast<size_t>(item_count), "one item per request item");
  FUZZ_CHECK(basket->prices.size() == basket->items.size(), "one price per item");
  int64_t total = 0;
  for (size_t i = 0; i < basket->prices.size(); ++i) {
    const pricing::ItemPrice& price = basket->prices[i];
    const std::string at = absl::StrCat("item ", i, ": unit ", price.unit_subsidy_fen, " line ",
                                        price.line_subsidy_fen, " cap ", price.cap_fen);
    FUZZ_CHECK(price.unit_subsidy_fen >= 0 && price.line_subsidy_fen >= 0, at);
    FUZZ_CHECK(price.eligible() || price.line_subsidy_fen == 0, at);
    FUZZ_CHECK(price.line_subsidy_fen == price.unit_subsidy_fen * basket->items[i].quantity, at);
    FUZZ_CHECK(!price.capped || !price.eligible() || price.unit_subsidy_fen == price.cap_fen, at);
    total += price.line_subsidy_fen;
  }
  FUZZ_CHECK(total == basket->total_subsidy_fen, absl::StrCat(total, " != ", basket->total_subsidy_fen));
}

void Quote(const v1::QuoteRequest& request) {
  const absl::StatusOr<api::Basket> basket = api::PriceBasket(
      {request.region_code(), request.transaction_date(), request.policy_id(), request.items()}, Shipped());
  CheckBasket(basket, request.items_size());
  if (!basket.ok()) return;
  v1::ItemResult result;  // the answer's text: reasons in both languages and the explanation
  for (size_t i = 0; i < basket->items.size(); ++i) {
    result.Clear();
    api::FillItemResult(*basket, i, request.items(static_cast<int>(i)), result);
    FUZZ_CHECK(result.subsidy_fen() == basket->prices[i].line_subsidy_fen, result.ShortDebugString());
  }
}

void Claim(const v1::ClaimRequest& request, absl::Time now) {
  const absl::StatusOr<quota::ReserveRequest> reserve = api::PrepareClaim(request, Shipped(), now, Hasher());
  if (!reserve.ok()) {
    const absl::StatusCode code = reserve.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kNotFound ||
                   code == absl::StatusCode::kFailedPrecondition,
               reserve.status().ToString());
    if (code == absl::StatusCode::kInvalidArgument) {
      FUZZ_CHECK(!FieldViolations(reserve.status()).empty(), reserve.status().ToString());
    }
    return;
  }
  FUZZ_CHECK(reserve->lines.size() == static_cast<size_t>(request.items_size()), "one line per item");
  for (const quota::LineRequest& line : reserve->lines) {
    FUZZ_CHECK(line.units >= 0 && line.unit_fen >= 0, absl::StrCat(line.units, " × ", line.unit_fen));
  }
  v1::Claim draft;
  FUZZ_CHECK(draft.ParseFromString(reserve->draft), "the draft is a tradein.v1.Claim");
  // A claim that got this far has a valid 18-character PRC id; it must not be in what the store keeps.
  const std::string& id = request.buyer().id_number();
  FUZZ_CHECK(id.size() == 18, id);
  for (const std::string& form : {id, absl::AsciiStrToUpper(id)}) {
    FUZZ_CHECK(reserve->draft.find(form) == std::string::npos, "the raw id reached the draft");
    FUZZ_CHECK(reserve->claim_id.find(form) == std::string::npos, "the raw id reached the claim id");
  }
}

// `bytes` (text or wire format) as a request the server could receive: text format takes strings that are
// not UTF-8, which gRPC's parser (and the gateway's JSON parser) refuse, so a text request must survive the
// wire format too.
bool Parse(bool text, const std::string& bytes, google::protobuf::Message& request) {
  if (!text) return request.ParseFromString(bytes);
  return google::protobuf::TextFormat::ParseFromString(bytes, &request) &&
         request.ParseFromString(request.SerializeAsString());
}

absl::Time ClaimNow(bool later) {
  // 10:00 in China on a day inside the 2025 or the 2026 programmes.
  return absl::FromCivil(later ? absl::CivilSecond(2026, 3, 1, 10) : absl::CivilSecond(2025, 6, 1, 10),
                         absl::FixedTimeZone(8 * 3600));
}

}  // namespace
}  // namespace tradein::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Quiet: serialising a string that is not UTF-8 (Parse above) logs a libprotobuf error each time.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tradein;
  using namespace tradein::fuzz;
  if (size == 0) return 0;
  const char mode = static_cast<char>(data[0]);
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case 'q':
    case 'Q': {
      v1::QuoteRequest request;
      if (Parse(mode == 'q', rest, request)) Quote(request);
      return 0;
    }
    case 'c':
    case 'C': {
      v1::ClaimRequest request;
      if (Parse(mode == 'c', rest, request)) Claim(request, ClaimNow(request.transaction_date() >= "2026"));
      return 0;
    }
    default:
      break;
  }
  FuzzedDataProvider in(data + 1, size - 1);
  if (in.ConsumeBool()) {
    v1::QuoteRequest request;
    FillBasket(in, request);
    Quote(request);
  } else {
    v1::ClaimRequest request;
    request.set_request_id(Pick(in, {"till-7-0001", "r.1:a-b"}));
    request.set_retailer_id(Pick(in, {"shop-1", "retailer.2"}));
    if (in.ConsumeBool()) FillBuyer(in, *request.mutable_buyer());
    FillBasket(in, request);
    Claim(request, ClaimNow(in.ConsumeBool()));
  }
  return 0;
}
