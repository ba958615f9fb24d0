// -----------------------------------------------------------------------------
// File: callers_table.h
// -----------------------------------------------------------------------------
//
// The callers file (tradein.v1.CallersFile, proto/tradein/v1/callers.proto) loaded and indexed: who a bearer
// key or an mTLS client identity belongs to. API keys are stored only as SHA-256 hashes; a presented key is
// hashed and looked up. A file with any problem is refused whole (the caller keeps the last good table).
//
// Thread safety: immutable after Load; share as std::shared_ptr<const CallersTable>.
#ifndef TRADEIN_SERVICES_AUTH_CALLERS_TABLE_H_
#define TRADEIN_SERVICES_AUTH_CALLERS_TABLE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradein/v1/callers.pb.h"

namespace tradein::auth {

using Caller = v1::CallerEntry;

class CallersTable {
 public:
  // Load
  //
  // Parses and validates the file at `path`: unique ids, a role each, retailer_id and region codes on
  // retailers only (and required there), 64-hex key hashes, no key or identity shared by two callers, at
  // least one credential per caller, text in UTF-8. INVALID_ARGUMENT names the file, the line and column
  // where the entry starts and the entry ("callers.textproto:12:1: callers[1] (\"shop-a\"): ..."), or the
  // line and column the text format parser stopped at.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<const CallersTable>> Load(const std::string& path);
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<const CallersTable>> FromProto(
      v1::CallersFile file, absl::string_view source);

  // The caller whose API key is `key` (the raw key as presented), or nullptr.
  const Caller* FindByApiKey(absl::string_view key) const;
  // The caller with this mTLS identity, or nullptr.
  const Caller* FindByTlsIdentity(absl::string_view identity) const;

  const std::vector<Caller>& callers() const { return callers_; }
  const std::string& source() const { return source_; }

 private:
  // FromProto, `where(i)` naming the position of callers[i] in problems.
  static absl::StatusOr<std::shared_ptr<const CallersTable>> Build(
      v1::CallersFile file, absl::string_view source, const std::function<std::string(int)>& where);

  std::vector<Caller> callers_;
  absl::flat_hash_map<std::string, size_t> by_key_hash_;
  absl::flat_hash_map<std::string, size_t> by_identity_;
  std::string source_;
};

// Sha256Hex
//
// Lowercase hex SHA-256 of `bytes` (how keys are stored in the callers file).
std::string Sha256Hex(absl::string_view bytes);

}  // namespace tradein::auth

#endif  // TRADEIN_SERVICES_AUTH_CALLERS_TABLE_H_
