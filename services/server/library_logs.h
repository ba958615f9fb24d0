// -----------------------------------------------------------------------------
// File: library_logs.h
// -----------------------------------------------------------------------------
//
// The libraries the server links write their own diagnostics: protobuf ("[libprotobuf ERROR ...]", e.g. for
// a string field that is not UTF-8) and gRPC core (gpr_log, e.g. "Failed to add port"). Unrouted, those lines
// land on stderr in their own format, in the middle of our one-JSON-object-per-line log. RouteLibraryLogs()
// installs handlers that turn each of them into one JSON line of common/log.h:
//
//   {"ts":...,"level":"error","event":"library_log","library":"protobuf","source":"wire_format_lite.cc:581",
//    "message":"String field 'tradein.v1.GetClaimRequest.claim_id' contains invalid UTF-8 data ..."}
//
// Thread safety: call once, at the start of main, before any other thread runs; the handlers themselves may
// run on any thread.
#ifndef TRADEIN_SERVICES_SERVER_LIBRARY_LOGS_H_
#define TRADEIN_SERVICES_SERVER_LIBRARY_LOGS_H_

namespace tradein::server {

void RouteLibraryLogs();

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_LIBRARY_LOGS_H_
