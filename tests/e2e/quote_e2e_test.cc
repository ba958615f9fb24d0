// End to end over loopback: the real tradein-server binary, a real gRPC channel, the shipped policies.
// Quote, ListPolicies, GetPolicy, health (Check and Watch), reflection (what grpcurl asks), bad input, drain.
#include <signal.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tradein/v1/policy_service.grpc.pb.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using testing::ServerProcess;

constexpr absl::Duration kDeadline = absl::Seconds(10);

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kDeadline));
  return context;
}

v1::QuoteRequest QuoteFromJson(const std::string& json) {
  v1::QuoteRequest request;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok()) << json;
  return request;
}

// The field paths and reasons carried in a status's google.rpc details.
struct ErrorDetails {
  std::string reason;
  std::vector<std::string> fields;
  std::vector<std::string> descriptions;
};

ErrorDetails DetailsOf(const grpc::Status& status) {
  ErrorDetails out;
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details())) << "no google.rpc.Status in the trailer";
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad_request;
    if (any.UnpackTo(&info)) out.reason = info.reason();
    if (any.UnpackTo(&bad_request)) {
      for (const auto& v : bad_request.field_violations()) {
        out.fields.push_back(v.field());
        out.descriptions.push_back(v.description());
      }
    }
  }
  return out;
}

class QuoteE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  grpc::Status Quote(const v1::QuoteRequest& request, v1::QuoteResponse& response) {
    return v1::SubsidyService::NewStub(server_->channel())->Quote(Context().get(), request, &response);
  }

  static ServerProcess* server_;
};

ServerProcess* QuoteE2eTest::server_ = nullptr;

TEST_F(QuoteE2eTest, ContractExampleAnswersOneThousandYuan) {
  v1::QuoteResponse response;
  const grpc::Status status = Quote(QuoteFromJson(R"({"regionCode":"330381","transactionDate":"2025-03-01",
      "items":[{"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1}]})"),
                                    response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.items_size(), 1);
  const v1::ItemResult& item = response.items(0);
  EXPECT_TRUE(item.eligible());
  EXPECT_EQ(item.subsidy_fen(), 100000);
  EXPECT_EQ(item.rate_bp(), 2000);
  EXPECT_FALSE(item.capped());
  EXPECT_EQ(item.rule_id(), "Z25-APPL");
  EXPECT_EQ(item.explanation(), "5000.00 × 20% = 1000.00; cap 2000.00 not reached");
  EXPECT_EQ(response.policy_id(), "ra-2025");
  EXPECT_EQ(response.total_subsidy_fen(), 100000);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(response, &json).ok());
  EXPECT_THAT(json, HasSubstr(R"("subsidyFen":"100000")"));
}

TEST_F(QuoteE2eTest, MixedBasketGrantsSomeItemsAndExplainsTheOthers) {
  v1::QuoteResponse response;
  const grpc::Status status = Quote(QuoteFromJson(R"({"regionCode":"330381","transactionDate":"2025-03-01",
      "items":[
        {"lineId":"ac","productType":"appliance.air_conditioner","priceFen":"1200000","energyGrade":1,"quantity":2},
        {"lineId":"fridge","productType":"appliance.refrigerator","priceFen":"400000","energyGrade":3},
        {"lineId":"phone","productType":"digital.phone","priceFen":"600001"},
        {"lineId":"car","productType":"car.new","priceFen":"15000000","vehicle":{"tradeInKind":"REPLACEMENT",
          "newEnergyType":"NEV","newInNevCatalogue":true,"oldFuelType":"GASOLINE","oldRegisteredOn":"2019-03-01",
          "oldOwnedSince":"2019-03-01","oldVin":"1M8GDM9AXKP042788"}}]})"),
                                    response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.items_size(), 4);
  EXPECT_EQ(response.items(0).subsidy_fen(), 400000);  // 2 × capped 2000.00
  EXPECT_TRUE(response.items(0).capped());
  EXPECT_FALSE(response.items(1).eligible());
  ASSERT_EQ(response.items(1).reasons_size(), 1);
  EXPECT_EQ(response.items(1).reasons(0).code(), "GRADE_NOT_ELIGIBLE");
  EXPECT_FALSE(response.items(1).reasons(0).message_zh().empty());
  EXPECT_EQ(response.items(2).reasons(0).code(), "PRICE_ABOVE_CEILING");
  EXPECT_EQ(response.items(3).subsidy_fen(), 1200000);
  EXPECT_EQ(response.items(3).rule_id(), "Z25-REPL-NEV");
  EXPECT_EQ(response.total_subsidy_fen(), 400000 + 1200000);
}

