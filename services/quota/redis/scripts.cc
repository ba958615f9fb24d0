#include "services/quota/redis/scripts.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/quota/msgpack.h"
#include "services/quota/redis/keys.h"
#include "services/quota/redis/script_sources.h"

namespace tradein::quota::scripts {
namespace {

using msgpack::Document;
using msgpack::Value;
using msgpack::Writer;
using pricing::ReasonCode;
using pricing::ReasonSet;

absl::Status BadReply(absl::string_view script) {
  // Never the reply itself: it may carry a draft.
  return absl::InternalError(absl::StrCat("unexpected answer from ", script));
}

// The answer map of a script's reply (one bulk string of MessagePack).
absl::StatusOr<Document> Answer(const absl::StatusOr<redis::RedisValue>& reply, absl::string_view script) {
  if (!reply.ok()) return reply.status();
  if (reply->type() != redis::RedisValue::Type::kString) return BadReply(script);
  absl::StatusOr<Document> value = msgpack::Parse(reply->str());
  if (!value.ok() || value->type() != Value::Type::kMap) return BadReply(script);
  return value;
}

bool ReadTime(const Value& v, absl::Time& out) {
  int64_t nanos = 0;
  if (!absl::SimpleAtoi(v.AsBytes(), &nanos)) return false;
  out = absl::FromUnixNanos(nanos);
  return true;
}

// The claim's history (prelude_buyer.lua add_event: cmsgpack {o, e = {event...}}, "" when none); false when
// malformed.
bool ReadHistory(absl::string_view packed, ClaimRecord& r) {
  if (packed.empty()) return true;
  absl::StatusOr<Document> history = msgpack::Parse(packed);
  if (!history.ok() || history->type() != Value::Type::kMap) return false;
  r.history_omitted = static_cast<int32_t>((*history)["o"].AsInt());
  for (const Value& e : (*history)["e"].AsArray()) {
    ClaimEvent event;
    const int64_t kind = e["k"].AsInt();
    if (kind < 1 || kind > 5 || !ReadTime(e["at"], event.at)) return false;
    event.kind = static_cast<ClaimEvent::Kind>(kind);
    event.actor = std::string(e["by"].AsBytes());
    event.reason = std::string(e["why"].AsBytes());
    event.request_id = std::string(e["id"].AsBytes());
    event.before = std::string(e["ob"].AsBytes());
    event.after = std::string(e["nb"].AsBytes());
    for (const Value& line : e["ln"].AsArray()) {
      const msgpack::Items f = line.AsArray();
      if (f.size() != 4) return false;
      event.lines.push_back(
          {std::string(f[0].AsBytes()), static_cast<int32_t>(f[1].AsInt()), f[2].AsInt(), f[3].AsInt()});
    }
    r.history.push_back(std::move(event));
  }
  return true;
}

// A line of a claim: {u, f, r, ru, rf} as claim_view() sends it, or the stored line's map of those names.
bool ReadLine(const Value& line, ClaimRecord& r) {
  std::array<Value, 5> f;
  if (line.type() == Value::Type::kMap) {
    f = {line["u"], line["f"], line["r"], line["ru"], line["rf"]};
  } else {
    const msgpack::Items items = line.AsArray();
    if (items.size() != f.size()) return false;
    std::copy(items.begin(), items.end(), f.begin());
  }
  r.grants.push_back(LineGrant{static_cast<int32_t>(f[0].AsInt()), f[1].AsInt(),
                               ReasonSet::FromBits(static_cast<uint32_t>(f[2].AsInt()))});
  r.refunds.push_back(LineRefund{static_cast<int32_t>(f[3].AsInt()), f[4].AsInt()});
  return true;
}

// The claim of a buyer script's answer: prelude_buyer.lua claim_view(), or — buyer_confirm.lua's
// confirm_in_place() — id, d, k and h beside the stored record itself (r), which is then also parsed into
// `*stored` when given; false when malformed.
bool ReadClaim(const Value& view, ClaimRecord& r, std::optional<Document>* stored_out = nullptr) {
  const Value c = view["c"];
  std::optional<Document> local;
  std::optional<Document>& stored = stored_out != nullptr ? *stored_out : local;
  if (const std::optional<Value> packed = c.Find("r")) {
    absl::StatusOr<Document> parsed = msgpack::Parse(packed->AsBytes());
    if (!parsed.ok()) return false;
    stored = *std::move(parsed);
  }
  const Value fields = stored ? *stored : c;
  const int64_t state = fields["st"].AsInt();
  if (state < 1 || state > 8) return false;
  r.state = static_cast<ClaimState>(state);
  r.claim_id = std::string(c["id"].AsBytes());
  r.retailer_id = std::string(fields["rt"].AsBytes());
  r.request_id = std::string(fields["rq"].AsBytes());
  r.draft = std::string(c["d"].AsBytes());
  r.confirmation = std::string(c["k"].AsBytes());
  r.replayed = view["rp"].AsBool();
  r.last_change_fen = view["ch"].AsInt();
  if (!ReadTime(fields["cr"], r.created_at) || !ReadTime(fields["up"], r.updated_at) ||
      !ReadTime(fields["ex"], r.expires_at)) {
    return false;
  }
  if (!ReadHistory(c["h"].AsBytes(), r)) return false;
  for (const Value& line : fields["ln"].AsArray()) {
    if (!ReadLine(line, r)) return false;
  }
  return true;
}

bool ReadPlan(const Value& p, Plan& plan) {
  for (const Value& b : p["b"].AsArray()) {
    const msgpack::Items f = b.AsArray();
    if (f.size() != 2) return false;
    plan.budgets.push_back({std::string(f[0].AsBytes()), f[1].AsInt()});
  }
  for (const Value& o : p["o"].AsArray()) {
    const msgpack::Items f = o.AsArray();
    if (f.size() != 2) return false;
    plan.once.push_back({std::string(f[0].AsBytes()), f[1].AsBool()});
  }
  return true;
}

// The plan of a claim a full grant stored, as prelude_buyer.lua plan() gives it: confirm_in_place() answers
// with such a record only while it is RESERVED or just CONFIRMED, with no pending serials and nothing
// released (sp and okr empty), so each budget in bk holds what the lines draw on it, and each once-key in ok
// stays held when a line holds it.
void PlanOfStored(const Value& stored, Plan& plan) {
  std::map<std::string, int64_t, std::less<>> target;
  std::set<std::string, std::less<>> held;
  for (const Value& line : stored["ln"].AsArray()) {
    for (const Value& charge : line["bg"].AsArray())
      target[std::string(charge["k"].AsBytes())] += charge["f"].AsInt();
    for (const Value& key : line["ok"].AsArray()) held.insert(std::string(key.AsBytes()));
  }
  for (const Value& key : stored["bk"].AsArray())
    plan.budgets.push_back({std::string(key.AsBytes()), target[std::string(key.AsBytes())]});
  for (const Value& key : stored["ok"].AsArray())
    plan.once.push_back({std::string(key.AsBytes()), held.contains(key.AsBytes())});
}

absl::StatusOr<ClaimReply> ReadClaimReply(const Value& view, absl::string_view script) {
  ClaimReply out;
  out.status = std::string(view["s"].AsBytes());
  out.state = view["st"].AsInt();
  out.serial = view["n"].AsInt();
  out.units = view["u"].AsInt();
  out.report = view["report"].AsBool();
  if (out.status == "OK" || out.status == "NEEDS_COMMIT") {
    std::optional<Document> stored;
    if (!ReadClaim(view, out.record, &stored)) return BadReply(script);
    if (stored) {
      PlanOfStored(*stored, out.plan);
    } else if (!ReadPlan(view["p"], out.plan)) {
      return BadReply(script);
    }
  }
  return out;
}

// Starts a map of `more` + 2 fields with the two most scripts take.
void ClaimAndNow(absl::string_view claim_id, absl::Time now, size_t more, Writer& w) {
  w.Map(2 + more).Key("claim").Str(claim_id).Key("now").Str(TimeText(now));
}

}  // namespace

const Scripts& Get() {
  static const Scripts* const scripts = new Scripts{redis::RedisScript(source::kBuyerReserve),
                                                    redis::RedisScript(source::kBuyerConfirm),
                                                    redis::RedisScript(source::kBuyerCancel),
                                                    redis::RedisScript(source::kBuyerRefund),
                                                    redis::RedisScript(source::kBuyerVoid),
                                                    redis::RedisScript(source::kBuyerCorrect),
                                                    redis::RedisScript(source::kBuyerGet),
                                                    redis::RedisScript(source::kBuyerSweep),
                                                    redis::RedisScript(source::kBuyerList),
                                                    redis::RedisScript(source::kBuyerUsage),
                                                    redis::RedisScript(source::kOnceTake),
                                                    redis::RedisScript(source::kOnceSettle),
                                                    redis::RedisScript(source::kBudgetAlloc),
                                                    redis::RedisScript(source::kBudgetSettle),
                                                    redis::RedisScript(source::kBudgetUsed),
                                                    redis::RedisScript(source::kBudgetLease),
                                                    redis::RedisScript(source::kBudgetGiveback),
                                                    redis::RedisScript(source::kBudgetReturned),
                                                    redis::RedisScript(source::kDueSettle),
                                                    redis::RedisScript(source::kIndexRange),
                                                    redis::RedisScript(source::kPing)};
  return *scripts;
}

// Written by hand: StrFormat's "%019d" cost the server ~8k instructions a Claim+Confirm pair.
std::string TimeText(absl::Time t) {
  std::string out(19, '0');  // int64's largest value has 19 digits
  int64_t nanos = std::max<int64_t>(absl::ToUnixNanos(t), 0);
  for (auto digit = out.rbegin(); nanos > 0; ++digit, nanos /= 10)
    *digit = static_cast<char>('0' + nanos % 10);
  return out;
}

int64_t Millis(absl::Time t) { return std::max<int64_t>(absl::ToUnixNanos(t), 0) / 1000000; }

absl::StatusOr<ClaimReply> ParseClaimReply(const absl::StatusOr<redis::RedisValue>& reply,
                                           absl::string_view script) {
  absl::StatusOr<Document> value = Answer(reply, script);
  if (!value.ok()) return value.status();
  return ReadClaimReply(*value, script);
}

namespace {

// The keys of `names` this claim holds (`taken`), each once, in order (buyer_reserve.lua held_keys()).
std::vector<std::string> HeldKeys(const std::vector<std::string>& names, const std::vector<bool>& taken) {
  std::vector<std::string> out;
  for (size_t k = 0; k < names.size(); ++k) {
    if (taken[k] && std::find(out.begin(), out.end(), names[k]) == out.end()) out.push_back(names[k]);
  }
  return out;
}

void StrArray(const std::vector<std::string>& items, Writer& w) {
  w.Array(items.size());
  for (const std::string& item : items) w.Str(item);
}

}  // namespace

// The claim of a full grant as prelude_buyer.lua stores it: the record buyer_reserve.lua builds, field for
// field (an empty Lua table packs as an empty array), plus gf, the fen granted. The first fields are in the
// order buyer_confirm.lua's confirm_in_place() reads them at fixed places: st, up, ex, gf, bk, ok, rt, bu.
std::string ReserveArgs::Stored(const std::vector<LineGrant>& grants, const std::vector<std::string>& fields,
                                const std::vector<std::string>& held_budgets,
                                const std::vector<std::string>& held_once) const {
  const ReserveRequest& r = request;
  int64_t granted_fen = 0;
  for (const LineGrant& grant : grants) granted_fen += grant.fen;
  Writer w;
  w.Map(18).Key("st").Int(static_cast<int64_t>(ClaimState::kReserved)).Key("up").Str(TimeText(r.now));
  w.Key("ex").Str(TimeText(r.expires_at)).Key("gf").Int(granted_fen).Key("bk");
  StrArray(held_budgets, w);
  w.Key("ok");
  StrArray(held_once, w);
  w.Key("rt").Str(r.retailer_id).Key("bu").Str(r.buyer.key).Key("rq").Str(r.request_id);
  w.Key("fp").Str(r.fingerprint).Key("cr").Str(TimeText(created));
  w.Key("rs").Int(r.refund_restores_quota ? 1 : 0);
  w.Key("ln").Array(r.lines.size());
  for (size_t i = 0; i < r.lines.size(); ++i) {
    const LineRequest& line = r.lines[i];
    const LineGrant& grant = grants[i];
    const bool granted = grant.units > 0;  // a line granted nothing charges and holds nothing
    w.Map(9).Key("id").Str(line.line_id).Key("u").Int(grant.units).Key("f").Int(grant.fen);
    w.Key("r").Int(reasons[i]).Key("ru").Int(0).Key("rf").Int(0);
    w.Key("ch").Array(granted ? line.counters.size() : 0);
    for (uint16_t c : granted ? line.counters : std::vector<uint16_t>{}) {
      const bool in_units = r.counters[c].kind == CounterLimit::Kind::kUnits;
      w.Map(3)
          .Key("k")
          .Str(fields[c])
          .Key("a")
          .Int(in_units ? grant.units : grant.fen)
          .Key("u")
          .Int(in_units ? 1 : 0);
    }
    w.Key("ok").Array(granted ? line.once_keys.size() : 0);
    for (uint16_t o : granted ? line.once_keys : std::vector<uint16_t>{}) w.Str(once_keys[o]);
    w.Key("bg").Array(granted ? line.budgets.size() : 0);
    for (uint16_t b : granted ? line.budgets : std::vector<uint16_t>{}) {
      w.Map(2).Key("k").Str(budget_keys[b]).Key("f").Int(grant.fen);
    }
  }
  for (const char* empty : {"rf", "vd", "co", "okr", "sp"}) w.Key(empty).Array(0);
  return w.Take();
}

std::optional<FullGrant> ReserveArgs::FullGrantOf() const {
  const ReserveRequest& r = request;
  FullGrant full;
  ClaimRecord& record = full.record;
  std::vector<int64_t> charged(r.counters.size(), 0);
  std::map<std::string, int64_t> budget_fen;  // per budget key: the fen the lines hold there
  std::set<std::string> once_kept;            // the once-keys the granted lines hold
  bool lines_hold_elsewhere = false;          // a granted line holds a once-key or budget entry
  int64_t total = 0;
  for (size_t i = 0; i < r.lines.size(); ++i) {
    const LineRequest& line = r.lines[i];
    // As the script: a line whose grant comes to no fen gets no units either.
    const int64_t fen = int64_t{units[i]} * line.unit_fen;
    const int32_t granted = fen > 0 ? units[i] : 0;
    record.grants.push_back({granted, granted > 0 ? fen : 0, ReasonSet::FromBits(reasons[i])});
    record.refunds.push_back({});
    if (granted == 0) continue;
    for (uint16_t c : line.counters) {
      charged[c] += r.counters[c].kind == CounterLimit::Kind::kUnits ? granted : fen;
    }
    for (uint16_t b : line.budgets) budget_fen[budget_keys[b]] += fen;
    for (uint16_t o : line.once_keys) once_kept.insert(once_keys[o]);
    lines_hold_elsewhere = lines_hold_elsewhere || !line.once_keys.empty() || !line.budgets.empty();
    total += fen;
  }
  if (total == 0) return std::nullopt;
  std::vector<std::string> fields;  // per counter: its field in the buyer's counters hash
  for (const CounterLimit& counter : r.counters) {
    fields.push_back(RedisQuotaKeys::CounterField(r.buyer.key, counter.programme, counter.field));
  }
  for (size_t c = 0; c < r.counters.size(); ++c) {
    if (charged[c] > 0) full.charges.push_back({fields[c], charged[c], r.counters[c].limit});
  }
  // What the other slots must hold for it (prelude_buyer.lua plan() of a RESERVED claim).
  const std::vector<std::string> held_budgets = HeldKeys(budget_keys, budget_taken);
  const std::vector<std::string> held_once = HeldKeys(once_keys, once_taken);
  // A claim that holds something elsewhere only for lines granted nothing is confirmed at once by the general
  // path (holds_elsewhere() is false) and left to its hold end there; a full grant's claim holds something
  // elsewhere exactly when its lines do, which is how the confirmation in place tells (bk or ok not empty).
  if ((!held_budgets.empty() || !held_once.empty()) && !lines_hold_elsewhere) return std::nullopt;
  for (const std::string& key : held_budgets) full.plan.budgets.push_back({key, budget_fen[key]});
  for (const std::string& key : held_once) full.plan.once.push_back({key, once_kept.contains(key)});
  record.claim_id = r.claim_id;
  record.state = ClaimState::kReserved;
  record.retailer_id = r.retailer_id;
  record.request_id = r.request_id;
  record.draft = r.draft;
  record.created_at = created;
  record.updated_at = r.now;
  record.expires_at = r.expires_at;
  full.stored = Stored(record.grants, fields, held_budgets, held_once);
  full.ledger = absl::StrCat(R"({"at":")", TimeText(r.now), R"(","claim":")", r.claim_id, R"(","buyer":")",
                             r.buyer.key, R"(","event":"reserve","fen":)", total, "}");
  return full;
}

