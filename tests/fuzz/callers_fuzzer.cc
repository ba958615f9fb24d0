// Fuzzes the callers file (services/auth/callers_table.h): the whole input is the file's text, written to a
// file and loaded as the server loads --callers_file.
//
// Properties, besides "no sanitizer report": a refused file is INVALID_ARGUMENT naming the file, in UTF-8; a
// loaded table finds each caller by each of its TLS identities, and every caller has a role, a UTF-8 id and
// a credential; retailers have their retailer id and regions, other roles neither.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/common.h"  // internal::IsStructurallyValidUTF8
#include "services/auth/callers_table.h"
#include "tests/fuzz/fuzz_support.h"

namespace tradein::fuzz {
namespace {

const std::string& Path() {
  static const std::string* const path = new std::string(
      (std::filesystem::temp_directory_path() / absl::StrCat("tradein-callers-fuzz-", getpid(), ".textproto"))
          .string());
  return *path;
}

bool IsUtf8(absl::string_view text) {
  return google::protobuf::internal::IsStructurallyValidUTF8(text.data(), static_cast<int>(text.size()));
}

void Check(const auth::CallersTable& table) {
  for (const auth::Caller& caller : table.callers()) {
    FUZZ_CHECK(IsUtf8(caller.id()) && IsUtf8(caller.retailer_id()), "ids reach JSON logs: UTF-8 only");
    FUZZ_CHECK(!caller.id().empty() && caller.role() != auth::Caller::ROLE_UNSPECIFIED, caller.id());
    FUZZ_CHECK(caller.api_key_sha256_size() + caller.tls_identities_size() > 0, caller.id());
    const bool retailer = caller.role() == auth::Caller::RETAILER;
    FUZZ_CHECK(retailer == !caller.retailer_id().empty(), caller.id());
    FUZZ_CHECK(retailer == !caller.region_codes().empty(), caller.id());
    for (const std::string& identity : caller.tls_identities()) {
      const auth::Caller* found = table.FindByTlsIdentity(identity);
      FUZZ_CHECK(found != nullptr && found->id() == caller.id(), identity);
    }
  }
}

}  // namespace
}  // namespace tradein::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tradein;
  using namespace tradein::fuzz;
  std::ofstream(Path(), std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  const absl::StatusOr<std::shared_ptr<const auth::CallersTable>> table = auth::CallersTable::Load(Path());
  if (!table.ok()) {
    FUZZ_CHECK(table.status().code() == absl::StatusCode::kInvalidArgument, table.status().ToString());
    FUZZ_CHECK(absl::StrContains(table.status().message(), Path()), table.status().ToString());
    FUZZ_CHECK(IsUtf8(table.status().message()), table.status().ToString());
    return 0;
  }
  Check(**table);
  // A presented key: found only through its SHA-256, and then by the caller listing that hash.
  const std::string key(reinterpret_cast<const char*>(data), std::min<size_t>(size, 64));
  if (const auth::Caller* caller = (*table)->FindByApiKey(key); caller != nullptr) {
    const std::string hash = auth::Sha256Hex(key);
    FUZZ_CHECK(std::find(caller->api_key_sha256().begin(), caller->api_key_sha256().end(), hash) !=
                   caller->api_key_sha256().end(),
               hash);
  }
  return 0;
}
