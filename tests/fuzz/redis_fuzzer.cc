// Fuzzes how tradein::redis turns bytes from and to Redis into values (services/redis/redis_value.h), and
// the connection URL (redis_options.h).
//
// Input: the first byte chooses what the rest is.
//   'w'        arguments of a command (FuzzedDataProvider): EncodeCommand, read back with hiredis's reply
//              reader, must give exactly one array of exactly those bulk strings (the round trip of what
//              RedisClient writes);
//   'u'        a --redis URL for ParseRedisUrl;
//   otherwise  RESP reply bytes, as a server (or something pretending to be one) might send them, fed to
//              hiredis's reader (with RedisClient's bound on array headers) in chunks, every complete reply
//              copied with RedisValue::FromReply and used the way RedisClient and the stores use replies.
//
// Properties, besides "no sanitizer report": the round trip above; a copied reply equals its copy;
// an error reply maps to UNAVAILABLE or INTERNAL; a URL that parses validates and never prints its password,
// and a refused URL's message does not repeat it either.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "hiredis/hiredis.h"
#include "services/redis/redis_options.h"
#include "services/redis/redis_value.h"
#include "tests/fuzz/fuzz_support.h"

namespace tradein::fuzz {
namespace {

using redis::RedisValue;
using Reader = std::unique_ptr<redisReader, decltype(&redisReaderFree)>;

// A reader like each of RedisClient's connections has: bounded arrays (BoundReplyArrays).
Reader NewReader() {
  Reader reader(redisReaderCreate(), &redisReaderFree);
  if (reader != nullptr) redis::BoundReplyArrays(*reader);
  return reader;
}

// The next complete reply in `reader`, nil when more bytes are needed, or false on a protocol error.
bool NextReply(redisReader& reader, std::unique_ptr<redisReply, decltype(&freeReplyObject)>& reply) {
  void* raw = nullptr;
  const int status = redisReaderGetReply(&reader, &raw);
  reply.reset(static_cast<redisReply*>(raw));
  return status == REDIS_OK;
}

void Use(const RedisValue& value) {
  FUZZ_CHECK(value == value, value.DebugString());
  (void)value.DebugString();
  const absl::StatusOr<int64_t> integer = value.AsInteger();
  FUZZ_CHECK(integer.ok() == (value.type() == RedisValue::Type::kInteger), value.DebugString());
  const absl::StatusOr<absl::string_view> text = value.AsString();
  FUZZ_CHECK(
      text.ok() == (value.type() == RedisValue::Type::kString || value.type() == RedisValue::Type::kStatus),
      value.DebugString());
  if (value.is_error()) {
    const absl::StatusCode code = redis::ErrorReplyToStatus(value.str()).code();
    FUZZ_CHECK(code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kInternal, value.str());
  }
  for (const RedisValue& element : value.elements()) Use(element);
}

void Replies(FuzzedDataProvider& in) {
  Reader reader = NewReader();
  FUZZ_CHECK(reader != nullptr, "redisReaderCreate");
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(nullptr, &freeReplyObject);
  while (in.remaining_bytes() > 0) {
    const std::string chunk = in.ConsumeBytesAsString(in.ConsumeIntegralInRange<size_t>(1, 64));
    if (redisReaderFeed(reader.get(), chunk.data(), chunk.size()) != REDIS_OK) return;
    while (true) {
      if (!NextReply(*reader, reply)) return;  // a protocol error: RedisClient drops the connection
      if (reply == nullptr) break;
      const RedisValue value = RedisValue::FromReply(*reply);
      Use(value);
      FUZZ_CHECK(RedisValue::FromReply(*reply) == value, "copies are equal");
    }
  }
}

void RoundTrip(FuzzedDataProvider& in) {
  std::vector<std::string> args(in.ConsumeIntegralInRange<size_t>(0, 8));
  for (std::string& arg : args) arg = in.ConsumeRandomLengthString(1 << 12);
  const std::string encoded = redis::EncodeCommand(args);
  Reader reader = NewReader();
  FUZZ_CHECK(redisReaderFeed(reader.get(), encoded.data(), encoded.size()) == REDIS_OK, "feed");
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(nullptr, &freeReplyObject);
  FUZZ_CHECK(NextReply(*reader, reply) && reply != nullptr, absl::CHexEscape(encoded));
  std::vector<RedisValue> expected;
  for (std::string& arg : args) expected.push_back(RedisValue::String(std::move(arg)));
  const RedisValue got = RedisValue::FromReply(*reply);
  FUZZ_CHECK(got == RedisValue::Array(std::move(expected)), got.DebugString());
  FUZZ_CHECK(NextReply(*reader, reply) && reply == nullptr, "exactly one command");
}

// The URL a refusal shows: its message is `redis url "<url, password masked>": <why>`.
absl::string_view Shown(const absl::Status& status) {
  const absl::string_view message = status.message();
  return message.substr(0, message.rfind("\": "));
}

void Url(absl::string_view url) {
  const absl::StatusOr<redis::RedisOptions> options = redis::ParseRedisUrl(url);
  if (!options.ok()) {
    FUZZ_CHECK(options.status().code() == absl::StatusCode::kInvalidArgument, options.status().ToString());
    // What a refusal shows must not depend on the password: from the userinfo's first ':' (or, without a
    // "scheme://" before it, from the start) to the last '@'. The same URL with another one shows the same.
    const size_t at = url.rfind('@');
    if (at == absl::string_view::npos) return;
    const size_t scheme_end = url.find("://");
    size_t from = 0;
    if (scheme_end != absl::string_view::npos && scheme_end < at) {
      const size_t colon = url.substr(0, at).find(':', scheme_end + 3);
      from = colon == absl::string_view::npos ? scheme_end + 3 : colon + 1;
    }
    const absl::StatusOr<redis::RedisOptions> other =
        redis::ParseRedisUrl(absl::StrCat(url.substr(0, from), "x", url.substr(at)));
    FUZZ_CHECK(other.ok() || Shown(other.status()) == Shown(options.status()),
               absl::StrCat("a refused URL shows its password: ", Shown(options.status())));
    return;
  }
  FUZZ_CHECK(options->Validate().ok(), options->Validate().ToString());
  redis::RedisOptions other = *options;  // the same with another password prints the same
  other.password = options->password.empty() ? "" : "x";
  FUZZ_CHECK(other.DebugString() == options->DebugString(), "DebugString shows the password");
}

}  // namespace
}  // namespace tradein::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tradein::fuzz;
  if (size == 0) return 0;
  FuzzedDataProvider in(data + 1, size - 1);
  switch (data[0]) {
    case 'w':
      RoundTrip(in);
      break;
    case 'u':
      Url(absl::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
      break;
    default:
      Replies(in);
      break;
  }
  return 0;
}