std::vector<std::string> ReserveArgs::Encode(const FullGrant* full) const {
  if (full == nullptr) return {Map(/*with_draft=*/true)};
  std::vector<std::string> argv = {Writer().Map(0).Take(),
                                   Map(/*with_draft=*/false),
                                   request.claim_id,
                                   TimeText(request.now),
                                   absl::StrCat(Millis(request.expires_at)),
                                   full->stored,
                                   request.draft,
                                   full->ledger,
                                   absl::StrCat(full->charges.size())};
  for (const FullGrant::Charge& charge : full->charges) {
    argv.push_back(charge.field);
    argv.push_back(absl::StrCat(charge.amount));
    argv.push_back(absl::StrCat(charge.limit));
  }
  return argv;
}

std::string ReserveArgs::Map(bool with_draft) const {
  const ReserveRequest& r = request;
  Writer w;
  w.Map(with_draft ? 16 : 15);
  w.Key("claim").Str(r.claim_id).Key("buyer").Str(r.buyer.key).Key("retailer").Str(r.retailer_id);
  w.Key("request").Str(r.request_id).Key("fp").Str(r.fingerprint).Key("now").Str(TimeText(r.now));
  w.Key("created")
      .Str(TimeText(created))
      .Key("hold")
      .Str(TimeText(r.expires_at))
      .Key("restores")
      .Bool(r.refund_restores_quota);
  if (with_draft) w.Key("draft").Str(r.draft);
  ReasonSet quota_exhausted, amount_cap;
  quota_exhausted.Add(ReasonCode::kQuotaExhausted);
  amount_cap.Add(ReasonCode::kAmountCapReached);
  w.Key("qe").Int(quota_exhausted.bits()).Key("ac").Int(amount_cap.bits());
  w.Key("counters").Array(r.counters.size());
  for (const CounterLimit& c : r.counters) {
    w.Map(3)
        .Key("k")
        .Str(RedisQuotaKeys::CounterField(r.buyer.key, c.programme, c.field))
        .Key("u")
        .Bool(c.kind == CounterLimit::Kind::kUnits)
        .Key("limit")
        .Int(c.limit);
  }
  w.Key("once").Array(once_keys.size());
  for (size_t k = 0; k < once_keys.size(); ++k)
    w.Map(2).Key("k").Str(once_keys[k]).Key("took").Bool(once_taken[k]);
  w.Key("budgets").Array(budget_keys.size());
  for (size_t b = 0; b < budget_keys.size(); ++b) {
    w.Map(2).Key("k").Str(budget_keys[b]).Key("took").Bool(budget_taken[b]);
  }
  w.Key("lines").Array(r.lines.size());
  for (size_t i = 0; i < r.lines.size(); ++i) {
    const LineRequest& line = r.lines[i];
    w.Map(7).Key("id").Str(line.line_id).Key("units").Int(units[i]).Key("fen").Int(line.unit_fen);
    w.Key("r").Int(reasons[i]);
    w.Key("c").Array(line.counters.size());
    for (uint16_t c : line.counters) w.Int(c + 1);
    w.Key("o").Array(line.once_keys.size());
    for (uint16_t k : line.once_keys) w.Int(k + 1);
    w.Key("b").Array(line.budgets.size());
    for (uint16_t b : line.budgets) w.Int(b + 1);
  }
  return w.Take();
}

