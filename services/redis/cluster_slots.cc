#include "services/redis/cluster_slots.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tradein::redis {
namespace {

uint16_t Crc16(absl::string_view data) {
  uint16_t crc = 0;
  for (char c : data) {
    crc = static_cast<uint16_t>(crc ^ (static_cast<uint16_t>(static_cast<unsigned char>(c)) << 8));
    for (int i = 0; i < 8; ++i) {
      crc =
          (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

absl::Status BadReply(absl::string_view what, const RedisValue& value) {
  return absl::InternalError(absl::StrCat("CLUSTER SLOTS: ", what, ": ", value.DebugString()));
}

// [host, port, id, ...] → the endpoint.
absl::StatusOr<ClusterEndpoint> ParseNode(const RedisValue& node, absl::string_view asked_host) {
  const std::vector<RedisValue>& fields = node.elements();
  if (node.type() != RedisValue::Type::kArray || fields.size() < 2 ||
      fields[1].type() != RedisValue::Type::kInteger) {
    return BadReply("a node is not [host, port, ...]", node);
  }
  ClusterEndpoint endpoint;
  endpoint.host = fields[0].str();
  if (fields[0].is_nil() || endpoint.host.empty() || endpoint.host == "?") {
    endpoint.host = std::string(asked_host);
  }
  endpoint.port = static_cast<int>(fields[1].integer());
  if (fields.size() > 2) endpoint.id = fields[2].str();
  return endpoint;
}

}  // namespace

int KeySlot(absl::string_view key) {
  const size_t open = key.find('{');
  if (open != absl::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != absl::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return Crc16(key) % kClusterSlots;
}

std::string ClusterEndpoint::address() const {
  return absl::StrContains(host, ':') ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

const ClusterShard* SlotMap::ShardOf(int slot) const {
  if (slot < 0 || slot >= kClusterSlots) return nullptr;
  const int index = owner_[static_cast<size_t>(slot)];
  return index < 0 ? nullptr : &shards_[static_cast<size_t>(index)];
}

int SlotMap::UncoveredSlots() const { return static_cast<int>(std::count(owner_.begin(), owner_.end(), -1)); }

int SlotMap::MinReplicas() const {
  if (shards_.empty()) return 0;
  size_t fewest = shards_.front().replicas.size();
  for (const ClusterShard& shard : shards_) fewest = std::min(fewest, shard.replicas.size());
  return static_cast<int>(fewest);
}

void SlotMap::Assign(int first, int last, const ClusterShard& shard) {
  auto it = std::find_if(shards_.begin(), shards_.end(),
                         [&](const ClusterShard& s) { return s.master == shard.master; });
  if (it == shards_.end()) {
    shards_.push_back(shard);
    it = shards_.end() - 1;
  } else {
    for (const ClusterEndpoint& replica : shard.replicas) {
      if (std::find(it->replicas.begin(), it->replicas.end(), replica) == it->replicas.end()) {
        it->replicas.push_back(replica);
      }
    }
  }
  const auto index = static_cast<int16_t>(it - shards_.begin());
  for (int slot = std::max(first, 0); slot <= std::min(last, kClusterSlots - 1); ++slot) {
    owner_[static_cast<size_t>(slot)] = index;
  }
}

std::string SlotMap::DebugString() const {
  std::string out;
  for (size_t i = 0; i < shards_.size(); ++i) {
    std::string ranges;
    for (int slot = 0; slot < kClusterSlots; ++slot) {
      if (owner_[static_cast<size_t>(slot)] != static_cast<int16_t>(i)) continue;
      int last = slot;
      while (last + 1 < kClusterSlots && owner_[static_cast<size_t>(last + 1)] == static_cast<int16_t>(i))
        ++last;
      absl::StrAppend(&ranges, ranges.empty() ? "" : ",", slot, "-", last);
      slot = last;
    }
    absl::StrAppend(&out, out.empty() ? "" : ", ", shards_[i].master.address(), " ", ranges, " (",
                    shards_[i].replicas.size(), " replicas)");
  }
  return out;
}

absl::StatusOr<SlotMap> ParseClusterSlots(const RedisValue& reply, absl::string_view asked_host) {
  if (reply.type() != RedisValue::Type::kArray) return BadReply("not an array", reply);
  SlotMap map;
  for (const RedisValue& range : reply.elements()) {
    const std::vector<RedisValue>& fields = range.elements();
    if (range.type() != RedisValue::Type::kArray || fields.size() < 3 ||
        fields[0].type() != RedisValue::Type::kInteger || fields[1].type() != RedisValue::Type::kInteger ||
        fields[0].integer() < 0 || fields[1].integer() >= kClusterSlots ||
        fields[0].integer() > fields[1].integer()) {
      return BadReply("a range is not [first, last, master, replica...]", range);
    }
    ClusterShard shard;
    absl::StatusOr<ClusterEndpoint> master = ParseNode(fields[2], asked_host);
    if (!master.ok()) return master.status();
    shard.master = *std::move(master);
    for (size_t i = 3; i < fields.size(); ++i) {
      absl::StatusOr<ClusterEndpoint> replica = ParseNode(fields[i], asked_host);
      if (!replica.ok()) return replica.status();
      shard.replicas.push_back(*std::move(replica));
    }
    map.Assign(static_cast<int>(fields[0].integer()), static_cast<int>(fields[1].integer()), shard);
  }
  return map;
}

std::optional<Redirect> ParseRedirect(absl::string_view error_reply, absl::string_view replied_host) {
  const std::vector<absl::string_view> parts = absl::StrSplit(error_reply, ' ');
  if (parts.size() != 3 || (parts[0] != "MOVED" && parts[0] != "ASK")) return std::nullopt;
  Redirect redirect;
  redirect.kind = parts[0] == "MOVED" ? Redirect::Kind::kMoved : Redirect::Kind::kAsk;
  if (!absl::SimpleAtoi(parts[1], &redirect.slot) || redirect.slot < 0 || redirect.slot >= kClusterSlots) {
    return std::nullopt;
  }
  absl::StatusOr<ClusterEndpoint> to = ParseHostPort(parts[2], "redirect");
  if (!to.ok()) return std::nullopt;
  redirect.to = *std::move(to);
  if (redirect.to.host.empty()) redirect.to.host = std::string(replied_host);
  return redirect;
}

absl::StatusOr<ClusterEndpoint> ParseHostPort(absl::string_view text, absl::string_view what) {
  const size_t colon = text.rfind(':');
  ClusterEndpoint endpoint;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(text.substr(colon + 1), &endpoint.port) ||
      endpoint.port <= 0 || endpoint.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": \"", text, "\" is not HOST:PORT"));
  }
  absl::string_view host = text.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) host = host.substr(1, host.size() - 2);
  endpoint.host = std::string(host);
  return endpoint;
}

}  // namespace tradein::redis
