#include "services/quota/memory_quota_store.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "services/quota/counter_math.h"
#include "services/quota/store_errors.h"

namespace tradein::quota {
namespace {

using pricing::ReasonCode;

std::string Key(absl::string_view a, absl::string_view b, absl::string_view c = "") {
  return absl::StrCat(a, absl::string_view("\0", 1), b, absl::string_view("\0", 1), c);
}

absl::Status WrongState(ClaimState state, absl::string_view action) {
  return quota::WrongState(static_cast<int64_t>(state), action);
}

bool EveryUnitRefunded(const ClaimRecord& record) {
  for (size_t i = 0; i < record.grants.size(); ++i) {
    if (record.refunds[i].units != record.grants[i].units) return false;
  }
  return true;
}

// Units of `line` that `remaining` fen fits (every unit when the line is free).
int32_t UnitsThatFit(int64_t remaining, int64_t unit_fen, int32_t units) {
  if (unit_fen <= 0) return units;
  return static_cast<int32_t>(std::clamp<int64_t>(remaining / unit_fen, 0, units));
}

// A history event of `kind` for a change request (RefundRequest, VoidRequest, CorrectRequest); its lines are
// filled in when the change is done.
template <typename Request>
ClaimEvent EventOf(ClaimEvent::Kind kind, const Request& request, const std::string& change_id) {
  ClaimEvent event;
  event.kind = kind;
  event.at = request.now;
  event.actor = request.note.actor;
  event.reason = request.note.reason;
  event.request_id = change_id;
  return event;
}

}  // namespace

template <typename T, typename Locked>
void MemoryQuotaStore::AnswerLocked(Callback<T>& done, Locked locked) {
  absl::StatusOr<T> result;
  {
    absl::MutexLock lock(&mu_);
    result = locked();
  }
  std::move(done)(std::move(result));
}

absl::StatusOr<MemoryQuotaStore::StoredClaim*> MemoryQuotaStore::FindLocked(const std::string& claim_id,
                                                                            const std::string& retailer_id) {
  const auto it = claims_.find(claim_id);
  if (it == claims_.end() || (!retailer_id.empty() && it->second.record.retailer_id != retailer_id)) {
    return ClaimNotFound();
  }
  return &it->second;
}

void MemoryQuotaStore::ReleaseOnceKeysLocked(const std::string& claim_id, LineHoldings& line) {
  for (const std::string& once : line.once_keys) {
    // Only while it is this claim's: a refund of another line of the claim may have freed it, and another
    // claim may hold it now.
    const auto holder = once_.find(once);
    if (holder != once_.end() && holder->second == claim_id) once_.erase(holder);
  }
  line.once_keys.clear();
  for (const std::string& serial : line.serials) {
    const auto holder = serials_.find(serial);
    if (holder != serials_.end() && holder->second == claim_id) serials_.erase(holder);
  }
  line.serials.clear();
}

void MemoryQuotaStore::ReleaseRefundedLineLocked(StoredClaim& claim, size_t i) {
  LineHoldings& line = claim.holdings[i];
  // A once-key another line still uses stays (that line lets it go when it is refunded whole in turn).
  std::vector<std::string> kept;
  for (const std::string& once : line.once_keys) {
    for (size_t j = 0; j < claim.holdings.size(); ++j) {
      const std::vector<std::string>& other = claim.holdings[j].once_keys;
      if (j != i && std::find(other.begin(), other.end(), once) != other.end()) {
        kept.push_back(once);
        break;
      }
    }
  }
  std::erase_if(line.once_keys, [&kept](const std::string& once) {
    return std::find(kept.begin(), kept.end(), once) != kept.end();
  });
  ReleaseOnceKeysLocked(claim.record.claim_id, line);
}

void MemoryQuotaStore::ReleaseLineLocked(const std::string& claim_id, LineHoldings& line) {
  for (auto& [budget, fen] : line.budget_fen) {
    budgets_[budget].used -= fen;
    fen = 0;
  }
  for (Charge& charge : line.charges) {
    counters_[charge.counter] -= charge.amount;
    charge.amount = 0;
  }
  ReleaseOnceKeysLocked(claim_id, line);
}

void MemoryQuotaStore::ReleaseAllLocked(StoredClaim& claim) {
  for (LineHoldings& line : claim.holdings) ReleaseLineLocked(claim.record.claim_id, line);
}

void MemoryQuotaStore::ExpireDueLocked(absl::Time now) {
  while (!holds_.empty() && holds_.begin()->first <= now) {
    const auto [ends, claim_id] = *holds_.begin();
    holds_.erase(holds_.begin());
    StoredClaim& claim = claims_.at(claim_id);
    if (claim.record.state != ClaimState::kReserved) continue;
    ReleaseAllLocked(claim);
    claim.record.state = ClaimState::kExpired;
    claim.record.updated_at = ends;
    expired_unreported_.push_back(claim.record);
  }
}

absl::StatusOr<ClaimRecord> MemoryQuotaStore::ReserveLocked(const ReserveRequest& request) {
  ExpireDueLocked(request.now);
  const std::string request_key = Key(request.retailer_id, request.request_id);
  if (const auto known = requests_.find(request_key); known != requests_.end()) {
    const StoredClaim& existing = claims_.at(known->second);
    if (existing.fingerprint != request.fingerprint || existing.record.claim_id != request.claim_id) {
      return RequestIdReused();
    }
    ClaimRecord replay = existing.record;
    replay.replayed = true;
    return replay;
  }

  const size_t n = request.lines.size();
  std::vector<int32_t> units(n);
  std::vector<pricing::ReasonSet> reasons(n);
  // 1. Once-keys: a home or old car held by another claim takes the line out.
  for (size_t i = 0; i < n; ++i) {
    units[i] = request.lines[i].units;
    for (uint16_t k : request.lines[i].once_keys) {
      const OnceKey& once = request.once_keys[k];
      const auto holder = once_.find(Key(once.programme, once.quota_id, once.value_hash));
      if (units[i] > 0 && holder != once_.end() && holder->second != request.claim_id) {
        units[i] = 0;
        reasons[i].Add(once.reason_when_taken);
      }
    }
  }
  // 2. Budgets, in line order, before the buyer's counters (see quota_store.h).
  absl::flat_hash_map<std::string, int64_t> allocated;  // budget key → fen this claim allocated
  for (size_t i = 0; i < n; ++i) {
    const LineRequest& line = request.lines[i];
    if (units[i] == 0) continue;
    int32_t fit = units[i];
    for (uint16_t b : line.budgets) {
      const BudgetRef& budget = request.budgets[b];
      const std::string key = Key(budget.programme, budget.budget_id);
      fit = std::min(
          fit, UnitsThatFit(budget.total_fen - budgets_[key].used - allocated[key], line.unit_fen, fit));
    }
    if (fit < units[i]) reasons[i].Add(ReasonCode::kBudgetExhausted);
    units[i] = fit;
    for (uint16_t b : line.budgets) {
      allocated[Key(request.budgets[b].programme, request.budgets[b].budget_id)] += fit * line.unit_fen;
    }
  }
  // 3. The buyer's counters, then charge everything granted.
  StoredClaim claim;
  claim.buyer_key = request.buyer.key;
  claim.fingerprint = request.fingerprint;
  claim.refund_restores_quota = request.refund_restores_quota;
  claim.holdings.resize(n);
  for (const LineRequest& line : request.lines) claim.line_ids.push_back(line.line_id);
  ClaimRecord& record = claim.record;
  record.grants.resize(n);
  record.refunds.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const LineRequest& line = request.lines[i];
    LineGrant& grant = record.grants[i];
    grant.reasons = reasons[i];
    if (units[i] == 0) continue;
    grant = ApplyCounters(units[i], line.unit_fen, line.counters, request.counters,
                          [&](uint16_t c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                            const auto it = counters_.find(Key(
                                request.buyer.key, request.counters[c].programme, request.counters[c].field));
                            return it == counters_.end() ? int64_t{0} : it->second;
                          });
    grant.reasons.AddAll(reasons[i]);
    const int32_t granted_units = grant.units;
    const int64_t fen = grant.fen;
    if (granted_units == 0) continue;
    LineHoldings& holdings = claim.holdings[i];
    for (uint16_t c : line.counters) {
      const CounterLimit& counter = request.counters[c];
      const bool is_units = counter.kind == CounterLimit::Kind::kUnits;
      const std::string key = Key(request.buyer.key, counter.programme, counter.field);
      const int64_t amount = is_units ? granted_units : fen;
      counters_[key] += amount;
      holdings.charges.push_back({key, amount, is_units});
    }
    for (uint16_t k : line.once_keys) {
      const OnceKey& once = request.once_keys[k];
      const std::string key = Key(once.programme, once.quota_id, once.value_hash);
      once_[key] = request.claim_id;
      holdings.once_keys.push_back(key);
    }
    for (uint16_t b : line.budgets) {
      const std::string key = Key(request.budgets[b].programme, request.budgets[b].budget_id);
      budgets_[key].used += fen;
      holdings.budget_fen.emplace_back(key, fen);
    }
  }
  record.claim_id = request.claim_id;
  record.retailer_id = request.retailer_id;
  record.request_id = request.request_id;
  record.draft = request.draft;
  record.created_at = record.updated_at = request.now;
  record.expires_at = request.expires_at;
  record.state = record.GrantedFen() > 0 ? ClaimState::kReserved : ClaimState::kRejected;
  if (record.state == ClaimState::kReserved) holds_.emplace(request.expires_at, request.claim_id);
  requests_[request_key] = request.claim_id;
  by_creation_.emplace(record.created_at, request.claim_id);
  ClaimRecord answer = record;
  claims_[request.claim_id] = std::move(claim);
  return answer;
}

