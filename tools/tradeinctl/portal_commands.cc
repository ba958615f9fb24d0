#include "tools/tradeinctl/portal_commands.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/claims_csv.h"
#include "tools/tradeinctl/format.h"
#include "tools/tradeinctl/item_syntax.h"
#include "tradein/v1/portal_service.grpc.pb.h"

namespace tradein::ctl {
namespace {

using PortalStub = v1::PortalService::Stub;

std::vector<std::string> CommaList(const std::string& flag) {
  return absl::StrSplit(flag, ',', absl::SkipWhitespace());
}

// The period flags, each defaulting to the server's today, and the filters: a usage error for a state name
// that is not one.
template <typename Request>
absl::Status ApplyQuery(PortalSession& s, Request& request) {
  std::string today;
  const auto day = [&](const std::string& flag) {
    if (!flag.empty()) return flag;
    if (today.empty()) today = s.server_today();
    return today;
  };
  request.set_from_date(day(s.options.from));
  request.set_to_date(day(s.options.to));
  if (!s.options.retailer.empty()) request.set_retailer_id(s.options.retailer);
  for (const std::string& name : CommaList(s.options.states)) {
    v1::Claim::State state;
    if (!v1::Claim::State_Parse(absl::AsciiStrToUpper(name), &state)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--states: \"", name, "\" is not a claim state (CONFIRMED, REFUNDED, VOIDED, ...)"));
    }
    request.add_states(state);
  }
  v1::ClaimFilter& filter = *request.mutable_filter();
  filter.set_region_code(s.options.region);
  for (const std::string& type : CommaList(s.options.product_types)) filter.add_product_types(type);
  filter.set_confirmed_from_date(s.options.confirmed_from);
  filter.set_confirmed_to_date(s.options.confirmed_to);
  filter.set_invoice_number(s.options.invoice);
  filter.set_serial_number(s.options.serial);
  if (filter.ByteSizeLong() == 0) request.clear_filter();
  return absl::OkStatus();
}

// --group_by day,region,... → GetTotalsRequest.group_by.
absl::Status ApplyGrouping(const std::string& flag, v1::GetTotalsRequest& request) {
  for (const std::string& name : CommaList(flag)) {
    v1::GetTotalsRequest::Dimension dimension;
    if (!v1::GetTotalsRequest::Dimension_Parse(absl::AsciiStrToUpper(name), &dimension) ||
        dimension == v1::GetTotalsRequest::DIMENSION_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("--group_by: \"", name, "\" is not day, region, retailer or product_type"));
    }
    request.add_group_by(dimension);
  }
  return absl::OkStatus();
}

Table ClaimsTable() {
  return Table({{"CLAIM", Align::kLeft},
                {"STATE", Align::kLeft},
                {"RETAILER", Align::kLeft},
                {"REGION", Align::kLeft},
                {"SUBSIDY", Align::kRight},
                {"REFUNDED", Align::kRight},
                {"CREATED", Align::kLeft}});
}

void AddClaimRow(Table& table, const v1::Claim& claim) {
  table.AddRow({claim.claim_id(), v1::Claim::State_Name(claim.state()), claim.retailer_id(),
                claim.region_code(), FormatYuanGrouped(claim.total_subsidy_fen()),
                FormatYuanGrouped(claim.refunded_fen()), FormatInstantCst(claim.created_at())});
}

// Calls `call` with a fresh context on a stub of the session's channel; a local error's exit code otherwise.
template <typename Call>
int WithStub(PortalSession& s, Call call) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.channel();
  if (!channel.ok()) return s.local_error(channel.status());
  std::unique_ptr<PortalStub> stub = v1::PortalService::NewStub(*channel);
  return call(*stub);
}

