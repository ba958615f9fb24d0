// PortalService end to end, over the embedded memory store and a real redis-server: listings that stay
// stable while claims arrive, a settlement export resumed after a broken stream, totals that equal the sum of
// the export, and the administrative void and correction giving money back.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/portal_service.grpc.pb.h"

namespace tradein {
namespace {

using testing::PrcId;

constexpr const char* kToday = "2025-06-01";
constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";
constexpr const char* kTwoAirConditioners =  // Zhejiang 2025 allows three a buyer
    R"({"lineId":"1","productType":"appliance.air_conditioner","priceFen":"300000","energyGrade":1,"quantity":2})";

class PortalE2eTest : public testing::ClaimE2eTest {
 protected:
  std::unique_ptr<v1::PortalService::Stub> Portal() { return v1::PortalService::NewStub(channel()); }

  // A reserved claim of buyer `n` for `item`; its id, or "" with a failure recorded.
  std::string Reserve(int n, const char* item = kFridge) {
    absl::StatusOr<v1::Claim> claim = Claim(ClaimRequest(absl::StrCat("portal-", n), PrcId(n), item));
    EXPECT_TRUE(claim.ok()) << claim.status();
    return claim.ok() ? claim->claim_id() : "";
  }

  std::string ReserveAndConfirm(int n, const char* item = kFridge) {
    const std::string id = Reserve(n, item);
    absl::StatusOr<v1::Claim> confirmed = Confirm(id, absl::StrCat("INV-", n), {});
    EXPECT_TRUE(confirmed.ok()) << confirmed.status();
    return id;
  }

  // One ListClaims page of today's claims.
  grpc::Status List(int page_size, const std::string& token, v1::ListClaimsResponse& response) {
    v1::ListClaimsRequest request;
    request.set_from_date(kToday);
    request.set_to_date(kToday);
    request.set_page_size(page_size);
    request.set_page_token(token);
    return Portal()->ListClaims(NewContext().get(), request, &response);
  }

  // Today's export from `resume_token`, reading at most `max_messages` (then the stream is cancelled).
  std::vector<v1::ExportedClaim> Export(const std::string& resume_token, size_t max_messages,
                                        grpc::Status* finished = nullptr) {
    v1::ExportClaimsRequest request;
    request.set_from_date(kToday);
    request.set_to_date(kToday);
    request.set_resume_token(resume_token);
    auto context = NewContext();
    auto reader = Portal()->ExportClaims(context.get(), request);
    std::vector<v1::ExportedClaim> out;
    v1::ExportedClaim message;
    while (out.size() < max_messages && reader->Read(&message)) out.push_back(message);
    if (out.size() == max_messages) context->TryCancel();
    const grpc::Status status = reader->Finish();
    if (finished != nullptr) *finished = status;
    return out;
  }

  absl::StatusOr<v1::Claim> Void(const std::string& claim_id, const std::string& request_id) {
    v1::VoidClaimRequest request;
    request.set_claim_id(claim_id);
    request.set_request_id(request_id);
    request.set_reason("invoice found forged");
    v1::Claim response;
    const grpc::Status status = Portal()->VoidClaim(NewContext().get(), request, &response);
    return testing::Answer(status, std::move(response));
  }

  // CorrectClaim of the invoice number (when `invoice` is set) or of one serial of line "1".
  absl::StatusOr<v1::Claim> Fix(const std::string& claim_id, const std::string& request_id,
                                const std::string& invoice, const std::string& old_serial = "",
                                const std::string& new_serial = "") {
    v1::CorrectClaimRequest request;
    request.set_claim_id(claim_id);
    request.set_request_id(request_id);
    request.set_reason("typed wrong at the till");
    request.set_invoice_number(invoice);
    if (!old_serial.empty()) {
      request.mutable_serial()->set_line_id("1");
      request.mutable_serial()->set_old_serial_number(old_serial);
      request.mutable_serial()->set_new_serial_number(new_serial);
    }
    v1::Claim response;
    const grpc::Status status = Portal()->CorrectClaim(NewContext().get(), request, &response);
    return testing::Answer(status, std::move(response));
  }