TEST_F(QuoteE2eTest, PolicyVersionChangesWithTheYear) {
  v1::QuoteResponse y2025, y2026;
  ASSERT_TRUE(Quote(QuoteFromJson(R"({"regionCode":"330381","transactionDate":"2025-12-31",
      "items":[{"lineId":"1","productType":"appliance.refrigerator","priceFen":"800000","energyGrade":1}]})"),
                    y2025)
                  .ok());
  ASSERT_TRUE(Quote(QuoteFromJson(R"({"regionCode":"330381","transactionDate":"2026-01-01",
      "items":[{"lineId":"1","productType":"appliance.refrigerator","priceFen":"800000","energyGrade":1}]})"),
                    y2026)
                  .ok());
  EXPECT_EQ(y2025.policy_id(), "ra-2025");
  EXPECT_EQ(y2025.items(0).subsidy_fen(), 160000);
  EXPECT_EQ(y2026.policy_id(), "wz-2026");
  EXPECT_EQ(y2026.items(0).subsidy_fen(), 120000);
}

struct BadQuote {
  const char* name;
  std::string json;
  grpc::StatusCode code;
  std::string field;   // expected among the BadRequest field paths ("" = none expected)
  std::string reason;  // expected ErrorInfo reason, or the reason of the violation on `field`
};

std::string Item(const std::string& fields) {
  return absl::StrCat(R"({"regionCode":"330381","transactionDate":"2025-03-01","items":[{"lineId":"1",)",
                      fields, "}]}");
}

std::string Car(const std::string& vehicle) {
  return Item(absl::StrCat(R"("productType":"car.new","priceFen":"15000000","vehicle":{)", vehicle, "}"));
}

constexpr const char* kGoodVehicle =
    R"("tradeInKind":"SCRAPPAGE","newEnergyType":"NEV","newInNevCatalogue":true,"oldFuelType":"GASOLINE",)"
    R"("oldRegisteredOn":"2010-01-01","oldOwnedSince":"2010-01-01")";

