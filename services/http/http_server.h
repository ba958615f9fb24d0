// -----------------------------------------------------------------------------
// File: http_server.h
// -----------------------------------------------------------------------------
//
// A small HTTP/1.1 server on libevent bufferevents (Debian's libevent; the same event library the Redis
// client runs on), with its own loop thread. It serves /metrics and the JSON gateway. A handler gets the
// request and a Respond callback it may call later from any thread (exactly once): answers are handed back
// to the loop thread, so a handler can wait on a gRPC call without blocking anything.
//
// Requests are parsed by our strict parser (request_parser.h, which says why not evhttp): the request head up
// to 16 KiB and 64 headers (431 beyond), bodies up to 4 MiB with a Content-Length (413 beyond); folded header
// lines, a second Content-Length, Transfer-Encoding, control bytes in a header and malformed request lines
// are answered 400 (501 for Transfer-Encoding) with a JSON google.rpc.Status naming the header, and the
// connection is closed. Keep-alive and pipelining (answers in order, at most 16 waiting per connection);
// connections idle past `timeout` are closed. Writes to a client that has gone fail with EPIPE (the server
// ignores SIGPIPE), never signal.
//
// TLS: with `tls_cert_file` and `tls_key_file` (PEM; the certificate file may hold the chain) every
// connection is TLS 1.2 or later (OpenSSL through libevent's bufferevent_openssl); a client that does not
// speak TLS is dropped after its handshake fails. Start fails with INVALID_ARGUMENT naming the file when
// either cannot be loaded or the key does not match the certificate.
//
// For tests and fuzzing: HttpSession (http_session.h) is one connection without the socket, and
// ExchangeRaw() (http_exchange.h) sends raw request bytes to a running server and returns the raw answer.
//
// Thread safety: Start/destructor from one thread; handlers run on the loop thread; Respond from any thread.
#ifndef TRADEIN_SERVICES_HTTP_HTTP_SERVER_H_
#define TRADEIN_SERVICES_HTTP_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/http/http_session.h"

namespace tradein::http {

using Respond = absl::AnyInvocable<void(HttpResponse) &&>;
using HttpHandler = std::function<void(HttpRequest, Respond)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port
  HttpLimits limits;
  absl::Duration timeout = absl::Seconds(30);
  std::string tls_cert_file;  // both set: TLS; both empty: plain HTTP
  std::string tls_key_file;
};

class HttpServer {
 public:
  // Start
  //
  // Binds `options.listen` and serves `handler` for every request on a new thread. Fails with UNAVAILABLE
  // naming the address and the system's reason (e.g. "Address already in use") if it cannot be bound, and
  // INVALID_ARGUMENT if it is not host:port.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                                         HttpHandler handler);
  ~HttpServer();  // stops accepting, answers nothing more, joins the loop thread

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The address actually bound ("127.0.0.1:<port>").
  const std::string& address() const;

 private:
  struct Impl;
  friend struct Connection;  // one client connection (http_server.cc)
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tradein::http

#endif  // TRADEIN_SERVICES_HTTP_HTTP_SERVER_H_
