#include "tests/quota/model/reference_ledger.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/status.h"

namespace tradein::quota::model {
namespace {

using pricing::ReasonCode;

ModelAnswer Error(absl::StatusCode code, std::string reason) {
  ModelAnswer answer;
  answer.code = code;
  answer.reason = std::move(reason);
  return answer;
}

ModelAnswer NotFound(std::string reason = "CLAIM_NOT_FOUND") {
  return Error(absl::StatusCode::kNotFound, std::move(reason));
}

ModelAnswer Precondition(std::string reason) {
  return Error(absl::StatusCode::kFailedPrecondition, std::move(reason));
}

// China Standard Time is UTC+8 all year.
constexpr absl::Duration kChinaOffset = absl::Hours(8);

absl::CivilDay ChinaDay(absl::Time t) { return absl::ToCivilDay(t + kChinaOffset, absl::UTCTimeZone()); }

absl::Time ChinaMidnight(absl::CivilDay day) {
  return absl::FromCivil(day, absl::UTCTimeZone()) - kChinaOffset;
}

// The listing cursor of quota_store.h: "<YYYY-MM-DD>|<14-digit ns since 00:00 China time>|<claim id>".
std::string CursorOf(absl::Time created, const std::string& claim_id) {
  const absl::CivilDay day = ChinaDay(created);
  const int64_t nanos = absl::ToInt64Nanoseconds(created - ChinaMidnight(day));
  return absl::StrFormat("%04d-%02d-%02d|%014d|%s", day.year(), day.month(), day.day(), nanos, claim_id);
}

bool Digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// (created, claim id) of a cursor, or nullopt when it is not one.
std::optional<std::pair<absl::Time, std::string>> ParseCursor(const std::string& cursor) {
  const std::vector<std::string> parts = absl::StrSplit(cursor, absl::MaxSplits('|', 2));
  if (parts.size() != 3 || parts[0].size() != 10 || parts[1].size() != 14) return std::nullopt;
  const std::string& date = parts[0];
  if (date[4] != '-' || date[7] != '-' || !Digits(date.substr(0, 4)) || !Digits(date.substr(5, 2)) ||
      !Digits(date.substr(8, 2)) || !Digits(parts[1])) {
    return std::nullopt;
  }
  const int y = std::stoi(date.substr(0, 4)), m = std::stoi(date.substr(5, 2)),
            d = std::stoi(date.substr(8, 2));
  const absl::CivilDay day(y, m, d);
  if (day.year() != y || day.month() != m || day.day() != d) return std::nullopt;
  const int64_t nanos = std::stoll(parts[1]);
  if (nanos >= int64_t{86400} * 1000000000) return std::nullopt;
  // A claim id: 8 lowercase hex characters (the buyer tag), '-', 20 base32 characters.
  const std::string& id = parts[2];
  if (id.size() != 29 || id[8] != '-') return std::nullopt;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool ok = i < 8 ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
                          : i == 8 || (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
    if (!ok) return std::nullopt;
  }
  return std::make_pair(ChinaMidnight(day) + absl::Nanoseconds(nanos), id);
}

std::string Describe(const ClaimRecord& r) {
  std::string out = absl::StrCat(
      r.claim_id, " state=", static_cast<int>(r.state), " replayed=", r.replayed,
      " created=", absl::FormatTime(r.created_at), " updated=", absl::FormatTime(r.updated_at),
      " expires=", absl::FormatTime(r.expires_at), " change=", r.last_change_fen, " retailer=", r.retailer_id,
      " request=", r.request_id, " draft=", r.draft.size(), "B confirmation=", r.confirmation.size(), "B");
  for (size_t i = 0; i < r.grants.size(); ++i) {
    absl::StrAppend(&out, " [", r.grants[i].units, "u ", r.grants[i].fen,
                    "f reasons=", r.grants[i].reasons.bits());
    if (i < r.refunds.size())
      absl::StrAppend(&out, " back ", r.refunds[i].units, "u ", r.refunds[i].fen, "f");
    absl::StrAppend(&out, "]");
  }
  absl::StrAppend(&out, " history(", r.history_omitted, " omitted):");
  for (const ClaimEvent& e : r.history) {
    absl::StrAppend(&out, " {", static_cast<int>(e.kind), " ", absl::FormatTime(e.at), " ", e.actor, "/",
                    e.reason, " ", e.request_id, " ", e.before, "->", e.after);
    for (const ClaimEvent::Line& l : e.lines)
      absl::StrAppend(&out, " ", l.line_id, ":", l.units, "u ", l.fen_before, "->", l.fen_after);
    absl::StrAppend(&out, "}");
  }
  return out;
}

bool SameRecord(const ClaimRecord& a, const ClaimRecord& b) {
  return a.claim_id == b.claim_id && a.state == b.state && a.retailer_id == b.retailer_id &&
         a.request_id == b.request_id && a.draft == b.draft && a.grants == b.grants &&
         a.refunds == b.refunds && a.created_at == b.created_at && a.updated_at == b.updated_at &&
         a.expires_at == b.expires_at && a.confirmation == b.confirmation && a.replayed == b.replayed &&
         a.last_change_fen == b.last_change_fen && a.history == b.history &&
         a.history_omitted == b.history_omitted;
}

template <typename T>
void AddOnce(std::vector<T>& list, const T& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

std::string Compare(const ModelAnswer& expected, const absl::StatusOr<ClaimRecord>& actual) {
  if (!expected.ok()) {
    if (actual.ok()) {
      return absl::StrCat("expected error ", absl::StatusCodeToString(expected.code), " ", expected.reason,
                          ", store answered ", Describe(*actual));
    }
    if (actual.status().code() != expected.code || ErrorReason(actual.status()) != expected.reason) {
      return absl::StrCat("expected error ", absl::StatusCodeToString(expected.code), " ", expected.reason,
                          ", store answered ", actual.status().ToString());
    }
    return "";
  }
  if (!actual.ok()) {
    return absl::StrCat("expected ", Describe(expected.record), ", store answered ",
                        actual.status().ToString());
  }
  if (!SameRecord(expected.record, *actual)) {
    return absl::StrCat("expected ", Describe(expected.record), "\n        store answered ",
                        Describe(*actual));
  }
  return "";
}

// ---------------------------------------------------------------------------------------------------------
// Bookkeeping

bool ReferenceLedger::Live(const Claim& claim) {
  return claim.state == ClaimState::kReserved || claim.state == ClaimState::kConfirmed ||
         claim.state == ClaimState::kPartiallyRefunded;
}

bool ReferenceLedger::HoldsOnceKey(const std::string& claim_id, const OnceKey& key) const {
  const auto holder = once_holders_.find({key.programme, key.quota_id, key.value_hash});
  return holder != once_holders_.end() && holder->second == claim_id;
}

bool ReferenceLedger::DrawsOnBudget(const std::string& claim_id, const BudgetRef& budget) const {
  const auto claim = claims_.find(claim_id);
  if (claim == claims_.end() || !Live(claim->second)) return false;
  for (const Line& line : claim->second.lines) {
    if (line.fen > line.refunded_fen &&
        std::find(line.budgets.begin(), line.budgets.end(), BudgetKey{budget.programme, budget.budget_id}) !=
            line.budgets.end()) {
      return true;
    }
  }
  return false;
}

ClaimRecord ReferenceLedger::RecordOf(const Claim& claim) const {
  ClaimRecord r;
  r.claim_id = claim.id;
  r.state = claim.state;
  r.retailer_id = claim.retailer;
  r.request_id = claim.request_id;
  r.draft = claim.draft;
  r.created_at = claim.created;
  r.updated_at = claim.updated;
  r.expires_at = claim.expires;
  r.confirmation = claim.confirmation;
  r.history = claim.history;
  r.history_omitted = claim.history_omitted;
  for (const Line& line : claim.lines) {
    r.grants.push_back(LineGrant{line.units, line.fen, line.reasons});
    r.refunds.push_back(LineRefund{line.refunded_units, line.refunded_fen});
  }
  return r;
}

ModelAnswer ReferenceLedger::Answer(const Claim& claim, bool replayed, int64_t change) const {
  ModelAnswer answer;
  answer.record = RecordOf(claim);
  answer.record.replayed = replayed;
  answer.record.last_change_fen = change;
  return answer;
}

ReferenceLedger::Claim* ReferenceLedger::Find(const std::string& claim_id, const std::string& retailer) {
  const auto it = claims_.find(claim_id);
  if (it == claims_.end() || (!retailer.empty() && it->second.retailer != retailer)) return nullptr;
  return &it->second;
}

// Cancel and expiry: counters back by what the lines charge, budgets by the fen left, once-keys released.
void ReferenceLedger::ReleaseEverything(Claim& claim) {
  for (size_t i = 0; i < claim.lines.size(); ++i) {
    Line& line = claim.lines[i];
    if (line.units == 0) continue;
    for (const CounterKey& c : line.unit_counters)
      counters_[c] -= line.units - (claim.restores ? line.refunded_units : 0);
    for (const CounterKey& c : line.fen_counters)
      counters_[c] -= line.fen - (claim.restores ? line.refunded_fen : 0);
    for (const BudgetKey& b : line.budgets) budgets_[b] -= line.fen - line.refunded_fen;
    ReleaseLineKeys(claim, i);
  }
}

void ReferenceLedger::ReleaseLineKeys(Claim& claim, size_t i) {
  Line& line = claim.lines[i];
  for (const OnceName& once : line.once_keys) {
    bool still_used = false;
    for (size_t j = 0; j < claim.lines.size(); ++j) {
      const Line& other = claim.lines[j];
      if (j != i && other.refunded_units < other.units &&
          std::find(other.once_keys.begin(), other.once_keys.end(), once) != other.once_keys.end()) {
        still_used = true;
      }
    }
    // A cancelled or expired claim lets every key go, whichever line holds it.
    if (!Live(claim)) still_used = false;
    const auto holder = once_holders_.find(once);
    if (!still_used && holder != once_holders_.end() && holder->second == claim.id)
      once_holders_.erase(holder);
  }
  line.once_keys.clear();
  for (const SerialName& serial : line.serials) {
    const auto holder = serial_holders_.find(serial);
    if (holder != serial_holders_.end() && holder->second == claim.id) serial_holders_.erase(holder);
  }
  line.serials.clear();
}

void ReferenceLedger::ExpireUpTo(absl::Time now) {
  for (auto& [id, claim] : claims_) {
    if (claim.state != ClaimState::kReserved || claim.expires > now) continue;
    claim.state = ClaimState::kExpired;  // before the release: an ended claim keeps no key
    ReleaseEverything(claim);
    claim.updated = claim.expires;
    unreported_expiries_.insert(id);
  }
}

// A refund (or void) of `units` units and `fen` fen of line `i` (quota_store.h, "Amounts").
void ReferenceLedger::GiveBack(Claim& claim, size_t i, int32_t units, int64_t fen) {
  Line& line = claim.lines[i];
  line.refunded_units += units;
  line.refunded_fen += fen;
  for (const BudgetKey& b : line.budgets) budgets_[b] -= fen;
  if (!claim.restores) return;
  for (const CounterKey& c : line.unit_counters) counters_[c] -= units;
  for (const CounterKey& c : line.fen_counters) counters_[c] -= fen;
  if (line.refunded_units == line.units) ReleaseLineKeys(claim, i);
}

// ---------------------------------------------------------------------------------------------------------
// Reserve

void ReferenceLedger::NoteAttempt(const ReserveRequest& request) {
  attempts_.emplace(RequestKey{request.retailer_id, request.request_id},
                    Attempt{request.now, request.fingerprint, request.claim_id});
}

ModelAnswer ReferenceLedger::Reserve(const ReserveRequest& request, const ProvisionalRefusals& provisional) {
  ExpireUpTo(request.now);
  const RequestKey key{request.retailer_id, request.request_id};
  NoteAttempt(request);
  const Attempt& first = attempts_.at(key);
  if (first.fingerprint != request.fingerprint || first.claim_id != request.claim_id) {
    return Error(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED");
  }
  if (const auto decided = requests_.find(key); decided != requests_.end()) {
    return Answer(claims_.at(decided->second), /*replayed=*/true);
  }

  Claim claim;
  claim.id = request.claim_id;
  claim.retailer = request.retailer_id;
  claim.request_id = request.request_id;
  claim.fingerprint = request.fingerprint;
  claim.buyer = request.buyer.key;
  claim.draft = request.draft;
  claim.created = first.first_now;
  claim.updated = request.now;
  claim.expires = request.expires_at;
  claim.restores = request.refund_restores_quota;
  const std::map<BudgetKey, int64_t> used_before = budgets_;  // used(B): before this claim
  std::map<BudgetKey, int64_t> allocated;                     // alloc(B)
  int64_t total_fen = 0;
  for (size_t i = 0; i < request.lines.size(); ++i) {
    const LineRequest& in = request.lines[i];
    const auto forced = provisional.find(i);
    Line line;
    line.id = in.line_id;
    for (uint16_t c : in.counters) {
      const CounterLimit& counter = request.counters[c];
      const CounterKey ck{request.buyer.key, counter.programme, counter.field};
      counter_limits_[ck] = counter.limit;
      (counter.kind == CounterLimit::Kind::kUnits ? line.unit_counters : line.fen_counters).push_back(ck);
    }
    for (uint16_t b : in.budgets) {
      const BudgetRef& budget = request.budgets[b];
      budget_totals_[{budget.programme, budget.budget_id}] = budget.total_fen;
      line.budgets.push_back({budget.programme, budget.budget_id});
    }
    // 1. What the rules grant.
    int32_t units = in.units;
    if (units > 0) {
      // 2. Once-keys.
      for (uint16_t k : in.once_keys) {
        const OnceKey& once = request.once_keys[k];
        const auto holder = once_holders_.find({once.programme, once.quota_id, once.value_hash});
        if (holder != once_holders_.end() && holder->second != claim.id) {
          units = 0;
          line.reasons.Add(once.reason_when_taken);
        }
      }
      if (units > 0 && forced != provisional.end() &&
          forced->second.where == ProvisionalRefusal::Where::kOnceKey) {
        units = 0;
        line.reasons.Add(forced->second.reason);
      }
    }
    if (units > 0) {
      // 3. Budgets, jointly.
      int32_t fits = units;
      for (const BudgetKey& b : line.budgets) {
        const auto used = used_before.find(b);
        const int64_t room =
            budget_totals_[b] - (used == used_before.end() ? 0 : used->second) - allocated[b];
        if (in.unit_fen > 0)
          fits = static_cast<int32_t>(std::min<int64_t>(fits, std::max<int64_t>(0, room / in.unit_fen)));
      }
      if (forced != provisional.end() && forced->second.where == ProvisionalRefusal::Where::kBudget) {
        fits = std::min(fits, forced->second.units);
      }
      if (fits < units) line.reasons.Add(ReasonCode::kBudgetExhausted);
      units = fits;
      for (const BudgetKey& b : line.budgets) allocated[b] += int64_t{units} * in.unit_fen;
    }
    if (units > 0) {
      // 4. Counters.
      const int32_t before = units;
      for (const CounterKey& c : line.unit_counters) {
        units = static_cast<int32_t>(
            std::min<int64_t>(units, std::max<int64_t>(0, counter_limits_[c] - counters_[c])));
      }
      if (units < before) line.reasons.Add(ReasonCode::kQuotaExhausted);
      int64_t fen = int64_t{units} * in.unit_fen;
      for (const CounterKey& c : line.fen_counters) {
        const int64_t room = std::max<int64_t>(0, counter_limits_[c] - counters_[c]);
        if (fen > room) {
          fen = room;
          line.reasons.Add(room == 0 ? ReasonCode::kQuotaExhausted : ReasonCode::kAmountCapReached);
        }
      }
      if (fen == 0) units = 0;
      // 5. The grant and its charges.
      line.units = units;
      line.fen = fen;
      if (units > 0) {
        for (const CounterKey& c : line.unit_counters) counters_[c] += units;
        for (const CounterKey& c : line.fen_counters) counters_[c] += fen;
        for (const BudgetKey& b : line.budgets) budgets_[b] += fen;
        for (uint16_t k : in.once_keys) {
          const OnceKey& once = request.once_keys[k];
          const OnceName name{once.programme, once.quota_id, once.value_hash};
          once_holders_[name] = claim.id;
          AddOnce(line.once_keys, name);
        }
        total_fen += fen;
      }
    }
    if (line.units == 0) {
      line.unit_counters.clear();
      line.fen_counters.clear();
      line.budgets.clear();
    }
    claim.lines.push_back(std::move(line));
  }
  claim.state = total_fen > 0 ? ClaimState::kReserved : ClaimState::kRejected;
  requests_[key] = claim.id;
  const std::string id = claim.id;
  claims_[id] = std::move(claim);
  return Answer(claims_.at(id));
}

// ---------------------------------------------------------------------------------------------------------
// Confirm, cancel

ModelAnswer ReferenceLedger::Confirm(const ConfirmRequest& request) {
  ExpireUpTo(request.now);
  Claim* claim = Find(request.claim_id, request.retailer_id);
  if (claim == nullptr) return NotFound();
  switch (claim->state) {
    case ClaimState::kReserved:
      break;
    case ClaimState::kConfirmed:
      return Answer(*claim, /*replayed=*/true);
    case ClaimState::kExpired:
      return Precondition("HOLD_EXPIRED");
    default:
      return Precondition("WRONG_STATE");
  }
  // Serial numbers, checked in the order quota_store.h gives.
  std::vector<size_t> line_of;
  for (const SerialKey& serial : request.serials) {
    size_t i = 0;
    while (i < claim->lines.size() && claim->lines[i].id != serial.line_id) ++i;
    if (i == claim->lines.size()) return NotFound("LINE_NOT_FOUND");
    line_of.push_back(i);
  }
  std::vector<size_t> mentioned;
  std::map<size_t, int32_t> count;
  for (size_t i : line_of) {
    if (count[i]++ == 0) mentioned.push_back(i);
  }
  for (size_t i : mentioned) {
    if (count[i] != claim->lines[i].units) return Error(absl::StatusCode::kInvalidArgument, "SERIAL_COUNT");
  }
  std::set<SerialName> seen;
  for (const SerialKey& serial : request.serials) {
    if (!seen.insert({serial.programme, serial.value_hash}).second)
      return Precondition("SERIAL_ALREADY_SUBSIDISED");
  }
  for (const SerialKey& serial : request.serials) {
    const auto holder = serial_holders_.find({serial.programme, serial.value_hash});
    if (holder != serial_holders_.end() && holder->second != claim->id) {
      return Precondition("SERIAL_ALREADY_SUBSIDISED");
    }
  }
  for (size_t s = 0; s < request.serials.size(); ++s) {
    const SerialName name{request.serials[s].programme, request.serials[s].value_hash};
    serial_holders_[name] = claim->id;
    AddOnce(claim->lines[line_of[s]].serials, name);
  }
  claim->state = ClaimState::kConfirmed;
  claim->confirmation = request.confirmation;
  claim->updated = request.now;
  return Answer(*claim);
}

ModelAnswer ReferenceLedger::Cancel(const CancelRequest& request) {
  ExpireUpTo(request.now);
  Claim* claim = Find(request.claim_id, request.retailer_id);
  if (claim == nullptr) return NotFound();
  switch (claim->state) {
    case ClaimState::kReserved:
      claim->state = ClaimState::kCancelled;
      ReleaseEverything(*claim);
      claim->updated = request.now;
      return Answer(*claim);
    case ClaimState::kCancelled:
      return Answer(*claim, /*replayed=*/true);
    case ClaimState::kExpired:
      return Precondition("HOLD_EXPIRED");
    default:
      return Precondition("WRONG_STATE");
  }
}

// ---------------------------------------------------------------------------------------------------------
// Refund, void, correct

ReferenceLedger::Claim* ReferenceLedger::OpenChange(const std::string& claim_id, const std::string& retailer,
                                                    absl::Time now,
                                                    std::map<std::string, std::string> Claim::*ids,
                                                    const std::string& change_id,
                                                    const std::string& fingerprint,
                                                    const std::string& reused_reason, ModelAnswer& answer) {
  ExpireUpTo(now);
  Claim* claim = Find(claim_id, retailer);
  if (claim == nullptr) {
    answer = NotFound();
    return nullptr;
  }
  const auto known = (claim->*ids).find(change_id);
  if (known != (claim->*ids).end()) {
    answer = known->second == fingerprint ? Answer(*claim, /*replayed=*/true)
                                          : Error(absl::StatusCode::kAlreadyExists, reused_reason);
    return nullptr;
  }
  if (claim->state != ClaimState::kConfirmed && claim->state != ClaimState::kPartiallyRefunded) {
    answer = Precondition("WRONG_STATE");
    return nullptr;
  }
  return claim;
}

ModelAnswer ReferenceLedger::Refund(const RefundRequest& request) {
  ModelAnswer answer;
  Claim* claim = OpenChange(request.claim_id, request.retailer_id, request.now, &Claim::refund_ids,
                            request.refund_id, request.fingerprint, "REFUND_ID_REUSED", answer);
  if (claim == nullptr) return answer;
  std::vector<int32_t> k(claim->lines.size(), 0);
  if (request.lines.empty()) {
    for (size_t i = 0; i < k.size(); ++i) k[i] = claim->lines[i].units - claim->lines[i].refunded_units;
  }
  for (const RefundLine& wanted : request.lines) {
    size_t i = 0;
    while (i < claim->lines.size() && claim->lines[i].id != wanted.line_id) ++i;
    if (i == claim->lines.size()) return NotFound("LINE_NOT_FOUND");
    const int32_t left = claim->lines[i].units - claim->lines[i].refunded_units - k[i];
    const int32_t units = wanted.units == 0 ? left : wanted.units;
    if (units <= 0 || units > left) return Precondition("REFUND_EXCEEDS_GRANT");
    k[i] += units;
  }
  const std::vector<Owed> before = OwedOf(*claim);
  int64_t total = 0;
  for (size_t i = 0; i < k.size(); ++i) {
    if (k[i] == 0) continue;
    const Line& line = claim->lines[i];
    const int32_t units_left = line.units - line.refunded_units;
    const int64_t fen_left = line.fen - line.refunded_fen;
    const int64_t fen = k[i] == units_left ? fen_left : fen_left * k[i] / units_left;
    total += fen;
    GiveBack(*claim, i, k[i], fen);
  }
  bool every_unit = true;
  for (const Line& line : claim->lines) every_unit = every_unit && line.refunded_units == line.units;
  claim->state = every_unit ? ClaimState::kRefunded : ClaimState::kPartiallyRefunded;
  claim->updated = request.now;
  claim->refund_ids[request.refund_id] = request.fingerprint;
  Record(*claim, before, ClaimEvent::Kind::kRefunded, request.now, request.note, request.refund_id);
  return Answer(*claim, false, total);
}

ModelAnswer ReferenceLedger::Void(const VoidRequest& request) {
  ModelAnswer answer;
  Claim* claim = OpenChange(request.claim_id, "", request.now, &Claim::void_ids, request.request_id,
                            request.fingerprint, "VOID_ID_REUSED", answer);
  if (claim == nullptr) return answer;
  const std::vector<Owed> before = OwedOf(*claim);
  int64_t total = 0;
  for (size_t i = 0; i < claim->lines.size(); ++i) {
    const Line& line = claim->lines[i];
    const int32_t units = line.units - line.refunded_units;
    if (units == 0) continue;
    const int64_t fen = line.fen - line.refunded_fen;
    total += fen;
    GiveBack(*claim, i, units, fen);
  }
  claim->state = ClaimState::kVoided;
  claim->updated = request.now;
  claim->void_ids[request.request_id] = request.fingerprint;
  Record(*claim, before, ClaimEvent::Kind::kVoided, request.now, request.note, request.request_id);
  return Answer(*claim, false, total);
}

ModelAnswer ReferenceLedger::Correct(const CorrectRequest& request) {
  ModelAnswer answer;
  // A serial fix's new serial, when another claim holds it, is refused before anything else.
  if (request.fix.has_value() && request.fix->kind == ClaimEvent::Kind::kSerialCorrected) {
    const SerialKey& serial = request.fix->new_serial;
    const auto holder = serial_holders_.find({serial.programme, serial.value_hash});
    if (holder != serial_holders_.end() && holder->second != request.claim_id) {
      return Precondition("SERIAL_ALREADY_SUBSIDISED");
    }
  }
  Claim* claim = OpenChange(request.claim_id, "", request.now, &Claim::correction_ids, request.request_id,
                            request.fingerprint, "CORRECTION_ID_REUSED", answer);
  if (claim == nullptr) return answer;
  if (request.fix.has_value()) return Fix(*claim, request);
  const std::vector<Owed> before = OwedOf(*claim);
  std::vector<int64_t> fen;
  for (const Line& line : claim->lines) fen.push_back(line.fen);
  for (const CorrectRequest::Line& wanted : request.lines) {
    size_t i = 0;
    while (i < claim->lines.size() && claim->lines[i].id != wanted.line_id) ++i;
    if (i == claim->lines.size()) return NotFound("LINE_NOT_FOUND");
    if (wanted.fen > fen[i] || wanted.fen < claim->lines[i].refunded_fen) {
      return Precondition("CORRECTION_NOT_A_REDUCTION");
    }
    fen[i] = wanted.fen;
  }
  int64_t total = 0;
  for (size_t i = 0; i < fen.size(); ++i) {
    Line& line = claim->lines[i];
    const int64_t delta = line.fen - fen[i];
    if (delta == 0) continue;
    for (const BudgetKey& b : line.budgets) budgets_[b] -= delta;
    for (const CounterKey& c : line.fen_counters) counters_[c] -= delta;
    line.fen = fen[i];
    total += delta;
  }
  claim->updated = request.now;
  claim->correction_ids[request.request_id] = request.fingerprint;
  Record(*claim, before, ClaimEvent::Kind::kCorrected, request.now, request.note, request.request_id);
  return Answer(*claim, false, total);
}

ModelAnswer ReferenceLedger::Fix(Claim& claim, const CorrectRequest& request) {
  const CorrectRequest::Fix& fix = *request.fix;
  std::vector<SerialName>* serials = nullptr;
  const SerialName old_name{fix.old_serial.programme, fix.old_serial.value_hash};
  const SerialName new_name{fix.new_serial.programme, fix.new_serial.value_hash};
  if (fix.kind == ClaimEvent::Kind::kSerialCorrected) {
    for (Line& line : claim.lines) {
      if (line.id == fix.old_serial.line_id) serials = &line.serials;
    }
    if (serials == nullptr) return NotFound("LINE_NOT_FOUND");
    if (std::find(serials->begin(), serials->end(), old_name) == serials->end()) {
      return Precondition("SERIAL_NOT_ON_LINE");
    }
    for (const Line& line : claim.lines) {
      if (std::find(line.serials.begin(), line.serials.end(), new_name) != line.serials.end()) {
        return Precondition("SERIAL_ALREADY_SUBSIDISED");
      }
    }
  }
  if (claim.confirmation != fix.expected_confirmation) return Error(absl::StatusCode::kAborted, "ABORTED");
  if (serials != nullptr) {
    serial_holders_.erase(old_name);
    serial_holders_[new_name] = claim.id;
    *std::find(serials->begin(), serials->end(), old_name) = new_name;
  }
  const std::vector<Owed> before = OwedOf(claim);
  claim.confirmation = fix.confirmation;
  claim.updated = request.now;
  claim.correction_ids[request.request_id] = request.fingerprint;
  Record(claim, before, fix.kind, request.now, request.note, request.request_id);
  claim.history.back().before = fix.before;
  claim.history.back().after = fix.after;
  return Answer(claim, false, 0);
}

std::vector<ReferenceLedger::Owed> ReferenceLedger::OwedOf(const Claim& claim) {
  std::vector<Owed> owed;
  for (const Line& line : claim.lines) owed.push_back({line.refunded_units, line.fen - line.refunded_fen});
  return owed;
}

void ReferenceLedger::Record(Claim& claim, const std::vector<Owed>& before, ClaimEvent::Kind kind,
                             absl::Time now, const ChangeNote& note, const std::string& change_id) {
  ClaimEvent event;
  event.kind = kind;
  event.at = now;
  event.actor = note.actor;
  event.reason = note.reason;
  event.request_id = change_id;
  for (size_t i = 0; i < claim.lines.size(); ++i) {
    const Line& line = claim.lines[i];
    const Owed after{line.refunded_units, line.fen - line.refunded_fen};
    if (after.refunded_units != before[i].refunded_units || after.fen != before[i].fen) {
      event.lines.push_back(
          {line.id, after.refunded_units - before[i].refunded_units, before[i].fen, after.fen});
    }
  }
  claim.history.push_back(std::move(event));
  if (claim.history.size() > kMaxClaimEvents) {
    claim.history.erase(claim.history.begin());
    ++claim.history_omitted;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reads

ModelAnswer ReferenceLedger::Get(const std::string& claim_id, absl::Time now) {
  ExpireUpTo(now);
  const Claim* claim = Find(claim_id, "");
  return claim == nullptr ? NotFound() : Answer(*claim);
}

std::vector<int64_t> ReferenceLedger::Usage(const UsageRequest& request) {
  ExpireUpTo(request.now);
  std::vector<int64_t> used;
  for (const CounterLimit& counter : request.counters) {
    const auto it = counters_.find({request.buyer.key, counter.programme, counter.field});
    used.push_back(it == counters_.end() ? 0 : it->second);
  }
  return used;
}

std::vector<int64_t> ReferenceLedger::BudgetUsage(const std::vector<BudgetRef>& budgets, absl::Time now) {
  ExpireUpTo(now);
  std::vector<int64_t> used;
  for (const BudgetRef& budget : budgets) {
    const auto it = budgets_.find({budget.programme, budget.budget_id});
    used.push_back(it == budgets_.end() ? 0 : it->second);
  }
  return used;
}

std::set<std::string> ReferenceLedger::Sweep(absl::Time now) {
  ExpireUpTo(now);
  return std::exchange(unreported_expiries_, {});
}

void ReferenceLedger::ForgetUnreportedExpiries() { unreported_expiries_.clear(); }

absl::StatusOr<ClaimPage> ReferenceLedger::List(const ClaimPageRequest& request) {
  if (request.limit < 1) return ReasonError(absl::StatusCode::kInvalidArgument, "LIMIT_INVALID", "limit");
  std::optional<std::pair<absl::Time, std::string>> after;
  if (!request.cursor.empty()) {
    after = ParseCursor(request.cursor);
    if (!after.has_value())
      return ReasonError(absl::StatusCode::kInvalidArgument, "CURSOR_INVALID", "cursor");
  }
  ExpireUpTo(request.now);
  std::vector<std::pair<absl::Time, std::string>> order;
  for (const auto& [id, claim] : claims_) {
    const absl::CivilDay day = ChinaDay(claim.created);
    if (day < request.first_day || day > request.last_day) continue;
    if (!request.retailer_id.empty() && claim.retailer != request.retailer_id) continue;
    if (!request.states.empty() &&
        std::find(request.states.begin(), request.states.end(), claim.state) == request.states.end()) {
      continue;
    }
    order.emplace_back(claim.created, id);
  }
  std::sort(order.begin(), order.end());
  if (request.newest_first) std::reverse(order.begin(), order.end());
  ClaimPage page;
  for (const auto& entry : order) {
    if (after.has_value() && (request.newest_first ? !(entry < *after) : !(*after < entry))) continue;
    if (page.entries.size() == static_cast<size_t>(request.limit)) {
      page.more = true;
      break;
    }
    page.entries.push_back({RecordOf(claims_.at(entry.second)), CursorOf(entry.first, entry.second)});
  }
  return page;
}

// ---------------------------------------------------------------------------------------------------------
// Invariants and totals

std::string ReferenceLedger::Invariants() const {
  std::map<CounterKey, int64_t> charged;
  std::map<BudgetKey, int64_t> entries;
  std::map<OnceName, std::string> once_users;
  std::map<SerialName, std::string> serial_users;
  for (const auto& [id, claim] : claims_) {
    const bool ended = claim.state == ClaimState::kCancelled || claim.state == ClaimState::kExpired ||
                       claim.state == ClaimState::kRejected;
    const bool paid = !ended && claim.state != ClaimState::kReserved;
    for (const Line& line : claim.lines) {
      if (line.units < 0 || line.fen < 0 || line.refunded_units < 0 || line.refunded_fen < 0 ||
          line.refunded_units > line.units || line.refunded_fen > line.fen) {
        return absl::StrCat("claim ", id, " line ", line.id, ": not 0 ≤ refunded ≤ granted (", line.units,
                            "u ", line.fen, "f, back ", line.refunded_units, "u ", line.refunded_fen, "f)");
      }
      if (ended) continue;
      // What the line still charges: everything while reserved or when refunds do not restore quota, else
      // what is not refunded.
      const bool net = paid && claim.restores;
      for (const CounterKey& c : line.unit_counters)
        charged[c] += line.units - (net ? line.refunded_units : 0);
      for (const CounterKey& c : line.fen_counters) charged[c] += line.fen - (net ? line.refunded_fen : 0);
      for (const BudgetKey& b : line.budgets) entries[b] += line.fen - line.refunded_fen;
      for (const OnceName& o : line.once_keys) {
        if (once_users.count(o) && once_users.at(o) != id) return "a once-key is held by two claims";
        once_users[o] = id;
      }
      for (const SerialName& s : line.serials) {
        if (serial_users.count(s) && serial_users.at(s) != id) return "a serial number is held by two claims";
        serial_users[s] = id;
      }
    }
  }
  for (const auto& [key, value] : counters_) {
    const int64_t want = charged.count(key) ? charged.at(key) : 0;
    if (value != want) {
      return absl::StrCat("counter ", std::get<2>(key), " of buyer ", std::get<0>(key).substr(0, 8), " is ",
                          value, ", its claims charge ", want);
    }
    const auto limit = counter_limits_.find(key);
    if (value < 0 || (limit != counter_limits_.end() && value > limit->second)) {
      return absl::StrCat("counter ", std::get<2>(key), " is ", value, ", outside 0 .. its limit");
    }
  }
  for (const auto& [key, used] : budgets_) {
    const int64_t want = entries.count(key) ? entries.at(key) : 0;
    if (used != want)
      return absl::StrCat("budget ", key.second, " used ", used, ", its entries sum to ", want);
    if (used < 0 || used > budget_totals_.at(key)) {
      return absl::StrCat("budget ", key.second, " used ", used, ", outside 0 .. ", budget_totals_.at(key));
    }
  }
  if (once_holders_ != once_users) return "the once-keys held are not those the claims' lines keep";
  if (serial_holders_ != serial_users) return "the serial numbers held are not those the claims' lines keep";
  return "";
}

std::string ReferenceLedger::Fingerprint() const {
  std::string out;
  for (const auto& [id, c] : claims_) {
    absl::StrAppend(&out, id, ":", static_cast<int>(c.state), ",", c.retailer, ",", c.request_id, ",",
                    c.fingerprint, ",", c.draft, ",", c.confirmation, ",", absl::FormatTime(c.created), ",",
                    absl::FormatTime(c.updated), ",", absl::FormatTime(c.expires), ",", c.restores);
    for (const Line& l : c.lines) {
      absl::StrAppend(&out, "[", l.id, " ", l.units, " ", l.fen, " ", l.reasons.bits(), " ", l.refunded_units, " ",
                      l.refunded_fen, " ", l.once_keys.size(), " ", l.serials.size(), "]");
    }
    for (const auto* ids : {&c.refund_ids, &c.void_ids, &c.correction_ids}) {
      for (const auto& [change, fp] : *ids) absl::StrAppend(&out, "{", change, "=", fp, "}");
      out += "|";
    }
    out += "\n";
  }
  for (const auto& [key, claim] : requests_) absl::StrAppend(&out, key.first, "/", key.second, "=", claim, ";");
  for (const auto& [key, a] : attempts_) {
    absl::StrAppend(&out, key.first, "/", key.second, "@", absl::FormatTime(a.first_now), a.fingerprint, ";");
  }
  for (const auto& [key, value] : counters_) absl::StrAppend(&out, std::get<0>(key), std::get<2>(key), value, ";");
  for (const auto& [key, value] : budgets_) absl::StrAppend(&out, key.second, value, ";");
  for (const auto& [key, holder] : once_holders_) absl::StrAppend(&out, std::get<2>(key), holder, ";");
  for (const auto& [key, holder] : serial_holders_) absl::StrAppend(&out, key.second, holder, ";");
  for (const std::string& id : unreported_expiries_) absl::StrAppend(&out, id, ";");
  return out;
}

std::vector<std::string> ReferenceLedger::ClaimIds() const {
  std::vector<std::string> ids;
  for (const auto& [id, claim] : claims_) ids.push_back(id);
  return ids;
}

int64_t ReferenceLedger::NetPaidFen() const {
  int64_t net = 0;
  for (const auto& [id, claim] : claims_) {
    if (claim.state == ClaimState::kReserved || claim.state == ClaimState::kCancelled ||
        claim.state == ClaimState::kExpired || claim.state == ClaimState::kRejected) {
      continue;
    }
    for (const Line& line : claim.lines) net += line.fen - line.refunded_fen;
  }
  return net;
}

}  // namespace tradein::quota::model
