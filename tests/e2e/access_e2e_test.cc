// Access control end to end: the real tradein-server with a callers file written by the test, real gRPC calls
// with bearer keys. Every method of every service × every kind of caller → the expected code (the README's
// matrix is printed from the run), another retailer's claims look exactly like claims that do not exist,
// regions, rate limits with RetryInfo, and reloading the callers file on SIGHUP.
#include <signal.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/temp_dir.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/policy_service.grpc.pb.h"
#include "tradein/v1/portal_service.grpc.pb.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein {
namespace {

using testing::CallerSpec;
using testing::CodeName;
using testing::ContextWithKey;
using ::testing::HasSubstr;
using testing::PrcId;
using testing::ReasonOf;
using testing::ServerProcess;

constexpr const char* kNow = "2025-06-01T10:00:00+08:00";
constexpr const char* kToday = "2025-06-01";
constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";

// What a cell of the matrix must answer.
enum class Want {
  kOk,
  kUnauthenticated,
  kDenied,
  kNotFound,
};

std::string WantName(Want want) {
  switch (want) {
    case Want::kOk:
      return "OK";
    case Want::kUnauthenticated:
      return "UNAUTHENTICATED";
    case Want::kDenied:
      return "PERMISSION_DENIED";
    case Want::kNotFound:
      return "NOT_FOUND";
  }
  return "?";
}

bool Satisfies(grpc::StatusCode code, Want want) {
  switch (want) {
    case Want::kOk:
      return code == grpc::OK;
    case Want::kUnauthenticated:
      return code == grpc::UNAUTHENTICATED;
    case Want::kDenied:
      return code == grpc::PERMISSION_DENIED;
    case Want::kNotFound:
      return code == grpc::NOT_FOUND;
  }
  return false;
}

class AccessE2eTest : public ::testing::TestWithParam<testing::StoreMode> {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-access-e2e-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));
    callers_path_ = dir_->Join("callers.textproto");
    ASSERT_TRUE(testing::WriteFile(callers_path_, testing::CallersFileText(Callers())).ok());
    std::vector<std::string> args = {absl::StrCat("--callers_file=", callers_path_),
                                     absl::StrCat("--simulated_now=", kNow)};
    if (GetParam() == testing::StoreMode::kRedis) {
      absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis = testing::RedisServer::Start();
      ASSERT_TRUE(redis.ok()) << redis.status();
      redis_ = *std::move(redis);
      const std::string key_file = dir_->Join("buyer.key");
      ASSERT_TRUE(testing::WriteFile(key_file, "0123456789abcdef0123456789abcdef0123456789abcdef\n").ok());
      std::filesystem::permissions(key_file,
                                   std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
      args.push_back(absl::StrCat("--redis=", redis_->url()));
      args.push_back(absl::StrCat("--buyer_key_file=", key_file));
    }
    absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(args);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::vector<CallerSpec> Callers() const {
    return {
        {"shop-1", "RETAILER", "shop-1", {"330381"}, {shop1_key_}, {}, 10000, 10000},
        {"shop-2", "RETAILER", "shop-2", {"110000"}, {shop2_key_}, {}, 10000, 10000},
        {"portal", "PORTAL", "", {}, {portal_key_}, {}, 10000, 10000},
        {"admin", "ADMIN", "", {}, {admin_key_}, {}, 10000, 10000},
        {"tiny", "RETAILER", "shop-tiny", {"330381"}, {tiny_key_}, {}, 1, 3},
        // "As fast as you like" written as a number rather than 0.
        {"fast", "PORTAL", "", {}, {fast_key_}, {}, 2'000'000'000, 1},
    };
  }

  std::shared_ptr<grpc::Channel> channel() const { return server_->channel(); }

  v1::ClaimRequest ClaimRequestFor(const std::string& retailer, const std::string& region, int buyer) {
    v1::ClaimRequest request;
    const std::string json = absl::StrCat(R"({"requestId":"req-)", ++request_counter_, R"(","retailerId":")",
                                          retailer, R"(","regionCode":")", region, R"(","transactionDate":")",
                                          kToday, R"(","buyer":{"idType":"PRC_ID","idNumber":")",
                                          PrcId(buyer), R"("},"items":[)", kFridge, "]}");
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok()) << json;
    return request;
  }

  // A new RESERVED claim of shop-1 (a buyer of its own), confirmed when `confirm`.
  absl::StatusOr<v1::Claim> Shop1Claim(bool confirm) {
    v1::Claim claim;
    grpc::Status status = v1::ClaimService::NewStub(channel())->Claim(
        ContextWithKey(shop1_key_).get(), ClaimRequestFor("shop-1", "330381", ++buyer_counter_), &claim);
    if (!status.ok()) return absl::InternalError(absl::StrCat("shop-1 Claim: ", status.error_message()));
    if (claim.state() != v1::Claim::RESERVED) return absl::InternalError("shop-1's claim is not RESERVED");
    if (!confirm) return claim;
    v1::ConfirmClaimRequest request;
    request.set_claim_id(claim.claim_id());
    request.set_invoice_number(absl::StrCat("INV-", buyer_counter_));
    status =
        v1::ClaimService::NewStub(channel())->ConfirmClaim(ContextWithKey(shop1_key_).get(), request, &claim);
    if (!status.ok()) return absl::InternalError(absl::StrCat("shop-1 Confirm: ", status.error_message()));
    return claim;
  }

  std::optional<testing::TempDir> dir_;
  std::string callers_path_;
  std::unique_ptr<testing::RedisServer> redis_;  // Redis mode only
  std::unique_ptr<ServerProcess> server_;
  const std::string shop1_key_ = testing::NewApiKey();
  const std::string shop2_key_ = testing::NewApiKey();
  const std::string portal_key_ = testing::NewApiKey();
  const std::string admin_key_ = testing::NewApiKey();
  const std::string tiny_key_ = testing::NewApiKey();
  const std::string fast_key_ = testing::NewApiKey();
  int request_counter_ = 0;
  int buyer_counter_ = 100;
};

