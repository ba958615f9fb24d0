// -----------------------------------------------------------------------------
// File: http_exchange.h
// -----------------------------------------------------------------------------
//
// Raw HTTP/1.1 bytes over a loopback TCP connection, for tests and fuzz targets: the seam through which raw
// request bytes go through the whole server path (the strict parser, the session, routing, the handler, the
// answer) and come back as raw response bytes. Nothing here parses HTTP.
//
//   absl::StatusOr<std::string> answer = ExchangeRaw(server->address(),
//       "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", absl::Seconds(5));  // half-closes, reads to EOF
//
//   TRADEIN_ASSIGN_OR_RETURN(RawConnection connection, RawConnection::Open(address, absl::Seconds(5)));
//   connection.Send(fifty_pipelined_requests);
//   connection.ReadUntil("\r\n\r\n");  // the first answer's head ...
//   connection.Close();                // ... and gone, with 49 answers still to come
//
// Writes never raise SIGPIPE (MSG_NOSIGNAL). Errors: UNAVAILABLE when the connection cannot be made or
// breaks, DEADLINE_EXCEEDED when the bound passes first.
//
// Thread safety: a RawConnection belongs to one thread.
#ifndef TRADEIN_SERVICES_HTTP_HTTP_EXCHANGE_H_
#define TRADEIN_SERVICES_HTTP_HTTP_EXCHANGE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tradein::http {

class RawConnection {
 public:
  // Connects to "host:port" ("[::1]:port" for IPv6); `timeout` bounds every later call too.
  [[nodiscard]] static absl::StatusOr<RawConnection> Open(const std::string& address, absl::Duration timeout);
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&& other) noexcept;
  ~RawConnection();  // closes

  // Sends all of `bytes`. A peer that closed (or reset) the connection is UNAVAILABLE.
  absl::Status Send(absl::string_view bytes);
  // No more bytes from this side (shutdown SHUT_WR); the answers can still be read.
  void HalfClose();
  // Reads until what was read so far contains `marker`; returns everything read so far.
  absl::StatusOr<std::string> ReadUntil(absl::string_view marker);
  // Reads until the server closes the connection (or resets it); returns everything read.
  absl::StatusOr<std::string> ReadToEnd();
  void Close();

 private:
  RawConnection(int fd, absl::Duration timeout) : fd_(fd), timeout_(timeout) {}
  // One read of what is there, waiting up to the bound; false at end of stream.
  absl::StatusOr<bool> ReadSome(absl::Time deadline);

  int fd_ = -1;
  absl::Duration timeout_;
  std::string received_;
};

// ExchangeRaw
//
// Opens a connection, sends `request`, half-closes and returns every byte the server sent until it closed.
absl::StatusOr<std::string> ExchangeRaw(const std::string& address, absl::string_view request,
                                        absl::Duration timeout);

}  // namespace tradein::http

#endif  // TRADEIN_SERVICES_HTTP_HTTP_EXCHANGE_H_
