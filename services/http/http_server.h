// -----------------------------------------------------------------------------
// File: http_server.h
// -----------------------------------------------------------------------------
//
// A small HTTP/1.1 server on libevent's evhttp (Debian's libevent; the same event library the Redis client
// runs on), with its own loop thread. It serves /metrics and the JSON gateway. A handler gets the request and
// a Respond callback it may call later from any thread (exactly once): answers are handed back to the loop
// thread, so a handler can wait on a gRPC call without blocking anything.
//
// Limits: request bodies up to max_body_bytes (413 beyond); connections idle past `timeout` are closed.
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

namespace tradein::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::string query;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string peer;  // "ip:port"

  // The first header named `name` (case-insensitive), or "".
  std::string Header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Respond = absl::AnyInvocable<void(HttpResponse) &&>;
using HttpHandler = std::function<void(HttpRequest, Respond)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port
  size_t max_body_bytes = 4 * 1024 * 1024;
  absl::Duration timeout = absl::Seconds(30);
};

class HttpServer {
 public:
  // Start
  //
  // Binds `options.listen` and serves `handler` for every request on a new thread. Fails if the address
  // cannot be bound.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                                         HttpHandler handler);
  ~HttpServer();  // stops accepting, answers nothing more, joins the loop thread

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The address actually bound ("127.0.0.1:<port>").
  const std::string& address() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tradein::http

#endif  // TRADEIN_SERVICES_HTTP_HTTP_SERVER_H_
