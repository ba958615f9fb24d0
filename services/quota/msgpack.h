// -----------------------------------------------------------------------------
// File: msgpack.h
// -----------------------------------------------------------------------------
//
// The MessagePack subset the quota ledger's Lua scripts speak (Redis's built-in cmsgpack): every script takes
// one argument, a map of named fields, and answers one bulk string, a map of named fields. So a script's
// layout is written once, as the C++ struct that encodes and decodes it (ledger_scripts.h), and the Lua reads
// fields by name — no positional ARGV to keep in step on both sides.
//
//   msgpack::Writer w;
//   w.Map(2).Key("claim").Str(id).Key("now").Int(ns);
//   absl::StatusOr<msgpack::Value> reply = msgpack::Parse(bytes);
//   const msgpack::Value* status = reply->Find("status");
//
// Supported: nil, booleans, integers (all widths), strings and binaries (both read as bytes), arrays, maps
// with string keys. Floats are refused: no amount may arrive as one. cmsgpack encodes an empty Lua table as
// an empty array; AsMap()/AsArray() accept either when empty.
//
// Thread safety: values are immutable once parsed; a Writer belongs to one thread.
// Errors: Parse() answers INVALID_ARGUMENT for bytes that are not one complete value of the subset (depth at
// most 32, sizes bounded by the input), never reading past the end.
#ifndef TRADEIN_SERVICES_QUOTA_MSGPACK_H_
#define TRADEIN_SERVICES_QUOTA_MSGPACK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradein::quota::msgpack {

class Value {
 public:
  enum class Type : uint8_t { kNil, kBool, kInt, kBytes, kArray, kMap };

  Value() = default;
  static Value Nil() { return Value(); }
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Bytes(std::string s);
  static Value Array(std::vector<Value> items);
  static Value Map(std::vector<std::pair<std::string, Value>> fields);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }

  // The value as that type; a value of another type gives the type's zero (false, 0, "", empty), so that
  // decoders read optional fields without branching. Use type() where the difference matters.
  bool AsBool() const { return type_ == Type::kBool && int_ != 0; }
  int64_t AsInt() const { return type_ == Type::kInt ? int_ : 0; }
  const std::string& AsBytes() const;
  const std::vector<Value>& AsArray() const;
  const std::vector<std::pair<std::string, Value>>& AsMap() const;

  // The field `key` of a map, or nullptr.
  const Value* Find(absl::string_view key) const;
  // The field `key` of a map, or a nil value.
  const Value& operator[](absl::string_view key) const;

 private:
  Type type_ = Type::kNil;
  int64_t int_ = 0;
  std::string bytes_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> fields_;
};

// Parse
//
// The one value `bytes` holds.
[[nodiscard]] absl::StatusOr<Value> Parse(absl::string_view bytes);

// Writes MessagePack in the smallest encodings. Map(n) and Array(n) announce n entries that follow (for a
// map, each a Key() then a value).
class Writer {
 public:
  Writer& Nil();
  Writer& Bool(bool b);
  Writer& Int(int64_t i);
  Writer& Str(absl::string_view s);
  Writer& Key(absl::string_view key) { return Str(key); }
  Writer& Array(size_t n);
  Writer& Map(size_t n);

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Header(uint8_t fix_base, size_t fix_max, uint8_t code16, uint8_t code32, size_t n);
  void Be(uint64_t v, int bytes);
  std::string out_;
};

}  // namespace tradein::quota::msgpack

#endif  // TRADEIN_SERVICES_QUOTA_MSGPACK_H_
