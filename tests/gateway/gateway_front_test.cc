// The gateway's routes come from the google.api.http annotations and nothing else; every route of the table
// is in the OpenAPI document; the front answers a wrong method 405 with Allow, a preflight per the CORS
// origin list, its own paths, and builds the request message from path, query and body.
#include "services/gateway/gateway_front.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/api/annotations.pb.h"
#include "gtest/gtest.h"
#include "services/gateway/openapi.h"
#include "services/gateway/routes.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/policy_service.pb.h"

namespace tradein::gateway {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

http::HttpRequest Request(std::string method, std::string path, std::string query = "") {
  http::HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query = std::move(query);
  return request;
}

class GatewayFrontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<GatewayFront>> front =
        GatewayFront::Create(GatewayOptions{{"https://portal.example.cn"}});
    ASSERT_TRUE(front.ok()) << front.status();
    front_ = *std::move(front);
  }
  std::unique_ptr<GatewayFront> front_;
};

TEST(RouteTableTest, EveryAnnotatedMethodOfThePublicServicesIsARouteAndNothingElse) {
  absl::StatusOr<RouteTable> table = RouteTable::Build(RouteTable::PublicServices());
  ASSERT_TRUE(table.ok()) << table.status();
  std::set<std::string> annotated;
  for (const auto* service : RouteTable::PublicServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      // Every public RPC has its route: a new one without an annotation would be missing from the gateway.
      EXPECT_TRUE(service->method(i)->options().HasExtension(google::api::http))
          << service->method(i)->full_name();
      annotated.insert(service->method(i)->full_name());
    }
  }
  std::set<std::string> routed;
  for (const Route& route : table->routes()) routed.insert(route.method->full_name());
  EXPECT_EQ(routed, annotated);
  EXPECT_EQ(table->routes().size(), annotated.size());
}

TEST(RouteTableTest, FindsTheVariableAndTellsTheMethodsOfAKnownPath) {
  absl::StatusOr<RouteTable> table = RouteTable::Build(RouteTable::PublicServices());
  ASSERT_TRUE(table.ok()) << table.status();
  RouteTable::Match confirm = table->Find("POST", "/v1/claims/c-42:confirm");
  ASSERT_NE(confirm.route, nullptr);
  EXPECT_EQ(confirm.route->method->name(), "ConfirmClaim");
  EXPECT_EQ(confirm.variable, "c-42");
  RouteTable::Match get = table->Find("GET", "/v1/claims/c-42");
  ASSERT_NE(get.route, nullptr);
  EXPECT_EQ(get.route->method->name(), "GetClaim");
  RouteTable::Match wrong = table->Find("DELETE", "/v1/claims/c-42");
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_EQ(wrong.allowed, std::vector<std::string>({"GET"}));
  EXPECT_TRUE(table->Find("GET", "/v1/claims/a/b").allowed.empty());
  EXPECT_TRUE(table->Find("POST", "/v1/claims/:confirm").allowed.empty());  // an empty variable
}

TEST(RouteTableTest, RefusesAnAnnotationItCannotServeNamingTheMethod) {
  // ClaimService in a pool of its own, its first method re-annotated: PUT is not served.
  google::protobuf::FileDescriptorProto file;
  v1::ClaimRequest::descriptor()->file()->CopyTo(&file);
  google::protobuf::DescriptorPool pool;
  for (const auto* dependency :
       {google::protobuf::FileDescriptorProto::descriptor()->file(),
        google::api::HttpRule::descriptor()->file(),
        google::api::HttpRule::descriptor()->file()->pool()->FindFileByName("google/api/annotations.proto"),
        google::protobuf::Timestamp::descriptor()->file(),
        v1::ClaimRequest::descriptor()->file()->dependency(2)}) {
    ASSERT_NE(dependency, nullptr);
    google::protobuf::FileDescriptorProto proto;
    dependency->CopyTo(&proto);
    pool.BuildFile(proto);
  }
  auto* rule =
      file.mutable_service(0)->mutable_method(0)->mutable_options()->MutableExtension(google::api::http);
  rule->set_put("/v1/claims");
  const google::protobuf::FileDescriptor* built = pool.BuildFile(file);
  ASSERT_NE(built, nullptr);
  absl::StatusOr<RouteTable> table = RouteTable::Build({built->service(0)});
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(table.status().message(), HasSubstr("ClaimService.Claim"));
}

