// -----------------------------------------------------------------------------
// File: redis_value.h
// -----------------------------------------------------------------------------
//
// RedisValue is an owned copy of one Redis (RESP2) reply: nil, an integer, a bulk string, a status string
// ("OK"), an error, or an array of values. hiredis frees its reply when the reply callback returns; a
// RedisValue keeps the data for as long as the caller needs it.
//
//   TRADEIN_ASSIGN_OR_RETURN(int64_t remaining, value.AsInteger());
//   for (const RedisValue& e : value.elements()) { ... }
//
// A top-level error reply never reaches callers as a RedisValue: RedisClient turns it into a Status with
// ErrorReplyToStatus(). Errors nested in an array (e.g. from a Lua script returning {err=...} inside a table)
// stay values of type kError. EncodeCommand() is the other direction: a command as the RESP bytes written to
// the server.
//
// Thread safety: a value type; const methods may be called concurrently.
#ifndef TRADEIN_SERVICES_REDIS_REDIS_VALUE_H_
#define TRADEIN_SERVICES_REDIS_REDIS_VALUE_H_

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct redisReader;  // hiredis/read.h
struct redisReply;   // hiredis/hiredis.h

namespace tradein::redis {

class RedisValue {
 public:
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };

  // A nil value.
  RedisValue() = default;

  static RedisValue Integer(int64_t value);
  static RedisValue String(std::string value);
  static RedisValue Status(std::string value);
  static RedisValue Error(std::string message);
  static RedisValue Array(std::vector<RedisValue> elements);

  // FromReply
  //
  // A deep copy of a hiredis reply.
  static RedisValue FromReply(const redisReply& reply);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_error() const { return type_ == Type::kError; }

  // The raw payload of each type; the accessor of another type returns 0 / "" / {}.
  int64_t integer() const { return integer_; }
  const std::string& str() const { return str_; }  // kString, kStatus and kError
  const std::vector<RedisValue>& elements() const { return elements_; }

  // AsInteger
  //
  // The integer of a kInteger value. INTERNAL ("expected an integer reply, got ...") for any other type:
  // a reply of an unexpected shape is a bug in the command or the script.
  absl::StatusOr<int64_t> AsInteger() const;

  // AsString
  //
  // The text of a kString or kStatus value; INTERNAL for any other type. The view lives as long as *this.
  absl::StatusOr<absl::string_view> AsString() const;

  // For logs and test failures, e.g. `[1, "a\x00b", nil, (error) ERR x]`. Bytes are escaped.
  std::string DebugString() const;

  friend bool operator==(const RedisValue& a, const RedisValue& b);
  friend bool operator!=(const RedisValue& a, const RedisValue& b) { return !(a == b); }

 private:
  RedisValue(Type type, int64_t integer, std::string str, std::vector<RedisValue> elements)
      : type_(type), integer_(integer), str_(std::move(str)), elements_(std::move(elements)) {}

  Type type_ = Type::kNil;
  int64_t integer_ = 0;
  std::string str_;
  std::vector<RedisValue> elements_;
};

// Prints DebugString() (gtest uses it for failure messages).
void PrintTo(const RedisValue& value, std::ostream* os);

// EncodeCommand
//
// `args` as one RESP2 command, an array of bulk strings, the way RedisClient writes it to the socket:
// {"GET", "k"} -> "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n". Arguments are binary-safe (any bytes, any length).
std::string EncodeCommand(const std::vector<std::string>& args);

// ErrorReplyToStatus
//
// The Status for an error reply `message` ("PREFIX rest of message"), keeping the message:
//   LOADING, BUSY, MASTERDOWN, READONLY, TRYAGAIN, CLUSTERDOWN, MOVED, ASK -> UNAVAILABLE: the server cannot
//       serve the command right now; retrying later (or elsewhere) may succeed.
//   anything else (ERR, WRONGTYPE, NOSCRIPT, NOAUTH, WRONGPASS, NOPERM, OOM, ...) -> INTERNAL: retrying the
//       same command will not help.
// The status also carries `message` as a payload (kErrorReplyPayload), so a caller that must act on the
// server's answer (a Redis Cluster client following MOVED or ASK) can tell it from a failure the client
// made itself, such as a lost connection, without parsing status messages.
absl::Status ErrorReplyToStatus(absl::string_view message);

// The type URL of the payload ErrorReplyToStatus puts on every status it makes.
inline constexpr absl::string_view kErrorReplyPayload = "type.tradein.dev/redis.ErrorReply";

// ErrorReplyOf
//
// The server's error reply `status` was made from ("MOVED 3999 10.0.0.2:6379"), or "" when it was not made
// by ErrorReplyToStatus (OK, a deadline, a lost connection).
std::string ErrorReplyOf(const absl::Status& status);

// The most elements one reply array may announce. hiredis allocates an array's element pointers as soon as it
// has read the array's header, so a peer announcing "*555555551" would make it allocate 4 GB before a single
// element arrived. No reply this service asks for comes near the bound: the longest, a cluster's slot map,
// has at most 16,384 entries, and a sweep's batch 1,000.
inline constexpr int kMaxReplyElements = 1 << 20;

// BoundReplyArrays
//
// Makes `reader` refuse an array header announcing more than kMaxReplyElements elements: reading it fails
// with REDIS_ERR_OOM ("Out of memory"), a protocol error after which RedisClient drops the connection.
// RedisClient calls it on every connection's reader. `reader` must use hiredis's own reply functions (those
// of redisReaderCreate()), which the bounded ones call.
void BoundReplyArrays(redisReader& reader);

}  // namespace tradein::redis

#endif  // TRADEIN_SERVICES_REDIS_REDIS_VALUE_H_
