// The strict HTTP/1.1 parser and one connection's session, without sockets: every refusal with its reason and
// header, bytes split at every position, pipelined answers in request order whatever order they come in.
#include "services/http/http_session.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/http/request_parser.h"

namespace tradein::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Received {
  HttpRequest request;
  uint64_t slot;
};

// A session whose dispatch records the requests; answers are given by the test.
class SessionTest : public ::testing::Test {
 protected:
  HttpSession::Dispatch Recorder() {
    return [this](HttpRequest request, uint64_t slot) { received_.push_back({std::move(request), slot}); };
  }
  void Receive(absl::string_view bytes) { session_.Receive(bytes, Recorder()); }
  void AnswerAll() {
    for (const Received& r : received_)
      session_.Answer(r.slot, {200, "application/json", r.request.path, {}});
  }

  HttpSession session_{HttpLimits{}, "127.0.0.1:1"};
  std::vector<Received> received_;
};

std::string Post(const std::string& path, const std::string& body) {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: t\r\nContent-Length: ", body.size(), "\r\n\r\n",
                      body);
}

TEST_F(SessionTest, ARequestSplitAtEveryByteIsTheSameRequest) {
  const std::string wire = Post("/v1/quote?x=1", "{\"a\":1}");
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    HttpSession session(HttpLimits{}, "p");
    std::vector<HttpRequest> got;
    auto dispatch = [&](HttpRequest request, uint64_t) { got.push_back(std::move(request)); };
    session.Receive(wire.substr(0, cut), dispatch);
    session.Receive(wire.substr(cut), dispatch);
    ASSERT_EQ(got.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(got[0].method, "POST");
    EXPECT_EQ(got[0].path, "/v1/quote");
    EXPECT_EQ(got[0].query, "x=1");
    EXPECT_EQ(got[0].body, "{\"a\":1}");
    EXPECT_EQ(got[0].Header("host"), "t");
  }
}

TEST_F(SessionTest, PipelinedAnswersGoOutInRequestOrder) {
  Receive(absl::StrCat(Post("/a", "1"), Post("/b", "2"), Post("/c", "3")));
  ASSERT_EQ(received_.size(), 3u);
  session_.Answer(received_[2].slot, {200, "text/plain", "C", {}});
  session_.Answer(received_[1].slot, {200, "text/plain", "B", {}});
  EXPECT_EQ(session_.TakeOutput(), "") << "nothing before the first answer";
  session_.Answer(received_[0].slot, {200, "text/plain", "A", {}});
  const std::string out = session_.TakeOutput();
  EXPECT_LT(out.find("\r\n\r\nA"), out.find("\r\n\r\nB"));
  EXPECT_LT(out.find("\r\n\r\nB"), out.find("\r\n\r\nC"));
  EXPECT_FALSE(session_.Finished()) << "keep-alive";
}

TEST_F(SessionTest, AtMostSixteenWaitThenTheRestFollowAsAnswersFreeRoom) {
  std::string wire;
  for (int i = 0; i < 20; ++i) absl::StrAppend(&wire, Post(absl::StrCat("/", i), "x"));
  Receive(wire);
  EXPECT_EQ(received_.size(), HttpSession::kMaxInFlight);
  EXPECT_FALSE(session_.WantsInput());
  session_.Answer(received_[0].slot, {200, "text/plain", "", {}});
  Receive("");
  EXPECT_EQ(received_.size(), HttpSession::kMaxInFlight + 1);
}

