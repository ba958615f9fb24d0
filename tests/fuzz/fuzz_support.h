// -----------------------------------------------------------------------------
// File: fuzz_support.h
// -----------------------------------------------------------------------------
//
// What the libFuzzer targets of tests/fuzz share: a property check that turns a broken invariant into a
// crash libFuzzer records (the input is kept as crash-<sha1>), and the paths of the shipped policies.
//
// Thread safety: libFuzzer runs a target on one thread; these helpers keep no state.
#ifndef TRADEIN_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define TRADEIN_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

namespace tradein::fuzz {

// FUZZ_CHECK(condition, detail): aborts with `detail` (anything absl::StrCat takes a string of) printed
// when `condition` is false.
#define FUZZ_CHECK(condition, detail)                                                             \
  do {                                                                                            \
    if (!(condition)) ::tradein::fuzz::Fail(__FILE__, __LINE__, #condition, std::string(detail)); \
  } while (false)

[[noreturn]] inline void Fail(const char* file, int line, const char* condition, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n%s\n", file, line, condition, detail.c_str());
  std::abort();
}

// The shipped policy directory of the source tree this was built from.
inline std::string ShippedPolicyDir() { return std::string(TRADEIN_SOURCE_DIR) + "/deploy/policies"; }

}  // namespace tradein::fuzz

#endif  // TRADEIN_TESTS_FUZZ_FUZZ_SUPPORT_H_
