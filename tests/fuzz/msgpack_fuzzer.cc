// Fuzzes the MessagePack the ledger's scripts answer in (services/quota/msgpack.h) and the readers of those
// answers (services/quota/redis/scripts.h): Redis is trusted, but a reader that walks pointers through a
// reply must stay inside it whatever the reply holds.
//
// Input: the first byte chooses what the rest is.
//   'a'        a script's answer (the bulk string of its reply), read by every Parse*Reply of scripts.h;
//   otherwise  MessagePack bytes for msgpack::Parse.
//
// Properties, besides "no sanitizer report": every string of a parsed document lies inside the input; the
// document written back with msgpack::Writer parses, and writing that back gives the same bytes (the writer's
// encoding is canonical); Find gives the first field of a key; a reader that refuses an answer says INTERNAL.
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "services/quota/msgpack.h"
#include "services/quota/redis/scripts.h"
#include "services/redis/redis_value.h"
#include "tests/fuzz/fuzz_support.h"

namespace tradein::fuzz {
namespace {

using quota::msgpack::Document;
using quota::msgpack::Type;
using quota::msgpack::Value;
using quota::msgpack::Writer;

// Writes `v` back, checking on the way that its strings lie inside `input` and that Find finds the first
// field of each key.
void WriteBack(const Value& v, absl::string_view input, Writer& w) {
  switch (v.type()) {
    case Type::kNil:
      w.Nil();
      return;
    case Type::kBool:
      w.Bool(v.AsBool());
      return;
    case Type::kInt:
      w.Int(v.AsInt());
      return;
    case Type::kBytes: {
      const absl::string_view bytes = v.AsBytes();
      FUZZ_CHECK(bytes.empty() || (bytes.data() >= input.data() &&
                                   bytes.data() + bytes.size() <= input.data() + input.size()),
                 "a string outside the input");
      w.Str(bytes);
      return;
    }
    case Type::kArray:
      w.Array(v.AsArray().size());
      for (const Value& item : v.AsArray()) WriteBack(item, input, w);
      return;
    case Type::kMap:
      w.Map(v.AsMap().size());
      for (const auto& [key, value] : v.AsMap()) {
        const std::optional<Value> found = v.Find(key);
        FUZZ_CHECK(found.has_value(), absl::CHexEscape(key));
        w.Key(key);
        WriteBack(value, input, w);
      }
      return;
  }
}

std::string Canonical(const Document& document, absl::string_view input) {
  Writer w;
  WriteBack(document, input, w);
  return w.Take();
}

void FuzzParse(absl::string_view input) {
  const absl::StatusOr<Document> parsed = quota::msgpack::Parse(input);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument, parsed.status().ToString());
    return;
  }
  const std::string once = Canonical(*parsed, input);
  const absl::StatusOr<Document> again = quota::msgpack::Parse(once);
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(Canonical(*again, once) == once, absl::CHexEscape(once));
}

template <typename T>
void CheckRefusal(const absl::StatusOr<T>& answer) {
  FUZZ_CHECK(answer.ok() || answer.status().code() == absl::StatusCode::kInternal,
             answer.status().ToString());
}

void FuzzAnswer(absl::string_view input) {
  const absl::StatusOr<redis::RedisValue> reply = redis::RedisValue::String(std::string(input));
  const absl::StatusOr<quota::scripts::ClaimReply> claim = quota::scripts::ParseClaimReply(reply, "fuzz");
  CheckRefusal(claim);
  if (claim.ok()) {
    FUZZ_CHECK(claim->record.grants.size() == claim->record.refunds.size(), "grants without refunds");
  }
  for (const size_t count : {size_t{0}, size_t{1}, size_t{3}}) {
    CheckRefusal(quota::scripts::ParseListReply(reply, count));
    CheckRefusal(quota::scripts::ParseUsageReply(reply, count));
    CheckRefusal(quota::scripts::ParseBudgetAllocReply(reply, count));
  }
  CheckRefusal(quota::scripts::ParseOnceTakeReply(reply));
  CheckRefusal(quota::scripts::ParseSettleReply(reply));
  CheckRefusal(quota::scripts::ParseBudgetUsedReply(reply));
  CheckRefusal(quota::scripts::ParseBudgetLeaseReply(reply));
  CheckRefusal(quota::scripts::ParseBudgetGivebackReply(reply));
  CheckRefusal(quota::scripts::ParseDueSettleReply(reply));
  CheckRefusal(quota::scripts::ParseIndexRangeReply(reply));
  const absl::Status ping = quota::scripts::ParsePingReply(reply);
  FUZZ_CHECK(ping.ok() || ping.code() == absl::StatusCode::kInternal, ping.ToString());
}

}  // namespace
}  // namespace tradein::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == 'a') {
    tradein::fuzz::FuzzAnswer(input.substr(1));
  } else {
    tradein::fuzz::FuzzParse(input.empty() ? input : input.substr(1));
  }
  return 0;
}
