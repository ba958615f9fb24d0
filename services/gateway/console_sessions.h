// -----------------------------------------------------------------------------
// File: console_sessions.h
// -----------------------------------------------------------------------------
//
// The settlement console's login sessions (console.h), held in this process's memory only: a session id is
// 32 random bytes from OpenSSL's CSPRNG, as 64 hex digits, handed to the browser in an HttpOnly cookie; the
// session remembers the API key the caller logged in with, so the console's data calls are made with the
// caller's own credentials (and the server's access control, rate limits and access lines apply as to any
// call). A session ends at its fixed lifetime from login (no sliding renewal: a stolen cookie dies on time),
// at logout, or when the process ends. At most `max_sessions` live at once: a new login past that evicts the
// session closest to its end.
//
// Instances do not share sessions: behind a load balancer the console needs client affinity (the nginx
// configuration pins /console/ by client address), else a request landing on another instance answers 401
// and the page asks to log in again.
//
// Thread safety: every method may be called from any thread.
#ifndef TRADEIN_SERVICES_GATEWAY_CONSOLE_SESSIONS_H_
#define TRADEIN_SERVICES_GATEWAY_CONSOLE_SESSIONS_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tradein::gateway {

struct ConsoleSession {
  std::string api_key;    // as the caller typed it; never logged, never sent back
  std::string caller_id;  // from the callers file
  std::string role;       // "PORTAL" or "ADMIN" as of the last check against the callers file (console.h)
  absl::Time expires;
};

class ConsoleSessions {
 public:
  // `now` is the clock sessions expire by (tests pass their own).
  ConsoleSessions(
      absl::Duration lifetime, size_t max_sessions,
      std::function<absl::Time()> now = [] { return absl::Now(); });

  // A new session for `api_key`; returns its id.
  std::string Create(std::string api_key, std::string caller_id);
  // The live session `id`, or nothing (unknown, expired: an expired one is forgotten here).
  std::optional<ConsoleSession> Find(absl::string_view id);
  void Remove(absl::string_view id);
  size_t size() const;

  absl::Duration lifetime() const { return lifetime_; }

 private:
  // Forgets expired sessions, then (while still full) the one closest to its end.
  void MakeRoom() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration lifetime_;
  const size_t max_sessions_;
  const std::function<absl::Time()> now_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ConsoleSession> sessions_ ABSL_GUARDED_BY(mu_);
};

// NewSessionId
//
// 64 lowercase hex digits of OpenSSL RAND_bytes (aborts the process if the CSPRNG cannot answer: a guessable
// session id would be worse).
std::string NewSessionId();

}  // namespace tradein::gateway

#endif  // TRADEIN_SERVICES_GATEWAY_CONSOLE_SESSIONS_H_
