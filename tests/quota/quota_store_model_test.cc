// Randomised model test (after LevelDB's DBTest.Randomized): the same random sequence of calls goes to the
// store under test and to the reference ledger (tests/quota/model), an oracle written from quota_store.h's
// text that shares no code with either store; every answer must be the model's, and the model's invariants
// must hold after every step.
#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "tests/quota/model/reference_ledger.h"
#include "tests/quota/quota_store_contract.h"
#include "tests/quota/redis_quota_store_factory.h"

namespace tradein::quota::testing {
namespace {

constexpr int kSteps = 1500;
constexpr int kBuyers = 4;

// Every state an answer showed, so the test can check the workload reached them all.
std::set<ClaimState>& SeenStates() {
  static std::set<ClaimState> seen;
  return seen;
}

// Outcomes of the newer calls ("void OK", "confirm SERIAL_COUNT", "list more", ...), likewise.
std::set<std::string>& SeenOutcomes() {
  static std::set<std::string> seen;
  return seen;
}

using model::Compare;
using model::ModelAnswer;
using model::ReferenceLedger;

// Records what an answer showed, so the test can check the workload reached every state and outcome.
ModelAnswer Seen(absl::string_view call, ModelAnswer answer) {
  if (answer.ok()) SeenStates().insert(answer.record.state);
  if (!call.empty()) SeenOutcomes().insert(absl::StrCat(call, " ", answer.ok() ? "OK" : answer.reason));
  return answer;
}

std::string DigestPage(const absl::StatusOr<ClaimPage>& r) {
  if (!r.ok())
    return absl::StrCat("error ", static_cast<int>(r.status().code()), " ", tradein::ErrorReason(r.status()));
  std::string out = absl::StrCat("more=", r->more);
  for (const ClaimPage::Entry& e : r->entries) {
    absl::StrAppend(&out, "\n", e.cursor, " state=", static_cast<int>(e.record.state),
                    " granted=", e.record.GrantedFen(), " refunded=", e.record.RefundedFen());
  }
  return out;
}

std::string DigestSweep(const absl::StatusOr<SweepResult>& r) {
  if (!r.ok()) return absl::StrCat("error ", static_cast<int>(r.status().code()));
  std::set<std::string> ids;
  for (const ClaimRecord& c : r->expired) ids.insert(c.claim_id);
  return absl::StrJoin(ids, ",");
}

class RandomWorkload {
 public:
  explicit RandomWorkload(uint32_t seed) : rng_(seed) {}

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  // Serials for a claim from a small pool: mostly one per granted unit of each line, else for random lines
  // (l0..l2 and one it does not have) in random numbers, so that counts are sometimes wrong and serials
  // sometimes another claim's or given twice.
  std::vector<SerialKey> RandomSerials(const ModelAnswer& claim) {
    std::vector<SerialKey> serials;
    if (claim.ok() && Pick(3) != 0) {
      for (size_t i = 0; i < claim.record.grants.size(); ++i) {
        for (int n = 0; n < claim.record.grants[i].units; ++n) {
          serials.push_back(
              Serial(absl::StrCat("sn", Pick(10)), absl::StrCat("l", i), static_cast<int>(i), n));
        }
      }
      return serials;
    }
    for (int entry = 0, entries = Pick(3); entry < entries; ++entry) {
      const std::string line = absl::StrCat("l", Pick(4));
      for (int n = 0, count = Pick(3); n < count; ++n) {
        serials.push_back(Serial(absl::StrCat("sn", Pick(12)), line, entry, n));
      }
    }
    return serials;
  }

  // An invoice fix or a serial fix (from the same pool as RandomSerials: the old serial sometimes not the
  // line's, the new one sometimes another claim's), computed mostly from the claim's current confirmation.
  CorrectRequest::Fix RandomFix(const ModelAnswer& claim) {
    CorrectRequest::Fix fix;
    fix.expected_confirmation = claim.ok() && Pick(6) != 0 ? claim.record.confirmation : "stale";
    if (Pick(2) == 0) {
      fix.kind = ClaimEvent::Kind::kInvoiceCorrected;
      fix.confirmation = absl::StrCat("invoice-", Pick(4));
    } else {
      const std::string line = absl::StrCat("l", Pick(3));
      fix.kind = ClaimEvent::Kind::kSerialCorrected;
      fix.old_serial = Serial(absl::StrCat("sn", Pick(10)), line);
      fix.new_serial = Serial(absl::StrCat("sn", Pick(12)), line);
      fix.confirmation = absl::StrCat(fix.expected_confirmation, "+", fix.new_serial.value_hash);
    }
    fix.before = fix.expected_confirmation;
    fix.after = fix.confirmation;
    return fix;
  }

