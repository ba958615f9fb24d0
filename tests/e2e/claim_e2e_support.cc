#include "tests/e2e/claim_e2e_support.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "tests/e2e/till_load.h"

namespace tradein::testing {

namespace fs = std::filesystem;

absl::Status CopyPoliciesWithEdits(const std::string& target, const std::vector<PolicyEdit>& edits) {
  fs::create_directories(target);
  for (const fs::directory_entry& entry : fs::directory_iterator(ShippedPolicyDir())) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    std::string content = text.str();
    for (const PolicyEdit& edit : edits) {
      if (entry.path().filename() != edit.file) continue;
      if (content.find(edit.from) == std::string::npos) {
        return absl::NotFoundError(absl::StrCat(edit.file, " has no \"", edit.from, "\""));
      }
      absl::StrReplaceAll({{edit.from, edit.to}}, &content);
    }
    std::ofstream(fs::path(target) / entry.path().filename()) << content;
  }
  return absl::OkStatus();
}

std::string StoreModeName(const ::testing::TestParamInfo<StoreMode>& info) {
  return info.param == StoreMode::kMemory ? "Memory" : "Redis";
}

absl::Status ToAbsl(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::string PrcId(int n) {
  // Born on 1 January 1990 for n < 1000, a year earlier for each further thousand.
  std::string id = absl::StrFormat("330381%04d0101%03d", 1990 - n / 1000 % 50, n % 1000);
  static constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (id[static_cast<size_t>(i)] - '0') * kWeights[i];
  id.push_back("10X98765432"[sum % 11]);
  return id;
}

std::unique_ptr<grpc::ClientContext> ClaimE2eTest::NewContext(absl::Duration deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  for (const auto& [key, value] : call_metadata_) context->AddMetadata(key, value);
  return context;
}

bool ClaimE2eTest::StartServer(const std::vector<PolicyEdit>& edits, const std::string& simulated_now,
                               std::vector<std::string> extra_args) {
  absl::StatusOr<TempDir> dir = TempDir::Create("tradein-claim-e2e-");
  EXPECT_TRUE(dir.ok()) << dir.status();
  if (!dir.ok()) return false;
  dir_ = *std::move(dir);
  const std::string policies = dir_->Join("policies");
  const absl::Status copied = CopyPoliciesWithEdits(policies, edits);
  EXPECT_TRUE(copied.ok()) << copied;
  if (!copied.ok()) return false;
  std::vector<std::string> args = {absl::StrCat("--policy_dir=", policies),
                                   absl::StrCat("--simulated_now=", simulated_now), "--sweep_interval=100ms"};
  if (GetParam() == StoreMode::kRedis) {
    RedisServerOptions options;
    options.appendonly = true;
    absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start(options);
    EXPECT_TRUE(redis.ok()) << redis.status();
    if (!redis.ok()) return false;
    redis_ = *std::move(redis);
    const std::string key_file = dir_->Join("buyer.key");
    std::ofstream(key_file) << "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
    fs::permissions(key_file, fs::perms::owner_read | fs::perms::owner_write);
    args.push_back(absl::StrCat("--redis=", redis_->url()));
    args.push_back(absl::StrCat("--buyer_key_file=", key_file));
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(args);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return false;
  server_ = *std::move(server);
  return true;
}

v1::ClaimRequest ClaimE2eTest::ClaimRequest(const std::string& request_id, const std::string& buyer,
                                            const std::string& item_json, const std::string& date) {
  v1::ClaimRequest request;
  const std::string json =
      absl::StrCat(R"({"requestId":")", request_id, R"(","retailerId":"shop-1","regionCode":"330381",)",
                   R"("transactionDate":")", date, R"(","buyer":{"idType":"PRC_ID","idNumber":")", buyer,
                   R"("},"items":[)", item_json, "]}");
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok()) << json;
  return request;
}

absl::StatusOr<v1::Claim> ClaimE2eTest::Claim(const v1::ClaimRequest& request, absl::Duration deadline) {
  v1::Claim response;
  const grpc::Status status =
      v1::ClaimService::NewStub(channel())->Claim(NewContext(deadline).get(), request, &response);
  return Answer(status, std::move(response));
}

absl::StatusOr<v1::Claim> ClaimE2eTest::Confirm(
    const std::string& claim_id, const std::string& invoice,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& serials) {
  v1::ConfirmClaimRequest request;
  request.set_claim_id(claim_id);
  request.set_invoice_number(invoice);
  for (const auto& [line, numbers] : serials) {
    v1::LineSerials* entry = request.add_line_serials();
    entry->set_line_id(line);
    for (const std::string& n : numbers) entry->add_serial_numbers(n);
  }
  v1::Claim response;
  const grpc::Status status =
      v1::ClaimService::NewStub(channel())->ConfirmClaim(NewContext().get(), request, &response);
  return Answer(status, std::move(response));
}

absl::StatusOr<v1::Claim> ClaimE2eTest::Cancel(const std::string& claim_id) {
  v1::CancelClaimRequest request;
  request.set_claim_id(claim_id);
  v1::Claim response;
  const grpc::Status status =
      v1::ClaimService::NewStub(channel())->CancelClaim(NewContext().get(), request, &response);
  return Answer(status, std::move(response));
}