std::vector<BadQuote> BadQuotes() {
  const std::string fridge = R"("productType":"appliance.refrigerator","energyGrade":1)";
  std::string many_items = R"({"regionCode":"330381","transactionDate":"2025-03-01","items":[)";
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppend(&many_items, i ? "," : "", R"({"lineId":")", i, R"(",)", fridge, R"(,"priceFen":"100"})");
  }
  many_items += "]}";
  const std::string huge(2 * 1024 * 1024, 'x');
  return {
      {"missing region",
       R"({"transactionDate":"2025-03-01","items":[{"lineId":"1",)" + fridge + R"(,"priceFen":"1"}]})",
       grpc::INVALID_ARGUMENT, "regionCode", "FIELD_REQUIRED"},
      {"region not a code",
       R"({"regionCode":"33038x","transactionDate":"2025-03-01","items":[{"lineId":"1",)" + fridge +
           R"(,"priceFen":"1"}]})",
       grpc::INVALID_ARGUMENT, "regionCode", "REGION_CODE_INVALID"},
      {"missing date", R"({"regionCode":"330381","items":[{"lineId":"1",)" + fridge + R"(,"priceFen":"1"}]})",
       grpc::INVALID_ARGUMENT, "transactionDate", "FIELD_REQUIRED"},
      {"impossible date",
       R"({"regionCode":"330381","transactionDate":"2025-02-29","items":[{"lineId":"1",)" + fridge +
           R"(,"priceFen":"1"}]})",
       grpc::INVALID_ARGUMENT, "transactionDate", "DATE_INVALID"},
      {"empty items", R"({"regionCode":"330381","transactionDate":"2025-03-01"})", grpc::INVALID_ARGUMENT,
       "items", "ITEMS_REQUIRED"},
      {"a thousand items", many_items, grpc::INVALID_ARGUMENT, "items", "TOO_MANY_ITEMS"},
      {"unknown product type", Item(R"("productType":"appliance.toaster","priceFen":"100")"),
       grpc::INVALID_ARGUMENT, "items[0].productType", "UNKNOWN_PRODUCT_TYPE"},
      {"negative price", Item(fridge + R"(,"priceFen":"-1")"), grpc::INVALID_ARGUMENT, "items[0].priceFen",
       "PRICE_OUT_OF_RANGE"},
      {"zero price", Item(fridge + R"(,"priceFen":"0")"), grpc::INVALID_ARGUMENT, "items[0].priceFen",
       "PRICE_OUT_OF_RANGE"},
      {"absurd price", Item(fridge + R"(,"priceFen":"9000000000000000000")"), grpc::INVALID_ARGUMENT,
       "items[0].priceFen", "PRICE_OUT_OF_RANGE"},
      {"quantity zero", Item(fridge + R"(,"priceFen":"100","quantity":0)"), grpc::INVALID_ARGUMENT,
       "items[0].quantity", "QUANTITY_OUT_OF_RANGE"},
      {"quantity negative", Item(fridge + R"(,"priceFen":"100","quantity":-3)"), grpc::INVALID_ARGUMENT,
       "items[0].quantity", "QUANTITY_OUT_OF_RANGE"},
      {"quantity huge", Item(fridge + R"(,"priceFen":"100","quantity":2000000000)"), grpc::INVALID_ARGUMENT,
       "items[0].quantity", "QUANTITY_OUT_OF_RANGE"},
      {"grade six", Item(R"("productType":"appliance.refrigerator","energyGrade":6,"priceFen":"100")"),
       grpc::INVALID_ARGUMENT, "items[0].energyGrade", "GRADE_OUT_OF_RANGE"},
      {"car without vehicle", Item(R"("productType":"car.new","priceFen":"15000000")"),
       grpc::INVALID_ARGUMENT, "items[0].vehicle", "FIELD_REQUIRED"},
      {"vehicle on a fridge", Item(fridge + R"(,"priceFen":"100","vehicle":{"tradeInKind":"SCRAPPAGE"})"),
       grpc::INVALID_ARGUMENT, "items[0]", "DETAILS_NOT_EXPECTED"},
      {"car without trade-in kind",
       Car(R"("newEnergyType":"NEV","oldFuelType":"GASOLINE",)"
           R"("oldRegisteredOn":"2010-01-01","oldOwnedSince":"2010-01-01",)"
           R"("oldVin":"1M8GDM9AXKP042788")"),
       grpc::INVALID_ARGUMENT, "items[0].vehicle.tradeInKind", "FIELD_REQUIRED"},
      {"car without VIN", Car(kGoodVehicle), grpc::INVALID_ARGUMENT, "items[0].vehicle.oldVin",
       "FIELD_REQUIRED"},
      {"VIN failing its check digit", Car(absl::StrCat(kGoodVehicle, R"(,"oldVin":"1M8GDM9AYKP042788")")),
       grpc::INVALID_ARGUMENT, "items[0].vehicle.oldVin", "VIN_CHECK_DIGIT"},
      {"new car's VIN failing its check digit",
       Car(absl::StrCat(kGoodVehicle, R"(,"oldVin":"1M8GDM9AXKP042788","newVin":"LFV3A23C5P3000005")")),
       grpc::INVALID_ARGUMENT, "items[0].vehicle.newVin", "VIN_CHECK_DIGIT"},
      {"a new car's VIN on a line of two cars",
       Item(absl::StrCat(R"("productType":"car.new","priceFen":"15000000","quantity":2,"vehicle":{)",
                         kGoodVehicle, R"(,"oldVin":"1M8GDM9AXKP042788","newVin":"LFV3A23C4P3000001"})")),
       grpc::INVALID_ARGUMENT, "items[0].quantity", "QUANTITY_OUT_OF_RANGE"},
      {"the same new car on two lines",
       absl::StrCat(R"({"regionCode":"330381","transactionDate":"2025-03-01","items":[)",
                    R"({"lineId":"a","productType":"car.new","priceFen":"15000000","vehicle":{)",
                    kGoodVehicle, R"(,"oldVin":"1M8GDM9AXKP042788","newVin":"LFV3A23C4P3000001"}},)",
                    R"({"lineId":"b","productType":"car.new","priceFen":"15000000","vehicle":{)",
                    kGoodVehicle, R"(,"oldVin":"LSVAU218XN2183294","newVin":"lfv3a23c4p3000001"}}]})"),
       grpc::INVALID_ARGUMENT, "items[1].vehicle.newVin", "DUPLICATE_VIN"},
      {"fuel car without displacement",
       Car(R"("tradeInKind":"SCRAPPAGE","newEnergyType":"FUEL","oldFuelType":"GASOLINE",)"
           R"("oldRegisteredOn":"2010-01-01","oldOwnedSince":"2010-01-01","oldVin":"1M8GDM9AXKP042788")"),
       grpc::INVALID_ARGUMENT, "items[0].vehicle.newDisplacementMl", "FIELD_REQUIRED"},
      {"renovation without home", Item(R"("productType":"renovation.old_home","priceFen":"100")"),
       grpc::INVALID_ARGUMENT, "items[0].home", "FIELD_REQUIRED"},
      {"megabyte line id",
       absl::StrCat(R"({"regionCode":"330381","transactionDate":"2025-03-01","items":[{"lineId":")", huge,
                    R"(",)", fridge, R"(,"priceFen":"100"}]})"),
       grpc::INVALID_ARGUMENT, "items[0].lineId", "FIELD_TOO_LONG"},
      {"duplicate line ids",
       absl::StrCat(R"({"regionCode":"330381","transactionDate":"2025-03-01","items":[{"lineId":"a",)",
                    fridge, R"(,"priceFen":"100"},{"lineId":"a",)", fridge, R"(,"priceFen":"100"}]})"),
       grpc::INVALID_ARGUMENT, "items[1].lineId", "DUPLICATE_LINE_ID"},
      {"unknown policy id",
       R"({"regionCode":"330381","transactionDate":"2025-03-01","policyId":"xx-1999","items":[{"lineId":"1",)" +
           fridge + R"(,"priceFen":"100"}]})",
       grpc::NOT_FOUND, "", "POLICY_NOT_FOUND"},
      {"another region's policy",
       R"({"regionCode":"110000","transactionDate":"2025-03-01","policyId":"ra-2025","items":[{"lineId":"1",)" +
           fridge + R"(,"priceFen":"100"}]})",
       grpc::INVALID_ARGUMENT, "policyId", "POLICY_NOT_FOR_REGION"},
      {"no policy in force",
       R"({"regionCode":"330381","transactionDate":"2024-06-01","items":[{"lineId":"1",)" + fridge +
           R"(,"priceFen":"100"}]})",
       grpc::NOT_FOUND, "", "NO_POLICY_IN_FORCE"},
      {"bad buyer id",
       R"({"regionCode":"330381","transactionDate":"2025-03-01","buyer":{"idType":"PRC_ID","idNumber":"110105194912310021"},"items":[{"lineId":"1",)" +
           fridge + R"(,"priceFen":"100"}]})",
       grpc::INVALID_ARGUMENT, "buyer.idNumber", "ID_NUMBER_CHECK_DIGIT"},
  };
}

