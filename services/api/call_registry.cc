#include "services/api/call_registry.h"

namespace tradein::api {

void CallRegistry::Begin(const void* context, CallInfo* info) {
  Shard& shard = ShardOf(context);
  absl::MutexLock lock(&shard.mu);
  shard.calls[context] = info;
}

void CallRegistry::End(const void* context) {
  Shard& shard = ShardOf(context);
  absl::MutexLock lock(&shard.mu);
  shard.calls.erase(context);
}

CallInfo* CallRegistry::Find(const void* context) {
  Shard& shard = ShardOf(context);
  absl::MutexLock lock(&shard.mu);
  const auto it = shard.calls.find(context);
  return it == shard.calls.end() ? nullptr : it->second;
}

}  // namespace tradein::api