TEST(OpenApiTest, DocumentsEveryRouteWithItsMethodAndSchemas) {
  absl::StatusOr<RouteTable> table = RouteTable::Build(RouteTable::PublicServices());
  ASSERT_TRUE(table.ok()) << table.status();
  const std::string document = OpenApiDocument(*table);
  EXPECT_THAT(document, HasSubstr("\"openapi\": \"3.0.3\""));
  for (const Route& route : table->routes()) {
    EXPECT_THAT(document, HasSubstr(absl::StrCat("\"", route.path, "\": {"))) << route.path;
    EXPECT_THAT(document, HasSubstr(absl::StrCat("\"operationId\": \"", route.method->service()->name(), "_",
                                                 route.method->name(), "\"")));
  }
  EXPECT_THAT(document, HasSubstr("\"tradein.v1.ClaimRequest\": {"));
  EXPECT_THAT(document, HasSubstr("\"google.rpc.Status\": {"));
  EXPECT_EQ(document, OpenApiDocument(*table));  // the same protos, the same bytes
}

TEST_F(GatewayFrontTest, AWrongMethodOnAKnownPathIs405WithAllow) {
  Translation translation = front_->Translate(Request("POST", "/v1/policies"));
  ASSERT_TRUE(translation.answer.has_value());
  EXPECT_EQ(translation.answer->status, 405);
  EXPECT_THAT(translation.answer->headers, Contains(Pair("Allow", "GET, OPTIONS")));
  EXPECT_THAT(translation.answer->body, HasSubstr("METHOD_NOT_ALLOWED"));
  EXPECT_EQ(front_->Translate(Request("GET", "/v1/no-such-route")).answer->status, 404);
}

TEST_F(GatewayFrontTest, PreflightFromAListedOriginIsAllowedAndFromAnotherRefused) {
  http::HttpRequest preflight = Request("OPTIONS", "/v1/claims/c-1:confirm");
  preflight.headers = {{"Origin", "https://portal.example.cn"}, {"Access-Control-Request-Method", "POST"}};
  Translation allowed = front_->Translate(preflight);
  ASSERT_TRUE(allowed.answer.has_value());
  EXPECT_EQ(allowed.answer->status, 204);
  EXPECT_THAT(allowed.answer->headers, Contains(Pair("Access-Control-Allow-Methods", "POST, OPTIONS")));
  EXPECT_THAT(allowed.answer->headers,
              Contains(Pair("Access-Control-Allow-Headers", "authorization, content-type, x-request-id")));
  EXPECT_THAT(allowed.cors_headers,
              Contains(Pair("Access-Control-Allow-Origin", "https://portal.example.cn")));

  preflight.headers[0].second = "https://evil.example";
  Translation refused = front_->Translate(preflight);
  ASSERT_TRUE(refused.answer.has_value());
  EXPECT_EQ(refused.answer->status, 403);
  EXPECT_THAT(refused.answer->body, HasSubstr("CORS_ORIGIN_NOT_ALLOWED"));
  EXPECT_TRUE(refused.cors_headers.empty());
}

TEST_F(GatewayFrontTest, OwnPathsAnswerWithoutACallButReadiness) {
  Translation health = front_->Translate(Request("GET", "/healthz"));
  ASSERT_TRUE(health.answer.has_value());
  EXPECT_EQ(health.answer->status, 200);
  Translation openapi = front_->Translate(Request("GET", "/v1/openapi.json"));
  ASSERT_TRUE(openapi.answer.has_value());
  EXPECT_EQ(openapi.answer->body, front_->openapi());
  Translation ready = front_->Translate(Request("GET", "/readyz"));
  EXPECT_FALSE(ready.answer.has_value());
  EXPECT_TRUE(ready.readiness);
  EXPECT_EQ(ready.method->full_name(), "grpc.health.v1.Health.Check");
  EXPECT_EQ(front_->Translate(Request("POST", "/healthz")).answer->status, 405);
}

TEST_F(GatewayFrontTest, BuildsTheRequestFromPathQueryAndHeaders) {
  http::HttpRequest request = Request("GET", "/v1/policies", "regionCode=330381&transactionDate=2025-06-01");
  request.headers = {{"X-Request-Id", "r-1"}, {"Authorization", "Bearer k"}};
  Translation translation = front_->Translate(request);
  ASSERT_FALSE(translation.answer.has_value()) << translation.answer->body;
  EXPECT_EQ(translation.method->name(), "ListPolicies");
  const auto& list = dynamic_cast<const v1::ListPoliciesRequest&>(*translation.request);
  EXPECT_EQ(list.region_code(), "330381");
  EXPECT_THAT(translation.metadata, Contains(Pair("x-request-id", "r-1")));
  EXPECT_THAT(translation.metadata, Contains(Pair("authorization", "Bearer k")));

  Translation confirm = front_->Translate(Request("POST", "/v1/claims/c%2D7:confirm"));
  ASSERT_FALSE(confirm.answer.has_value());
  EXPECT_EQ(dynamic_cast<const v1::ConfirmClaimRequest&>(*confirm.request).claim_id(), "c-7");
}

}  // namespace
}  // namespace tradein::gateway
