#include "services/http/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"

namespace tradein::http {

struct Connection;

// What Respond callbacks share with the loop: they may outlive the server and their connection.
struct Mailbox {
  struct Answer {
    std::weak_ptr<Connection> connection;
    uint64_t slot = 0;
    HttpResponse response;
  };
  absl::Mutex mu;
  std::deque<Answer> answers ABSL_GUARDED_BY(mu);
  event* wake ABSL_GUARDED_BY(mu) = nullptr;  // null once the server stopped
};

namespace {

void EnableThreads() {
  static std::once_flag once;
  std::call_once(once, [] { evthread_use_pthreads(); });
}

// "ip:port" of a peer address.
std::string PeerOf(const sockaddr* address) {
  char host[INET6_ADDRSTRLEN] = "";
  uint16_t port = 0;
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
  } else if (address->sa_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
    port = ntohs(in4->sin_port);
  }
  return absl::StrCat(host, ":", port);
}

// A listening socket on host:port (no SO_REUSEPORT: a second server on the same port must fail), or the
// system's reason it cannot be had.
absl::StatusOr<evutil_socket_t> Listen(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = absl::StrCat(port);
  if (const int error = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      error != 0) {
    return absl::UnavailableError(gai_strerror(error));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  int error = 0;
  for (const addrinfo* address = found; address != nullptr; address = address->ai_next) {
    const evutil_socket_t fd =
        socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // a restart may reuse a TIME_WAIT port
    if (bind(fd, address->ai_addr, address->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) return fd;
    error = errno;
    close(fd);
  }
  return absl::UnavailableError(strerror(error));
}

// The last OpenSSL error as text ("" when none).
std::string OpenSslError() {
  char text[256] = "";
  ERR_error_string_n(ERR_get_error(), text, sizeof(text));
  ERR_clear_error();
  return text;
}

// A server context of the PEM certificate (chain) and key, or why not.
absl::StatusOr<SSL_CTX*> TlsContext(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError("a TLS certificate and its key go together");
  }
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr) return absl::InternalError(absl::StrCat("TLS: ", OpenSslError()));
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  absl::Status status;
  if (SSL_CTX_use_certificate_chain_file(context, cert_file.c_str()) != 1) {
    status =
        absl::InvalidArgumentError(absl::StrCat(cert_file, ": not a PEM certificate (", OpenSslError(), ")"));
  } else if (SSL_CTX_use_PrivateKey_file(context, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    status =
        absl::InvalidArgumentError(absl::StrCat(key_file, ": not a PEM private key (", OpenSslError(), ")"));
  } else if (SSL_CTX_check_private_key(context) != 1) {
    status = absl::InvalidArgumentError(
        absl::StrCat(key_file, ": the key does not match the certificate in ", cert_file));
  }
  if (!status.ok()) {
    SSL_CTX_free(context);
    return status;
  }
  return context;
}

uint16_t PortOf(evutil_socket_t fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return address.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port)
                                       : ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

}  // namespace

struct HttpServer::Impl {
  HttpHandler handler;
  HttpLimits limits;
  absl::Duration timeout;
  std::string address;
  event_base* base = nullptr;
  evconnlistener* listener = nullptr;
  SSL_CTX* tls = nullptr;  // null: plain HTTP
  std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
  // Every open connection; touched only on the loop thread (and by the destructor once it stopped).
  absl::flat_hash_map<Connection*, std::shared_ptr<Connection>> connections;
  std::thread loop;

  ~Impl();
  static void OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* peer, int, void* arg);
  static void OnAcceptError(evconnlistener*, void*);
  static void OnWake(evutil_socket_t, short, void* arg);
};

// One client connection: its socket (a bufferevent) and its HttpSession. Lives in Impl::connections until
// it closes; Respond callbacks hold it weakly.
struct Connection : std::enable_shared_from_this<Connection> {
  Connection(HttpServer::Impl& server_in, bufferevent* socket_in, std::string peer)
      : server(server_in), socket(socket_in), session(server_in.limits, std::move(peer)) {}
  ~Connection() { bufferevent_free(socket); }

  HttpSession::Dispatch Dispatcher() {
    return [this](HttpRequest request, uint64_t slot) {
      std::weak_ptr<Connection> self = weak_from_this();
      std::weak_ptr<Mailbox> mailbox = server.mailbox;
      server.handler(std::move(request), [self, mailbox, slot](HttpResponse response) {
        std::shared_ptr<Mailbox> box = mailbox.lock();
        if (box == nullptr) return;  // the server is gone
        absl::MutexLock lock(&box->mu);
        if (box->wake == nullptr) return;
        box->answers.push_back({self, slot, std::move(response)});
        event_active(box->wake, EV_READ, 0);
      });
    };
  }

  // After every change: sends what the session has to send, reads only while it wants input (with the idle
  // timeout only while no request waits), and closes once it is finished and everything is sent. May
  // destroy the connection: call it last.
  void Update() {
    const std::string out = session.TakeOutput();
    if (!out.empty()) bufferevent_write(socket, out.data(), out.size());
    const timeval limit = absl::ToTimeval(server.timeout);
    bufferevent_set_timeouts(socket, session.Idle() ? &limit : nullptr, &limit);
    if (session.WantsInput()) {
      bufferevent_enable(socket, EV_READ);
    } else {
      bufferevent_disable(socket, EV_READ);
    }
    if (session.Finished() && evbuffer_get_length(bufferevent_get_output(socket)) == 0) Close();
  }

