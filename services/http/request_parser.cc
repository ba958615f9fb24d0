#include "services/http/request_parser.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log.h"

namespace tradein::http {
namespace {

constexpr size_t kMaxMethodBytes = 16;
constexpr size_t kMaxContentLengthDigits = 18;  // below 2^63
constexpr size_t kMaxNameInRefusal = 64;

// RFC 9110 tchar.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsToken(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

// A header value may hold visible ASCII, spaces, tabs and (RFC 9110 obs-text) bytes ≥ 0x80.
bool IsValueByte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == '\t' || (byte >= 0x20 && byte != 0x7f);
}

bool IsDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// A header name as it may appear in a refusal: token characters only ('?' for others), bounded.
std::string PrintableName(absl::string_view name) {
  std::string out;
  for (char c : name.substr(0, kMaxNameInRefusal)) out.push_back(IsTokenChar(c) ? c : '?');
  return out;
}

// The index just past the blank line that ends a head ("\n\n" or "\n\r\n"), or npos.
size_t FindHeadEnd(absl::string_view text) {
  for (size_t i = text.find('\n'); i != absl::string_view::npos; i = text.find('\n', i + 1)) {
    if (i + 1 < text.size() && text[i + 1] == '\n') return i + 2;
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') return i + 3;
  }
  return absl::string_view::npos;
}

bool HasToken(absl::string_view list, absl::string_view token) {
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(item), token)) return true;
  }
  return false;
}

struct RefusalText {
  absl::string_view reason;
  int status;
  int code;  // google.rpc.Code
  absl::string_view what;
};

// The one table of refusals: HTTP status, gRPC code and the English text (reasons are stable codes).
constexpr RefusalText kRefusals[] = {
    {"HEADERS_TOO_LARGE", 431, 3, "the request line and headers are over the size limit (16 KiB)"},
    {"TOO_MANY_HEADERS", 431, 3, "the request has more headers than the limit (64)"},
    {"HEADER_FOLDED", 400, 3, "folded header lines (obs-fold) are not accepted"},
    {"HEADER_NAME_INVALID", 400, 3, "a header name must be an RFC 9110 token"},
    {"HEADER_VALUE_INVALID", 400, 3, "a header value must not contain control characters"},
    {"CONTENT_LENGTH_DUPLICATE", 400, 3, "Content-Length must be sent once"},
    {"CONTENT_LENGTH_INVALID", 400, 3, "Content-Length must be a decimal number of bytes"},
    {"CONTENT_LENGTH_CONFLICT", 400, 3, "Content-Length and Transfer-Encoding must not be sent together"},
    {"TRANSFER_ENCODING_UNSUPPORTED", 501, 12, "request bodies must be sent with a Content-Length"},
    {"BODY_TOO_LARGE", 413, 3, "the request body is over the size limit (4 MiB)"},
    {"REQUEST_LINE_INVALID", 400, 3, "the request line must read METHOD /path HTTP/1.1"},
    {"REQUEST_TARGET_INVALID", 400, 3,
     "the request target must start with / and hold printable ASCII only (percent-encode the rest)"},
};

// Sets `out` to `refusal`; returns no head.
std::nullopt_t Refuse(Refusal& out, Refusal refusal) {
  out = std::move(refusal);
  return std::nullopt;
}

}  // namespace

