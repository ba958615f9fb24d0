#include "services/http/http_server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace tradein::http {
namespace {

// A request waiting for its handler's answer. `alive` turns false if the client hangs up first.
struct Pending {
  evhttp_request* request = nullptr;
  bool alive = true;
};

// What Respond callbacks share with the loop: they may outlive the server.
struct Mailbox {
  absl::Mutex mu;
  std::deque<std::pair<Pending*, HttpResponse>> answers ABSL_GUARDED_BY(mu);
  event* wake ABSL_GUARDED_BY(mu) = nullptr;  // null once the server stopped
};

void EnableThreads() {
  static std::once_flag once;
  std::call_once(once, [] { evthread_use_pthreads(); });
}

const char* MethodName(evhttp_cmd_type command) {
  switch (command) {
    case EVHTTP_REQ_GET:
      return "GET";
    case EVHTTP_REQ_POST:
      return "POST";
    case EVHTTP_REQ_PUT:
      return "PUT";
    case EVHTTP_REQ_DELETE:
      return "DELETE";
    case EVHTTP_REQ_HEAD:
      return "HEAD";
    case EVHTTP_REQ_OPTIONS:
      return "OPTIONS";
    case EVHTTP_REQ_PATCH:
      return "PATCH";
    default:
      return "OTHER";
  }
}

HttpRequest ReadRequest(evhttp_request* request) {
  HttpRequest out;
  out.method = MethodName(evhttp_request_get_command(request));
  const std::string uri = evhttp_request_get_uri(request);
  const size_t question = uri.find('?');
  out.path = uri.substr(0, question);
  if (question != std::string::npos) out.query = uri.substr(question + 1);
  evbuffer* body = evhttp_request_get_input_buffer(request);
  out.body.resize(evbuffer_get_length(body));
  evbuffer_copyout(body, out.body.data(), out.body.size());
  const evkeyvalq* headers = evhttp_request_get_input_headers(request);
  for (const evkeyval* header = headers->tqh_first; header != nullptr; header = header->next.tqe_next) {
    out.headers.emplace_back(header->key, header->value);
  }
  if (evhttp_connection* connection = evhttp_request_get_connection(request); connection != nullptr) {
    char* host = nullptr;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(connection, &host, &port);
    out.peer = absl::StrCat(host != nullptr ? host : "", ":", port);
  }
  return out;
}

void OnClientGone(evhttp_connection*, void* arg) { static_cast<Pending*>(arg)->alive = false; }

void Send(Pending* pending, const HttpResponse& response) {
  if (pending->alive) {
    evhttp_request* request = pending->request;
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", response.content_type.c_str());
    for (const auto& [name, value] : response.headers)
      evhttp_add_header(headers, name.c_str(), value.c_str());
    evbuffer* body = evbuffer_new();
    evbuffer_add(body, response.body.data(), response.body.size());
    if (evhttp_connection* connection = evhttp_request_get_connection(request); connection != nullptr) {
      evhttp_connection_set_closecb(connection, nullptr, nullptr);
    }
    evhttp_send_reply(request, response.status, nullptr, body);
    evbuffer_free(body);
  }
  delete pending;
}

}  // namespace

std::string HttpRequest::Header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

struct HttpServer::Impl {
  HttpHandler handler;
  std::string address;
  event_base* base = nullptr;
  evhttp* http = nullptr;
  std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
  std::thread loop;

  ~Impl() {
    if (base != nullptr) {
      event_base_loopbreak(base);
      if (loop.joinable()) loop.join();
      absl::MutexLock lock(&mailbox->mu);
      for (auto& [pending, response] : mailbox->answers) delete pending;
      mailbox->answers.clear();
      if (mailbox->wake != nullptr) event_free(mailbox->wake);
      mailbox->wake = nullptr;
    }
    if (http != nullptr) evhttp_free(http);
    if (base != nullptr) event_base_free(base);
  }

  static void OnRequest(evhttp_request* request, void* arg) {
    Impl* impl = static_cast<Impl*>(arg);
    auto* pending = new Pending{request};
    if (evhttp_connection* connection = evhttp_request_get_connection(request); connection != nullptr) {
      evhttp_connection_set_closecb(connection, OnClientGone, pending);
    }
    std::weak_ptr<Mailbox> mailbox = impl->mailbox;
    impl->handler(ReadRequest(request), [mailbox, pending](HttpResponse response) {
      std::shared_ptr<Mailbox> box = mailbox.lock();
      if (box == nullptr) return;  // the server is gone; evhttp freed the request
      absl::MutexLock lock(&box->mu);
      if (box->wake == nullptr) return;
      box->answers.emplace_back(pending, std::move(response));
      event_active(box->wake, EV_READ, 0);
    });
  }

  static void OnWake(evutil_socket_t, short, void* arg) {
    Mailbox* box = static_cast<Mailbox*>(arg);
    std::deque<std::pair<Pending*, HttpResponse>> answers;
    {
      absl::MutexLock lock(&box->mu);
      answers.swap(box->answers);
    }
    for (auto& [pending, response] : answers) Send(pending, response);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;

const std::string& HttpServer::address() const { return impl_->address; }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              HttpHandler handler) {
  EnableThreads();
  const size_t colon = options.listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("\"", options.listen, "\" is not host:port"));
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->base = event_base_new();
  impl->http = impl->base != nullptr ? evhttp_new(impl->base) : nullptr;
  if (impl->http == nullptr) return absl::InternalError("cannot create an HTTP server");
  evhttp_set_max_body_size(impl->http, static_cast<ev_ssize_t>(options.max_body_bytes));
  evhttp_set_timeout(impl->http, static_cast<int>(absl::ToInt64Seconds(options.timeout)));
  evhttp_set_allowed_methods(impl->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
  evhttp_set_gencb(impl->http, &Impl::OnRequest, impl.get());
  evhttp_bound_socket* bound =
      evhttp_bind_socket_with_handle(impl->http, host.c_str(), static_cast<ev_uint16_t>(port));
  if (bound == nullptr) return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&address), &length);
  const uint16_t bound_port = address.ss_family == AF_INET6
                                  ? ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port)
                                  : ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  impl->address = absl::StrCat(options.listen.substr(0, colon), ":", bound_port);
  {
    absl::MutexLock lock(&impl->mailbox->mu);
    impl->mailbox->wake = event_new(impl->base, -1, EV_PERSIST | EV_READ, &Impl::OnWake, impl->mailbox.get());
  }
  Impl* raw = impl.get();
  impl->loop = std::thread([raw] { event_base_loop(raw->base, EVLOOP_NO_EXIT_ON_EMPTY); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace tradein::http