absl::Status MemoryQuotaStore::TakeSerialsLocked(StoredClaim& claim, const std::vector<SerialKey>& serials) {
  if (serials.empty()) return absl::OkStatus();
  const ClaimRecord& record = claim.record;
  // 1. Every serial names a line of the claim.
  std::vector<size_t> line_of;
  for (const SerialKey& serial : serials) {
    const auto found = std::find(claim.line_ids.begin(), claim.line_ids.end(), serial.line_id);
    if (found == claim.line_ids.end()) return SerialLineNotFound(serial.field);
    line_of.push_back(static_cast<size_t>(found - claim.line_ids.begin()));
  }
  // 2. A line's serials number its granted units (lines in order of first mention).
  std::vector<size_t> lines;
  absl::flat_hash_map<size_t, int64_t> count;
  absl::flat_hash_map<size_t, std::string> first_field;
  for (size_t s = 0; s < serials.size(); ++s) {
    if (count[line_of[s]]++ == 0) {
      lines.push_back(line_of[s]);
      first_field[line_of[s]] = serials[s].field;
    }
  }
  for (size_t i : lines) {
    if (count[i] != record.grants[i].units)
      return SerialCount(first_field[i], count[i], record.grants[i].units);
  }
  // 3. One device, one unit; 4. no serial another claim holds.
  std::vector<std::string> keys;
  for (const SerialKey& serial : serials) {
    const std::string key = Key(serial.programme, serial.value_hash);
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) return SerialTaken(serial.field);
    keys.push_back(key);
  }
  for (size_t s = 0; s < serials.size(); ++s) {
    const auto holder = serials_.find(keys[s]);
    if (holder != serials_.end() && holder->second != record.claim_id) return SerialTaken(serials[s].field);
  }
  for (size_t s = 0; s < serials.size(); ++s) {
    serials_[keys[s]] = record.claim_id;
    std::vector<std::string>& held = claim.holdings[line_of[s]].serials;
    if (std::find(held.begin(), held.end(), keys[s]) == held.end()) held.push_back(keys[s]);
  }
  return absl::OkStatus();
}

