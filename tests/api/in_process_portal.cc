#include "tests/api/in_process_portal.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server_builder.h"

namespace tradein::api {

InProcessPortal::InProcessPortal(const Clock& clock, const identity::KeyedHasher& hasher,
                                 quota::QuotaStore& store)
    : events_(metrics_, nullptr, clock), portal_(clock, hasher, store, gate_, events_, PortalService::Options{}) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&portal_);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) return;
  stub_ = v1::PortalService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
}

InProcessPortal::~InProcessPortal() { Shutdown(); }

void InProcessPortal::Shutdown() {
  if (server_ == nullptr) return;
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  server_->Wait();
  server_.reset();
}

}  // namespace tradein::api
