#include "services/http/http_session.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace tradein::http {
namespace {

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

HttpRequest ToRequest(ParsedRequest parsed, const std::string& peer) {
  HttpRequest out;
  out.method = std::move(parsed.method);
  const size_t question = parsed.target.find('?');
  out.path = parsed.target.substr(0, question);
  if (question != std::string::npos) out.query = parsed.target.substr(question + 1);
  out.body = std::move(parsed.body);
  out.headers = std::move(parsed.headers);
  out.peer = peer;
  return out;
}

}  // namespace

std::string HttpRequest::Header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

bool HttpSession::WantsInput() const {
  return !closing_ && !input_ended_ && slots_.size() < kMaxInFlight &&
         parser_.buffered() <= limits_.max_head_bytes + limits_.max_body_bytes;
}

void HttpSession::Receive(absl::string_view bytes, const Dispatch& dispatch) {
  parser_.Feed(bytes);
  while (!closing_ && slots_.size() < kMaxInFlight) {
    RequestParser::Next next = parser_.Take();
    if (next.refusal.has_value()) {
      Log(LogLevel::kInfo, "http_refused",
          {{"reason", next.refusal->reason}, {"header", next.refusal->header}, {"peer", peer_}});
      const RefusalAnswer refused = RefusalResponse(*next.refusal);
      closing_ = true;
      slots_.push_back(
          {next_slot_++, false, true, HttpResponse{refused.status, "application/json", refused.json, {}}});
      break;
    }
    if (!next.request.has_value()) {
      if (input_ended_) closing_ = true;  // nothing whole is left, and nothing more will come
      break;
    }
    continue_sent_ = false;
    const uint64_t slot = next_slot_++;
    closing_ = !next.request->keep_alive;
    slots_.push_back({slot, next.request->method == "HEAD", closing_, std::nullopt});
    dispatch(ToRequest(*std::move(next.request), peer_), slot);  // may answer at once
  }
  // A client that asked to be told before it sends the body hears so once earlier answers are out.
  if (parser_.AwaitsBody() && slots_.empty() && !continue_sent_) {
    absl::StrAppend(&output_, "HTTP/1.1 100 Continue\r\n\r\n");
    continue_sent_ = true;
  }
  MoveAnswersToOutput();
}

void HttpSession::EndOfInput(const Dispatch& dispatch) {
  input_ended_ = true;
  Receive("", dispatch);
}

void HttpSession::Answer(uint64_t slot, HttpResponse response) {
  for (Slot& waiting : slots_) {
    if (waiting.id == slot && !waiting.answer.has_value()) waiting.answer = std::move(response);
  }
  MoveAnswersToOutput();
}

void HttpSession::MoveAnswersToOutput() {
  while (!slots_.empty() && slots_.front().answer.has_value()) {
    Append(*slots_.front().answer, slots_.front());
    slots_.pop_front();
  }
}

void HttpSession::Append(const HttpResponse& response, const Slot& slot) {
  // A 204 has no body, and then no Content-Type or Content-Length either (RFC 9110, 8.6).
  const bool no_content = response.status == 204;
  absl::StrAppend(&output_, "HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status), "\r\n");
  if (!no_content) {
    absl::StrAppend(&output_, "Content-Type: ", response.content_type,
                    "\r\nContent-Length: ", response.body.size(), "\r\n");
  }
  for (const auto& [name, value] : response.headers) absl::StrAppend(&output_, name, ": ", value, "\r\n");
  if (slot.close_after) absl::StrAppend(&output_, "Connection: close\r\n");
  absl::StrAppend(&output_, "\r\n");
  if (!slot.head_only && !no_content) output_.append(response.body);
}

}  // namespace tradein::http
