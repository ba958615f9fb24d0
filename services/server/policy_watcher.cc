#include "services/server/policy_watcher.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tradein::server {

namespace fs = std::filesystem;

PolicyWatcher::PolicyWatcher(std::string directory, absl::Duration interval, std::function<void()> on_change)
    : directory_(std::move(directory)), interval_(interval), on_change_(std::move(on_change)) {}

PolicyWatcher::~PolicyWatcher() { Stop(); }

std::string PolicyWatcher::Signature(const std::string& directory) {
  std::vector<std::string> entries;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
    if (entry.path().extension() != ".textproto") continue;
    std::error_code stat_error;
    const auto size = fs::file_size(entry.path(), stat_error);
    const auto mtime = fs::last_write_time(entry.path(), stat_error).time_since_epoch().count();
    entries.push_back(absl::StrCat(entry.path().filename().string(), ":", size, ":", mtime));
  }
  std::sort(entries.begin(), entries.end());
  std::string signature;
  for (const std::string& entry : entries) absl::StrAppend(&signature, entry, ";");
  return signature;
}

void PolicyWatcher::Start() {
  thread_ = std::thread([this] {
    std::string seen = Signature(directory_);
    while (!stop_.WaitForNotificationWithTimeout(interval_)) {
      std::string now = Signature(directory_);
      if (now == seen) continue;
      seen = std::move(now);
      on_change_();
    }
  });
}

void PolicyWatcher::Stop() {
  if (!thread_.joinable()) return;
  if (!stop_.HasBeenNotified()) stop_.Notify();
  thread_.join();
}

}  // namespace tradein::server