  void Close() { server.connections.erase(this); }

  static void OnRead(bufferevent* socket, void* arg) {
    auto* connection = static_cast<Connection*>(arg);
    evbuffer* input = bufferevent_get_input(socket);
    const size_t length = evbuffer_get_length(input);
    const absl::string_view bytes(reinterpret_cast<const char*>(evbuffer_pullup(input, -1)), length);
    connection->session.Receive(bytes, connection->Dispatcher());
    evbuffer_drain(input, length);
    connection->Update();
  }

  static void OnWritten(bufferevent*, void* arg) { static_cast<Connection*>(arg)->Update(); }

  static void OnEvent(bufferevent*, short events, void* arg) {
    auto* connection = static_cast<Connection*>(arg);
    if (events == BEV_EVENT_CONNECTED) return;  // the TLS handshake is done
    if ((events & BEV_EVENT_EOF) != 0 && (events & BEV_EVENT_READING) != 0) {
      connection->session.EndOfInput(connection->Dispatcher());  // half-closed: answer what came
      return connection->Update();
    }
    connection->Close();  // reset, write error or timeout
  }

  HttpServer::Impl& server;
  bufferevent* const socket;
  HttpSession session;
};

HttpServer::Impl::~Impl() {
  if (base == nullptr) return;
  event_base_loopbreak(base);
  if (loop.joinable()) loop.join();
  {
    absl::MutexLock lock(&mailbox->mu);
    mailbox->answers.clear();
    if (mailbox->wake != nullptr) event_free(mailbox->wake);
    mailbox->wake = nullptr;
  }
  connections.clear();
  if (listener != nullptr) evconnlistener_free(listener);
  event_base_free(base);
  if (tls != nullptr) SSL_CTX_free(tls);
}

void HttpServer::Impl::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* peer, int, void* arg) {
  auto* impl = static_cast<Impl*>(arg);
  bufferevent* socket = nullptr;
  if (impl->tls == nullptr) {
    socket = bufferevent_socket_new(impl->base, fd, BEV_OPT_CLOSE_ON_FREE);
  } else if (SSL* tls = SSL_new(impl->tls); tls != nullptr) {
    // The bufferevent owns `tls` (BEV_OPT_CLOSE_ON_FREE; libevent 2.1.12 frees it when creation fails too).
    socket =
        bufferevent_openssl_socket_new(impl->base, fd, tls, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    // A client that closes without close_notify has still sent whole requests (their lengths frame them).
    if (socket != nullptr) bufferevent_openssl_set_allow_dirty_shutdown(socket, 1);
  }
  if (socket == nullptr) {
    close(fd);
    return;
  }
  auto connection = std::make_shared<Connection>(*impl, socket, PeerOf(peer));
  bufferevent_setcb(socket, &Connection::OnRead, &Connection::OnWritten, &Connection::OnEvent,
                    connection.get());
  bufferevent_enable(socket, EV_READ | EV_WRITE);
  impl->connections.emplace(connection.get(), connection);
  connection->Update();
}

void HttpServer::Impl::OnAcceptError(evconnlistener*, void*) {
  // EMFILE and friends: this connection is lost, the listener goes on.
  Log(LogLevel::kWarning, "http_accept_failed", {{"error", strerror(errno)}});
}

void HttpServer::Impl::OnWake(evutil_socket_t, short, void* arg) {
  auto* impl = static_cast<Impl*>(arg);
  std::deque<Mailbox::Answer> answers;
  {
    absl::MutexLock lock(&impl->mailbox->mu);
    answers.swap(impl->mailbox->answers);
  }
  for (Mailbox::Answer& answer : answers) {
    std::shared_ptr<Connection> connection = answer.connection.lock();
    if (connection == nullptr) continue;  // the client went away
    connection->session.Answer(answer.slot, std::move(answer.response));
    connection->session.Receive("", connection->Dispatcher());  // room for a pipelined request
    connection->Update();
  }
}

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
  absl::StatusOr<evutil_socket_t> socket = Listen(host, port);
  if (!socket.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, ": ", socket.status().message()));
  }
  auto impl = std::make_unique<Impl>();
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    absl::StatusOr<SSL_CTX*> tls = TlsContext(options.tls_cert_file, options.tls_key_file);
    if (!tls.ok()) {
      close(*socket);
      return tls.status();
    }
    impl->tls = *tls;
  }
  impl->handler = std::move(handler);
  impl->limits = options.limits;
  impl->timeout = options.timeout;
  impl->address = absl::StrCat(options.listen.substr(0, colon), ":", PortOf(*socket));
  impl->base = event_base_new();
  if (impl->base != nullptr) {
    impl->listener = evconnlistener_new(impl->base, &Impl::OnAccept, impl.get(),
                                        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, *socket);
  }
  if (impl->listener == nullptr) {
    close(*socket);
    return absl::InternalError("cannot create an HTTP server");
  }
  evconnlistener_set_error_cb(impl->listener, &Impl::OnAcceptError);
  {
    absl::MutexLock lock(&impl->mailbox->mu);
    impl->mailbox->wake = event_new(impl->base, -1, EV_PERSIST | EV_READ, &Impl::OnWake, impl.get());
  }
  Impl* raw = impl.get();
  impl->loop = std::thread([raw] { event_base_loop(raw->base, EVLOOP_NO_EXIT_ON_EMPTY); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace tradein::http
