// Three tradein-server instances behind a real nginx (deploy/nginx/tradein.conf.template, grpc_pass) sharing
// one redis-server. Tills claim and confirm concurrently through nginx while one instance is killed (-9) and
// restarted. Every failed call is retried with the same request id until it succeeds; at the end nothing was
// over-granted, no confirmed claim is lost, and every request id made exactly one claim.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/till_load.h"
#include "tests/testing/free_port.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tradein/v1/claim_service.grpc.pb.h"

namespace tradein {
namespace {

using testing::CheckNothingLostOrOverGranted;
using testing::ClaimAndConfirm;
using testing::PrcId;
using testing::RetryPolicy;
using testing::Subprocess;
using testing::TillTally;

constexpr int kInstances = 3;
constexpr int kTills = 6;
constexpr int kClaimsPerTill = 40;
constexpr int kHotBuyers = 3;  // every till also races for these buyers' one fridge each

std::shared_ptr<grpc::Channel> Channel(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(),
                                   args);
}

bool Serving(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  return grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response).ok() &&
         response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

bool AwaitServing(const std::shared_ptr<grpc::Channel>& channel,
                  const std::string& service = "tradein.v1.ClaimService") {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up) {
    if (Serving(channel, service)) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

// One tradein-server on a fixed port, so nginx's upstream list stays valid across a restart.
class Instance {
 public:
  Instance(int port, std::vector<std::string> args, std::string log)
      : port_(port), args_(std::move(args)), log_(log) {}

  bool Start() {
    testing::SubprocessOptions options;
    options.argv = {testing::ServerBinaryPath(), absl::StrCat("--listen=127.0.0.1:", port_),
                    "--metrics_listen="};
    options.argv.insert(options.argv.end(), args_.begin(), args_.end());
    options.stderr_path = absl::StrCat(log_, ".", ++starts_);
    absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Spawn(options);
    if (!process.ok()) return false;
    process_ = *std::move(process);
    return AwaitServing(Channel(port_));
  }
  void Kill() { process_->Kill(); }
  // SIGTERM; the exit code (-1 if it did not exit in time).
  int Stop() {
    if (!process_->Signal(SIGTERM).ok()) return -1;
    const absl::StatusOr<int> code = process_->Wait(absl::Seconds(30));
    return code.ok() ? *code : -1;
  }
  int port() const { return port_; }

 private:
  const int port_;
  const std::vector<std::string> args_;
  const std::string log_;
  int starts_ = 0;
  std::unique_ptr<Subprocess> process_;
};

void Till(int till, const std::shared_ptr<grpc::Channel>& nginx, TillTally& tally) {
  auto stub = v1::ClaimService::NewStub(nginx);
  RetryPolicy policy;  // nginx may also reset a call whose instance died under it
  policy.retryable = {grpc::UNAVAILABLE, grpc::DEADLINE_EXCEEDED, grpc::CANCELLED, grpc::UNKNOWN};
  policy.give_up_after = absl::Seconds(20);
  for (int i = 0; i < kClaimsPerTill; ++i) {
    const bool hot = i % 8 == 0;
    const std::string buyer = hot ? PrcId(500 + i / 8 % kHotBuyers) : PrcId(till * 100 + i);
    if (!ClaimAndConfirm(*stub, absl::StrCat("till-", till, "-", i), buyer, policy, tally)) return;
  }
}

TEST(MultiInstanceE2eTest, KillingAnInstanceBehindNginxLosesNothingAndGrantsNothingTwice) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-multi-");
  ASSERT_TRUE(dir.ok());
  testing::RedisServerOptions redis_options;
  redis_options.appendonly = true;
  absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis = testing::RedisServer::Start(redis_options);
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::string key_file = dir->Join("buyer.key");
  std::ofstream(key_file) << "multi-instance-test-key-0123456789abcdef0123456789abcdef\n";
  const std::vector<std::string> args = {absl::StrCat("--redis=", (*redis)->url()),
                                         absl::StrCat("--buyer_key_file=", key_file),
                                         "--simulated_now=2025-06-01T10:00:00+08:00", "--shutdown_grace=1s"};
  std::vector<std::unique_ptr<Instance>> instances;
  for (int i = 0; i < kInstances; ++i) {
    instances.push_back(std::make_unique<Instance>(testing::PickFreePort(), args,
                                                   dir->Join(absl::StrCat("instance-", i, ".log"))));
    ASSERT_TRUE(instances.back()->Start()) << "instance " << i;
  }

  // nginx, from the shipped template: passive failover (max_fails=1, fail_timeout=2s), retries only as safe.
  const int nginx_port = testing::PickFreePort();
  std::vector<std::string> render = {
      "bash",           absl::StrCat(TRADEIN_SOURCE_DIR, "/deploy/nginx/render-template.sh"),
      "--dir",          dir->Join("nginx"),
      "--listen",       absl::StrCat("127.0.0.1:", nginx_port),
      "--max_fails",    "1",
      "--fail_timeout", "2s"};
  for (const auto& instance : instances) {
    render.push_back("--upstream");
    render.push_back(absl::StrCat("127.0.0.1:", instance->port()));
  }
  absl::StatusOr<std::unique_ptr<Subprocess>> rendered =
      Subprocess::Spawn({render, {}, "", dir->Join("render.out"), ""});
  ASSERT_TRUE(rendered.ok());
  ASSERT_EQ(*(*rendered)->Wait(absl::Seconds(20)), 0);
  absl::StatusOr<std::unique_ptr<Subprocess>> nginx =
      Subprocess::Spawn({{"nginx", "-p", dir->Join("nginx"), "-c", dir->Join("nginx/nginx.conf")},
                         {},
                         "",
                         "",
                         dir->Join("nginx.err")});
  ASSERT_TRUE(nginx.ok()) << nginx.status();
  const std::shared_ptr<grpc::Channel> through_nginx = Channel(nginx_port);
  ASSERT_TRUE(AwaitServing(through_nginx));

  TillTally tally;
  std::vector<std::thread> tills;
  for (int till = 0; till < kTills; ++till)
    tills.emplace_back([&, till] { Till(till, through_nginx, tally); });
  absl::SleepFor(absl::Milliseconds(300));
  instances[1]->Kill();  // -9 in the middle of the load
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE(instances[1]->Start());
  for (std::thread& till : tills) till.join();

  // Every confirmed claim is still confirmed, read back through a different instance than most wrote it.
  const int lost = CheckNothingLostOrOverGranted(tally, Channel(instances[2]->port()));
  absl::MutexLock lock(&tally.mu);
  EXPECT_EQ(tally.claim_ids_by_request.size(), static_cast<size_t>(kTills * kClaimsPerTill));
  for (int hot = 0; hot < kHotBuyers; ++hot) {
    EXPECT_EQ(tally.granted_by_buyer[PrcId(500 + hot)], 1)
        << "hot buyer " << hot << ": one fridge per person";
  }
  const int still_confirmed = static_cast<int>(tally.confirmed.size()) - lost;
  const int failures = tally.Failures();
  std::cout << "[number] multi_instance_calls = " << tally.calls
            << "\n[number] multi_instance_retried_failures = " << failures
            << "\n[number] multi_instance_confirmed = " << tally.confirmed.size()
            << "\n[number] multi_instance_still_confirmed = " << still_confirmed << std::endl;
  for (const auto& [code, count] : tally.failures_by_code) {
    std::cout << "[number] multi_instance_failures_code_" << code << " = " << count << std::endl;
  }
  ::testing::Test::RecordProperty("calls", tally.calls);
  ::testing::Test::RecordProperty("retried_failures", failures);
  (*nginx)->Signal(SIGQUIT).IgnoreError();
  for (size_t i = 0; i < instances.size(); ++i) {
    EXPECT_EQ(instances[i]->Stop(), 0) << "instance " << i << " must exit cleanly on SIGTERM";
  }
}

}  // namespace
}  // namespace tradein