int List(PortalSession& s) {
  v1::ListClaimsRequest request;
  if (absl::Status status = ApplyQuery(s, request); !status.ok()) return s.local_error(status);
  return WithStub(s, [&](PortalStub& stub) {
    Table table = ClaimsTable();
    v1::ListClaimsResponse all;
    do {
      absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.context();
      if (!context.ok()) return s.local_error(context.status());
      v1::ListClaimsResponse page;
      const grpc::Status status = stub.ListClaims(context->get(), request, &page);
      if (!status.ok()) return s.failed("list", status);
      for (const v1::Claim& claim : page.claims()) {
        AddClaimRow(table, claim);
        *all.add_claims() = claim;
      }
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
    if (s.options.json) return s.print_json(all);
    s.out << table.Render() << table.rows() << " claims, " << request.from_date() << " .. "
          << request.to_date() << "\n";
    return kExitOk;
  });
}

int Export(PortalSession& s) {
  v1::ExportClaimsRequest request;
  if (absl::Status status = ApplyQuery(s, request); !status.ok()) return s.local_error(status);
  return WithStub(s, [&](PortalStub& stub) {
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.context();
    if (!context.ok()) return s.local_error(context.status());
    std::unique_ptr<grpc::ClientReader<v1::ExportedClaim>> reader =
        stub.ExportClaims(context->get(), request);
    Table table = ClaimsTable();
    if (s.options.csv) s.out << ClaimsCsvHeader();
    v1::ExportedClaim exported;
    while (reader->Read(&exported)) {
      if (s.options.csv) {
        s.out << ClaimCsvRow(exported.claim());
      } else if (s.options.json) {
        s.print_json(exported);
      } else {
        AddClaimRow(table, exported.claim());
      }
    }
    const grpc::Status status = reader->Finish();
    if (!s.options.json && !s.options.csv) s.out << table.Render();
    if (!status.ok()) return s.failed("export", status);  // what was printed stands
    return kExitOk;
  });
}

// The totals as a table: a column for each dimension the rows are grouped by, then the money.
Table TotalsTable(const v1::GetTotalsRequest& request, const v1::Totals& totals, const ProductNames& names) {
  using Request = v1::GetTotalsRequest;
  const auto grouped = [&request](Request::Dimension dimension) {
    return request.group_by().empty() ? dimension != Request::REGION
                                      : absl::c_linear_search(request.group_by(), dimension);
  };
  std::vector<std::pair<std::string, Align>> columns;
  if (grouped(Request::DAY)) columns.emplace_back("DAY", Align::kLeft);
  if (grouped(Request::REGION)) columns.emplace_back("REGION", Align::kLeft);
  if (grouped(Request::PRODUCT_TYPE)) columns.emplace_back("PRODUCT", Align::kLeft);
  if (grouped(Request::RETAILER)) columns.emplace_back("RETAILER", Align::kLeft);
  for (const char* money : {"ITEMS", "UNITS", "GRANTED", "REFUNDED", "NET"})
    columns.emplace_back(money, Align::kRight);
  Table table(std::move(columns));
  for (const v1::TotalsRow& row : totals.rows()) {
    std::vector<std::string> cells;
    if (grouped(Request::DAY)) cells.push_back(row.day());
    if (grouped(Request::REGION)) cells.push_back(row.region_code());
    if (grouped(Request::PRODUCT_TYPE)) cells.push_back(names.Chinese(row.product_type()));
    if (grouped(Request::RETAILER)) cells.push_back(row.retailer_id());
    for (std::string money :
         {absl::StrCat(row.claim_items()), absl::StrCat(row.units()), FormatYuanGrouped(row.granted_fen()),
          FormatYuanGrouped(row.refunded_fen()), FormatYuanGrouped(row.net_fen())}) {
      cells.push_back(std::move(money));
    }
    table.AddRow(std::move(cells));
  }
  return table;
}

int Totals(PortalSession& s) {
  v1::GetTotalsRequest request;
  absl::Status query = ApplyQuery(s, request);
  if (query.ok()) query = ApplyGrouping(s.options.group_by, request);
  if (!query.ok()) return s.local_error(query);
  return WithStub(s, [&](PortalStub& stub) {
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.context();
    if (!context.ok()) return s.local_error(context.status());
    v1::Totals totals;
    const grpc::Status status = stub.GetTotals(context->get(), request, &totals);
    if (!status.ok()) return s.failed("totals", status);
    if (s.options.json) return s.print_json(totals);
    Table table = TotalsTable(request, totals, s.names());
    s.out << table.Render()
          << KeyValues({{"Claims", absl::StrCat(totals.claims())},
                        {"Granted", FormatYuanGrouped(totals.granted_fen())},
                        {"Refunded", FormatYuanGrouped(totals.refunded_fen())},
                        {"Net owed", FormatYuanGrouped(totals.net_fen())}});
    return kExitOk;
  });
}

// Prints the claim an admin action answered with, or its error.
int FinishAdmin(PortalSession& s, absl::string_view what, const grpc::Status& status, const v1::Claim& claim,
                const std::string& request_id) {
  if (!status.ok()) return s.failed(what, status);
  if (s.options.json) return s.print_json(claim);
  s.print_claim(claim);
  s.out << "(" << what << " request id " << request_id << ": repeat it to retry safely)\n";
  return kExitOk;
}

int Void(PortalSession& s, const std::string& claim_id) {
  if (claim_id.empty()) return s.local_error(absl::InvalidArgumentError("void: give the claim id"));
  v1::VoidClaimRequest request;
  request.set_claim_id(claim_id);
  request.set_reason(s.options.reason);
  request.set_request_id(s.options.request_id.empty() ? s.new_request_id() : s.options.request_id);
  return WithStub(s, [&](PortalStub& stub) {
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.context();
    if (!context.ok()) return s.local_error(context.status());
    v1::Claim claim;
    return FinishAdmin(s, "void", stub.VoidClaim(context->get(), request, &claim), claim,
                       request.request_id());
  });
}

// --line LINE:YUAN → the line's new granted amount.
absl::Status ApplyCorrections(const std::vector<std::string>& lines, v1::CorrectClaimRequest& request) {
  if (lines.empty())
    return absl::InvalidArgumentError(
        "correct: give --line LINE:YUAN (the line's new subsidy), --invoice NEW or --serial LINE:OLD:NEW");
  for (const std::string& line : lines) {
    const std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(':', 1));
    absl::StatusOr<int64_t> fen = parts.size() == 2 ? ParseYuan(parts[1]) : absl::InvalidArgumentError("");
    if (parts[0].empty() || !fen.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--line ", line, ": expected LINE:YUAN, e.g. 1:1500.00"));
    }
    v1::LineCorrection* correction = request.add_lines();
    correction->set_line_id(parts[0]);
    correction->set_subsidy_fen(*fen);
  }
  return absl::OkStatus();
}