// One method called as each kind of caller.
struct MatrixRow {
  std::string method;
  std::function<grpc::Status(const std::string& key)> call;
  std::array<Want, 6> want;  // none, unknown key, shop-1, shop-2, portal, admin
};

TEST_P(AccessE2eTest, EveryMethodAsEveryKindOfCallerAnswersTheMatrixCode) {
  const std::array<std::string, 6> columns = {"no credentials",       "unknown key", "shop-1",
                                              "shop-2 (on shop-1's)", "portal",      "admin"};
  const std::array<std::string, 6> keys = {"",         testing::NewApiKey(), shop1_key_,
                                           shop2_key_, portal_key_,          admin_key_};
  absl::StatusOr<v1::Claim> shared_claim = Shop1Claim(false);
  ASSERT_TRUE(shared_claim.ok()) << shared_claim.status();

  constexpr Want U = Want::kUnauthenticated, D = Want::kDenied, O = Want::kOk, N = Want::kNotFound;
  auto fresh = [this](bool confirm) {
    absl::StatusOr<v1::Claim> claim = Shop1Claim(confirm);
    EXPECT_TRUE(claim.ok()) << claim.status();
    return claim.ok() ? claim->claim_id() : std::string("0000-NOCLAIM");
  };
  const std::vector<MatrixRow> rows = {
      {"grpc.health.v1.Health/Check",
       [&](const std::string& key) {
         grpc::health::v1::HealthCheckResponse response;
         return grpc::health::v1::Health::NewStub(channel())->Check(ContextWithKey(key).get(), {}, &response);
       },
       {O, O, O, O, O, O}},
      {"ServerReflection/ServerReflectionInfo",
       [&](const std::string& key) {
         auto context = ContextWithKey(key);
         auto stream = grpc::reflection::v1alpha::ServerReflection::NewStub(channel())->ServerReflectionInfo(
             context.get());
         grpc::reflection::v1alpha::ServerReflectionRequest request;
         request.set_list_services("*");
         grpc::reflection::v1alpha::ServerReflectionResponse response;
         const bool answered = stream->Write(request) && stream->Read(&response);
         stream->WritesDone();
         const grpc::Status status = stream->Finish();
         if (status.ok() && (!answered || response.list_services_response().service_size() == 0)) {
           return grpc::Status(grpc::StatusCode::INTERNAL, "reflection listed no services");
         }
         return status;
       },
       {O, O, O, O, O, O}},
      {"SubsidyService/Quote",
       [&](const std::string& key) {
         v1::QuoteRequest request;
         EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                         absl::StrCat(R"({"regionCode":"330381","transactionDate":")", kToday,
                                      R"(","items":[)", kFridge, "]}"),
                         &request)
                         .ok());
         v1::QuoteResponse response;
         return v1::SubsidyService::NewStub(channel())->Quote(ContextWithKey(key).get(), request, &response);
       },
       {U, U, O, O, O, O}},
      {"PolicyService/ListPolicies",
       [&](const std::string& key) {
         v1::ListPoliciesResponse response;
         return v1::PolicyService::NewStub(channel())->ListPolicies(ContextWithKey(key).get(), {}, &response);
       },
       {U, U, O, O, O, O}},
      {"PolicyService/GetPolicy",
       [&](const std::string& key) {
         v1::GetPolicyRequest request;
         request.set_policy_id("ra-2025");
         v1::Policy response;
         return v1::PolicyService::NewStub(channel())->GetPolicy(ContextWithKey(key).get(), request,
                                                                 &response);
       },
       {U, U, O, O, O, O}},
      {"ClaimService/Claim",  // every caller names shop-1 as the retailer
       [&](const std::string& key) {
         v1::Claim response;
         return v1::ClaimService::NewStub(channel())->Claim(
             ContextWithKey(key).get(), ClaimRequestFor("shop-1", "330381", ++buyer_counter_), &response);
       },
       {U, U, O, D, D, D}},
      {"ClaimService/ConfirmClaim",
       [&](const std::string& key) {
         v1::ConfirmClaimRequest request;
         request.set_claim_id(fresh(false));
         request.set_invoice_number("INV-M");
         v1::Claim response;
         return v1::ClaimService::NewStub(channel())->ConfirmClaim(ContextWithKey(key).get(), request,
                                                                   &response);
       },
       {U, U, O, N, D, D}},
      {"ClaimService/CancelClaim",
       [&](const std::string& key) {
         v1::CancelClaimRequest request;
         request.set_claim_id(fresh(false));
         v1::Claim response;
         return v1::ClaimService::NewStub(channel())->CancelClaim(ContextWithKey(key).get(), request,
                                                                  &response);
       },
       {U, U, O, N, D, D}},
      {"ClaimService/RefundClaim",
       [&](const std::string& key) {
         v1::RefundClaimRequest request;
         request.set_claim_id(fresh(true));
         request.set_request_id("refund-m");
         v1::Claim response;
         return v1::ClaimService::NewStub(channel())->RefundClaim(ContextWithKey(key).get(), request,
                                                                  &response);
       },
       {U, U, O, N, D, D}},
      {"ClaimService/GetClaim",
       [&](const std::string& key) {
         v1::GetClaimRequest request;
         request.set_claim_id(shared_claim->claim_id());
         v1::Claim response;
         return v1::ClaimService::NewStub(channel())->GetClaim(ContextWithKey(key).get(), request, &response);
       },
       {U, U, O, N, O, O}},
      {"ClaimService/GetBuyerUsage",
       [&](const std::string& key) {
         v1::GetBuyerUsageRequest request;
         request.mutable_buyer()->set_id_type(v1::Buyer::PRC_ID);
         request.mutable_buyer()->set_id_number(PrcId(1));
         request.set_region_code("330381");
         request.set_transaction_date(kToday);
         v1::BuyerUsage response;
         return v1::ClaimService::NewStub(channel())->GetBuyerUsage(ContextWithKey(key).get(), request,
                                                                    &response);
       },
       {U, U, O, O, O, O}},
      {"ClaimService/GetBudgetUsage",
       [&](const std::string& key) {
         v1::GetBudgetUsageRequest request;
         request.set_region_code("330381");
         request.set_transaction_date(kToday);
         v1::BudgetUsage response;
         return v1::ClaimService::NewStub(channel())->GetBudgetUsage(ContextWithKey(key).get(), request,
                                                                     &response);
       },
       {U, U, O, O, O, O}},
      {"PortalService/ListClaims",
       [&](const std::string& key) {
         v1::ListClaimsRequest request;
         request.set_from_date(kToday);
         request.set_to_date(kToday);
         v1::ListClaimsResponse response;
         return v1::PortalService::NewStub(channel())->ListClaims(ContextWithKey(key).get(), request,
                                                                  &response);
       },
       {U, U, D, D, O, O}},
      {"PortalService/ExportClaims",
       [&](const std::string& key) {
         v1::ExportClaimsRequest request;
         request.set_from_date(kToday);
         request.set_to_date(kToday);
         auto context = ContextWithKey(key);
         auto reader = v1::PortalService::NewStub(channel())->ExportClaims(context.get(), request);
         v1::ExportedClaim exported;
         while (reader->Read(&exported)) {
         }
         return reader->Finish();
       },
       {U, U, D, D, O, O}},
      {"PortalService/GetTotals",
       [&](const std::string& key) {
         v1::GetTotalsRequest request;
         request.set_from_date(kToday);
         request.set_to_date(kToday);
         v1::Totals response;
         return v1::PortalService::NewStub(channel())->GetTotals(ContextWithKey(key).get(), request,
                                                                 &response);
       },
       {U, U, D, D, O, O}},
      {"PortalService/ReloadPolicies",
       [&](const std::string& key) {
         v1::ReloadPoliciesResponse response;
         return v1::PortalService::NewStub(channel())->ReloadPolicies(ContextWithKey(key).get(), {},
                                                                      &response);
       },
       {U, U, D, D, D, O}},
      {"PortalService/VoidClaim",
       [&](const std::string& key) {
         v1::VoidClaimRequest request;
         request.set_claim_id(fresh(true));
         request.set_request_id("void-m");
         request.set_reason("end-to-end access test");
         v1::Claim response;
         return v1::PortalService::NewStub(channel())->VoidClaim(ContextWithKey(key).get(), request,
                                                                 &response);
       },
       {U, U, D, D, D, O}},
      {"PortalService/CorrectClaim",
       [&](const std::string& key) {
         v1::CorrectClaimRequest request;
         request.set_claim_id(fresh(true));
         request.set_request_id("correct-m");
         request.set_reason("end-to-end access test");
         v1::LineCorrection* line = request.add_lines();
         line->set_line_id("1");
         line->set_subsidy_fen(50000);
         v1::Claim response;
         return v1::PortalService::NewStub(channel())->CorrectClaim(ContextWithKey(key).get(), request,
                                                                    &response);
       },
       {U, U, D, D, D, O}},
  };

  std::string table = absl::StrCat("| method | ", absl::StrJoin(columns, " | "), " |\n|---|");
  for (size_t c = 0; c < columns.size(); ++c) table += "---|";
  table += "\n";
  int cells = 0;
  for (const MatrixRow& row : rows) {
    table += absl::StrCat("| ", row.method, " |");
    for (size_t c = 0; c < columns.size(); ++c) {
      const grpc::Status status = row.call(keys[c]);
      ++cells;
      EXPECT_TRUE(Satisfies(status.error_code(), row.want[c]))
          << row.method << " as " << columns[c] << ": expected " << WantName(row.want[c]) << ", got "
          << CodeName(status.error_code()) << " " << ReasonOf(status) << " \"" << status.error_message()
          << "\"";
      table += absl::StrCat(" ", CodeName(status.error_code()), " |");
    }
    table += "\n";
  }
  table +=
      "\nshop-2 acts on shop-1's claims (no retailerId: NOT_FOUND, as for a claim that does not exist) and "
      "names retailerId shop-1 in Claim (PERMISSION_DENIED).\n";
  const std::string mode = GetParam() == testing::StoreMode::kRedis ? "redis" : "memory";
  std::cout << "\n[access matrix] " << mode << " store, " << cells << " calls\n" << table << std::endl;
  RecordProperty("access_matrix", table);
  const std::string out = absl::StrCat(TRADEIN_E2E_OUTPUT_DIR, "/access_matrix.", mode, ".md");
  std::ofstream(out) << table;
  std::cout << "[access matrix] written to " << out << std::endl;
}

