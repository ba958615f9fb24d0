// -----------------------------------------------------------------------------
// File: transport_security.h
// -----------------------------------------------------------------------------
//
// How the main gRPC port is exposed: TLS from --tls_cert/--tls_key, with --tls_client_ca client certificates
// are requested and verified (mTLS; the certificate identifies the caller — a client without one may still
// connect and present a bearer key). Without TLS the port is plaintext, and without a callers file the
// service is unauthenticated: each is refused on a non-loopback address unless --allow_insecure, and said
// loudly.
//
// Thread safety: pure functions (they read the PEM files).
#ifndef TRADEIN_SERVICES_SERVER_TRANSPORT_SECURITY_H_
#define TRADEIN_SERVICES_SERVER_TRANSPORT_SECURITY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/server_credentials.h"
#include "services/server/server_options.h"

namespace tradein::server {

// IsLoopback
//
// True for 127.0.0.0/8, [::1] and localhost listen addresses ("127.0.0.1:50051", "[::1]:0", "localhost:1").
bool IsLoopback(absl::string_view listen);

// MainPortCredentials
//
// TLS credentials when --tls_cert/--tls_key are given, else insecure ones. Fails on unreadable PEM files or a
// key without a certificate.
[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MainPortCredentials(
    const ServerOptions& options);

// CheckExposure
//
// FAILED_PRECONDITION when the main port would be plaintext or unauthenticated on a non-loopback address
// without
// --allow_insecure; otherwise the warnings to print loudly at start (possibly none).
[[nodiscard]] absl::StatusOr<std::vector<std::string>> CheckExposure(const ServerOptions& options);

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_TRANSPORT_SECURITY_H_
