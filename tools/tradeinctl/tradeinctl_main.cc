// tradeinctl: the operator's command line for tradein-server (gRPC). See kUsage below or `tradeinctl --help`.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/tradeinctl/commands.h"
#include "tools/tradeinctl/format.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "tradein-server address (host:port, or a gRPC target).");
ABSL_FLAG(std::string, token, "",
          "Bearer token (API key) sent as `authorization: Bearer ...`; @FILE reads it.");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle to verify the server: turns TLS on.");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate (mTLS), with --tls_key.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "", "Name to verify in the server's certificate, if not the host.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10), "Deadline of each call.");
ABSL_FLAG(bool, json, false, "Print the raw response (or error status) as proto JSON.");
ABSL_FLAG(std::string, catalogue, "",
          "Product catalogue for Chinese names (product_types.textproto); default: the copy built in.");
ABSL_FLAG(bool, summary, false, "lint: print what each policy pays.");
ABSL_FLAG(std::string, region, "", "GB/T 2260 region code of the point of sale, e.g. 330381.");
ABSL_FLAG(std::string, date, "",
          "Transaction date YYYY-MM-DD; default: today in China by the server's clock (simulated or real), "
          "unless --policy_id.");
ABSL_FLAG(std::string, policy_id, "", "Price under this policy instead of selecting by region and date.");
ABSL_FLAG(std::string, buyer, "",
          "Buyer's PRC resident id number; @FILE reads it (keeps it out of history).");
ABSL_FLAG(std::string, retailer, "", "retailerId (until authentication supplies it).");
ABSL_FLAG(std::string, request_id, "", "Idempotency key of claim/refund; default: a new one, printed.");
ABSL_FLAG(std::string, request_json, "",
          "The whole request as proto JSON (or @FILE, or - for stdin); flags override.");
ABSL_FLAG(std::string, invoice, "", "confirm: invoice number; correct: the claim's right invoice number.");
ABSL_FLAG(std::string, reason, "", "cancel/refund/void/correct: why.");
ABSL_FLAG(std::string, role, "", "caller add: RETAILER, PORTAL or ADMIN.");
ABSL_FLAG(std::string, regions, "", "caller add: GB/T 2260 codes of a retailer's shops, comma separated.");
ABSL_FLAG(std::string, id, "",
          "caller add: the caller's id (default: the retailerId or role and a random suffix).");
ABSL_FLAG(std::string, callers_file, "",
          "caller add: append the entry to this callers file (checked first).");
ABSL_FLAG(std::string, policy_dir, "", "simulate: the draft policy directory.");
ABSL_FLAG(std::string, from, "",
          "list/export/totals/simulate: first China day of the period (YYYY-MM-DD); list/export/totals "
          "default to the server's today.");
ABSL_FLAG(std::string, to, "",
          "list/export/totals/simulate: last China day of the period; list/export/totals default to the "
          "server's today.");
ABSL_FLAG(bool, csv, false,
          "simulate: print the rows as CSV (fen) instead of a table; export: CSV with Chinese headings "
          "(UTF-8 with a BOM, money in yuan), for spreadsheets.");
ABSL_FLAG(std::string, states, "",
          "list/export/totals: only claims in these states, e.g. CONFIRMED,REFUNDED.");
ABSL_FLAG(std::string, product_types, "",
          "list/export/totals: only claims with a line of these product types (totals: only those lines).");
ABSL_FLAG(std::string, serial, "",
          "list/export/totals: only the claim with this unit serial number (IMEI/SN); correct: LINE:OLD:NEW, "
          "the serial number OLD of a unit of line LINE is in truth NEW.");
ABSL_FLAG(std::string, confirmed_from, "", "list/export/totals: only claims confirmed on or after this day.");
ABSL_FLAG(std::string, confirmed_to, "", "list/export/totals: only claims confirmed on or before this day.");
ABSL_FLAG(std::string, group_by, "",
          "totals: the rows' dimensions, comma separated: day, region, retailer, product_type (default "
          "day,retailer,product_type).");

