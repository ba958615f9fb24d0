// tradein-server: the trade-in subsidy service. See README.md for the run command and every flag.
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "services/server/flags.h"
#include "services/server/library_logs.h"
#include "services/server/server.h"

namespace {

using tradein::LogLevel;

// The crashing thread's stack as glibc unwinds it from the unwind tables, after Abseil's report (the signal,
// the symbolized PC, and the frames its frame-pointer walk finds, which stops early in code built without
// frame pointers): one line per frame, "binary(function+offset) [address]" — `addr2line -f -C -e
// tradein-server <offset>` names the frames of the binary itself. Called by Abseil's handler, on the crashing
// thread: writes with write(2) only.
void WriteUnwoundStack(const char* data) {
  if (data != nullptr) return;  // Abseil's own lines, which it already wrote to stderr
  void* frames[64];
  const int depth = backtrace(frames, 64);
  static constexpr char kHeader[] = "*** stack (glibc backtrace):\n";
  (void)!write(STDERR_FILENO, kHeader, sizeof(kHeader) - 1);
  backtrace_symbols_fd(frames, depth, STDERR_FILENO);
}

// Blocks the signals we handle in every thread (call before any thread starts) and returns their set.
sigset_t BlockHandledSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// The address `flag`'s listener is bound to (its port resolved), or "" when the flag turned it off.
std::string BoundListener(const tradein::server::TradeinServer& server, const std::string& flag) {
  for (const auto& [name, address] : server.bound_listeners()) {
    if (name == flag) return address;
  }
  return "";
}

// The banner's `try:` command: a Quote that works as the server is configured — TLS or plaintext, and with
// authentication on, the key to send (any caller may quote).
std::string TryCommand(const tradein::server::ServerOptions& options, const std::string& address) {
  std::string transport = "-plaintext";
  if (!options.tls_cert.empty()) transport = absl::StrCat("-cacert ", options.tls_cert);
  const std::string auth = options.callers_file.empty() ? "" : " -H \"authorization: Bearer $TRADEIN_KEY\"";
  return absl::StrCat(
      "grpcurl ", transport, auth,
      " -d '{\"regionCode\":\"330381\",\"transactionDate\":\"2025-03-01\",\"items\":[{\"lineId\":\"1\","
      "\"productType\":\"appliance.refrigerator\",\"priceFen\":\"500000\",\"energyGrade\":1}]}' ",
      address, " tradein.v1.SubsidyService/Quote");
}

void PrintBanner(const tradein::server::TradeinServer& server,
                 const tradein::server::ServerOptions& options) {
  const auto snapshot = server.policies().Current();
  std::cout << "tradein-server\n";
  for (const std::string& line : server.listener_lines()) std::cout << "  " << line << "\n";
  std::cout << "  policies: " << snapshot->policies().size() << " from " << snapshot->directory()
            << " (snapshot " << snapshot->version() << ")\n"
            << "  quota store: " << server.store_description() << "\n";
  for (const std::string& warning : server.warnings()) std::cout << "  WARNING: " << warning << "\n";
  if (!options.callers_file.empty()) {
    std::cout << "  callers: " << options.callers_file
              << " (TRADEIN_KEY below: a caller's key; `tradeinctl caller add` makes one)\n";
  }
  std::cout << "  try: " << TryCommand(options, server.address()) << "\n" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  // A crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP) writes the signal and the crashing thread's
  // stack to stderr before the process dies of it (a core dump as before, where enabled); under a sanitizer
  // its own report follows. SIGTERM is on Abseil's list too, but it is blocked in every thread and taken by
  // sigwait below, so it never reaches the handler.
  absl::InitializeSymbolizer(argv[0]);
  void* warm_up[1];
  backtrace(warm_up, 1);  // loads the unwinder now: loading it in a signal handler would allocate
  absl::FailureSignalHandlerOptions crash_report;
  crash_report.call_previous_handler = true;
  crash_report.writerfn = &WriteUnwoundStack;
  absl::InstallFailureSignalHandler(crash_report);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a debug aid: ~8% of a no-op call's
  // instructions under callgrind). The tests keep it on; the server does not pay for it on every call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // A write to a peer that has gone (an HTTP client that pipelined requests and closed) must fail that write
  // with EPIPE, not kill the process: no library we link asks for SIGPIPE, so it is ignored process-wide.
  signal(SIGPIPE, SIG_IGN);
  const sigset_t signals = BlockHandledSignals();
  tradein::server::RouteLibraryLogs();
  absl::StatusOr<tradein::server::ServerOptions> options = tradein::server::ParseServerFlags(argc, argv);
  if (!options.ok()) {
    std::cerr << "tradein-server: " << options.status().message() << "\n";
    return 2;
  }
  tradein::LogLevel level;
  if (!tradein::ParseLogLevel(options->log_level, level)) {
    std::cerr << "tradein-server: --log_level must be debug, info, warning or error\n";
    return 2;
  }
  tradein::SetMinLogLevel(level);
  if (absl::Status status = tradein::SetLogFile(options->log_file); !status.ok()) {
    std::cerr << "tradein-server: " << status.message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<tradein::server::TradeinServer>> server =
      tradein::server::TradeinServer::Start(*options);
  if (!server.ok()) {
    tradein::Log(LogLevel::kError, "start_failed", {{"error", server.status().message()}});
    tradein::FlushLogs();
    // Logs on stderr already said it, as one JSON line; with --log_file, stderr still tells why.
    if (!options->log_file.empty() && options->log_file != "-")
      std::cerr << "tradein-server: " << server.status().message() << "\n";
    return 1;
  }
  tradein::Log(LogLevel::kInfo, "server_started",
               {{"listen", (*server)->address()},
                {"http_listen", BoundListener(**server, "http_listen")},
                {"metrics_listen", BoundListener(**server, "metrics_listen")},
                {"health_listen", BoundListener(**server, "health_listen")},
                {"policy_snapshot", (*server)->policies().Current()->version()}});
  PrintBanner(**server, *options);
  for (const std::string& warning : (*server)->warnings())
    tradein::Log(LogLevel::kWarning, "exposure", {{"detail", warning}});

  for (;;) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number == SIGHUP) {
      (void)(*server)
          ->Reload();  // logged and counted either way; a bad directory keeps the last good snapshot
      continue;
    }
    tradein::Log(LogLevel::kInfo, "signal", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
    (*server)->Shutdown();
    tradein::FlushLogs();
    return 0;
  }
}
