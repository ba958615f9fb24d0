#include "services/quota/msgpack.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tradein::quota::msgpack {
namespace {

constexpr int kMaxDepth = 32;

const std::string& EmptyBytes() {
  static const std::string* const empty = new std::string();
  return *empty;
}

class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}

  absl::StatusOr<Value> Read(int depth) {
    if (depth > kMaxDepth) return Bad("nested too deep");
    uint8_t code = 0;
    if (!Byte(code)) return Bad("truncated");
    if (code <= 0x7f) return Value::Int(code);
    if (code >= 0xe0) return Value::Int(static_cast<int8_t>(code));
    if ((code & 0xf0) == 0x80) return ReadMap(code & 0x0f, depth);
    if ((code & 0xf0) == 0x90) return ReadArray(code & 0x0f, depth);
    if ((code & 0xe0) == 0xa0) return ReadBytes(code & 0x1f);
    switch (code) {
      case 0xc0:
        return Value::Nil();
      case 0xc2:
        return Value::Bool(false);
      case 0xc3:
        return Value::Bool(true);
      case 0xc4:
      case 0xd9:
        return ReadSized(1, [this](uint64_t n) { return ReadBytes(n); });
      case 0xc5:
      case 0xda:
        return ReadSized(2, [this](uint64_t n) { return ReadBytes(n); });
      case 0xc6:
      case 0xdb:
        return ReadSized(4, [this](uint64_t n) { return ReadBytes(n); });
      case 0xcc:
        return ReadUnsigned(1);
      case 0xcd:
        return ReadUnsigned(2);
      case 0xce:
        return ReadUnsigned(4);
      case 0xcf:
        return ReadUnsigned(8);
      case 0xd0:
        return ReadSigned(1);
      case 0xd1:
        return ReadSigned(2);
      case 0xd2:
        return ReadSigned(4);
      case 0xd3:
        return ReadSigned(8);
      case 0xdc:
        return ReadSized(2, [this, depth](uint64_t n) { return ReadArray(n, depth); });
      case 0xdd:
        return ReadSized(4, [this, depth](uint64_t n) { return ReadArray(n, depth); });
      case 0xde:
        return ReadSized(2, [this, depth](uint64_t n) { return ReadMap(n, depth); });
      case 0xdf:
        return ReadSized(4, [this, depth](uint64_t n) { return ReadMap(n, depth); });
      case 0xca:
      case 0xcb:
        return Bad("a float (amounts are integers)");
      default:
        return Bad(absl::StrCat("unsupported type byte ", code));
    }
  }

  bool AtEnd() const { return pos_ == in_.size(); }

 private:
  static absl::Status Bad(absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("msgpack: ", why));
  }

  bool Byte(uint8_t& out) {
    if (pos_ >= in_.size()) return false;
    out = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }

  bool Be(int bytes, uint64_t& out) {
    if (in_.size() - pos_ < static_cast<size_t>(bytes)) return false;
    out = 0;
    for (int i = 0; i < bytes; ++i) out = (out << 8) | static_cast<uint8_t>(in_[pos_++]);
    return true;
  }

  template <typename F>
  absl::StatusOr<Value> ReadSized(int bytes, F then) {
    uint64_t n = 0;
    if (!Be(bytes, n)) return Bad("truncated length");
    return then(n);
  }

  absl::StatusOr<Value> ReadUnsigned(int bytes) {
    uint64_t v = 0;
    if (!Be(bytes, v)) return Bad("truncated integer");
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Bad("integer above int64");
    return Value::Int(static_cast<int64_t>(v));
  }

  absl::StatusOr<Value> ReadSigned(int bytes) {
    uint64_t v = 0;
    if (!Be(bytes, v)) return Bad("truncated integer");
    const int shift = 64 - 8 * bytes;  // sign-extend from `bytes` bytes
    return Value::Int(static_cast<int64_t>(v << shift) >> shift);
  }

  absl::StatusOr<Value> ReadBytes(uint64_t n) {
    if (in_.size() - pos_ < n) return Bad("truncated string");
    Value v = Value::Bytes(std::string(in_.substr(pos_, n)));
    pos_ += n;
    return v;
  }

  // Every element takes at least one byte, so a count above what is left is refused before any allocation.
  absl::StatusOr<Value> ReadArray(uint64_t n, int depth) {
    if (n > in_.size() - pos_) return Bad("array longer than the input");
    std::vector<Value> items;
    items.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      absl::StatusOr<Value> item = Read(depth + 1);
      if (!item.ok()) return item.status();
      items.push_back(*std::move(item));
    }
    return Value::Array(std::move(items));
  }

  absl::StatusOr<Value> ReadMap(uint64_t n, int depth) {
    if (n > (in_.size() - pos_) / 2) return Bad("map longer than the input");
    std::vector<std::pair<std::string, Value>> fields;
    fields.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      absl::StatusOr<Value> key = Read(depth + 1);
      if (!key.ok()) return key.status();
      if (key->type() != Value::Type::kBytes) return Bad("a map key that is not a string");
      absl::StatusOr<Value> value = Read(depth + 1);
      if (!value.ok()) return value.status();
      fields.emplace_back(key->AsBytes(), *std::move(value));
    }
    return Value::Map(std::move(fields));
  }

  absl::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

