#include "services/http/http_exchange.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tradein::http {
namespace {

// Waits until `fd` is ready for `events` or the deadline passes.
absl::Status Await(int fd, short events, absl::Time deadline) {
  for (;;) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) return absl::DeadlineExceededError("no answer in time");
    pollfd poll_fd{fd, events, 0};
    const int ready = poll(&poll_fd, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (ready > 0) return absl::OkStatus();
    if (ready < 0 && errno != EINTR) return absl::UnavailableError(strerror(errno));
  }
}

}  // namespace

absl::StatusOr<RawConnection> RawConnection::Open(const std::string& address, absl::Duration timeout) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos)
    return absl::InvalidArgumentError(absl::StrCat(address, " is not host:port"));
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int error = getaddrinfo(host.c_str(), address.substr(colon + 1).c_str(), &hints, &found);
      error != 0) {
    return absl::UnavailableError(gai_strerror(error));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(strerror(errno));
  if (connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", address, ": ", strerror(error)));
  }
  return RawConnection(fd, timeout);
}

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), timeout_(other.timeout_), received_(std::move(other.received_)) {}

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    timeout_ = other.timeout_;
    received_ = std::move(other.received_);
  }
  return *this;
}

RawConnection::~RawConnection() { Close(); }

absl::Status RawConnection::Send(absl::string_view bytes) {
  const absl::Time deadline = absl::Now() + timeout_;
  while (!bytes.empty()) {
    if (absl::Status ready = Await(fd_, POLLOUT, deadline); !ready.ok()) return ready;
    const ssize_t sent = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (sent < 0) return absl::UnavailableError(absl::StrCat("send: ", strerror(errno)));
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return absl::OkStatus();
}

void RawConnection::HalfClose() { shutdown(fd_, SHUT_WR); }

absl::StatusOr<bool> RawConnection::ReadSome(absl::Time deadline) {
  if (absl::Status ready = Await(fd_, POLLIN, deadline); !ready.ok()) return ready;
  char buffer[16384];
  const ssize_t got = recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
  if (got < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (got < 0 && errno == ECONNRESET) return false;
  if (got < 0) return absl::UnavailableError(absl::StrCat("recv: ", strerror(errno)));
  received_.append(buffer, static_cast<size_t>(got));
  return got > 0;
}

absl::StatusOr<std::string> RawConnection::ReadUntil(absl::string_view marker) {
  const absl::Time deadline = absl::Now() + timeout_;
  while (absl::string_view(received_).find(marker) == absl::string_view::npos) {
    absl::StatusOr<bool> more = ReadSome(deadline);
    if (!more.ok()) return more.status();
    if (!*more) return absl::UnavailableError(absl::StrCat("closed before \"", marker, "\":\n", received_));
  }
  return received_;
}

absl::StatusOr<std::string> RawConnection::ReadToEnd() {
  const absl::Time deadline = absl::Now() + timeout_;
  for (;;) {
    absl::StatusOr<bool> more = ReadSome(deadline);
    if (!more.ok()) return more.status();
    if (!*more) return received_;
  }
}

void RawConnection::Close() {
  if (fd_ >= 0) close(std::exchange(fd_, -1));
}

absl::StatusOr<std::string> ExchangeRaw(const std::string& address, absl::string_view request,
                                        absl::Duration timeout) {
  absl::StatusOr<RawConnection> connection = RawConnection::Open(address, timeout);
  if (!connection.ok()) return connection.status();
  if (absl::Status sent = connection->Send(request); !sent.ok()) return sent;
  connection->HalfClose();
  return connection->ReadToEnd();
}

}  // namespace tradein::http
