// No input takes the server down (issue 9): a running tradein-server over a real redis-server, with the JSON
// gateway on, gets the inputs that used to kill or wedge it — header bytes gRPC metadata cannot carry
// (defect 6), pipelined requests on a connection the client closes (7), bursts of ExportClaims with tiny
// deadlines and cancels (3/8), oversized and smuggling-shaped request heads (9), unparsable gRPC bytes, bad
// UTF-8, errors with a hundred violations and oversized fields (10) — and must answer each with a clear
// error, then still serve claims, report SERVING and exit 0 on SIGTERM.
#include <atomic>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "services/http/http_exchange.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/testing/free_port.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/portal_service.grpc.pb.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein {
namespace {

using testing::ChineseOf;
using ::testing::HasSubstr;
using testing::PrcId;

constexpr const char* kToday = "2025-06-01";
constexpr const char* kFridge =
    R"({"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1})";
constexpr const char* kQuoteBody =
    R"({"regionCode":"330381","transactionDate":"2025-06-01","items":[{"lineId":"1",)"
    R"("productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1}]})";
constexpr absl::Duration kHttpTimeout = absl::Seconds(30);

std::string Post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n",
                      extra_headers, "Content-Length: ", body.size(), "\r\n\r\n", body);
}

std::string HttpGet(const std::string& target, const std::string& extra_headers = "") {
  return absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: t\r\n", extra_headers, "Connection: close\r\n\r\n");
}

// "HTTP/1.1 400 Bad Request" → 400; -1 when `answer` is no HTTP answer.
int StatusOf(absl::string_view answer) {
  int status = -1;
  if (!absl::ConsumePrefix(&answer, "HTTP/1.1 ") || !absl::SimpleAtoi(answer.substr(0, 3), &status))
    return -1;
  return status;
}

// The size of an error's trailers as HPACK counts them (name + value + 32 per entry): grpc-status,
// grpc-message (percent-encoded as sent), grpc-status-details-bin (base64 as sent) and the rest.
size_t TrailerBytes(const grpc::Status& status, const grpc::ClientContext& context) {
  size_t message = 0;
  for (char c : status.error_message()) {
    const auto byte = static_cast<unsigned char>(c);
    message += (byte < 0x20 || byte > 0x7e || byte == '%') ? 3 : 1;
  }
  size_t total = 32 + 11 + 2 + 32 + 12 + message;
  if (!status.error_details().empty()) {
    total += 32 + 23 + absl::Base64Escape(status.error_details()).size();
  }
  for (const auto& [name, value] : context.GetServerTrailingMetadata())
    total += 32 + name.size() + value.size();
  return total;
}

class AbuseE2eTest : public testing::ClaimE2eTest {
 protected:
  void SetUp() override {
    http_ = absl::StrCat("127.0.0.1:", testing::PickFreePort());
    ASSERT_TRUE(StartServer({}, "2025-06-01T10:00:00+08:00", {absl::StrCat("--http_listen=", http_)}));
    ASSERT_TRUE(testing::WaitUntil([&] { return server().Stdout().find("try:") != std::string::npos; }))
        << "the gateway is bound once the banner is out";
  }

  std::string Exchange(const std::string& request) {
    absl::StatusOr<std::string> answer = http::ExchangeRaw(http_, request, kHttpTimeout);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? *answer : "";
  }

  // An HTTP answer refusing the request: `status`, a JSON google.rpc.Status with `reason`, and `header`.
  void ExpectRefused(const std::string& request, int status, const std::string& reason,
                     const std::string& header = "") {
    const std::string answer = Exchange(request);
    EXPECT_EQ(StatusOf(answer), status) << answer;
    EXPECT_THAT(answer, HasSubstr("Content-Type: application/json")) << answer;
    EXPECT_THAT(answer, HasSubstr(absl::StrCat("\"reason\":\"", reason, "\""))) << answer;
    if (!header.empty()) {
      EXPECT_THAT(answer, HasSubstr(absl::StrCat("\"header\":\"", header, "\""))) << answer;
    }
  }

  // Bad header bytes for gRPC metadata (defect 6): non-ASCII where the gateway forwards metadata, a control
  // byte anywhere.
  void SendBadHeaderBytes() {
    ExpectRefused(HttpGet("/v1/policies", "X-Request-Id: \xc3\xbc\r\n"), 400, "HEADER_VALUE_INVALID",
                  "x-request-id");
    ExpectRefused(HttpGet("/v1/policies", "Authorization: Bearer \xd0\xba\xd0\xbb\xd1\x8e\xd1\x87\r\n"), 400,
                  "HEADER_VALUE_INVALID", "authorization");
    ExpectRefused(HttpGet("/v1/policies", "X-Request-Id: a\x01z\r\n"), 400, "HEADER_VALUE_INVALID",
                  "X-Request-Id");
  }

