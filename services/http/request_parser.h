// -----------------------------------------------------------------------------
// File: request_parser.h
// -----------------------------------------------------------------------------
//
// A strict HTTP/1.1 request parser: raw bytes in (in any split), whole requests out, or a refusal of what
// could be read two ways by two parsers (request smuggling behind a proxy) or costs memory without bound:
//
//   - a request head (request line and headers) over `max_head_bytes`, or with more than `max_headers`;
//   - folded header lines (obs-fold: a line starting with a space or tab continues the previous one);
//   - a header name that is not an RFC 9110 token, a header value with a control byte (other than tab);
//   - two Content-Length headers, a Content-Length that is not digits, one above `max_body_bytes`;
//   - Transfer-Encoding (with Content-Length a conflict; alone unsupported: bodies come with a length);
//   - a request line that is not "METHOD /target HTTP/1.x" with printable ASCII in the target.
//
// Why our own parser and not libevent's evhttp: evhttp joins folded lines and keeps duplicate headers as it
// likes before our code sees anything, so a handler can no longer tell a folded line or which Content-Length
// framed the body. A bufferevent filter in front of evhttp (evhttp_set_bevcb) would see the raw bytes, but in
// libevent 2.1.12 a filter passes answers on only while evhttp has writing enabled, which it enables after
// adding the answer (the answer stalls), and evhttp counts an answer sent once the filter has it, then frees
// the connection with the answer's tail unsent. Parsing requests is the smaller and clearer piece of code.
//
// Thread safety: a RequestParser belongs to one connection.
#ifndef TRADEIN_SERVICES_HTTP_REQUEST_PARSER_H_
#define TRADEIN_SERVICES_HTTP_REQUEST_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace tradein::http {

struct HttpLimits {
  size_t max_head_bytes = 16 * 1024;  // request line and headers, with their line ends
  size_t max_headers = 64;
  size_t max_body_bytes = 4 * 1024 * 1024;
};

// Why a request was refused before it reached a handler. `reason` is a stable UPPER_SNAKE code; `header`
// names the header concerned ("" when none).
struct Refusal {
  std::string reason;
  std::string header;
};

struct ParsedRequest {
  std::string method;                                        // as sent: "GET", "POST", ...
  std::string target;                                        // "/v1/policies?regionCode=330381"
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed
  std::string body;
  bool keep_alive = true;  // HTTP/1.1 without "Connection: close", or HTTP/1.0 with "keep-alive"
};

class RequestParser {
 public:
  explicit RequestParser(HttpLimits limits) : limits_(limits) {}

  // Appends bytes the client sent.
  void Feed(absl::string_view bytes);

  // The next whole request, a refusal (after which the parser yields nothing more: once framing is in doubt
  // nothing after it is trusted), or nothing until more bytes come.
  struct Next {
    std::optional<ParsedRequest> request;
    std::optional<Refusal> refusal;
  };
  Next Take();

  // True when a complete head asked "Expect: 100-continue" and its body has not all arrived yet.
  bool AwaitsBody() const { return awaits_body_; }
  // Bytes received and not yet taken.
  size_t buffered() const { return buffer_.size() - consumed_; }
  bool refused() const { return refused_; }

 private:
  struct Head {
    ParsedRequest request;
    uint64_t content_length = 0;
    bool expects_continue = false;
  };
  // Checks the head in `text` (ending with its blank line); a Head, or the refusal.
  std::optional<Head> ParseHead(absl::string_view text, Refusal& refusal) const;

  const HttpLimits limits_;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already taken
  bool refused_ = false;
  bool awaits_body_ = false;
};

// The answer to a refused request: its HTTP status (400, 413, 431 or 501) and a JSON body shaped like the
// gateway's errors, a google.rpc.Status with a google.rpc.ErrorInfo whose reason is the refusal's and whose
// metadata names the header:
//   {"code":3,"message":"header \"X-A\": folded header lines (obs-fold) are not accepted",
//    "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"HEADER_FOLDED",
//                "domain":"tradein.v1","metadata":{"header":"X-A"}}]}
struct RefusalAnswer {
  int status = 400;
  std::string json;
};
RefusalAnswer RefusalResponse(const Refusal& refusal);

}  // namespace tradein::http

#endif  // TRADEIN_SERVICES_HTTP_REQUEST_PARSER_H_