std::vector<std::string> ConfirmArgs::Encode() const {
  std::vector<std::string> argv = {Writer().Map(0).Take(), request.claim_id,     request.retailer_id,
                                   TimeText(request.now),  request.confirmation, committed ? "1" : "0",
                                   in_place ? "1" : "0"};
  for (size_t n = 0; n < request.serials.size(); ++n) {
    argv.push_back(serial_keys[n]);
    argv.push_back(request.serials[n].line_id);
  }
  return argv;
}

std::string CancelArgs(const CancelRequest& request) {
  Writer w;
  ClaimAndNow(request.claim_id, request.now, 1, w);
  w.Key("retailer").Str(request.retailer_id);
  return w.Take();
}

namespace {

// The caller and reason a change's history event keeps (prelude_buyer.lua add_event).
void Note(const ChangeNote& note, Writer& w) { w.Key("by").Str(note.actor).Key("why").Str(note.reason); }

}  // namespace

std::string RefundArgs(const RefundRequest& request) {
  Writer w;
  ClaimAndNow(request.claim_id, request.now, 6, w);
  Note(request.note, w);
  w.Key("retailer").Str(request.retailer_id).Key("refund").Str(request.refund_id);
  w.Key("fp").Str(request.fingerprint).Key("lines").Array(request.lines.size());
  for (const RefundLine& line : request.lines)
    w.Map(2).Key("id").Str(line.line_id).Key("units").Int(line.units);
  return w.Take();
}