namespace {

constexpr const char kUsage[] =
    R"(tradeinctl: operator's command line for tradein-server (消费品以旧换新 trade-in subsidies).

Usage: tradeinctl [flags] COMMAND [ARGS]

Commands:
  quote     --region R [--date D] --item ... [--buyer ID]   what each item would get (changes nothing)
  claim     --retailer X --buyer ID --region R [--date D] --item ... [--request_id K]
                                                            reserve the buyer's quota and the budget
  confirm   CLAIM_ID [--invoice N] [--serials LINE:SN,...]  payment done: RESERVED -> CONFIRMED
  cancel    CLAIM_ID [--reason TEXT]                        RESERVED -> CANCELLED, quota returns
  refund    CLAIM_ID [--line L[:QTY]]... [--request_id K]  goods returned after confirmation
  get       CLAIM_ID                                        the claim as it is now
  usage     --buyer ID --region R [--date D]                the buyer's quotas: used, limit, left
  budget    --region R [--date D]                           the budgets of the policy in force
  policies  [--region R] [--date D]                         the loaded policies
  policy    [POLICY_ID | --region R --date D]               one policy's rules, as the server applies them
  lint      DIR [--summary]                                 check a policy directory as the server loads it
  health    [SERVICE... | all]                              grpc.health.v1 Check ("" = the whole server;
                                                            all = it and each tradein.v1 service it serves)
  list      [--from D] [--to D] [--retailer X] [FILTERS]    claims made in the period, newest first (portal)
  export    [--from D] [--to D] [--retailer X] [FILTERS] [--json | --csv]
                                                            every claim of the period, for settlement (portal);
                                                            --csv: Chinese headings, UTF-8 with a BOM
  totals    [--from D] [--to D] [--retailer X] [FILTERS] [--group_by day,region,retailer,product_type]
                                                            money by day, product type, retailer (portal)
            FILTERS: --region R (and the regions within it) --states S,S --product_types T,T --invoice N
                     --serial SN --confirmed_from D --confirmed_to D
  void      CLAIM_ID --reason TEXT [--request_id K]         annul a confirmed claim (admin)
  correct   CLAIM_ID --line LINE:YUAN... --reason TEXT      lower lines' subsidy to YUAN (admin)
  correct   CLAIM_ID --invoice NEW --reason TEXT            fix the claim's invoice number (admin)
  correct   CLAIM_ID --serial LINE:OLD:NEW --reason TEXT    fix one unit's serial number / IMEI (admin);
                                                            `get` shows each change in the claim's history
  reload                                                    PortalService/ReloadPolicies (admin): reloads
                                                            every instance on the server's Redis and lists
                                                            what each one has in force
  reasons                                                   every reason code: what a till does, English, 中文
  caller add --role=RETAILER --retailer=X --regions=R[,R] [--id=ID] [--callers_file=FILE]
                                                            a new API key (printed once) and its callers-file
                                                            entry (printed, or appended to FILE); no server
  simulate  --policy_dir DRAFT --from D --to D [--region R] [--csv]
                                                            replay the period's claims under a draft policy
                                                            directory: subsidy today vs draft per product
                                                            type, rule and region; budgets' days left (read-
                                                            only; progress on stderr; portal or admin)

Items (repeat --item; PRICE in yuan, exact to the fen; the server's catalogue has the codes):
  --item appliance.refrigerator:5000:grade=1
  --item digital.phone:3000:qty=2,line=a
  --item car.new:150000:kind=REPLACEMENT,energy=NEV,old_fuel=GASOLINE,registered=2015-03-01,owned=2020-01-01,vin=LSVAU218XN2183294
         (a claim under the 2025 and 2026 policies adds the new car's VIN: ...,new_vin=LFV3A23C4P3000001)
  --item renovation.old_home:50000:property=P-0001,completed=2015-06-30
  --item ebike.new:3000:surrendered,certified
  --item '{"productType":"appliance.television","priceFen":"300000","energyGrade":2}'
  keys: line qty grade water | kind energy ml catalogue old_fuel registered owned vin new_vin | property completed |
        surrendered certified

Output: amounts in yuan (1,000.00), product names in Chinese; --json prints the response as proto JSON.
Errors print the gRPC code, the reason and each offending field. Exit status: 0 ok, 1 the call failed (or
health not SERVING, lint refused), 2 usage.
Every flag can also be set as TRADEINCTL_<FLAG> in the environment (the command line wins),
e.g. TRADEINCTL_SERVER=10.0.1.11:50051, TRADEINCTL_TOKEN=@/run/secrets/api-key.
)";

// Flags that may be given more than once, taken out of argv before Abseil parses the rest.
constexpr const char* kRepeatedFlags[] = {"item", "serials", "line"};

// Removes every --NAME=VALUE / --NAME VALUE of the repeated flags from argv into `found`. False (with a
// message) when such a flag has no value.
bool ExtractRepeated(std::vector<char*>& args, std::vector<std::vector<std::string>>& found) {
  std::vector<char*> kept;
  found.assign(std::size(kRepeatedFlags), {});
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string arg = args[i];
    if (arg == "--") {
      kept.insert(kept.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    bool taken = false;
    for (size_t f = 0; f < std::size(kRepeatedFlags); ++f) {
      for (const std::string dashes : {"--", "-"}) {
        const std::string name = dashes + kRepeatedFlags[f];
        if (arg == name) {
          if (i + 1 >= args.size()) {
            std::cerr << "tradeinctl: " << name << " needs a value\n";
            return false;
          }
          found[f].push_back(args[++i]);
          taken = true;
        } else if (absl::StartsWith(arg, name + "=")) {
          found[f].push_back(arg.substr(name.size() + 1));
          taken = true;
        }
        if (taken) break;
      }
      if (taken) break;
    }
    if (!taken) kept.push_back(args[i]);
  }
  args = std::move(kept);
  return true;
}

// False (with a message) for a flag nobody defined, so a typo is a usage error (exit 2) like the others.
bool KnownFlagsOnly(const std::vector<char*>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    const absl::string_view arg = args[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    absl::string_view name = arg.substr(arg[1] == '-' ? 2 : 1);
    name = name.substr(0, name.find('='));
    if (absl::FindCommandLineFlag(name) != nullptr) continue;
    if (absl::StartsWith(name, "no") && absl::FindCommandLineFlag(name.substr(2)) != nullptr) continue;
    std::cerr << "tradeinctl: unknown flag " << arg << " (see tradeinctl --help)\n";
    return false;
  }
  return true;
}

// TRADEINCTL_<FLAG> for every flag of this file that the environment sets.
bool ApplyEnvironment() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!absl::StrContains(flag->Filename(), "tools/tradeinctl/")) continue;
    const std::string variable = absl::StrCat("TRADEINCTL_", absl::AsciiStrToUpper(name));
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::cerr << "tradeinctl: " << variable << ": " << error << "\n";
      return false;
    }
  }
  return true;
}

