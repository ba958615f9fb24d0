// Fuzzes the JSON gateway's whole HTTP request path in process, raw bytes in: the strict parser and one
// connection's session (services/http/http_session.h: framing, limits, folded lines, pipelining), then for
// each whole request the gateway's front (services/gateway/gateway_front.h: routing by the google.api.http
// annotations, 404/405, CORS and preflight, /healthz, /readyz, /v1/openapi.json, the request message from the
// JSON body, query and path, the headers passed on as gRPC metadata), and the answers back to raw bytes. The
// gRPC call itself is not made: a request the front would call with is answered 200 with its message as JSON.
//
// Properties, besides "no sanitizer report": every answer the front gives is one of 200, 204, 400, 403, 404,
// 405 (never a 5xx: the front has no fault of its own to report) with a JSON body (but 204); a 405 says
// Allow; a call has a method, its request message, and metadata gRPC will take (printable ASCII: anything
// else would abort the server inside gRPC, issue 9's defect 6), only authorization and x-request-id; the
// output is a sequence of HTTP/1.1 answers.
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "services/gateway/gateway_front.h"
#include "services/http/http_session.h"
#include "tests/fuzz/fuzz_support.h"

namespace tradein::fuzz {
namespace {

const gateway::GatewayFront& Front() {
  static const gateway::GatewayFront* const front =
      gateway::GatewayFront::Create(gateway::GatewayOptions{{"https://portal.example.cn"}}).value().release();
  return *front;
}

bool HasHeader(const http::HttpResponse& response, absl::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (absl::EqualsIgnoreCase(key, name)) return true;
  }
  return false;
}

http::HttpResponse Answer(const http::HttpRequest& request) {
  gateway::Translation translation = Front().Translate(request);
  http::HttpResponse response;
  if (translation.answer.has_value()) {
    response = *std::move(translation.answer);
    const int status = response.status;
    FUZZ_CHECK(
        status == 200 || status == 204 || status == 400 || status == 403 || status == 404 || status == 405,
        absl::StrCat(status, " ", request.method, " ", request.path, "\n", response.body));
    FUZZ_CHECK(status == 204 || absl::StartsWith(response.body, "{"), response.body);
    FUZZ_CHECK(status != 405 || HasHeader(response, "Allow"), request.path);
  } else {
    FUZZ_CHECK(translation.method != nullptr && translation.request != nullptr, request.path);
    FUZZ_CHECK(translation.request->GetDescriptor() == translation.method->input_type(), request.path);
    for (const auto& [key, value] : translation.metadata) {
      FUZZ_CHECK(key == "authorization" || key == "x-request-id", key);
      for (const char c : value) FUZZ_CHECK(c >= 0x20 && c < 0x7f, absl::StrCat(key, ": ", value));
    }
    std::string json;
    FUZZ_CHECK(google::protobuf::util::MessageToJsonString(*translation.request, &json).ok(), request.path);
    response = {200, "application/json", std::move(json), {}};
  }
  response.headers.insert(response.headers.end(), translation.cors_headers.begin(),
                          translation.cors_headers.end());
  return response;
}

}  // namespace
}  // namespace tradein::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tradein;
  http::HttpSession session(http::HttpLimits{}, "127.0.0.1:40000");
  const http::HttpSession::Dispatch dispatch = [&session](http::HttpRequest request, uint64_t slot) {
    session.Answer(slot, fuzz::Answer(request));
  };
  session.Receive(absl::string_view(reinterpret_cast<const char*>(data), size), dispatch);
  session.EndOfInput(dispatch);
  const std::string output = session.TakeOutput();
  FUZZ_CHECK(output.empty() || absl::StartsWith(output, "HTTP/1.1 "), output.substr(0, 64));
  FUZZ_CHECK(session.Finished(), "every request answered once the input ended");
  return 0;
}
