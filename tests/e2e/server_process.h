// -----------------------------------------------------------------------------
// File: server_process.h
// -----------------------------------------------------------------------------
//
// The real tradein-server binary, started for an end-to-end test on a free loopback port, with its stdout and
// stderr captured. Start() returns once grpc.health.v1.Health/Check("") answers SERVING over a real channel.
//
//   TRADEIN_ASSIGN_OR_RETURN(auto server,
//   ServerProcess::Start({"--simulated_now=2025-06-01T10:00:00+08:00"})); auto stub =
//   tradein::v1::SubsidyService::NewStub(server->channel());
//
// When a ServerProcess is destroyed with its server still running, the server gets SIGTERM and must exit 0
// within the grace period: a crash or hang at shutdown fails the test that started it (a GoogleTest failure
// naming the exit code, with the server's stderr). So does a server that exited by itself while the test ran
// (nobody waited for its exit). A test that kills the server on purpose calls Kill() (or waits for the exit
// it caused through process()).
//
// Thread safety: one thread drives a ServerProcess; its channel may be used from any thread.
#ifndef TRADEIN_TESTS_E2E_SERVER_PROCESS_H_
#define TRADEIN_TESTS_E2E_SERVER_PROCESS_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tradein::testing {

// The tradein-server binary of this build tree.
std::string ServerBinaryPath();
// The shipped policy directory.
std::string ShippedPolicyDir();

// How to start the server and how to tell it is serving (ServerProcess::StartWith). The defaults are what
// ServerProcess::Start does: plaintext on a free 127.0.0.1 port, ready when health answers on that port.
struct ServerProcessOptions {
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  absl::Duration timeout = absl::Seconds(30);
  // The host of --listen (the port is picked free), e.g. a non-loopback address or "0.0.0.0".
  std::string listen_host = "127.0.0.1";
  // The host channel() dials; empty: listen_host (127.0.0.1 when listen_host is a wildcard address).
  std::string connect_host;
  // Credentials of channel() (e.g. grpc::SslCredentials for a TLS port); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Channel arguments added to channel()'s (e.g. GRPC_SSL_TARGET_NAME_OVERRIDE_ARG).
  std::vector<std::pair<std::string, std::string>> channel_string_args;
  // When set, readiness is health SERVING on this plaintext host:port (the server's --health_listen)
  // instead of on channel().
  std::string health_address;
};

class ServerProcess {
 public:
  // Start
  //
  // Runs tradein-server with --listen on a free port (another one when a parallel test takes it first),
  // --policy_dir (the shipped policies unless `args` gives one) and `args`. Fails with the server's
  // stderr if it exits or does not serve within `timeout`.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {},
      absl::Duration timeout = absl::Seconds(30));
  // StartWith
  //
  // As Start, with the listen host, the channel's credentials and the readiness probe chosen by `options`.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ServerProcess>> StartWith(ServerProcessOptions options);

  const std::string& address() const { return address_; }
  int port() const { return port_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  Subprocess& process() { return *process_; }
  // Everything the server has written so far.
  std::string Stdout() const;
  std::string Stderr() const;

  // SIGTERM, then waits for the exit code (bounded). channel() is closed first (and null after). INTERNAL
  // with the report when the server wrote a sanitizer report (a sanitizer build: memory errors, undefined
  // behaviour, and the leaks found at exit).
  [[nodiscard]] absl::StatusOr<int> Stop(absl::Duration timeout = absl::Seconds(30));
  // The AddressSanitizer / LeakSanitizer / UndefinedBehaviorSanitizer report in the server's stderr so far
  // (every line that is not a JSON log line), or "" when there is none.
  std::string SanitizerReport() const;
  // SIGKILL, on purpose: the destructor checks nothing more.
  void Kill();

  // Stops a still-running server with SIGTERM and fails the current test unless it exits 0.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

 private:
  ServerProcess() = default;
  // One try of StartWith on a port picked free; ABORTED when another process took that port first.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ServerProcess>> StartOnFreePort(
      const ServerProcessOptions& start);

  std::optional<TempDir> dir_;
  std::unique_ptr<Subprocess> process_;
  std::string address_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_E2E_SERVER_PROCESS_H_
