// -----------------------------------------------------------------------------
// File: workload.h
// -----------------------------------------------------------------------------
//
// The requests the load generator sends: valid and realistic, and unique where the service keys state.
//
// Identity. A run has a run id (a prefix of every request id, invoice and serial number) and a run key (a
// hash of it) that selects one of 340,000 disjoint ranges of PRC ids (34 province codes × 10,000 area codes);
// buyer n of the run is the n-th valid id of that range (birth dates 1940-01-01 .. 1999-12-31, 1,000 sequence
// numbers a day, then the next range). So buyers are unique within a run, and two runs share buyers only when
// their run keys pick the same range (1 in 340,000), which lets repeated runs against one Redis go without
// resetting it.
//
// Quote mix (QuoteMix): the point of sale is Rui'an (330381) half the time, a Hangzhou district (330106) 30%,
// a Beijing district (110105) 20%; the invoice date is in 2025 (70%) or in the first half of 2026. Baskets
// are 1 item (55%), 2 (25%), 3 (12%), 4-9 (6%) or 10-20 (2%); each item is an appliance (55%: refrigerators,
// washing machines, TVs, air conditioners... with energy grades 1-3 or none), a phone, tablet or watch (30%),
// furniture (12%) or a car with its old-car details (3%). Some items are not eligible (a grade 3 fridge, a
// phone above 6,000 yuan, furniture outside Zhejiang): that is the real mix, and still a successful Quote.
//
// Claim mix (MakeClaimBasket): 1-3 items of distinct product types that every shipped policy grants (grade 1
// appliances of the six 2025/2026 types, phones, tablets and watches below the ceiling), at Rui'an on the
// given date, so a fresh buyer's claim is RESERVED in full. ClaimBasket::kOneDigital instead: one phone,
// tablet or watch per claim, confirmed without serial numbers — the quota ledger's common path (no once-key,
// serial or budget: two Redis round trips per Claim, one per Confirm; docs/quota-ledger.md).
//
// Thread safety: Rng is not thread-safe (one per slot / sender thread); the free functions are pure.
// Errors: none (the inputs are the load generator's own).
#ifndef TRADEIN_TOOLS_LOADGEN_WORKLOAD_H_
#define TRADEIN_TOOLS_LOADGEN_WORKLOAD_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/strings/string_view.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/subsidy_service.pb.h"

namespace tradein::loadgen {

// A small deterministic random source (the workload of a given --seed is reproducible).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  // Uniform in [lo, hi], both inclusive. REQUIRES: lo <= hi.
  int64_t Uniform(int64_t lo, int64_t hi);
  // True with probability p.
  bool Chance(double p);
  uint64_t Next() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// 1-24 characters of A-Z a-z 0-9 . _ : - (so that request ids built on it stay within 64 characters).
bool IsValidRunId(absl::string_view run_id);
// 8 random characters [a-z0-9].
std::string RandomRunId();
// FNV-1a 64 of the run id.
uint64_t RunKey(absl::string_view run_id);

// The `index`-th buyer of the run: a valid 18-character PRC id (GB 11643 check character).
std::string BuyerPrcId(uint64_t run_key, uint64_t index);
// A valid 17-character VIN (ISO 3779 check digit) for old car `index`.
std::string OldCarVin(uint64_t index);

// A Quote from the mix above. With probability `with_buyer` it names a buyer (the server then also reads the
// buyer's counters in the quota store to advise on quota left).
void MakeQuote(Rng& rng, uint64_t run_key, double with_buyer, v1::QuoteRequest& request);

// What the claim scenario claims (see above).
enum class ClaimBasket { kMixed, kOneDigital };

// A Claim of a fresh basket (see above) for `buyer` at Rui'an on `date`.
void MakeClaim(Rng& rng, ClaimBasket basket, const std::string& request_id, const std::string& retailer_id,
               const std::string& buyer, const std::string& date, v1::ClaimRequest& request);

// A Claim of one appliance of the kind hot buyers race for (refrigerator, washing machine or TV, grade 1).
void MakeHotClaim(Rng& rng, const std::string& request_id, const std::string& retailer_id,
                  const std::string& buyer, const std::string& date, v1::ClaimRequest& request);

// The ConfirmClaim a till sends after payment: the invoice and, `with_serials`, one serial number per granted
// unit.
void MakeConfirm(const v1::Claim& claim, const std::string& invoice, bool with_serials,
                 v1::ConfirmClaimRequest& request);

}  // namespace tradein::loadgen

#endif  // TRADEIN_TOOLS_LOADGEN_WORKLOAD_H_
