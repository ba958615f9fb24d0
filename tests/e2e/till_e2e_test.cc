// What a till and the people who onboard it meet, end to end over real gRPC (issue 12, items 1-3): errors in
// Chinese (google.rpc.LocalizedMessage zh-CN) naming states and roles, the reason catalogue over the API,
// product names and Chinese explanations on answers; a shop onboarded with `tradeinctl caller add` and
// claiming with its new key, the banner's `try:` line with authentication on, callers-file problems with
// file, line and column in ReloadPolicies' answer and the log; re-confirming with another invoice; IMEIs.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/reasons.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/policy_service.grpc.pb.h"
#include "tradein/v1/portal_service.grpc.pb.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein {
namespace {

using ::testing::AllOf;
using testing::ChineseOf;
using testing::ClaimE2eTest;
using ::testing::HasSubstr;
using testing::PrcId;
using testing::ReasonOf;

constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";
constexpr const char* kPhone = R"({"lineId":"1","productType":"digital.phone","priceFen":"300000"})";

std::string CtlPath() { return absl::StrCat(TRADEIN_BINARY_DIR, "/tools/tradeinctl/tradeinctl"); }

// The value of the line "PREFIX..." in `text`, or "".
std::string LineAfter(const std::string& text, absl::string_view prefix) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, prefix)) return std::string(line);
  }
  return "";
}

class TillE2eTest : public ClaimE2eTest {
 protected:
  grpc::Status ConfirmRaw(const std::string& claim_id, const std::string& invoice,
                          const std::vector<std::string>& serials, v1::Claim& answer) {
    v1::ConfirmClaimRequest request;
    request.set_claim_id(claim_id);
    request.set_invoice_number(invoice);
    if (!serials.empty()) {
      v1::LineSerials* line = request.add_line_serials();
      line->set_line_id("1");
      for (const std::string& serial : serials) line->add_serial_numbers(serial);
    }
    return v1::ClaimService::NewStub(channel())->ConfirmClaim(NewContext().get(), request, &answer);
  }

  // Runs `tradeinctl caller add ARGS --callers_file=FILE`; returns the new key ("" on failure).
  std::string AddCaller(const std::vector<std::string>& args, const std::string& file) {
    std::vector<std::string> argv = {CtlPath(), "caller", "add", absl::StrCat("--callers_file=", file)};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<testing::ToolRun> run = testing::RunTool(argv);
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return "";
    EXPECT_EQ(run->exit_code, 0) << run->err;
    return LineAfter(run->out, "key: ");
  }
};

TEST_P(TillE2eTest, ErrorsReachTheTillInChineseNamingTheState) {
  ASSERT_TRUE(StartServer({}));
  absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest("zh-1", PrcId(1), kFridge));
  ASSERT_TRUE(claim.ok()) << claim.status();
  // Receipts: the product's names and the explanation in Chinese.
  EXPECT_EQ(claim->items(0).product_name_zh(), "冰箱(含冰柜)");
  EXPECT_EQ(claim->items(0).product_name(), "Refrigerator (incl. freezer)");
  EXPECT_EQ(claim->items(0).explanation_zh(),
            absl::StrReplaceAll(claim->items(0).explanation(),
                                {{"; cap ", "；单件上限 "}, {" not reached", " 未达到"}}))
      << claim->items(0).explanation();
  EXPECT_THAT(claim->items(0).explanation_zh(), HasSubstr("单件上限"));
  ASSERT_TRUE(Confirm(claim->claim_id(), "INV-1", {}).ok());

  v1::CancelClaimRequest cancel;
  cancel.set_claim_id(claim->claim_id());
  v1::Claim answer;
  const grpc::Status status =
      v1::ClaimService::NewStub(channel())->CancelClaim(NewContext().get(), cancel, &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(status), "WRONG_STATE");
  EXPECT_EQ(status.error_message(), "a CONFIRMED claim cannot be cancelled");
  EXPECT_EQ(ChineseOf(status), "该申领状态为已确认（CONFIRMED），不能取消");
  std::cout << "WRONG_STATE as the till sees it: " << status.error_message() << " / " << ChineseOf(status)
            << "\n";

  // The same error through tradeinctl, a real client printing the details.
  absl::StatusOr<testing::ToolRun> ctl = testing::RunTool(
      {CtlPath(), absl::StrCat("--server=", server().address()), "cancel", claim->claim_id()});
  ASSERT_TRUE(ctl.ok()) << ctl.status();
  EXPECT_EQ(ctl->exit_code, 1);
  EXPECT_THAT(ctl->err, HasSubstr("中文     该申领状态为已确认（CONFIRMED），不能取消 (zh-CN)")) << ctl->err;
  std::cout << "tradeinctl cancel " << claim->claim_id() << ":\n" << ctl->err;

  // Bad input: each field with its reason's Chinese text.
  v1::QuoteRequest quote;
  quote.set_region_code("330381");
  quote.set_transaction_date("2025-06-01");
  v1::Item* item = quote.add_items();
  item->set_line_id("1");
  item->set_product_type("appliance.refrigerator");
  item->set_price_fen(-5);
  v1::QuoteResponse quoted;
  const grpc::Status bad = v1::SubsidyService::NewStub(channel())->Quote(NewContext().get(), quote, &quoted);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ChineseOf(bad), "items[0].priceFen：价格超出允许范围") << bad.error_message();
}