// NOT_FOUND for another retailer's claim must not tell it apart from a claim that does not exist.
TEST_P(AccessE2eTest, AnotherRetailersClaimLooksExactlyLikeNoClaim) {
  absl::StatusOr<v1::Claim> reserved = Shop1Claim(false);
  absl::StatusOr<v1::Claim> confirmed = Shop1Claim(true);
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  // Same tag (slot), another suffix: well formed, never issued.
  auto missing_like = [](std::string id) {
    id.back() = id.back() == 'a' ? 'b' : 'a';
    return id;
  };
  auto stub = v1::ClaimService::NewStub(channel());
  using Call = std::function<grpc::Status(const std::string& key, const std::string& claim_id)>;
  const std::vector<std::tuple<std::string, Call, std::string>> operations = {
      {"GetClaim",
       [&](const std::string& key, const std::string& id) {
         v1::GetClaimRequest request;
         request.set_claim_id(id);
         v1::Claim response;
         return stub->GetClaim(ContextWithKey(key).get(), request, &response);
       },
       reserved->claim_id()},
      {"ConfirmClaim",
       [&](const std::string& key, const std::string& id) {
         v1::ConfirmClaimRequest request;
         request.set_claim_id(id);
         v1::Claim response;
         return stub->ConfirmClaim(ContextWithKey(key).get(), request, &response);
       },
       reserved->claim_id()},
      {"CancelClaim",
       [&](const std::string& key, const std::string& id) {
         v1::CancelClaimRequest request;
         request.set_claim_id(id);
         v1::Claim response;
         return stub->CancelClaim(ContextWithKey(key).get(), request, &response);
       },
       reserved->claim_id()},
      {"RefundClaim",
       [&](const std::string& key, const std::string& id) {
         v1::RefundClaimRequest request;
         request.set_claim_id(id);
         request.set_request_id("refund-other");
         v1::Claim response;
         return stub->RefundClaim(ContextWithKey(key).get(), request, &response);
       },
       confirmed->claim_id()},
  };
  for (const auto& [name, call, claim_id] : operations) {
    SCOPED_TRACE(name);
    const grpc::Status others = call(shop2_key_, claim_id);
    const grpc::Status none_shop2 = call(shop2_key_, missing_like(claim_id));
    const grpc::Status none_shop1 = call(shop1_key_, missing_like(claim_id));
    const grpc::Status malformed = call(shop2_key_, "not-a-claim-id");
    for (const grpc::Status* status : {&others, &none_shop2, &none_shop1, &malformed}) {
      EXPECT_EQ(status->error_code(), grpc::NOT_FOUND)
          << CodeName(status->error_code()) << " " << status->error_message();
    }
    EXPECT_EQ(others.error_message(), none_shop2.error_message());
    EXPECT_EQ(others.error_message(), none_shop1.error_message());
    EXPECT_EQ(ReasonOf(others), ReasonOf(none_shop2));
    EXPECT_EQ(ReasonOf(others), ReasonOf(none_shop1));
    EXPECT_EQ(others.error_details(), none_shop2.error_details()) << "the details must not differ either";
  }
  // shop-2's attempts changed nothing.
  v1::GetClaimRequest get;
  v1::Claim now;
  get.set_claim_id(reserved->claim_id());
  ASSERT_TRUE(stub->GetClaim(ContextWithKey(shop1_key_).get(), get, &now).ok());
  EXPECT_EQ(now.state(), v1::Claim::RESERVED);
  get.set_claim_id(confirmed->claim_id());
  ASSERT_TRUE(stub->GetClaim(ContextWithKey(shop1_key_).get(), get, &now).ok());
  EXPECT_EQ(now.state(), v1::Claim::CONFIRMED);
  EXPECT_EQ(now.refunded_fen(), 0);

  // Naming a retailerId that is not the caller's own is PERMISSION_DENIED whatever the claim.
  for (const auto& [key, retailer] : {std::pair{shop2_key_, "shop-1"}, std::pair{shop1_key_, "shop-2"}}) {
    v1::ConfirmClaimRequest confirm;
    confirm.set_claim_id(reserved->claim_id());
    confirm.set_retailer_id(retailer);
    v1::Claim response;
    const grpc::Status status = stub->ConfirmClaim(ContextWithKey(key).get(), confirm, &response);
    EXPECT_EQ(status.error_code(), grpc::PERMISSION_DENIED) << retailer;
    EXPECT_EQ(ReasonOf(status), "RETAILER_MISMATCH") << retailer;
    v1::CancelClaimRequest cancel;
    cancel.set_claim_id(reserved->claim_id());
    cancel.set_retailer_id(retailer);
    EXPECT_EQ(stub->CancelClaim(ContextWithKey(key).get(), cancel, &response).error_code(),
              grpc::PERMISSION_DENIED)
        << retailer;
    v1::RefundClaimRequest refund;
    refund.set_claim_id(confirmed->claim_id());
    refund.set_request_id("refund-mismatch");
    refund.set_retailer_id(retailer);
    EXPECT_EQ(stub->RefundClaim(ContextWithKey(key).get(), refund, &response).error_code(),
              grpc::PERMISSION_DENIED)
        << retailer;
  }
}

