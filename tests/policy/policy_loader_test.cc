// Loading a policy directory: the shipped one loads; a copy with one thing broken is refused whole, and the
// problem names the file, the line and the field and says what is wrong. Then inheritance as merged from the
// shipped files, and the content hash (version).
#include "services/policy/policy_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/policy/policy_problem.h"
#include "services/policy/policy_summary.h"
#include "tests/policy/policy_test_util.h"

namespace tradein::policy {
namespace {

using policy_test::PolicyDirCopy;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Describe(const std::vector<PolicyProblem>& problems) {
  if (problems.empty()) return "(no problems)";
  return absl::StrJoin(problems, "\n",
                       [](std::string* out, const PolicyProblem& p) { absl::StrAppend(out, p.ToString()); });
}

// The index of the rule or quota `id` in the shipped `file`'s own list ("rules" or "quotas"), so that the
// expected field paths follow the files when someone adds or reorders entries.
int OwnIndex(const std::string& file, const std::string& list, const std::string& id) {
  v1::Policy policy;
  const std::string path = policy_test::ShippedPolicyDir() + "/" + file;
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  // Runs while the tests are registered: a -1 in a field path is the sign of a missing entry.
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &policy)) return -1;
  const auto find = [&id](const auto& items) {
    for (int i = 0; i < items.size(); ++i) {
      if (items[i].id() == id) return i;
    }
    return -1;
  };
  return list == "rules" ? find(policy.rules()) : find(policy.quotas());
}

std::string Rule(const std::string& file, const std::string& id) {
  return absl::StrCat("rules[", OwnIndex(file, "rules", id), "]");
}
std::string Quota(const std::string& file, const std::string& id) {
  return absl::StrCat("quotas[", OwnIndex(file, "quotas", id), "]");
}

// One way to break the shipped directory, and the problem the loader must report.
struct Breakage {
  std::string name = {};
  // Edits: in `file`, the one occurrence of `from` becomes `to`.
  struct Edit {
    std::string file;
    std::string from;
    std::string to;
  };
  std::vector<Edit> edits = {};
  std::function<void(const PolicyDirCopy&)> custom = nullptr;  // anything else (new or removed files)

  // The expected problem.
  std::string file = {};
  std::string line_of = {};  // the problem is on the one line of `file` (after the edits) containing this
  int line_offset = 0;       // ... plus this; line_of empty: line 0
  int line_slack = 0;        // or up to this many lines before (a list element: the list's first line)
  std::string field = {};    // exact
  std::string message = {};  // a substring
  size_t problem_count = 1;  // problems in the whole report
};