TEST_P(TillE2eTest, TheJsonGatewayCarriesTheChineseTextToo) {
  ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00", {"--http_listen=127.0.0.1:0"}));
  const std::string kLine = "JSON gateway on http://";
  ASSERT_TRUE(testing::WaitUntil([&] { return absl::StrContains(server().Stdout(), "try:"); }));
  const std::string banner = server().Stdout();
  const size_t at = banner.find(kLine);
  ASSERT_NE(at, std::string::npos) << banner;
  const size_t start = at + kLine.size();
  const std::string base = absl::StrCat("http://", banner.substr(start, banner.find('/', start) - start));
  absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest("gw-1", PrcId(5), kFridge));
  ASSERT_TRUE(claim.ok()) << claim.status();
  ASSERT_TRUE(Confirm(claim->claim_id(), "INV-G1", {}).ok());

  absl::StatusOr<testing::ToolRun> curl =
      testing::RunTool({"curl", "-s", "-X", "POST",
                        absl::StrCat(base, "/v1/claims/", claim->claim_id(), ":cancel"), "-d", "{}"});
  ASSERT_TRUE(curl.ok()) << curl.status();
  EXPECT_THAT(curl->out, AllOf(HasSubstr("\"reason\":\"WRONG_STATE\""), HasSubstr("\"locale\":\"zh-CN\""),
                               HasSubstr("该申领状态为已确认（CONFIRMED），不能取消")))
      << curl->out;
  std::cout << "curl -X POST " << base << "/v1/claims/" << claim->claim_id() << ":cancel -d '{}'\n"
            << curl->out << "\n";
  // An error the gateway raises itself carries it as well.
  curl = testing::RunTool({"curl", "-s", absl::StrCat(base, "/v1/policies?nonsense=1")});
  ASSERT_TRUE(curl.ok()) << curl.status();
  EXPECT_THAT(curl->out, AllOf(HasSubstr("QUERY_PARAMETER_UNKNOWN"), HasSubstr("查询参数无效"))) << curl->out;
}

TEST_P(TillE2eTest, TheReasonCatalogueIsServedForTillsToCache) {
  ASSERT_TRUE(StartServer({}));
  v1::ListReasonsResponse reasons;
  const grpc::Status status = v1::PolicyService::NewStub(channel())->ListReasons(
      NewContext().get(), v1::ListReasonsRequest(), &reasons);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(static_cast<size_t>(reasons.reasons_size()), AllReasons().size());
  std::cout << "ListReasons: " << reasons.reasons_size() << " reasons\n";
  bool found = false;
  for (const v1::ReasonInfo& reason : reasons.reasons()) {
    if (reason.code() != "HOLD_EXPIRED") continue;
    found = true;
    EXPECT_EQ(reason.grpc_code(), "FAILED_PRECONDITION");
    EXPECT_EQ(reason.till_action(), v1::ReasonInfo::SHOW_TO_CASHIER);
    EXPECT_EQ(reason.message_zh(), "补贴名额保留已超时，请重新申领");
  }
  EXPECT_TRUE(found);
}