TEST_P(AccessE2eTest, ClaimsOnlyInTheRetailersRegionsAndForItself) {
  auto stub = v1::ClaimService::NewStub(channel());
  struct Case {
    std::string who;
    std::string key;
    std::string retailer;
    std::string region;
    grpc::StatusCode want;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"shop-1 in its region", shop1_key_, "shop-1", "330381", grpc::OK, ""},
      {"shop-1 without retailerId", shop1_key_, "", "330381", grpc::OK, ""},
      {"shop-1 in Beijing", shop1_key_, "shop-1", "110101", grpc::PERMISSION_DENIED, "REGION_NOT_ALLOWED"},
      {"shop-1 in Wenzhou (330381's parent)", shop1_key_, "shop-1", "330300", grpc::PERMISSION_DENIED,
       "REGION_NOT_ALLOWED"},
      {"shop-2 in Rui'an", shop2_key_, "shop-2", "330381", grpc::PERMISSION_DENIED, "REGION_NOT_ALLOWED"},
      {"shop-2 for shop-1", shop2_key_, "shop-1", "110101", grpc::PERMISSION_DENIED, "RETAILER_MISMATCH"},
  };
  for (const Case& c : cases) {
    v1::Claim claim;
    const grpc::Status status = stub->Claim(ContextWithKey(c.key).get(),
                                            ClaimRequestFor(c.retailer, c.region, ++buyer_counter_), &claim);
    EXPECT_EQ(status.error_code(), c.want)
        << c.who << ": " << CodeName(status.error_code()) << " " << status.error_message();
    EXPECT_EQ(ReasonOf(status), c.reason) << c.who;
    if (status.ok()) {
      EXPECT_EQ(claim.retailer_id(), "shop-1") << c.who;
    }
  }
  // Inside one of its regions (110101 is inside 110000): access control lets it through; whatever the
  // policies then say is not an access error.
  v1::Claim claim;
  const grpc::Status inside = stub->Claim(ContextWithKey(shop2_key_).get(),
                                          ClaimRequestFor("shop-2", "110101", ++buyer_counter_), &claim);
  EXPECT_NE(inside.error_code(), grpc::PERMISSION_DENIED) << inside.error_message();
  EXPECT_NE(inside.error_code(), grpc::UNAUTHENTICATED) << inside.error_message();
  if (inside.ok()) {
    EXPECT_EQ(claim.retailer_id(), "shop-2");
  }
}

