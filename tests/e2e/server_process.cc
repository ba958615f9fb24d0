#include "tests/e2e/server_process.h"

#include <signal.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "tests/testing/free_port.h"

namespace tradein::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool IsServing(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, request, &response).ok() &&
         response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace

std::string ServerBinaryPath() { return absl::StrCat(TRADEIN_BINARY_DIR, "/services/server/tradein-server"); }

std::string ShippedPolicyDir() { return absl::StrCat(TRADEIN_SOURCE_DIR, "/deploy/policies"); }

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env,
    absl::Duration timeout) {
  ServerProcessOptions options;
  options.args = std::move(args);
  options.env = std::move(env);
  options.timeout = timeout;
  return StartWith(std::move(options));
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::StartWith(ServerProcessOptions start) {
  // The picked port was free a moment ago; a test running in parallel may take it before the server binds
  // it. The server then exits naming --listen, and the start is tried again on another port.
  constexpr int kAttempts = 5;
  absl::StatusOr<std::unique_ptr<ServerProcess>> server;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    server = StartOnFreePort(start);
    if (server.ok() || !absl::IsAborted(server.status())) break;
  }
  return server;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::StartOnFreePort(
    const ServerProcessOptions& start) {
  const std::vector<std::string>& args = start.args;
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  absl::StatusOr<TempDir> dir = TempDir::Create("tradein-e2e-");
  if (!dir.ok()) return dir.status();
  server->dir_ = *std::move(dir);
  server->port_ = PickFreePort();
  const std::string listen_host = absl::StrContains(start.listen_host, ':')
                                      ? absl::StrCat("[", start.listen_host, "]")
                                      : start.listen_host;
  std::string connect_host = start.connect_host;
  if (connect_host.empty()) {
    connect_host = start.listen_host == "0.0.0.0" || start.listen_host == "::" ? "127.0.0.1" : listen_host;
  }
  server->address_ = absl::StrCat(connect_host, ":", server->port_);

  SubprocessOptions options;
  options.argv = {ServerBinaryPath(), absl::StrCat("--listen=", listen_host, ":", server->port_)};
  const bool has_policy_dir = std::any_of(
      args.begin(), args.end(), [](const std::string& a) { return absl::StartsWith(a, "--policy_dir"); });
  if (!has_policy_dir) options.argv.push_back(absl::StrCat("--policy_dir=", ShippedPolicyDir()));
  // Tests run in parallel: no fixed side port unless a test asks for one.
  const bool has_metrics = std::any_of(
      args.begin(), args.end(), [](const std::string& a) { return absl::StartsWith(a, "--metrics_listen"); });
  if (!has_metrics) options.argv.push_back("--metrics_listen=127.0.0.1:0");
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = start.env;
  options.stdout_path = server->dir_->Join("stdout");
  options.stderr_path = server->dir_->Join("stderr");
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Spawn(std::move(options));
  if (!process.ok()) return process.status();
  server->process_ = *std::move(process);
  // Short reconnect backoff: the first attempts race the server's start.
  grpc::ChannelArguments channel_args;
  channel_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  channel_args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  channel_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
  for (const auto& [name, value] : start.channel_string_args) channel_args.SetString(name, value);
  server->channel_ = grpc::CreateCustomChannel(
      server->address_, start.credentials != nullptr ? start.credentials : grpc::InsecureChannelCredentials(),
      channel_args);
  const std::shared_ptr<grpc::Channel> probe =
      start.health_address.empty()
          ? server->channel_
          : grpc::CreateCustomChannel(start.health_address, grpc::InsecureChannelCredentials(), channel_args);

  const absl::Time give_up = absl::Now() + start.timeout;
  while (!IsServing(probe)) {
    if (!server->process_->Running()) {
      server->process_->Wait(absl::ZeroDuration()).IgnoreError();  // the exit is this error's report
      const std::string stderr_text = server->Stderr();
      const std::string lost_port = absl::StrCat("--listen=", listen_host, ":", server->port_, ": cannot listen");
      if (absl::StrContains(stderr_text, lost_port)) {
        return absl::AbortedError(absl::StrCat("tradein-server lost its port to another process:\n", stderr_text));
      }
      return absl::UnavailableError(absl::StrCat("tradein-server exited:\n", stderr_text));
    }
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(absl::StrCat("tradein-server not serving:\n", server->Stderr()));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return server;
}

std::string ServerProcess::Stdout() const { return ReadAll(dir_->Join("stdout")); }

std::string ServerProcess::Stderr() const { return ReadAll(dir_->Join("stderr")); }

void ServerProcess::Kill() { process_->Kill(); }

ServerProcess::~ServerProcess() {
  if (process_ == nullptr) return;
  if (!process_->Running()) {
    // Killed, stopped or waited for by the test, or gone by itself: only the last is a failure, reported
    // with how it ended and its stderr (a crash's stack trace) rather than as the test's next refused call.
    if (!process_->ExitReported()) {
      const absl::StatusOr<int> code = process_->Wait(absl::ZeroDuration());
      ADD_FAILURE() << "tradein-server exited by itself while the test ran (exit code "
                    << (code.ok() ? absl::StrCat(*code) : code.status().ToString()) << ")\n"
                    << Stderr();
    }
    return;
  }
  const absl::StatusOr<int> code = Stop();
  if (!code.ok()) {
    ADD_FAILURE() << "tradein-server did not stop on SIGTERM: " << code.status() << "\n" << Stderr();
  } else if (*code != 0) {
    ADD_FAILURE() << "tradein-server exited " << *code << " on SIGTERM (a crash at shutdown?)\n" << Stderr();
  }
}

std::string ServerProcess::SanitizerReport() const {
  // Every AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer report ends with a line
  // "SUMMARY: <Name>Sanitizer: ...". The server's own log lines are JSON objects; the rest is the report.
  const std::string stderr_text = Stderr();
  bool reported = false;
  std::string report;
  for (absl::string_view line : absl::StrSplit(stderr_text, '\n')) {
    if (absl::StartsWith(line, "{")) continue;
    reported = reported || (absl::StartsWith(line, "SUMMARY: ") && absl::StrContains(line, "Sanitizer"));
    absl::StrAppend(&report, line, "\n");
  }
  return reported ? report : "";
}

absl::StatusOr<int> ServerProcess::Stop(absl::Duration timeout) {
  // Our channel's idle connection would hold the server's graceful shutdown for seconds.
  channel_.reset();
  if (absl::Status status = process_->Signal(SIGTERM); !status.ok()) return status;
  absl::StatusOr<int> code = process_->Wait(timeout);
  if (std::string report = SanitizerReport(); !report.empty()) {
    return absl::InternalError(absl::StrCat("tradein-server wrote a sanitizer report:\n", report));
  }
  return code;
}

}  // namespace tradein::testing