absl::StatusOr<v1::Claim> ClaimE2eTest::Refund(const std::string& claim_id, const std::string& request_id) {
  v1::RefundClaimRequest request;
  request.set_claim_id(claim_id);
  request.set_request_id(request_id);
  v1::Claim response;
  const grpc::Status status =
      v1::ClaimService::NewStub(channel())->RefundClaim(NewContext().get(), request, &response);
  return Answer(status, std::move(response));
}

absl::StatusOr<v1::Claim> ClaimE2eTest::Get(const std::string& claim_id) {
  v1::GetClaimRequest request;
  request.set_claim_id(claim_id);
  v1::Claim response;
  const grpc::Status status =
      v1::ClaimService::NewStub(channel())->GetClaim(NewContext().get(), request, &response);
  return Answer(status, std::move(response));
}

absl::StatusOr<v1::BuyerUsage> ClaimE2eTest::Usage(const std::string& buyer, const std::string& date) {
  v1::GetBuyerUsageRequest request;
  request.mutable_buyer()->set_id_type(v1::Buyer::PRC_ID);
  request.mutable_buyer()->set_id_number(buyer);
  request.set_region_code("330381");
  request.set_transaction_date(date);
  v1::BuyerUsage response;
  const grpc::Status status =
      v1::ClaimService::NewStub(channel())->GetBuyerUsage(NewContext().get(), request, &response);
  return Answer(status, std::move(response));
}

absl::StatusOr<v1::BudgetUsage> ClaimE2eTest::BudgetUsage(const std::string& region,
                                                          const std::string& date) {
  v1::GetBudgetUsageRequest request;
  request.set_region_code(region);
  request.set_transaction_date(date);
  v1::BudgetUsage response;
  const grpc::Status status =
      v1::ClaimService::NewStub(channel())->GetBudgetUsage(NewContext().get(), request, &response);
  return Answer(status, std::move(response));
}

int ClaimE2eTest::UnitsUsed(const std::string& buyer, const std::string& product_type) {
  absl::StatusOr<v1::BuyerUsage> usage = Usage(buyer);
  if (!usage.ok()) {
    std::cerr << "GetBuyerUsage: " << usage.status() << std::endl;
    return -1;
  }
  for (const v1::QuotaUsage& quota : usage->quotas()) {
    if (quota.product_type() == product_type) return quota.used_units();
  }
  return -1;
}

int ClaimE2eTest::FridgeUnitsUsed(const std::string& buyer) {
  return UnitsUsed(buyer, "appliance.refrigerator");
}

int ClaimE2eTest::AirConditionerUnitsUsed(const std::string& buyer) {
  return UnitsUsed(buyer, "appliance.air_conditioner");
}

std::vector<absl::StatusOr<v1::Claim>> ClaimE2eTest::ClaimConcurrently(
    const std::vector<v1::ClaimRequest>& requests) {
  struct Call {
    grpc::ClientContext context;
    v1::Claim response;
  };
  std::unique_ptr<v1::ClaimService::Stub> stub = v1::ClaimService::NewStub(channel());
  // Every call's state exists before the first call starts: a callback reads
  // its own Call while later calls are still being started.
  std::vector<Call> calls(requests.size());
  std::vector<absl::StatusOr<v1::Claim>> answers(requests.size(), absl::UnknownError("no answer"));
  absl::Mutex mu;
  size_t pending = requests.size();
  absl::Notification all_done;
  for (size_t i = 0; i < requests.size(); ++i) {
    Call& call = calls[i];
    call.context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    for (const auto& [key, value] : call_metadata_) call.context.AddMetadata(key, value);
    stub->async()->Claim(&call.context, &requests[i], &call.response, [&, i](grpc::Status status) {
      absl::MutexLock lock(&mu);
      answers[i] = status.ok() ? absl::StatusOr<v1::Claim>(calls[i].response) : ToAbsl(status);
      if (--pending == 0) all_done.Notify();
    });
  }
  EXPECT_TRUE(all_done.WaitForNotificationWithTimeout(absl::Seconds(120)));
  absl::MutexLock lock(&mu);
  const RetryPolicy till;  // what a till retries, and for how long
  const absl::Time give_up = absl::Now() + till.give_up_after;
  const auto retryable = [&till](const absl::Status& status) {
    return till.retryable.count(static_cast<grpc::StatusCode>(status.code())) > 0;  // the same numbers
  };
  int retries = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    while (retryable(answers[i].status()) && absl::Now() < give_up) {
      if (retries++ == 0)
        std::cout << "retrying " << requests[i].request_id() << ": " << answers[i].status() << "\n";
      answers[i] = Claim(requests[i]);
    }
  }
  if (retries > 0) RecordNumber("concurrent_claims_retried", retries);
  return answers;
}

void ClaimE2eTest::RecordNumber(const std::string& name, int64_t value) {
  RecordProperty(name, std::to_string(value));
  std::cout << "[number] " << name << " = " << value << std::endl;
}

}  // namespace tradein::testing