std::vector<Breakage> Breakages() {
  std::vector<Breakage> b;
  // --- Region windows -----------------------------------------------------------------------------------
  b.push_back({.name = "two national policies in force on 2025-12-01",
               .edits = {{"cn-2026.textproto", "transaction_window {\n  first_day: \"2026-01-01\"",
                          "transaction_window {\n  first_day: \"2025-12-01\""}},
               .file = "cn-2026.textproto",
               .line_of = "transaction_window {",
               .field = "transaction_window",
               .message = "region 000000 would have two policies in force on 2025-12-01: \"cn-2025\""});
  b.push_back({.name = "a second Rui'an 2025 file (window inherited from Zhejiang)",
               .custom =
                   [](const PolicyDirCopy& dir) {
                     dir.Write("ra-2025b.textproto",
                               absl::StrReplaceAll(dir.Read("ra-2025.textproto"),
                                                   {{"id: \"ra-2025\"", "id: \"ra-2025b\""}}));
                   },
               .file = "ra-2025b.textproto",  // no line: the file does not write the window it inherits
               .field = "transaction_window",
               .message = "region 330381 would have two policies in force on 2025-01-01: \"ra-2025\""});
  // --- Unknown product types ----------------------------------------------------------------------------
  b.push_back({.name = "unknown product type in a rule",
               .edits = {{"cn-2025.textproto",
                          "water label; no clause number in the text seen: section named by subject\"\n  }\n"
                          "  product_types: [\n    \"appliance.refrigerator\"",
                          "water label; no clause number in the text seen: section named by subject\"\n  }\n"
                          "  product_types: [\n    \"appliance.fridge\""}},
               .file = "cn-2025.textproto",
               .line_of = "appliance.fridge",
               .line_slack = 1,  // the line of "product_types: [" is as good
               .field = Rule("cn-2025.textproto", "N25-APPL") + ".product_types[0]",
               .message = "unknown product type \"appliance.fridge\""});
  b.push_back(
      {.name = "unknown product type in a quota",
       .edits = {{"cn-2025.textproto",
                  "[\"digital.phone\", \"digital.tablet\", \"digital.smartwatch\"]\n  per_product_type",
                  "[\"digital.mobile\", \"digital.tablet\", \"digital.smartwatch\"]\n  per_product_type"}},
       .file = "cn-2025.textproto",
       .line_of = "digital.mobile",
       .field = Quota("cn-2025.textproto", "digital-per-type") + ".product_types[0]",
       .message = "unknown product type \"digital.mobile\""});
  // A list element after the first: the problem must point at the list (its first line or the element's),
  // not at the enclosing rule or quota, nor at no line at all.
  b.push_back({.name = "line of the 12th product type of a multi-line list",
               .edits = {{"cn-2025.textproto", "\"appliance.rice_cooker\"\n  ]\n  percentage",
                          "\"appliance.rice_cookr\"\n  ]\n  percentage"}},
               .file = "cn-2025.textproto",
               .line_of = "appliance.rice_cookr",
               .line_slack = 3,  // the line of "product_types: [" is as good
               .field = Rule("cn-2025.textproto", "N25-APPL") + ".product_types[11]",
               .message = "unknown product type \"appliance.rice_cookr\""});
  b.push_back({.name = "line of the 3rd product type of a one-line list",
               .edits = {{"cn-2025.textproto", "\"digital.smartwatch\"]\n  per_product_type",
                          "\"digital.smartband\"]\n  per_product_type"}},
               .file = "cn-2025.textproto",
               .line_of = "digital.smartband",
               .field = Quota("cn-2025.textproto", "digital-per-type") + ".product_types[2]",
               .message = "unknown product type \"digital.smartband\""});
  b.push_back({.name = "unknown product type in a budget",
               .edits = {{"ra-2025.textproto", "product_types: [\"ebike.new\"]\n}",
                          "product_types: [\"ebike.old\"]\n}"}},
               .file = "ra-2025.textproto",
               .line_of = "ebike.old",
               .field = "budgets[0].product_types[0]",
               .message = "unknown product type \"ebike.old\""});
  b.push_back({.name = "unknown product type in the ungraded list",
               .edits = {{"zj-2025.textproto", "product_types: [\"appliance.projector\"]",
                          "product_types: [\"appliance.beamer\"]"}},
               .file = "zj-2025.textproto",
               .line_of = "appliance.beamer",
               .field = Rule("zj-2025.textproto", "Z25-APPL") + ".percentage.ungraded.product_types[0]",
               .message = "\"appliance.beamer\""});
  b.push_back({.name = "unknown product type in a unit override",
               .edits = {{"zj-2025.textproto", "product_type: \"appliance.air_conditioner\"",
                          "product_type: \"appliance.aircon\""}},
               .file = "zj-2025.textproto",
               .line_of = "appliance.aircon",
               .field = Quota("zj-2025.textproto", "appliance-per-type") + ".unit_overrides[0].product_type",
               .message = "\"appliance.aircon\""});
  // --- Numbers ------------------------------------------------------------------------------------------
  b.push_back({.name = "tiers out of order",
               .edits = {{"zj-2025.textproto", "min_price_fen: 10000000\n      amount_fen: 1000000\n",
                          "min_price_fen: 4000000\n      amount_fen: 1000000\n"}},
               .file = "zj-2025.textproto",
               .line_of = "min_price_fen: 4000000",
               .field = Rule("zj-2025.textproto", "Z25-REPL-FUEL") + ".tiers.tiers[1].min_price_fen",
               .message = "tiers out of order"});
  b.push_back({.name = "two tiers with the same lower bound",
               .edits = {{"zj-2025.textproto", "min_price_fen: 20000000\n      amount_fen: 1500000\n",
                          "min_price_fen: 10000000\n      amount_fen: 1500000\n"}},
               .file = "zj-2025.textproto",
               .line_of = "新能源乘用车 20万元(含)以上",
               .line_offset = -4,
               .field = Rule("zj-2025.textproto", "Z25-REPL-NEV") + ".tiers.tiers[2].min_price_fen",
               .message = "strictly ascending"});
  b.push_back({.name = "rate above 10000 bp",
               .edits = {{"cn-2026.textproto", "\n      bp: 1500\n", "\n      bp: 10001\n"}},
               .file = "cn-2026.textproto",
               .line_of = "bp: 10001",
               .field = Rule("cn-2026.textproto", "N26-DIG") + ".percentage.other_rate.bp",
               .message = "10001 bp is outside 0 .. 10000"});
  b.push_back({.name = "rate below 0",
               .edits = {{"cn-2026.textproto", "rate_bp: 1500", "rate_bp: -1"}},
               .file = "cn-2026.textproto",
               .line_of = "rate_bp: -1",
               .field = Rule("cn-2026.textproto", "N26-APPL") + ".percentage.grade_rates[0].rate_bp",
               .message = "-1 bp is outside 0 .. 10000"});
  b.push_back(
      {.name = "ungraded rate above 10000 bp",
       .edits = {{"zj-2025.textproto", "product_types: [\"appliance.projector\"]\n      rate_bp: 1500",
                  "product_types: [\"appliance.projector\"]\n      rate_bp: 15000"}},
       .file = "zj-2025.textproto",
       .line_of = "rate_bp: 15000",
       .field = Rule("zj-2025.textproto", "Z25-APPL") + ".percentage.ungraded.rate_bp",
       .message = "15000 bp is outside 0 .. 10000"});
  b.push_back({.name = "cap below zero",
               .edits = {{"cn-2026.textproto", "fen: 150000\n", "fen: -1\n"}},
               .file = "cn-2026.textproto",
               .line_of = "fen: -1",
               .field = Rule("cn-2026.textproto", "N26-APPL") + ".percentage.cap.fen",
               .message = "-1 is outside 0 .. 10000000000 fen"});
  // The bounds that keep the ledger's sums exact in Redis's Lua numbers (common/money.h), at their edges.
  b.push_back({.name = "a per-unit cap above 100 million yuan",
               .edits = {{"cn-2026.textproto", "fen: 150000\n", "fen: 10000000001\n"}},
               .file = "cn-2026.textproto",
               .line_of = "fen: 10000000001",
               .field = Rule("cn-2026.textproto", "N26-APPL") + ".percentage.cap.fen",
               .message = "10000000001 is outside 0 .. 10000000000 fen"});
  b.push_back({.name = "a flat amount above 100 million yuan",
               .edits = {{"cn-2025.textproto", "amount_fen: 2000000\n", "amount_fen: 10000000001\n"}},
               .file = "cn-2025.textproto",
               .line_of = "amount_fen: 10000000001",
               .field = Rule("cn-2025.textproto", "N25-SCRAP-NEV") + ".flat.amount_fen",
               .message = "10000000001 is outside 0 .. 10000000000 fen"});
  b.push_back({.name = "a budget above 10 trillion yuan",
               .edits = {{"ra-2025.textproto", "total_fen: 200000000\n", "total_fen: 1000000000000001\n"}},
               .file = "ra-2025.textproto",
               .line_of = "total_fen: 1000000000000001",
               .field = "budgets[0].total_fen",
               .message = "1000000000000001 is outside 0 .. 1000000000000000 fen"});
  b.push_back({.name = "a number whose ref has no document",
               .edits = {{"cn-2026.textproto",
                          "fen: 50000\n      ref {\n        document: \"商办流通函〔2025〕469号; "
                          "发改环资〔2025〕1745号\"\n",
                          "fen: 50000\n      ref {\n"}},
               .file = "cn-2026.textproto",
               .line_of = "fen: 50000",
               .line_offset = 1,
               .field = Rule("cn-2026.textproto", "N26-DIG") + ".percentage.cap.ref.document",
               .message = "every number needs its legal reference (ref.document)"});
  b.push_back({.name = "a number without any ref",
               .edits = {{"cn-2025.textproto",
                          "fen: 600000\n      ref {\n        document: \"商办流通函〔2025〕7号\"\n"
                          "        article: \"补贴范围: 单件销售价格不超过6000元\"\n"
                          "        note: \"decision D2: inclusive, 6,000.00 qualifies and 6,000.01 does not; "
                          "no clause number "
                          "in the text seen: section named by subject\"\n"
                          "      }\n",
                          "fen: 600000\n"}},
               .file = "cn-2025.textproto",
               .line_of = "max_price {",
               .field = Rule("cn-2025.textproto", "N25-DIG") + ".eligibility.max_price.ref.document",
               .message = "legal reference"});
  b.push_back({.name = "hold time of 0 s",
               .edits = {{"cn-2025.textproto", "seconds: 1800", "seconds: 0"}},
               .file = "cn-2025.textproto",
               .line_of = "seconds: 0",
               .field = "hold.seconds",
               .message = "0 is outside 1 .. 604800 seconds"});
  // --- Dates --------------------------------------------------------------------------------------------
  b.push_back({.name = "first_day after last_day",
               .edits = {{"cn-2025.textproto", "first_day: \"2025-01-20\"\n    last_day: \"2025-12-31\"",
                          "first_day: \"2025-01-20\"\n    last_day: \"2025-01-19\""}},
               .file = "cn-2025.textproto",
               .line_of = "last_day: \"2025-01-19\"",
               .field = Rule("cn-2025.textproto", "N25-DIG") + ".transaction_window.last_day",
               .message = "window ends (2025-01-19) before it starts (2025-01-20)"});
  b.push_back({.name = "an impossible date",
               .edits = {{"zj-2025.textproto", "day: \"2023-01-01\"", "day: \"2025-02-30\""}},
               .file = "zj-2025.textproto",
               .line_of = "2025-02-30",
               .field = Rule("zj-2025.textproto", "Z25-RENO") + ".eligibility.home.completed_before.day",
               .message = "\"2025-02-30\" is not a date"});
  b.push_back({.name = "a date in another format",
               .edits = {{"wz-2026.textproto", "programme: \"wz-2026\"\n",
                          "programme: \"wz-2026\"\nclaim_window {\n  first_day: \"2026-1-1\"\n"
                          "  last_day: \"2026-12-31\"\n  ref { document: \"test\" article: \"t\" }\n}\n"}},
               .file = "wz-2026.textproto",
               .line_of = "2026-1-1",
               .field = "claim_window.first_day",
               .message = "\"2026-1-1\" is not a date"});
  // --- Ids ----------------------------------------------------------------------------------------------
  b.push_back({.name = "duplicate rule id",
               .edits = {{"cn-2026.textproto", "id: \"N26-DIG\"", "id: \"N26-APPL\""}},
               .file = "cn-2026.textproto",
               .line_of = "title: \"Phones, tablets, smartwatches, smart glasses",
               .line_offset = -1,
               .field = Rule("cn-2026.textproto", "N26-DIG") + ".id",
               .message = "duplicate id \"N26-APPL\""});
  b.push_back({.name = "duplicate quota id",
               .edits = {{"cn-2026.textproto", "id: \"digital-per-type\"", "id: \"appliance-per-type\""}},
               .file = "cn-2026.textproto",
               .line_of = "title: \"Digital and smart products: one per category per person\"",
               .line_offset = -1,
               .field = Quota("cn-2026.textproto", "digital-per-type") + ".id",
               .message = "duplicate id \"appliance-per-type\""});
  b.push_back({.name = "duplicate budget id",
               .edits = {{"ra-2025.textproto", "product_types: [\"ebike.new\"]\n}\n",
                          "product_types: [\"ebike.new\"]\n}\n\nbudgets {\n  id: \"ra-2025-ebike\"\n"
                          "  title: \"second budget\"\n  ref { document: \"test\" article: \"t\" }\n  "
                          "total_fen: 100\n}\n"}},
               .file = "ra-2025.textproto",
               .line_of = "second budget",
               .line_offset = -1,
               .field = "budgets[1].id",
               .message = "duplicate id \"ra-2025-ebike\""});
  b.push_back(
      {.name = "duplicate policy id across files",
       .custom =
           [](const PolicyDirCopy& dir) { dir.Write("zz-copy.textproto", dir.Read("cn-2026.textproto")); },
       .file = "zz-copy.textproto",
       .line_of = "id: \"cn-2026\"",
       .field = "id",
       .message = "policy id \"cn-2026\" is also used by cn-2026.textproto"});
  // --- Inheritance --------------------------------------------------------------------------------------
  b.push_back({.name = "inherits a missing policy",
               .edits = {{"wz-2026.textproto", "inherits: \"cn-2026\"", "inherits: \"cn-2027\""}},
               .file = "wz-2026.textproto",
               .line_of = "inherits:",
               .field = "inherits",
               .message = "no policy \"cn-2027\" to inherit from"});
  b.push_back({.name = "a mid-chain policy inherits a missing policy (reported once)",
               .edits = {{"zj-2025.textproto", "inherits: \"cn-2025\"", "inherits: \"cn-2024\""}},
               .file = "zj-2025.textproto",
               .line_of = "inherits:",
               .field = "inherits",
               .message = "no policy \"cn-2024\" to inherit from"});
  b.push_back({.name = "an inheritance cycle",
               .edits = {{"cn-2026.textproto", "region_code: \"000000\"\n",
                          "region_code: \"000000\"\ninherits: \"wz-2026\"\n"}},
               .file = "cn-2026.textproto",
               .line_of = "inherits:",
               .field = "inherits",
               .message = "inheritance cycle",
               .problem_count = 1});  // once, naming the whole chain
  b.push_back({.name = "removed_rule_ids names a rule the parent lacks",
               .edits = {{"ra-2025.textproto", "removed_rule_ids: [\"ZJ25-EBIKE-EXAMPLE\"]",
                          "removed_rule_ids: [\"N25-APPL\", \"ZJ25-EBIKE-EXAMPLE\"]"}},
               .file = "ra-2025.textproto",
               .line_of = "removed_rule_ids:",
               .field = "removed_rule_ids[0]",
               .message = "\"N25-APPL\" is not in the parent policy"});
  b.push_back({.name = "line of the 2nd entry of removed_rule_ids",
               .edits = {{"ra-2025.textproto", "removed_rule_ids: [\"ZJ25-EBIKE-EXAMPLE\"]",
                          "removed_rule_ids: [\"ZJ25-EBIKE-EXAMPLE\", \"N25-APPL\"]"}},
               .file = "ra-2025.textproto",
               .line_of = "removed_rule_ids:",
               .field = "removed_rule_ids[1]",
               .message = "\"N25-APPL\" is not in the parent policy"});
  b.push_back({.name = "line of the 3rd entry of removed_quota_ids",
               .edits = {{"wz-2026.textproto", "inherits: \"cn-2026\"\n",
                          "inherits: \"cn-2026\"\nremoved_quota_ids: [\"appliance-per-type\", "
                          "\"digital-per-type\", \"car-old-car\"]\n"}},
               .file = "wz-2026.textproto",
               .line_of = "removed_quota_ids:",
               .field = "removed_quota_ids[2]",
               .message = "\"car-old-car\" is not in the parent policy"});
  b.push_back(
      {.name = "a quota names a missing rule (reported once, in the file that has the quota)",
       .edits = {{"zj-2025.textproto", "rule_ids: [\"Z25-REPL-NEV\", \"Z25-REPL-FUEL\"]\n  max_units: 1",
                  "rule_ids: [\"Z25-REPL-PHEV\", \"Z25-REPL-FUEL\"]\n  max_units: 1"}},
       .file = "zj-2025.textproto",
       .line_of = "Z25-REPL-PHEV",
       .field = Quota("zj-2025.textproto", "car-replacement") + ".rule_ids[0]",
       .message = "no rule \"Z25-REPL-PHEV\" in the merged policy"});
  b.push_back({.name = "a child removes a rule an inherited quota names",
               .edits = {{"ra-2025.textproto", "removed_rule_ids: [\"ZJ25-EBIKE-EXAMPLE\"]",
                          "removed_rule_ids: [\"ZJ25-EBIKE-EXAMPLE\", \"Z25-REPL-FUEL\"]"}},
               .file = "ra-2025.textproto",
               .line_of = "removed_rule_ids:",
               .field = "removed_rule_ids[1]",
               .message = "car-replacement",
               .problem_count = 3});  // car-replacement, car-replacement-per-year and car-old-vehicle name it
  b.push_back({.name = "a child window outside the parent's",
               .edits = {{"wz-2026.textproto", "programme: \"wz-2026\"\n",
                          "programme: \"wz-2026\"\ntransaction_window {\n  first_day: \"2026-01-01\"\n"
                          "  last_day: \"2027-01-31\"\n  ref { document: \"test\" article: \"t\" }\n}\n"}},
               .file = "wz-2026.textproto",
               .line_of = "transaction_window {",
               .field = "transaction_window",
               .message = "must lie inside the parent's window 2026-01-01 .. 2026-12-31"});
  b.push_back({.name = "a rule window outside the policy's",
               .edits = {{"cn-2025.textproto", "first_day: \"2025-01-20\"", "first_day: \"2024-12-20\""}},
               .file = "cn-2025.textproto",
               .line_of = "first_day: \"2024-12-20\"",
               .line_offset = -1,
               .field = Rule("cn-2025.textproto", "N25-DIG") + ".transaction_window",
               .message = "must lie inside the policy's transaction window"});
  b.push_back(
      {.name = "a child rule shadowed by an inherited one",
       .edits = {{"ra-2025.textproto", "\nbudgets {",
                  "\nrules {\n  id: \"RA25-BED\"\n  ref { document: \"test\" article: \"t\" }\n"
                  "  product_types: [\"furniture.bed\"]\n"
                  "  flat { amount_fen: 100 ref { document: \"test\" article: \"t\" } }\n}\n\nbudgets {"}},
       .file = "ra-2025.textproto",
       .line_of = "product_types: [\"furniture.bed\"]",
       .field = "rules[1].product_types",
       .message = "already priced by an earlier rule"});
  b.push_back(
      {.name = "a rule shadowed in the same file",
       .edits = {{"cn-2026.textproto", "\n# Quotas.",
                  "\nrules {\n  id: \"N26-PHONE\"\n  ref { document: \"test\" article: \"t\" }\n"
                  "  product_types: [\"digital.phone\"]\n"
                  "  flat { amount_fen: 100 ref { document: \"test\" article: \"t\" } }\n}\n# Quotas."}},
       .file = "cn-2026.textproto",
       .line_of = "product_types: [\"digital.phone\"]",
       .field =
           absl::StrCat("rules[", OwnIndex("cn-2026.textproto", "rules", "N26-DIG") + 1, "].product_types"),
       .message = "already priced by an earlier rule"});
  // --- Field-level overrides ----------------------------------------------------------------------------
  const auto append = [](std::string file, std::string text) {
    return [file, text](const PolicyDirCopy& dir) { dir.Write(file, dir.Read(file) + text); };
  };
  const int ra_rules = OwnIndex("ra-2025.textproto", "rules", "RA25-EBIKE") + 1;  // the file's own rules
  b.push_back(
      {.name = "an override of a plain field that does not restate the entry's ref",
       .custom = append("ra-2025.textproto", "\nquotas {\n  id: \"ebike\"\n  max_units: 2  # no ref\n}\n"),
       .file = "ra-2025.textproto",
       .line_of = "max_units: 2  # no ref",
       .field = "quotas[0].max_units",
       .message = "overrides max_units of the parent's quota \"ebike\": restate its ref too"});
  b.push_back(
      {.name = "an override of a number without its ref",
       .custom = append("ra-2025.textproto",
                        "\nrules {\n  id: \"Z25-APPL\"\n  percentage { cap { fen: 150000 } }  # no ref\n}\n"),
       .file = "ra-2025.textproto",
       .line_of = "# no ref",
       .field = absl::StrCat("rules[", ra_rules, "].percentage.cap.ref.document"),
       .message = "every number needs its legal reference (ref.document)"});
  b.push_back(
      {.name = "an override naming an id the parent lacks is a new, incomplete rule",
       .custom = append("ra-2025.textproto",
                        "\nrules {\n  id: \"Z25-APPX\"\n"
                        "  percentage { cap { fen: 1 ref { document: \"t\" article: \"t\" } } }\n}\n"),
       .file = "ra-2025.textproto",
       .line_of = "id: \"Z25-APPX\"",
       .line_offset = -1,
       .field = absl::StrCat("rules[", ra_rules, "].ref.document"),
       .message = "(the parent has no rule \"Z25-APPX\" to override)",
       .problem_count = 3});  // and no product types, no rate
  b.push_back({.name = "an override that breaks what it inherits is reported in the child",
               .custom = append("ra-2025.textproto",
                                "\nrules {\n  id: \"Z25-APPL\"\n  ref { document: \"t\" article: \"t\" }\n"
                                "  product_types: [\"appliance.refrigerator\"]\n}\n"),
               .file = "ra-2025.textproto",
               .line_of = "id: \"Z25-APPL\"",
               .line_offset = -1,  // the inherited list is not in the child's text: the override's first line
               .field = absl::StrCat("rules[", ra_rules, "].percentage.ungraded.product_types[0]"),
               .message = "\"appliance.projector\" is not one of the rule's product types"});
  b.push_back({.name = "once_per_new_vehicle on a quota of e-bikes",
               .custom = append(
                   "ra-2025.textproto",
                   "\nquotas {\n  id: \"ebike-new\"\n  ref { document: \"t\" article: \"t\" }\n"
                   "  product_types: [\"ebike.new\"]  # not a car\n"
                   "  once_per_new_vehicle { required: true ref { document: \"t\" article: \"t\" } }\n}\n"),
               .file = "ra-2025.textproto",
               .line_of = "# not a car",
               .field = "quotas[0].product_types[0]",
               .message = "once_per_new_vehicle counts cars only"});
  b.push_back(
      {.name = "a calendar-year limit of zero",
       .custom = append(
           "ra-2025.textproto",
           "\nquotas {\n  id: \"cy\"\n  ref { document: \"t\" article: \"t\" }\n"
           "  rule_ids: [\"Z25-REPL-NEV\"]\n"
           "  per_calendar_year {\n    max_units: 0\n    ref { document: \"t\" article: \"t\" }\n  }\n}\n"),
       .file = "ra-2025.textproto",
       .line_of = "max_units: 0",
       .field = "quotas[0].per_calendar_year.max_units",
       .message = "must be at least 1"});
  b.push_back({.name = "a ref that does not say where in the document",
               .edits = {{"cn-2025.textproto", "        article: \"补贴标准: 每件不超过500元\"\n", ""}},
               .file = "cn-2025.textproto",
               .line_of = "fen: 50000",
               .line_offset = 1,
               .field = Rule("cn-2025.textproto", "N25-DIG") + ".percentage.cap.ref.article",
               .message = "names where in the document"});
  // --- Rule shape ---------------------------------------------------------------------------------------
  b.push_back({.name = "a car rule without trade_in_kind",
               .edits = {{"cn-2026.textproto", "trade_in_kind: REPLACEMENT\n  new_energy_type: FUEL\n",
                          "new_energy_type: FUEL\n"}},
               .file = "cn-2026.textproto",
               .line_of = "id: \"N26-REPL-FUEL\"",
               .line_offset = -1,
               .field = Rule("cn-2026.textproto", "N26-REPL-FUEL") + ".trade_in_kind",
               .message = "a car rule needs trade_in_kind"});
  b.push_back({.name = "trade_in_kind on a rule that is not for cars",
               .edits = {{"cn-2026.textproto", "id: \"N26-DIG\"\n",
                          "id: \"N26-DIG\"\n  trade_in_kind: SCRAPPAGE  # not a car rule\n"}},
               .file = "cn-2026.textproto",
               .line_of = "# not a car rule",
               .field = Rule("cn-2026.textproto", "N26-DIG") + ".trade_in_kind",
               .message = "only car rules set trade_in_kind"});
  b.push_back({.name = "vehicle conditions on a rule that is not for cars",
               .edits = {{"cn-2026.textproto", "eligibility {\n    max_price {",
                          "eligibility {\n    vehicle { new_displacement { max_ml: 2000 ref { document: "
                          "\"x\" article: \"x\" } } }\n"
                          "    max_price {"}},
               .file = "cn-2026.textproto",
               .line_of = "vehicle { new_displacement",
               .field = Rule("cn-2026.textproto", "N26-DIG") + ".eligibility.vehicle",
               .message = "vehicle conditions on a rule whose product types are not cars"});
  // --- Syntax -------------------------------------------------------------------------------------------
  b.push_back({.name = "a syntax error",
               .edits = {{"wz-2026.textproto", "title: \"Wenzhou consumer trade-in programme 2026\"",
                          "title \"Wenzhou consumer trade-in programme 2026\""}},
               .file = "wz-2026.textproto",
               .line_of = "title \"Wenzhou",
               .field = "",
               .message = "Expected \":\""});
  b.push_back(
      {.name = "an unknown field",
       .edits = {{"wz-2026.textproto", "inherits: \"cn-2026\"\n", "inherits: \"cn-2026\"\nbogus_field: 1\n"}},
       .file = "wz-2026.textproto",
       .line_of = "bogus_field",
       .field = "",
       .message = "bogus_field"});
  b.push_back({.name = "an unknown enum value",
               .edits = {{"wz-2026.textproto", "inherits: \"cn-2026\"\n",
                          "inherits: \"cn-2026\"\nrounding { unit: JIAO mode: FLOOR ref { document: \"x\" "
                          "article: \"x\" } }\n"}},
               .file = "wz-2026.textproto",
               .line_of = "JIAO",
               .field = "",
               .message = "JIAO"});
  // --- Output-only fields and root settings -------------------------------------------------------------
  b.push_back({.name = "version set in a file",
               .edits = {{"wz-2026.textproto", "inherits: \"cn-2026\"\n",
                          "inherits: \"cn-2026\"\nversion: \"0123456789abcdef\"\n"}},
               .file = "wz-2026.textproto",
               .line_of = "version:",
               .field = "version",
               .message = "is filled by the server; a file must not set it"});
  b.push_back({.name = "source_files set in a file",
               .edits = {{"wz-2026.textproto", "inherits: \"cn-2026\"\n",
                          "inherits: \"cn-2026\"\nsource_files: \"wz-2026.textproto\"\n"}},
               .file = "wz-2026.textproto",
               .line_of = "source_files:",
               .field = "source_files",
               .message = "is filled by the server; a file must not set it"});
  b.push_back({.name = "a root policy without a programme",
               .edits = {{"cn-2026.textproto", "\nprogramme: \"cn-2026\"\n", "\n"}},
               .file = "cn-2026.textproto",
               .field = "programme",
               .message = "a root policy needs a programme"});
  // --- The catalogue ------------------------------------------------------------------------------------
  b.push_back({.name = "a missing catalogue",
               .custom = [](const PolicyDirCopy& dir) { dir.Remove("product_types.textproto"); },
               .file = "product_types.textproto",
               .field = "",
               .message = "cannot read the product catalogue"});
  b.push_back(
      {.name = "a catalogue with a syntax error",
       .edits = {{"product_types.textproto", "code: \"car.new\"   name:", "code \"car.new\"   name:"}},
       .file = "product_types.textproto",
       .line_of = "code \"car.new\"",
       .field = "",
       .message = "Expected \":\""});
  return b;
}

