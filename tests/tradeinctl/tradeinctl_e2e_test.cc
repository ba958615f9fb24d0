// tradeinctl end to end: the real binary against the real tradein-server (embedded memory store, shipped
// policies, clock fixed at 2025-06-01 10:00 China time). Human output is in yuan with Chinese product names
// and aligned columns; --json output parses as the response message; errors print their code, reason and
// fields.
#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/free_port.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tools/tradeinctl/format.h"
#include "tradein/v1/claim_service.pb.h"
#include "tradein/v1/policy_service.pb.h"
#include "tradein/v1/portal_service.pb.h"
#include "tradein/v1/subsidy_service.pb.h"

namespace tradein {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ServerProcess;

constexpr char kBuyer[] = "330381199001011230";       // valid GB 11643 check character
constexpr char kOtherBuyer[] = "330381198506152341";  // another valid one

struct CtlRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string CtlPath() { return absl::StrCat(TRADEIN_BINARY_DIR, "/tools/tradeinctl/tradeinctl"); }

// Runs tradeinctl with `args` (and `env`), waits for it, returns its exit code and output.
CtlRun RunCtl(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {}) {
  CtlRun run;
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradeinctl-test-");
  EXPECT_TRUE(dir.ok()) << dir.status();
  if (!dir.ok()) return run;
  testing::SubprocessOptions options;
  options.argv = {CtlPath()};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = std::move(env);
  options.stdout_path = dir->Join("out");
  options.stderr_path = dir->Join("err");
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> process =
      testing::Subprocess::Spawn(std::move(options));
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return run;
  absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(60));
  EXPECT_TRUE(code.ok()) << code.status();
  run.exit_code = code.ok() ? *code : -1;
  const auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  run.out = read(dir->Join("out"));
  run.err = read(dir->Join("err"));
  return run;
}

template <typename Message>
Message FromJson(const std::string& json) {
  Message message;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return message;
}

// The lines of `text` from the one starting with `header` up to the next blank line.
std::vector<std::string> TableAt(const std::string& text, absl::string_view header) {
  std::vector<std::string> table;
  bool in = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, header)) in = true;
    if (in && line.empty()) break;
    if (in) table.emplace_back(line);
  }
  return table;
}

// The terminal column where the last `cell` ends in `line` (display width of everything up to its end).
size_t EndColumn(const std::string& line, absl::string_view cell) {
  const size_t at = line.rfind(std::string(cell));  // the last: SUBSIDY comes after UNIT PRICE
  if (at == std::string::npos) return 0;
  return ctl::DisplayWidth(absl::string_view(line).substr(0, at + cell.size()));
}

class TradeinctlE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start({"--simulated_now=2025-06-01T10:00:00+08:00"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // tradeinctl --server=<the test server> args...
  static CtlRun Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), absl::StrCat("--server=", server_->address()));
    return RunCtl(std::move(args));
  }

  static ServerProcess* server_;
};

ServerProcess* TradeinctlE2eTest::server_ = nullptr;

// The --item examples of `tradeinctl --help`, as a shell would pass them (the car with the new car's VIN the
// note under it adds, as a claim must).
std::vector<std::string> HelpItemExamples(const std::string& help) {
  std::vector<std::string> items;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "--item ") && !absl::StartsWith(line, "SPEC")) {  // not the flags table
      if (absl::ConsumePrefix(&line, "'")) absl::ConsumeSuffix(&line, "'");
      items.emplace_back(line);
    } else if (absl::StartsWith(line, "(a claim") && absl::StrContains(line, ",new_vin=") && !items.empty()) {
      const size_t at = line.find(",new_vin=");
      items.push_back(absl::StrCat(items.back(), line.substr(at, line.find(')') - at)));
    }
  }
  return items;
}

TEST_F(TradeinctlE2eTest, EveryItemExampleOfTheHelpIsAcceptedByTheServer) {
  const CtlRun help = RunCtl({"--help"});
  ASSERT_EQ(help.exit_code, 0);
  const std::vector<std::string> items = HelpItemExamples(help.out);
  ASSERT_GE(items.size(), 7u) << help.out;
  EXPECT_EQ(std::count_if(items.begin(), items.end(),
                          [](const std::string& item) { return absl::StrContains(item, "new_vin="); }),
            1)
      << "the car example with its new VIN";
  for (const std::string& item : items) {
    SCOPED_TRACE(item);
    const CtlRun run = Ctl({"--json", "quote", "--region=330381", "--date=2025-06-01", "--item", item});
    EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_THAT(run.err, Not(HasSubstr("INVALID_ARGUMENT")));
  }
}