TEST_P(AccessE2eTest, HealthAndReflectionNeedNoCredentials) {
  grpc::health::v1::HealthCheckResponse health;
  ASSERT_TRUE(
      grpc::health::v1::Health::NewStub(channel())->Check(ContextWithKey("").get(), {}, &health).ok());
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  auto context = ContextWithKey("");
  auto stream =
      grpc::reflection::v1alpha::ServerReflection::NewStub(channel())->ServerReflectionInfo(context.get());
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_file_containing_symbol("tradein.v1.ClaimService");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  // ... while the services themselves do.
  v1::ListPoliciesResponse policies;
  const grpc::Status status =
      v1::PolicyService::NewStub(channel())->ListPolicies(ContextWithKey("").get(), {}, &policies);
  EXPECT_EQ(status.error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(ReasonOf(status), "UNAUTHENTICATED");
}

TEST_P(AccessE2eTest, EmptyBucketIsResourceExhaustedWithRetryInfoAndOthersAreUnaffected) {
  auto stub = v1::PolicyService::NewStub(channel());
  grpc::Status limited;
  int answered = 0;
  // 1 request/s, burst 3: at most 3 + (seconds elapsed) calls pass; 200 calls cannot all pass unless they
  // take minutes.
  for (int i = 0; i < 200 && limited.ok(); ++i) {
    v1::ListPoliciesResponse response;
    const grpc::Status status = stub->ListPolicies(ContextWithKey(tiny_key_).get(), {}, &response);
    if (status.ok()) {
      ++answered;
    } else {
      limited = status;
    }
  }
  ASSERT_EQ(limited.error_code(), grpc::RESOURCE_EXHAUSTED) << limited.error_message();
  EXPECT_GE(answered, 3) << "the burst is 3";
  EXPECT_EQ(ReasonOf(limited), "RATE_LIMITED");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(limited.error_details()));
  bool has_retry_info = false;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (!any.UnpackTo(&retry)) continue;
    has_retry_info = true;
    const int64_t nanos = retry.retry_delay().seconds() * 1'000'000'000 + retry.retry_delay().nanos();
    EXPECT_GT(nanos, 0);
    EXPECT_LE(nanos, 1'000'000'000) << "one token per second: never more than a second away";
  }
  EXPECT_TRUE(has_retry_info) << details.DebugString();

  // Another caller's bucket is its own.
  v1::ListPoliciesResponse response;
  EXPECT_TRUE(stub->ListPolicies(ContextWithKey(shop1_key_).get(), {}, &response).ok());
  // And the tiny caller gets a token back after waiting (bounded poll, not a timing assertion).
  EXPECT_TRUE(testing::WaitUntil(
      [&] { return stub->ListPolicies(ContextWithKey(tiny_key_).get(), {}, &response).ok(); },
      absl::Seconds(30)));
}