int ExpectedLine(const PolicyDirCopy& dir, const Breakage& b) {
  if (b.line_of.empty()) return 0;
  const int line = dir.LineOf(b.file, b.line_of);
  EXPECT_NE(line, 0) << "\"" << b.line_of << "\" is not on exactly one line of " << b.file;
  return line + b.line_offset;
}

void PrintTo(const Breakage& b, std::ostream* out) { *out << b.name; }

std::string TestName(const ::testing::TestParamInfo<Breakage>& info) {
  std::string name;
  for (char c : info.param.name) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      name.push_back(c);
    } else if (!name.empty() && name.back() != '_') {
      name.push_back('_');
    }
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  return name;
}

class BrokenDirectoryTest : public ::testing::TestWithParam<Breakage> {};

// Copy the shipped directory, break one thing, load: the snapshot is refused and the problem names the file,
// the line and the field and says what is wrong.
TEST_P(BrokenDirectoryTest, IsRefusedWithFileLineAndField) {
  const Breakage& b = GetParam();
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  for (const Breakage::Edit& e : b.edits) ASSERT_TRUE(dir.Replace(e.file, e.from, e.to));
  if (b.custom) b.custom(dir);
  const int line = ExpectedLine(dir, b);

  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  EXPECT_EQ(report.snapshot, nullptr);
  const auto matches = [&](const PolicyProblem& p) {
    return p.file == b.file && p.line <= line && p.line >= line - b.line_slack && p.field == b.field &&
           absl::StrContains(p.message, b.message);
  };
  const auto match = std::find_if(report.problems.begin(), report.problems.end(), matches);
  EXPECT_TRUE(match != report.problems.end())
      << "want " << b.file << ":" << (b.line_slack > 0 ? absl::StrCat(line - b.line_slack, "..") : "") << line
      << ": " << b.field << ": ..." << b.message << "...\ngot\n"
      << Describe(report.problems);
  EXPECT_EQ(report.problems.size(), b.problem_count) << Describe(report.problems);

  // The status form says the same, "file:line: field: message".
  const absl::StatusOr<std::shared_ptr<const PolicySnapshot>> status =
      LoadPolicyDirectory(dir.path(), absl::Now());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument);
  if (match != report.problems.end()) {
    EXPECT_THAT(std::string(status.status().message()), HasSubstr(match->ToString()));
  }
}

