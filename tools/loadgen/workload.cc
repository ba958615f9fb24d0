#include "tools/loadgen/workload.h"

#include <array>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/fnv1a.h"

namespace tradein::loadgen {
namespace {

constexpr std::array<int, 34> kProvinceCodes = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
                                                35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
                                                53, 54, 61, 62, 63, 64, 65, 71, 81, 82};
constexpr uint64_t kPrefixes = kProvinceCodes.size() * 10000;
constexpr uint64_t kIdsPerDay = 1000;
// Birth dates 1940-01-01 .. 1999-12-31: valid under any server clock from 2000 on.
const absl::CivilDay kFirstBirthday(1940, 1, 1);
const absl::CivilDay kLastBirthday(1999, 12, 31);

constexpr int64_t kYuan = 100;  // fen

// One product type and its usual price range (yuan) at a till.
struct Product {
  const char* type;
  int64_t min_yuan;
  int64_t max_yuan;
};

constexpr std::array<Product, 13> kAppliances = {{
    {"appliance.refrigerator", 1800, 15000},
    {"appliance.washing_machine", 1200, 9000},
    {"appliance.television", 1500, 20000},
    {"appliance.air_conditioner", 2500, 16000},
    {"appliance.computer", 3000, 15000},
    {"appliance.water_heater", 900, 7000},
    {"appliance.cooktop", 800, 6000},
    {"appliance.range_hood", 1000, 6000},
    {"appliance.dishwasher", 2500, 9000},
    {"appliance.water_purifier", 800, 5000},
    {"appliance.microwave", 300, 2500},
    {"appliance.rice_cooker", 200, 1800},
    {"appliance.projector", 1500, 8000},
}};

constexpr std::array<Product, 4> kDigital = {{
    {"digital.phone", 999, 8999},
    {"digital.tablet", 1499, 6999},
    {"digital.smartwatch", 299, 3299},
    {"digital.smart_glasses", 1499, 3999},
}};

constexpr std::array<Product, 7> kFurniture = {{
    {"furniture.bed", 1500, 15000},
    {"furniture.mattress", 1000, 12000},
    {"furniture.table_chair", 800, 9000},
    {"furniture.sofa", 2000, 20000},
    {"furniture.massage_chair", 3000, 25000},
    {"furniture.smart_lock", 800, 4000},
    {"furniture.smart_toilet", 1500, 9000},
}};

// Granted by ra-2025 and by wz-2026 alike at grade 1 (and, for digital, below 6,000 yuan).
constexpr std::array<Product, 9> kClaimable = {{
    {"appliance.refrigerator", 1800, 15000},
    {"appliance.washing_machine", 1200, 9000},
    {"appliance.television", 1500, 20000},
    {"appliance.air_conditioner", 2500, 16000},
    {"appliance.computer", 3000, 15000},
    {"appliance.water_heater", 900, 7000},
    {"digital.phone", 999, 5999},
    {"digital.tablet", 1499, 5999},
    {"digital.smartwatch", 299, 3299},
}};

constexpr std::array<const char*, 3> kHotTypes = {"appliance.refrigerator", "appliance.washing_machine",
                                                  "appliance.television"};

template <size_t N>
const Product& Pick(Rng& rng, const std::array<Product, N>& products) {
  return products[static_cast<size_t>(rng.Uniform(0, static_cast<int64_t>(N) - 1))];
}

int64_t PriceFen(Rng& rng, const Product& product) {
  // Till prices end in .00 most of the time, and in 9s otherwise.
  const int64_t yuan = rng.Uniform(product.min_yuan, product.max_yuan);
  return rng.Chance(0.7) ? yuan * kYuan : yuan * kYuan - 1;
}

std::string FormatDay(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

void AddAppliance(Rng& rng, v1::Item& item) {
  const Product& product = Pick(rng, kAppliances);
  item.set_product_type(product.type);
  item.set_price_fen(PriceFen(rng, product));
  const int64_t grade = rng.Uniform(0, 99);  // 60% grade 1, 25% grade 2, 10% grade 3, 5% no label
  if (grade < 60) {
    item.set_energy_grade(1);
  } else if (grade < 85) {
    item.set_energy_grade(2);
  } else if (grade < 95) {
    item.set_energy_grade(3);
  }
  if (product.type == absl::string_view("appliance.air_conditioner") && rng.Chance(0.2)) {
    item.set_quantity(static_cast<int32_t>(rng.Uniform(2, 3)));
  }
  if (product.type == absl::string_view("appliance.water_purifier") && rng.Chance(0.5)) {
    item.set_water_grade(static_cast<int32_t>(rng.Uniform(1, 3)));
  }
}

void AddDigital(Rng& rng, v1::Item& item) {
  const int64_t which = rng.Uniform(0, 99);  // phones 60%, tablets 22%, watches 15%, glasses 3%
  const Product& product = kDigital[which < 60 ? 0 : which < 82 ? 1 : which < 97 ? 2 : 3];
  item.set_product_type(product.type);
  item.set_price_fen(PriceFen(rng, product));
}

void AddFurniture(Rng& rng, v1::Item& item) {
  const Product& product = Pick(rng, kFurniture);
  item.set_product_type(product.type);
  item.set_price_fen(PriceFen(rng, product));
  if (rng.Chance(0.2)) {
    if (product.type == absl::string_view("furniture.smart_toilet")) {
      item.set_water_grade(1);
    } else {
      item.set_energy_grade(1);
    }
  }
}

void AddCar(Rng& rng, v1::Item& item) {
  item.set_product_type("car.new");
  item.set_price_fen(rng.Uniform(60000, 350000) * kYuan);
  v1::Vehicle& car = *item.mutable_vehicle();
  car.set_trade_in_kind(rng.Chance(0.4) ? v1::Vehicle::TradeInKind::SCRAPPAGE
                                        : v1::Vehicle::TradeInKind::REPLACEMENT);
  const bool nev = rng.Chance(0.6);
  car.set_new_energy_type(nev ? v1::Vehicle::NewEnergyType::NEV : v1::Vehicle::NewEnergyType::FUEL);
  if (nev) {
    car.set_new_in_nev_catalogue(rng.Chance(0.9));
  } else {
    car.set_new_displacement_ml(static_cast<int32_t>(rng.Uniform(12, 25) * 100));
  }
  const int64_t fuel = rng.Uniform(0, 9);
  car.set_old_fuel_type(fuel < 7   ? v1::Vehicle::OldFuelType::GASOLINE
                        : fuel < 9 ? v1::Vehicle::OldFuelType::DIESEL
                                   : v1::Vehicle::OldFuelType::NEV);
  const absl::CivilDay registered = absl::CivilDay(2008, 1, 1) + rng.Uniform(0, 12 * 365);
  car.set_old_registered_on(FormatDay(registered));
  car.set_old_owned_since(FormatDay(rng.Chance(0.8) ? registered : registered + rng.Uniform(1, 700)));
  car.set_old_vin(OldCarVin(rng.Next() % 1000000000));
}

void AddQuoteItem(Rng& rng, v1::Item& item) {
  const int64_t category = rng.Uniform(0, 99);
  if (category < 55) {
    AddAppliance(rng, item);
  } else if (category < 85) {
    AddDigital(rng, item);
  } else if (category < 97) {
    AddFurniture(rng, item);
  } else {
    AddCar(rng, item);
  }
}

int BasketSize(Rng& rng) {
  const int64_t p = rng.Uniform(0, 99);
  if (p < 55) return 1;
  if (p < 80) return 2;
  if (p < 92) return 3;
  if (p < 98) return static_cast<int>(rng.Uniform(4, 9));
  return static_cast<int>(rng.Uniform(10, 20));
}

void FillClaimHeader(const std::string& request_id, const std::string& retailer_id, const std::string& buyer,
                     const std::string& date, v1::ClaimRequest& request) {
  request.set_request_id(request_id);
  request.set_retailer_id(retailer_id);
  request.mutable_buyer()->set_id_type(v1::Buyer::PRC_ID);
  request.mutable_buyer()->set_id_number(buyer);
  request.set_region_code("330381");
  request.set_transaction_date(date);
}

// A unit's serial number: 15 digits with a Luhn check digit, so that it passes as an IMEI where the product
// catalogue asks for one (phones) and as a plain serial elsewhere; derived from the invoice (unique per run),
// the line and the unit.
std::string UnitSerial(absl::string_view invoice, absl::string_view line_id, int32_t unit) {
  const uint64_t hash = RunKey(absl::StrCat(invoice, "/", line_id, "/", unit));  // FNV-1a, as for run ids
  std::string digits = absl::StrFormat("%014d", hash % 100000000000000u);
  int sum = 0;
  for (size_t k = 0; k < digits.size(); ++k) {  // from the right, every second digit of the 14 doubled
    int d = digits[digits.size() - 1 - k] - '0';
    if (k % 2 == 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  digits.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  return digits;
}

}  // namespace

int64_t Rng::Uniform(int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
}

bool Rng::Chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_) < p; }

bool IsValidRunId(absl::string_view run_id) {
  if (run_id.empty() || run_id.size() > 24) return false;
  for (const char c : run_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string RandomRunId() {
  static constexpr absl::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::string id;
  for (int i = 0; i < 8; ++i) id.push_back(kAlphabet[device() % kAlphabet.size()]);
  return id;
}

uint64_t RunKey(absl::string_view run_id) { return Fnv1a64Of(run_id); }

std::string BuyerPrcId(uint64_t run_key, uint64_t index) {
  static const uint64_t kDays = static_cast<uint64_t>(kLastBirthday - kFirstBirthday) + 1;
  const uint64_t per_prefix = kDays * kIdsPerDay;
  const uint64_t prefix = (run_key % kPrefixes + index / per_prefix) % kPrefixes;
  const uint64_t within = index % per_prefix;
  const absl::CivilDay birthday = kFirstBirthday + static_cast<int64_t>(within / kIdsPerDay);
  std::string id = absl::StrFormat("%02d%04d%04d%02d%02d%03d", kProvinceCodes[prefix % kProvinceCodes.size()],
                                   prefix / kProvinceCodes.size(), birthday.year(), birthday.month(),
                                   birthday.day(), within % kIdsPerDay);
  static constexpr std::array<int, 17> kWeights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (size_t i = 0; i < kWeights.size(); ++i) sum += (id[i] - '0') * kWeights[i];
  id.push_back("10X98765432"[sum % 11]);
  return id;
}

std::string OldCarVin(uint64_t index) {
  // WMI "LSV", five characters from the index in base 33 (no I, O, Q), the check digit, model year K (2019),
  // plant A, then a six-digit serial.
  static constexpr absl::string_view kChars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
  std::string vin = "LSV00000?KA000000";
  uint64_t high = index / 1000000;
  for (size_t i = 3; i < 8; ++i) {
    vin[i] = kChars[high % kChars.size()];
    high /= kChars.size();
  }
  const std::string serial = absl::StrFormat("%06d", index % 1000000);
  vin.replace(11, 6, serial);
  static constexpr std::array<int, 17> kWeights = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
  auto value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'H') return c - 'A' + 1;
    if (c >= 'J' && c <= 'N') return c - 'J' + 1;
    if (c == 'P') return 7;
    if (c == 'R') return 9;
    return c - 'S' + 2;  // S .. Z
  };
  int sum = 0;
  for (size_t i = 0; i < vin.size(); ++i) {
    if (i != 8) sum += value(vin[i]) * kWeights[i];
  }
  vin[8] = sum % 11 == 10 ? 'X' : static_cast<char>('0' + sum % 11);
  return vin;
}

void MakeQuote(Rng& rng, uint64_t run_key, double with_buyer, v1::QuoteRequest& request) {
  const int64_t region = rng.Uniform(0, 99);
  request.set_region_code(region < 50 ? "330381" : region < 80 ? "330106" : "110105");
  const absl::CivilDay day = rng.Chance(0.7) ? absl::CivilDay(2025, 1, 20) + rng.Uniform(0, 345)
                                             : absl::CivilDay(2026, 1, 1) + rng.Uniform(0, 180);
  request.set_transaction_date(FormatDay(day));
  const int size = BasketSize(rng);
  for (int i = 0; i < size; ++i) {
    v1::Item& item = *request.add_items();
    item.set_line_id(absl::StrCat(i + 1));
    AddQuoteItem(rng, item);
  }
  if (with_buyer > 0 && rng.Chance(with_buyer)) {
    // Buyers a quote names need not be unique: a quote changes nothing. Far from the claim buyers' indices.
    request.mutable_buyer()->set_id_type(v1::Buyer::PRC_ID);
    request.mutable_buyer()->set_id_number(BuyerPrcId(run_key, (uint64_t{1} << 40) + rng.Next() % 100000));
  }
}

void MakeClaim(Rng& rng, ClaimBasket basket, const std::string& request_id, const std::string& retailer_id,
               const std::string& buyer, const std::string& date, v1::ClaimRequest& request) {
  FillClaimHeader(request_id, retailer_id, buyer, date, request);
  const int64_t p = rng.Uniform(0, 99);
  const int size = basket == ClaimBasket::kOneDigital ? 1 : p < 60 ? 1 : p < 90 ? 2 : 3;
  // Distinct types: a fresh buyer may have one of each. The last three of kClaimable are digital.
  constexpr int64_t kDigitalTypes = 3;
  const int64_t claimable = static_cast<int64_t>(kClaimable.size());
  const size_t first = static_cast<size_t>(basket == ClaimBasket::kOneDigital
                                               ? rng.Uniform(claimable - kDigitalTypes, claimable - 1)
                                               : rng.Uniform(0, claimable - 1));
  for (int i = 0; i < size; ++i) {
    const Product& product = kClaimable[(first + static_cast<size_t>(i) * 4) % kClaimable.size()];
    v1::Item& item = *request.add_items();
    item.set_line_id(absl::StrCat(i + 1));
    item.set_product_type(product.type);
    item.set_price_fen(PriceFen(rng, product));
    if (absl::string_view(product.type).substr(0, 10) == "appliance.") item.set_energy_grade(1);
  }
}

void MakeHotClaim(Rng& rng, const std::string& request_id, const std::string& retailer_id,
                  const std::string& buyer, const std::string& date, v1::ClaimRequest& request) {
  FillClaimHeader(request_id, retailer_id, buyer, date, request);
  v1::Item& item = *request.add_items();
  item.set_line_id("1");
  item.set_product_type(
      kHotTypes[static_cast<size_t>(rng.Uniform(0, static_cast<int64_t>(kHotTypes.size()) - 1))]);
  item.set_price_fen(rng.Uniform(2000, 9000) * kYuan);
  item.set_energy_grade(1);
}

void MakeConfirm(const v1::Claim& claim, const std::string& invoice, bool with_serials,
                 v1::ConfirmClaimRequest& request) {
  request.set_claim_id(claim.claim_id());
  request.set_retailer_id(claim.retailer_id());
  request.set_invoice_number(invoice);
  if (!with_serials) return;
  for (const v1::ItemResult& item : claim.items()) {
    if (item.granted_quantity() <= 0) continue;
    v1::LineSerials& serials = *request.add_line_serials();
    serials.set_line_id(item.line_id());
    for (int32_t unit = 0; unit < item.granted_quantity(); ++unit) {
      serials.add_serial_numbers(UnitSerial(invoice, item.line_id(), unit + 1));
    }
  }
}

}  // namespace tradein::loadgen