TEST_F(SessionTest, ConnectionCloseEndsTheSessionAfterItsAnswer) {
  Receive("GET /x HTTP/1.1\r\nConnection: close\r\n\r\nGET /y HTTP/1.1\r\n\r\n");
  ASSERT_EQ(received_.size(), 1u) << "nothing after a request that closes";
  AnswerAll();
  EXPECT_THAT(session_.TakeOutput(), HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(session_.Finished());
}

TEST_F(SessionTest, HalfCloseStillAnswersWhatCame) {
  Receive(Post("/a", "1"));
  session_.EndOfInput(Recorder());
  EXPECT_FALSE(session_.Finished());
  AnswerAll();
  EXPECT_THAT(session_.TakeOutput(), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(session_.Finished());
}

TEST_F(SessionTest, ExpectContinueIsAnsweredBeforeTheBody) {
  Receive("POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(session_.TakeOutput(), "HTTP/1.1 100 Continue\r\n\r\n");
  Receive("abc");
  ASSERT_EQ(received_.size(), 1u);
  EXPECT_EQ(received_[0].request.body, "abc");
}

TEST_F(SessionTest, ARefusalComesAfterEarlierAnswersAndEndsTheConnection) {
  Receive(absl::StrCat(Post("/a", "1"), "GET /b HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n", Post("/c", "3")));
  ASSERT_EQ(received_.size(), 1u) << "nothing after the refused request is read";
  EXPECT_EQ(session_.TakeOutput(), "") << "the refusal waits for the first answer";
  AnswerAll();
  const std::string out = session_.TakeOutput();
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 400 Bad Request"));
  EXPECT_THAT(out, HasSubstr("\"reason\":\"HEADER_FOLDED\""));
  EXPECT_THAT(out, HasSubstr("\"header\":\"X-A\""));
  EXPECT_TRUE(session_.Finished());
}

struct Refused {
  std::string wire;
  int status;
  std::string reason;
  std::string header;
};

TEST(RequestParserTest, EachMalformedOrAmbiguousHeadIsRefusedNamingTheHeader) {
  std::string many;
  for (int i = 0; i < 65; ++i) absl::StrAppend(&many, "X-", i, ": v\r\n");
  const std::vector<Refused> cases = {
      {"GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", 400, "HEADER_FOLDED", "X-A"},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\nx", 400, "CONTENT_LENGTH_DUPLICATE",
       "content-length"},
      {"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx", 400, "CONTENT_LENGTH_INVALID", "Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413, "BODY_TOO_LARGE", "Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nx", 400,
       "CONTENT_LENGTH_CONFLICT", "Transfer-Encoding"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "TRANSFER_ENCODING_UNSUPPORTED",
       "Transfer-Encoding"},
      {"GET / HTTP/1.1\r\nX-A: a\x01z\r\n\r\n", 400, "HEADER_VALUE_INVALID", "X-A"},
      {"GET / HTTP/1.1\r\nX A: a\r\n\r\n", 400, "HEADER_NAME_INVALID", "X?A"},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "HEADER_NAME_INVALID", "NoColon"},
      {"GET /\xff HTTP/1.1\r\n\r\n", 400, "REQUEST_TARGET_INVALID", ""},
      {"GET http://x/ HTTP/1.1\r\n\r\n", 400, "REQUEST_TARGET_INVALID", ""},
      {"GET / HTTP/2.0\r\n\r\n", 400, "REQUEST_LINE_INVALID", ""},
      {"GET  / HTTP/1.1\r\n\r\n", 400, "REQUEST_LINE_INVALID", ""},
      {absl::StrCat("GET / HTTP/1.1\r\n", many, "\r\n"), 431, "TOO_MANY_HEADERS", ""},
      {absl::StrCat("GET / HTTP/1.1\r\nX-Big: ", std::string(20000, 'a'), "\r\n\r\n"), 431,
       "HEADERS_TOO_LARGE", ""},
      {absl::StrCat("GET / HTTP/1.1\r\nX-Big: ", std::string(20000, 'a')), 431, "HEADERS_TOO_LARGE", ""},
  };
  for (const Refused& c : cases) {
    SCOPED_TRACE(c.reason);
    RequestParser parser(HttpLimits{});
    parser.Feed(c.wire);
    RequestParser::Next next = parser.Take();
    ASSERT_TRUE(next.refusal.has_value());
    EXPECT_FALSE(next.request.has_value());
    EXPECT_EQ(next.refusal->reason, c.reason);
    const RefusalAnswer answer = RefusalResponse(*next.refusal);
    EXPECT_EQ(answer.status, c.status);
    EXPECT_THAT(answer.json, HasSubstr(absl::StrCat("\"reason\":\"", c.reason, "\"")));
    if (!c.header.empty()) {
      EXPECT_THAT(answer.json, HasSubstr(absl::StrCat("\"header\":\"", c.header, "\"")));
    }
    EXPECT_TRUE(parser.refused());
    parser.Feed("GET / HTTP/1.1\r\n\r\n");
    EXPECT_FALSE(parser.Take().request.has_value()) << "nothing is read after a refusal";
  }
}

TEST(RequestParserTest, NonAsciiHeaderBytesAreHttpValidAndLeftToTheGateway) {
  RequestParser parser(HttpLimits{});
  parser.Feed("GET / HTTP/1.1\r\nX-Request-Id: \xc3\xbc\r\n\r\n");
  RequestParser::Next next = parser.Take();
  ASSERT_TRUE(next.request.has_value());
  EXPECT_EQ(next.request->headers[0].second, "\xc3\xbc");
}

TEST(RequestParserTest, Http10ClosesUnlessKeepAlive) {
  RequestParser parser(HttpLimits{});
  parser.Feed("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_FALSE(parser.Take().request->keep_alive);
  EXPECT_TRUE(parser.Take().request->keep_alive);
}

}  // namespace
}  // namespace tradein::http