INSTANTIATE_TEST_SUITE_P(ShippedPolicies, BrokenDirectoryTest, ::testing::ValuesIn(Breakages()), TestName);

TEST(PolicyLoaderTest, ShippedDirectoryLoads) {
  const PolicyLoadReport report = LoadPolicyDirectoryReport(policy_test::ShippedPolicyDir(), absl::Now());
  EXPECT_THAT(report.problems, IsEmpty()) << Describe(report.problems);
  ASSERT_NE(report.snapshot, nullptr);
  EXPECT_EQ(report.snapshot->policies().size(), 5u);
  for (const auto& policy : report.snapshot->policies()) {
    EXPECT_EQ(policy->version().size(), 16u) << policy->id();
    EXPECT_EQ(policy->version().find_first_not_of("0123456789abcdef"), std::string::npos) << policy->id();
    EXPECT_EQ(policy->version(), PolicyContentHash(policy->proto())) << policy->id();
  }
  const absl::StatusOr<std::shared_ptr<const PolicySnapshot>> loaded =
      LoadPolicyDirectory(policy_test::ShippedPolicyDir(), absl::Now());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->version(), report.snapshot->version());
}

// The largest amounts the ledger keeps exact (common/money.h) load; one fen more is refused (table above).
TEST(PolicyLoaderTest, AmountsAtTheExactnessBoundsLoad) {
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  ASSERT_TRUE(dir.Replace("ra-2025.textproto", "total_fen: 200000000\n", "total_fen: 1000000000000000\n"));
  ASSERT_TRUE(dir.Replace("cn-2025.textproto", "amount_fen: 2000000\n", "amount_fen: 10000000000\n"));
  ASSERT_TRUE(dir.Replace("cn-2026.textproto", "fen: 150000\n", "fen: 10000000000\n"));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  EXPECT_THAT(report.problems, IsEmpty()) << Describe(report.problems);
  EXPECT_NE(report.snapshot, nullptr);
}

