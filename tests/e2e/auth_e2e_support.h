// -----------------------------------------------------------------------------
// File: auth_e2e_support.h
// -----------------------------------------------------------------------------
//
// What the access-control, TLS, gateway and audit end-to-end tests share: callers files written by the test
// (API keys generated per run and stored only as SHA-256, computed here with OpenSSL), client contexts that
// carry a bearer key, command-line tools run to completion (openssl, curl) and bounded polling.
//
// Thread safety: free functions; each may be called from any thread.
#ifndef TRADEIN_TESTS_E2E_AUTH_E2E_SUPPORT_H_
#define TRADEIN_TESTS_E2E_AUTH_E2E_SUPPORT_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace tradein::testing {

// Lowercase hex SHA-256 of `bytes` (OpenSSL EVP), as the callers file stores API keys.
std::string Sha256HexForTest(absl::string_view bytes);

// A random API key ("k-" and 32 hex digits), fresh for each run.
std::string NewApiKey();

// One entry of a callers file.
struct CallerSpec {
  std::string id;
  std::string role;  // "RETAILER", "PORTAL" or "ADMIN"
  std::string retailer_id;
  std::vector<std::string> regions;
  std::vector<std::string> api_keys;  // raw keys; the file gets their SHA-256
  std::vector<std::string> tls_identities;
  int requests_per_second = 0;  // 0: no limit
  int burst = 0;
};

// The text-format tradein.v1.CallersFile of `callers`.
std::string CallersFileText(const std::vector<CallerSpec>& callers);

[[nodiscard]] absl::Status WriteFile(const std::string& path, absl::string_view content);
std::string ReadFile(const std::string& path);

// A context with a deadline, `authorization: Bearer <key>` unless `key` is empty, and `x-request-id` unless
// `request_id` is empty.
std::unique_ptr<grpc::ClientContext> ContextWithKey(const std::string& key,
                                                    const std::string& request_id = "",
                                                    absl::Duration deadline = absl::Seconds(10));

// "OK", "NOT_FOUND", ... of a gRPC code.
std::string CodeName(grpc::StatusCode code);

// The google.rpc.ErrorInfo reason in a status's details ("" when none).
std::string ReasonOf(const grpc::Status& status);

// The zh-CN google.rpc.LocalizedMessage text in a status's details ("" when none).
std::string ChineseOf(const grpc::Status& status);

// A program run to completion with its output captured.
struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// RunTool
//
// Runs argv (argv[0] looked up in $PATH) and waits up to `timeout`; DEADLINE_EXCEEDED (the child killed) when
// it does not finish.
[[nodiscard]] absl::StatusOr<ToolRun> RunTool(std::vector<std::string> argv,
                                              absl::Duration timeout = absl::Seconds(60));

// WriteLoopbackCertificate
//
// A self-signed P-256 certificate for 127.0.0.1 (subject CN and IP SAN), made with the openssl CLI, at
// `cert_path` (PEM) with its key at `key_path`: what a test's HTTPS listener serves and curl trusts exactly
// (--cacert). INTERNAL with openssl's stderr when it fails.
[[nodiscard]] absl::Status WriteLoopbackCertificate(const std::string& cert_path, const std::string& key_path);

// One HTTP exchange made with the curl binary.
struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string headers;  // raw, as curl -D writes them

  // The value of header `name` (case-insensitive), or "".
  std::string Header(absl::string_view name) const;
};

// Curl
//
// Runs `curl -sS --max-time 30 -o BODY -D HEADERS -w %{http_code} ARGS...` (ARGS: -X, the URL, -H,
// --data-binary,
// --cacert, ...). UNAVAILABLE with curl's error when it fails (no answer, TLS refused, ...).
[[nodiscard]] absl::StatusOr<HttpAnswer> Curl(const std::vector<std::string>& args);

// Polls `done` every 50 ms until it is true or `bound` has passed (a generous sanity bound, not an
// assertion on time). Returns its last answer.
bool WaitUntil(const std::function<bool()>& done, absl::Duration bound = absl::Seconds(60));

// The machine's first non-loopback IPv4 address (`hostname -I`), or "" when it has none.
std::string NonLoopbackIpv4();

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_E2E_AUTH_E2E_SUPPORT_H_