absl::StatusOr<ClaimRecord> MemoryQuotaStore::ConfirmLocked(const ConfirmRequest& request) {
  ExpireDueLocked(request.now);
  TRADEIN_ASSIGN_OR_RETURN(StoredClaim * claim, FindLocked(request.claim_id, request.retailer_id));
  ClaimRecord& record = claim->record;
  switch (record.state) {
    case ClaimState::kReserved: {
      TRADEIN_RETURN_IF_ERROR(TakeSerialsLocked(*claim, request.serials));
      auto [first, last] = holds_.equal_range(record.expires_at);
      for (auto it = first; it != last; ++it) {
        if (it->second == record.claim_id) {
          holds_.erase(it);
          break;
        }
      }
      record.state = ClaimState::kConfirmed;
      record.confirmation = request.confirmation;
      record.updated_at = request.now;
      return record;
    }
    case ClaimState::kConfirmed: {
      ClaimRecord replay = record;
      replay.replayed = true;
      return replay;
    }
    case ClaimState::kExpired:
      return HoldExpired("confirmed");
    default:
      return WrongState(record.state, "confirmed");
  }
}

absl::StatusOr<ClaimRecord> MemoryQuotaStore::CancelLocked(const CancelRequest& request) {
  ExpireDueLocked(request.now);
  TRADEIN_ASSIGN_OR_RETURN(StoredClaim * claim, FindLocked(request.claim_id, request.retailer_id));
  ClaimRecord& record = claim->record;
  switch (record.state) {
    case ClaimState::kReserved: {
      auto [first, last] = holds_.equal_range(record.expires_at);
      for (auto it = first; it != last; ++it) {
        if (it->second == record.claim_id) {
          holds_.erase(it);
          break;
        }
      }
      ReleaseAllLocked(*claim);
      record.state = ClaimState::kCancelled;
      record.updated_at = request.now;
      return record;
    }
    case ClaimState::kCancelled: {
      ClaimRecord replay = record;
      replay.replayed = true;
      return replay;
    }
    case ClaimState::kExpired:
      return HoldExpired("cancelled");
    default:
      return WrongState(record.state, "cancelled");
  }
}