  ReserveRequest RandomReserve(absl::Time now) {
    const int buyer = Pick(kBuyers);
    // A small pool of request ids per retailer: retries and reused ids happen. (Drawn one statement each: the
    // order of a call's arguments is unspecified, and GCC and clang would draw a different workload.)
    const std::string request_id = absl::StrCat("req", Pick(40));
    const std::string retailer = absl::StrCat("shop", Pick(2));
    ReserveBuilder builder(TestBuyer(buyer), retailer, request_id, now, absl::Minutes(30));
    const int lines = 1 + Pick(3);
    for (int i = 0; i < lines; ++i) AddRandomLine(builder, i);
    builder.RestoresQuotaOnRefund(Pick(4) != 0);
    if (Pick(8) == 0) builder.Draft(absl::StrCat("variant", Pick(2)));
    return builder.Build();
  }

 private:
  void AddRandomLine(ReserveBuilder& builder, int i) {
    const std::string id = absl::StrCat("l", i);
    const BudgetRef budget = Budget("pool", 5000);
    switch (Pick(5)) {
      case 0:
        builder.Line(id, 1, 1000, {Units("fridge", 1)}, {}, {budget});
        break;
      case 1:
        builder.Line(id, 1 + Pick(4), 400, {Units("ac", 3)});
        break;
      case 2:
        builder.Line(id, 1, 300 + 100 * Pick(10), {Fen("cap", 2000)});
        break;
      case 3:
        builder.Line(id, 1, 700, {Units("reno", 1)}, {Home(absl::StrCat("home", Pick(3)))}, {budget});
        break;
      default:
        builder.Line(id, Pick(2), 250, {}, {}, {budget});
        break;
    }
  }