void RequestParser::Feed(absl::string_view bytes) {
  if (refused_) return;
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {  // compact now and then
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

RequestParser::Next RequestParser::Take() {
  awaits_body_ = false;
  if (refused_) return {};
  absl::string_view rest = absl::string_view(buffer_).substr(consumed_);
  while (!rest.empty() && (rest.front() == '\r' || rest.front() == '\n')) {  // RFC 9112 section 2.2
    rest.remove_prefix(1);
    ++consumed_;
  }
  const size_t end = FindHeadEnd(rest.substr(0, limits_.max_head_bytes));
  Refusal refusal;
  std::optional<Head> head;
  if (end == absl::string_view::npos) {
    if (rest.size() <= limits_.max_head_bytes) return {};
    refusal = {"HEADERS_TOO_LARGE", ""};
  } else {
    head = ParseHead(rest.substr(0, end), refusal);
  }
  if (!head.has_value()) {
    refused_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    consumed_ = 0;
    return {std::nullopt, std::move(refusal)};
  }
  if (rest.size() - end < head->content_length) {
    awaits_body_ = head->expects_continue;
    return {};
  }
  head->request.body = std::string(rest.substr(end, head->content_length));
  consumed_ += end + head->content_length;
  return {std::move(head->request), std::nullopt};
}

std::optional<RequestParser::Head> RequestParser::ParseHead(absl::string_view text, Refusal& refusal) const {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (absl::string_view& line : lines) absl::ConsumeSuffix(&line, "\r");
  const std::vector<absl::string_view> parts = absl::StrSplit(lines[0], ' ');
  if (parts.size() != 3 || parts[0].size() > kMaxMethodBytes || !IsToken(parts[0]) ||
      (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0")) {
    return Refuse(refusal, {"REQUEST_LINE_INVALID", ""});
  }
  const bool printable = std::all_of(parts[1].begin(), parts[1].end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7f;
  });
  if (parts[1].empty() || parts[1].front() != '/' || !printable) {
    return Refuse(refusal, {"REQUEST_TARGET_INVALID", ""});
  }
  Head head;
  head.request.method = std::string(parts[0]);
  head.request.target = std::string(parts[1]);
  const bool http10 = parts[2] == "HTTP/1.0";
  head.request.keep_alive = !http10;
  bool content_length = false;
  bool transfer_encoding = false;
  for (size_t i = 1; i < lines.size() && !lines[i].empty(); ++i) {
    const absl::string_view line = lines[i];
    const std::string previous = head.request.headers.empty() ? "" : head.request.headers.back().first;
    if (line.front() == ' ' || line.front() == '\t') return Refuse(refusal, {"HEADER_FOLDED", previous});
    if (head.request.headers.size() >= limits_.max_headers) return Refuse(refusal, {"TOO_MANY_HEADERS", ""});
    const size_t colon = line.find(':');
    const absl::string_view name = line.substr(0, colon);
    if (colon == absl::string_view::npos || !IsToken(name)) {
      return Refuse(refusal, {"HEADER_NAME_INVALID", std::string(name)});
    }
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (!std::all_of(value.begin(), value.end(), IsValueByte)) {
      return Refuse(refusal, {"HEADER_VALUE_INVALID", std::string(name)});
    }
    head.request.headers.emplace_back(std::string(name), std::string(value));
    if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) transfer_encoding = true;
    if (absl::EqualsIgnoreCase(name, "Connection")) {
      if (HasToken(value, "close")) head.request.keep_alive = false;
      if (http10 && HasToken(value, "keep-alive")) head.request.keep_alive = true;
    }
    if (absl::EqualsIgnoreCase(name, "Expect") && absl::EqualsIgnoreCase(value, "100-continue")) {
      head.expects_continue = true;
    }
    if (!absl::EqualsIgnoreCase(name, "Content-Length")) continue;
    if (content_length) return Refuse(refusal, {"CONTENT_LENGTH_DUPLICATE", std::string(name)});
    content_length = true;
    if (value.size() > kMaxContentLengthDigits || !IsDigits(value) ||
        !absl::SimpleAtoi(value, &head.content_length)) {
      return Refuse(refusal, {"CONTENT_LENGTH_INVALID", std::string(name)});
    }
    if (head.content_length > limits_.max_body_bytes) {
      return Refuse(refusal, {"BODY_TOO_LARGE", std::string(name)});
    }
  }
  if (transfer_encoding) {
    return Refuse(refusal, {content_length ? "CONTENT_LENGTH_CONFLICT" : "TRANSFER_ENCODING_UNSUPPORTED",
                            "Transfer-Encoding"});
  }
  return head;
}

RefusalAnswer RefusalResponse(const Refusal& refusal) {
  RefusalText text{refusal.reason, 400, 3, "the request is not valid HTTP/1.1"};
  for (const RefusalText& known : kRefusals) {
    if (known.reason == refusal.reason) text = known;
  }
  const std::string header = PrintableName(refusal.header);
  const std::string message =
      header.empty() ? std::string(text.what) : absl::StrCat("header \"", header, "\": ", text.what);
  std::string json = absl::StrCat("{\"code\":", text.code, ",\"message\":");
  AppendJsonString(json, message);
  absl::StrAppend(&json, ",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":");
  AppendJsonString(json, text.reason);
  absl::StrAppend(&json, ",\"domain\":\"tradein.v1\"");
  if (!header.empty()) {
    absl::StrAppend(&json, ",\"metadata\":{\"header\":");
    AppendJsonString(json, header);
    json.push_back('}');
  }
  absl::StrAppend(&json, "}]}");
  return {text.status, std::move(json)};
}

}  // namespace tradein::http
