#include "services/gateway/json_gateway.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/claims_csv.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "tradein/v1/portal_service.pb.h"

namespace tradein::gateway {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::Message;

constexpr absl::Duration kUnaryDeadline = absl::Seconds(10);
constexpr absl::Duration kExportDeadline = absl::Seconds(60);
constexpr int kMaxExportedPerResponse = 10000;

void SetUpContext(const std::vector<std::pair<std::string, std::string>>& metadata, absl::Duration deadline,
                  grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
}

// GET /readyz: 200 while the server's overall health is SERVING, else 503 (with what it said).
http::HttpResponse ReadinessAnswer(const grpc::Status& status, const std::string& health_json) {
  if (!status.ok()) return {503, "application/json", "{\"status\":\"UNKNOWN\"}", {}};
  const bool serving = health_json.find("\"SERVING\"") != std::string::npos;
  return {serving ? 200 : 503, "application/json", health_json, {}};
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

// Whether the call asks for the settlement export as CSV (`Accept: text/csv` on the export route).
bool WantsCsv(const http::HttpRequest& request, const google::protobuf::MethodDescriptor& method) {
  return method.output_type() == v1::ExportedClaim::descriptor() &&
         absl::StrContains(absl::AsciiStrToLower(request.Header("Accept")), "text/csv");
}

// One export in flight: reads the stream into NDJSON (or, for the claims export with `csv`, CSV rows under
// Chinese headings: common/claims_csv.h), up to kMaxExportedPerResponse entries.
class ExportCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  ExportCall(const Descriptor* response_type, bool csv)
      : message_(google::protobuf::MessageFactory::generated_factory()->GetPrototype(response_type)->New()),
        csv_(csv) {
    if (csv_) body_ = ClaimsCsvHeader();
  }

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
    if (csv_) {
      v1::ExportedClaim exported;
      if (FromBuffer(read_, exported)) {
        absl::StrAppend(&body_, ClaimCsvRow(exported.claim()));
        resume_token_ = exported.resume_token();
      }
    } else if (std::string json; FromBuffer(read_, *message_) &&
                                 google::protobuf::util::MessageToJsonString(*message_, &json).ok()) {
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
    if (csv_ && (status.ok() || cut_on_purpose)) {
      // CSV rows carry no resume token: a cut answer names the last one in a header.
      std::vector<std::pair<std::string, std::string>> headers = {
          {"Content-Disposition", "attachment; filename=\"claims.csv\""}};
      if (cut_on_purpose) headers.emplace_back("Tradein-Resume-Token", resume_token_);
      std::move(respond_)({200, "text/csv; charset=utf-8", std::move(body_), std::move(headers)});
    } else if (status.ok() || cut_on_purpose) {
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
  const bool csv_;
  std::string body_;
  std::string resume_token_;  // of the last claim read (CSV)
  int count_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<JsonGateway>> JsonGateway::Create(std::shared_ptr<grpc::Channel> channel,
                                                                 GatewayOptions options,
                                                                 std::unique_ptr<Console> console) {
  absl::StatusOr<std::unique_ptr<GatewayFront>> front = GatewayFront::Create(std::move(options));
  if (!front.ok()) return front.status();
  return std::unique_ptr<JsonGateway>(
      new JsonGateway(std::move(channel), *std::move(front), std::move(console)));
}

JsonGateway::JsonGateway(std::shared_ptr<grpc::Channel> channel, std::unique_ptr<GatewayFront> front,
                         std::unique_ptr<Console> console)
    : channel_(std::move(channel)), stub_(channel_), front_(std::move(front)), console_(std::move(console)) {}

JsonGateway::~JsonGateway() = default;

void JsonGateway::Handle(http::HttpRequest request, http::Respond respond) {
  std::vector<std::pair<std::string, std::string>> headers;  // added to the answer
  if (console_ != nullptr && Console::Serves(request.path)) {
    ConsoleDecision decision = console_->Decide(std::move(request));
    headers = Console::SecurityHeaders();
    if (decision.answer.has_value()) {
      decision.answer->headers.insert(decision.answer->headers.end(), headers.begin(), headers.end());
      std::move(respond)(*std::move(decision.answer));
      return;
    }
    request = std::move(decision.forward);
  }
  Translation translation = front_->Translate(request);
  // Every answer carries the request's CORS headers.
  headers.insert(headers.end(), translation.cors_headers.begin(), translation.cors_headers.end());
  http::Respond answer = [headers = std::move(headers),
                          respond = std::move(respond)](http::HttpResponse response) mutable {
    response.headers.insert(response.headers.end(), headers.begin(), headers.end());
    std::move(respond)(std::move(response));
  };
  if (translation.answer.has_value()) {
    std::move(answer)(*std::move(translation.answer));
    return;
  }
  const google::protobuf::MethodDescriptor& method = *translation.method;
  const std::string grpc_path = absl::StrCat("/", method.service()->full_name(), "/", method.name());
  if (method.server_streaming()) {
    auto call = std::make_unique<ExportCall>(method.output_type(), WantsCsv(request, method));
    SetUpContext(translation.metadata, kExportDeadline, call->context());
    call->set_respond(std::move(answer));
    stub_.PrepareBidiStreamingCall(&call->context(), grpc_path, {}, call.get());
    call.release()->Start(ToBuffer(*translation.request));  // deletes itself in OnDone
    return;
  }
  auto call = std::make_shared<UnaryCall>();
  call->request = ToBuffer(*translation.request);
  call->response_message.reset(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(method.output_type())->New());
  SetUpContext(translation.metadata, kUnaryDeadline, call->context);
  call->respond = std::move(answer);
  const bool readiness = translation.readiness;
  stub_.UnaryCall(
      &call->context, grpc_path, {}, &call->request, &call->response, [call, readiness](grpc::Status status) {
        std::string json;
        if (status.ok() &&
            (!FromBuffer(call->response, *call->response_message) ||
             !google::protobuf::util::MessageToJsonString(*call->response_message, &json).ok())) {
          status = grpc::Status(grpc::StatusCode::INTERNAL, "the answer could not be turned into JSON");
        }
        if (readiness) return std::move(call->respond)(ReadinessAnswer(status, json));
        std::move(call->respond)(status.ok()
                                     ? http::HttpResponse{200, "application/json", std::move(json), {}}
                                     : ErrorResponse(status));
      });
}

}  // namespace tradein::gateway
