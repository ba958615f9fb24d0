# Helpers shared by every CMakeLists.txt of the project.

# tradein_add_options(<target>): the warning set for our own code. Generated code does not use it.
# Not -Wnull-dereference: with GCC 12 at -O2 it fires inside inlined libstdc++ (istreambuf_iterator), so an
# optimised build (the test command's RelWithDebInfo) could not be both -Werror and warning-free.
function(tradein_add_options target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion -Wimplicit-fallthrough -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Checks every ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotation at compile time: our stand-in for
    # ThreadSanitizer, which cannot see through Debian's uninstrumented absl::Mutex.
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
endfunction()

# tradein_add_library(<name> SRCS ... DEPS ...): one library per unit, with an alias tradein::<name>.
function(tradein_add_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(tradein_${name} STATIC ${ARG_SRCS})
  add_library(tradein::${name} ALIAS tradein_${name})
  target_include_directories(tradein_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(tradein_${name} PUBLIC ${ARG_DEPS})
  tradein_add_options(tradein_${name})
endfunction()

# tradein_add_test(<name> SRCS ... DEPS ... [LABELS ...] [TIMEOUT seconds]): a GoogleTest executable registered
# with CTest, each test named "<name>.<Suite>.<Test>". Tests find the source and build trees through the
# compile definitions TRADEIN_SOURCE_DIR / TRADEIN_BINARY_DIR (and the TRADEIN_SOURCE_DIR environment variable).
# Label "redis": starts throwaway redis-servers (tests/testing/redis_server.h); "e2e": starts tradein-server.
# In a sanitizer build (cmake/TradeinSanitizers.cmake) the tests run with the sanitizer options.
function(tradein_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    TRADEIN_SOURCE_DIR="${PROJECT_SOURCE_DIR}" TRADEIN_BINARY_DIR="${PROJECT_BINARY_DIR}")
  tradein_add_options(${name})
  # A test file's own code is compiled for a short build, not a fast program: the code under test keeps the
  # build type's optimisation (libraries, the servers a test starts), and a test spends its time there. GCC
  # at -Og builds a test file in 20-65% less time than at -O2 -g; under the sanitizers (clang, -O1)
  # -O0 saves 40-70%, and ASan's reports about test code are the more precise for it.
  if(TRADEIN_SANITIZE)
    target_compile_options(${name} PRIVATE -O0)
  else()
    target_compile_options(${name} PRIVATE -Og)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  # One property value holding every variable (the sanitizer options of a sanitizer build too).
  set(env "TRADEIN_SOURCE_DIR=${PROJECT_SOURCE_DIR}" ${TRADEIN_SANITIZER_ENV})
  string(REPLACE ";" "\\;" env "${env}")
  set(properties TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${env}")
  if(ARG_LABELS)
    # One property value holding the whole list: a bare list would make the second label a property name.
    string(REPLACE ";" "\\;" labels "${ARG_LABELS}")
    list(APPEND properties LABELS "${labels}")
  endif()
  gtest_discover_tests(${name} TEST_PREFIX "${name}." PROPERTIES ${properties} DISCOVERY_TIMEOUT 60)
endfunction()
