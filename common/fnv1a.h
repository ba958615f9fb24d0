// -----------------------------------------------------------------------------
// File: fnv1a.h
// -----------------------------------------------------------------------------
//
// FNV-1a (Fowler–Noll–Vo), the non-cryptographic hash the ledger uses where a stable, cheap spread of ids is
// enough: which due-list shard a claim's expiry goes to (32-bit), the name of a confirmation's commit entry
// (64-bit), the load generator's run keys. Both widths are stored data (shard numbers and member names in
// Redis): never change them or their seeds.
//
//   const uint32_t shard = Fnv1a32(claim_id) % kShards;
//   const uint64_t h = Fnv1a64().Add("a").Add("\n").value();   // the same as Fnv1a64Of("a\n")
//
// Thread safety: pure values.
#ifndef TRADEIN_COMMON_FNV1A_H_
#define TRADEIN_COMMON_FNV1A_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace tradein {

// The 32-bit FNV-1a hash of `bytes`.
constexpr uint32_t Fnv1a32(absl::string_view bytes) {
  uint32_t hash = 2166136261u;
  for (const char c : bytes) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  return hash;
}

// The 64-bit FNV-1a hash, fed piece by piece: the hash of the pieces' concatenation.
class Fnv1a64 {
 public:
  constexpr Fnv1a64& Add(absl::string_view bytes) {
    for (const char c : bytes) hash_ = (hash_ ^ static_cast<unsigned char>(c)) * 1099511628211u;
    return *this;
  }
  constexpr uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 14695981039346656037u;
};

// The 64-bit FNV-1a hash of `bytes`.
constexpr uint64_t Fnv1a64Of(absl::string_view bytes) { return Fnv1a64().Add(bytes).value(); }

}  // namespace tradein

#endif  // TRADEIN_COMMON_FNV1A_H_
