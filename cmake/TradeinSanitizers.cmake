# Sanitizer and fuzzing builds (tools/test --sanitize=..., tools/fuzz). Clang only.
#
# TRADEIN_SANITIZE: a -fsanitize= list such as "address,undefined", applied to everything the project compiles
# and links (our code, the generated protobuf code, tests and tools). Every report aborts
# (-fno-sanitize-recover=all), so a test that triggers one fails. The Debian libraries we link (gRPC, Abseil,
# protobuf, OpenSSL, hiredis, libevent) are not instrumented; tests/sanitizer/ holds the suppressions for what
# they report on their own, each with its reason. Tests and fuzzers run with TRADEIN_SANITIZER_ENV (below),
# which is also written to <build>/sanitizer.env for running a binary by hand.
#
# TRADEIN_FUZZ: also build the libFuzzer targets of tests/fuzz (needs TRADEIN_SANITIZE). The whole tree gets
# -fsanitize=fuzzer-no-link (coverage feedback from every library a fuzzer calls); only the fuzz targets link
# libFuzzer itself. TRADEIN_FUZZ_SECONDS is how long CTest's "fuzz.<name>.run" tests fuzz each target.
set(TRADEIN_SANITIZE "" CACHE STRING "Sanitizers for a clang build, e.g. address,undefined (empty: none)")
option(TRADEIN_FUZZ "Build the libFuzzer targets (clang with TRADEIN_SANITIZE)" OFF)
set(TRADEIN_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz target runs under CTest (label fuzz)")

set(TRADEIN_SANITIZER_ENV "")
if(TRADEIN_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TRADEIN_SANITIZE needs clang (configure with -DCMAKE_CXX_COMPILER=clang++)")
  endif()
  add_compile_options(-fsanitize=${TRADEIN_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${TRADEIN_SANITIZE})
  set(supp "${PROJECT_SOURCE_DIR}/tests/sanitizer")
  # llvm-symbolizer (package llvm-14) turns the addresses of a report into file:line.
  find_program(TRADEIN_SYMBOLIZER NAMES llvm-symbolizer-14 llvm-symbolizer REQUIRED)
  set(TRADEIN_SANITIZER_ENV
      "ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:detect_stack_use_after_return=1:external_symbolizer_path=${TRADEIN_SYMBOLIZER}"
      "LSAN_OPTIONS=suppressions=${supp}/lsan.supp:print_suppressions=0"
      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=${supp}/ubsan.supp:external_symbolizer_path=${TRADEIN_SYMBOLIZER}")
  list(JOIN TRADEIN_SANITIZER_ENV "\n" env_lines)
  file(WRITE "${PROJECT_BINARY_DIR}/sanitizer.env" "${env_lines}\n")
endif()

if(TRADEIN_FUZZ)
  if(NOT TRADEIN_SANITIZE)
    message(FATAL_ERROR "TRADEIN_FUZZ needs TRADEIN_SANITIZE (the fuzzers share the sanitizer build)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# tradein_add_fuzzer(<name> SRCS ... DEPS ... SEEDS <dir>... [DICT <file>]): the libFuzzer binary
# <name>_fuzzer, listed in TRADEIN_FUZZERS_FILE for tools/fuzz (one line: name, binary, dictionary, seed
# directories; tab-separated), and two CTests:
#   fuzz.<name>.corpus  runs every seed once without fuzzing (the regression test of every input kept there);
#   fuzz.<name>.run     fuzzes for TRADEIN_FUZZ_SECONDS from the seeds (label "fuzz"); a crash fails it and
#                       leaves the input in <build>/tests/fuzz/<name>/ (crash-*, leak-*, timeout-*).
# The first SEEDS directory is the target's own (tests/fuzz/<name>/corpus); inputs worth keeping go there.
function(tradein_add_fuzzer name)
  cmake_parse_arguments(ARG "" "DICT" "SRCS;DEPS;SEEDS" ${ARGN})
  set(target ${name}_fuzzer)
  add_executable(${target} ${ARG_SRCS})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS})
  target_compile_options(${target} PRIVATE -fsanitize=fuzzer)
  target_link_options(${target} PRIVATE -fsanitize=fuzzer)
  target_compile_definitions(${target} PRIVATE TRADEIN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  tradein_add_options(${target})

  set(work "${CMAKE_CURRENT_BINARY_DIR}/${name}")
  file(MAKE_DIRECTORY "${work}/corpus")
  set(flags -artifact_prefix=${work}/ -print_final_stats=1)
  if(ARG_DICT)
    list(APPEND flags -dict=${ARG_DICT})
  endif()
  add_test(NAME fuzz.${name}.corpus COMMAND ${target} -runs=0 ${flags} ${ARG_SEEDS})
  add_test(NAME fuzz.${name}.run
           COMMAND ${target} -max_total_time=${TRADEIN_FUZZ_SECONDS} ${flags} ${work}/corpus ${ARG_SEEDS})
  set_tests_properties(fuzz.${name}.corpus PROPERTIES ENVIRONMENT "${TRADEIN_SANITIZER_ENV}" TIMEOUT 300)
  math(EXPR run_timeout "${TRADEIN_FUZZ_SECONDS} + 300")
  set_tests_properties(fuzz.${name}.run PROPERTIES ENVIRONMENT "${TRADEIN_SANITIZER_ENV}" TIMEOUT ${run_timeout} LABELS fuzz)

  list(JOIN ARG_SEEDS " " seeds)
  file(APPEND "${TRADEIN_FUZZERS_FILE}" "${name}\t${CMAKE_CURRENT_BINARY_DIR}/${target}\t${ARG_DICT}\t${seeds}\n")
endfunction()
