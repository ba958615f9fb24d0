// The audit trail end to end, over a real redis-server: a 200-way race of claims (some buyers over their
// quota), then confirmations, cancellations, refunds and expiries, each retried; then exactly one audit line
// per state change of money, each complete and consistent with what the clients were told; and no raw buyer
// id anywhere — not in the audit file, the server's output, Redis's keys and values, or its append-only file.
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/testing/temp_dir.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein {
namespace {

using testing::ClaimE2eTest;
using testing::CodeName;
using testing::ContextWithKey;
using ::testing::MatchesRegex;
using testing::PrcId;
using testing::ReasonOf;
using testing::StoreMode;

constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";
constexpr const char* kLongHoldRegion = "330302";   // Lucheng, Wenzhou: zj-2025, 30-minute hold
constexpr const char* kShortHoldRegion = "330381";  // Rui'an: ra-2025, edited to a 2-second hold

// One audit line, parsed.
struct AuditLine {
  std::string raw;
  google::protobuf::Struct json;
  std::string Text(const std::string& key) const {
    const auto it = json.fields().find(key);
    return it == json.fields().end() ? "<absent>" : it->second.string_value();
  }
  int64_t Number(const std::string& key) const {
    const auto it = json.fields().find(key);
    return it == json.fields().end() ? -1 : static_cast<int64_t>(it->second.number_value());
  }
  bool Has(const std::string& key) const { return json.fields().count(key) > 0; }
};

// What the test expects one audit line to say.
struct Expected {
  std::string event;
  std::string state;
  std::string caller;
  std::string request_id;  // the x-request-id the call sent; "" for the sweeper's expiries
  int64_t fen;
};

class AuditE2eTest : public ClaimE2eTest {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-audit-e2e-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    files_.emplace(*std::move(dir));
    audit_path_ = files_->Join("audit.jsonl");
    const std::string callers = files_->Join("callers.textproto");
    ASSERT_TRUE(
        testing::WriteFile(
            callers,
            testing::CallersFileText(
                {{"shop-1", "RETAILER", "shop-1", {kShortHoldRegion, kLongHoldRegion}, {key_}, {}, 0, 0}}))
            .ok());
    ASSERT_TRUE(StartServer({{"ra-2025.textproto", "inherits: \"zj-2025\"",
                              "inherits: \"zj-2025\"\nhold { seconds: 2 ref { document: \"audit e2e test\" "
                              "article: \"hold\" } }"}},
                            "2025-06-01T10:00:00+08:00",
                            {absl::StrCat("--callers_file=", callers),
                             absl::StrCat("--audit_log=", audit_path_), "--log_level=debug"}));
    SetCallMetadata({{"authorization", absl::StrCat("Bearer ", key_)}});
    stub_ = v1::ClaimService::NewStub(channel());
  }

  v1::ClaimRequest Request(const std::string& request_id, int buyer, const std::string& region) {
    v1::ClaimRequest request;
    const std::string json =
        absl::StrCat(R"({"requestId":")", request_id, R"(","regionCode":")", region,
                     R"(","transactionDate":"2025-06-01","buyer":{"idType":"PRC_ID","idNumber":")",
                     PrcId(buyer), R"("},"items":[)", kFridge, "]}");
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok()) << json;
    buyers_.insert(buyer);
    return request;
  }

  // All at once; answers in request order. `request_ids[i]` goes in x-request-id.
  std::vector<grpc::Status> ClaimAll(const std::vector<v1::ClaimRequest>& requests,
                                     const std::vector<std::string>& request_ids,
                                     std::vector<v1::Claim>& claims) {
    struct Call {
      std::unique_ptr<grpc::ClientContext> context;
      v1::Claim response;
    };
    std::vector<Call> calls(requests.size());
    std::vector<grpc::Status> statuses(requests.size());
    absl::Mutex mu;
    size_t pending = requests.size();
    absl::Notification done;
    for (size_t i = 0; i < requests.size(); ++i) {
      calls[i].context = ContextWithKey(key_, request_ids[i], absl::Seconds(60));
      stub_->async()->Claim(calls[i].context.get(), &requests[i], &calls[i].response,
                            [&, i](grpc::Status status) {
                              absl::MutexLock lock(&mu);
                              statuses[i] = std::move(status);
                              if (--pending == 0) done.Notify();
                            });
    }
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(120)));
    absl::MutexLock lock(&mu);
    claims.clear();
    for (Call& call : calls) claims.push_back(call.response);
    return statuses;
  }

  grpc::Status Confirm(const std::string& claim_id, const std::string& request_id, v1::Claim& out) {
    v1::ConfirmClaimRequest request;
    request.set_claim_id(claim_id);
    request.set_invoice_number(absl::StrCat("INV-", claim_id.substr(claim_id.size() - 6)));
    return stub_->ConfirmClaim(ContextWithKey(key_, request_id).get(), request, &out);
  }
  grpc::Status Cancel(const std::string& claim_id, const std::string& request_id, v1::Claim& out) {
    v1::CancelClaimRequest request;
    request.set_claim_id(claim_id);
    request.set_reason("buyer changed their mind");
    return stub_->CancelClaim(ContextWithKey(key_, request_id).get(), request, &out);
  }
  grpc::Status Refund(const std::string& claim_id, const std::string& refund_id,
                      const std::string& request_id, v1::Claim& out) {
    v1::RefundClaimRequest request;
    request.set_claim_id(claim_id);
    request.set_request_id(refund_id);
    request.set_reason("goods returned");
    return stub_->RefundClaim(ContextWithKey(key_, request_id).get(), request, &out);
  }
  v1::Claim GetClaim(const std::string& claim_id) {
    v1::GetClaimRequest request;
    request.set_claim_id(claim_id);
    v1::Claim claim;
    const grpc::Status status = stub_->GetClaim(ContextWithKey(key_).get(), request, &claim);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return claim;
  }

  std::vector<AuditLine> ReadAudit() const {
    std::vector<AuditLine> lines;
    for (absl::string_view raw : absl::StrSplit(testing::ReadFile(audit_path_), '\n', absl::SkipEmpty())) {
      AuditLine line;
      line.raw = std::string(raw);
      const auto parsed = google::protobuf::util::JsonStringToMessage(line.raw, &line.json);
      EXPECT_TRUE(parsed.ok()) << "not JSON: " << raw;
      lines.push_back(std::move(line));
    }
    return lines;
  }

  int CountEvents(const std::string& event) const {
    int count = 0;
    for (const AuditLine& line : ReadAudit()) count += line.Text("event") == event;
    return count;
  }

  // Every key and value in Redis: keys, DUMP of each value (uncompressed), and the value read by type.
  std::string RedisContents(int& keys_seen) {
    EXPECT_TRUE(redis()->Run({"CONFIG", "SET", "rdbcompression", "no"}).ok());
    std::string all;
    std::string cursor = "0";
    keys_seen = 0;
    do {
      absl::StatusOr<redis::RedisValue> page = redis()->Run({"SCAN", cursor, "COUNT", "1000"});
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok() || page->elements().size() != 2) break;
      cursor = page->elements()[0].str();
      for (const redis::RedisValue& key : page->elements()[1].elements()) {
        ++keys_seen;
        absl::StrAppend(&all, "\nKEY ", key.str(), "\n");
        absl::StatusOr<redis::RedisValue> dump = redis()->Run({"DUMP", key.str()});
        if (dump.ok()) absl::StrAppend(&all, dump->str(), "\n");
        absl::StatusOr<redis::RedisValue> type = redis()->Run({"TYPE", key.str()});
        const std::string kind = type.ok() ? type->str() : "";
        std::vector<std::string> read;
        if (kind == "string") read = {"GET", key.str()};
        if (kind == "hash") read = {"HGETALL", key.str()};
        if (kind == "set") read = {"SMEMBERS", key.str()};
        if (kind == "zset") read = {"ZRANGE", key.str(), "0", "-1", "WITHSCORES"};
        if (kind == "list") read = {"LRANGE", key.str(), "0", "-1"};
        if (kind == "stream") read = {"XRANGE", key.str(), "-", "+"};
        EXPECT_FALSE(read.empty()) << "unexpected Redis type " << kind << " of " << key.str();
        if (read.empty()) continue;
        absl::StatusOr<redis::RedisValue> value = redis()->Run(read);
        if (value.ok()) Flatten(*value, all);
      }
    } while (cursor != "0");
    return all;
  }

  static void Flatten(const redis::RedisValue& value, std::string& out) {
    absl::StrAppend(&out, value.str(), " ", value.integer(), "\n");
    for (const redis::RedisValue& element : value.elements()) Flatten(element, out);
  }

  // The forms of a raw buyer id a leak could take: whole (and lower-case), its first and last 10 characters,
  // its birth-date-and-sequence middle, and the whole id in hex and base64.
  std::vector<std::string> Needles(int buyer) const {
    const std::string id = PrcId(buyer);
    std::vector<std::string> needles = {id,
                                        id.substr(0, 10),
                                        id.substr(8),
                                        id.substr(6, 11),
                                        absl::BytesToHexString(id),
                                        absl::Base64Escape(id)};
    if (id.back() == 'X') needles.push_back(id.substr(0, 17) + "x");
    return needles;
  }

  // "" when no buyer id of this test is in `haystack`, else what was found.
  std::string FindBuyerIds(const std::string& haystack) const {
    for (int buyer : buyers_) {
      for (const std::string& needle : Needles(buyer)) {
        const size_t at = haystack.find(needle);
        if (at != std::string::npos) {
          return absl::StrCat("\"", needle, "\" (of buyer ", buyer, ") at ", at, ": ...",
                              absl::CHexEscape(haystack.substr(at < 60 ? 0 : at - 60, 160)), "...");
        }
      }
    }
    return "";
  }

  const std::string key_ = testing::NewApiKey();
  std::optional<testing::TempDir> files_;
  std::string audit_path_;
  std::unique_ptr<v1::ClaimService::Stub> stub_;
  std::set<int> buyers_;
};