absl::StatusOr<MemoryQuotaStore::PaidChange> MemoryQuotaStore::OpenPaidChangeLocked(
    const ChangeKey& key, FingerprintsOf fingerprints, absl::Time now, const absl::Status& reused,
    absl::string_view action) {
  ExpireDueLocked(now);
  TRADEIN_ASSIGN_OR_RETURN(StoredClaim * claim, FindLocked(key.claim_id, key.retailer_id));
  const auto& known_ids = claim->*fingerprints;
  if (const auto known = known_ids.find(key.change_id); known != known_ids.end()) {
    if (known->second != key.fingerprint) return reused;
    ClaimRecord replay = claim->record;
    replay.replayed = true;
    return PaidChange{nullptr, std::move(replay)};
  }
  const ClaimState state = claim->record.state;
  if (state != ClaimState::kConfirmed && state != ClaimState::kPartiallyRefunded) {
    return WrongState(state, action);
  }
  return PaidChange{claim, std::nullopt};
}

absl::StatusOr<ClaimRecord> MemoryQuotaStore::RefundLocked(const RefundRequest& request) {
  TRADEIN_ASSIGN_OR_RETURN(
      PaidChange change,
      OpenPaidChangeLocked({request.claim_id, request.retailer_id, request.refund_id, request.fingerprint},
                           &StoredClaim::refund_fingerprints, request.now, RefundIdReused(), "refunded"));
  if (change.replay.has_value()) return *std::move(change.replay);
  StoredClaim* claim = change.claim;
  ClaimRecord& record = claim->record;
  // Which units of which lines: all that remain, or the listed ones.
  const size_t n = record.grants.size();
  std::vector<int32_t> refund_units(n, 0);
  for (size_t i = 0; i < n && request.lines.empty(); ++i) {
    refund_units[i] = record.grants[i].units - record.refunds[i].units;
  }
  for (const RefundLine& line : request.lines) {
    const auto found = std::find(claim->line_ids.begin(), claim->line_ids.end(), line.line_id);
    if (found == claim->line_ids.end()) {
      return LineNotFound();
    }
    const auto i = static_cast<size_t>(found - claim->line_ids.begin());
    const int32_t remaining = record.grants[i].units - record.refunds[i].units - refund_units[i];
    const int32_t wanted = line.units == 0 ? remaining : line.units;
    if (wanted <= 0 || wanted > remaining) {
      return RefundExceedsGrant();
    }
    refund_units[i] += wanted;
  }
  const ClaimRecord before = record;
  for (size_t i = 0; i < n; ++i) {
    if (refund_units[i] == 0) continue;
    const LineGrant& grant = record.grants[i];
    LineRefund& refunded = record.refunds[i];
    const bool whole = refunded.units + refund_units[i] == grant.units;
    // What is left of the line, shared over the units left (quota_store.h, "Amounts").
    const int64_t fen = whole ? grant.fen - refunded.fen
                              : (grant.fen - refunded.fen) * refund_units[i] / (grant.units - refunded.units);
    refunded.units += refund_units[i];
    refunded.fen += fen;
    LineHoldings& holdings = claim->holdings[i];
    for (auto& [budget, charged] : holdings.budget_fen) {
      budgets_[budget].used -= fen;
      charged -= fen;
    }
    if (claim->refund_restores_quota) {
      for (Charge& charge : holdings.charges) {
        const int64_t amount = charge.is_units ? refund_units[i] : fen;
        counters_[charge.counter] -= amount;
        charge.amount -= amount;
      }
      if (whole) ReleaseRefundedLineLocked(*claim, i);
    }
  }
  record.state = EveryUnitRefunded(record) ? ClaimState::kRefunded : ClaimState::kPartiallyRefunded;
  record.updated_at = request.now;
  claim->refund_fingerprints[request.refund_id] = request.fingerprint;
  return Changed(*claim, before, EventOf(ClaimEvent::Kind::kRefunded, request, request.refund_id),
                 record.RefundedFen() - before.RefundedFen());
}

