// -----------------------------------------------------------------------------
// File: temp_dir.h
// -----------------------------------------------------------------------------
//
// TempDir is a fresh, empty directory that is removed with everything in it when the TempDir is destroyed.
// It is created under $TEST_TMPDIR, else $TMPDIR, else /tmp.
//
//   TRADEIN_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("redis-"));
//   WriteConfig(dir.Join("redis.conf"));
//
// Thread safety: const methods may be called concurrently; the object is movable, not copyable.
// Errors: Create() returns INTERNAL with the errno text when the directory cannot be made; removal errors in
// the destructor are ignored (the directory is in a temporary location anyway).
#ifndef TRADEIN_TESTS_TESTING_TEMP_DIR_H_
#define TRADEIN_TESTS_TESTING_TEMP_DIR_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradein::testing {

class TempDir {
 public:
  // Create
  //
  // Makes "<base>/<prefix>XXXXXX" with mkdtemp (mode 0700).
  [[nodiscard]] static absl::StatusOr<TempDir> Create(absl::string_view prefix = "tradein-");

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  const std::string& path() const { return path_; }

  // `path()/name`.
  std::string Join(absl::string_view name) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void Remove();

  std::string path_;  // empty once moved from
};

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_TESTING_TEMP_DIR_H_