std::string VoidArgs(const VoidRequest& request) {
  Writer w;
  ClaimAndNow(request.claim_id, request.now, 4, w);
  Note(request.note, w);
  w.Key("request").Str(request.request_id).Key("fp").Str(request.fingerprint);
  return w.Take();
}

std::string CorrectArgs(const CorrectRequest& request, const RedisQuotaKeys& keys) {
  Writer w;
  ClaimAndNow(request.claim_id, request.now, request.fix.has_value() ? 6 : 5, w);
  Note(request.note, w);
  w.Key("request").Str(request.request_id).Key("fp").Str(request.fingerprint);
  if (const std::optional<CorrectRequest::Fix>& fix = request.fix; fix.has_value()) {
    const bool serial = fix->kind == ClaimEvent::Kind::kSerialCorrected;
    w.Key("fix").Map(serial ? 8 : 5).Key("kind").Int(static_cast<int64_t>(fix->kind));
    w.Key("expect").Str(fix->expected_confirmation).Key("conf").Str(fix->confirmation);
    w.Key("ob").Str(fix->before).Key("nb").Str(fix->after);
    if (serial) {
      w.Key("line").Str(fix->old_serial.line_id).Key("old").Str(keys.Serial(fix->old_serial));
      w.Key("new").Str(keys.Serial(fix->new_serial));
    }
  }
  w.Key("lines").Array(request.lines.size());
  for (const CorrectRequest::Line& line : request.lines)
    w.Map(2).Key("id").Str(line.line_id).Key("fen").Int(line.fen);
  return w.Take();
}

