#include "common/log.h"

#include <atomic>
#include <limits>
#include <cstdio>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tradein {
namespace {

// The process's log destination. Lines are appended to a buffer that a background thread writes out every
// kFlushInterval (or sooner when it grows past kFlushBytes, or for warnings and errors), so the per-call
// access line costs a string append, not a write(2). A function-local static, never destroyed: logging from
// late threads stays safe; FlushLogs() before exit writes what is left.
constexpr size_t kFlushBytes = 64 * 1024;
constexpr absl::Duration kFlushInterval = absl::Milliseconds(200);

struct Sink {
  absl::Mutex mu;
  std::FILE* file ABSL_GUARDED_BY(mu) = stderr;
  std::string buffer ABSL_GUARDED_BY(mu);
  std::atomic<LogLevel> min_level{LogLevel::kInfo};
  std::once_flag flusher_started;

  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (buffer.empty()) return;
    std::fwrite(buffer.data(), 1, buffer.size(), file);
    std::fflush(file);
    buffer.clear();
  }
};

Sink& TheSink() {
  static Sink* sink = new Sink();
  return *sink;
}

void StartFlusher(Sink& sink) {
  std::call_once(sink.flusher_started, [&sink] {
    std::thread([&sink] {
      for (;;) {
        absl::SleepFor(kFlushInterval);
        absl::MutexLock lock(&sink.mu);
        sink.WriteLocked();
      }
    }).detach();
  });
}

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

LogField::LogField(absl::string_view key, absl::string_view value) : key_(key) {
  AppendJsonString(json_value_, value);
}
LogField::LogField(absl::string_view key, int64_t value) : key_(key), json_value_(absl::StrCat(value)) {}
LogField::LogField(absl::string_view key, uint64_t value) : key_(key), json_value_(absl::StrCat(value)) {}
LogField::LogField(absl::string_view key, bool value) : key_(key), json_value_(value ? "true" : "false") {}

bool ParseLogLevel(absl::string_view text, LogLevel& level) {
  for (LogLevel candidate : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    if (text == LevelName(candidate)) {
      level = candidate;
      return true;
    }
  }
  return false;
}

void SetMinLogLevel(LogLevel level) { TheSink().min_level.store(level, std::memory_order_relaxed); }

bool LogEnabled(LogLevel level) { return level >= TheSink().min_level.load(std::memory_order_relaxed); }

absl::Status SetLogFile(const std::string& path) {
  std::FILE* file = stderr;
  if (!path.empty() && path != "-") {
    file = std::fopen(path.c_str(), "a");
    if (file == nullptr) return absl::InvalidArgumentError(absl::StrCat("cannot open log file ", path));
  }
  Sink& sink = TheSink();
  absl::MutexLock lock(&sink.mu);
  sink.WriteLocked();
  if (sink.file != stderr) std::fclose(sink.file);
  sink.file = file;
  return absl::OkStatus();
}

namespace {

// `now` as "2026-11-29T11:55:35.123Z". The part up to the seconds is formatted once a second per thread:
// absl::FormatTime on every line was a tenth of the access line's cost.
void AppendTimestamp(std::string& out, absl::Time now) {
  thread_local int64_t cached_second = std::numeric_limits<int64_t>::min();
  thread_local std::string cached_prefix;
  const int64_t millis = absl::ToUnixMillis(now);
  const int64_t second = millis >= 0 ? millis / 1000 : (millis - 999) / 1000;
  if (second != cached_second) {
    cached_prefix = absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone());
    cached_second = second;
  }
  const auto ms = static_cast<int>(millis - second * 1000);
  const char fraction[] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                           static_cast<char>('0' + ms % 10), 'Z'};
  out.append(cached_prefix).append(fraction, sizeof(fraction));
}

}  // namespace

void Log(LogLevel level, absl::string_view event, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line = "{\"ts\":\"";
  line.reserve(256);
  AppendTimestamp(line, absl::Now());
  absl::StrAppend(&line, "\",\"level\":\"", LevelName(level), "\",\"event\":");
  AppendJsonString(line, event);
  for (const LogField& field : fields) {
    line.push_back(',');
    AppendJsonString(line, field.key());
    absl::StrAppend(&line, ":", field.json_value());
  }
  line.append("}\n");
  Sink& sink = TheSink();
  StartFlusher(sink);
  absl::MutexLock lock(&sink.mu);
  sink.buffer.append(line);
  if (level >= LogLevel::kWarning || sink.buffer.size() >= kFlushBytes) sink.WriteLocked();
}

void FlushLogs() {
  Sink& sink = TheSink();
  absl::MutexLock lock(&sink.mu);
  sink.WriteLocked();
}

void AppendJsonString(std::string& out, absl::string_view text) {
  out.push_back('"');
  // Runs of characters that need no escape (nearly all of them) are appended whole.
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) continue;
    out.append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
    }
  }
  out.append(text.data() + run_start, text.size() - run_start);
  out.push_back('"');
}

}  // namespace tradein