  absl::StatusOr<v1::Claim> Correct(const std::string& claim_id, const std::string& request_id, int64_t fen) {
    v1::CorrectClaimRequest request;
    request.set_claim_id(claim_id);
    request.set_request_id(request_id);
    request.set_reason("price keyed wrongly at the till");
    v1::LineCorrection* line = request.add_lines();
    line->set_line_id("1");
    line->set_subsidy_fen(fen);
    v1::Claim response;
    const grpc::Status status = Portal()->CorrectClaim(NewContext().get(), request, &response);
    return testing::Answer(status, std::move(response));
  }
};

TEST_P(PortalE2eTest, AListingWalkSeesEveryClaimOnceNewestFirstWhileClaimsArrive) {
  ASSERT_TRUE(StartServer({}));
  std::set<std::string> before;
  for (int n = 1; n <= 23; ++n) before.insert(Reserve(n));

  std::vector<v1::Claim> seen;
  std::string token;
  int pages = 0;
  int arrived = 100;
  do {
    v1::ListClaimsResponse page;
    const grpc::Status status = List(5, token, page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_LE(page.claims_size(), 5);
    seen.insert(seen.end(), page.claims().begin(), page.claims().end());
    token = page.next_page_token();
    // New claims arrive between pages: they are newer than the walk's position, so never seen.
    for (int i = 0; i < 3; ++i) Reserve(++arrived);
    ++pages;
  } while (!token.empty() && pages < 50);

  std::multiset<std::string> ids;
  for (const v1::Claim& claim : seen) ids.insert(claim.claim_id());
  for (const std::string& id : before) EXPECT_EQ(ids.count(id), 1u) << id;
  EXPECT_EQ(seen.size(), before.size());
  EXPECT_EQ(pages, 5);  // 23 claims, 5 a page
  for (size_t i = 1; i < seen.size(); ++i) {
    const auto& newer = seen[i - 1].created_at();
    const auto& older = seen[i].created_at();
    EXPECT_TRUE(newer.seconds() > older.seconds() ||
                (newer.seconds() == older.seconds() && newer.nanos() >= older.nanos()))
        << "not newest first at " << i;
  }
}

TEST_P(PortalE2eTest, ABadPageTokenOrPeriodIsInvalidArgumentNamingTheField) {
  ASSERT_TRUE(StartServer({}));
  v1::ListClaimsResponse page;
  grpc::Status status = List(5, "not-a-token", page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("pageToken"), std::string::npos) << status.error_message();
  status = List(5, "c1.Z2FyYmFnZQ", page);  // our prefix and base64, but not a cursor inside
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("pageToken"), std::string::npos) << status.error_message();

  v1::ListClaimsRequest request;
  request.set_from_date("2025-06-02");
  request.set_to_date("2025-06-01");
  status = Portal()->ListClaims(NewContext().get(), request, &page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("toDate"), std::string::npos) << status.error_message();
}

TEST_P(PortalE2eTest, AnExportResumedFromItsLastTokenHasNoGapsAndNoDuplicates) {
  ASSERT_TRUE(StartServer({}));
  std::vector<std::string> created;
  for (int n = 1; n <= 25; ++n) created.push_back(ReserveAndConfirm(n));

  const std::vector<v1::ExportedClaim> first = Export("", 10);  // the stream "breaks" after 10
  ASSERT_EQ(first.size(), 10u);
  grpc::Status finished;
  const std::vector<v1::ExportedClaim> rest = Export(first.back().resume_token(), 1000, &finished);
  EXPECT_TRUE(finished.ok()) << finished.error_message();

  std::vector<std::string> exported;
  for (const auto& part : {first, rest}) {
    for (const v1::ExportedClaim& message : part) exported.push_back(message.claim().claim_id());
  }
  EXPECT_EQ(exported.size(), created.size());
  EXPECT_EQ(std::set<std::string>(exported.begin(), exported.end()),
            std::set<std::string>(created.begin(), created.end()));
  // Oldest first: the order the claims were made in.
  std::vector<std::string> oldest_first;
  for (const auto& part : {first, rest}) {
    for (const v1::ExportedClaim& message : part) oldest_first.push_back(message.claim().claim_id());
  }
  EXPECT_EQ(oldest_first, created);
}

TEST_P(PortalE2eTest, TotalsEqualTheSumOfTheExportedClaims) {
  ASSERT_TRUE(StartServer({}));
  for (int n = 1; n <= 6; ++n) ReserveAndConfirm(n);                       // confirmed fridges
  for (int n = 7; n <= 9; ++n) ReserveAndConfirm(n, kTwoAirConditioners);  // confirmed, two units each
  Reserve(10);                                                             // still reserved: owes nothing yet
  ASSERT_TRUE(Cancel(Reserve(11)).ok());                                   // cancelled: owes nothing
  ASSERT_TRUE(Refund(ReserveAndConfirm(12), "refund-12").ok());            // refunded whole
  {
    v1::RefundClaimRequest request;  // one of the two air conditioners back
    request.set_claim_id(ReserveAndConfirm(13, kTwoAirConditioners));
    request.set_request_id("refund-13");
    v1::RefundLine* line = request.add_lines();
    line->set_line_id("1");
    line->set_quantity(1);
    v1::Claim response;
    const grpc::Status status =
        v1::ClaimService::NewStub(channel())->RefundClaim(NewContext().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.state(), v1::Claim::PARTIALLY_REFUNDED);
  }

  int64_t granted = 0, refunded = 0, claims = 0;
  std::map<std::string, int64_t> granted_by_type;  // an item's subsidyFen is what its line was granted
  for (const v1::ExportedClaim& message : Export("", 1000)) {
    const v1::Claim& claim = message.claim();
    const v1::Claim::State state = claim.state();
    if (state != v1::Claim::CONFIRMED && state != v1::Claim::PARTIALLY_REFUNDED &&
        state != v1::Claim::REFUNDED && state != v1::Claim::VOIDED) {
      continue;
    }
    ++claims;
    granted += claim.total_subsidy_fen() + claim.refunded_fen();
    refunded += claim.refunded_fen();
    for (const v1::ItemResult& item : claim.items())
      granted_by_type[item.product_type()] += item.subsidy_fen();
  }

  v1::GetTotalsRequest request;
  request.set_from_date(kToday);
  request.set_to_date(kToday);
  v1::Totals totals;
  const grpc::Status status = Portal()->GetTotals(NewContext().get(), request, &totals);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(totals.claims(), claims);
  EXPECT_EQ(claims, 11);  // 6 + 3 + 1 + 1
  EXPECT_EQ(totals.granted_fen(), granted);
  EXPECT_EQ(totals.refunded_fen(), refunded);
  EXPECT_EQ(totals.net_fen(), granted - refunded);
  EXPECT_GT(refunded, 0);
  std::map<std::string, int64_t> rows_by_type;
  int64_t row_net = 0;
  for (const v1::TotalsRow& row : totals.rows()) {
    EXPECT_EQ(row.day(), kToday);
    EXPECT_EQ(row.net_fen(), row.granted_fen() - row.refunded_fen());
    rows_by_type[row.product_type()] += row.granted_fen();
    row_net += row.net_fen();
  }
  EXPECT_EQ(row_net, totals.net_fen());
  EXPECT_EQ(rows_by_type, granted_by_type);
}

TEST_P(PortalE2eTest, ACorrectionLowersTheGrantAndAVoidGivesTheRestBack) {
  ASSERT_TRUE(StartServer({}));
  const std::string id = ReserveAndConfirm(1);  // a fridge: 100000 fen

  absl::StatusOr<v1::Claim> corrected = Correct(id, "fix-1", 60000);
  ASSERT_TRUE(corrected.ok()) << corrected.status();
  EXPECT_EQ(corrected->state(), v1::Claim::CONFIRMED);
  EXPECT_EQ(corrected->total_subsidy_fen(), 60000);
  EXPECT_EQ(Correct(id, "fix-1", 60000)->total_subsidy_fen(), 60000);  // a retry replays
  EXPECT_EQ(Correct(id, "fix-2", 70000).status().code(), absl::StatusCode::kFailedPrecondition);  // not down
  EXPECT_EQ(Correct(id, "fix-1", 50000).status().code(), absl::StatusCode::kAlreadyExists);       // id reused

  absl::StatusOr<v1::Claim> voided = Void(id, "void-1");
  ASSERT_TRUE(voided.ok()) << voided.status();
  EXPECT_EQ(voided->state(), v1::Claim::VOIDED);
  EXPECT_EQ(voided->total_subsidy_fen(), 0);
  EXPECT_EQ(FridgeUnitsUsed(PrcId(1)), 0);  // Zhejiang 2025: refunds (and voids) give the quota back
  EXPECT_EQ(Void(id, "void-1")->state(), v1::Claim::VOIDED);  // a retry replays
  EXPECT_EQ(Get(id)->state(), v1::Claim::VOIDED);
  EXPECT_EQ(Void(Reserve(2), "void-2").status().code(), absl::StatusCode::kFailedPrecondition);  // not paid
}

// Issue 12, items 3 and 5: an invoice or serial typo is fixed by an administrator, and the claim shows each
// refund, correction and fix — who, when, why and what changed — to GetClaim, ListClaims and the export.
TEST_P(PortalE2eTest, FixesAndRefundsAreInTheClaimsHistory) {
  ASSERT_TRUE(StartServer({}));
  const std::string id = Reserve(1);
  ASSERT_TRUE(Confirm(id, "INV-1", {{"1", {"SN-TYPO"}}}).ok());
  ASSERT_TRUE(Confirm(Reserve(2), "INV-2", {{"1", {"SN-OTHER"}}}).ok());

  absl::StatusOr<v1::Claim> invoice = Fix(id, "fix-invoice", "INV-10");
  ASSERT_TRUE(invoice.ok()) << invoice.status();
  EXPECT_EQ(invoice->invoice_number(), "INV-10");
  EXPECT_TRUE(Fix(id, "fix-invoice", "INV-10").ok()) << "a retry replays";
  absl::StatusOr<v1::Claim> taken = Fix(id, "fix-taken", "", "SN-TYPO", "SN-OTHER");
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(taken.status().message().find("serial.newSerialNumber"), std::string::npos) << taken.status();
  absl::StatusOr<v1::Claim> absent = Fix(id, "fix-absent", "", "SN-NONE", "SN-NEW");
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(absent.status().message().find("does not hold this serial"), std::string::npos)
      << absent.status();
  absl::StatusOr<v1::Claim> serial = Fix(id, "fix-serial", "", "SN-TYPO", "SN-RIGHT");
  ASSERT_TRUE(serial.ok()) << serial.status();
  EXPECT_EQ(serial->items(0).serial_numbers(0), "SN-RIGHT");
  EXPECT_EQ(serial->invoice_number(), "INV-10");
  // The old serial is free for another device's claim, the new one is this claim's.
  EXPECT_TRUE(Confirm(Reserve(3), "INV-3", {{"1", {"SN-TYPO"}}}).ok());
  EXPECT_EQ(Confirm(Reserve(4), "INV-4", {{"1", {"SN-RIGHT"}}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Correct(id, "fix-amount", 60000).ok());
  ASSERT_TRUE(Refund(id, "refund-1").ok());

  absl::StatusOr<v1::Claim> read = Get(id);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->history_size(), 4) << read->DebugString();
  const v1::ClaimEvent& first = read->history(0);
  EXPECT_EQ(first.kind(), v1::ClaimEvent::INVOICE_CORRECTED);
  EXPECT_EQ(first.before(), "INV-1");
  EXPECT_EQ(first.after(), "INV-10");
  EXPECT_EQ(first.reason(), "typed wrong at the till");
  EXPECT_EQ(first.request_id(), "fix-invoice");
  EXPECT_GT(first.at().seconds(), 0);
  EXPECT_EQ(read->history(1).kind(), v1::ClaimEvent::SERIAL_CORRECTED);
  EXPECT_EQ(read->history(1).before(), "1: SN-TYPO");
  EXPECT_EQ(read->history(1).after(), "1: SN-RIGHT");
  EXPECT_EQ(read->history(2).kind(), v1::ClaimEvent::CORRECTED);
  ASSERT_EQ(read->history(2).lines_size(), 1);
  EXPECT_EQ(read->history(2).lines(0).subsidy_fen_before(), 100000);
  EXPECT_EQ(read->history(2).lines(0).subsidy_fen_after(), 60000);
  EXPECT_EQ(read->history(3).kind(), v1::ClaimEvent::REFUNDED);
  EXPECT_EQ(read->history(3).lines(0).refunded_quantity(), 1);
  EXPECT_EQ(read->history(3).lines(0).subsidy_fen_after(), 0);

  v1::ListClaimsResponse page;
  ASSERT_TRUE(List(50, "", page).ok());
  int listed = 0;
  for (const v1::Claim& claim : page.claims()) {
    if (claim.claim_id() == id) listed = claim.history_size();
  }
  EXPECT_EQ(listed, 4) << "listings carry the history too";
  int exported = 0;
  for (const v1::ExportedClaim& claim : Export("", 100)) {
    if (claim.claim().claim_id() == id) exported = claim.claim().history_size();
  }
  EXPECT_EQ(exported, 4) << "and the export";
}

// A serial fix is checked as a confirmation is: a phone's new serial number must be an IMEI.
TEST_P(PortalE2eTest, APhonesSerialIsFixedOnlyToAnImei) {
  ASSERT_TRUE(StartServer({}));
  const std::string id =
      Reserve(5, R"({"lineId":"1","productType":"digital.phone","priceFen":"300000"})");
  ASSERT_TRUE(Confirm(id, "INV-P", {{"1", {"490154203237518"}}}).ok());
  absl::StatusOr<v1::Claim> refused = Fix(id, "fix-1", "", "490154203237518", "490154203237517");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_NE(refused.status().message().find("serial.newSerialNumber"), std::string::npos);
  absl::StatusOr<v1::Claim> fixed = Fix(id, "fix-2", "", "490154203237518", "356938035643809");
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->items(0).serial_numbers(0), "356938035643809");
}

TEST_P(PortalE2eTest, OneDeviceIsSubsidisedOnce) {
  ASSERT_TRUE(StartServer({}));
  ASSERT_TRUE(Confirm(Reserve(1), "INV-1", {{"1", {"SN-SAME"}}}).ok());
  const std::string second = Reserve(2);
  absl::StatusOr<v1::Claim> refused = Confirm(second, "INV-2", {{"1", {"SN-SAME"}}});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("serial"), std::string::npos) << refused.status();
  EXPECT_EQ(Get(second)->state(), v1::Claim::RESERVED);  // the refusal changed nothing
  EXPECT_TRUE(Confirm(second, "INV-2", {{"1", {"SN-OTHER"}}}).ok());
}

// Issue 11, item 4: the period's claims replayed under a draft sent with the request, streamed (progress,
// then the report); read-only: the buyer's usage is the same after it.
TEST_P(PortalE2eTest, ASimulationReplaysTheClaimsUnderTheDraftAndChangesNothing) {
  ASSERT_TRUE(StartServer({}));
  ReserveAndConfirm(1, R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"1200000",)"
                       R"("energyGrade":1})");  // 2,400 capped at 2,000
  ReserveAndConfirm(2);                         // 1,000
  v1::SimulatePolicyRequest request;
  request.set_from_date(kToday);
  request.set_to_date(kToday);
  for (const std::filesystem::directory_entry& entry : std::filesystem::directory_iterator(policy_dir())) {
    if (entry.path().extension() != ".textproto") continue;
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t rule = text.find("id: \"Z25-APPL\"");
    if (rule != std::string::npos) text.replace(text.find("fen: 200000", rule), 11, "fen: 150000");
    v1::PolicyFileText* file = request.add_policy_files();
    file->set_name(entry.path().filename().string());
    file->set_text(text);
  }
  auto context = NewContext();
  auto reader = Portal()->SimulatePolicy(context.get(), request);
  std::vector<v1::SimulationUpdate> updates;
  v1::SimulationUpdate update;
  while (reader->Read(&update)) updates.push_back(update);
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(updates.size(), 2u);
  EXPECT_TRUE(updates.front().has_progress());
  ASSERT_TRUE(updates.back().has_report());
  const v1::SimulationReport& report = updates.back().report();
  EXPECT_EQ(report.claims_replayed(), 2);
  EXPECT_EQ(report.subsidy_today_fen(), 300000);
  EXPECT_EQ(report.subsidy_draft_fen(), 250000);
  EXPECT_EQ(report.difference_fen(), -50000);
  EXPECT_EQ(FridgeUnitsUsed(PrcId(1)), 1);  // unchanged: a simulation holds nothing

  // A broken draft is refused with every problem, as a reload would be.
  request.mutable_policy_files(0)->set_text("id: [");
  auto refused_context = NewContext();
  auto refused = Portal()->SimulatePolicy(refused_context.get(), request);
  while (refused->Read(&update)) {
  }
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

INSTANTIATE_TEST_SUITE_P(Stores, PortalE2eTest,
                         ::testing::Values(testing::StoreMode::kMemory, testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