absl::StatusOr<ClaimRecord> MemoryQuotaStore::VoidLocked(const VoidRequest& request) {
  TRADEIN_ASSIGN_OR_RETURN(
      PaidChange change,
      OpenPaidChangeLocked({request.claim_id, "", request.request_id, request.fingerprint},
                           &StoredClaim::void_fingerprints, request.now, VoidIdReused(), "voided"));
  if (change.replay.has_value()) return *std::move(change.replay);
  StoredClaim* claim = change.claim;
  ClaimRecord& record = claim->record;
  const ClaimRecord before = record;
  int64_t total = 0;
  for (size_t i = 0; i < record.grants.size(); ++i) {
    const LineGrant& grant = record.grants[i];
    LineRefund& refunded = record.refunds[i];
    const int32_t units = grant.units - refunded.units;
    if (units == 0) continue;
    const int64_t fen = grant.fen - refunded.fen;
    refunded = LineRefund{grant.units, grant.fen};
    total += fen;
    LineHoldings& holdings = claim->holdings[i];
    for (auto& [budget, charged] : holdings.budget_fen) {
      budgets_[budget].used -= fen;
      charged -= fen;
    }
    if (claim->refund_restores_quota) {
      for (Charge& charge : holdings.charges) {
        const int64_t amount = charge.is_units ? units : fen;
        counters_[charge.counter] -= amount;
        charge.amount -= amount;
      }
      ReleaseRefundedLineLocked(*claim, i);
    }
  }
  record.state = ClaimState::kVoided;
  record.updated_at = request.now;
  claim->void_fingerprints[request.request_id] = request.fingerprint;
  return Changed(*claim, before, EventOf(ClaimEvent::Kind::kVoided, request, request.request_id), total);
}

absl::StatusOr<ClaimRecord> MemoryQuotaStore::CorrectLocked(const CorrectRequest& request) {
  if (request.fix.has_value() && request.fix->kind == ClaimEvent::Kind::kSerialCorrected) {
    // Before anything else, as the Redis store takes the new serial's key before the buyer's script runs.
    const SerialKey& serial = request.fix->new_serial;
    const auto holder = serials_.find(Key(serial.programme, serial.value_hash));
    if (holder != serials_.end() && holder->second != request.claim_id) return SerialTaken(serial.field);
  }
  TRADEIN_ASSIGN_OR_RETURN(
      PaidChange change, OpenPaidChangeLocked({request.claim_id, "", request.request_id, request.fingerprint},
                                              &StoredClaim::correction_fingerprints, request.now,
                                              CorrectionIdReused(), "corrected"));
  if (change.replay.has_value()) return *std::move(change.replay);
  StoredClaim* claim = change.claim;
  if (request.fix.has_value()) return FixConfirmationLocked(*claim, request);
  ClaimRecord& record = claim->record;
  const ClaimRecord before = record;
  // Every line checked (in request order, against the amounts before it) before anything changes.
  std::vector<int64_t> fen(record.grants.size());
  for (size_t i = 0; i < fen.size(); ++i) fen[i] = record.grants[i].fen;
  for (const CorrectRequest::Line& line : request.lines) {
    const auto found = std::find(claim->line_ids.begin(), claim->line_ids.end(), line.line_id);
    if (found == claim->line_ids.end()) {
      return LineNotFound();
    }
    const auto i = static_cast<size_t>(found - claim->line_ids.begin());
    if (line.fen > fen[i] || line.fen < record.refunds[i].fen) return NotAReduction();
    fen[i] = line.fen;
  }
  int64_t total = 0;
  for (size_t i = 0; i < fen.size(); ++i) {
    const int64_t delta = record.grants[i].fen - fen[i];
    if (delta == 0) continue;
    record.grants[i].fen = fen[i];
    total += delta;
    LineHoldings& holdings = claim->holdings[i];
    for (auto& [budget, charged] : holdings.budget_fen) {
      budgets_[budget].used -= delta;
      charged -= delta;
    }
    for (Charge& charge : holdings.charges) {
      if (charge.is_units) continue;
      counters_[charge.counter] -= delta;
      charge.amount -= delta;
    }
  }
  record.updated_at = request.now;
  claim->correction_fingerprints[request.request_id] = request.fingerprint;
  return Changed(*claim, before, EventOf(ClaimEvent::Kind::kCorrected, request, request.request_id), total);
}

