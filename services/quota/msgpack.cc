#include "services/quota/msgpack.h"

#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tradein::quota::msgpack {
namespace {

using internal::Node;

constexpr int kMaxDepth = 32;

// The nil value every absent field and type mismatch reads as.
const Node* NilNode() {
  static const Node* const nil = new Node();
  return nil;
}

// Appends the nodes of one value to `nodes_`, in the order of the bytes.
class Reader {
 public:
  Reader(absl::string_view in, std::vector<Node>& nodes) : in_(in), nodes_(nodes) {}

  absl::Status Read(int depth) {
    if (depth > kMaxDepth) return Bad("nested too deep");
    uint8_t code = 0;
    if (!Byte(code)) return Bad("truncated");
    if (code <= 0x7f) return Number(Type::kInt, code);
    if (code >= 0xe0) return Number(Type::kInt, static_cast<int8_t>(code));
    if ((code & 0xf0) == 0x80) return ReadMap(code & 0x0f, depth);
    if ((code & 0xf0) == 0x90) return ReadArray(code & 0x0f, depth);
    if ((code & 0xe0) == 0xa0) return ReadBytes(code & 0x1f);
    switch (code) {
      case 0xc0:
        nodes_.emplace_back();
        return absl::OkStatus();
      case 0xc2:
        return Number(Type::kBool, 0);
      case 0xc3:
        return Number(Type::kBool, 1);
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
  absl::Status ReadSized(int bytes, F then) {
    uint64_t n = 0;
    if (!Be(bytes, n)) return Bad("truncated length");
    return then(n);
  }

  absl::Status Number(Type type, int64_t value) {
    nodes_.push_back(Node{.number = value, .type = type});
    return absl::OkStatus();
  }

  absl::Status ReadUnsigned(int bytes) {
    uint64_t v = 0;
    if (!Be(bytes, v)) return Bad("truncated integer");
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Bad("integer above int64");
    return Number(Type::kInt, static_cast<int64_t>(v));
  }

  absl::Status ReadSigned(int bytes) {
    uint64_t v = 0;
    if (!Be(bytes, v)) return Bad("truncated integer");
    const int shift = 64 - 8 * bytes;  // sign-extend from `bytes` bytes
    return Number(Type::kInt, static_cast<int64_t>(v << shift) >> shift);
  }

  absl::Status ReadBytes(uint64_t n) {
    if (in_.size() - pos_ < n) return Bad("truncated string");
    nodes_.push_back(
        Node{.bytes = in_.data() + pos_, .number = static_cast<int64_t>(n), .type = Type::kBytes});
    pos_ += n;
    return absl::OkStatus();
  }

  // Every item takes at least one byte, so a count above what is left is refused before reading on (and
  // counts and spans fit 32 bits: the input is checked to).
  absl::Status ReadArray(uint64_t n, int depth) {
    if (n > in_.size() - pos_) return Bad("array longer than the input");
    const size_t at = Open(Type::kArray, n);
    for (uint64_t i = 0; i < n; ++i) {
      if (absl::Status item = Read(depth + 1); !item.ok()) return item;
    }
    return Close(at);
  }

  absl::Status ReadMap(uint64_t n, int depth) {
    if (n > (in_.size() - pos_) / 2) return Bad("map longer than the input");
    const size_t at = Open(Type::kMap, n);
    for (uint64_t i = 0; i < n; ++i) {
      const size_t key = nodes_.size();
      if (absl::Status read = Read(depth + 1); !read.ok()) return read;
      if (nodes_[key].type != Type::kBytes) return Bad("a map key that is not a string");
      if (absl::Status value = Read(depth + 1); !value.ok()) return value;
    }
    return Close(at);
  }

  size_t Open(Type type, uint64_t count) {
    nodes_.push_back(Node{.count = static_cast<uint32_t>(count), .type = type});
    return nodes_.size() - 1;
  }

  absl::Status Close(size_t at) {
    nodes_[at].span = static_cast<uint32_t>(nodes_.size() - at);
    return absl::OkStatus();
  }

  absl::string_view in_;
  size_t pos_ = 0;
  std::vector<Node>& nodes_;
};

}  // namespace

Value::Value() : node_(NilNode()) {}

absl::string_view Value::AsBytes() const {
  if (node_->type != Type::kBytes) return {};
  return absl::string_view(node_->bytes, static_cast<size_t>(node_->number));
}

// An empty table reaches here as either an empty array or an empty map (cmsgpack cannot tell them apart).
Items Value::AsArray() const {
  if (node_->type != Type::kArray) return Items(node_, node_, 0);
  return Items(node_ + 1, node_ + node_->span, node_->count);
}

Fields Value::AsMap() const {
  if (node_->type != Type::kMap) return Fields(node_, node_, 0);
  return Fields(node_ + 1, node_ + node_->span, node_->count);
}

std::optional<Value> Value::Find(absl::string_view key) const {
  for (const auto& [name, value] : AsMap()) {
    if (name == key) return value;
  }
  return std::nullopt;
}

Value Value::operator[](absl::string_view key) const { return Find(key).value_or(Value()); }

absl::StatusOr<Document> Parse(absl::string_view bytes) {
  if (bytes.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("msgpack: input above 4 GiB");
  }
  std::vector<Node> nodes;
  nodes.reserve(std::min<size_t>(bytes.size(), 64));
  Reader reader(bytes, nodes);
  if (absl::Status read = reader.Read(0); !read.ok()) return read;
  if (!reader.AtEnd()) return absl::InvalidArgumentError("msgpack: bytes after the value");
  return Document(std::move(nodes));
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
