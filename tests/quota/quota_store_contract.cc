#include "tests/quota/quota_store_contract.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/quota/memory_quota_store.h"

namespace tradein::quota::testing {

std::string FactoryName(const ::testing::TestParamInfo<StoreFactory>& info) { return info.param.name; }

StoreFactory MemoryStoreFactory() {
  return {"Memory", [] { return std::make_unique<MemoryQuotaStore>(); }};
}

absl::StatusOr<ClaimRecord> SyncStore::Reserve(const ReserveRequest& request) {
  return Await<ClaimRecord>(
      [&](QuotaStore::Callback<ClaimRecord> done) { store_.Reserve(request, Deadline(), std::move(done)); });
}

absl::StatusOr<ClaimRecord> SyncStore::Confirm(const std::string& claim_id, absl::Time now,
                                               const std::string& retailer) {
  return Await<ClaimRecord>([&](QuotaStore::Callback<ClaimRecord> done) {
    store_.Confirm({claim_id, retailer, now, "invoice-1", {}}, Deadline(), std::move(done));
  });
}

absl::StatusOr<ClaimRecord> SyncStore::Cancel(const std::string& claim_id, absl::Time now,
                                              const std::string& retailer) {
  return Await<ClaimRecord>([&](QuotaStore::Callback<ClaimRecord> done) {
    store_.Cancel({claim_id, retailer, now}, Deadline(), std::move(done));
  });
}

absl::StatusOr<ClaimRecord> SyncStore::Refund(const RefundRequest& request) {
  return Await<ClaimRecord>(
      [&](QuotaStore::Callback<ClaimRecord> done) { store_.Refund(request, Deadline(), std::move(done)); });
}

absl::StatusOr<ClaimRecord> SyncStore::ConfirmWith(const std::string& claim_id, absl::Time now,
                                                   std::vector<SerialKey> serials) {
  return Await<ClaimRecord>([&](QuotaStore::Callback<ClaimRecord> done) {
    store_.Confirm({claim_id, "", now, "invoice-1", serials}, Deadline(), std::move(done));
  });
}

absl::StatusOr<ClaimRecord> SyncStore::Void(const VoidRequest& request) {
  return Await<ClaimRecord>(
      [&](QuotaStore::Callback<ClaimRecord> done) { store_.Void(request, Deadline(), std::move(done)); });
}

absl::StatusOr<ClaimRecord> SyncStore::Correct(const CorrectRequest& request) {
  return Await<ClaimRecord>(
      [&](QuotaStore::Callback<ClaimRecord> done) { store_.Correct(request, Deadline(), std::move(done)); });
}

absl::StatusOr<ClaimPage> SyncStore::List(const ClaimPageRequest& request) {
  return Await<ClaimPage>(
      [&](QuotaStore::Callback<ClaimPage> done) { store_.ListClaims(request, Deadline(), std::move(done)); });
}

absl::StatusOr<ClaimRecord> SyncStore::Get(const std::string& claim_id, absl::Time now) {
  return Await<ClaimRecord>([&](QuotaStore::Callback<ClaimRecord> done) {
    store_.Get(claim_id, now, Deadline(), std::move(done));
  });
}

absl::StatusOr<std::vector<int64_t>> SyncStore::Usage(const BuyerRef& buyer,
                                                      const std::vector<CounterLimit>& counters,
                                                      absl::Time now) {
  return Await<std::vector<int64_t>>([&](QuotaStore::Callback<std::vector<int64_t>> done) {
    store_.GetUsage({buyer, counters, now}, Deadline(), std::move(done));
  });
}

absl::StatusOr<std::vector<int64_t>> SyncStore::BudgetUsage(const std::vector<BudgetRef>& budgets,
                                                            absl::Time now) {
  return Await<std::vector<int64_t>>([&](QuotaStore::Callback<std::vector<int64_t>> done) {
    store_.GetBudgetUsage(budgets, now, Deadline(), std::move(done));
  });
}

absl::StatusOr<SweepResult> SyncStore::Sweep(absl::Time now, int limit) {
  return Await<SweepResult>(
      [&](QuotaStore::Callback<SweepResult> done) { store_.Sweep(now, limit, Deadline(), std::move(done)); });
}

BuyerRef TestBuyer(int n) {
  BuyerRef buyer;
  buyer.key = absl::StrFormat("%08x%056x", 0xb0000000u + static_cast<uint32_t>(n), n);
  buyer.tag = buyer.key.substr(0, 8);
  return buyer;
}

ReserveBuilder::ReserveBuilder(const BuyerRef& buyer, std::string retailer, std::string request_id,
                               absl::Time now, absl::Duration hold) {
  request_.buyer = buyer;
  request_.retailer_id = std::move(retailer);
  request_.request_id = std::move(request_id);
  // A 64-hex request key from the whole of both ids (as the service derives one with its HMAC): four FNV-1a
  // hashes of "<round>\0<retailer>\0<request id>", so that ids sharing a long prefix never share a claim id.
  std::string request_key;
  for (uint64_t round = 0; round < 4; ++round) {
    uint64_t hash = 14695981039346656037ull;
    auto mix = [&hash](absl::string_view text) {
      for (char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
      }
    };
    mix(absl::StrCat(round, absl::string_view("\0", 1), request_.retailer_id, absl::string_view("\0", 1),
                     request_.request_id));
    absl::StrAppendFormat(&request_key, "%016x", hash);
  }
  request_.claim_id = ClaimIdFor(buyer, request_key);
  request_.now = now;
  request_.expires_at = now + hold;
  request_.refund_restores_quota = true;
  request_.fingerprint = "fp-default";
  request_.draft = "draft";
}

ReserveBuilder& ReserveBuilder::Line(std::string line_id, int32_t units, int64_t unit_fen,
                                     std::vector<CounterLimit> counters, std::vector<OnceKey> once_keys,
                                     std::vector<BudgetRef> budgets) {
  LineRequest line;
  line.line_id = std::move(line_id);
  line.units = units;
  line.unit_fen = unit_fen;
  auto index_of = [](auto& list, auto value) {
    auto it = std::find(list.begin(), list.end(), value);
    if (it == list.end()) it = list.insert(list.end(), value);
    return static_cast<uint16_t>(it - list.begin());
  };
  for (CounterLimit& c : counters) line.counters.push_back(index_of(request_.counters, c));
  for (OnceKey& o : once_keys) line.once_keys.push_back(index_of(request_.once_keys, o));
  for (BudgetRef& b : budgets) line.budgets.push_back(index_of(request_.budgets, b));
  request_.lines.push_back(std::move(line));
  absl::StrAppend(&request_.fingerprint, "|", request_.lines.size(), ":", units, "x", unit_fen);
  return *this;
}

ReserveBuilder& ReserveBuilder::RestoresQuotaOnRefund(bool restores) {
  request_.refund_restores_quota = restores;
  return *this;
}

ReserveBuilder& ReserveBuilder::Draft(std::string draft) {
  absl::StrAppend(&request_.fingerprint, "|draft:", draft);
  request_.draft = std::move(draft);
  return *this;
}

ReserveRequest ReserveBuilder::Build() const { return request_; }

CounterLimit Units(const std::string& field, int64_t limit, const std::string& programme) {
  return {programme, absl::StrCat("u:", field), CounterLimit::Kind::kUnits, limit};
}

CounterLimit Fen(const std::string& field, int64_t limit, const std::string& programme) {
  return {programme, absl::StrCat("f:", field), CounterLimit::Kind::kFen, limit};
}

OnceKey Home(const std::string& hash, const std::string& programme) {
  return {programme, "renovation", hash, pricing::ReasonCode::kHomeAlreadyUsed};
}

SerialKey Serial(const std::string& number, const std::string& line_id, int line, int n) {
  return {"", number, line_id, absl::StrCat("lineSerials[", line, "].serialNumbers[", n, "]")};
}

CorrectRequest SerialFix(const std::string& claim_id, const std::string& request_id,
                         const std::string& line_id, const std::string& from, const std::string& to,
                         absl::Time now) {
  CorrectRequest::Fix fix;
  fix.kind = ClaimEvent::Kind::kSerialCorrected;
  fix.expected_confirmation = "invoice-1";
  fix.confirmation = "invoice-1";
  fix.before = from;
  fix.after = to;
  fix.old_serial = Serial(from, line_id);
  fix.new_serial = Serial(to, line_id, 0, 0);
  fix.new_serial.field = "serial.newSerialNumber";
  return {claim_id, request_id, absl::StrCat("fp-", to), {}, now, {"ops", "typo"}, std::move(fix)};
}

BudgetRef Budget(const std::string& id, int64_t total_fen, const std::string& programme) {
  return {programme, id, total_fen};
}

void QuotaStoreContractTest::SetUp() {
  store_ = GetParam().make();
  ASSERT_NE(store_, nullptr);
  sync_ = std::make_unique<SyncStore>(*store_);
}

}  // namespace tradein::quota::testing