std::string ClaimArgs(absl::string_view claim_id, absl::Time now) {
  Writer w;
  ClaimAndNow(claim_id, now, 0, w);
  return w.Take();
}

std::string SweepArgs(absl::string_view claim_id, absl::Time now, bool mark) {
  Writer w;
  ClaimAndNow(claim_id, now, 1, w);
  w.Key("mark").Bool(mark);
  return w.Take();
}

std::string ListArgs(absl::Time now, const std::vector<std::string>& claim_ids) {
  Writer w;
  w.Map(2).Key("now").Str(TimeText(now)).Key("claims").Array(claim_ids.size());
  for (const std::string& id : claim_ids) w.Str(id);
  return w.Take();
}

absl::StatusOr<std::vector<std::optional<ClaimRecord>>> ParseListReply(
    const absl::StatusOr<redis::RedisValue>& reply, size_t count) {
  absl::StatusOr<Document> value = Answer(reply, "buyer_list");
  if (!value.ok()) return value.status();
  const msgpack::Items claims = (*value)["claims"].AsArray();
  if (claims.size() != count) return BadReply("buyer_list");
  std::vector<std::optional<ClaimRecord>> out(count);
  size_t i = 0;
  for (const Value& claim : claims) {
    if (!claim["missing"].AsBool()) {
      ClaimRecord record;
      if (!ReadClaim(claim, record)) return BadReply("buyer_list");
      out[i] = std::move(record);
    }
    ++i;
  }
  return out;
}