Value Value::Bool(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.int_ = b ? 1 : 0;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.type_ = Type::kInt;
  v.int_ = i;
  return v;
}

Value Value::Bytes(std::string s) {
  Value v;
  v.type_ = Type::kBytes;
  v.bytes_ = std::move(s);
  return v;
}

Value Value::Array(std::vector<Value> items) {
  Value v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}

Value Value::Map(std::vector<std::pair<std::string, Value>> fields) {
  Value v;
  v.type_ = Type::kMap;
  v.fields_ = std::move(fields);
  return v;
}

const std::string& Value::AsBytes() const { return type_ == Type::kBytes ? bytes_ : EmptyBytes(); }

const std::vector<Value>& Value::AsArray() const {
  static const std::vector<Value>* const empty = new std::vector<Value>();
  return type_ == Type::kArray ? items_ : *empty;
}

const std::vector<std::pair<std::string, Value>>& Value::AsMap() const {
  static const auto* const empty = new std::vector<std::pair<std::string, Value>>();
  return type_ == Type::kMap ? fields_ : *empty;
}

const Value* Value::Find(absl::string_view key) const {
  for (const auto& [name, value] : AsMap()) {
    if (name == key) return &value;
  }
  return nullptr;
}

const Value& Value::operator[](absl::string_view key) const {
  static const Value* const nil = new Value();
  const Value* found = Find(key);
  return found != nullptr ? *found : *nil;
}

absl::StatusOr<Value> Parse(absl::string_view bytes) {
  Reader reader(bytes);
  absl::StatusOr<Value> value = reader.Read(0);
  if (value.ok() && !reader.AtEnd()) return absl::InvalidArgumentError("msgpack: bytes after the value");
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Writer

void Writer::Be(uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void Writer::Header(uint8_t fix_base, size_t fix_max, uint8_t code16, uint8_t code32, size_t n) {
  if (n <= fix_max) {
    out_.push_back(static_cast<char>(fix_base | n));
  } else if (n <= 0xffff) {
    out_.push_back(static_cast<char>(code16));
    Be(n, 2);
  } else {
    out_.push_back(static_cast<char>(code32));
    Be(n, 4);
  }
}

Writer& Writer::Nil() {
  out_.push_back(static_cast<char>(0xc0));
  return *this;
}

Writer& Writer::Bool(bool b) {
  out_.push_back(static_cast<char>(b ? 0xc3 : 0xc2));
  return *this;
}

Writer& Writer::Int(int64_t i) {
  if (i >= 0 && i <= 0x7f) {
    out_.push_back(static_cast<char>(i));
  } else if (i < 0 && i >= -32) {
    out_.push_back(static_cast<char>(static_cast<int8_t>(i)));
  } else if (i >= 0 && i <= 0xffff) {
    out_.push_back(static_cast<char>(0xcd));
    Be(static_cast<uint64_t>(i), 2);
  } else if (i >= 0 && i <= 0xffffffff) {
    out_.push_back(static_cast<char>(0xce));
    Be(static_cast<uint64_t>(i), 4);
  } else {
    out_.push_back(static_cast<char>(0xd3));
    Be(static_cast<uint64_t>(i), 8);
  }
  return *this;
}

Writer& Writer::Str(absl::string_view s) {
  if (s.size() <= 31) {
    out_.push_back(static_cast<char>(0xa0 | s.size()));
  } else if (s.size() <= 0xff) {
    out_.push_back(static_cast<char>(0xd9));
    Be(s.size(), 1);
  } else {
    Header(0, 0, 0xda, 0xdb, s.size());
  }
  out_.append(s.data(), s.size());
  return *this;
}

Writer& Writer::Array(size_t n) {
  Header(0x90, 15, 0xdc, 0xdd, n);
  return *this;
}

Writer& Writer::Map(size_t n) {
  Header(0x80, 15, 0xde, 0xdf, n);
  return *this;
}

}  // namespace tradein::quota::msgpack
