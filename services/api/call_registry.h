// -----------------------------------------------------------------------------
// File: call_registry.h
// -----------------------------------------------------------------------------
//
// What the service knows about a call in flight beyond gRPC's own context: its request id (the client's
// x-request-id, or one made up) and who made it (filled in by authentication). The call observer (metrics and
// the access line) registers each call when it starts and removes it when it ends; handlers look their call
// up by its gRPC context. (gRPC 1.51's ContextAllocator would make this a field of the context, but it breaks
// the synchronous reflection service.)
//
// Thread safety: all methods may be called from any thread; sharded locks keep calls on different shards
// independent. A CallInfo is written by one thread at a time (gRPC's callback model).
#ifndef TRADEIN_SERVICES_API_CALL_REGISTRY_H_
#define TRADEIN_SERVICES_API_CALL_REGISTRY_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace tradein::api {

struct CallInfo {
  std::string request_id;
  std::string caller_id;    // a callers-file entry id; "anonymous" without authentication
  std::string retailer_id;  // the retailer the call acts for, when known
  std::string claim_id;     // the claim the call names or made, when it has one
};

class CallRegistry {
 public:
  void Begin(const void* context, CallInfo* info);
  void End(const void* context);
  // The info of the call whose gRPC context is `context`, or nullptr (a call the observer did not see).
  CallInfo* Find(const void* context);

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<const void*, CallInfo*> calls ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(const void* context) {
    return shards_[(reinterpret_cast<uintptr_t>(context) >> 6) % kShards];
  }
  std::array<Shard, kShards> shards_;
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_CALL_REGISTRY_H_