absl::StatusOr<ClaimRecord> MemoryQuotaStore::FixConfirmationLocked(StoredClaim& claim,
                                                                    const CorrectRequest& request) {
  const CorrectRequest::Fix& fix = *request.fix;
  ClaimRecord& record = claim.record;
  std::string old_key, new_key;
  std::vector<std::string>* serials = nullptr;
  if (fix.kind == ClaimEvent::Kind::kSerialCorrected) {
    const auto found = std::find(claim.line_ids.begin(), claim.line_ids.end(), fix.old_serial.line_id);
    if (found == claim.line_ids.end()) return LineNotFound();
    serials = &claim.holdings[static_cast<size_t>(found - claim.line_ids.begin())].serials;
    old_key = Key(fix.old_serial.programme, fix.old_serial.value_hash);
    new_key = Key(fix.new_serial.programme, fix.new_serial.value_hash);
    if (std::find(serials->begin(), serials->end(), old_key) == serials->end()) return SerialNotOnLine();
    if (serials_.contains(new_key)) return SerialTaken(fix.new_serial.field);  // this claim's, on some line
  }
  if (record.confirmation != fix.expected_confirmation) return ConfirmationChanged();
  if (serials != nullptr) {
    serials_.erase(old_key);
    serials_[new_key] = record.claim_id;
    *std::find(serials->begin(), serials->end(), old_key) = new_key;
  }
  const ClaimRecord before = record;
  record.confirmation = fix.confirmation;
  record.updated_at = request.now;
  claim.correction_fingerprints[request.request_id] = request.fingerprint;
  ClaimEvent event = EventOf(fix.kind, request, request.request_id);
  event.before = fix.before;
  event.after = fix.after;
  return Changed(claim, before, std::move(event), 0);
}

ClaimRecord MemoryQuotaStore::Changed(StoredClaim& claim, const ClaimRecord& before, ClaimEvent event,
                                      int64_t change_fen) {
  event.lines = ChangedLines(before, claim.record, claim.line_ids);
  AppendClaimEvent(claim.record, std::move(event));
  ClaimRecord answer = claim.record;
  answer.last_change_fen = change_fen;
  return answer;
}