TEST_P(AccessE2eTest, SighupReloadsCallersAndABrokenFileKeepsTheLastGoodOnes) {
  auto stub = v1::PolicyService::NewStub(channel());
  auto works = [&](const std::string& key) {
    v1::ListPoliciesResponse response;
    return stub->ListPolicies(ContextWithKey(key).get(), {}, &response).error_code();
  };
  const std::string late_key = testing::NewApiKey();
  ASSERT_EQ(works(late_key), grpc::UNAUTHENTICATED);

  // Add "late", drop "shop-2".
  std::vector<CallerSpec> callers = Callers();
  callers.erase(callers.begin() + 1);
  callers.push_back({"late", "PORTAL", "", {}, {late_key}, {}, 0, 0});
  ASSERT_TRUE(testing::WriteFile(callers_path_, testing::CallersFileText(callers)).ok());
  ASSERT_TRUE(server_->process().Signal(SIGHUP).ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return works(late_key) == grpc::OK; }, absl::Seconds(30)))
      << "a caller added to the file must work after SIGHUP, without a restart\n"
      << server_->Stderr();
  EXPECT_EQ(works(shop2_key_), grpc::UNAUTHENTICATED) << "a caller removed from the file must stop working";
  EXPECT_EQ(works(shop1_key_), grpc::OK);
  const int pid_before = server_->process().pid();

  // A broken file: the last good table stays.
  const auto failures = [&] {
    const std::string log = server_->Stderr();
    int count = 0;
    for (size_t at = log.find("\"reload_failed\""); at != std::string::npos;
         at = log.find("\"reload_failed\"", at + 1)) {
      ++count;
    }
    return count;
  };
  const int failures_before = failures();
  ASSERT_TRUE(testing::WriteFile(callers_path_, "callers { id: \"x\" role: NO_SUCH_ROLE }\n").ok());
  ASSERT_TRUE(server_->process().Signal(SIGHUP).ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return failures() > failures_before; }, absl::Seconds(30)))
      << server_->Stderr();
  EXPECT_EQ(works(late_key), grpc::OK);
  EXPECT_EQ(works(shop1_key_), grpc::OK);
  EXPECT_EQ(works(shop2_key_), grpc::UNAUTHENTICATED);
  EXPECT_THAT(server_->Stderr(), HasSubstr("callers.textproto"));

  // The admin reload says so too, and keeps the table as well.
  v1::ReloadPoliciesResponse reloaded;
  const grpc::Status reload =
      v1::PortalService::NewStub(channel())->ReloadPolicies(ContextWithKey(admin_key_).get(), {}, &reloaded);
  EXPECT_EQ(reload.error_code(), grpc::FAILED_PRECONDITION) << reload.error_message();
  EXPECT_THAT(reload.error_message(), HasSubstr("callers.textproto"));
  EXPECT_EQ(works(late_key), grpc::OK);

  // A semantically invalid file (two callers share a key) is refused whole as well.
  callers.push_back({"dup", "PORTAL", "", {}, {late_key}, {}, 0, 0});
  ASSERT_TRUE(testing::WriteFile(callers_path_, testing::CallersFileText(callers)).ok());
  const int failures_mid = failures();
  ASSERT_TRUE(server_->process().Signal(SIGHUP).ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return failures() > failures_mid; }, absl::Seconds(30)))
      << server_->Stderr();
  EXPECT_EQ(works(late_key), grpc::OK);
  EXPECT_TRUE(server_->process().Running());
  EXPECT_EQ(server_->process().pid(), pid_before);
}

