#include "services/redis/single_node_client.h"

#include <utility>

namespace tradein::redis {

void SingleNodeClient::Command(std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
                               Callback done) {
  client_.Command(std::move(args), deadline, SendOptions{concern}, std::move(done));
}

void SingleNodeClient::EvalScript(const RedisScript& script, std::vector<std::string> keys,
                                  std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
                                  Callback done) {
  client_.EvalScript(script, std::move(keys), std::move(args), deadline, SendOptions{concern},
                     std::move(done));
}

}  // namespace tradein::redis
