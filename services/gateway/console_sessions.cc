#include "services/gateway/console_sessions.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"

namespace tradein::gateway {

std::string NewSessionId() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

ConsoleSessions::ConsoleSessions(absl::Duration lifetime, size_t max_sessions,
                                 std::function<absl::Time()> now)
    : lifetime_(lifetime), max_sessions_(std::max<size_t>(max_sessions, 1)), now_(std::move(now)) {}

std::string ConsoleSessions::Create(std::string api_key, std::string caller_id) {
  std::string id = NewSessionId();
  absl::MutexLock lock(&mu_);
  MakeRoom();
  sessions_[id] = ConsoleSession{.api_key = std::move(api_key),
                                 .caller_id = std::move(caller_id),
                                 .role = "",
                                 .expires = now_() + lifetime_};
  return id;
}

std::optional<ConsoleSession> ConsoleSessions::Find(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (now_() >= it->second.expires) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void ConsoleSessions::Remove(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(id);
}

size_t ConsoleSessions::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

void ConsoleSessions::MakeRoom() {
  if (sessions_.size() < max_sessions_) return;
  const absl::Time now = now_();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now >= it->second.expires) {
      sessions_.erase(it++);
    } else {
      ++it;
    }
  }
  while (sessions_.size() >= max_sessions_) {
    const auto soonest =
        std::min_element(sessions_.begin(), sessions_.end(),
                         [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
    sessions_.erase(soonest);
  }
}

}  // namespace tradein::gateway
