// Portal queries end to end (issue 12, item 5), over the embedded memory store and a real redis-server:
// ListClaims, ExportClaims and GetTotals narrowed by region (and the regions within it), product type, state,
// confirmation day, invoice and serial number; totals grouped by region and by day; page and resume tokens
// bound to their query; and the export as CSV with Chinese headings through the JSON gateway, with curl.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/portal_service.grpc.pb.h"

namespace tradein {
namespace {

using ::testing::HasSubstr;
using testing::PrcId;

constexpr const char* kToday = "2025-06-01";
constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";
constexpr const char* kAirConditioner =
    R"({"lineId":"1","productType":"appliance.air_conditioner","priceFen":"300000","energyGrade":1})";

class PortalQueryE2eTest : public testing::ClaimE2eTest {
 protected:
  std::unique_ptr<v1::PortalService::Stub> Portal() { return v1::PortalService::NewStub(channel()); }

  // A claim of buyer `n` in `region`, confirmed with invoice INV-n and serial SN-n unless `confirm` is false.
  std::string Make(int n, const std::string& region, const char* item = kFridge, bool confirm = true) {
    v1::ClaimRequest request = ClaimRequest(absl::StrCat("q-", n), PrcId(n), item);
    request.set_region_code(region);
    absl::StatusOr<v1::Claim> claim = Claim(request);
    EXPECT_TRUE(claim.ok()) << claim.status();
    if (!claim.ok()) return "";
    if (confirm) {
      absl::StatusOr<v1::Claim> confirmed =
          Confirm(claim->claim_id(), absl::StrCat("INV-", n), {{"1", {absl::StrCat("SN-", n)}}});
      EXPECT_TRUE(confirmed.ok()) << confirmed.status();
    }
    return claim->claim_id();
  }

  // The six claims every test here starts from: in Rui'an (330381) three confirmed fridges (one refunded
  // since) and a reserved one; in Lucheng, Wenzhou (330302) a confirmed air conditioner; in Hangzhou (330102)
  // a confirmed fridge.
  struct Claims {
    std::string ruian_1, ruian_2, ruian_refunded, ruian_reserved, lucheng_ac, hangzhou;
  };
  Claims MakeClaims() {
    Claims c;
    c.ruian_1 = Make(1, "330381");
    c.ruian_2 = Make(2, "330381");
    c.ruian_refunded = Make(3, "330381");
    EXPECT_TRUE(Refund(c.ruian_refunded, "refund-3").ok());
    c.ruian_reserved = Make(4, "330381", kFridge, /*confirm=*/false);
    c.lucheng_ac = Make(5, "330302", kAirConditioner);
    c.hangzhou = Make(6, "330102");
    return c;
  }

  v1::ListClaimsRequest ListRequest(const v1::ClaimFilter& filter) {
    v1::ListClaimsRequest request;
    request.set_from_date(kToday);
    request.set_to_date(kToday);
    *request.mutable_filter() = filter;
    return request;
  }

  // Every claim id a ListClaims walk of `request` sees (every page), or a failure recorded.
  std::set<std::string> ListIds(v1::ListClaimsRequest request) {
    std::set<std::string> ids;
    int pages = 0;
    do {
      v1::ListClaimsResponse page;
      const grpc::Status status = Portal()->ListClaims(NewContext().get(), request, &page);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const v1::Claim& claim : page.claims()) ids.insert(claim.claim_id());
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty() && ++pages < 100);
    return ids;
  }

  std::set<std::string> ListIds(const v1::ClaimFilter& filter) { return ListIds(ListRequest(filter)); }

  // The ids ExportClaims streams for `request`, and how it finished.
  std::vector<std::string> ExportIds(const v1::ExportClaimsRequest& request,
                                     grpc::Status* finished = nullptr) {
    auto context = NewContext();
    auto reader = Portal()->ExportClaims(context.get(), request);
    std::vector<std::string> ids;
    v1::ExportedClaim message;
    while (reader->Read(&message)) ids.push_back(message.claim().claim_id());
    const grpc::Status status = reader->Finish();
    if (finished != nullptr) *finished = status;
    return ids;
  }

