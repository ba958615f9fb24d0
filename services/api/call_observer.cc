#include "services/api/call_observer.h"

#include <algorithm>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/status.h"
#include "google/protobuf/descriptor.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/server_context.h"
#include "services/api/grpc_status.h"

namespace tradein::api {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

constexpr size_t kMaxRequestIdLength = 64;
constexpr int kCodeCount = 17;

absl::string_view TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

const char* CodeName(int code) {
  static constexpr const char* kNames[kCodeCount] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  return code >= 0 && code < kCodeCount ? kNames[code] : "UNKNOWN";
}

bool IsSaneRequestId(absl::string_view id) {
  return !id.empty() && id.size() <= kMaxRequestIdLength && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%016x", rng());
}

// INVALID_ARGUMENT for request bytes of `method` ("/tradein.v1.SubsidyService/Quote") that do not parse.
grpc::Status UnparsableRequest(absl::string_view method) {
  std::string name(method.substr(method.empty() ? 0 : 1));
  if (const size_t slash = name.rfind('/'); slash != std::string::npos) name[slash] = '.';
  const google::protobuf::MethodDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
  const std::string type = descriptor != nullptr ? descriptor->input_type()->full_name() : "request";
  return ToGrpcStatus(ReasonError(absl::StatusCode::kInvalidArgument, "REQUEST_UNPARSABLE",
                                  absl::StrCat("the request is not a valid ", type,
                                               " message (protobuf wire format, strings in UTF-8)")));
}

// The stable reason code of an error (its google.rpc.ErrorInfo in the details), "" for OK or none.
std::string ReasonOf(const grpc::Status& status) {
  if (status.ok() || status.error_details().empty()) return "";
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.type_url() == kErrorInfoTypeUrl && info.ParseFromString(any.value())) return info.reason();
  }
  return "";
}

class CallObserver final : public grpc::experimental::Interceptor {
 public:
  CallObserver(ServerRpcInfo* info, CallObserverFactory::MethodMetrics& metrics, CallRegistry& calls)
      : info_(info), metrics_(metrics), calls_(calls), start_(absl::Now()) {
    calls_.Begin(info_->server_context(), &call_);
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      OnStart(*methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparsable_ = true;  // the request's bytes did not deserialise
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      // gRPC's callback API answers a request it could not deserialise UNIMPLEMENTED with no message (1.51,
      // server_callback_handlers.h); the client sent bad bytes, and is told so.
      if (unparsable_ && methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
        methods->ModifySendStatus(UnparsableRequest(info_->method()));
      }
      const grpc::Status status = methods->GetSendStatus();
      OnFinish(status.error_code(), ReasonOf(status));
    }
    methods->Proceed();
  }

  ~CallObserver() override {
    if (!finished_) OnFinish(grpc::StatusCode::CANCELLED, "");  // the client went away before an answer
    calls_.End(info_->server_context());
  }

 private:
  void OnStart(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    metrics_.started->Increment();
    const auto sent = metadata.find("x-request-id");
    call_.request_id =
        sent != metadata.end() && IsSaneRequestId(absl::string_view(sent->second.data(), sent->second.size()))
            ? std::string(sent->second.data(), sent->second.size())
            : NewRequestId();
    info_->server_context()->AddTrailingMetadata("x-request-id", call_.request_id);
  }

  void OnFinish(int code, absl::string_view reason) {
    if (finished_) return;
    finished_ = true;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    metrics_.handled[static_cast<size_t>(std::clamp(code, 0, kCodeCount - 1))]->Increment();
    metrics_.seconds->Observe(seconds);
    Log(LogLevel::kInfo, "access",
        {{"request_id", call_.request_id},
         {"method", metrics_.method},
         {"code", CodeName(code)},
         {"reason", reason},
         {"latency_us", static_cast<int64_t>(seconds * 1e6)},
         {"caller", call_.caller_id},
         {"retailer", call_.retailer_id},
         {"claim_id", call_.claim_id}});
  }

  ServerRpcInfo* info_;
  CallObserverFactory::MethodMetrics& metrics_;
  CallRegistry& calls_;
  const absl::Time start_;
  CallInfo call_;
  bool unparsable_ = false;
  bool finished_ = false;
};

}  // namespace

CallObserverFactory::MethodMetrics& CallObserverFactory::MetricsFor(const char* method,
                                                                    ServerRpcInfo::Type type) {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (const auto it = methods_.find(method); it != methods_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<MethodMetrics>& entry = methods_[method];
  if (entry != nullptr) return *entry;
  entry = std::make_unique<MethodMetrics>();
  entry->method = method;
  const absl::string_view full(method);  // "/package.Service/Method"
  const size_t slash = full.rfind('/');
  const MetricLabels labels = {{"grpc_type", std::string(TypeName(type))},
                               {"grpc_service", std::string(full.substr(1, slash - 1))},
                               {"grpc_method", std::string(full.substr(slash + 1))}};
  entry->started = &metrics_.AddCounter("grpc_server_started_total", "RPCs started on the server.", labels);
  for (int code = 0; code < kCodeCount; ++code) {
    MetricLabels with_code = labels;
    with_code.emplace_back("grpc_code", CodeName(code));
    entry->handled[static_cast<size_t>(code)] = &metrics_.AddCounter(
        "grpc_server_handled_total", "RPCs completed on the server, by status code.", with_code);
  }
  entry->seconds = &metrics_.AddHistogram("grpc_server_handling_seconds",
                                          "Time from the call's start to its status being sent.", labels);
  return *entry;
}

grpc::experimental::Interceptor* CallObserverFactory::CreateServerInterceptor(ServerRpcInfo* info) {
  return new CallObserver(info, MetricsFor(info->method(), info->type()), calls_);
}

}  // namespace tradein::api
