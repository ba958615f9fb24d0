// -----------------------------------------------------------------------------
// File: in_process_portal.h
// -----------------------------------------------------------------------------
//
// A PortalService over a given quota store, served by an in-process gRPC server on a loopback port, for tests
// that drive the portal through a real channel without starting tradein-server: no authentication, default
// options, `clock` and `hasher` as the server would pass them.
//
//   InProcessPortal portal(clock, hasher, store);
//   ASSERT_TRUE(portal.ok());
//   portal.stub().ListClaims(&context, request, &response);
//
// Thread safety: the stub may be used from any thread; the store and clock must outlive the portal.
#ifndef TRADEIN_TESTS_API_IN_PROCESS_PORTAL_H_
#define TRADEIN_TESTS_API_IN_PROCESS_PORTAL_H_

#include <memory>

#include "common/clock.h"
#include "common/metrics.h"
#include "grpcpp/server.h"
#include "services/api/authorize.h"
#include "services/api/call_registry.h"
#include "services/api/claim_events.h"
#include "services/api/portal_service.h"
#include "services/auth/access_control.h"
#include "services/identity/keyed_hash.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/portal_service.grpc.pb.h"

namespace tradein::api {

class InProcessPortal {
 public:
  InProcessPortal(const Clock& clock, const identity::KeyedHasher& hasher, quota::QuotaStore& store);
  ~InProcessPortal();

  // False when the server could not be started (no loopback port).
  bool ok() const { return server_ != nullptr; }
  v1::PortalService::Stub& stub() { return *stub_; }
  // Stops the server once its calls have ended (cancelling those still running after 30 s). When it returns,
  // gRPC has run every call's OnDone. The destructor does it too.
  void Shutdown();

 private:
  auth::AccessControl access_{nullptr};
  CallRegistry calls_;
  CallGate gate_{access_, calls_};
  MetricsRegistry metrics_;
  ClaimEvents events_;
  PortalService portal_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::PortalService::Stub> stub_;
};

}  // namespace tradein::api

#endif  // TRADEIN_TESTS_API_IN_PROCESS_PORTAL_H_