  absl::StatusOr<v1::Totals> Totals(v1::GetTotalsRequest request) {
    request.set_from_date(kToday);
    request.set_to_date(kToday);
    v1::Totals totals;
    const grpc::Status status = Portal()->GetTotals(NewContext().get(), request, &totals);
    return testing::Answer(status, std::move(totals));
  }
};

v1::ClaimFilter RegionFilter(const std::string& code) {
  v1::ClaimFilter filter;
  filter.set_region_code(code);
  return filter;
}

TEST_P(PortalQueryE2eTest, ARegionCoversTheRegionsWithinIt) {
  ASSERT_TRUE(StartServer({}));
  const Claims c = MakeClaims();
  using Ids = std::set<std::string>;
  EXPECT_EQ(ListIds(RegionFilter("330381")), (Ids{c.ruian_1, c.ruian_2, c.ruian_refunded, c.ruian_reserved}));
  EXPECT_EQ(ListIds(RegionFilter("330300")),  // Wenzhou: Rui'an and Lucheng
            (Ids{c.ruian_1, c.ruian_2, c.ruian_refunded, c.ruian_reserved, c.lucheng_ac}));
  EXPECT_EQ(ListIds(RegionFilter("330100")), (Ids{c.hangzhou}));
  EXPECT_EQ(ListIds(RegionFilter("330000")).size(), 6u);
  EXPECT_TRUE(ListIds(RegionFilter("320000")).empty());

  // The export and the totals take the same filter.
  v1::ExportClaimsRequest export_request;
  export_request.set_from_date(kToday);
  export_request.set_to_date(kToday);
  *export_request.mutable_filter() = RegionFilter("330300");
  const std::vector<std::string> exported = ExportIds(export_request);
  EXPECT_EQ(Ids(exported.begin(), exported.end()),
            (Ids{c.ruian_1, c.ruian_2, c.ruian_refunded, c.ruian_reserved, c.lucheng_ac}));
  v1::GetTotalsRequest totals_request;
  *totals_request.mutable_filter() = RegionFilter("330100");
  absl::StatusOr<v1::Totals> hangzhou = Totals(totals_request);
  ASSERT_TRUE(hangzhou.ok()) << hangzhou.status();
  EXPECT_EQ(hangzhou->claims(), 1);
  absl::StatusOr<v1::Claim> claim = Get(c.hangzhou);
  ASSERT_TRUE(claim.ok());
  EXPECT_EQ(hangzhou->net_fen(), claim->total_subsidy_fen());
}

TEST_P(PortalQueryE2eTest, ProductTypeStateInvoiceSerialAndConfirmationDayNarrowEveryRead) {
  ASSERT_TRUE(StartServer({}));
  const Claims c = MakeClaims();
  using Ids = std::set<std::string>;
  v1::ClaimFilter filter;
  filter.add_product_types("appliance.air_conditioner");
  EXPECT_EQ(ListIds(filter), (Ids{c.lucheng_ac}));
  filter.Clear();
  filter.set_invoice_number("INV-2");
  EXPECT_EQ(ListIds(filter), (Ids{c.ruian_2}));
  filter.Clear();
  filter.set_serial_number("SN-6");
  EXPECT_EQ(ListIds(filter), (Ids{c.hangzhou}));
  filter.Clear();
  filter.set_confirmed_from_date(kToday);
  filter.set_confirmed_to_date(kToday);
  EXPECT_EQ(ListIds(filter).size(), 5u);  // all but the reserved one
  filter.set_confirmed_from_date("2025-06-02");
  filter.set_confirmed_to_date("2025-06-30");
  EXPECT_TRUE(ListIds(filter).empty());

  // States on the export (new) and the totals.
  v1::ExportClaimsRequest export_request;
  export_request.set_from_date(kToday);
  export_request.set_to_date(kToday);
  export_request.add_states(v1::Claim::REFUNDED);
  EXPECT_EQ(ExportIds(export_request), std::vector<std::string>{c.ruian_refunded});
  v1::GetTotalsRequest totals_request;
  totals_request.add_states(v1::Claim::CONFIRMED);
  totals_request.mutable_filter()->add_product_types("appliance.refrigerator");
  absl::StatusOr<v1::Totals> fridges = Totals(totals_request);
  ASSERT_TRUE(fridges.ok()) << fridges.status();
  EXPECT_EQ(fridges->claims(), 3);  // Rui'an 1 and 2, Hangzhou
  EXPECT_EQ(fridges->refunded_fen(), 0);
  for (const v1::TotalsRow& row : fridges->rows()) EXPECT_EQ(row.product_type(), "appliance.refrigerator");
}

TEST_P(PortalQueryE2eTest, TotalsByRegionAndByDayAddUpToTheDefaultAnswer) {
  ASSERT_TRUE(StartServer({}));
  MakeClaims();
  absl::StatusOr<v1::Totals> by_default = Totals({});
  ASSERT_TRUE(by_default.ok()) << by_default.status();
  for (const v1::TotalsRow& row : by_default->rows()) {
    EXPECT_EQ(row.day(), kToday);
    EXPECT_EQ(row.retailer_id(), "shop-1");
    EXPECT_FALSE(row.product_type().empty());
    EXPECT_TRUE(row.region_code().empty()) << "the answer from before groupBy existed";
  }

  v1::GetTotalsRequest by_region_request;
  by_region_request.add_group_by(v1::GetTotalsRequest::REGION);
  absl::StatusOr<v1::Totals> by_region = Totals(by_region_request);
  ASSERT_TRUE(by_region.ok()) << by_region.status();
  std::vector<std::string> regions;
  for (const v1::TotalsRow& row : by_region->rows()) {
    regions.push_back(row.region_code());
    EXPECT_TRUE(row.day().empty() && row.retailer_id().empty() && row.product_type().empty());
  }
  EXPECT_EQ(regions, (std::vector<std::string>{"330102", "330302", "330381"}));
  EXPECT_EQ(by_region->net_fen(), by_default->net_fen());
  EXPECT_EQ(by_region->granted_fen(), by_default->granted_fen());
  EXPECT_EQ(by_region->claims(), by_default->claims());

  v1::GetTotalsRequest by_day_request;
  by_day_request.add_group_by(v1::GetTotalsRequest::DAY);
  absl::StatusOr<v1::Totals> by_day = Totals(by_day_request);
  ASSERT_TRUE(by_day.ok()) << by_day.status();
  ASSERT_EQ(by_day->rows_size(), 1);
  EXPECT_EQ(by_day->rows(0).day(), kToday);
  EXPECT_EQ(by_day->rows(0).net_fen(), by_default->net_fen());

  by_day_request.add_group_by(v1::GetTotalsRequest::DAY);  // twice
  absl::StatusOr<v1::Totals> refused = Totals(by_day_request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("groupBy[1]: GROUP_BY_INVALID"));
}

TEST_P(PortalQueryE2eTest, APageTokenIsRefusedForAnotherQuery) {
  ASSERT_TRUE(StartServer({}));
  MakeClaims();
  v1::ListClaimsRequest request = ListRequest(RegionFilter("330300"));
  request.set_page_size(2);
  v1::ListClaimsResponse first;
  ASSERT_TRUE(Portal()->ListClaims(NewContext().get(), request, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());

  const auto refused = [&](v1::ListClaimsRequest other) {
    other.set_page_token(first.next_page_token());
    v1::ListClaimsResponse page;
    const grpc::Status status = Portal()->ListClaims(NewContext().get(), other, &page);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("pageToken: TOKEN_QUERY_MISMATCH"));
  };
  v1::ListClaimsRequest other_period = request;
  other_period.set_to_date("2025-06-02");
  refused(other_period);
  refused(ListRequest(RegionFilter("330100")));
  v1::ListClaimsRequest other_states = request;
  other_states.add_states(v1::Claim::CONFIRMED);
  refused(other_states);

  // The same query with another page size goes on.
  v1::ListClaimsRequest same = request;
  same.set_page_size(10);
  same.set_page_token(first.next_page_token());
  v1::ListClaimsResponse rest;
  const grpc::Status status = Portal()->ListClaims(NewContext().get(), same, &rest);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(first.claims_size() + rest.claims_size(), 5);

  // An export's resume token likewise.
  v1::ExportClaimsRequest export_request;
  export_request.set_from_date(kToday);
  export_request.set_to_date(kToday);
  auto context = NewContext();
  auto reader = Portal()->ExportClaims(context.get(), export_request);
  v1::ExportedClaim message;
  ASSERT_TRUE(reader->Read(&message));
  context->TryCancel();
  reader->Finish();
  export_request.set_resume_token(message.resume_token());
  export_request.add_states(v1::Claim::REFUNDED);
  grpc::Status finished;
  ExportIds(export_request, &finished);
  EXPECT_EQ(finished.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(finished.error_message(), HasSubstr("resumeToken: TOKEN_QUERY_MISMATCH"));
}

TEST_P(PortalQueryE2eTest, EachBadFilterFieldIsNamed) {
  ASSERT_TRUE(StartServer({}));
  v1::ListClaimsRequest request = ListRequest(RegionFilter("33030"));
  request.add_states(static_cast<v1::Claim::State>(0));
  v1::ListClaimsResponse page;
  grpc::Status status = Portal()->ListClaims(NewContext().get(), request, &page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("states[0]: STATE_INVALID"));
  request.clear_states();
  status = Portal()->ListClaims(NewContext().get(), request, &page);
  EXPECT_THAT(status.error_message(), HasSubstr("filter.regionCode: REGION_CODE_INVALID"));
  v1::GetTotalsRequest totals_request;
  totals_request.mutable_filter()->set_confirmed_from_date("2025-13-01");
  absl::StatusOr<v1::Totals> totals = Totals(totals_request);
  EXPECT_THAT(std::string(totals.status().message()), HasSubstr("filter.confirmedFromDate: DATE_INVALID"));
}

// The export as CSV through the JSON gateway, as a spreadsheet user downloads it with curl.
TEST_P(PortalQueryE2eTest, TheGatewayExportsCsvWithChineseHeadingsWhenAskedForTextCsv) {
  ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00", {"--http_listen=127.0.0.1:0"}));
  const std::string kLine = "JSON gateway on http://";
  ASSERT_TRUE(testing::WaitUntil([&] { return server().Stdout().find("try:") != std::string::npos; }));
  const std::string banner = server().Stdout();
  const size_t at = banner.find(kLine);
  ASSERT_NE(at, std::string::npos) << banner;
  const size_t start = at + kLine.size();
  const std::string base = absl::StrCat("http://", banner.substr(start, banner.find('/', start) - start));

  const Claims c = MakeClaims();
  // An invoice a spreadsheet would run as a formula.
  v1::ClaimRequest request = ClaimRequest("q-evil", PrcId(7), kFridge);
  absl::StatusOr<v1::Claim> evil = Claim(request);
  ASSERT_TRUE(evil.ok()) << evil.status();
  ASSERT_TRUE(Confirm(evil->claim_id(), "=HYPERLINK(\"http://x\",\"y\")", {}).ok());

  absl::StatusOr<testing::HttpAnswer> answer =
      testing::Curl({"-X", "POST", absl::StrCat(base, "/v1/portal/claims:export"), "-H", "Accept: text/csv",
                     "-H", "content-type: application/json", "--data-binary",
                     R"({"fromDate":"2025-06-01","toDate":"2025-06-01","filter":{"regionCode":"330300"}})"});
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->status, 200) << answer->body;
  EXPECT_THAT(answer->Header("content-type"), HasSubstr("text/csv"));
  EXPECT_EQ(answer->body.substr(0, 3), "\xEF\xBB\xBF");
  const std::vector<std::string> rows = absl::StrSplit(answer->body.substr(3), "\r\n", absl::SkipEmpty());
  ASSERT_EQ(rows.size(), 7u) << answer->body;  // the headings, the five Wenzhou claims and the evil one
  EXPECT_THAT(rows[0], HasSubstr("申领编号,状态,零售商,地区代码"));
  EXPECT_THAT(rows[1], HasSubstr(absl::StrCat(c.ruian_1, ",已确认,shop-1,330381,")));
  EXPECT_THAT(answer->body, HasSubstr(",已退货,"));
  EXPECT_THAT(answer->body, HasSubstr(",1000.00,"));  // the fridge's ¥1,000 in yuan
  EXPECT_THAT(rows[6], HasSubstr(R"csv(,"'=HYPERLINK(""http://x"",""y"")",)csv"));
  EXPECT_THAT(answer->body, ::testing::Not(HasSubstr(c.hangzhou)));

  // The OpenAPI document says so.
  absl::StatusOr<testing::HttpAnswer> openapi = testing::Curl({absl::StrCat(base, "/v1/openapi.json")});
  ASSERT_TRUE(openapi.ok()) << openapi.status();
  EXPECT_THAT(openapi->body, HasSubstr(R"("text/csv": {)"));

  // Without the Accept header the same route answers NDJSON, as before.
  absl::StatusOr<testing::HttpAnswer> ndjson = testing::Curl(
      {"-X", "POST", absl::StrCat(base, "/v1/portal/claims:export"), "-H", "content-type: application/json",
       "--data-binary", R"({"fromDate":"2025-06-01","toDate":"2025-06-01"})"});
  ASSERT_TRUE(ndjson.ok()) << ndjson.status();
  EXPECT_THAT(ndjson->Header("content-type"), HasSubstr("application/x-ndjson"));
  EXPECT_THAT(ndjson->body, HasSubstr(R"("resumeToken":"c2.)"));
}

INSTANTIATE_TEST_SUITE_P(Stores, PortalQueryE2eTest,
                         ::testing::Values(testing::StoreMode::kMemory, testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
