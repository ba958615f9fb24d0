#include "services/auth/callers_table.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "services/policy/policy_problem.h"
#include "services/policy/region.h"

namespace tradein::auth {
namespace {

bool IsHexHash(absl::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Where callers[index] was written: "path:LINE:COLUMN" (1-based), or the bare source when not read from text.
using Locator = std::function<std::string(int index)>;

absl::Status Problem(const Locator& where, int index, const Caller& caller, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(where(index), ": callers[", index, "] (\"", caller.id(), "\"): ", message));
}

// A Locator for a file that parsed: the position of each `callers` entry, from a second parse that records
// locations (the file is small; this runs only to word a problem).
Locator TextLocator(const std::string& path, const std::string& text) {
  class Silent final : public google::protobuf::io::ErrorCollector {
    void AddError(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  };
  auto tree = std::make_shared<google::protobuf::TextFormat::ParseInfoTree>();
  v1::CallersFile file;
  Silent silent;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&silent);
  parser.WriteLocationsTo(tree.get());
  const bool parsed = parser.ParseFromString(text, &file);
  return [path, tree, parsed](int index) {
    const google::protobuf::FieldDescriptor* field =
        v1::CallersFile::descriptor()->FindFieldByName("callers");
    const google::protobuf::TextFormat::ParseLocation at = tree->GetLocation(field, index);
    if (!parsed || at.line < 0) return path;
    return absl::StrCat(path, ":", at.line + 1, ":", at.column + 1);
  };
}

absl::Status ValidateCaller(const Locator& where, int index, const Caller& caller) {
  if (caller.id().empty()) return Problem(where, index, caller, "id is required");
  if (caller.role() == Caller::ROLE_UNSPECIFIED) return Problem(where, index, caller, "role is required");
  const bool retailer = caller.role() == Caller::RETAILER;
  if (retailer != !caller.retailer_id().empty()) {
    return Problem(where, index, caller,
                   retailer ? "a retailer needs retailer_id" : "only retailers have retailer_id");
  }
  if (retailer == caller.region_codes().empty()) {
    return Problem(
        where, index, caller,
        retailer ? "a retailer needs the region_codes its shops are in" : "only retailers have region_codes");
  }
  for (const std::string& region : caller.region_codes()) {
    if (!policy::IsPointOfSaleRegion(region)) {
      return Problem(where, index, caller, absl::StrCat("\"", region, "\" is not a GB/T 2260 region code"));
    }
  }
  for (const std::string& hash : caller.api_key_sha256()) {
    if (!IsHexHash(hash))
      return Problem(where, index, caller, "api_key_sha256 entries are 64 lowercase hex digits");
  }
  if (caller.api_key_sha256().empty() && caller.tls_identities().empty()) {
    return Problem(where, index, caller, "needs an api_key_sha256 or a tls_identities entry");
  }
  if (caller.rate_limit().requests_per_second() < 0 || caller.rate_limit().burst() < 0) {
    return Problem(where, index, caller, "rate_limit values cannot be negative");
  }
  return absl::OkStatus();
}

}  // namespace

std::string Sha256Hex(absl::string_view bytes) {
  // Every authenticated call hashes its API key. OpenSSL 3's one-shot SHA256() looks the algorithm up on each
  // call, which cost more than the hash (callgrind: 5,800 of ~7,600 instructions of an authorisation), so the
  // algorithm is fetched once and each thread keeps a context; the one-shot call remains the fallback.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                                     &EVP_MD_CTX_free);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int length = 0;
  const bool hashed = sha256 != nullptr && context != nullptr &&
                      EVP_DigestInit_ex2(context.get(), sha256, nullptr) == 1 &&
                      EVP_DigestUpdate(context.get(), bytes.data(), bytes.size()) == 1 &&
                      EVP_DigestFinal_ex(context.get(), digest, &length) == 1 && length == sizeof(digest);
  if (!hashed) SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<std::shared_ptr<const CallersTable>> CallersTable::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read the callers file ", path));
  std::stringstream text;
  text << in.rdbuf();
  // Parsed as policy files are: the problem with its line and column in the status (not a libprotobuf line
  // on stderr), bytes that are not UTF-8 escaped in it, and strings that are not UTF-8 refused (ids reach
  // JSON log and audit lines).
  v1::CallersFile file;
  std::vector<policy::PolicyProblem> problems;
  if (!policy::ParseMessageText(path, text.str(), file, problems)) {
    return absl::InvalidArgumentError(absl::StrCat("not a valid tradein.v1.CallersFile (text format): ",
                                                   problems.empty() ? path : problems.front().ToString()));
  }
  return Build(std::move(file), path, TextLocator(path, text.str()));
}

absl::StatusOr<std::shared_ptr<const CallersTable>> CallersTable::FromProto(v1::CallersFile file,
                                                                            absl::string_view source) {
  return Build(std::move(file), source, [source](int) { return std::string(source); });
}

absl::StatusOr<std::shared_ptr<const CallersTable>> CallersTable::Build(
    v1::CallersFile file, absl::string_view source, const std::function<std::string(int)>& where) {
  auto table = std::make_shared<CallersTable>();
  table->source_ = std::string(source);
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < file.callers_size(); ++i) {
    const Caller& caller = file.callers(i);
    if (absl::Status status = ValidateCaller(where, i, caller); !status.ok()) return status;
    if (!ids.insert(caller.id()).second) return Problem(where, i, caller, "duplicate id");
    const size_t index = static_cast<size_t>(i);
    for (const std::string& hash : caller.api_key_sha256()) {
      if (!table->by_key_hash_.emplace(hash, index).second) {
        return Problem(where, i, caller, "an API key hash is already another caller's");
      }
    }
    for (const std::string& identity : caller.tls_identities()) {
      if (!table->by_identity_.emplace(identity, index).second) {
        return Problem(where, i, caller,
                       absl::StrCat("TLS identity \"", identity, "\" is already another caller's"));
      }
    }
  }
  table->callers_.assign(file.callers().begin(), file.callers().end());
  return table;
}

const Caller* CallersTable::FindByApiKey(absl::string_view key) const {
  const auto it = by_key_hash_.find(Sha256Hex(key));
  return it == by_key_hash_.end() ? nullptr : &callers_[it->second];
}

const Caller* CallersTable::FindByTlsIdentity(absl::string_view identity) const {
  const auto it = by_identity_.find(identity);
  return it == by_identity_.end() ? nullptr : &callers_[it->second];
}

}  // namespace tradein::auth
