// -----------------------------------------------------------------------------
// File: http_session.h
// -----------------------------------------------------------------------------
//
// One client connection's HTTP/1.1 conversation, without the socket: raw bytes in, whole requests handed to
// a dispatch function in order, answers (which may come later, in any order) turned back into raw bytes in
// request order. Keep-alive and pipelining as HTTP/1.1 has them; a refused request (request_parser.h) is
// answered with its JSON error and ends the connection, after the answers to the requests before it.
//
// This is the seam for fuzzing the whole HTTP request path in process: feed a session raw bytes with a
// dispatch that calls the real handler (e.g. the JSON gateway), pass its answers to Answer(), and read
// TakeOutput(). HttpServer (http_server.h) is this class plus a libevent socket per connection.
//
//   HttpSession session(HttpLimits{}, "127.0.0.1:5555");
//   session.Receive(bytes, [&](HttpRequest request, uint64_t slot) { answers.push_back({slot,
//   Handle(request)}); }); for (auto& [slot, response] : answers) session.Answer(slot, std::move(response));
//   std::string wire = session.TakeOutput();
//
// Bounds: at most kMaxInFlight requests wait for answers; WantsInput() turns false at that point and while
// more than a head and a body are buffered, and the transport then stops reading until it turns true again.
//
// Thread safety: a session belongs to one thread (the server's loop thread).
#ifndef TRADEIN_SERVICES_HTTP_HTTP_SESSION_H_
#define TRADEIN_SERVICES_HTTP_HTTP_SESSION_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/http/request_parser.h"

namespace tradein::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::string query;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string peer;  // "ip:port"

  // The first header named `name` (case-insensitive), or "".
  std::string Header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpSession {
 public:
  static constexpr size_t kMaxInFlight = 16;

  // Called once per whole request, in order; `slot` names the request for Answer().
  using Dispatch = std::function<void(HttpRequest request, uint64_t slot)>;

  HttpSession(HttpLimits limits, std::string peer)
      : limits_(limits), parser_(limits), peer_(std::move(peer)) {}

  // Takes bytes the client sent (may be empty: then only parses what is buffered, e.g. after an answer freed
  // room) and dispatches every whole request there is room for.
  void Receive(absl::string_view bytes, const Dispatch& dispatch);
  // The client sent its last byte (half-close): the requests already received are still answered.
  void EndOfInput(const Dispatch& dispatch);
  // The answer to `slot`; unknown slots are ignored.
  void Answer(uint64_t slot, HttpResponse response);

  // The bytes to send now (answers in request order, "100 Continue").
  std::string TakeOutput() { return std::exchange(output_, std::string()); }
  // True when no more requests will be read and every answer has been taken: close once it is sent.
  bool Finished() const { return closing_ && slots_.empty() && output_.empty(); }
  // False while the transport should not read (too many answers pending, too much buffered, closing).
  bool WantsInput() const;
  // True while no request waits for its answer.
  bool Idle() const { return slots_.empty(); }

 private:
  struct Slot {
    uint64_t id = 0;
    bool head_only = false;    // HEAD: the answer has no body
    bool close_after = false;  // the connection ends with this answer
    std::optional<HttpResponse> answer;
  };

  void MoveAnswersToOutput();
  void Append(const HttpResponse& response, const Slot& slot);

  const HttpLimits limits_;
  RequestParser parser_;
  const std::string peer_;
  std::deque<Slot> slots_;
  uint64_t next_slot_ = 0;
  std::string output_;
  bool closing_ = false;      // no more requests are read: a refusal, "Connection: close", end of input
  bool input_ended_ = false;  // the client half-closed
  bool continue_sent_ = false;
};

}  // namespace tradein::http

#endif  // TRADEIN_SERVICES_HTTP_HTTP_SESSION_H_