std::string UsageArgs(absl::Time now, const std::vector<std::string>& fields) {
  Writer w;
  w.Map(2).Key("now").Str(TimeText(now)).Key("fields").Array(fields.size());
  for (const std::string& field : fields) w.Str(field);
  return w.Take();
}

absl::StatusOr<std::vector<int64_t>> ParseUsageReply(const absl::StatusOr<redis::RedisValue>& reply,
                                                     size_t count) {
  absl::StatusOr<Document> value = Answer(reply, "buyer_usage");
  if (!value.ok()) return value.status();
  const msgpack::Items used = (*value)["used"].AsArray();
  if (used.size() != count) return BadReply("buyer_usage");
  std::vector<int64_t> out;
  for (const Value& v : used) out.push_back(v.AsInt());
  return out;
}

std::string OnceTakeArgs(absl::string_view claim_id, absl::Time now, absl::Time hold_end,
                         absl::Duration grace) {
  Writer w;
  ClaimAndNow(claim_id, now, 2, w);
  w.Key("hold").Str(TimeText(hold_end)).Key("grace").Int(absl::ToInt64Milliseconds(grace));
  return w.Take();
}

absl::StatusOr<OnceTakeReply> ParseOnceTakeReply(const absl::StatusOr<redis::RedisValue>& reply) {
  absl::StatusOr<Document> value = Answer(reply, "once_take");
  if (!value.ok()) return value.status();
  const absl::string_view status = (*value)["s"].AsBytes();
  if (status != "OK" && status != "TAKEN") return BadReply("once_take");
  return OnceTakeReply{status == "OK", status == "OK" && (*value)["fresh"].AsBool()};
}

