// -----------------------------------------------------------------------------
// File: sanitizers.h
// -----------------------------------------------------------------------------
//
// TRADEIN_ASAN is defined (to 1) when this translation unit is built with AddressSanitizer (the sanitizer
// build, tools/test --sanitize), for the few tests that must know: one that replaces operator delete (which
// ASan owns), and known problems that only show under a sanitizer.
#ifndef TRADEIN_TESTS_TESTING_SANITIZERS_H_
#define TRADEIN_TESTS_TESTING_SANITIZERS_H_

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRADEIN_ASAN 1
#endif
#endif
#if !defined(TRADEIN_ASAN) && defined(__SANITIZE_ADDRESS__)  // GCC's spelling
#define TRADEIN_ASAN 1
#endif

#endif  // TRADEIN_TESTS_TESTING_SANITIZERS_H_