TEST(PolicyLoaderTest, ACopyLoadsWithTheSameVersionsAndIgnoresOtherFiles) {
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  dir.Write("notes.txt", "not a policy {{{");
  dir.Write("zj-2025.textproto.orig", "not a policy {{{");
  std::filesystem::create_directory(std::filesystem::path(dir.path()) / "old");
  dir.Write("old/broken.textproto", "not a policy {{{");
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  EXPECT_THAT(report.problems, IsEmpty()) << Describe(report.problems);
  ASSERT_NE(report.snapshot, nullptr);
  const auto shipped = policy_test::ShippedSnapshot();
  ASSERT_NE(shipped, nullptr);
  EXPECT_EQ(report.snapshot->version(), shipped->version());
  EXPECT_EQ(report.snapshot->directory(), dir.path());
}

TEST(PolicyLoaderTest, OneBrokenFileRefusesTheWholeDirectory) {
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  // wz-2026 is a leaf: nothing inherits from it, every other file is fine on its own.
  ASSERT_TRUE(
      dir.Replace("wz-2026.textproto", "inherits: \"cn-2026\"\n",
                  "inherits: \"cn-2026\"\nhold { seconds: -5 ref { document: \"x\" article: \"x\" } }\n"));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  EXPECT_EQ(report.snapshot, nullptr);
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report.problems);
  EXPECT_EQ(report.problems[0].file, "wz-2026.textproto");
  EXPECT_EQ(report.problems[0].field, "hold.seconds");
  EXPECT_EQ(report.problems[0].line, dir.LineOf("wz-2026.textproto", "hold {"));
  EXPECT_FALSE(LoadPolicyDirectory(dir.path(), absl::Now()).ok());
}

TEST(PolicyLoaderTest, EveryProblemIsReportedInFileOrder) {
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  ASSERT_TRUE(dir.Replace("zj-2025.textproto", "day: \"2023-01-01\"", "day: \"2023-02-29\""));
  ASSERT_TRUE(dir.Replace("cn-2026.textproto", "fen: 150000\n", "fen: -1\n"));
  ASSERT_TRUE(dir.Replace("cn-2026.textproto", "rate_bp: 1500", "rate_bp: 10001"));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  EXPECT_EQ(report.snapshot, nullptr);
  std::vector<std::string> seen;
  for (const PolicyProblem& p : report.problems) seen.push_back(absl::StrCat(p.file, " ", p.field));
  const std::string appl = Rule("cn-2026.textproto", "N26-APPL");
  EXPECT_THAT(seen, ElementsAre("cn-2026.textproto " + appl + ".percentage.grade_rates[0].rate_bp",
                                "cn-2026.textproto " + appl + ".percentage.cap.fen",
                                "zj-2025.textproto " + Rule("zj-2025.textproto", "Z25-RENO") +
                                    ".eligibility.home.completed_before.day"));
}

// Found by tests/fuzz policy_fuzzer: text format takes "\xff" in a string, which then could not be
// serialised cleanly (a libprotobuf error line in the log, clients refusing the policy).
TEST(PolicyLoaderTest, AStringThatIsNotUtf8IsRefusedWithItsFieldAndLine) {
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  ASSERT_TRUE(dir.Replace("wz-2026.textproto", "  note: \"[C-news] amounts identical",
                          "  note: \"\\xff amounts identical"));
  ASSERT_TRUE(dir.Replace("product_types.textproto", "code: \"car.new\"", "code: \"car.new\\xc3\""));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  EXPECT_EQ(report.snapshot, nullptr);
  ASSERT_EQ(report.problems.size(), 2u) << Describe(report.problems);
  EXPECT_EQ(report.problems[0].file, "product_types.textproto");
  EXPECT_THAT(report.problems[0].field, HasSubstr(".code"));
  EXPECT_THAT(report.problems[0].message, HasSubstr("UTF-8"));
  EXPECT_EQ(report.problems[1].file, "wz-2026.textproto");
  EXPECT_EQ(report.problems[1].field, "ref.note");
  EXPECT_EQ(report.problems[1].line, dir.LineOf("wz-2026.textproto", "xff amounts identical"));
  EXPECT_THAT(report.problems[1].message, HasSubstr("UTF-8"));
}

// Found by tests/fuzz policy_fuzzer: the parser's messages quote the bytes they stumbled on, and problems
// go to JSON log lines and terminals.
TEST(PolicyLoaderTest, AParseErrorShowsBytesThatAreNotUtf8Escaped) {
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  ASSERT_TRUE(dir.Replace("wz-2026.textproto", "region_code: \"330300\"", "region_code \xff\xfe \"330300\""));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  EXPECT_EQ(report.snapshot, nullptr);
  ASSERT_FALSE(report.problems.empty());
  bool quoted = false;
  for (const PolicyProblem& problem : report.problems) {
    EXPECT_EQ(problem.file, "wz-2026.textproto");
    EXPECT_EQ(problem.message.find_first_of("\xff\xfe"), std::string::npos) << problem.message;
    quoted = quoted || absl::StrContains(problem.message, "found \"\\xff");
  }
  EXPECT_TRUE(quoted) << Describe(report.problems);
}

TEST(PolicyLoaderTest, ADirectoryWithoutPolicyFilesIsRefused) {
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  for (const char* file : {"cn-2025.textproto", "cn-2026.textproto", "zj-2025.textproto", "ra-2025.textproto",
                           "wz-2026.textproto"}) {
    dir.Remove(file);
  }
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  EXPECT_EQ(report.snapshot, nullptr);
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report.problems);
  EXPECT_THAT(report.problems[0].message, HasSubstr("no policy files"));
  EXPECT_FALSE(LoadPolicyDirectoryReport("/nonexistent/tradein-policies", absl::Now()).problems.empty());
}

// Every LegalReference in `message`, with its field path.
void CollectRefs(const google::protobuf::Message& message, const std::string& path,
                 std::vector<std::pair<std::string, const v1::LegalReference*>>& out) {
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string at = absl::StrCat(path, ".", field->name());
    if (field->message_type() == v1::LegalReference::descriptor()) {
      out.emplace_back(at, &static_cast<const v1::LegalReference&>(reflection.GetMessage(message, field)));
    } else if (field->is_repeated()) {
      for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
        CollectRefs(reflection.GetRepeatedMessage(message, field, i), absl::StrCat(at, "[", i, "]"), out);
      }
    } else {
      CollectRefs(reflection.GetMessage(message, field), at, out);
    }
  }
}

