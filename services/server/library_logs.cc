#include "services/server/library_logs.h"

#include <grpc/support/log.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "google/protobuf/stubs/logging.h"

namespace tradein::server {
namespace {

LogLevel FromProtobuf(google::protobuf::LogLevel level) {
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO:
      return LogLevel::kInfo;
    case google::protobuf::LOGLEVEL_WARNING:
      return LogLevel::kWarning;
    default:
      return LogLevel::kError;
  }
}

LogLevel FromGpr(gpr_log_severity severity) {
  switch (severity) {
    case GPR_LOG_SEVERITY_DEBUG:
      return LogLevel::kDebug;
    case GPR_LOG_SEVERITY_INFO:
      return LogLevel::kInfo;
    default:
      return LogLevel::kError;
  }
}

void LogLibraryLine(LogLevel level, const char* library, const char* file, int line, const char* message) {
  Log(level, "library_log",
      {{"library", library},
       {"source", absl::StrCat(file != nullptr ? file : "?", ":", line)},
       {"message", message != nullptr ? message : ""}});
  if (level == LogLevel::kError) FlushLogs();
}

void OnProtobufLog(google::protobuf::LogLevel level, const char* filename, int line,
                   const std::string& message) {
  LogLibraryLine(FromProtobuf(level), "protobuf", filename, line, message.c_str());
}

void OnGprLog(gpr_log_func_args* args) {
  LogLibraryLine(FromGpr(args->severity), "grpc", args->file, args->line, args->message);
}

}  // namespace

void RouteLibraryLogs() {
  google::protobuf::SetLogHandler(&OnProtobufLog);
  gpr_set_log_function(&OnGprLog);
}

}  // namespace tradein::server
