// -----------------------------------------------------------------------------
// File: redis_script.h
// -----------------------------------------------------------------------------
//
// A Lua script run with EVALSHA: its source and the SHA1 of the source (lowercase hex), computed once at
// construction. RedisClient::EvalScript sends only the SHA1 and falls back to SCRIPT LOAD when the server
// does not know it (NOSCRIPT), so a script is typically a long-lived constant:
//
//   static const RedisScript* const kConsume = new RedisScript(R"lua(
//     local left = tonumber(redis.call('GET', KEYS[1]) or ARGV[1]) ...
//   )lua");
//
// Copies share the source, so copying is cheap.
//
// Thread safety: immutable; safe to share and copy across threads.
#ifndef TRADEIN_SERVICES_REDIS_REDIS_SCRIPT_H_
#define TRADEIN_SERVICES_REDIS_REDIS_SCRIPT_H_

#include <memory>
#include <string>

namespace tradein::redis {

class RedisScript {
 public:
  explicit RedisScript(std::string source);

  const std::string& source() const { return data_->source; }
  const std::string& sha1() const { return data_->sha1; }

 private:
  struct Data {
    std::string source;
    std::string sha1;
  };
  std::shared_ptr<const Data> data_;
};

}  // namespace tradein::redis

#endif  // TRADEIN_SERVICES_REDIS_REDIS_SCRIPT_H_