// Issue 11, item 5: every number keeps its legal reference, and the reference says where in its document —
// the article or section where the text numbers them, else the section by subject and a note that the text
// seen gives no clause number. The service's own decisions and settings cite themselves ("D15", "hold time").
TEST(ShippedPoliciesTest, EveryLegalReferenceSaysWhereInItsDocument) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const std::regex numbered(R"([（(][一二三四五六七八九十]+[）)]|^[一二三四五六七八九十]+[、:]|问答第)");
  size_t refs = 0;
  for (const auto& policy : snapshot->policies()) {
    std::vector<std::pair<std::string, const v1::LegalReference*>> found;
    CollectRefs(policy->proto(), policy->id(), found);
    refs += found.size();
    for (const auto& [path, ref] : found) {
      SCOPED_TRACE(path);
      EXPECT_FALSE(ref->document().empty());
      EXPECT_FALSE(ref->article().empty());
      if (absl::StartsWith(ref->document(), "tradein-subsidy")) continue;
      EXPECT_TRUE(std::regex_search(ref->article(), numbered) ||
                  absl::StrContains(ref->note(), "no clause number in the text seen"))
          << ref->document() << " | " << ref->article() << " | " << ref->note();
    }
  }
  EXPECT_GT(refs, 200u);
}

// Every number set in `message` (a count, an amount, a rate, a grade, seconds) with the nearest reference
// that vouches for it: the message's own `ref`, else its nearest ancestor's.
void CollectNumbers(const google::protobuf::Message& message, const std::string& path,
                    const v1::LegalReference* vouching,
                    std::vector<std::pair<std::string, const v1::LegalReference*>>& out) {
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  if (const google::protobuf::FieldDescriptor* ref = message.GetDescriptor()->FindFieldByName("ref");
      ref != nullptr && ref->message_type() == v1::LegalReference::descriptor() &&
      reflection.HasField(message, ref)) {
    vouching = &static_cast<const v1::LegalReference&>(reflection.GetMessage(message, ref));
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    const std::string at = absl::StrCat(path, ".", field->name());
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
      case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE:
      case google::protobuf::FieldDescriptor::CPPTYPE_FLOAT:
        out.emplace_back(at, vouching);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE:
        if (field->message_type() == v1::LegalReference::descriptor() ||
            field->message_type() == v1::ValueOrigin::descriptor()) {
          break;
        }
        if (field->is_repeated()) {
          for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
            CollectNumbers(reflection.GetRepeatedMessage(message, field, i), absl::StrCat(at, "[", i, "]"),
                           vouching, out);
          }
        } else {
          CollectNumbers(reflection.GetMessage(message, field), at, vouching, out);
        }
        break;
      default:
        break;
    }
  }
}

// Issue 11, item 5: every number of every shipped policy, as merged, keeps a legal reference that says where
// in its document the number is (the policy's own ref does not count: it names the whole text).
TEST(ShippedPoliciesTest, EveryNumberHasALegalReferenceOfItsOwnEntry) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  size_t numbers = 0;
  for (const auto& policy : snapshot->policies()) {
    std::vector<std::pair<std::string, const v1::LegalReference*>> found;
    for (const google::protobuf::FieldDescriptor* list :
         {v1::Policy::descriptor()->FindFieldByName("rules"),
          v1::Policy::descriptor()->FindFieldByName("quotas"),
          v1::Policy::descriptor()->FindFieldByName("budgets")}) {
      const google::protobuf::Reflection& reflection = *policy->proto().GetReflection();
      for (int i = 0; i < reflection.FieldSize(policy->proto(), list); ++i) {
        CollectNumbers(reflection.GetRepeatedMessage(policy->proto(), list, i),
                       absl::StrCat(policy->id(), ".", list->name(), "[", i, "]"), nullptr, found);
      }
    }
    CollectNumbers(policy->proto().hold(), absl::StrCat(policy->id(), ".hold"), nullptr, found);
    numbers += found.size();
    for (const auto& [path, ref] : found) {
      ASSERT_NE(ref, nullptr) << path << " has no legal reference";
      EXPECT_FALSE(ref->document().empty()) << path;
      EXPECT_FALSE(ref->article().empty()) << path;
    }
  }
  EXPECT_GT(numbers, 100u);
}

// ---------------------------------------------------------------------------------------------------------
// Inheritance, as merged from the shipped files.
// ---------------------------------------------------------------------------------------------------------
std::vector<std::string> RuleIds(const CompiledPolicy& p) {
  std::vector<std::string> out;
  for (const CompiledRule& r : p.rules()) out.push_back(r.id());
  return out;
}

std::map<std::string, std::string> QuotaProgrammes(const CompiledPolicy& p) {
  std::map<std::string, std::string> out;
  for (const CompiledQuota& q : p.quotas()) out[q.id()] = q.programme;
  return out;
}

TEST(PolicyInheritanceTest, RuianHasZhejiangsRulesWithItsOwnEbikeRuleAndBudget) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const CompiledPolicy* ra = snapshot->FindById("ra-2025");
  ASSERT_NE(ra, nullptr);
  EXPECT_THAT(RuleIds(*ra),
              ElementsAre("N25-SCRAP-NEV", "N25-SCRAP-FUEL", "N25-DIG", "Z25-REPL-NEV", "Z25-REPL-FUEL",
                          "Z25-APPL", "Z25-FURN", "Z25-RENO", "Z25-AGE", "RA25-EBIKE"));
  EXPECT_THAT(ra->proto().source_files(),
              ElementsAre("ra-2025.textproto", "zj-2025.textproto", "cn-2025.textproto"));
  EXPECT_EQ(ra->programme(), "zj-2025");  // inherited: Rui'an shares Zhejiang's counters
  EXPECT_EQ(ra->region_code(), "330381");
  EXPECT_EQ(ra->proto().inherits(), "zj-2025");
  EXPECT_THAT(ra->proto().removed_rule_ids(), IsEmpty());
  EXPECT_EQ(ra->transaction_window().first, absl::CivilDay(2025, 1, 1));
  EXPECT_EQ(ra->transaction_window().last, absl::CivilDay(2025, 12, 31));
  EXPECT_EQ(ra->hold(), absl::Seconds(1800));
  EXPECT_TRUE(ra->refund_restores_quota());
  // Zhejiang's overrides of the national scrappage rules, in place: their claim window.
  for (const CompiledRule& rule : ra->rules()) {
    SCOPED_TRACE(rule.id());
    const bool car = absl::StartsWith(rule.id(), "N25-SCRAP") || absl::StartsWith(rule.id(), "Z25-REPL");
    EXPECT_EQ(rule.claim_window.last, car ? absl::CivilDay(2026, 1, 10) : absl::CivilDay(2025, 12, 31));
  }
  // N25-DIG is inherited from cn-2025 unchanged, with its own start day.
  const CompiledRule& dig = ra->rules()[2];
  ASSERT_TRUE(dig.transaction_window.has_value());
  EXPECT_EQ(dig.transaction_window->first, absl::CivilDay(2025, 1, 20));
  // The Rui'an e-bike rule and budget.
  const CompiledRule& ebike = ra->rules().back();
  EXPECT_EQ(ebike.other_rate_bp, 4000);
  EXPECT_EQ(ebike.cap_fen, 120000);
  EXPECT_TRUE(ebike.require_old_bike);
  EXPECT_TRUE(ebike.require_new_bike_certified);
  ASSERT_EQ(ra->budgets().size(), 1u);
  EXPECT_EQ(ra->budgets()[0].id(), "ra-2025-ebike");
  // Quotas resolve their programme: the national per-category controls count under cn-2025 (一人一品一件),
  // Zhejiang's own under zj-2025.
  const std::map<std::string, std::string> programmes = QuotaProgrammes(*ra);
  for (const auto& [quota, programme] : std::map<std::string, std::string>{
           {"appliance-per-type", "cn-2025"},
           {"digital-per-type", "cn-2025"},
           {"car-old-vehicle", "cn-2025"},  // the national quota's (zj-2025 overrides its members only)
           {"car-replacement", "zj-2025"},
           {"car-scrappage", "zj-2025"},
           {"ebike", "zj-2025"},
           {"elderly-amount", "zj-2025"},
           {"furniture-per-type", "zj-2025"},
           {"renovation", "zj-2025"},
       }) {
    ASSERT_TRUE(programmes.contains(quota)) << quota;
    EXPECT_EQ(programmes.at(quota), programme) << quota;
  }
}