// A callers file with a problem: the server does not start, and says which file and entry.
TEST(AccessStartE2eTest, BrokenCallersFileRefusesToStart) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-access-e2e-");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->Join("callers.textproto");
  ASSERT_TRUE(testing::WriteFile(
                  path, testing::CallersFileText({{"shop-9", "RETAILER", "shop-9", {}, {"k"}, {}, 0, 0}}))
                  .ok());
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start({absl::StrCat("--callers_file=", path)}, {}, absl::Seconds(30));
  ASSERT_FALSE(server.ok());
  // The reason is the start_failed JSON log line on stderr (quotes escaped), naming the entry's line and
  // column.
  EXPECT_THAT(std::string(server.status().message()),
              HasSubstr(R"(callers.textproto:2:1: callers[0] (\"shop-9\"))"));
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("region_codes"));
}

// --- Regression tests of defects these tests found (all fixed).

// Was a defect: the access line of a refused call has "caller":"" even when the credentials named a known
// caller (PERMISSION_DENIED, RESOURCE_EXHAUSTED): authorize.h records the caller only on success, so an
// operator cannot see who tried what it may not do.
TEST_P(AccessE2eTest, AccessLineNamesAKnownCallerThatWasRefused) {
  v1::Claim claim;
  const grpc::Status status = v1::ClaimService::NewStub(channel())->Claim(
      ContextWithKey(portal_key_, "x-denied-portal").get(),
      ClaimRequestFor("shop-1", "330381", ++buyer_counter_), &claim);
  ASSERT_EQ(status.error_code(), grpc::PERMISSION_DENIED);
  std::string line;
  ASSERT_TRUE(testing::WaitUntil([&] {
    const std::string log = server_->Stderr();
    const size_t at = log.find("\"request_id\":\"x-denied-portal\"");
    if (at == std::string::npos) return false;
    const size_t begin = log.rfind('\n', at);
    line = log.substr(begin == std::string::npos ? 0 : begin + 1, log.find('\n', at) - begin);
    return true;
  }));
  EXPECT_THAT(line, HasSubstr("\"caller\":\"portal\"")) << line;
}