  std::mt19937 rng_;
};

class QuotaStoreModelTest : public ::testing::TestWithParam<StoreFactory> {};

TEST_P(QuotaStoreModelTest, SameAnswersAsTheModel) {
  SeenStates().clear();
  SeenOutcomes().clear();
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::unique_ptr<QuotaStore> tested_store = GetParam().make();
    SyncStore tested(*tested_store);
    ReferenceLedger model;
    RandomWorkload workload(seed);
    absl::Time now = absl::FromCivil(absl::CivilSecond(2025, 6, 1, 10, 0, 0), absl::UTCTimeZone());
    std::vector<std::string> claim_ids;
    const std::vector<CounterLimit> counters = {Units("fridge", 1), Units("ac", 3), Fen("cap", 2000),
                                                Units("reno", 1)};
    for (int step = 0; step < kSteps; ++step) {
      SCOPED_TRACE(absl::StrCat("step ", step));
      now += absl::Seconds(workload.Pick(240));
      const std::string claim_id =
          claim_ids.empty()
              ? ""
              : claim_ids[static_cast<size_t>(workload.Pick(static_cast<int>(claim_ids.size())))];
      switch (workload.Pick(12)) {
        case 0:
        case 1: {
          const ReserveRequest request = workload.RandomReserve(now);
          const ModelAnswer expected = Seen("", model.Reserve(request));
          ASSERT_EQ(Compare(expected, tested.Reserve(request)), "");
          if (expected.ok()) claim_ids.push_back(expected.record.claim_id);
          break;
        }
        case 2:
          if (claim_id.empty()) break;
          ASSERT_EQ(Compare(Seen("", model.Confirm({claim_id, "", now, "invoice-1", {}})),
                            tested.Confirm(claim_id, now)),
                    "");
          break;
        case 8: {
          if (claim_id.empty()) break;
          // One of the latest claims: most of them are still held.
          const std::string& recent = claim_ids[claim_ids.size() - 1 -
                                                static_cast<size_t>(workload.Pick(
                                                    std::min<int>(4, static_cast<int>(claim_ids.size()))))];
          const ModelAnswer current = model.Get(recent, now);
          ASSERT_EQ(Compare(current, tested.Get(recent, now)), "");
          const std::vector<SerialKey> serials = workload.RandomSerials(current);
          const ModelAnswer expected =
              Seen(serials.empty() ? "" : "confirm", model.Confirm({recent, "", now, "invoice-1", serials}));
          ASSERT_EQ(Compare(expected, tested.ConfirmWith(recent, now, serials)), "");
          break;
        }
        case 9: {
          if (claim_id.empty()) break;
          const int id = workload.Pick(3);
          const VoidRequest request{claim_id,
                                    absl::StrCat("void", id),
                                    absl::StrCat("fp", workload.Pick(2)),
                                    now,
                                    {absl::StrCat("admin", workload.Pick(2)), "fraud"}};
          ASSERT_EQ(Compare(Seen("void", model.Void(request)), tested.Void(request)), "");
          break;
        }
        case 10: {
          if (claim_id.empty()) break;
          // Mostly real reductions: amounts below the current grants.
          const ModelAnswer current = model.Get(claim_id, now);
          ASSERT_EQ(Compare(current, tested.Get(claim_id, now)), "");
          CorrectRequest request{claim_id,         absl::StrCat("correct", workload.Pick(2)), "", {}, now,
                                 {"admin", "typo"}};
          if (workload.Pick(3) == 0) {
            request.fix = workload.RandomFix(current);
            request.fingerprint = absl::StrCat("fix", request.fix->after, request.fix->expected_confirmation);
            ASSERT_EQ(Compare(Seen("fix", model.Correct(request)), tested.Correct(request)), "");
            break;
          }
          for (int i = 0, lines = 1 + workload.Pick(2); i < lines && current.ok(); ++i) {
            const int size = static_cast<int>(current.record.grants.size());
            const int line = workload.Pick(8) == 0 ? size : workload.Pick(size);  // sometimes a line it lacks
            const int64_t granted = line < size ? current.record.grants[static_cast<size_t>(line)].fen : 100;
            // Mostly lower, sometimes higher than the grant.
            request.lines.push_back({absl::StrCat("l", line), granted - workload.Pick(400) + 80});
          }
          request.fingerprint =
              absl::StrCat("fp", request.lines.size(), request.lines.empty() ? 0 : request.lines[0].fen);
          ASSERT_EQ(Compare(Seen("correct", model.Correct(request)), tested.Correct(request)), "");
          break;
        }
        case 11: {
          // A whole listing, page by page: every page the same, cursors included.
          ClaimPageRequest request;
          request.last_day = ChinaCivilDay(now) - workload.Pick(2);
          request.first_day = request.last_day - workload.Pick(3);
          request.newest_first = workload.Pick(2) == 0;
          request.limit = 1 + workload.Pick(6);
          request.now = now;
          if (workload.Pick(3) == 0) request.retailer_id = absl::StrCat("shop", workload.Pick(2));
          if (workload.Pick(3) == 0) {
            request.states = {static_cast<ClaimState>(1 + workload.Pick(8)),
                              static_cast<ClaimState>(1 + workload.Pick(8))};
          }
          for (int page = 0; page < 1000; ++page) {
            const absl::StatusOr<ClaimPage> expected = model.List(request);
            ASSERT_EQ(DigestPage(tested.List(request)), DigestPage(expected));
            if (expected.ok() && expected->more) SeenOutcomes().insert("list more");
            if (!expected.ok() || !expected->more || expected->entries.empty()) break;
            request.cursor = expected->entries.back().cursor;
          }
          break;
        }
        case 3:
          if (claim_id.empty()) break;
          ASSERT_EQ(Compare(Seen("", model.Cancel({claim_id, "", now})), tested.Cancel(claim_id, now)), "");
          break;
        case 4: {
          if (claim_id.empty()) break;
          RefundRequest refund{claim_id, "", absl::StrCat("refund", workload.Pick(6)), "fp", {}, now};
          if (workload.Pick(2) == 0)
            refund.lines.push_back({absl::StrCat("l", workload.Pick(3)), workload.Pick(3)});
          refund.fingerprint = absl::StrCat("fp", refund.lines.size());
          ASSERT_EQ(Compare(Seen("refund", model.Refund(refund)), tested.Refund(refund)), "");
          break;
        }
        case 5:
          if (claim_id.empty()) break;
          ASSERT_EQ(Compare(Seen("", model.Get(claim_id, now)), tested.Get(claim_id, now)), "");
          break;
        case 6: {
          const BuyerRef buyer = TestBuyer(workload.Pick(kBuyers));
          const absl::StatusOr<std::vector<int64_t>> usage = tested.Usage(buyer, counters, now);
          ASSERT_TRUE(usage.ok()) << usage.status();
          ASSERT_EQ(*usage, model.Usage({buyer, counters, now}));
          const absl::StatusOr<std::vector<int64_t>> budget = tested.BudgetUsage({Budget("pool", 5000)}, now);
          ASSERT_TRUE(budget.ok()) << budget.status();
          ASSERT_EQ(*budget, model.BudgetUsage({Budget("pool", 5000)}, now));
          break;
        }
        default: {
          const std::set<std::string> expected = model.Sweep(now);
          ASSERT_EQ(DigestSweep(tested.Sweep(now)), absl::StrJoin(expected, ","));
          break;
        }
      }
      ASSERT_EQ(model.Invariants(), "");
    }
  }
  std::string states;
  for (ClaimState state : SeenStates()) absl::StrAppend(&states, static_cast<int>(state), " ");
  EXPECT_EQ(SeenStates().size(), 8u) << "the random workload no longer reaches every claim state: " << states;
  std::string outcomes;
  for (const std::string& o : SeenOutcomes()) absl::StrAppend(&outcomes, o, "; ");
  for (absl::string_view wanted :
       {"confirm OK", "confirm SERIAL_ALREADY_SUBSIDISED", "confirm SERIAL_COUNT", "confirm LINE_NOT_FOUND",
        "void OK", "void VOID_ID_REUSED", "void WRONG_STATE", "correct OK",
        "correct CORRECTION_NOT_A_REDUCTION", "correct CORRECTION_ID_REUSED", "list more"}) {
    EXPECT_TRUE(SeenOutcomes().contains(std::string(wanted))) << wanted << " not reached; seen: " << outcomes;
  }
}

INSTANTIATE_TEST_SUITE_P(Memory, QuotaStoreModelTest, ::testing::Values(MemoryStoreFactory()), FactoryName);
INSTANTIATE_TEST_SUITE_P(Redis, QuotaStoreModelTest,
                         ::testing::Values(RedisStoreFactory(), RedisGeneralPathStoreFactory()), FactoryName);

}  // namespace
}  // namespace tradein::quota::testing