absl::StatusOr<ClaimPage> MemoryQuotaStore::ListLocked(const ClaimPageRequest& request) {
  if (request.limit < 1) return LimitInvalid();
  std::optional<ClaimPosition> after;
  if (!request.cursor.empty()) {
    TRADEIN_ASSIGN_OR_RETURN(after, ParseClaimCursor(request.cursor));
  }
  ExpireDueLocked(request.now);
  ClaimPage page;
  if (request.last_day < request.first_day) return page;
  const absl::Time begin = StartOfChinaDay(request.first_day);
  const absl::Time end = StartOfChinaDay(request.last_day + 1);
  // Where the scan starts: just after the cursor, but not outside the period.
  using Key = std::pair<absl::Time, std::string>;
  const Key first{begin, ""};
  const Key last{end, ""};  // just past the period
  auto from = by_creation_.lower_bound(request.newest_first ? last : first);
  if (after.has_value()) {
    const Key key{after->created_at(), after->claim_id};
    if (request.newest_first && key < last) from = by_creation_.lower_bound(key);
    if (!request.newest_first && key >= first) from = by_creation_.upper_bound(key);
  }
  // The claim of an entry, when it passes the filters.
  auto matches = [&](const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> const ClaimRecord* {
    const ClaimRecord& record = claims_.at(key.second).record;
    if (!request.retailer_id.empty() && record.retailer_id != request.retailer_id) return nullptr;
    if (!request.states.empty() &&
        std::find(request.states.begin(), request.states.end(), record.state) == request.states.end()) {
      return nullptr;
    }
    return &record;
  };
  // Visits entries in order; false stops.
  auto take = [&](const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (key.first < begin || key.first >= end) return false;
    const ClaimRecord* record = matches(key);
    if (record == nullptr) return true;
    if (page.entries.size() == static_cast<size_t>(request.limit)) {
      page.more = true;
      return false;
    }
    page.entries.push_back({*record, EncodeClaimCursor(PositionOf(key.first, key.second))});
    return true;
  };
  if (request.newest_first) {
    for (auto it = std::make_reverse_iterator(from); it != by_creation_.rend() && take(*it);) ++it;
  } else {
    for (auto it = from; it != by_creation_.end() && take(*it);) ++it;
  }
  return page;
}

void MemoryQuotaStore::Reserve(ReserveRequest request, absl::Time, Callback<ClaimRecord> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ReserveLocked(request); });
}

void MemoryQuotaStore::Confirm(ConfirmRequest request, absl::Time, Callback<ClaimRecord> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ConfirmLocked(request); });
}

void MemoryQuotaStore::Cancel(CancelRequest request, absl::Time, Callback<ClaimRecord> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return CancelLocked(request); });
}

void MemoryQuotaStore::Refund(RefundRequest request, absl::Time, Callback<ClaimRecord> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return RefundLocked(request); });
}

void MemoryQuotaStore::Void(VoidRequest request, absl::Time, Callback<ClaimRecord> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return VoidLocked(request); });
}

void MemoryQuotaStore::Correct(CorrectRequest request, absl::Time, Callback<ClaimRecord> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return CorrectLocked(request); });
}

void MemoryQuotaStore::ListClaims(ClaimPageRequest request, absl::Time, Callback<ClaimPage> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ListLocked(request); });
}

void MemoryQuotaStore::Get(std::string claim_id, absl::Time now, absl::Time, Callback<ClaimRecord> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::StatusOr<ClaimRecord> {
    ExpireDueLocked(now);
    TRADEIN_ASSIGN_OR_RETURN(StoredClaim * claim, FindLocked(claim_id, ""));
    return claim->record;
  });
}

void MemoryQuotaStore::GetUsage(UsageRequest request, absl::Time, Callback<std::vector<int64_t>> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::StatusOr<std::vector<int64_t>> {
    ExpireDueLocked(request.now);
    std::vector<int64_t> used;
    for (const CounterLimit& counter : request.counters) {
      const auto it = counters_.find(Key(request.buyer.key, counter.programme, counter.field));
      used.push_back(it == counters_.end() ? 0 : it->second);
    }
    return used;
  });
}

void MemoryQuotaStore::GetBudgetUsage(std::vector<BudgetRef> budgets, absl::Time now, absl::Time,
                                      Callback<std::vector<int64_t>> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::StatusOr<std::vector<int64_t>> {
    ExpireDueLocked(now);
    std::vector<int64_t> used;
    for (const BudgetRef& budget : budgets) {
      const auto it = budgets_.find(Key(budget.programme, budget.budget_id));
      used.push_back(it == budgets_.end() ? 0 : it->second.used);
    }
    return used;
  });
}

void MemoryQuotaStore::Sweep(absl::Time now, int limit, absl::Time, Callback<SweepResult> done) {
  AnswerLocked(done, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::StatusOr<SweepResult> {
    ExpireDueLocked(now);
    const size_t take = std::min(expired_unreported_.size(), static_cast<size_t>(std::max(limit, 0)));
    SweepResult result;
    result.expired.assign(expired_unreported_.begin(), expired_unreported_.begin() + static_cast<long>(take));
    expired_unreported_.erase(expired_unreported_.begin(),
                              expired_unreported_.begin() + static_cast<long>(take));
    return result;
  });
}

void MemoryQuotaStore::Ping(absl::Time, Callback<bool> done) { std::move(done)(true); }

}  // namespace tradein::quota