void PrintHelp() {
  std::cout << kUsage << "\nFlags:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!absl::StrContains(flag->Filename(), "tools/tradeinctl/")) continue;
    std::string shown = absl::StrCat("--", name);
    const std::string default_value = flag->DefaultValue();
    if (!default_value.empty() && default_value != "false") absl::StrAppend(&shown, "=", default_value);
    rows.emplace_back(shown, flag->Help());
  }
  std::sort(rows.begin(), rows.end());
  rows.emplace_back("--item SPEC", "A basket line (repeatable): see Items above.");
  rows.emplace_back("--serials LINE:SN,...", "confirm: serial numbers / IMEIs of a line (repeatable).");
  rows.emplace_back("--line LINE[:QTY]",
                    "refund: a line to refund, all its units without QTY; correct: LINE:YUAN (repeatable).");
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [shown, help] : rows) {
    std::cout << "  " << shown << std::string(width - shown.size() + 2, ' ') << help << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string arg = args[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h" || arg == "-help" || (i == 1 && arg == "help")) {
      PrintHelp();
      return tradein::ctl::kExitOk;
    }
  }
  std::vector<std::vector<std::string>> repeated;
  if (!ExtractRepeated(args, repeated) || !KnownFlagsOnly(args)) return tradein::ctl::kExitUsage;
  absl::SetProgramUsageMessage("tradeinctl [flags] COMMAND [ARGS]; tradeinctl --help lists them.");
  if (!ApplyEnvironment()) return tradein::ctl::kExitUsage;
  const std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());

  tradein::ctl::CtlOptions options;
  options.server = absl::GetFlag(FLAGS_server);
  options.token = absl::GetFlag(FLAGS_token);
  options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.json = absl::GetFlag(FLAGS_json);
  options.catalogue = absl::GetFlag(FLAGS_catalogue);
  options.summary = absl::GetFlag(FLAGS_summary);
  options.region = absl::GetFlag(FLAGS_region);
  options.date = absl::GetFlag(FLAGS_date);
  options.policy_id = absl::GetFlag(FLAGS_policy_id);
  options.buyer = absl::GetFlag(FLAGS_buyer);
  options.retailer = absl::GetFlag(FLAGS_retailer);
  options.request_id = absl::GetFlag(FLAGS_request_id);
  options.request_json = absl::GetFlag(FLAGS_request_json);
  options.invoice = absl::GetFlag(FLAGS_invoice);
  options.reason = absl::GetFlag(FLAGS_reason);
  options.role = absl::GetFlag(FLAGS_role);
  options.regions = absl::GetFlag(FLAGS_regions);
  options.caller_id = absl::GetFlag(FLAGS_id);
  options.callers_file = absl::GetFlag(FLAGS_callers_file);
  options.policy_dir = absl::GetFlag(FLAGS_policy_dir);
  options.from = absl::GetFlag(FLAGS_from);
  options.to = absl::GetFlag(FLAGS_to);
  options.csv = absl::GetFlag(FLAGS_csv);
  options.states = absl::GetFlag(FLAGS_states);
  options.product_types = absl::GetFlag(FLAGS_product_types);
  options.serial = absl::GetFlag(FLAGS_serial);
  options.confirmed_from = absl::GetFlag(FLAGS_confirmed_from);
  options.confirmed_to = absl::GetFlag(FLAGS_confirmed_to);
  options.group_by = absl::GetFlag(FLAGS_group_by);
  options.items = repeated[0];
  options.serials = repeated[1];
  options.lines = repeated[2];
  if (options.deadline <= absl::ZeroDuration()) {
    std::cerr << "tradeinctl: --deadline must be positive\n";
    return tradein::ctl::kExitUsage;
  }
  const std::vector<std::string> command(positional.begin() + 1, positional.end());
  return tradein::ctl::RunCommand(command, options, std::cout, std::cerr);
}
