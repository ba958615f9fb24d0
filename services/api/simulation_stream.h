// -----------------------------------------------------------------------------
// File: simulation_stream.h
// -----------------------------------------------------------------------------
//
// The server side of PortalService/SimulatePolicy: reads the period's claims one store page at a time, feeds
// them to a PolicySimulation (policy_simulation.h), writes a progress message after each page, then reads the
// forecast budgets' usage and writes the report. One page is in memory at a time, whatever the period.
//
// Lifetime as the export's (stream_reactor.h): gRPC deletes the reactor in OnDone, possibly while a store
// call is in flight, so the state every store callback touches lives in a stream object that the reactor
// and each in-flight call share; it calls the reactor only until it has finished it.
//
// Thread safety: internal (a mutex); store calls are never started with it held.
#ifndef TRADEIN_SERVICES_API_SIMULATION_STREAM_H_
#define TRADEIN_SERVICES_API_SIMULATION_STREAM_H_

#include "absl/time/time.h"
#include "grpcpp/support/server_callback.h"
#include "services/api/policy_simulation.h"
#include "services/quota/quota_store.h"
#include "tradein/v1/portal_service.pb.h"

namespace tradein::api {

// StartSimulationStream
//
// A reactor that runs `simulation` over the claims `pages` lists (oldest first; its cursor advances) and
// streams its updates; each store call ends by min(`call_deadline`, now + `store_timeout`).
grpc::ServerWriteReactor<v1::SimulationUpdate>* StartSimulationStream(quota::QuotaStore& store,
                                                                      quota::ClaimPageRequest pages,
                                                                      PolicySimulation simulation,
                                                                      absl::Time call_deadline,
                                                                      absl::Duration store_timeout);

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_SIMULATION_STREAM_H_
