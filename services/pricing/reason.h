// -----------------------------------------------------------------------------
// File: reason.h
// -----------------------------------------------------------------------------
//
// Why an item is not (fully) granted. On the wire a reason is a stable UPPER_SNAKE string (api-contract.md);
// inside the service it is a ReasonCode so that an item's reasons are a 32-bit set (no allocation while
// pricing). Messages are rendered only when a reply is built (explanation.h).
//
// Thread safety: pure values and functions.
#ifndef TRADEIN_SERVICES_PRICING_REASON_H_
#define TRADEIN_SERVICES_PRICING_REASON_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace tradein::pricing {

// The values are stored (a claim's reason bits in the quota ledger): append new codes, never reorder.
enum class ReasonCode : uint8_t {
  // Set by the calculator from the policy's rules.
  kNotCovered,
  kOutsideProgrammeWindow,
  kGradeNotEligible,
  kPriceAboveCeiling,
  kPriceBelowMinimum,
  kOldVehicleTooNew,
  kOwnershipTooRecent,
  kDisplacementTooLarge,
  kNotInNevCatalogue,
  kFuelPairingNotAllowed,
  kHomeTooNew,
  kOldBikeRequired,
  kNewBikeNotCertified,
  // Set by the claim service and the quota ledger.
  kClaimWindowClosed,  // the rule's claim window is over (or not yet open) on the day of the claim
  kQuotaExhausted,
  kHomeAlreadyUsed,
  kVehicleAlreadyUsed,
  kAmountCapReached,  // granted only the rest of a cumulative cap: eligible, reduced
  kBudgetExhausted,
  kSerialAlreadySubsidised,
  kNewVehicleAlreadySubsidised,  // the new car's VIN already took a car subsidy (any programme, any kind)
  kCount,
};

// ReasonName
//
// The wire code, e.g. "GRADE_NOT_ELIGIBLE".
absl::string_view ReasonName(ReasonCode code);

// ReasonFromName
//
// The inverse of ReasonName; false for an unknown name.
bool ReasonFromName(absl::string_view name, ReasonCode& code);

// A set of reasons, in ReasonCode order when iterated.
class ReasonSet {
 public:
  static ReasonSet FromBits(uint32_t bits) {
    ReasonSet set;
    set.bits_ = bits;
    return set;
  }

  void Add(ReasonCode code) { bits_ |= Bit(code); }
  void AddAll(ReasonSet other) { bits_ |= other.bits_; }
  void Remove(ReasonCode code) { bits_ &= ~Bit(code); }
  bool Contains(ReasonCode code) const { return (bits_ & Bit(code)) != 0; }
  bool empty() const { return bits_ == 0; }
  uint32_t bits() const { return bits_; }
  // True when something other than `code` is in the set.
  bool HasOtherThan(ReasonCode code) const { return (bits_ & ~Bit(code)) != 0; }

  template <typename F>
  void ForEach(F&& f) const {
    for (uint8_t i = 0; i < static_cast<uint8_t>(ReasonCode::kCount); ++i) {
      if ((bits_ & (1u << i)) != 0) f(static_cast<ReasonCode>(i));
    }
  }

 private:
  static uint32_t Bit(ReasonCode code) { return 1u << static_cast<uint8_t>(code); }
  uint32_t bits_ = 0;
};

static_assert(static_cast<int>(ReasonCode::kCount) <= 32, "ReasonSet holds 32 reasons");

}  // namespace tradein::pricing

#endif  // TRADEIN_SERVICES_PRICING_REASON_H_