  // 50 pipelined quotes; the client reads the first answer's head and closes (defect 7), `rounds` times.
  void PipelineThenClose(int rounds) {
    std::string pipelined;
    for (int i = 0; i < 50; ++i) absl::StrAppend(&pipelined, Post("/v1/quote", kQuoteBody));
    for (int round = 0; round < rounds; ++round) {
      absl::StatusOr<http::RawConnection> connection = http::RawConnection::Open(http_, kHttpTimeout);
      ASSERT_TRUE(connection.ok()) << connection.status();
      ASSERT_TRUE(connection->Send(pipelined).ok());
      absl::StatusOr<std::string> first = connection->ReadUntil("\r\n\r\n");
      ASSERT_TRUE(first.ok()) << first.status();
      EXPECT_EQ(StatusOf(*first), 200) << *first;
      connection->Close();  // 49 answers still to come, to a closed peer
    }
  }

  // Oversized heads and smuggling shapes (defect 9).
  void SendBadHeads() {
    ExpectRefused(HttpGet("/v1/policies", absl::StrCat("X-Big: ", std::string(64 * 1024, 'a'), "\r\n")), 431,
                  "HEADERS_TOO_LARGE");
    std::string many;
    for (int i = 0; i < 100; ++i) absl::StrAppend(&many, "X-H", i, ": v\r\n");
    ExpectRefused(HttpGet("/v1/policies", many), 431, "TOO_MANY_HEADERS");
    ExpectRefused(Post("/v1/quote", kQuoteBody, "Content-Length: 5\r\n"), 400, "CONTENT_LENGTH_DUPLICATE",
                  "Content-Length");
    ExpectRefused(Post("/v1/quote", kQuoteBody, "Transfer-Encoding: chunked\r\n"), 400,
                  "CONTENT_LENGTH_CONFLICT", "Transfer-Encoding");
    ExpectRefused(HttpGet("/v1/policies", "X-A: one\r\n two\r\n"), 400, "HEADER_FOLDED", "X-A");
  }

  // `count` ExportClaims with deadlines of 1–10 ms, every third cancelled by the client after its first
  // message (defects 3 and 8), from four threads.
  void ExportBurst(int count) {
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t));
        auto portal = v1::PortalService::NewStub(channel());
        for (int i = next++; i < count; i = next++) {
          v1::ExportClaimsRequest request;
          request.set_from_date(kToday);
          request.set_to_date(kToday);
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(1 + rng() % 10)));
          auto reader = portal->ExportClaims(&context, request);
          v1::ExportedClaim claim;
          if (i % 3 == 0) {
            reader->Read(&claim);
            context.TryCancel();
          } else {
            while (reader->Read(&claim)) {
            }
          }
          reader->Finish();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
  }

  // `count` claims of today (buyers 1..count), in batches.
  std::vector<std::string> MakeClaims(int count) {
    std::vector<std::string> ids;
    for (int first = 1; first <= count; first += 50) {
      std::vector<v1::ClaimRequest> batch;
      for (int n = first; n < first + 50 && n <= count; ++n) {
        batch.push_back(ClaimRequest(absl::StrCat("abuse-", n), PrcId(n), kFridge));
      }
      for (const absl::StatusOr<v1::Claim>& claim : ClaimConcurrently(batch)) {
        EXPECT_TRUE(claim.ok()) << claim.status();
        if (claim.ok()) ids.push_back(claim->claim_id());
      }
    }
    return ids;
  }

  bool Serving(const std::string& service) {
    auto stub = grpc::health::v1::Health::NewStub(channel());
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&context, request, &response).ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }

  // The server still serves claims (a new one and an old one), reports SERVING, and exits 0 on SIGTERM.
  void ExpectStillServingThenCleanExit(const std::string& old_claim_id, int new_buyer) {
    if (!server().process().Running()) {
      const absl::StatusOr<int> died = server().process().Wait(absl::ZeroDuration());
      FAIL() << "the server died, exit " << (died.ok() ? *died : -1)
             << " (134 SIGABRT, 139 SIGSEGV, 141 SIGPIPE)\n"
             << server().Stderr();
    }
    EXPECT_TRUE(testing::WaitUntil([&] { return Serving("tradein.v1.ClaimService"); }, absl::Seconds(30)));
    EXPECT_TRUE(Serving("tradein.v1.PortalService"));
    // Right after a burst Redis may still be working off the pages the cancelled exports asked for (the
    // client refuses new commands while 1000 are in flight: UNAVAILABLE, a retryable answer); the server
    // must come back by itself. Claims are idempotent, so the same one is retried.
    absl::StatusOr<v1::Claim> fresh = absl::UnavailableError("not tried");
    EXPECT_TRUE(testing::WaitUntil(
        [&] {
          fresh = Claim(ClaimRequest("after-abuse", PrcId(new_buyer), kFridge));
          return fresh.ok();
        },
        absl::Seconds(60)))
        << fresh.status();
    if (!old_claim_id.empty()) {
      absl::StatusOr<v1::Claim> old = Get(old_claim_id);
      EXPECT_TRUE(old.ok()) << old.status();
    }
    EXPECT_EQ(StatusOf(Exchange(Post("/v1/quote", kQuoteBody, "Connection: close\r\n"))), 200);
    const absl::StatusOr<int> code = server().Stop();
    ASSERT_TRUE(code.ok()) << "SIGTERM no longer stops the server: " << code.status();
    EXPECT_EQ(*code, 0) << server().Stderr();
  }

  std::string http_;
};

