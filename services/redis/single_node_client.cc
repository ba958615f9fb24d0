#include "services/redis/single_node_client.h"

#include <utility>

namespace tradein::redis {
namespace {

// Until RedisClient pairs a write with its WAIT on one connection, a write that must reach replicas is
// refused rather than answered unreplicated.
bool Unsupported(const WriteConcern& concern, KeyedClient::Callback& done) {
  if (concern.replicas <= 0) return false;
  std::move(done)(absl::FailedPreconditionError("this Redis client cannot wait for replicas yet"));
  return true;
}

}  // namespace

void SingleNodeClient::Command(std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
                               Callback done) {
  if (Unsupported(concern, done)) return;
  client_.Command(std::move(args), deadline, std::move(done));
}

void SingleNodeClient::EvalScript(const RedisScript& script, std::vector<std::string> keys,
                                  std::vector<std::string> args, absl::Time deadline, WriteConcern concern,
                                  Callback done) {
  if (Unsupported(concern, done)) return;
  client_.EvalScript(script, std::move(keys), std::move(args), deadline, std::move(done));
}

}  // namespace tradein::redis
