// -----------------------------------------------------------------------------
// File: keyed_hash.h
// -----------------------------------------------------------------------------
//
// KeyedHasher turns personal identifiers into the opaque keys the service stores: HMAC-SHA256 with a server
// secret, as 64 lowercase hex characters. Redis, logs and metrics only ever see these keys; without the
// secret they cannot be tied back to a person (a plain SHA-256 of an 18-digit id would fall to enumeration).
//
//   absl::StatusOr<KeyedHasher> hasher = KeyedHasher::FromKeyFile("/etc/tradein/buyer.key");
//   std::string buyer = hasher->BuyerKey(normalised_id);          // prc_id.h NormalizePrcId
//   std::string tag = KeyedHasher::ShardTag(buyer);               // Redis Cluster hash tag "{" + tag + "}"
//   std::string car = hasher->ScopedKey("vehicle", normalised_vin);
//
// The secret must be the same on every instance and across restarts and releases: every quota key is derived
// from it, so a new or different secret silently gives every buyer a fresh quota. Generate it once, keep it
// in the secret store, and mount it read-only for the service user:
//
//   openssl rand -hex 32 > buyer.key && chmod 0400 buyer.key
//
// (64 hex characters: 256 bits. Raw bytes from `openssl rand -out buyer.key 32` work as well, except that one
// time in 256 the last random byte is a newline, which is trimmed, and the 31 bytes left are refused.)
//
// Performance: each call copies an HMAC context keyed once at load (EVP_MAC_CTX_dup): about 2.2 µs of CPU per
// BuyerKey, hex included, against 3.3 µs for a bare one-shot HMAC(), which also re-fetches the algorithm
// under OpenSSL's global lock on every call (tests/identity/keyed_hash_benchmark.cc, Debug build, one core).
// Either is small next to the Redis round trip of a claim.
//
// Thread safety: a KeyedHasher is immutable after construction; its const methods may be called concurrently
// (EVP_MAC_CTX_dup only reads the shared keyed context: openssl-threads(7)). Copies share that context.
//
// Errors: FromKeyFile returns a status naming the file, never its content. Once a KeyedHasher exists, hashing
// cannot fail except on OpenSSL running out of memory, which aborts: a wrong key must never be returned.
#ifndef TRADEIN_SERVICES_IDENTITY_KEYED_HASH_H_
#define TRADEIN_SERVICES_IDENTITY_KEYED_HASH_H_

#include <openssl/types.h>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradein::identity {

class KeyedHasher {
 public:
  // The shortest secret FromKeyFile accepts, in bytes.
  static constexpr size_t kMinKeyBytes = 32;
  // The longest key file FromKeyFile reads, so that a wrong path cannot load an arbitrary file.
  static constexpr size_t kMaxKeyFileBytes = 4096;
  // The number of hex characters of a buyer key that form its shard tag (32 bits).
  static constexpr size_t kShardTagLength = 8;

  // FromKeyFile
  //
  // Loads the secret from the regular file at `path`: all its bytes, less one trailing "\n". Fails if the
  // file cannot be read, is not a regular file, is longer than kMaxKeyFileBytes, or holds fewer than
  // kMinKeyBytes. A file other users may read still loads, with a warning in warnings().
  [[nodiscard]] static absl::StatusOr<KeyedHasher> FromKeyFile(absl::string_view path);

  // WithRandomKey
  //
  // A hasher keyed with kMinKeyBytes fresh random bytes: keys made with it mean nothing after the process
  // ends, so it suits only a store that ends with the process (the embedded memory store).
  static KeyedHasher WithRandomKey();

  // ForTesting
  //
  // A hasher keyed with `key` as is (any length, no file). Not for production.
  static KeyedHasher ForTesting(absl::string_view key);

  // BuyerKey
  //
  // HMAC(secret, "buyer\0" + id) as 64 lowercase hex characters: the key of a buyer's quotas.
  // REQUIRES: `normalised_prc_id` comes from NormalizePrcId (an "x" and an "X" would be two buyers).
  std::string BuyerKey(absl::string_view normalised_prc_id) const;

  // ScopedKey
  //
  // HMAC(secret, scope + "\0" + value) as 64 lowercase hex characters, for other personal identifiers (a
  // home's property id, an old car's VIN). Distinct scopes give unrelated keys for the same value; BuyerKey
  // is ScopedKey("buyer", id). REQUIRES: `scope` contains no NUL, and `value` is normalised by the caller.
  std::string ScopedKey(absl::string_view scope, absl::string_view value) const;

  // ShardTag
  //
  // The first kShardTagLength characters of `buyer_key`, for the Redis Cluster hash tag ("{" + tag + "}")
  // that keeps one buyer's keys in one slot while revealing only 32 bits of the HMAC.
  static std::string ShardTag(absl::string_view buyer_key);

  // Problems with the key file that did not prevent loading (e.g. it is world-readable); log them at
  // start-up.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  KeyedHasher(std::shared_ptr<const EVP_MAC_CTX> keyed, std::vector<std::string> warnings)
      : keyed_(std::move(keyed)), warnings_(std::move(warnings)) {}

  // Lowercase hex HMAC of the concatenation of `parts`.
  std::string HexMac(std::initializer_list<absl::string_view> parts) const;

  friend class KeyedHasherPeer;  // tests: HexMac against RFC 4231

  std::shared_ptr<const EVP_MAC_CTX> keyed_;  // HMAC-SHA256 initialised with the secret; never updated
  std::vector<std::string> warnings_;
};

}  // namespace tradein::identity

#endif  // TRADEIN_SERVICES_IDENTITY_KEYED_HASH_H_
