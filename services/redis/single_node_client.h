// -----------------------------------------------------------------------------
// File: single_node_client.h
// -----------------------------------------------------------------------------
//
// SingleNodeClient is the KeyedClient of one Redis server (standalone, or a master behind Sentinel): every
// key is served by the RedisClient it wraps.
//
// Thread safety and errors: as KeyedClient and RedisClient. The RedisClient must outlive it.
#ifndef TRADEIN_SERVICES_REDIS_SINGLE_NODE_CLIENT_H_
#define TRADEIN_SERVICES_REDIS_SINGLE_NODE_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "services/redis/keyed_client.h"
#include "services/redis/redis_client.h"

namespace tradein::redis {

class SingleNodeClient final : public KeyedClient {
 public:
  explicit SingleNodeClient(RedisClient& client) : client_(client) {}
  // Owns `client`.
  explicit SingleNodeClient(std::unique_ptr<RedisClient> client)
      : owned_(std::move(client)), client_(*owned_) {}

  void Command(std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
               Callback done) override;
  void EvalScript(const RedisScript& script, std::vector<std::string> keys, std::vector<std::string> args,
                  absl::Time deadline, WriteConcern concern, Callback done) override;

  RedisClient& client() { return client_; }

 private:
  std::unique_ptr<RedisClient> owned_;
  RedisClient& client_;
};

}  // namespace tradein::redis

#endif  // TRADEIN_SERVICES_REDIS_SINGLE_NODE_CLIENT_H_