TEST_P(AuditE2eTest, OneCompleteLinePerChangeOfMoneyAndNoRawBuyerIdAnywhere) {
  std::map<std::pair<std::string, std::string>, Expected> expected;  // (claim id, event) →
  std::map<std::string, v1::Claim> reserved_claims;                  // claim id → the answer
  std::set<std::string> rejected_ids;

  // 1. The race: 120 buyers with one claim each, 20 buyers with four (a fridge each: three of four must be
  // REJECTED for quota), all 200 at once.
  std::vector<v1::ClaimRequest> requests;
  std::vector<std::string> request_ids;
  for (int i = 0; i < 200; ++i) {
    const int buyer = i < 120 ? 1 + i : 121 + (i - 120) % 20;
    requests.push_back(Request(absl::StrCat("race-", i), buyer, kLongHoldRegion));
    request_ids.push_back(absl::StrCat("x-race-", i));
  }
  std::vector<v1::Claim> claims;
  const std::vector<grpc::Status> statuses = ClaimAll(requests, request_ids, claims);
  std::vector<std::string> reserved_order;
  std::map<std::string, int> reserved_per_buyer;
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << CodeName(statuses[i].error_code()) << " "
                                  << statuses[i].error_message();
    const v1::Claim& claim = claims[i];
    if (claim.state() == v1::Claim::REJECTED) {
      rejected_ids.insert(claim.claim_id());
      continue;
    }
    ASSERT_EQ(claim.state(), v1::Claim::RESERVED) << claim.DebugString();
    ++reserved_per_buyer[claim.buyer_ref()];
    reserved_claims[claim.claim_id()] = claim;
    reserved_order.push_back(claim.claim_id());
    expected[{claim.claim_id(), "claim_reserved"}] = {"claim_reserved", "RESERVED", "shop-1", request_ids[i],
                                                      claim.total_subsidy_fen()};
  }
  EXPECT_EQ(reserved_claims.size(), 140u);
  EXPECT_EQ(rejected_ids.size(), 60u);
  for (const auto& [buyer_ref, count] : reserved_per_buyer) EXPECT_EQ(count, 1) << buyer_ref;
  ASSERT_GE(reserved_order.size(), 100u);

  // Replays of claims (granted and rejected) change nothing.
  for (int i : {0, 1, 2, 3, 4, 120, 121, 122, 140, 141, 160, 199}) {
    v1::Claim again;
    const grpc::Status status = stub_->Claim(ContextWithKey(key_, absl::StrCat("x-replay-", i)).get(),
                                             requests[static_cast<size_t>(i)], &again);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(again.claim_id(), claims[static_cast<size_t>(i)].claim_id());
    EXPECT_EQ(again.state(), claims[static_cast<size_t>(i)].state());
  }

  // 2. Confirm 60 (10 retried), cancel 30 (10 retried), refund 20 of the confirmed (10 retried).
  std::vector<std::string> confirmed;
  for (size_t k = 0; k < 60; ++k) {
    const std::string& id = reserved_order[k];
    v1::Claim claim;
    const std::string rid = absl::StrCat("x-confirm-", k);
    ASSERT_TRUE(Confirm(id, rid, claim).ok());
    ASSERT_EQ(claim.state(), v1::Claim::CONFIRMED);
    expected[{id, "claim_confirmed"}] = {"claim_confirmed", "CONFIRMED", "shop-1", rid,
                                         claim.total_subsidy_fen()};
    confirmed.push_back(id);
    if (k % 6 == 0) {
      ASSERT_TRUE(Confirm(id, absl::StrCat(rid, "-again"), claim).ok());
      EXPECT_EQ(claim.state(), v1::Claim::CONFIRMED);
    }
  }
  for (size_t k = 60; k < 90; ++k) {
    const std::string& id = reserved_order[k];
    v1::Claim claim;
    const std::string rid = absl::StrCat("x-cancel-", k);
    ASSERT_TRUE(Cancel(id, rid, claim).ok());
    ASSERT_EQ(claim.state(), v1::Claim::CANCELLED);
    expected[{id, "claim_cancelled"}] = {"claim_cancelled", "CANCELLED", "shop-1", rid,
                                         reserved_claims[id].total_subsidy_fen()};
    if (k % 3 == 0) {
      ASSERT_TRUE(Cancel(id, absl::StrCat(rid, "-again"), claim).ok());
      EXPECT_EQ(claim.state(), v1::Claim::CANCELLED);
    }
  }
  for (size_t k = 0; k < 20; ++k) {
    const std::string& id = confirmed[k];
    v1::Claim claim;
    const std::string rid = absl::StrCat("x-refund-", k);
    ASSERT_TRUE(Refund(id, absl::StrCat("refund-", k), rid, claim).ok());
    ASSERT_EQ(claim.state(), v1::Claim::REFUNDED);
    EXPECT_EQ(claim.refunded_fen(), reserved_claims[id].total_subsidy_fen());
    expected[{id, "claim_refunded"}] = {"claim_refunded", "REFUNDED", "shop-1", rid, claim.refunded_fen()};
    if (k % 2 == 0) {
      ASSERT_TRUE(Refund(id, absl::StrCat("refund-", k), absl::StrCat(rid, "-again"), claim).ok());
      EXPECT_EQ(claim.state(), v1::Claim::REFUNDED);
    }
    // The claim's history names the caller as the audit line does, once however often the refund came.
    ASSERT_EQ(claim.history_size(), 1) << claim.DebugString();
    EXPECT_EQ(claim.history(0).caller_id(), "shop-1");
    EXPECT_EQ(claim.history(0).request_id(), absl::StrCat("refund-", k));
  }

  // 3. Ten claims with a 2-second hold that no one confirms: the sweeper expires them. Three are also
  // confirmed or cancelled too late (HOLD_EXPIRED), racing the sweeper: still one expiry line each.
  std::vector<v1::ClaimRequest> short_requests;
  std::vector<std::string> short_ids;
  for (int i = 0; i < 10; ++i) {
    short_requests.push_back(Request(absl::StrCat("short-", i), 201 + i, kShortHoldRegion));
    short_ids.push_back(absl::StrCat("x-short-", i));
  }
  std::vector<v1::Claim> short_claims;
  const std::vector<grpc::Status> short_statuses = ClaimAll(short_requests, short_ids, short_claims);
  for (size_t i = 0; i < short_claims.size(); ++i) {
    ASSERT_TRUE(short_statuses[i].ok()) << short_statuses[i].error_message();
    const v1::Claim& claim = short_claims[i];
    ASSERT_EQ(claim.state(), v1::Claim::RESERVED);
    EXPECT_EQ(claim.policy_id(), "ra-2025");
    reserved_claims[claim.claim_id()] = claim;
    expected[{claim.claim_id(), "claim_reserved"}] = {"claim_reserved", "RESERVED", "shop-1", short_ids[i],
                                                      claim.total_subsidy_fen()};
    expected[{claim.claim_id(), "claim_expired"}] = {"claim_expired", "EXPIRED", "sweeper", "",
                                                     claim.total_subsidy_fen()};
  }
  for (size_t i = 0; i < 3; ++i) {
    const std::string& id = short_claims[i].claim_id();
    ASSERT_TRUE(testing::WaitUntil([&] { return GetClaim(id).state() == v1::Claim::EXPIRED; }));
    v1::Claim ignored;
    const grpc::Status late = i == 1 ? Cancel(id, "x-late", ignored) : Confirm(id, "x-late", ignored);
    EXPECT_EQ(late.error_code(), grpc::FAILED_PRECONDITION) << late.error_message();
    EXPECT_EQ(ReasonOf(late), "HOLD_EXPIRED");
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return CountEvents("claim_expired") >= 10; }))
      << "the sweeper did not report ten expiries:\n"
      << testing::ReadFile(audit_path_);

  // Reads with the buyer ids: the ids pass through more of the server.
  for (int buyer : {1, 121, 201}) EXPECT_GE(FridgeUnitsUsed(PrcId(buyer)), 0) << buyer;
  {
    v1::QuoteRequest quote;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(
            absl::StrCat(
                R"({"regionCode":"330302","transactionDate":"2025-06-01","buyer":{"idType":"PRC_ID","idNumber":")",
                PrcId(7), R"("},"items":[)", kFridge, "]}"),
            &quote)
            .ok());
    v1::QuoteResponse answer;
    EXPECT_TRUE(
        v1::SubsidyService::NewStub(channel())->Quote(ContextWithKey(key_).get(), quote, &answer).ok());
  }

  // 4. The audit file: exactly the expected lines, each complete and consistent.
  const std::vector<AuditLine> lines = ReadAudit();
  std::map<std::pair<std::string, std::string>, int> seen;
  std::map<std::string, std::string> last_state;  // claim id → state of its last line
  for (const AuditLine& line : lines) {
    SCOPED_TRACE(line.raw);
    for (const char* field :
         {"ts", "event", "claim_id", "state", "caller", "retailer_id", "request_id", "buyer_ref", "policy_id",
          "policy_version", "programme", "fen", "total_fen", "refunded_fen", "items"}) {
      EXPECT_TRUE(line.Has(field)) << field;
    }
    const std::string id = line.Text("claim_id");
    const std::string event = line.Text("event");
    EXPECT_EQ(rejected_ids.count(id), 0u) << "a REJECTED claim moved no money";
    ++seen[{id, event}];
    last_state[id] = line.Text("state");
    const auto want = expected.find({id, event});
    if (want == expected.end()) {
      ADD_FAILURE() << "unexpected audit line";
      continue;
    }
    const v1::Claim& claim = reserved_claims[id];
    EXPECT_EQ(line.Text("state"), want->second.state);
    EXPECT_EQ(line.Text("caller"), want->second.caller);
    if (!want->second.request_id.empty()) {
      EXPECT_EQ(line.Text("request_id"), want->second.request_id);
    }
    EXPECT_EQ(line.Number("fen"), want->second.fen);
    EXPECT_EQ(line.Text("retailer_id"), "shop-1");
    EXPECT_EQ(line.Text("buyer_ref"), claim.buyer_ref());
    EXPECT_THAT(line.Text("buyer_ref"), MatchesRegex("[0-9a-f]{16}"));
    EXPECT_EQ(line.Text("policy_id"), claim.policy_id());
    EXPECT_EQ(line.Text("policy_version"), claim.policy_version());
    EXPECT_FALSE(line.Text("policy_version").empty());
    EXPECT_EQ(line.Text("programme"), "zj-2025");
    EXPECT_EQ(line.Text("client_request_id"), claim.request_id());
    int64_t item_fen = 0;
    const auto items = line.json.fields().find("items");
    if (items != line.json.fields().end()) {
      for (const auto& item : items->second.list_value().values()) {
        item_fen += static_cast<int64_t>(item.struct_value().fields().at("fen").number_value());
      }
    }
    if (event == "claim_reserved" || event == "claim_confirmed") {
      EXPECT_EQ(line.Number("total_fen"), claim.total_subsidy_fen());
      EXPECT_EQ(line.Number("refunded_fen"), 0);
      EXPECT_EQ(item_fen, claim.total_subsidy_fen());
    }
    if (event == "claim_refunded") {
      EXPECT_EQ(line.Number("refunded_fen"), claim.total_subsidy_fen());
      EXPECT_EQ(line.Number("total_fen"), 0);
    }
  }
  for (const auto& [key, want] : expected) {
    EXPECT_EQ(seen[key], 1) << want.event << " of " << key.first;
  }
  EXPECT_EQ(lines.size(), expected.size());
  int by_event[5] = {0, 0, 0, 0, 0};
  const char* kEvents[5] = {"claim_reserved", "claim_confirmed", "claim_cancelled", "claim_refunded",
                            "claim_expired"};
  for (const AuditLine& line : lines) {
    for (int e = 0; e < 5; ++e) by_event[e] += line.Text("event") == kEvents[e];
  }
  std::cout << "[audit] lines " << lines.size() << ":";
  for (int e = 0; e < 5; ++e) std::cout << " " << kEvents[e] << "=" << by_event[e];
  std::cout << "; rejected claims " << rejected_ids.size() << std::endl;
  EXPECT_EQ(by_event[0], 150);
  EXPECT_EQ(by_event[1], 60);
  EXPECT_EQ(by_event[2], 30);
  EXPECT_EQ(by_event[3], 20);
  EXPECT_EQ(by_event[4], 10);
  // The last line of each claim says the state the service reports now.
  for (const auto& [id, state] : last_state) {
    EXPECT_EQ(v1::Claim::State_Name(GetClaim(id).state()), state) << id;
  }
  struct stat mode {};
  ASSERT_EQ(::stat(audit_path_.c_str(), &mode), 0);
  EXPECT_EQ(mode.st_mode & 0777, 0600u) << "the audit file is for its owner only";

  // 5. No raw buyer id: audit file, server output (debug level), Redis keys and values, Redis's files.
  EXPECT_NE(FindBuyerIds(absl::StrCat("abc", PrcId(5), "def")), "") << "the search itself works";
  EXPECT_NE(FindBuyerIds(absl::StrCat("abc", PrcId(5).substr(8), "def")), "") << "the search itself works";
  EXPECT_EQ(FindBuyerIds(testing::ReadFile(audit_path_)), "") << "in the audit file";
  const absl::StatusOr<int> stopped = server().Stop();  // flushes the logs
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0);
  EXPECT_GT(server().Stderr().size(), 1000u) << "debug logs were written";
  EXPECT_EQ(FindBuyerIds(server().Stderr()), "") << "in the server's stderr";
  EXPECT_EQ(FindBuyerIds(server().Stdout()), "") << "in the server's stdout";
  int keys = 0;
  const std::string contents = RedisContents(keys);
  std::cout << "[audit] Redis keys scanned: " << keys << ", bytes read: " << contents.size() << std::endl;
  EXPECT_GT(keys, 100);
  EXPECT_NE(contents.find(reserved_order[0]), std::string::npos) << "the walk reads the claims";
  EXPECT_NE(contents.find(reserved_claims[reserved_order[0]].buyer_ref()), std::string::npos)
      << "the walk reads where buyers are keyed";
  EXPECT_EQ(FindBuyerIds(contents), "") << "in Redis";
  std::string on_disk;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(redis()->dir())) {
    if (entry.is_regular_file()) on_disk += testing::ReadFile(entry.path().string());
  }
  EXPECT_GT(on_disk.size(), 1000u);
  EXPECT_EQ(FindBuyerIds(on_disk), "") << "in Redis's files";
}

INSTANTIATE_TEST_SUITE_P(Redis, AuditE2eTest, ::testing::Values(StoreMode::kRedis), testing::StoreModeName);

}  // namespace
}  // namespace tradein