// --serial LINE:OLD:NEW → one unit's serial number fixed.
absl::Status ApplySerialFix(const std::string& fix, v1::CorrectClaimRequest& request) {
  const std::vector<std::string> parts = absl::StrSplit(fix, ':');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--serial ", fix, ": expected LINE:OLD:NEW, e.g. 1:SN-0001:SN-0010"));
  }
  v1::SerialCorrection& serial = *request.mutable_serial();
  serial.set_line_id(parts[0]);
  serial.set_old_serial_number(parts[1]);
  serial.set_new_serial_number(parts[2]);
  return absl::OkStatus();
}

// What `correct` changes: amounts (--line), the invoice number (--invoice) or a serial (--serial); one of
// them.
absl::Status ApplyCorrection(const CtlOptions& options, v1::CorrectClaimRequest& request) {
  const int given = (options.lines.empty() ? 0 : 1) + (options.invoice.empty() ? 0 : 1) +
                    (options.serial.empty() ? 0 : 1);
  if (given > 1) {
    return absl::InvalidArgumentError("correct: give one of --line, --invoice, --serial (one change a call)");
  }
  if (!options.invoice.empty()) {
    request.set_invoice_number(options.invoice);
    return absl::OkStatus();
  }
  if (!options.serial.empty()) return ApplySerialFix(options.serial, request);
  return ApplyCorrections(options.lines, request);
}

int Correct(PortalSession& s, const std::string& claim_id) {
  if (claim_id.empty()) return s.local_error(absl::InvalidArgumentError("correct: give the claim id"));
  v1::CorrectClaimRequest request;
  request.set_claim_id(claim_id);
  request.set_reason(s.options.reason);
  request.set_request_id(s.options.request_id.empty() ? s.new_request_id() : s.options.request_id);
  if (absl::Status status = ApplyCorrection(s.options, request); !status.ok()) return s.local_error(status);
  return WithStub(s, [&](PortalStub& stub) {
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.context();
    if (!context.ok()) return s.local_error(context.status());
    v1::Claim claim;
    return FinishAdmin(s, "correct", stub.CorrectClaim(context->get(), request, &claim), claim,
                       request.request_id());
  });
}

}  // namespace

bool IsPortalCommand(absl::string_view command) {
  return command == "list" || command == "export" || command == "totals" || command == "void" ||
         command == "correct";
}

int RunPortalCommand(const std::string& command, const std::vector<std::string>& rest, PortalSession& s) {
  const size_t positional = command == "void" || command == "correct" ? 1 : 0;
  if (rest.size() > positional) {
    return s.local_error(absl::InvalidArgumentError(
        absl::StrCat(command, ": unexpected argument \"", rest[positional], "\" (see tradeinctl --help)")));
  }
  const std::string first = rest.empty() ? "" : rest[0];
  if (command == "list") return List(s);
  if (command == "export") return Export(s);
  if (command == "totals") return Totals(s);
  if (command == "void") return Void(s, first);
  return Correct(s, first);
}

}  // namespace tradein::ctl
