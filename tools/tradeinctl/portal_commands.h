// -----------------------------------------------------------------------------
// File: portal_commands.h
// -----------------------------------------------------------------------------
//
// tradeinctl's portal commands (PortalService): `list`, `export`, `totals` (portal or admin key) and the
// admin actions `void` and `correct`. A period is --from/--to (YYYY-MM-DD, China days the claims were made);
// each defaults to the server's today (PolicyService/ListPolicies' serverDate), so a server on
// --simulated_now is asked about its own day.
//
//   tradeinctl list --from=2025-06-01 --to=2025-06-30 [--retailer=shop-1]    every page, newest first
//   tradeinctl export --from=2025-06-01 --to=2025-06-30 --json              one claim per line (settlement)
//   tradeinctl export --from=2025-06-01 --to=2025-06-30 --region=330300 --csv > june.csv   Chinese headings
//   tradeinctl totals --from=2025-06-01 --to=2025-06-30 --group_by=region   by region
//   (filters of list/export/totals: --region --states --product_types --invoice --serial --confirmed_from/_to)
//   tradeinctl totals --from=2025-06-01 --to=2025-06-30                     by day × product type × retailer
//   tradeinctl void CLAIM_ID --reason='invoice forged' [--request_id=K]
//   tradeinctl correct CLAIM_ID --line 1:1500 --reason='wrong price' [--request_id=K]   line 1 now ¥1,500.00
//
// Thread safety: as commands.h (one call per process).
#ifndef TRADEIN_TOOLS_TRADEINCTL_PORTAL_COMMANDS_H_
#define TRADEIN_TOOLS_TRADEINCTL_PORTAL_COMMANDS_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "tools/tradeinctl/commands.h"
#include "tools/tradeinctl/product_names.h"
#include "tradein/v1/claim_service.pb.h"

namespace tradein::ctl {

// What the portal commands borrow from the command session (commands.cc): the connection, the error and
// output conventions, and the server's today.
struct PortalSession {
  const CtlOptions& options;
  std::ostream& out;
  std::function<absl::StatusOr<std::shared_ptr<grpc::Channel>>()> channel;
  std::function<absl::StatusOr<std::unique_ptr<grpc::ClientContext>>()> context;
  std::function<int(absl::string_view what, const grpc::Status& status)> failed;
  std::function<int(const absl::Status& status)> local_error;
  std::function<int(const google::protobuf::Message& message)> print_json;
  std::function<void(const v1::Claim& claim)> print_claim;
  std::function<std::string()> server_today;
  std::function<const ProductNames&()> names;
  std::function<std::string()> new_request_id;
};

// True for the commands RunPortalCommand runs.
bool IsPortalCommand(absl::string_view command);

// Runs `command` with its positional arguments `rest`; the exit code.
int RunPortalCommand(const std::string& command, const std::vector<std::string>& rest, PortalSession& s);

}  // namespace tradein::ctl

#endif  // TRADEIN_TOOLS_TRADEINCTL_PORTAL_COMMANDS_H_
