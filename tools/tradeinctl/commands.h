// -----------------------------------------------------------------------------
// File: commands.h
// -----------------------------------------------------------------------------
//
// tradeinctl's commands: each builds one request from the options (or --request_json), calls the server
// over gRPC with the connection options (TLS, bearer token, deadline), and prints the response for a person
// (yuan, aligned tables, Chinese product names) or, with --json, as proto JSON. tradeinctl_main.cc parses the
// command line into CtlOptions; tests drive the binary.
//
// Exit codes: 0 success (health: every service asked is SERVING; lint: the directory loads), 1 the call or
// check failed (the error is printed with its code, reason and field violations), 2 usage.
//
// Thread safety: RunCommand is called once per process, from main.
#ifndef TRADEIN_TOOLS_TRADEINCTL_COMMANDS_H_
#define TRADEIN_TOOLS_TRADEINCTL_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace tradein::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct CtlOptions {
  // Connection.
  std::string server = "127.0.0.1:50051";
  std::string token;  // bearer token, or @FILE
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;
  absl::Duration deadline = absl::Seconds(10);
  // Output.
  bool json = false;
  std::string catalogue;  // "" = the built-in copy
  bool summary = false;
  // Request fields.
  std::string region;
  std::string date;
  std::string policy_id;
  std::string buyer;  // PRC id number, or @FILE
  std::string retailer;
  std::string request_id;
  std::string request_json;  // JSON, @FILE or - (stdin)
  std::string invoice;
  std::string reason;
  // simulate.
  std::string policy_dir;  // the draft directory
  bool csv = false;
  // A period of China days (simulate, and the portal commands of portal_commands.h, where "" = the server's
  // today).
  std::string from;
  std::string to;
  // Portal filters of list/export/totals (with --region and --invoice above): comma-separated lists.
  std::string states;         // CONFIRMED,REFUNDED
  std::string product_types;  // phone,appliance.television
  std::string serial;         // a filter; correct: LINE:OLD:NEW
  std::string confirmed_from;
  std::string confirmed_to;
  std::string group_by;              // totals: day,region,retailer,product_type
  std::vector<std::string> items;    // --item, in order
  std::vector<std::string> serials;  // --serials LINE:SN,...
  std::vector<std::string> lines;    // --line LINE[:QTY] (refund), LINE:YUAN (correct)
  // caller add (no server needed).
  std::string role;
  std::string regions;  // comma-separated GB/T 2260 codes
  std::string caller_id;
  std::string callers_file;
};

// RunCommand
//
// `args` is the command and its positional arguments ("quote", "confirm CLAIM_ID", "health all", ...).
// Writes results to `out` and errors to `err`; returns the exit code.
int RunCommand(const std::vector<std::string>& args, const CtlOptions& options, std::ostream& out,
               std::ostream& err);

}  // namespace tradein::ctl

#endif  // TRADEIN_TOOLS_TRADEINCTL_COMMANDS_H_