TEST_F(QuoteE2eTest, EveryBadRequestIsInvalidArgumentNamingFieldAndReason) {
  for (const BadQuote& bad : BadQuotes()) {
    SCOPED_TRACE(bad.name);
    v1::QuoteRequest request;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(bad.json, &request).ok());
    v1::QuoteResponse response;
    const grpc::Status status = Quote(request, response);
    EXPECT_EQ(status.error_code(), bad.code) << status.error_message();
    const ErrorDetails details = DetailsOf(status);
    if (bad.field.empty()) {
      EXPECT_EQ(details.reason, bad.reason);
      continue;
    }
    bool found = false;
    for (size_t i = 0; i < details.fields.size(); ++i) {
      found |= details.fields[i] == bad.field && details.descriptions[i].rfind(bad.reason + ":", 0) == 0;
    }
    EXPECT_TRUE(found) << "no violation " << bad.field << " " << bad.reason
                       << " in: " << status.error_message();
    EXPECT_LT(status.error_message().size(), 10000u) << "an error must not echo megabytes of input";
  }
}

TEST_F(QuoteE2eTest, ListPoliciesShowsEveryPolicyWithItsVersion) {
  auto stub = v1::PolicyService::NewStub(server_->channel());
  v1::ListPoliciesResponse all;
  ASSERT_TRUE(stub->ListPolicies(Context().get(), {}, &all).ok());
  std::set<std::string> ids;
  for (const auto& p : all.policies()) {
    ids.insert(p.policy_id());
    EXPECT_EQ(p.version().size(), 16u) << p.policy_id();
  }
  EXPECT_THAT(ids, IsSupersetOf({"cn-2025", "zj-2025", "ra-2025", "cn-2026", "wz-2026"}));
  EXPECT_FALSE(all.snapshot_version().empty());

  v1::ListPoliciesRequest in_force;
  in_force.set_region_code("330381");
  in_force.set_transaction_date("2025-03-01");
  v1::ListPoliciesResponse filtered;
  ASSERT_TRUE(stub->ListPolicies(Context().get(), in_force, &filtered).ok());
  std::set<std::string> filtered_ids;
  for (const auto& p : filtered.policies()) filtered_ids.insert(p.policy_id());
  EXPECT_EQ(filtered_ids, (std::set<std::string>{"cn-2025", "zj-2025", "ra-2025"}));
}