TEST(PolicyInheritanceTest, ZhejiangAndWenzhouMerges) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const CompiledPolicy* zj = snapshot->FindById("zj-2025");
  ASSERT_NE(zj, nullptr);
  EXPECT_THAT(RuleIds(*zj),
              ElementsAre("N25-SCRAP-NEV", "N25-SCRAP-FUEL", "N25-DIG", "Z25-REPL-NEV", "Z25-REPL-FUEL",
                          "Z25-APPL", "Z25-FURN", "Z25-RENO", "Z25-AGE", "ZJ25-EBIKE-EXAMPLE"));
  EXPECT_THAT(zj->proto().source_files(), ElementsAre("zj-2025.textproto", "cn-2025.textproto"));
  EXPECT_TRUE(zj->budgets().empty());
  const CompiledPolicy* cn = snapshot->FindById("cn-2025");
  ASSERT_NE(cn, nullptr);
  EXPECT_THAT(cn->proto().source_files(), ElementsAre("cn-2025.textproto"));
  EXPECT_EQ(QuotaProgrammes(*cn), (std::map<std::string, std::string>{{"appliance-per-type", "cn-2025"},
                                                                      {"car-new-vehicle", "cn-2025"},
                                                                      {"car-old-vehicle", "cn-2025"},
                                                                      {"digital-per-type", "cn-2025"}}));

  const CompiledPolicy* wz = snapshot->FindById("wz-2026");
  ASSERT_NE(wz, nullptr);
  EXPECT_THAT(wz->proto().source_files(), ElementsAre("wz-2026.textproto", "cn-2026.textproto"));
  EXPECT_THAT(RuleIds(*wz), ElementsAre("N26-SCRAP-NEV", "N26-SCRAP-FUEL", "N26-REPL-NEV", "N26-REPL-FUEL",
                                        "N26-APPL", "N26-DIG"));
  EXPECT_EQ(wz->programme(), "wz-2026");
  // Every quota inherited from cn-2026 counts in cn-2026, the car counts overridden to span all four rules;
  // "car", Wenzhou's own, in wz-2026.
  EXPECT_EQ(QuotaProgrammes(*wz), (std::map<std::string, std::string>{{"appliance-per-type", "cn-2026"},
                                                                      {"car", "wz-2026"},
                                                                      {"car-new-vehicle", "cn-2026"},
                                                                      {"car-old-vehicle", "cn-2026"},
                                                                      {"car-replacement", "cn-2026"},
                                                                      {"car-replacement-per-year", "cn-2026"},
                                                                      {"car-scrappage", "cn-2026"},
                                                                      {"digital-per-type", "cn-2026"}}));
  EXPECT_EQ(QuotaProgrammes(*snapshot->FindById("cn-2026")),
            (std::map<std::string, std::string>{{"appliance-per-type", "cn-2026"},
                                                {"car-new-vehicle", "cn-2026"},
                                                {"car-old-vehicle", "cn-2026"},
                                                {"car-replacement", "cn-2026"},
                                                {"car-replacement-per-year", "cn-2026"},
                                                {"car-scrappage", "cn-2026"},
                                                {"digital-per-type", "cn-2026"}}));
}

// The 1-based line of the first line containing `needle` after the line containing `after` in `file` of `dir`
// (0 when there is none): where an entry's field is written, whatever else the file says.
int LineAfter(const PolicyDirCopy& dir, const std::string& file, const std::string& after,
              const std::string& needle) {
  const std::vector<std::string> lines = absl::StrSplit(dir.Read(file), '\n');
  bool seen = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    seen = seen || absl::StrContains(lines[i], after);
    if (seen && absl::StrContains(lines[i], needle)) return static_cast<int>(i) + 1;
  }
  return 0;
}

std::map<std::string, std::string> OriginsOf(const CompiledPolicy& policy) {
  std::map<std::string, std::string> out;
  for (const v1::ValueOrigin& o : policy.proto().value_origins()) {
    out[o.field()] = absl::StrCat(o.file(), ":", o.line());
  }
  return out;
}

const CompiledRule* RuleById(const CompiledPolicy& policy, const std::string& id) {
  for (const CompiledRule& rule : policy.rules()) {
    if (rule.id() == id) return &rule;
  }
  return nullptr;
}

// Zhejiang names the national scrappage rule only to give it its car claim window: a change of the national
// amount reaches Zhejiang and Rui'an, and Zhejiang's window stays.
TEST(PolicyInheritanceTest, AParentsFieldChangeReachesTheChildrenThatDoNotOverrideIt) {
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  ASSERT_TRUE(dir.Replace("cn-2025.textproto", "amount_fen: 2000000", "amount_fen: 2100000"));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  ASSERT_NE(report.snapshot, nullptr) << Describe(report.problems);
  for (const char* id : {"cn-2025", "zj-2025", "ra-2025"}) {
    SCOPED_TRACE(id);
    const CompiledPolicy* policy = report.snapshot->FindById(id);
    ASSERT_NE(policy, nullptr);
    const CompiledRule* scrappage = RuleById(*policy, "N25-SCRAP-NEV");
    ASSERT_NE(scrappage, nullptr);
    EXPECT_EQ(scrappage->flat_fen, 2100000);
    EXPECT_EQ(scrappage->claim_window.last,
              std::string(id) == "cn-2025" ? absl::CivilDay(2025, 12, 31) : absl::CivilDay(2026, 1, 10));
    EXPECT_EQ(OriginsOf(*policy).at("rules[N25-SCRAP-NEV].flat"),
              absl::StrCat("cn-2025.textproto:", dir.LineOf("cn-2025.textproto", "amount_fen: 2100000") - 1));
  }
}

// A child's field override wins over the parent's, and only that field: the national rule gets a claim window
// of its own, Zhejiang's stays.
TEST(PolicyInheritanceTest, AChildsFieldOverrideWinsOverTheParentsValue) {
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  ASSERT_TRUE(dir.Replace("cn-2025.textproto", "  trade_in_kind: SCRAPPAGE\n  new_energy_type: NEV\n",
                          "  trade_in_kind: SCRAPPAGE\n  new_energy_type: NEV\n  claim_window {\n"
                          "    first_day: \"2025-01-01\"\n    last_day: \"2026-01-31\"\n"
                          "    ref { document: \"test\" article: \"t\" }\n  }\n"));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  ASSERT_NE(report.snapshot, nullptr) << Describe(report.problems);
  EXPECT_EQ(RuleById(*report.snapshot->FindById("cn-2025"), "N25-SCRAP-NEV")->claim_window.last,
            absl::CivilDay(2026, 1, 31));
  for (const char* id : {"zj-2025", "ra-2025"}) {
    const CompiledPolicy& policy = *report.snapshot->FindById(id);
    EXPECT_EQ(RuleById(policy, "N25-SCRAP-NEV")->claim_window.last, absl::CivilDay(2026, 1, 10)) << id;
    EXPECT_EQ(OriginsOf(policy).at("rules[N25-SCRAP-NEV].claim_window"),
              absl::StrCat("zj-2025.textproto:",
                           LineAfter(dir, "zj-2025.textproto", "id: \"N25-SCRAP-NEV\"", "claim_window {")))
        << id;
  }
}

const CompiledQuota& QuotaOf(const CompiledPolicy& policy, absl::string_view id) {
  for (const CompiledQuota& quota : policy.quotas()) {
    if (quota.id() == id) return quota;
  }
  ADD_FAILURE() << policy.id() << " has no quota " << id;
  return policy.quotas().front();
}

// Issue 11, item 2: inherited quotas count where their origin counts them, so one buyer has one count across
// the national file and a city's; what moved is still read where it counted before (counted_before_in).
TEST(PolicyInheritanceTest, ShippedQuotasCountInTheProgrammeThatDeclaresThem) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const CompiledPolicy& wz = *snapshot->FindById("wz-2026");
  for (const char* id : {"car-scrappage", "car-replacement", "car-old-vehicle", "appliance-per-type"}) {
    EXPECT_EQ(QuotaOf(wz, id).programme, "cn-2026") << id;
  }
  EXPECT_EQ(QuotaOf(wz, "car").programme, "wz-2026");
  EXPECT_THAT(QuotaOf(wz, "car-old-vehicle").counted_before_in, ElementsAre("wz-2026"));
  EXPECT_THAT(QuotaOf(wz, "car-scrappage").source->rule_ids(),
              ElementsAre("N26-SCRAP-NEV", "N26-SCRAP-FUEL", "N26-REPL-NEV", "N26-REPL-FUEL"));
  for (const char* id : {"zj-2025", "ra-2025"}) {
    const CompiledPolicy& policy = *snapshot->FindById(id);
    EXPECT_EQ(QuotaOf(policy, "car-old-vehicle").programme, "cn-2025") << id;
    EXPECT_THAT(QuotaOf(policy, "car-old-vehicle").counted_before_in, ElementsAre("zj-2025")) << id;
    EXPECT_EQ(QuotaOf(policy, "car-scrappage").programme, "zj-2025") << id;  // Zhejiang's own
  }
  // The linter's summary says where each counts; the shipped files split none.
  const std::string summary = SummarizePolicy(wz, snapshot->catalogue());
  EXPECT_THAT(summary, HasSubstr("once per old car [programme cn-2026; also counted before in wz-2026]"));
  EXPECT_THAT(summary, HasSubstr("1 in total [programme wz-2026]"));
  for (const auto& policy : snapshot->policies()) {
    if (const CompiledPolicy* parent = snapshot->FindById(policy->proto().inherits()); parent != nullptr) {
      EXPECT_THAT(QuotaSplitWarnings(*policy, *parent), IsEmpty()) << policy->id();
    }
  }
}

