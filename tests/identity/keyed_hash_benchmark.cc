// BuyerKey is on the claim path. It copies a context keyed once at load; one-shot HMAC() is the simpler
// alternative it was chosen over (it re-fetches the algorithm, under OpenSSL's global lock, on every call).
//
//   ninja -C build keyed_hash_benchmark && build/tests/identity/keyed_hash_benchmark
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "benchmark/benchmark.h"
#include "services/identity/keyed_hash.h"

namespace tradein::identity {
namespace {

constexpr absl::string_view kKey = "0123456789abcdef0123456789abcdef";
constexpr absl::string_view kId = "11010519491231002X";

void BM_BuyerKey(benchmark::State& state) {
  static const KeyedHasher* const hasher = new KeyedHasher(KeyedHasher::ForTesting(kKey));
  for (auto _ : state) benchmark::DoNotOptimize(hasher->BuyerKey(kId));
}
BENCHMARK(BM_BuyerKey)->ThreadRange(1, 2);

void BM_OneShotHmac(benchmark::State& state) {
  const std::string message = std::string("buyer", 6) + std::string(kId);  // with the NUL
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()),
                                  reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac,
                                  &length));
  }
}
BENCHMARK(BM_OneShotHmac)->ThreadRange(1, 2);

}  // namespace
}  // namespace tradein::identity

BENCHMARK_MAIN();