TEST_F(QuoteE2eTest, GetPolicyServesTheMergedRules) {
  auto stub = v1::PolicyService::NewStub(server_->channel());
  v1::GetPolicyRequest by_id;
  by_id.set_policy_id("ra-2025");
  v1::Policy ruian;
  ASSERT_TRUE(stub->GetPolicy(Context().get(), by_id, &ruian).ok());
  std::set<std::string> rules;
  for (const auto& rule : ruian.rules()) rules.insert(rule.id());
  EXPECT_THAT(rules, IsSupersetOf({"Z25-APPL", "Z25-FURN", "RA25-EBIKE", "N25-DIG"}));
  EXPECT_FALSE(rules.contains("N25-APPL"));
  EXPECT_EQ(ruian.inherits(), "zj-2025");
  EXPECT_EQ(ruian.source_files(0), "ra-2025.textproto");
  // Where each value was written: Zhejiang's car claim window on the national scrappage rule, whose amount is
  // the national file's.
  std::map<std::string, std::pair<std::string, int>> origins;
  for (const v1::ValueOrigin& o : ruian.value_origins()) origins[o.field()] = {o.file(), o.line()};
  ASSERT_TRUE(origins.contains("rules[N25-SCRAP-NEV].claim_window"));
  EXPECT_EQ(origins["rules[N25-SCRAP-NEV].claim_window"].first, "zj-2025.textproto");
  EXPECT_GT(origins["rules[N25-SCRAP-NEV].claim_window"].second, 0);
  ASSERT_TRUE(origins.contains("rules[N25-SCRAP-NEV].flat"));
  EXPECT_EQ(origins["rules[N25-SCRAP-NEV].flat"].first, "cn-2025.textproto");
  EXPECT_EQ(origins["budgets[ra-2025-ebike].total_fen"].first, "ra-2025.textproto");
  // Output only: the content hash does not depend on it.
  EXPECT_EQ(ruian.version().size(), 16u);

  v1::GetPolicyRequest by_date;
  by_date.set_region_code("330100");
  by_date.set_transaction_date("2026-05-01");
  v1::Policy national;
  ASSERT_TRUE(stub->GetPolicy(Context().get(), by_date, &national).ok());
  EXPECT_EQ(national.id(), "cn-2026");

  v1::GetPolicyRequest unknown;
  unknown.set_policy_id("nope");
  v1::Policy none;
  EXPECT_EQ(stub->GetPolicy(Context().get(), unknown, &none).error_code(), grpc::NOT_FOUND);
}

