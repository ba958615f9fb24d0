#include "services/api/health_service.h"

#include <optional>
#include <utility>
#include <vector>

namespace tradein::api {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch call: writes the latest status whenever it changes, one write in flight at a time.
class WatchReactor final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  WatchReactor(HealthState& state, const std::string& service) : state_(state) {
    watch_id_ = state_.AddListener(service, [this](HealthState::ServingStatus status) { OnStatus(status); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    WriteLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    state_.RemoveListener(watch_id_);
    delete this;
  }

 private:
  void OnStatus(HealthState::ServingStatus status) {
    absl::MutexLock lock(&mu_);
    pending_ = status;
    WriteLocked();
  }

  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || !pending_.has_value()) return;
    response_.set_status(*pending_);
    pending_.reset();
    writing_ = true;
    StartWrite(&response_);
  }

  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(std::move(status));
  }

  HealthState& state_;
  int watch_id_ = 0;
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  std::optional<HealthState::ServingStatus> pending_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

void HealthState::Set(const std::string& service, ServingStatus status) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) status = HealthCheckResponse::NOT_SERVING;
  auto [it, inserted] = statuses_.try_emplace(service, status);
  if (!inserted && it->second == status) return;
  it->second = status;
  // Listeners are called under mu_ so that RemoveListener() returning means no call is running or will come.
  for (const auto& [id, watch] : watches_) {
    if (watch.service == service) watch.listener(status);
  }
}

void HealthState::Shutdown() {
  std::vector<std::string> services;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [service, status] : statuses_) services.push_back(service);
  }
  for (const std::string& service : services) Set(service, HealthCheckResponse::NOT_SERVING);
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

HealthState::ServingStatus HealthState::Get(const std::string& service) const {
  absl::ReaderMutexLock lock(&mu_);
  const auto it = statuses_.find(service);
  return it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second;
}

int HealthState::AddListener(const std::string& service, Listener listener) {
  absl::MutexLock lock(&mu_);
  const int id = next_watch_id_++;
  const auto it = statuses_.find(service);
  listener(it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second);
  watches_.emplace(id, Watch{service, std::move(listener)});
  return id;
}

void HealthState::RemoveListener(int id) {
  absl::MutexLock lock(&mu_);
  watches_.erase(id);
}

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* context,
                                               const HealthCheckRequest* request,
                                               HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const HealthState::ServingStatus status = state_.Get(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
  } else {
    response->set_status(status);
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(grpc::CallbackServerContext* /*context*/,
                                                                    const HealthCheckRequest* request) {
  return new WatchReactor(state_, request->service());
}

}  // namespace tradein::api
