#include "services/server/transport_security.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"

namespace tradein::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view flag) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read a PEM file at ", path));
  }
  return text.str();
}

std::string HostOf(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  absl::string_view host = colon == absl::string_view::npos ? listen : listen.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) host = host.substr(1, host.size() - 2);
  return std::string(host);
}

}  // namespace

bool IsLoopback(absl::string_view listen) {
  const std::string host = HostOf(listen);
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MainPortCredentials(const ServerOptions& options) {
  if (options.tls_cert.empty() && options.tls_key.empty()) {
    if (!options.tls_client_ca.empty())
      return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert and --tls_key");
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_cert.empty() || options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  absl::StatusOr<std::string> cert = ReadPem(options.tls_cert, "tls_cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(options.tls_key, "tls_key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!options.tls_client_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(options.tls_client_ca, "tls_client_ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    // Verified when presented; a caller without one may still use a bearer key (and health needs none).
    ssl.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

absl::StatusOr<std::vector<std::string>> CheckExposure(const ServerOptions& options) {
  std::vector<std::string> warnings;
  const bool loopback = IsLoopback(options.listen);
  const bool plaintext = options.tls_cert.empty();
  const bool unauthenticated = options.callers_file.empty();
  if (!loopback && !options.allow_insecure && (plaintext || unauthenticated)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve ", plaintext ? "plaintext" : "", plaintext && unauthenticated ? " and " : "",
        unauthenticated ? "without authentication" : "", " on the non-loopback address ", options.listen,
        ": give --tls_cert/--tls_key and --callers_file, or --allow_insecure if you really mean it"));
  }
  // The JSON gateway without --http_tls_cert is plain HTTP: off loopback it would carry bearer keys in clear.
  // (/metrics and the health port carry no secrets and must be reachable by Prometheus and kubelet.)
  if (options.http_tls_cert.empty() != options.http_tls_key.empty()) {
    return absl::InvalidArgumentError("--http_tls_cert and --http_tls_key go together");
  }
  if (!options.http_listen.empty() && options.http_tls_cert.empty() && !IsLoopback(options.http_listen)) {
    if (!options.allow_insecure) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing to serve the plain-HTTP JSON gateway on the non-loopback address ", options.http_listen,
          ": give --http_tls_cert/--http_tls_key, or put a TLS-terminating proxy in front and listen on "
          "loopback, or give --allow_insecure"));
    }
    warnings.push_back(
        "PLAIN HTTP: the JSON gateway has no TLS (no --http_tls_cert/--http_tls_key): "
        "bearer keys travel in clear");
  }
  // The listener lines name the bound addresses (with --listen=...:0 the flag's value names no port).
  if (plaintext) warnings.push_back("PLAINTEXT: the gRPC port has no TLS (no --tls_cert/--tls_key)");
  if (unauthenticated)
    warnings.push_back("NO AUTHENTICATION: every caller may do everything (no --callers_file)");
  return warnings;
}

}  // namespace tradein::server
