#include "services/gateway/json_gateway.h"

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/reasons.h"
#include "common/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/byte_buffer.h"

namespace tradein::gateway {

struct Route {
  std::string http_method;
  std::string prefix;       // the path before the variable (or the whole path)
  std::string suffix;       // after the variable, e.g. ":confirm"
  std::string path_field;   // proto field the variable fills; "" = no variable
  std::string grpc_method;  // "tradein.v1.ClaimService.ConfirmClaim"
  bool server_streaming = false;
};

namespace {

using google::protobuf::Descriptor;
using google::protobuf::Message;

constexpr absl::Duration kUnaryDeadline = absl::Seconds(10);
// The headers passed on as gRPC metadata, and the most bytes each may hold (a bearer key is 64 hex digits; a
// request id up to 128 characters).
struct ForwardedHeader {
  const char* name;
  size_t max_bytes;
};
constexpr ForwardedHeader kForwardedHeaders[] = {{"authorization", 512}, {"x-request-id", 128}};
constexpr absl::Duration kExportDeadline = absl::Seconds(60);
constexpr int kMaxExportedPerResponse = 10000;

std::vector<Route> MakeRoutes() {
  return {
      {"POST", "/v1/quote", "", "", "tradein.v1.SubsidyService.Quote"},
      {"POST", "/v1/claims", "", "", "tradein.v1.ClaimService.Claim"},
      {"POST", "/v1/claims/", ":confirm", "claim_id", "tradein.v1.ClaimService.ConfirmClaim"},
      {"POST", "/v1/claims/", ":cancel", "claim_id", "tradein.v1.ClaimService.CancelClaim"},
      {"POST", "/v1/claims/", ":refund", "claim_id", "tradein.v1.ClaimService.RefundClaim"},
      {"GET", "/v1/claims/", "", "claim_id", "tradein.v1.ClaimService.GetClaim"},
      {"POST", "/v1/buyer-usage:query", "", "", "tradein.v1.ClaimService.GetBuyerUsage"},
      {"POST", "/v1/budget-usage:query", "", "", "tradein.v1.ClaimService.GetBudgetUsage"},
      {"GET", "/v1/policies", "", "", "tradein.v1.PolicyService.ListPolicies"},
      {"GET", "/v1/policies/", "", "policy_id", "tradein.v1.PolicyService.GetPolicy"},
      {"GET", "/v1/reasons", "", "", "tradein.v1.PolicyService.ListReasons"},
      {"POST", "/v1/portal/claims:list", "", "", "tradein.v1.PortalService.ListClaims"},
      {"POST", "/v1/portal/claims:export", "", "", "tradein.v1.PortalService.ExportClaims", true},
      {"POST", "/v1/portal/totals", "", "", "tradein.v1.PortalService.GetTotals"},
      {"POST", "/v1/admin/policies:reload", "", "", "tradein.v1.PortalService.ReloadPolicies"},
      {"POST", "/v1/admin/claims/", ":void", "claim_id", "tradein.v1.PortalService.VoidClaim"},
      {"POST", "/v1/admin/claims/", ":correct", "claim_id", "tradein.v1.PortalService.CorrectClaim"},
  };
}

// The route for (method, path) and the path variable's value.
const Route* Match(const std::vector<Route>& routes, const http::HttpRequest& request,
                   std::string& variable) {
  for (const Route& route : routes) {
    if (route.http_method != request.method) continue;
    if (route.path_field.empty()) {
      if (request.path == route.prefix) return &route;
      continue;
    }
    if (!absl::StartsWith(request.path, route.prefix) || !absl::EndsWith(request.path, route.suffix))
      continue;
    const size_t length = request.path.size() - route.prefix.size() - route.suffix.size();
    if (request.path.size() < route.prefix.size() + route.suffix.size() || length == 0) continue;
    variable = request.path.substr(route.prefix.size(), length);
    if (variable.find('/') != std::string::npos || variable.find(':') != std::string::npos) continue;
    return &route;
  }
  return nullptr;
}

std::string UrlDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size()) {
      int value = 0;
      if (absl::SimpleHexAtoi(text.substr(i + 1, 2), &value)) {
        out.push_back(static_cast<char>(value));
        i += 2;
      } else {
        out.push_back(text[i]);
      }
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code_point = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xe0) == 0xc0) {
      length = 2;
      code_point = byte & 0x1fu;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      code_point = byte & 0x0fu;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      code_point = byte & 0x07u;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3fu);
    }
    constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[length] || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff))
      return false;
    i += length;
  }
  return true;
}