TEST_P(AbuseE2eTest, HeaderBytesGrpcMetadataCannotCarryAreRefusedWith400) {
  SendBadHeaderBytes();
  ExpectStillServingThenCleanExit("", 1);
}

TEST_P(AbuseE2eTest, PipelinedRequestsToAClosedConnectionDoNotSignalTheProcess) {
  PipelineThenClose(10);
  ExpectStillServingThenCleanExit("", 1);
}

TEST_P(AbuseE2eTest, OversizedAndAmbiguousRequestHeadsAreRefused) {
  SendBadHeads();
  // A valid request, then a folded one, pipelined: the first is answered, the second refused, then closed.
  const std::string answers =
      Exchange(absl::StrCat(Post("/v1/quote", kQuoteBody), HttpGet("/v1/policies", "X-A: one\r\n\ttwo\r\n")));
  EXPECT_EQ(StatusOf(answers), 200) << answers;
  EXPECT_THAT(answers, HasSubstr("HTTP/1.1 400")) << answers;
  EXPECT_THAT(answers, HasSubstr("HEADER_FOLDED")) << answers;
  // Megabytes of header without an end: refused at the limit, the connection closed, no memory kept.
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<http::RawConnection> connection = http::RawConnection::Open(http_, kHttpTimeout);
    ASSERT_TRUE(connection.ok());
    (void)connection->Send(absl::StrCat("GET /v1/policies HTTP/1.1\r\nX-Big: ", std::string(8 << 20, 'b')));
    absl::StatusOr<std::string> answer = connection->ReadToEnd();
    if (answer.ok() && !answer->empty()) {
      EXPECT_EQ(StatusOf(*answer), 431) << answer->substr(0, 200);
    }
  }
  ExpectStillServingThenCleanExit("", 1);
}

TEST_P(AbuseE2eTest, ExportBurstsWithTinyDeadlinesAndCancelsLeaveTheServerServing) {
  const std::vector<std::string> ids = MakeClaims(300);
  ASSERT_EQ(ids.size(), 300u);
  ExportBurst(3000);
  // The export itself still works, whole.
  v1::ExportClaimsRequest request;
  request.set_from_date(kToday);
  request.set_to_date(kToday);
  auto context = NewContext(absl::Seconds(30));
  auto reader = v1::PortalService::NewStub(channel())->ExportClaims(context.get(), request);
  v1::ExportedClaim claim;
  size_t exported = 0;
  while (reader->Read(&claim)) ++exported;
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(exported, ids.size());
  ExpectStillServingThenCleanExit(ids.front(), 1000);
}

TEST_P(AbuseE2eTest, UnparsableGrpcBytesAreInvalidArgumentNamingTheMessage) {
  grpc::GenericStub stub(channel());
  for (const char* method : {"/tradein.v1.SubsidyService/Quote", "/tradein.v1.PortalService/ExportClaims"}) {
    SCOPED_TRACE(method);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    grpc::Slice slice(std::string("\xff\xff\xff\xff\x0f garbage"));
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&context, method, {}, &request, &response, [&](grpc::Status s) {
      status = std::move(s);
      done.Notify();
    });
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("is not a valid tradein.v1."));
    EXPECT_EQ(testing::ReasonOf(status), "REQUEST_UNPARSABLE");
  }
  ExpectStillServingThenCleanExit("", 1);
}