TEST_P(TillE2eTest, ReconfirmingWithAnotherInvoiceNamesBothAndChangesNothing) {
  ASSERT_TRUE(StartServer({}));
  absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest("inv-1", PrcId(2), kFridge));
  ASSERT_TRUE(claim.ok()) << claim.status();
  v1::Claim answer;
  ASSERT_TRUE(ConfirmRaw(claim->claim_id(), "INV-0001", {}, answer).ok());
  // The same invoice, or none: a retry, answered with the claim.
  ASSERT_TRUE(ConfirmRaw(claim->claim_id(), "INV-0001", {}, answer).ok());
  ASSERT_TRUE(ConfirmRaw(claim->claim_id(), "", {}, answer).ok());
  EXPECT_EQ(answer.invoice_number(), "INV-0001");

  const grpc::Status other = ConfirmRaw(claim->claim_id(), "INV-0002", {}, answer);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(other), "INVOICE_MISMATCH");
  EXPECT_THAT(other.error_message(), AllOf(HasSubstr("INV-0001"), HasSubstr("INV-0002")));
  EXPECT_THAT(ChineseOf(other), AllOf(HasSubstr("INV-0001"), HasSubstr("INV-0002")));
  absl::StatusOr<v1::Claim> got = Get(claim->claim_id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->invoice_number(), "INV-0001");
}

TEST_P(TillE2eTest, APhonesSerialNumberMustBeAnImei) {
  ASSERT_TRUE(StartServer({}));
  absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest("phone-1", PrcId(3), kPhone));
  ASSERT_TRUE(claim.ok()) << claim.status();
  ASSERT_EQ(claim->state(), v1::Claim::RESERVED);
  v1::Claim answer;
  const grpc::Status refused = ConfirmRaw(claim->claim_id(), "INV-P1", {"SN-PHONE-1"}, answer);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(refused), "IMEI_INVALID");
  EXPECT_THAT(refused.error_message(), HasSubstr("lineSerials[0].serialNumbers[0]"));
  EXPECT_THAT(ChineseOf(refused), HasSubstr("IMEI须为15位数字"));
  // One digit off (the Luhn check digit catches it) is refused too; nothing was recorded.
  EXPECT_EQ(ReasonOf(ConfirmRaw(claim->claim_id(), "INV-P1", {"490154203237517"}, answer)), "IMEI_INVALID");
  absl::StatusOr<v1::Claim> still = Get(claim->claim_id());
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(still->state(), v1::Claim::RESERVED);

  const grpc::Status confirmed = ConfirmRaw(claim->claim_id(), "INV-P1", {"490154203237518"}, answer);
  ASSERT_TRUE(confirmed.ok()) << confirmed.error_message();
  EXPECT_EQ(answer.state(), v1::Claim::CONFIRMED);
  EXPECT_EQ(answer.items(0).serial_numbers(0), "490154203237518");
}