TEST_F(QuoteE2eTest, HealthReportsEachServiceAndRefusesUnknownOnes) {
  auto stub = grpc::health::v1::Health::NewStub(server_->channel());
  for (const char* service : {"", "tradein.v1.SubsidyService", "tradein.v1.PolicyService"}) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(stub->Check(Context().get(), request, &response).ok()) << service;
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  grpc::health::v1::HealthCheckRequest unknown;
  unknown.set_service("no.such.Service");
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_EQ(stub->Check(Context().get(), unknown, &response).error_code(), grpc::NOT_FOUND);
}

// What grpcurl does with no proto files: list services, then fetch the descriptors of a symbol.
TEST_F(QuoteE2eTest, ReflectionDescribesServicesHealthAndErrorDetails) {
  using grpc::reflection::v1alpha::ServerReflection;
  using grpc::reflection::v1alpha::ServerReflectionRequest;
  using grpc::reflection::v1alpha::ServerReflectionResponse;
  auto stub = ServerReflection::NewStub(server_->channel());
  auto context = Context();
  auto stream = stub->ServerReflectionInfo(context.get());

  ServerReflectionRequest list;
  list.set_list_services("*");
  ASSERT_TRUE(stream->Write(list));
  ServerReflectionResponse listed;
  ASSERT_TRUE(stream->Read(&listed));
  std::set<std::string> services;
  for (const auto& s : listed.list_services_response().service()) services.insert(s.name());
  EXPECT_THAT(services, IsSupersetOf({"tradein.v1.SubsidyService", "tradein.v1.ClaimService",
                                      "tradein.v1.PolicyService", "grpc.health.v1.Health"}));

  for (const char* symbol : {"grpc.health.v1.Health", "google.rpc.BadRequest", "google.rpc.ErrorInfo",
                             "tradein.v1.SubsidyService", "tradein.v1.Policy"}) {
    SCOPED_TRACE(symbol);
    ServerReflectionRequest describe;
    describe.set_file_containing_symbol(symbol);
    ASSERT_TRUE(stream->Write(describe));
    ServerReflectionResponse described;
    ASSERT_TRUE(stream->Read(&described));
    EXPECT_TRUE(described.has_file_descriptor_response());
    EXPECT_GT(described.file_descriptor_response().file_descriptor_proto_size(), 0);
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// A server that cannot load its policies does not start, and says which file and field are wrong.
TEST(ServerStartE2eTest, BrokenPolicyDirectoryRefusesToStart) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string copy =
      absl::StrCat("cp ", testing::ShippedPolicyDir(), "/*.textproto ", dir->path(),
                   " && sed -i 's/rate_bp: 2000/rate_bp: 20000/' ", dir->path(), "/zj-2025.textproto");
  ASSERT_EQ(std::system(copy.c_str()), 0);
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start({absl::StrCat("--policy_dir=", dir->path())}, {}, absl::Seconds(10));
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("zj-2025.textproto:"));
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("rate_bp"));
}

// SIGTERM: health turns NOT_SERVING for watchers, then the process exits cleanly within its grace period.
TEST(ServerStartE2eTest, SigtermDrainsAndExitsCleanly) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start({"--shutdown_grace=2s"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = grpc::health::v1::Health::NewStub((*server)->channel());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  grpc::health::v1::HealthCheckRequest request;
  auto watch = stub->Watch(&context, request);
  grpc::health::v1::HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  ASSERT_TRUE((*server)->process().Signal(SIGTERM).ok());
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  const absl::StatusOr<int> exit_code = (*server)->process().Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

}  // namespace
}  // namespace tradein