// Was a defect: "authorization: bearer <key>" (lower-case scheme) is UNAUTHENTICATED; the scheme is
// case-insensitive (RFC 7235 section 2.1, RFC 6750), and the gateway passes the header on as the client wrote
// it.
TEST_P(AccessE2eTest, BearerSchemeIsCaseInsensitive) {
  for (const char* scheme : {"Bearer", "bearer", "BEARER"}) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context.AddMetadata("authorization", absl::StrCat(scheme, " ", shop1_key_));
    v1::ListPoliciesResponse response;
    EXPECT_TRUE(v1::PolicyService::NewStub(channel())->ListPolicies(&context, {}, &response).ok()) << scheme;
  }
}

// Was a defect: AccessControl::TakeToken computes `tokens_nanos + elapsed_nanos * rate` in int64 without a
// cap on elapsed time: it overflows once elapsed × rate > 9.2e18, i.e. after 4.6 s idle at 2e9
// requests/s, 25.6 h at 100,000/s, 10.7 days at 10,000/s. The bucket then goes hugely negative and the caller
// is RESOURCE_EXHAUSTED for about as long again (signed overflow is also undefined behaviour). It also reads
// the wall clock: a clock stepped back drains every bucket the same way.
TEST_P(AccessE2eTest, AHighRateLimitSurvivesAnIdlePeriod) {
  auto stub = v1::PolicyService::NewStub(channel());
  v1::ListPoliciesResponse response;
  ASSERT_TRUE(stub->ListPolicies(ContextWithKey(fast_key_).get(), {}, &response).ok());
  absl::SleepFor(absl::Seconds(6));  // idle: not a timing assertion, the overflow needs elapsed × rate > 2^63
  const grpc::Status status = stub->ListPolicies(ContextWithKey(fast_key_).get(), {}, &response);
  EXPECT_TRUE(status.ok()) << CodeName(status.error_code()) << " " << status.error_message();
}

INSTANTIATE_TEST_SUITE_P(Stores, AccessE2eTest,
                         ::testing::Values(testing::StoreMode::kMemory, testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