TEST_P(TillE2eTest, AShopOnboardedWithTradeinctlClaimsWithItsKey) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-till-e2e-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string callers = dir->Join("callers.textproto");
  const std::string shop_key =
      AddCaller({"--role=RETAILER", "--retailer=shop-1", "--regions=330381", "--id=ruian-till-1"}, callers);
  const std::string admin_key = AddCaller({"--role=ADMIN", "--id=ops"}, callers);
  ASSERT_TRUE(absl::StartsWith(shop_key, "tk_")) << shop_key;
  ASSERT_NE(shop_key, admin_key);
  // A retailer without regions is a usage error; an id already in the file leaves the file as it was.
  const std::string before = testing::ReadFile(callers);
  absl::StatusOr<testing::ToolRun> usage =
      testing::RunTool({CtlPath(), "caller", "add", "--role=RETAILER", "--retailer=shop-9"});
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->exit_code, 2);
  EXPECT_THAT(usage->err, HasSubstr("--regions"));
  usage = testing::RunTool(
      {CtlPath(), "caller", "add", "--role=ADMIN", "--id=ops", absl::StrCat("--callers_file=", callers)});
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->exit_code, 1);
  EXPECT_THAT(usage->err, HasSubstr("duplicate id"));
  EXPECT_EQ(testing::ReadFile(callers), before);
  ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00", {absl::StrCat("--callers_file=", callers)}));
  // The banner's try: line sends the key.
  EXPECT_THAT(server().Stdout(),
              HasSubstr("try: grpcurl -plaintext -H \"authorization: Bearer $TRADEIN_KEY\""));

  SetCallMetadata({{"authorization", absl::StrCat("Bearer ", shop_key)}});
  absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest("onboard-1", PrcId(4), kFridge));
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->state(), v1::Claim::RESERVED);
  EXPECT_EQ(claim->retailer_id(), "shop-1");

  // A till may not reload: the role and what it tried are named, in both languages.
  v1::ReloadPoliciesResponse reloaded;
  grpc::Status denied = v1::PortalService::NewStub(channel())->ReloadPolicies(
      NewContext().get(), v1::ReloadPoliciesRequest(), &reloaded);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(),
            "caller ruian-till-1 (role RETAILER) may not reload policies or void or correct claims");
  EXPECT_EQ(ChineseOf(denied), "终端ruian-till-1（角色：零售商 RETAILER）无权重新加载政策、作废或更正申领");

  // A key the file does not know: how to hash one is in the answer.
  SetCallMetadata({{"authorization", "Bearer tk_not-a-key"}});
  v1::QuoteResponse quoted;
  const grpc::Status unknown =
      v1::SubsidyService::NewStub(channel())->Quote(NewContext().get(), v1::QuoteRequest(), &quoted);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(unknown.error_message(), HasSubstr("printf %s \"$KEY\" | sha256sum"));
  EXPECT_FALSE(ChineseOf(unknown).empty());

  // The admin reloads: the answer and the log say what was reloaded.
  SetCallMetadata({{"authorization", absl::StrCat("Bearer ", admin_key)}});
  grpc::Status ok = v1::PortalService::NewStub(channel())->ReloadPolicies(
      NewContext().get(), v1::ReloadPoliciesRequest(), &reloaded);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(reloaded.callers(), 2);
  EXPECT_EQ(reloaded.callers_file(), callers);
  EXPECT_TRUE(testing::WaitUntil([&] {
    return absl::StrContains(server().Stderr(), "\"event\":\"reloaded\"") &&
           absl::StrContains(server().Stderr(), absl::StrCat("\"callers_file\":\"", callers, "\""));
  })) << server().Stderr();

  // A typo in the callers file: the reload is refused naming file, line and column; the old callers stay.
  const std::string text = testing::ReadFile(callers);
  const int line = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 2;
  ASSERT_TRUE(testing::WriteFile(callers, absl::StrCat(text,
                                                       "\ncallers { id: \"typo\" role: ADMIN api_key_sha256: "
                                                       "\"not-a-hash\" }\n"))
                  .ok());
  const grpc::Status refused = v1::PortalService::NewStub(channel())->ReloadPolicies(
      NewContext().get(), v1::ReloadPoliciesRequest(), &reloaded);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(refused), "POLICY_RELOAD_FAILED");
  const std::string where = absl::StrCat(callers, ":", line, ":1: callers[2] (\"typo\")");
  EXPECT_THAT(refused.error_message(), HasSubstr(where));
  // The log line is JSON: the entry's quotes are escaped there.
  const std::string logged = absl::StrCat(callers, ":", line, R"(:1: callers[2] (\"typo\"))");
  EXPECT_TRUE(testing::WaitUntil([&] { return absl::StrContains(server().Stderr(), logged); }))
      << server().Stderr();
  SetCallMetadata({{"authorization", absl::StrCat("Bearer ", shop_key)}});
  EXPECT_TRUE(Get(claim->claim_id()).ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, TillE2eTest,
                         ::testing::Values(testing::StoreMode::kMemory, testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