namespace {
const char* ModeName(SettleMode mode) {
  switch (mode) {
    case SettleMode::kHold:
      return "hold";
    case SettleMode::kCommit:
      return "commit";
    case SettleMode::kDrop:
      return "drop";
    case SettleMode::kRelease:
      break;
  }
  return "release";
}
}  // namespace

std::string OnceSettleArgs(absl::string_view claim_id, SettleMode mode, absl::Time hold_end, absl::Time now,
                           absl::Duration grace) {
  Writer w;
  ClaimAndNow(claim_id, now, 3, w);
  w.Key("mode").Str(ModeName(mode)).Key("hold").Str(TimeText(hold_end));
  w.Key("grace").Int(absl::ToInt64Milliseconds(grace));
  return w.Take();
}

std::vector<std::string> BudgetSettleArgs(absl::string_view claim_id, SettleMode mode, int64_t target,
                                          absl::Time hold_end, absl::Time now) {
  // A release is a target of 0 in budget_settle.lua, and never a commit (which would find a missing entry
  // gone).
  return {Writer().Map(0).Take(),
          std::string(claim_id),
          mode == SettleMode::kCommit && target > 0 ? "commit" : "hold",
          absl::StrCat(target),
          TimeText(hold_end),
          absl::StrCat(Millis(hold_end)),
          TimeText(now)};
}

absl::StatusOr<SettleReply> ParseSettleReply(const absl::StatusOr<redis::RedisValue>& reply) {
  absl::StatusOr<Document> value = Answer(reply, "a settle script");
  if (!value.ok()) return value.status();
  const absl::string_view status = (*value)["s"].AsBytes();
  if (status != "OK" && status != "GONE") return BadReply("a settle script");
  return SettleReply{status == "GONE", (*value)["changed"].AsInt() != 0};
}

namespace {
// budget_alloc's ARGV with its room argument as given (a total, or "s<leased>" on a shard).
std::vector<std::string> AllocArgs(absl::string_view claim_id, absl::Time now, absl::Time hold_end,
                                   std::string room, const std::vector<BudgetLine>& lines) {
  std::vector<std::string> argv = {Writer().Map(0).Take(), std::string(claim_id),          TimeText(now),
                                   TimeText(hold_end),     absl::StrCat(Millis(hold_end)), std::move(room)};
  for (const BudgetLine& line : lines) {
    argv.push_back(absl::StrCat(line.index));
    argv.push_back(absl::StrCat(line.cap));
    argv.push_back(absl::StrCat(line.unit_fen));
  }
  return argv;
}
}  // namespace

std::vector<std::string> BudgetAllocArgs(absl::string_view claim_id, absl::Time now, absl::Time hold_end,
                                         int64_t total_fen, const std::vector<BudgetLine>& lines,
                                         BudgetRoom room) {
  return AllocArgs(claim_id, now, hold_end,
                   absl::StrCat(room == BudgetRoom::kAfterDrain ? "x" : "", total_fen), lines);
}

std::vector<std::string> ShardAllocArgs(absl::string_view claim_id, absl::Time now, absl::Time hold_end,
                                        int64_t leased_fen, const std::vector<BudgetLine>& lines) {
  return AllocArgs(claim_id, now, hold_end, absl::StrCat("s", leased_fen), lines);
}

absl::StatusOr<BudgetAllocReply> ParseBudgetAllocReply(const absl::StatusOr<redis::RedisValue>& reply,
                                                       size_t count) {
  absl::StatusOr<Document> value = Answer(reply, "budget_alloc");
  if (!value.ok()) return value.status();
  const msgpack::Items units = (*value)["units"].AsArray();
  if (units.size() != count) return BadReply("budget_alloc");
  BudgetAllocReply out;
  for (const Value& u : units) out.units.push_back(static_cast<int32_t>(u.AsInt()));
  out.drain = (*value)["drain"].AsInt() != 0;
  return out;
}

std::string BudgetUsedArgs(absl::Time now) {
  Writer w;
  w.Map(1).Key("now").Str(TimeText(now));
  return w.Take();
}

