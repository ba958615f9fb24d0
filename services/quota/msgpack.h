// -----------------------------------------------------------------------------
// File: msgpack.h
// -----------------------------------------------------------------------------
//
// The MessagePack subset the quota ledger's Lua scripts speak (Redis's built-in cmsgpack): every script takes
// one argument, a map of named fields, and answers one bulk string, a map of named fields. So a script's
// layout is written once, as the C++ struct that encodes and decodes it (redis/scripts.h), and the Lua reads
// fields by name — no positional ARGV to keep in step on both sides.
//
//   msgpack::Writer w;
//   w.Map(2).Key("claim").Str(id).Key("now").Int(ns);
//   absl::StatusOr<msgpack::Document> reply = msgpack::Parse(bytes);
//   int64_t state = (*reply)["st"].AsInt();
//   for (msgpack::Value line : (*reply)["ln"].AsArray()) ...
//
// Supported: nil, booleans, integers (all widths), strings and binaries (both read as bytes), arrays, maps
// with string keys. Floats are refused: no amount may arrive as one. cmsgpack encodes an empty Lua table as
// an empty array; AsMap()/AsArray() accept either when empty.
//
// Parsing copies nothing: a Document is one flat array of nodes (every value, in the order of the bytes)
// whose strings point into the parsed bytes, and a Value is a pointer to one node. So the bytes must outlive
// the Document, and the Document every Value and string_view read from it. This is the server's hot path:
// every claim's answer is read here.
//
// Thread safety: a Document is immutable once parsed; a Writer belongs to one thread.
// Errors: Parse() answers INVALID_ARGUMENT for bytes that are not one complete value of the subset (depth at
// most 32, sizes bounded by the input), never reading past the end.
#ifndef TRADEIN_SERVICES_QUOTA_MSGPACK_H_
#define TRADEIN_SERVICES_QUOTA_MSGPACK_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradein::quota::msgpack {

enum class Type : uint8_t { kNil, kBool, kInt, kBytes, kArray, kMap };

namespace internal {
// One value of a Document. A container's items (an array's values; a map's key and value, alternately)
// follow it, each with everything inside it, so the next sibling of a value is `span` nodes further on.
struct Node {
  const char* bytes = nullptr;  // kBytes: its first byte, in the parsed input
  int64_t number = 0;           // kInt: the value; kBool: 0 or 1; kBytes: the length
  uint32_t count = 0;           // kArray: items; kMap: fields
  uint32_t span = 1;            // nodes this value takes: itself and everything inside it
  Type type = Type::kNil;
};
}  // namespace internal

template <bool kMap>
class Entries;
using Items = Entries<false>;  // the items of an array, in order, each a Value
using Fields = Entries<true>;  // the fields of a map, in their order in the bytes, each (key, Value)

// One value of a Document: a cheap handle, copied by value.
class Value {
 public:
  using Type = msgpack::Type;

  Value();  // nil
  explicit Value(const internal::Node* node) : node_(node) {}

  Type type() const { return node_->type; }
  bool is_nil() const { return node_->type == Type::kNil; }

  // The value as that type; a value of another type gives the type's zero (false, 0, "", empty), so that
  // decoders read optional fields without branching. Use type() where the difference matters.
  bool AsBool() const { return node_->type == Type::kBool && node_->number != 0; }
  int64_t AsInt() const { return node_->type == Type::kInt ? node_->number : 0; }
  absl::string_view AsBytes() const;
  Items AsArray() const;
  Fields AsMap() const;

  // The field `key` of a map, or nullopt.
  std::optional<Value> Find(absl::string_view key) const;
  // The field `key` of a map, or a nil value.
  Value operator[](absl::string_view key) const;

 protected:
  const internal::Node* node_;
};

// The entries of an array or a map (Items, Fields): a range over the nodes after the container's own.
template <bool kMap>
class Entries {
 public:
  using value_type = std::conditional_t<kMap, std::pair<absl::string_view, Value>, Value>;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Entries::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;
    const_iterator() = default;
    explicit const_iterator(const internal::Node* at) : at_(at) {}
    value_type operator*() const {
      if constexpr (kMap) {
        return {Value(at_).AsBytes(), Value(at_ + 1)};  // a key is a string: Parse checks
      } else {
        return Value(at_);
      }
    }
    const_iterator& operator++() {
      at_ += kMap ? 1 + at_[1].span : at_->span;  // over the key (one node) and the whole value
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const const_iterator& other) const = default;

   private:
    const internal::Node* at_ = nullptr;  // the entry's value, or a field's key
  };
  using iterator = const_iterator;

  // The `size` entries from `first` to `end` (one past the last entry's last node).
  Entries(const internal::Node* first, const internal::Node* end, size_t size)
      : first_(first), end_(end), size_(size) {}
  const_iterator begin() const { return const_iterator(first_); }
  const_iterator end() const { return const_iterator(end_); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The entry at `i` (< size()); linear in i, as entries are found by walking.
  value_type operator[](size_t i) const {
    const_iterator at = begin();
    std::advance(at, i);
    return *at;
  }

 private:
  const internal::Node* first_;
  const internal::Node* end_;
  size_t size_;
};

// The parse of one value: its root Value, owning the nodes every Value read from it points to. Move-only
// (a move keeps those Values valid); it does not own the bytes it was parsed from.
class Document : public Value {
 public:
  Document(Document&&) = default;
  Document& operator=(Document&&) = default;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

 private:
  friend absl::StatusOr<Document> Parse(absl::string_view bytes);
  explicit Document(std::vector<internal::Node> nodes) : Value(nodes.data()), nodes_(std::move(nodes)) {}
  std::vector<internal::Node> nodes_;
};

// Parse
//
// The one value `bytes` holds, pointing into `bytes`.
[[nodiscard]] absl::StatusOr<Document> Parse(absl::string_view bytes);

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