// Errors the gateway raises itself (a bad query parameter, no such route) get the zh-CN
// google.rpc.LocalizedMessage every error of the service carries (services/api/grpc_status.h).
void AddChineseIfMissing(google::rpc::Status& details) {
  std::string reason;
  for (const google::protobuf::Any& any : details.details()) {
    if (any.Is<google::rpc::LocalizedMessage>()) return;
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) reason = info.reason();
  }
  google::rpc::LocalizedMessage localized;
  localized.set_locale(std::string(kErrorLocale));
  localized.set_message(std::string(ChineseTextFor(reason, static_cast<absl::StatusCode>(details.code()))));
  details.add_details()->PackFrom(localized);
}

std::string StatusJson(const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    details.set_code(status.error_code());
    details.set_message(status.error_message());
  }
  AddChineseIfMissing(details);
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(details, &json).ok()) {
    json = absl::StrCat("{\"code\":", status.error_code(), "}");
  }
  return json;
}

// Seconds of a google.rpc.RetryInfo in the status details, rounded up; 0 when none.
int64_t RetryAfterSeconds(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return 0;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry))
      return retry.retry_delay().seconds() + (retry.retry_delay().nanos() > 0 ? 1 : 0);
  }
  return 0;
}

http::HttpResponse ErrorResponse(const grpc::Status& status) {
  http::HttpResponse response{HttpStatusOf(status.error_code()), "application/json", StatusJson(status), {}};
  if (const int64_t retry = RetryAfterSeconds(status); retry > 0) {
    response.headers.emplace_back("Retry-After", absl::StrCat(retry));
  }
  return response;
}

// INVALID_ARGUMENT with an ErrorInfo of `reason`, and its metadata (e.g. {"header", "x-request-id"}).
grpc::Status Invalid(absl::string_view reason, absl::string_view message,
                     std::initializer_list<std::pair<const char*, std::string>> metadata = {}) {
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::INVALID_ARGUMENT);
  details.set_message(std::string(message));
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain("tradein.v1");
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[key] = value;
  details.add_details()->PackFrom(info);
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message), details.SerializeAsString());
}

// A query parameter, the path variable: their decoded text must be UTF-8 (protobuf strings are).
grpc::Status NotUtf8(absl::string_view where) {
  return Invalid("NOT_UTF8", absl::StrCat(where, ": the decoded text is not valid UTF-8"),
                 {{"field", std::string(where)}});
}

const google::protobuf::FieldDescriptor* FieldByJsonName(const Descriptor& descriptor,
                                                         const std::string& name) {
  for (int i = 0; i < descriptor.field_count(); ++i) {
    if (descriptor.field(i)->json_name() == name) return descriptor.field(i);
  }
  return nullptr;
}

// Builds the request message of `route` from the HTTP request: the JSON body, query parameters (GET), and the
// path variable.
grpc::Status BuildRequest(const Route& route, const http::HttpRequest& http, const std::string& variable,
                          Message& out) {
  if (!http.body.empty()) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto parsed = google::protobuf::util::JsonStringToMessage(http.body, &out, options);
    if (!parsed.ok()) return Invalid("JSON_INVALID", absl::StrCat("body: ", parsed.message().as_string()));
  }
  for (absl::string_view pair : absl::StrSplit(http.query, '&', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    const std::string name = UrlDecode(kv[0]);
    const std::string value = kv.size() > 1 ? UrlDecode(kv[1]) : "";
    if (!IsUtf8(name)) return NotUtf8("query");
    const google::protobuf::FieldDescriptor* field = FieldByJsonName(*out.GetDescriptor(), name);
    if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
        field->is_repeated()) {
      return Invalid("QUERY_PARAMETER_UNKNOWN", absl::StrCat("query parameter \"", name, "\" is not known"));
    }
    if (!IsUtf8(value)) return NotUtf8(field->json_name());
    out.GetReflection()->SetString(&out, field, value);
  }
  if (!route.path_field.empty()) {
    const google::protobuf::FieldDescriptor* field = out.GetDescriptor()->FindFieldByName(route.path_field);
    const std::string value = UrlDecode(variable);
    if (!IsUtf8(value)) return NotUtf8(field->json_name());
    out.GetReflection()->SetString(&out, field, value);
  }
  return grpc::Status::OK;
}

// Checks the headers passed on as gRPC metadata and adds them to `context`. gRPC refuses (by aborting the
// process) a metadata value outside printable ASCII, so every byte is checked here first.
grpc::Status SetUpContext(const http::HttpRequest& http, absl::Duration deadline,
                          grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  for (const ForwardedHeader& header : kForwardedHeaders) {
    const std::string value = http.Header(header.name);
    const bool printable =
        std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    if (!printable || value.size() > header.max_bytes) {
      return Invalid("HEADER_VALUE_INVALID",
                     absl::StrCat("header \"", header.name, "\": must be printable ASCII, at most ",
                                  header.max_bytes, " bytes"),
                     {{"header", header.name}});
    }
    if (!value.empty()) context.AddMetadata(header.name, value);
  }
  return grpc::Status::OK;
}