absl::StatusOr<BudgetUse> ParseBudgetUsedReply(const absl::StatusOr<redis::RedisValue>& reply) {
  absl::StatusOr<Document> value = Answer(reply, "budget_used");
  if (!value.ok()) return value.status();
  BudgetUse use{(*value)["used"].AsInt(), (*value)["out"].AsInt(), {}};
  const msgpack::Items leases = (*value)["leases"].AsArray();  // shard, fen, shard, fen, ...
  if (leases.size() % 2 != 0) return BadReply("budget_used");
  for (auto it = leases.begin(); it != leases.end(); ++it) {
    const Value shard = *it++;
    use.leases.push_back({std::string(shard.AsBytes()), (*it).AsInt()});
  }
  return use;
}

std::vector<std::string> BudgetLeaseArgs(const BudgetLeaseRequest& request) {
  return {Writer().Map(0).Take(),         request.suffix,
          absl::StrCat(request.want_fen), absl::StrCat(request.slice_fen),
          absl::StrCat(request.shards),   absl::StrCat(request.total_fen),
          TimeText(request.now)};
}

absl::StatusOr<BudgetLeaseReply> ParseBudgetLeaseReply(const absl::StatusOr<redis::RedisValue>& reply) {
  absl::StatusOr<Document> value = Answer(reply, "budget_lease");
  if (!value.ok()) return value.status();
  return BudgetLeaseReply{(*value)["leased"].AsInt(), (*value)["granted"].AsInt()};
}

std::vector<std::string> BudgetGivebackArgs(int64_t leased_fen, absl::Time now) {
  return {Writer().Map(0).Take(), absl::StrCat(leased_fen), TimeText(now)};
}

absl::StatusOr<int64_t> ParseBudgetGivebackReply(const absl::StatusOr<redis::RedisValue>& reply) {
  absl::StatusOr<Document> value = Answer(reply, "budget_giveback");
  if (!value.ok()) return value.status();
  return (*value)["returned"].AsInt();
}

std::vector<std::string> BudgetReturnedArgs(absl::Time now, const std::vector<ShardReturn>& returns) {
  std::vector<std::string> argv = {Writer().Map(0).Take(), TimeText(now)};
  for (const ShardReturn& r : returns) {
    argv.push_back(r.suffix);
    argv.push_back(absl::StrCat(r.returned));
  }
  return argv;
}

std::string DueSettleArgs(absl::string_view member, absl::string_view score_as_read, bool remove,
                          int64_t new_score) {
  Writer w;
  w.Map(4).Key("member").Str(member).Key("score").Str(score_as_read);
  w.Key("mode").Str(remove ? "remove" : "reschedule").Key("to").Str(absl::StrCat(new_score));
  return w.Take();
}

absl::StatusOr<bool> ParseDueSettleReply(const absl::StatusOr<redis::RedisValue>& reply) {
  absl::StatusOr<Document> value = Answer(reply, "due_settle");
  if (!value.ok()) return value.status();
  return (*value)["done"].AsBool();
}

std::string IndexRangeArgs(bool descending, const IndexEntry* after, size_t count) {
  Writer w;
  w.Map(5).Key("dir").Str(descending ? "desc" : "asc").Key("after").Bool(after != nullptr);
  w.Key("score")
      .Int(after != nullptr ? after->score : 0)
      .Key("id")
      .Str(after != nullptr ? after->claim_id : "");
  w.Key("count").Int(static_cast<int64_t>(count));
  return w.Take();
}

absl::StatusOr<std::vector<IndexEntry>> ParseIndexRangeReply(const absl::StatusOr<redis::RedisValue>& reply) {
  absl::StatusOr<Document> value = Answer(reply, "index_range");
  if (!value.ok()) return value.status();
  std::vector<IndexEntry> out;
  for (const Value& entry : (*value)["entries"].AsArray()) {
    const msgpack::Items f = entry.AsArray();
    if (f.size() != 2 || f[1].type() != Value::Type::kInt) return BadReply("index_range");
    out.push_back({std::string(f[0].AsBytes()), f[1].AsInt()});
  }
  return out;
}

std::string PingArgs() { return Writer().Map(0).Take(); }

absl::Status ParsePingReply(const absl::StatusOr<redis::RedisValue>& reply) {
  absl::StatusOr<Document> value = Answer(reply, "ping");
  if (!value.ok()) return value.status();
  if ((*value)["s"].AsBytes() != "PONG") return BadReply("ping");
  return absl::OkStatus();
}

}  // namespace tradein::quota::scripts
