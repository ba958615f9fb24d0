// -----------------------------------------------------------------------------
// File: log.h
// -----------------------------------------------------------------------------
//
// Structured logs: one JSON object per line, e.g.
//   {"ts":"2026-11-29T08:42:19.123Z","level":"info","event":"server_started","listen":"127.0.0.1:50051"}
// Lines go to stderr unless SetLogFile() names a file, in batches (every 200 ms, or at once for warnings and
// errors): call FlushLogs() before exit. Levels below the minimum cost one comparison.
// Callers pass the request id as a field; a raw buyer id must never be a field (log the keyed hash).
//
//   Log(LogLevel::kInfo, "policy_reloaded", {{"snapshot", version}, {"policies", count}});
//
// Thread safety: every function may be called from any thread; each line is written whole.
#ifndef TRADEIN_COMMON_LOG_H_
#define TRADEIN_COMMON_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tradein {

enum class LogLevel : uint8_t { kDebug, kInfo, kWarning, kError };

// One key and its value, rendered as JSON.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value);
  LogField(absl::string_view key, const std::string& value) : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, const char* value) : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, int64_t value);
  LogField(absl::string_view key, int value) : LogField(key, static_cast<int64_t>(value)) {}
  LogField(absl::string_view key, uint64_t value);
  LogField(absl::string_view key, bool value);

  absl::string_view key() const { return key_; }
  // The value as JSON text (quoted and escaped for strings).
  const std::string& json_value() const { return json_value_; }

 private:
  absl::string_view key_;
  std::string json_value_;
};

// ParseLogLevel
//
// "debug", "info", "warning", "error".
[[nodiscard]] bool ParseLogLevel(absl::string_view text, LogLevel& level);

void SetMinLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// SetLogFile
//
// Appends lines to `path` from now on ("" or "-" = stderr).
[[nodiscard]] absl::Status SetLogFile(const std::string& path);

void Log(LogLevel level, absl::string_view event, std::initializer_list<LogField> fields = {});

// FlushLogs
//
// Writes out every buffered line (lines are written in batches; warnings and errors at once). Call before
// exit.
void FlushLogs();

// AppendJsonString
//
// Appends `text` to `out` as a quoted JSON string (UTF-8 passes through; control characters are escaped).
void AppendJsonString(std::string& out, absl::string_view text);

}  // namespace tradein

#endif  // TRADEIN_COMMON_LOG_H_
