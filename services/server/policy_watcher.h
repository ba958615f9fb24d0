// -----------------------------------------------------------------------------
// File: policy_watcher.h
// -----------------------------------------------------------------------------
//
// --policy_watch: looks at the policy directory every `interval` and calls `on_change` when any *.textproto
// in it was added, removed, resized or touched. Polling (not inotify) on purpose: it sees Kubernetes
// ConfigMap updates, which swap a symlinked directory rather than write the files, and it is one stat per
// file per second.
//
// Thread safety: Start/Stop from one thread; `on_change` runs on the watcher's own thread.
#ifndef TRADEIN_SERVICES_SERVER_POLICY_WATCHER_H_
#define TRADEIN_SERVICES_SERVER_POLICY_WATCHER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace tradein::server {

class PolicyWatcher {
 public:
  PolicyWatcher(std::string directory, absl::Duration interval, std::function<void()> on_change);
  ~PolicyWatcher();  // stops

  void Start();
  void Stop();

  // A string that changes whenever a policy file of `directory` changes (names, sizes, modification times).
  static std::string Signature(const std::string& directory);

 private:
  const std::string directory_;
  const absl::Duration interval_;
  std::function<void()> on_change_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_POLICY_WATCHER_H_
