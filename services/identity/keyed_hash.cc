#include "services/identity/keyed_hash.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace tradein::identity {
namespace {

constexpr absl::string_view kBuyerScope = "buyer";
constexpr absl::string_view kScopeSeparator("\0", 1);

[[noreturn]] void Die(absl::string_view what) {
  std::fprintf(stderr, "tradein::identity::KeyedHasher: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

const unsigned char* Bytes(absl::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// An HMAC-SHA256 context initialised with `key`, ready to be copied for each message.
[[nodiscard]] absl::StatusOr<std::shared_ptr<const EVP_MAC_CTX>> NewKeyedContext(absl::string_view key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return absl::InternalError("OpenSSL provides no HMAC");
  std::shared_ptr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_new(mac), EVP_MAC_CTX_free);
  EVP_MAC_free(mac);  // the context holds its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (ctx == nullptr || EVP_MAC_init(ctx.get(), Bytes(key), key.size(), params) != 1) {
    return absl::InternalError("OpenSSL cannot initialise HMAC-SHA256");
  }
  return ctx;
}

// Reads at most KeyedHasher::kMaxKeyFileBytes + 1 bytes of the regular file `path` into `*content`; adds a
// warning if other users may read it.
[[nodiscard]] absl::Status ReadKeyFile(const std::string& path, std::string* content,
                                       std::vector<std::string>* warnings) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open buyer key file ", path));
  const absl::Cleanup close_fd = [fd] { close(fd); };
  struct stat info {};
  if (fstat(fd, &info) != 0)
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat buyer key file ", path));
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("buyer key file ", path, " is not a regular file"));
  }
  if ((info.st_mode & S_IROTH) != 0) {
    warnings->push_back(
        absl::StrFormat("buyer key file %s is readable by every user (mode %04o); chmod 0400 it", path,
                        info.st_mode & 07777));
  }
  content->resize(KeyedHasher::kMaxKeyFileBytes + 1);
  size_t size = 0;
  while (size < content->size()) {
    const ssize_t n = read(fd, content->data() + size, content->size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read buyer key file ", path));
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  content->resize(size);
  if (size > KeyedHasher::kMaxKeyFileBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("buyer key file ", path, " is longer than ", KeyedHasher::kMaxKeyFileBytes, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<KeyedHasher> KeyedHasher::FromKeyFile(absl::string_view path) {
  const std::string file(path);
  std::string secret;
  const absl::Cleanup wipe = [&secret] { OPENSSL_cleanse(secret.data(), secret.size()); };
  std::vector<std::string> warnings;
  TRADEIN_RETURN_IF_ERROR(ReadKeyFile(file, &secret, &warnings));
  if (absl::EndsWith(secret, "\n")) secret.pop_back();
  if (secret.size() < kMinKeyBytes) {
    return absl::FailedPreconditionError(absl::StrCat("buyer key file ", file, " holds ", secret.size(),
                                                      " bytes of secret; at least ", kMinKeyBytes,
                                                      " are needed (openssl rand -hex 32 > buyer.key)"));
  }
  TRADEIN_ASSIGN_OR_RETURN(std::shared_ptr<const EVP_MAC_CTX> keyed, NewKeyedContext(secret));
  return KeyedHasher(std::move(keyed), std::move(warnings));
}

KeyedHasher KeyedHasher::WithRandomKey() {
  std::string key(kMinKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    Die("RAND_bytes failed");
  }
  KeyedHasher hasher = ForTesting(key);
  OPENSSL_cleanse(key.data(), key.size());
  return hasher;
}

KeyedHasher KeyedHasher::ForTesting(absl::string_view key) {
  absl::StatusOr<std::shared_ptr<const EVP_MAC_CTX>> keyed = NewKeyedContext(key);
  if (!keyed.ok()) Die(keyed.status().message());
  return KeyedHasher(*std::move(keyed), {});
}

std::string KeyedHasher::BuyerKey(absl::string_view normalised_prc_id) const {
  return ScopedKey(kBuyerScope, normalised_prc_id);
}

std::string KeyedHasher::ScopedKey(absl::string_view scope, absl::string_view value) const {
  return HexMac({scope, kScopeSeparator, value});
}

std::string KeyedHasher::ShardTag(absl::string_view buyer_key) {
  return std::string(buyer_key.substr(0, kShardTagLength));
}

std::string KeyedHasher::HexMac(std::initializer_list<absl::string_view> parts) const {
  const std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_dup(keyed_.get()),
                                                                      EVP_MAC_CTX_free);
  bool ok = ctx != nullptr;
  for (const absl::string_view part : parts) {
    ok = ok && EVP_MAC_update(ctx.get(), Bytes(part), part.size()) == 1;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t length = 0;
  ok = ok && EVP_MAC_final(ctx.get(), mac, &length, sizeof(mac)) == 1;
  if (!ok) Die("HMAC-SHA256 failed");
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(mac), length));
}

}  // namespace tradein::identity