TEST(PolicyInheritanceTest, AChildThatCountsAParentsQuotaInItsOwnProgrammeIsWarnedOfTheSplit) {
  PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  ASSERT_TRUE(
      dir.Replace("wz-2026.textproto", "  counted_before_in: [\"wz-2026\"]\n", "  programme: \"wz-2026\"\n"));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  ASSERT_NE(report.snapshot, nullptr) << Describe(report.problems);
  const std::vector<std::string> warnings =
      QuotaSplitWarnings(*report.snapshot->FindById("wz-2026"), *report.snapshot->FindById("cn-2026"));
  EXPECT_THAT(warnings, ElementsAre(absl::StrCat(
                            "wz-2026.textproto:", dir.LineOf("wz-2026.textproto", "  programme: \"wz-2026\""),
                            ": quotas[car-old-vehicle].programme: counts in wz-2026, but cn-2026 counts it "
                            "in cn-2026: a buyer's usage is split in two, with the full limit in each")));
}

// A quota's earlier namespace must be another programme, of a quota that keeps something in one.
TEST(PolicyInheritanceTest, CountedBeforeInIsChecked) {
  PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  ASSERT_TRUE(dir.Replace("wz-2026.textproto", "  counted_before_in: [\"wz-2026\"]\n",
                          "  counted_before_in: [\"cn-2026\"]\n"));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  EXPECT_EQ(report.snapshot, nullptr);
  EXPECT_THAT(Describe(report.problems),
              HasSubstr("counted_before_in[0]: the quota counts in \"cn-2026\" now"));
}

// Where each value of Rui'an's merged policy was written, as GetPolicy serves it and the linter prints it.
TEST(PolicyInheritanceTest, ProvenanceNamesTheFileAndLineOfEachValue) {
  const auto snapshot = policy_test::ShippedSnapshot();
  ASSERT_NE(snapshot, nullptr);
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  const CompiledPolicy& ra = *snapshot->FindById("ra-2025");
  const std::map<std::string, std::string> origins = OriginsOf(ra);
  const std::string scrappage_window = absl::StrCat(
      "zj-2025.textproto:", LineAfter(dir, "zj-2025.textproto", "id: \"N25-SCRAP-NEV\"", "claim_window {"));
  EXPECT_EQ(origins.at("rules[N25-SCRAP-NEV].claim_window"), scrappage_window);
  EXPECT_EQ(origins.at("rules[N25-SCRAP-NEV].flat"),
            absl::StrCat("cn-2025.textproto:",
                         LineAfter(dir, "cn-2025.textproto", "id: \"N25-SCRAP-NEV\"", "flat {")));
  EXPECT_EQ(
      origins.at("rules[N25-DIG].percentage.cap"),
      absl::StrCat("cn-2025.textproto:", LineAfter(dir, "cn-2025.textproto", "id: \"N25-DIG\"", "cap {")));
  EXPECT_EQ(origins.at("budgets[ra-2025-ebike].total_fen"),
            absl::StrCat("ra-2025.textproto:", dir.LineOf("ra-2025.textproto", "total_fen:")));
  EXPECT_EQ(origins.at("id"),
            absl::StrCat("ra-2025.textproto:", dir.LineOf("ra-2025.textproto", "id: \"ra-2025\"")));
  EXPECT_EQ(origins.at("hold"),
            absl::StrCat("cn-2025.textproto:", dir.LineOf("cn-2025.textproto", "hold {")));
  // The linter's summary shows the same, value by value.
  const std::string summary = SummarizePolicy(ra, snapshot->catalogue());
  EXPECT_THAT(summary, HasSubstr(absl::StrCat(scrappage_window, " ")));
  EXPECT_THAT(summary, HasSubstr("claim_window: { first_day: \"2025-01-11\" last_day: \"2026-01-10\" }"));
  // Every origin names a line that exists and holds the field's name (or, for a list, its first element).
  for (const v1::ValueOrigin& origin : ra.proto().value_origins()) {
    const std::vector<std::string> lines = absl::StrSplit(dir.Read(origin.file()), '\n');
    ASSERT_GE(origin.line(), 1) << origin.field();
    ASSERT_LE(origin.line(), static_cast<int>(lines.size())) << origin.field();
    const std::string name = origin.field().substr(origin.field().find_last_of('.') + 1);
    EXPECT_THAT(lines[static_cast<size_t>(origin.line() - 1)], HasSubstr(name.substr(0, name.find('['))))
        << origin.field() << " at " << origin.file() << ":" << origin.line();
  }
}

// ---------------------------------------------------------------------------------------------------------
// The content hash.
// ---------------------------------------------------------------------------------------------------------
std::map<std::string, std::string> Versions(const PolicySnapshot& snapshot) {
  std::map<std::string, std::string> out;
  for (const auto& p : snapshot.policies()) out[p->id()] = p->version();
  return out;
}

// Drops comment lines and indentation and doubles the line breaks: the same policy, laid out differently.
std::string Reformat(const std::string& text) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const size_t start = line.find_first_not_of(' ');
    if (start == absl::string_view::npos || line[start] == '#') continue;
    lines.emplace_back(line.substr(start));
  }
  return absl::StrJoin(lines, "\n\n");
}

TEST(PolicyContentHashTest, StableAcrossCommentsAndLayout) {
  const auto shipped = policy_test::ShippedSnapshot();
  ASSERT_NE(shipped, nullptr);
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  for (const char* file : {"cn-2025.textproto", "zj-2025.textproto", "ra-2025.textproto"}) {
    const std::string reformatted = Reformat(dir.Read(file));
    ASSERT_NE(reformatted, dir.Read(file));
    dir.Write(file, reformatted);
  }
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  ASSERT_NE(report.snapshot, nullptr) << Describe(report.problems);
  EXPECT_EQ(Versions(*report.snapshot), Versions(*shipped));
  EXPECT_EQ(report.snapshot->version(), shipped->version());
}

TEST(PolicyContentHashTest, ChangesWhenANumberChangesAndFollowsInheritance) {
  const auto shipped = policy_test::ShippedSnapshot();
  ASSERT_NE(shipped, nullptr);
  const PolicyDirCopy dir = PolicyDirCopy::OfShipped();
  // The national 2025 digital cap, 500.00 → 500.01: inherited by Zhejiang and Rui'an.
  ASSERT_TRUE(dir.Replace("cn-2025.textproto", "fen: 50000\n", "fen: 50001\n"));
  const PolicyLoadReport report = LoadPolicyDirectoryReport(dir.path(), absl::Now());
  ASSERT_NE(report.snapshot, nullptr) << Describe(report.problems);
  const auto before = Versions(*shipped);
  const auto after = Versions(*report.snapshot);
  EXPECT_NE(after.at("cn-2025"), before.at("cn-2025"));
  EXPECT_NE(after.at("zj-2025"), before.at("zj-2025"));
  EXPECT_NE(after.at("ra-2025"), before.at("ra-2025"));
  EXPECT_EQ(after.at("cn-2026"), before.at("cn-2026"));
  EXPECT_EQ(after.at("wz-2026"), before.at("wz-2026"));
  EXPECT_NE(report.snapshot->version(), shipped->version());
}

TEST(PolicyContentHashTest, IgnoresOutputFieldsOnly) {
  const auto shipped = policy_test::ShippedSnapshot();
  ASSERT_NE(shipped, nullptr);
  v1::Policy policy = shipped->FindById("ra-2025")->proto();
  const std::string hash = PolicyContentHash(policy);
  EXPECT_EQ(hash.size(), 16u);
  policy.set_version("something else");
  policy.clear_source_files();
  policy.add_source_files("x.textproto");
  ASSERT_FALSE(policy.value_origins().empty());
  policy.clear_value_origins();  // where a value is written is not what it is
  EXPECT_EQ(PolicyContentHash(policy), hash);
  policy.mutable_rules(0)->set_title("another title");
  EXPECT_NE(PolicyContentHash(policy), hash);
}

}  // namespace
}  // namespace tradein::policy