TEST_F(TradeinctlE2eTest, PortalCommandsListExportTotalsCorrectAndVoid) {
  constexpr char kPortalBuyer[] = "330381199202021232";
  const CtlRun claimed =
      Ctl({"--json", "claim", "--retailer=shop-9", absl::StrCat("--buyer=", kPortalBuyer), "--region=330381",
           "--date=2025-06-01", "--item", "appliance.refrigerator:5000:grade=1"});
  ASSERT_EQ(claimed.exit_code, 0) << claimed.err;
  const std::string id = FromJson<v1::Claim>(claimed.out).claim_id();
  ASSERT_EQ(Ctl({"confirm", id, "--invoice=INV-PORTAL-1", "--serials", "1:SN-P1"}).exit_code, 0);

  // No --from/--to: the server's today (2025-06-01), not this machine's.
  const CtlRun listed = Ctl({"list", "--retailer=shop-9"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, AllOf(HasSubstr(id), HasSubstr("CONFIRMED"), HasSubstr("1,000.00"),
                                HasSubstr("1 claims, 2025-06-01 .. 2025-06-01")));
  const CtlRun exported =
      Ctl({"--json", "export", "--from=2025-06-01", "--to=2025-06-01", "--retailer=shop-9"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(FromJson<v1::ExportedClaim>(exported.out).claim().claim_id(), id);
  const CtlRun totals = Ctl({"totals", "--retailer=shop-9"});
  ASSERT_EQ(totals.exit_code, 0) << totals.err;
  EXPECT_THAT(totals.out, AllOf(HasSubstr("冰箱(含冰柜)"), HasSubstr("Net owed  1,000.00")));

  const CtlRun corrected =
      Ctl({"--json", "correct", id, "--line", "1:800", "--reason=price typed wrong", "--request_id=fix-1"});
  ASSERT_EQ(corrected.exit_code, 0) << corrected.err;
  EXPECT_EQ(FromJson<v1::Claim>(corrected.out).total_subsidy_fen(), 80000);
  EXPECT_EQ(Ctl({"correct", id, "--line", "1:eight", "--reason=x"}).exit_code, 2) << "a bad amount is usage";
  EXPECT_EQ(Ctl({"correct", id, "--serial=1:SN-P1", "--reason=x"}).exit_code, 2) << "LINE:OLD:NEW";
  EXPECT_EQ(Ctl({"correct", id, "--invoice=INV-X", "--line", "1:700", "--reason=x"}).exit_code, 2)
      << "one change a call";
  const CtlRun invoice =
      Ctl({"correct", id, "--invoice=INV-PORTAL-2", "--reason=invoice typed wrong", "--request_id=fix-2"});
  ASSERT_EQ(invoice.exit_code, 0) << invoice.err;
  EXPECT_THAT(invoice.out, HasSubstr("INV-PORTAL-2"));
  const CtlRun serial =
      Ctl({"correct", id, "--serial=1:SN-P1:SN-P2", "--reason=serial typed wrong", "--request_id=fix-3"});
  ASSERT_EQ(serial.exit_code, 0) << serial.err;
  EXPECT_THAT(serial.out, HasSubstr("SN-P2"));
  const CtlRun history = Ctl({"get", id});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_THAT(history.out,
              AllOf(HasSubstr("History"), HasSubstr("CORRECTED  by "), HasSubstr("price typed wrong"),
                    HasSubstr("line 1: 1,000.00 → 800.00 yuan"), HasSubstr("INVOICE_CORRECTED"),
                    HasSubstr("INV-PORTAL-1 → INV-PORTAL-2"), HasSubstr("SERIAL_CORRECTED"),
                    HasSubstr("1: SN-P1 → 1: SN-P2"), HasSubstr("request fix-3: serial typed wrong")));
  const CtlRun voided = Ctl({"void", id, "--reason=invoice forged"});
  ASSERT_EQ(voided.exit_code, 0) << voided.err;
  EXPECT_THAT(voided.out, HasSubstr("VOIDED"));
  const CtlRun after = Ctl({"totals", "--retailer=shop-9"});
  EXPECT_THAT(after.out, HasSubstr("Net owed  0.00"));
}

// Issue 12, item 5: `export --csv` writes the gateway's CSV (a BOM, Chinese headings, formula injection
// defused); the filters and --group_by reach the server.
TEST_F(TradeinctlE2eTest, ExportCsvFiltersAndTotalsByRegion) {
  constexpr char kCsvBuyer[] = "330381199303031237";
  const CtlRun claimed =
      Ctl({"--json", "claim", "--retailer=shop-8", absl::StrCat("--buyer=", kCsvBuyer), "--region=330381",
           "--date=2025-06-01", "--item", "appliance.refrigerator:5000:grade=1"});
  ASSERT_EQ(claimed.exit_code, 0) << claimed.err;
  const std::string id = FromJson<v1::Claim>(claimed.out).claim_id();
  ASSERT_EQ(Ctl({"confirm", id, "--invoice=+86-INV"}).exit_code, 0);

  const CtlRun csv =
      Ctl({"export", "--csv", "--retailer=shop-8", "--region=330300", "--invoice=+86-INV",
           "--states=confirmed", "--product_types=appliance.refrigerator", "--confirmed_from=2025-06-01"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_THAT(csv.out, AllOf(HasSubstr("申领编号,状态,零售商,地区代码,交易日期"),
                             HasSubstr(absl::StrCat(id, ",已确认,shop-8,330381,2025-06-01,")),
                             HasSubstr(",'+86-INV,"), HasSubstr(",1000.00,0.00,1000.00,")));
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 2) << csv.out;  // headings and one claim
  const CtlRun elsewhere = Ctl({"export", "--csv", "--retailer=shop-8", "--region=330100"});
  ASSERT_EQ(elsewhere.exit_code, 0) << elsewhere.err;
  EXPECT_EQ(std::count(elsewhere.out.begin(), elsewhere.out.end(), '\n'), 1) << "the headings only";

  const CtlRun by_region = Ctl({"--json", "totals", "--retailer=shop-8", "--group_by=region"});
  ASSERT_EQ(by_region.exit_code, 0) << by_region.err;
  const v1::Totals totals = FromJson<v1::Totals>(by_region.out);
  ASSERT_EQ(totals.rows_size(), 1);
  EXPECT_EQ(totals.rows(0).region_code(), "330381");
  EXPECT_EQ(totals.rows(0).net_fen(), 100000);
  EXPECT_EQ(Ctl({"list", "--states=PAID"}).exit_code, 2) << "an unknown state is usage";
  EXPECT_EQ(Ctl({"totals", "--group_by=week"}).exit_code, 2);
}

TEST_F(TradeinctlE2eTest, TheDateDefaultsToTheServersClockNotThisMachines) {
  // The server lives on 2025-06-01 (simulated): Rui'an's 2025 policy, where today's real date would pick
  // 2026's.
  const CtlRun run =
      Ctl({"--json", "quote", "--region=330381", "--item", "appliance.refrigerator:5000:grade=1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(FromJson<v1::QuoteResponse>(run.out).policy_id(), "ra-2025");
  const CtlRun policies = Ctl({"--json", "policies"});
  ASSERT_EQ(policies.exit_code, 0) << policies.err;
  EXPECT_EQ(FromJson<v1::ListPoliciesResponse>(policies.out).server_date(), "2025-06-01");
}

TEST_F(TradeinctlE2eTest, QuotePrintsYuanChineseNamesAndAlignedColumns) {
  const CtlRun run = Ctl(
      {"quote", "--region=330381", "--date=2025-03-01", "--item", "appliance.refrigerator:5000:grade=1",
       "--item=appliance.air_conditioner:12000:grade=1", "--item", "appliance.refrigerator:5000:grade=3"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("ra-2025"));
  EXPECT_THAT(run.out, HasSubstr("冰箱(含冰柜)"));
  EXPECT_THAT(run.out, HasSubstr("空调(含中央空调)"));
  EXPECT_THAT(run.out, HasSubstr("12,000.00"));
  EXPECT_THAT(run.out, HasSubstr("5000.00 × 20% = 1000.00; cap 2000.00 not reached"));
  EXPECT_THAT(run.out, HasSubstr("5000.00 × 20% = 1000.00；单件上限 2000.00 未达到"));
  EXPECT_THAT(run.out, HasSubstr("reason: GRADE_NOT_ELIGIBLE"));
  EXPECT_THAT(run.out, HasSubstr("Total subsidy  3,000.00 yuan"));
  const std::vector<std::string> table = TableAt(run.out, "LINE");
  ASSERT_GE(table.size(), 4u) << run.out;
  // SUBSIDY is right-aligned: each amount ends where the header does, Chinese names notwithstanding.
  const size_t subsidy_end = EndColumn(table[0], "SUBSIDY");
  ASSERT_GT(subsidy_end, 0u);
  const std::pair<const char*, const char*> rows[] = {
      {"1 ", "1,000.00"}, {"2 ", "2,000.00"}, {"3 ", " 0.00"}};
  int checked = 0;
  for (const std::string& line : table) {
    for (const auto& [prefix, amount] : rows) {
      if (!absl::StartsWith(line, prefix)) continue;
      EXPECT_EQ(EndColumn(line, amount), subsidy_end) << line;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3) << run.out;
}

TEST_F(TradeinctlE2eTest, QuoteJsonParsesAsTheResponse) {
  const CtlRun run = Ctl({"--json", "quote", "--region=330381", "--date=2025-03-01", "--item",
                          "appliance.refrigerator:5000:grade=1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto response = FromJson<v1::QuoteResponse>(run.out);
  EXPECT_EQ(response.policy_id(), "ra-2025");
  EXPECT_EQ(response.total_subsidy_fen(), 100000);
  ASSERT_EQ(response.items_size(), 1);
  EXPECT_EQ(response.items(0).rate_bp(), 2000);
}

TEST_F(TradeinctlE2eTest, RequestJsonIsTheWholeRequest) {
  const CtlRun run = Ctl({"quote", "--request_json",
                          R"({"regionCode":"330381","transactionDate":"2025-03-01","items":[{"lineId":"x",)"
                          R"("productType":"digital.phone","priceFen":"300000"}]})"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out,
              AllOf(HasSubstr("手机"), HasSubstr("450.00"), HasSubstr("Total subsidy  450.00 yuan")));
}

TEST_F(TradeinctlE2eTest, ClaimConfirmGetAndUsage) {
  const std::vector<std::string> claim_args = {"claim",
                                               "--retailer=shop-1",
                                               absl::StrCat("--buyer=", kBuyer),
                                               "--region=330381",
                                               "--date=2025-06-01",
                                               "--request_id=ctl-e2e-1",
                                               "--item",
                                               "appliance.refrigerator:5000:grade=1"};
  std::vector<std::string> json_args = claim_args;
  json_args.insert(json_args.begin(), "--json");
  const CtlRun claimed = Ctl(json_args);
  ASSERT_EQ(claimed.exit_code, 0) << claimed.err;
  const auto claim = FromJson<v1::Claim>(claimed.out);
  ASSERT_EQ(claim.state(), v1::Claim::RESERVED) << claimed.out;
  EXPECT_EQ(claim.total_subsidy_fen(), 100000);
  EXPECT_THAT(claimed.out, Not(HasSubstr(kBuyer)));

  // The same request id again: the same claim, printed for a person.
  const CtlRun retried = Ctl(claim_args);
  ASSERT_EQ(retried.exit_code, 0) << retried.err;
  EXPECT_THAT(retried.out,
              AllOf(HasSubstr(claim.claim_id()), HasSubstr("RESERVED, held until 2025-06-01 10:30"),
                    HasSubstr("冰箱(含冰柜)"), HasSubstr("Subsidy  1,000.00 yuan")));

  const CtlRun confirmed = Ctl({"confirm", claim.claim_id(), "--invoice=INV-0001", "--serials", "1:SN-0001"});
  ASSERT_EQ(confirmed.exit_code, 0) << confirmed.err;
  EXPECT_THAT(confirmed.out, AllOf(HasSubstr("CONFIRMED"), HasSubstr("INV-0001"),
                                   HasSubstr("serials: SN-0001"), HasSubstr("1,000.00")));

  const CtlRun got = Ctl({"--json", "get", claim.claim_id()});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(FromJson<v1::Claim>(got.out).state(), v1::Claim::CONFIRMED);

  const CtlRun usage =
      Ctl({"usage", absl::StrCat("--buyer=", kBuyer), "--region=330381", "--date=2025-06-01"});
  ASSERT_EQ(usage.exit_code, 0) << usage.err;
  bool fridge_row = false;
  for (absl::string_view line : absl::StrSplit(usage.out, '\n')) {
    if (absl::StrContains(line, "冰箱(含冰柜)")) {
      fridge_row = true;
      // used 1, limit 1, left 0.
      const std::vector<absl::string_view> cells = absl::StrSplit(line, ' ', absl::SkipEmpty());
      EXPECT_THAT(cells, ::testing::IsSupersetOf({"appliance-per-type", "cn-2025"})) << line;
      EXPECT_THAT(std::string(line), ::testing::ContainsRegex("cn-2025 +1 +1 +0 ")) << line;
    }
  }
  EXPECT_TRUE(fridge_row) << usage.out;
  EXPECT_THAT(usage.out, HasSubstr("20,000.00"));  // the elderly-friendly cumulative cap, in yuan

  const CtlRun usage_json =
      Ctl({"--json", "usage", absl::StrCat("--buyer=", kBuyer), "--region=330381", "--date=2025-06-01"});
  ASSERT_EQ(usage_json.exit_code, 0) << usage_json.err;
  EXPECT_EQ(FromJson<v1::BuyerUsage>(usage_json.out).programme(), "zj-2025");
}

TEST_F(TradeinctlE2eTest, CancelAndRefund) {
  const CtlRun a = Ctl({"--json", "claim", "--retailer=shop-2", absl::StrCat("--buyer=", kOtherBuyer),
                        "--region=330381", "--date=2025-06-01", "--item", "digital.phone:3000"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const CtlRun cancelled = Ctl({"cancel", FromJson<v1::Claim>(a.out).claim_id(), "--reason=customer left"});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.err;
  EXPECT_THAT(cancelled.out, HasSubstr("CANCELLED"));

  const CtlRun b = Ctl({"--json", "claim", "--retailer=shop-2", absl::StrCat("--buyer=", kOtherBuyer),
                        "--region=330381", "--date=2025-06-01", "--item", "digital.phone:3000:qty=1"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::string id = FromJson<v1::Claim>(b.out).claim_id();
  ASSERT_EQ(Ctl({"confirm", id}).exit_code, 0);
  const CtlRun refunded = Ctl({"refund", id, "--line", "1", "--request_id=refund-1"});
  ASSERT_EQ(refunded.exit_code, 0) << refunded.err;
  EXPECT_THAT(refunded.out, AllOf(HasSubstr("REFUNDED"), HasSubstr("Refunded  450.00 yuan")));
}

TEST_F(TradeinctlE2eTest, PoliciesListsTheShippedPolicies) {
  const CtlRun run = Ctl({"policies"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* id : {"cn-2025", "zj-2025", "ra-2025", "cn-2026", "wz-2026"}) {
    EXPECT_THAT(run.out, HasSubstr(id));
  }
  EXPECT_THAT(run.out, HasSubstr("2025年瑞安市消费品以旧换新"));
  const CtlRun json = Ctl({"--json", "policies", "--region=330381", "--date=2025-03-01"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto list = FromJson<v1::ListPoliciesResponse>(json.out);
  EXPECT_EQ(list.policies_size(), 3);  // Rui'an, Zhejiang and national 2025
}

TEST_F(TradeinctlE2eTest, PolicyShowsTheRulesWithChineseNames) {
  const CtlRun run = Ctl({"policy", "ra-2025"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, AllOf(HasSubstr("Z25-APPL"), HasSubstr("冰箱(含冰柜)"), HasSubstr("ra-2025.textproto"),
                             HasSubstr("RA25-EBIKE")));
  const CtlRun json = Ctl({"--json", "policy", "--region=330381", "--date=2026-03-01"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(FromJson<v1::Policy>(json.out).id(), "wz-2026");
}

TEST_F(TradeinctlE2eTest, BudgetInYuan) {
  const CtlRun run = Ctl({"budget", "--region=330381", "--date=2025-06-01"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, AllOf(HasSubstr("ra-2025-ebike"), HasSubstr("2,000,000.00")));
}

TEST_F(TradeinctlE2eTest, Health) {
  const CtlRun server = Ctl({"health"});
  EXPECT_EQ(server.exit_code, 0) << server.err;
  EXPECT_THAT(server.out, HasSubstr("(server)  SERVING"));
  const CtlRun all = Ctl({"health", "all"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  for (const char* service :
       {"tradein.v1.SubsidyService", "tradein.v1.ClaimService", "tradein.v1.PolicyService"}) {
    EXPECT_THAT(all.out, ::testing::ContainsRegex(absl::StrCat(service, " +SERVING")));
  }
  const CtlRun unknown = Ctl({"health", "no.such.Service"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.out, HasSubstr("SERVICE_UNKNOWN"));
  const CtlRun json = Ctl({"--json", "health", "tradein.v1.SubsidyService"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr(R"("status": "SERVING")"));
}

TEST_F(TradeinctlE2eTest, ErrorsPrintCodeReasonAndField) {
  const CtlRun run =
      Ctl({"quote", "--region=330381", "--date=2025-03-01", "--item", "appliance.fridge:5000"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err,
              AllOf(HasSubstr("INVALID_ARGUMENT"), HasSubstr("reason   UNKNOWN_PRODUCT_TYPE (tradein.v1)"),
                    HasSubstr("中文     items[0].productType：商品品类代码无效 (zh-CN)"),
                    HasSubstr("field    items[0].productType")));
  const CtlRun json = Ctl({"--json", "get", "no-such-claim"});
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_THAT(json.err, AllOf(HasSubstr("NOT_FOUND"), HasSubstr("CLAIM_NOT_FOUND")));
  // Parsing the details' Any needs ErrorInfo's descriptor, which naming the type here also links in.
  const auto status = FromJson<google::rpc::Status>(json.out);
  EXPECT_EQ(status.code(), 5);
  ASSERT_EQ(status.details_size(), 2);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(status.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "CLAIM_NOT_FOUND");
  google::rpc::LocalizedMessage chinese;
  ASSERT_TRUE(status.details(1).UnpackTo(&chinese));
  EXPECT_EQ(chinese.locale(), "zh-CN");
  EXPECT_EQ(chinese.message(), "查无此补贴申领");
}

TEST_F(TradeinctlE2eTest, UnreachableServerIsUnavailable) {
  const CtlRun run =
      RunCtl({absl::StrCat("--server=127.0.0.1:", testing::PickFreePort()), "--deadline=3s", "health"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("UNAVAILABLE"));
}

TEST_F(TradeinctlE2eTest, EnvironmentSetsFlags) {
  const CtlRun run = RunCtl({"health"}, {{"TRADEINCTL_SERVER", server_->address()}});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("SERVING"));
}

TEST(TradeinctlLocalTest, LintTheShippedPolicies) {
  const CtlRun run = RunCtl({"lint", absl::StrCat(TRADEIN_SOURCE_DIR, "/deploy/policies")});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, AllOf(HasSubstr("ok  ra-2025"), HasSubstr("5 policies")));
}

TEST_F(TradeinctlE2eTest, ReloadCallsThePortalServiceOrSaysWhatToDoInstead) {
  const CtlRun run = Ctl({"reload"});
  if (run.exit_code == 0) {
    EXPECT_THAT(run.out, AllOf(HasSubstr("Snapshot"), HasSubstr("ra-2025=")));
  } else {
    // A server without PortalService/ReloadPolicies: the SIGHUP way, and a failure exit.
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_THAT(run.err, AllOf(HasSubstr("not available"), HasSubstr("SIGHUP")));
  }
}

TEST(TradeinctlLocalTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunCtl({}).exit_code, 2);
  EXPECT_EQ(RunCtl({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"confirm"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"--no_such_flag", "health"}).exit_code, 2);
  const CtlRun bad_item =
      RunCtl({"quote", "--region=330381", "--item", "appliance.refrigerator:5000:colour=red"});
  EXPECT_EQ(bad_item.exit_code, 2);
  EXPECT_THAT(bad_item.err, HasSubstr("unknown key \"colour\""));
}

TEST(TradeinctlLocalTest, HelpListsCommandsAndFlags) {
  const CtlRun run = RunCtl({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* word : {"quote", "claim", "confirm", "cancel", "refund", "usage", "budget", "policies",
                           "lint", "health", "reload", "--server=127.0.0.1:50051", "--tls_ca", "--token",
                           "--json", "--deadline=10s", "--item SPEC"}) {
    EXPECT_THAT(run.out, HasSubstr(word));
  }
}

}  // namespace
}  // namespace tradein