TEST_P(AbuseE2eTest, BadUtf8InAQueryOrPathIs400AndNoLibraryLineReachesStderr) {
  ExpectRefused(HttpGet("/v1/policies?regionCode=%FF%FE"), 400, "NOT_UTF8");
  ExpectRefused(HttpGet("/v1/claims/%C3%28"), 400, "NOT_UTF8");
  ExpectRefused(HttpGet("/v1/policies/%ED%A0%80"), 400, "NOT_UTF8");  // a UTF-16 surrogate
  ExpectStillServingThenCleanExit("", 1);
  for (absl::string_view line : absl::StrSplit(server().Stderr(), '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::StartsWith(line, "{")) << "every stderr line is a JSON log line: " << line;
  }
}

TEST_P(AbuseE2eTest, ErrorsWithManyViolationsKeepTheirTrailersSmall) {
  // 100 invalid items, every field as long as the limits allow, each with several violations.
  v1::QuoteRequest quote;
  quote.set_region_code("330381");
  quote.set_transaction_date(kToday);
  for (int i = 0; i < 100; ++i) {
    v1::Item* item = quote.add_items();
    item->set_line_id(absl::StrCat(i, std::string(60, 'L')));
    item->set_product_type(std::string(64, 'p'));
    item->set_price_fen(-1);
    item->set_energy_grade(99);
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::QuoteResponse response;
  const grpc::Status status = v1::SubsidyService::NewStub(channel())->Quote(&context, quote, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const size_t trailers = TrailerBytes(status, context);
  RecordNumber("quote_100_invalid_items_trailer_bytes", static_cast<int64_t>(trailers));
  EXPECT_LE(trailers, 4096u) << "the Chinese LocalizedMessage included";
  EXPECT_THAT(ChineseOf(status), HasSubstr("：")) << "each listed field with its reason's Chinese text";
  EXPECT_THAT(status.error_message(), HasSubstr("more violations not listed"));

  // The same basket as a claim.
  v1::ClaimRequest claim = ClaimRequest("many-bad", PrcId(7), kFridge);
  *claim.mutable_items() = quote.items();
  grpc::ClientContext claim_context;
  claim_context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::Claim claimed;
  const grpc::Status refused = v1::ClaimService::NewStub(channel())->Claim(&claim_context, claim, &claimed);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  EXPECT_LE(TrailerBytes(refused, claim_context), 4096u);
  EXPECT_FALSE(ChineseOf(refused).empty());
  ExpectStillServingThenCleanExit("", 1);
}

TEST_P(AbuseE2eTest, OversizedFieldsAreRefusedBeforeTheStore) {
  auto claims = v1::ClaimService::NewStub(channel());
  v1::ConfirmClaimRequest huge_line;
  huge_line.set_claim_id("no-such-claim");
  huge_line.add_line_serials()->set_line_id(std::string(1600 * 1024, 'x'));
  v1::Claim answer;
  grpc::Status status = claims->ConfirmClaim(NewContext().get(), huge_line, &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(testing::ReasonOf(status), "FIELD_TOO_LONG");
  EXPECT_THAT(status.error_message(), HasSubstr("lineSerials[0].lineId"));

  v1::ConfirmClaimRequest many_serials;
  many_serials.set_claim_id("no-such-claim");
  for (int line = 0; line < 200; ++line) {
    v1::LineSerials* serials = many_serials.add_line_serials();
    serials->set_line_id(absl::StrCat(line));
    for (int s = 0; s < 100; ++s) serials->add_serial_numbers(absl::StrCat("SN-", line, "-", s));
  }
  status = claims->ConfirmClaim(NewContext().get(), many_serials, &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(testing::ReasonOf(status), "TOO_MANY_ENTRIES");
  EXPECT_THAT(status.error_message(), HasSubstr("lineSerials"));
  ExpectStillServingThenCleanExit("", 1);
}

// The abuse run: every input above against one server, which must still serve claims afterwards.
TEST_P(AbuseE2eTest, EveryAbuseAtOnceLeavesTheServerServingAndItExitsCleanly) {
  const std::vector<std::string> ids = MakeClaims(200);
  ASSERT_FALSE(ids.empty());
  SendBadHeaderBytes();
  PipelineThenClose(5);
  std::thread exports([&] { ExportBurst(1000); });
  SendBadHeads();
  PipelineThenClose(5);
  exports.join();
  ExpectStillServingThenCleanExit(ids.back(), 1000);
}

INSTANTIATE_TEST_SUITE_P(Redis, AbuseE2eTest, ::testing::Values(testing::StoreMode::kRedis),
                         testing::StoreModeName);

}  // namespace
}  // namespace tradein