grpc::ByteBuffer ToBuffer(const Message& message) {
  const std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

bool FromBuffer(const grpc::ByteBuffer& buffer, Message& out) {
  grpc::Slice slice;
  if (!buffer.TrySingleSlice(&slice).ok() && !buffer.DumpToSingleSlice(&slice).ok()) return false;
  return out.ParseFromArray(slice.begin(), static_cast<int>(slice.size()));
}

// One unary call in flight.
struct UnaryCall {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  std::unique_ptr<Message> response_message;
  http::Respond respond;
};

// One export in flight: reads the stream into NDJSON, up to kMaxExportedPerResponse entries.
class ExportCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit ExportCall(const Descriptor* response_type)
      : message_(google::protobuf::MessageFactory::generated_factory()->GetPrototype(response_type)->New()) {}

  grpc::ClientContext& context() { return context_; }
  void set_respond(http::Respond respond) { respond_ = std::move(respond); }
  void Start(grpc::ByteBuffer request) {
    request_ = std::move(request);
    StartWrite(&request_);
    StartWritesDone();
    StartRead(&read_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    std::string json;
    if (FromBuffer(read_, *message_) && google::protobuf::util::MessageToJsonString(*message_, &json).ok()) {
      absl::StrAppend(&body_, json, "\n");
    }
    if (++count_ >= kMaxExportedPerResponse) {
      context_.TryCancel();
      return;
    }
    StartRead(&read_);
  }

  void OnDone(const grpc::Status& status) override {
    const bool cut_on_purpose = count_ >= kMaxExportedPerResponse && status.error_code() == grpc::CANCELLED;
    if (status.ok() || cut_on_purpose) {
      std::move(respond_)({200, "application/x-ndjson", std::move(body_), {}});
    } else {
      std::move(respond_)(ErrorResponse(status));
    }
    delete this;
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer read_;
  std::unique_ptr<Message> message_;
  http::Respond respond_;
  std::string body_;
  int count_ = 0;
};

}  // namespace

int HttpStatusOf(int grpc_code) {
  switch (grpc_code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

JsonGateway::JsonGateway(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), stub_(channel_), routes_(MakeRoutes()) {}

JsonGateway::~JsonGateway() = default;

void JsonGateway::Handle(http::HttpRequest request, http::Respond respond) {
  std::string variable;
  const Route* route = Match(routes_, request, variable);
  if (route == nullptr) {
    std::move(respond)(ErrorResponse(grpc::Status(
        grpc::StatusCode::NOT_FOUND, absl::StrCat("no route for ", request.method, " ", request.path))));
    return;
  }
  const google::protobuf::MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(route->grpc_method);
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> message(factory->GetPrototype(method->input_type())->New());
  if (grpc::Status status = BuildRequest(*route, request, variable, *message); !status.ok()) {
    std::move(respond)(ErrorResponse(status));
    return;
  }
  const std::string grpc_path = absl::StrCat("/", method->service()->full_name(), "/", method->name());
  if (route->server_streaming) {
    auto call = std::make_unique<ExportCall>(method->output_type());
    if (grpc::Status status = SetUpContext(request, kExportDeadline, call->context()); !status.ok()) {
      std::move(respond)(ErrorResponse(status));
      return;
    }
    call->set_respond(std::move(respond));
    stub_.PrepareBidiStreamingCall(&call->context(), grpc_path, {}, call.get());
    call.release()->Start(ToBuffer(*message));  // deletes itself in OnDone
    return;
  }
  auto call = std::make_shared<UnaryCall>();
  call->request = ToBuffer(*message);
  call->response_message.reset(factory->GetPrototype(method->output_type())->New());
  if (grpc::Status status = SetUpContext(request, kUnaryDeadline, call->context); !status.ok()) {
    std::move(respond)(ErrorResponse(status));
    return;
  }
  call->respond = std::move(respond);
  stub_.UnaryCall(
      &call->context, grpc_path, {}, &call->request, &call->response, [call](grpc::Status status) {
        std::string json;
        if (status.ok() &&
            (!FromBuffer(call->response, *call->response_message) ||
             !google::protobuf::util::MessageToJsonString(*call->response_message, &json).ok())) {
          status = grpc::Status(grpc::StatusCode::INTERNAL, "the answer could not be turned into JSON");
        }
        std::move(call->respond)(status.ok()
                                     ? http::HttpResponse{200, "application/json", std::move(json), {}}
                                     : ErrorResponse(status));
      });
}

}  // namespace tradein::gateway
