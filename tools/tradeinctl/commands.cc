#include "tools/tradeinctl/commands.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/money.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "services/policy/compiled_policy.h"
#include "services/policy/policy_loader.h"
#include "services/policy/policy_summary.h"
#include "services/policy/product_catalogue.h"
#include "tools/tradeinctl/caller_add.h"
#include "tools/tradeinctl/format.h"
#include "tools/tradeinctl/item_syntax.h"
#include "tools/tradeinctl/portal_commands.h"
#include "tools/tradeinctl/product_names.h"
#include "tools/tradeinctl/status_details.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/policy_service.grpc.pb.h"
#include "tradein/v1/portal_service.grpc.pb.h"
#include "tradein/v1/subsidy_service.grpc.pb.h"

namespace tradein::ctl {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// `health all`: the server as a whole and each of these it serves (one it does not know is left out).
constexpr const char* kServices[] = {"tradein.v1.SubsidyService", "tradein.v1.ClaimService",
                                     "tradein.v1.PolicyService", "tradein.v1.PortalService"};

// Everything one command needs: the options, the output streams, a channel made on first use.
class Session {
 public:
  Session(const CtlOptions& options, std::ostream& out, std::ostream& err)
      : options_(options), out_(out), err_(err) {}

  const CtlOptions& options() const { return options_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel();
  // A context with the deadline and the bearer token.
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> Context();
  const ProductNames& names();

  // Prints a failed call (human text to stderr; with --json also the google.rpc.Status to stdout).
  int Failed(absl::string_view what, const grpc::Status& status);
  // Prints a local error (bad flag value, unreadable file).
  int LocalError(const absl::Status& status);
  // Prints a message as proto JSON.
  int PrintJson(const google::protobuf::Message& message);

 private:
  const CtlOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  std::shared_ptr<grpc::Channel> channel_;
  std::optional<ProductNames> names_;
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// "@FILE" → the file's content without trailing blanks; anything else as is.
absl::StatusOr<std::string> ValueOrFile(const std::string& value) {
  if (!absl::StartsWith(value, "@")) return value;
  absl::StatusOr<std::string> content = ReadFile(value.substr(1));
  if (!content.ok()) return content.status();
  return std::string(absl::StripTrailingAsciiWhitespace(*content));
}

bool IsLoopback(absl::string_view target) {
  return absl::StartsWith(target, "127.") || absl::StartsWith(target, "localhost") ||
         absl::StartsWith(target, "[::1]") || absl::StartsWith(target, "unix:");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Session::Channel() {
  if (channel_ != nullptr) return channel_;
  grpc::ChannelArguments arguments;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  const bool tls = !options_.tls_ca.empty() || !options_.tls_cert.empty() || !options_.tls_key.empty();
  if (tls) {
    if (options_.tls_cert.empty() != options_.tls_key.empty()) {
      return absl::InvalidArgumentError(
          "--tls_cert and --tls_key go together (a client certificate and its key)");
    }
    grpc::SslCredentialsOptions ssl;
    if (!options_.tls_ca.empty()) {
      absl::StatusOr<std::string> ca = ReadFile(options_.tls_ca);
      if (!ca.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls_ca: ", ca.status().message()));
      ssl.pem_root_certs = *ca;
    }
    if (!options_.tls_cert.empty()) {
      absl::StatusOr<std::string> cert = ReadFile(options_.tls_cert);
      if (!cert.ok())
        return absl::InvalidArgumentError(absl::StrCat("--tls_cert: ", cert.status().message()));
      absl::StatusOr<std::string> key = ReadFile(options_.tls_key);
      if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls_key: ", key.status().message()));
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    credentials = grpc::SslCredentials(ssl);
    if (!options_.tls_server_name.empty()) arguments.SetSslTargetNameOverride(options_.tls_server_name);
  } else {
    credentials = grpc::InsecureChannelCredentials();
    if (!options_.token.empty() && !IsLoopback(options_.server)) {
      err_ << "tradeinctl: warning: sending the bearer token to " << options_.server
           << " without TLS (set --tls_ca)\n";
    }
  }
  channel_ = grpc::CreateCustomChannel(options_.server, credentials, arguments);
  return channel_;
}

absl::StatusOr<std::unique_ptr<grpc::ClientContext>> Session::Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
  if (!options_.token.empty()) {
    absl::StatusOr<std::string> token = ValueOrFile(options_.token);
    if (!token.ok()) return absl::InvalidArgumentError(absl::StrCat("--token: ", token.status().message()));
    context->AddMetadata("authorization", absl::StrCat("Bearer ", *token));
  }
  return context;
}

const ProductNames& Session::names() {
  if (!names_.has_value()) {
    absl::StatusOr<ProductNames> names = ProductNames::Load(options_.catalogue);
    if (!names.ok()) {
      err_ << "tradeinctl: " << names.status().message() << "; showing product codes\n";
      names = ProductNames::Load("");
    }
    names_ = *std::move(names);
  }
  return *names_;
}

int Session::Failed(absl::string_view what, const grpc::Status& status) {
  err_ << "tradeinctl: " << what << " failed: " << DescribeStatus(status);
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      (absl::StrContains(status.error_message(), "connect") ||
       absl::StrContains(status.error_message(), "Socket"))) {
    err_ << "  (is tradein-server running at " << options_.server << "? is --tls_ca needed?)\n";
  }
  if (options_.json) out_ << StatusToJson(status) << "\n";
  return kExitFailed;
}

int Session::LocalError(const absl::Status& status) {
  err_ << "tradeinctl: " << status.message() << "\n";
  return kExitUsage;
}

int Session::PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  if (auto status = google::protobuf::util::MessageToJsonString(message, &json, options); !status.ok()) {
    err_ << "tradeinctl: cannot print JSON: " << status.ToString() << "\n";
    return kExitFailed;
  }
  out_ << json;
  if (!absl::EndsWith(json, "\n")) out_ << "\n";
  return kExitOk;
}

// --request_json: inline JSON, @FILE, or - for stdin; merged under the flags.
template <typename Request>
absl::Status LoadRequestJson(const CtlOptions& options, Request& request) {
  if (options.request_json.empty()) return absl::OkStatus();
  std::string json = options.request_json;
  if (json == "-") {
    json.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else if (absl::StartsWith(json, "@")) {
    absl::StatusOr<std::string> content = ReadFile(json.substr(1));
    if (!content.ok())
      return absl::InvalidArgumentError(absl::StrCat("--request_json: ", content.status().message()));
    json = *content;
  }
  if (auto status = google::protobuf::util::JsonStringToMessage(json, &request); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--request_json is not a ", request.GetTypeName(), ": ", status.message().as_string()));
  }
  return absl::OkStatus();
}

// Today in China by the server's clock (a server on --simulated_now lives on another day than this machine):
// PolicyService/ListPolicies' serverDate. This machine's day only when the server does not say (an earlier
// version) or cannot be asked (the call that follows will say why).
std::string ServerToday(Session& s) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  v1::ListPoliciesResponse response;
  if (channel.ok() && context.ok() &&
      v1::PolicyService::NewStub(*channel)
          ->ListPolicies(context->get(), v1::ListPoliciesRequest(), &response)
          .ok() &&
      !response.server_date().empty()) {
    return response.server_date();
  }
  return absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 60 * 60));
}

// Region, date (default: the server's today in China, unless a policy id is given) and policy id, where flags
// are set.
template <typename Request>
void ApplySelection(Session& s, Request& request, bool default_date) {
  const CtlOptions& options = s.options();
  if (!options.region.empty()) request.set_region_code(options.region);
  if (!options.policy_id.empty()) request.set_policy_id(options.policy_id);
  if (!options.date.empty()) {
    request.set_transaction_date(options.date);
  } else if (default_date && request.transaction_date().empty() && request.policy_id().empty()) {
    request.set_transaction_date(ServerToday(s));
  }
}

absl::Status ApplyItems(const CtlOptions& options, google::protobuf::RepeatedPtrField<v1::Item>& items) {
  for (const std::string& spec : options.items) {
    absl::StatusOr<v1::Item> item = ParseItem(spec, items.size() + 1);
    if (!item.ok()) return absl::InvalidArgumentError(absl::StrCat("--item ", item.status().message()));
    *items.Add() = *std::move(item);
  }
  return absl::OkStatus();
}

// --buyer, when given (a request without one stays without one).
template <typename Request>
absl::Status ApplyBuyer(const CtlOptions& options, Request& request) {
  if (options.buyer.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> id = ValueOrFile(options.buyer);
  if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat("--buyer: ", id.status().message()));
  request.mutable_buyer()->set_id_type(v1::Buyer::PRC_ID);
  request.mutable_buyer()->set_id_number(*id);
  return absl::OkStatus();
}

// "ctl-20250601T100000-3fa9c2": unique enough for one operator, valid as a requestId ([A-Za-z0-9._:-]).
std::string NewRequestId() {
  absl::BitGen gen;
  return absl::StrFormat("ctl-%s-%06x",
                         absl::FormatTime("%Y%m%dT%H%M%S", absl::Now(), absl::FixedTimeZone(8 * 60 * 60)),
                         absl::Uniform<uint32_t>(gen, 0, 1u << 24));
}

std::string PolicyLine(const std::string& id, const std::string& version, const std::string& programme) {
  std::string line = id;
  std::vector<std::string> parts;
  if (!version.empty()) parts.push_back(absl::StrCat("version ", version));
  if (!programme.empty()) parts.push_back(absl::StrCat("programme ", programme));
  if (!parts.empty()) absl::StrAppend(&line, " (", absl::StrJoin(parts, ", "), ")");
  return line;
}

// The items table shared by quotes and claims, with one note line per explanation, reason and serials.
std::string ItemsTable(const google::protobuf::RepeatedPtrField<v1::ItemResult>& items, bool claim,
                       const ProductNames& names) {
  std::vector<std::pair<std::string, Align>> columns = {
      {"LINE", Align::kLeft}, {"PRODUCT", Align::kLeft}, {"TYPE", Align::kLeft}, {"QTY", Align::kRight}};
  if (claim) {
    columns.push_back({"GRANTED", Align::kRight});
    columns.push_back({"REFUNDED", Align::kRight});
  }
  columns.push_back({"UNIT PRICE", Align::kRight});
  columns.push_back({"SUBSIDY", Align::kRight});
  columns.push_back({"RULE", Align::kLeft});
  Table table(std::move(columns));
  for (const v1::ItemResult& item : items) {
    std::vector<std::string> row = {item.line_id(), names.Chinese(item.product_type()), item.product_type(),
                                    absl::StrCat(item.quantity())};
    if (claim) {
      row.push_back(absl::StrCat(item.granted_quantity()));
      row.push_back(absl::StrCat(item.refunded_quantity()));
    }
    row.push_back(FormatYuanGrouped(item.price_fen()));
    row.push_back(FormatYuanGrouped(item.subsidy_fen()));
    row.push_back(item.rule_id().empty() ? "-" : item.rule_id());
    table.AddRow(std::move(row));
    if (!item.explanation().empty()) table.AddNote(item.explanation());
    if (!item.explanation_zh().empty()) table.AddNote(item.explanation_zh());
    for (const v1::Reason& reason : item.reasons()) {
      std::string text = absl::StrCat("reason: ", reason.code());
      if (!reason.message_zh().empty()) absl::StrAppend(&text, " ", reason.message_zh());
      if (!reason.message().empty()) absl::StrAppend(&text, " (", reason.message(), ")");
      table.AddNote(text);
    }
    if (!item.eligible() && item.reasons().empty()) table.AddNote("not eligible");
    if (!item.serial_numbers().empty()) {
      table.AddNote(absl::StrCat("serials: ", absl::StrJoin(item.serial_numbers(), ", ")));
    }
  }
  return table.Render();
}

// The claim's refunds, voids and corrections, one line each (and a line per changed line of the claim):
//   History
//     2025-06-01 10:00:00 CST  REFUNDED  by shop-9, request r-1: goods returned
//       line 1: 1 unit(s) refunded, 1,000.00 → 500.00 yuan
//     2025-06-01 11:00:00 CST  INVOICE_CORRECTED  by ops, request fix-2: typo
//       INV-1 → INV-2
std::string HistoryText(const v1::Claim& claim) {
  std::string out = "History\n";
  if (claim.history_omitted() > 0)
    absl::StrAppend(&out, "  (", claim.history_omitted(), " earlier changes: see the audit file)\n");
  for (const v1::ClaimEvent& event : claim.history()) {
    absl::StrAppend(&out, "  ", FormatInstantCst(event.at()), "  ", v1::ClaimEvent::Kind_Name(event.kind()),
                    "  by ", event.caller_id(), ", request ", event.request_id(),
                    event.reason().empty() ? "" : absl::StrCat(": ", event.reason()), "\n");
    for (const v1::ClaimEvent::Line& line : event.lines()) {
      absl::StrAppend(
          &out, "    line ", line.line_id(), ": ",
          line.refunded_quantity() == 0 ? "" : absl::StrCat(line.refunded_quantity(), " unit(s) refunded, "),
          FormatYuanGrouped(line.subsidy_fen_before()), " → ", FormatYuanGrouped(line.subsidy_fen_after()),
          " yuan\n");
    }
    if (!event.before().empty() || !event.after().empty())
      absl::StrAppend(&out, "    ", event.before(), " → ", event.after(), "\n");
  }
  return out;
}

void PrintClaim(Session& session, const v1::Claim& claim) {
  std::string state = v1::Claim::State_Name(claim.state());
  if (claim.state() == v1::Claim::RESERVED) {
    absl::StrAppend(&state, ", held until ", FormatInstantCst(claim.expires_at()), " (confirm before then)");
  }
  session.out() << KeyValues({
      {"Claim", claim.claim_id()},
      {"State", state},
      {"Request", claim.request_id()},
      {"Retailer", claim.retailer_id()},
      {"Policy", PolicyLine(claim.policy_id(), claim.policy_version(), claim.programme())},
      {"Sale", absl::StrCat("region ", claim.region_code(), ", ", claim.transaction_date())},
      {"Buyer ref", claim.buyer_ref()},
      {"Invoice", claim.invoice_number()},
      {"Created", FormatInstantCst(claim.created_at())},
      {"Updated", FormatInstantCst(claim.updated_at())},
  });
  session.out() << "\n" << ItemsTable(claim.items(), /*claim=*/true, session.names()) << "\n";
  session.out() << KeyValues({
      {"Subsidy", absl::StrCat(FormatYuanGrouped(claim.total_subsidy_fen()), " yuan")},
      {"Refunded",
       claim.refunded_fen() == 0 ? "" : absl::StrCat(FormatYuanGrouped(claim.refunded_fen()), " yuan")},
  });
  if (claim.history_size() > 0) session.out() << "\n" << HistoryText(claim);
}

// ---------------------------------------------------------------------------------------------------------
// The commands. Each returns the exit code (kExitUsage for a bad argument, before anything is sent).

int Quote(Session& s) {
  v1::QuoteRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  ApplySelection(s, request, /*default_date=*/true);
  if (absl::Status st = ApplyItems(s.options(), *request.mutable_items()); !st.ok()) return s.LocalError(st);
  if (absl::Status st = ApplyBuyer(s.options(), request); !st.ok()) return s.LocalError(st);
  if (request.items().empty())
    return s.LocalError(absl::InvalidArgumentError("quote: give at least one --item"));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  v1::QuoteResponse response;
  const grpc::Status status =
      v1::SubsidyService::NewStub(*channel)->Quote(context->get(), request, &response);
  if (!status.ok()) return s.Failed("quote", status);
  if (s.options().json) return s.PrintJson(response);
  std::string sale = request.policy_id().empty()
                         ? absl::StrCat("region ", request.region_code(), ", ", request.transaction_date())
                         : absl::StrCat("policy pinned", request.transaction_date().empty() ? "" : ", ",
                                        request.transaction_date());
  s.out() << KeyValues({{"Policy", PolicyLine(response.policy_id(), response.policy_version(), "")},
                        {"Sale", sale},
                        {"Buyer quota", request.has_buyer() ? (response.quota_checked()
                                                                   ? "checked"
                                                                   : "NOT checked (quota store unavailable)")
                                                            : ""}})
          << "\n"
          << ItemsTable(response.items(), /*claim=*/false, s.names()) << "\n"
          << KeyValues(
                 {{"Total subsidy", absl::StrCat(FormatYuanGrouped(response.total_subsidy_fen()), " yuan")}});
  return kExitOk;
}

int Claim(Session& s) {
  v1::ClaimRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  ApplySelection(s, request, /*default_date=*/true);
  if (absl::Status st = ApplyItems(s.options(), *request.mutable_items()); !st.ok()) return s.LocalError(st);
  if (absl::Status st = ApplyBuyer(s.options(), request); !st.ok()) return s.LocalError(st);
  if (!s.options().retailer.empty()) request.set_retailer_id(s.options().retailer);
  if (!s.options().request_id.empty()) request.set_request_id(s.options().request_id);
  if (request.request_id().empty()) {
    request.set_request_id(NewRequestId());
    if (!s.options().json) {
      s.err() << "tradeinctl: request id " << request.request_id()
              << " (to retry this claim safely, repeat it with --request_id=" << request.request_id()
              << ")\n";
    }
  }
  if (request.items().empty())
    return s.LocalError(absl::InvalidArgumentError("claim: give at least one --item"));
  if (!request.has_buyer()) return s.LocalError(absl::InvalidArgumentError("claim: --buyer is required"));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  v1::Claim response;
  const grpc::Status status = v1::ClaimService::NewStub(*channel)->Claim(context->get(), request, &response);
  if (!status.ok()) return s.Failed("claim", status);
  if (s.options().json) return s.PrintJson(response);
  PrintClaim(s, response);
  return kExitOk;
}

// confirm / cancel / refund / get: one claim id, positional.
using ClaimCall = std::function<grpc::Status(v1::ClaimService::Stub&, grpc::ClientContext*, v1::Claim*)>;

int CallOnClaim(Session& s, absl::string_view what, const ClaimCall& call) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  v1::Claim response;
  auto stub = v1::ClaimService::NewStub(*channel);
  const grpc::Status status = call(*stub, context->get(), &response);
  if (!status.ok()) return s.Failed(what, status);
  if (s.options().json) return s.PrintJson(response);
  PrintClaim(s, response);
  return kExitOk;
}

int Confirm(Session& s, const std::string& claim_id) {
  v1::ConfirmClaimRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  if (!claim_id.empty()) request.set_claim_id(claim_id);
  if (!s.options().invoice.empty()) request.set_invoice_number(s.options().invoice);
  if (!s.options().retailer.empty()) request.set_retailer_id(s.options().retailer);
  for (const std::string& spec : s.options().serials) {
    absl::StatusOr<v1::LineSerials> serials = ParseLineSerials(spec);
    if (!serials.ok())
      return s.LocalError(absl::InvalidArgumentError(absl::StrCat("--serials ", serials.status().message())));
    *request.add_line_serials() = *std::move(serials);
  }
  if (request.claim_id().empty())
    return s.LocalError(absl::InvalidArgumentError("confirm: give the claim id"));
  return CallOnClaim(s, "confirm", [&](v1::ClaimService::Stub& stub, grpc::ClientContext* c, v1::Claim* r) {
    return stub.ConfirmClaim(c, request, r);
  });
}

int Cancel(Session& s, const std::string& claim_id) {
  v1::CancelClaimRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  if (!claim_id.empty()) request.set_claim_id(claim_id);
  if (!s.options().retailer.empty()) request.set_retailer_id(s.options().retailer);
  if (!s.options().reason.empty()) request.set_reason(s.options().reason);
  if (request.claim_id().empty())
    return s.LocalError(absl::InvalidArgumentError("cancel: give the claim id"));
  return CallOnClaim(s, "cancel", [&](v1::ClaimService::Stub& stub, grpc::ClientContext* c, v1::Claim* r) {
    return stub.CancelClaim(c, request, r);
  });
}

int Refund(Session& s, const std::string& claim_id) {
  v1::RefundClaimRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  if (!claim_id.empty()) request.set_claim_id(claim_id);
  if (!s.options().retailer.empty()) request.set_retailer_id(s.options().retailer);
  if (!s.options().reason.empty()) request.set_reason(s.options().reason);
  if (!s.options().request_id.empty()) request.set_request_id(s.options().request_id);
  for (const std::string& spec : s.options().lines) {
    absl::StatusOr<v1::RefundLine> line = ParseRefundLine(spec);
    if (!line.ok())
      return s.LocalError(absl::InvalidArgumentError(absl::StrCat("--line ", line.status().message())));
    *request.add_lines() = *std::move(line);
  }
  if (request.claim_id().empty())
    return s.LocalError(absl::InvalidArgumentError("refund: give the claim id"));
  if (request.request_id().empty()) {
    request.set_request_id(NewRequestId());
    if (!s.options().json) {
      s.err() << "tradeinctl: refund request id " << request.request_id()
              << " (to retry this refund safely, repeat it with --request_id=" << request.request_id()
              << ")\n";
    }
  }
  return CallOnClaim(s, "refund", [&](v1::ClaimService::Stub& stub, grpc::ClientContext* c, v1::Claim* r) {
    return stub.RefundClaim(c, request, r);
  });
}

int Get(Session& s, const std::string& claim_id) {
  v1::GetClaimRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  if (!claim_id.empty()) request.set_claim_id(claim_id);
  if (request.claim_id().empty()) return s.LocalError(absl::InvalidArgumentError("get: give the claim id"));
  return CallOnClaim(s, "get", [&](v1::ClaimService::Stub& stub, grpc::ClientContext* c, v1::Claim* r) {
    return stub.GetClaim(c, request, r);
  });
}

std::string UnitsOrDash(bool limited, int32_t value) { return limited ? absl::StrCat(value) : "-"; }
std::string YuanOrDash(bool limited, int64_t fen) { return limited ? FormatYuanGrouped(fen) : "-"; }

int UsageCommand(Session& s) {
  v1::GetBuyerUsageRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  ApplySelection(s, request, /*default_date=*/true);
  if (absl::Status st = ApplyBuyer(s.options(), request); !st.ok()) return s.LocalError(st);
  if (!request.has_buyer()) return s.LocalError(absl::InvalidArgumentError("usage: --buyer is required"));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  v1::BuyerUsage response;
  const grpc::Status status =
      v1::ClaimService::NewStub(*channel)->GetBuyerUsage(context->get(), request, &response);
  if (!status.ok()) return s.Failed("usage", status);
  if (s.options().json) return s.PrintJson(response);
  s.out() << KeyValues({{"Buyer ref", response.buyer_ref()},
                        {"Policy", PolicyLine(response.policy_id(), "", response.programme())}})
          << "\n";
  Table table({{"QUOTA", Align::kLeft},
               {"NAME", Align::kLeft},
               {"PRODUCT", Align::kLeft},
               {"PROGRAMME", Align::kLeft},
               {"USED", Align::kRight},
               {"LIMIT", Align::kRight},
               {"LEFT", Align::kRight},
               {"USED (YUAN)", Align::kRight},
               {"LIMIT (YUAN)", Align::kRight},
               {"LEFT (YUAN)", Align::kRight}});
  for (const v1::QuotaUsage& quota : response.quotas()) {
    table.AddRow({quota.quota_id(), quota.title_zh().empty() ? quota.title() : quota.title_zh(),
                  quota.product_type().empty() ? "-" : s.names().Chinese(quota.product_type()),
                  quota.programme(), UnitsOrDash(quota.has_unit_limit(), quota.used_units()),
                  UnitsOrDash(quota.has_unit_limit(), quota.limit_units()),
                  UnitsOrDash(quota.has_unit_limit(), quota.remaining_units()),
                  YuanOrDash(quota.has_amount_limit(), quota.used_fen()),
                  YuanOrDash(quota.has_amount_limit(), quota.limit_fen()),
                  YuanOrDash(quota.has_amount_limit(), quota.remaining_fen())});
  }
  if (table.rows() == 0) {
    s.out() << "The policy has no per-buyer quotas.\n";
  } else {
    s.out() << table.Render();
  }
  return kExitOk;
}

int Budget(Session& s) {
  v1::GetBudgetUsageRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  ApplySelection(s, request, /*default_date=*/true);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  v1::BudgetUsage response;
  const grpc::Status status =
      v1::ClaimService::NewStub(*channel)->GetBudgetUsage(context->get(), request, &response);
  if (!status.ok()) return s.Failed("budget", status);
  if (s.options().json) return s.PrintJson(response);
  s.out() << KeyValues({{"Policy", PolicyLine(response.policy_id(), "", response.programme())}}) << "\n";
  if (response.budgets().empty()) {
    s.out() << "The policy has no budgets.\n";
    return kExitOk;
  }
  Table table({{"BUDGET", Align::kLeft},
               {"TITLE", Align::kLeft},
               {"PROGRAMME", Align::kLeft},
               {"TOTAL (YUAN)", Align::kRight},
               {"USED (YUAN)", Align::kRight},
               {"LEFT (YUAN)", Align::kRight},
               {"USED", Align::kRight}});
  for (const v1::BudgetStatus& budget : response.budgets()) {
    // Basis points of the total, exact: the share is for people, the amounts are the record.
    const int64_t bp = budget.total_fen() > 0 ? budget.used_fen() * 10000 / budget.total_fen() : 0;
    table.AddRow({budget.budget_id(), budget.title(), budget.programme(),
                  FormatYuanGrouped(budget.total_fen()), FormatYuanGrouped(budget.used_fen()),
                  FormatYuanGrouped(budget.remaining_fen()),
                  bp > 10000 ? ">100%" : FormatRate(static_cast<int32_t>(bp))});
  }
  s.out() << table.Render();
  return kExitOk;
}

std::string Window(const v1::DateWindow& window) {
  if (window.first_day().empty() && window.last_day().empty()) return "-";
  return absl::StrCat(window.first_day(), " .. ", window.last_day());
}

int Policies(Session& s) {
  v1::ListPoliciesRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  if (!s.options().region.empty()) request.set_region_code(s.options().region);
  if (!s.options().date.empty()) request.set_transaction_date(s.options().date);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  v1::ListPoliciesResponse response;
  const grpc::Status status =
      v1::PolicyService::NewStub(*channel)->ListPolicies(context->get(), request, &response);
  if (!status.ok()) return s.Failed("policies", status);
  if (s.options().json) return s.PrintJson(response);
  s.out() << KeyValues({{"Snapshot", response.snapshot_version()}, {"Loaded", response.loaded_at()}}) << "\n";
  Table table({{"ID", Align::kLeft},
               {"REGION", Align::kLeft},
               {"INHERITS", Align::kLeft},
               {"PROGRAMME", Align::kLeft},
               {"TRANSACTIONS", Align::kLeft},
               {"CLAIMS", Align::kLeft},
               {"VERSION", Align::kLeft},
               {"TITLE", Align::kLeft}});
  for (const v1::PolicySummary& policy : response.policies()) {
    table.AddRow({policy.policy_id(), policy.region_code(),
                  policy.inherits().empty() ? "-" : policy.inherits(), policy.programme(),
                  Window(policy.transaction_window()), Window(policy.claim_window()), policy.version(),
                  policy.title_zh().empty() ? policy.title() : policy.title_zh()});
  }
  if (table.rows() == 0) {
    s.out() << "No policy matches.\n";
  } else {
    s.out() << table.Render();
  }
  return kExitOk;
}

int Policy(Session& s, const std::string& id) {
  v1::GetPolicyRequest request;
  if (absl::Status st = LoadRequestJson(s.options(), request); !st.ok()) return s.LocalError(st);
  if (!id.empty()) request.set_policy_id(id);
  if (!s.options().policy_id.empty()) request.set_policy_id(s.options().policy_id);
  if (!s.options().region.empty()) request.set_region_code(s.options().region);
  if (!s.options().date.empty()) request.set_transaction_date(s.options().date);
  if (request.policy_id().empty() && request.region_code().empty()) {
    return s.LocalError(absl::InvalidArgumentError("policy: give a policy id, or --region and --date"));
  }
  if (request.policy_id().empty() && request.transaction_date().empty())
    request.set_transaction_date(ServerToday(s));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  v1::Policy response;
  const grpc::Status status =
      v1::PolicyService::NewStub(*channel)->GetPolicy(context->get(), request, &response);
  if (!status.ok()) return s.Failed("policy", status);
  if (s.options().json) return s.PrintJson(response);
  // The server sends the merged policy; compiling it here with the catalogue gives the linter's summary.
  absl::StatusOr<policy::ProductCatalogue> catalogue =
      policy::ProductCatalogue::Build(s.names().catalogue(), "catalogue");
  absl::StatusOr<std::unique_ptr<policy::CompiledPolicy>> compiled =
      catalogue.ok() ? policy::CompiledPolicy::Compile(response, *catalogue)
                     : absl::StatusOr<std::unique_ptr<policy::CompiledPolicy>>(catalogue.status());
  if (!compiled.ok()) {
    s.out() << KeyValues({{"Policy", PolicyLine(response.id(), response.version(), response.programme())},
                          {"Title", absl::StrCat(response.title(), " ", response.title_zh())},
                          {"Region", response.region_code()}})
            << "(cannot summarise the rules here: " << compiled.status().message()
            << "; --json prints them all)\n";
    return kExitOk;
  }
  s.out() << policy::SummarizePolicy(**compiled, *catalogue);
  return kExitOk;
}

int Lint(Session& s, const std::string& dir) {
  const policy::PolicyLoadReport report = policy::LoadPolicyDirectoryReport(dir, absl::Now());
  if (report.snapshot == nullptr) {
    for (const auto& problem : report.problems) s.out() << problem.ToString() << "\n";
    s.out() << dir << ": refused, " << report.problems.size() << " problem(s)\n";
    return kExitFailed;
  }
  const policy::PolicySnapshot& snapshot = *report.snapshot;
  for (const auto& compiled : snapshot.policies()) {
    if (s.options().summary) {
      s.out() << policy::SummarizePolicy(*compiled, snapshot.catalogue()) << "\n";
    } else {
      s.out() << "ok  " << compiled->id() << "  region " << compiled->region_code() << "  version "
              << compiled->version() << "  " << compiled->rules().size() << " rules, "
              << compiled->quotas().size() << " quotas, " << compiled->budgets().size() << " budgets\n";
    }
  }
  s.out() << dir << ": " << snapshot.policies().size() << " policies, " << snapshot.catalogue().size()
          << " product types, snapshot " << snapshot.version() << "\n";
  return kExitOk;
}

int Health(Session& s, std::vector<std::string> services) {
  if (services.empty()) services.push_back("");
  const bool all = services.size() == 1 && services[0] == "all";
  if (all) {
    services = {""};
    for (const char* service : kServices) services.push_back(service);
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  Table table({{"SERVICE", Align::kLeft}, {"STATUS", Align::kLeft}});
  std::string json = "{\n";
  bool all_serving = true;
  for (const std::string& service : services) {
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
    if (!context.ok()) return s.LocalError(context.status());
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    const grpc::Status status = stub->Check(context->get(), request, &response);
    const std::string name = service.empty() ? "(server)" : service;
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      if (all) continue;
      response.set_status(HealthCheckResponse::SERVICE_UNKNOWN);
    } else if (!status.ok()) {
      return s.Failed(absl::StrCat("health check of ", name), status);
    }
    all_serving = all_serving && response.status() == HealthCheckResponse::SERVING;
    table.AddRow({name, HealthCheckResponse::ServingStatus_Name(response.status())});
    if (s.options().json && services.size() == 1) {
      s.PrintJson(response);
    } else {
      absl::StrAppend(&json, json.size() > 2 ? ",\n" : "", "  \"", service, "\": \"",
                      HealthCheckResponse::ServingStatus_Name(response.status()), "\"");
    }
  }
  if (!s.options().json) {
    s.out() << table.Render();
  } else if (services.size() > 1) {
    s.out() << json << "\n}\n";
  }
  return all_serving ? kExitOk : kExitFailed;
}

// The reason catalogue (PolicyService/ListReasons): code, where, what a till does, English and Chinese.
int Reasons(Session& s) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  v1::ListReasonsResponse response;
  const grpc::Status status =
      v1::PolicyService::NewStub(*channel)->ListReasons(context->get(), v1::ListReasonsRequest(), &response);
  if (!status.ok()) return s.Failed("reasons", status);
  if (s.options().json) return s.PrintJson(response);
  Table table({{"CODE", Align::kLeft},
               {"GRPC", Align::kLeft},
               {"TILL", Align::kLeft},
               {"中文", Align::kLeft},
               {"ENGLISH", Align::kLeft}});
  for (const v1::ReasonInfo& reason : response.reasons()) {
    table.AddRow({reason.code(), reason.grpc_code().empty() ? "(item)" : reason.grpc_code(),
                  v1::ReasonInfo::TillAction_Name(reason.till_action()), reason.message_zh(),
                  reason.message()});
  }
  s.out() << table.Render() << response.reasons_size() << " reasons\n";
  return kExitOk;
}

int Reload(Session& s) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  v1::ReloadPoliciesResponse response;
  const grpc::Status status = v1::PortalService::NewStub(*channel)->ReloadPolicies(
      context->get(), v1::ReloadPoliciesRequest(), &response);
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    s.err()
        << "tradeinctl: reload is not available: this tradein-server has no PortalService/ReloadPolicies.\n"
        << "  Reload instead by sending SIGHUP to each instance (kill -HUP <pid>; in Kubernetes\n"
        << "  kubectl exec <pod> -- sh -c 'kill -HUP 1'), or run the server with --policy_watch.\n"
        << "  Check the directory first: tradeinctl lint <dir>.\n";
    return kExitFailed;
  }
  // FAILED_PRECONDITION: a file was refused and the server keeps its current policies (problems in the
  // message).
  if (!status.ok()) return s.Failed("reload", status);
  if (s.options().json) return s.PrintJson(response);
  s.out() << KeyValues({{"Snapshot", response.snapshot_version()}});
  for (const std::string& version : response.policy_versions()) s.out() << "  " << version << "\n";
  if (!response.callers_file().empty()) {
    s.out() << "callers: " << response.callers() << " from " << response.callers_file() << "\n";
  }
  if (response.instances().empty()) {
    s.out()
        << "(one instance reloaded: " << s.options().server
        << "; a server on the memory store, or of an earlier version: behind a load balancer, reload each)\n";
    return kExitOk;
  }
  Table table({{"Instance", Align::kLeft},
               {"Address", Align::kLeft},
               {"Snapshot", Align::kLeft},
               {"Reloaded", Align::kLeft}});
  for (const v1::InstancePolicies& instance : response.instances()) {
    table.AddRow({instance.instance_id(), instance.address(), instance.snapshot_version(),
                  instance.reloaded() ? "yes" : "NO"});
  }
  s.out() << table.Render();
  if (!response.not_reported().empty()) {
    s.err() << "tradeinctl: reload: not reported within the bound: "
            << absl::StrJoin(response.not_reported(), ", ") << "\n";
    return kExitFailed;
  }
  return kExitOk;
}

// The draft directory as the request carries it: every *.textproto file, by name.
absl::Status AddDraftFiles(const std::string& dir, v1::SimulatePolicyRequest& request) {
  std::error_code error;
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".textproto") paths.push_back(entry.path());
  }
  if (error) return absl::InvalidArgumentError(absl::StrCat("--policy_dir: ", dir, ": ", error.message()));
  std::sort(paths.begin(), paths.end());
  for (const std::filesystem::path& path : paths) {
    absl::StatusOr<std::string> text = ReadFile(path.string());
    if (!text.ok()) return text.status();
    v1::PolicyFileText* file = request.add_policy_files();
    file->set_name(path.filename().string());
    file->set_text(*std::move(text));
  }
  return absl::OkStatus();
}

// Days to exhaustion for people: "never" at no spending.
std::string Days(int64_t days) { return days < 0 ? "never" : absl::StrCat(days); }

void PrintSimulationCsv(const v1::SimulationReport& report, std::ostream& out) {
  out << "product_type,rule_id,region_code,claims,lines,units,subsidy_today_fen,subsidy_draft_fen,"
         "difference_fen,lines_becoming_eligible,lines_becoming_ineligible\n";
  for (const v1::SimulationRow& r : report.rows()) {
    out << absl::StrJoin(
               {r.product_type(), r.rule_id(), r.region_code(), absl::StrCat(r.claims()),
                absl::StrCat(r.lines()), absl::StrCat(r.units()), absl::StrCat(r.subsidy_today_fen()),
                absl::StrCat(r.subsidy_draft_fen()), absl::StrCat(r.difference_fen()),
                absl::StrCat(r.lines_becoming_eligible()), absl::StrCat(r.lines_becoming_ineligible())},
               ",")
        << "\n";
  }
}

void PrintSimulationTable(Session& s, const v1::SimulationReport& report) {
  Table rows({{"PRODUCT TYPE", Align::kLeft},
              {"RULE", Align::kLeft},
              {"REGION", Align::kLeft},
              {"CLAIMS", Align::kRight},
              {"UNITS", Align::kRight},
              {"TODAY (YUAN)", Align::kRight},
              {"DRAFT (YUAN)", Align::kRight},
              {"DIFFERENCE", Align::kRight},
              {"+ELIGIBLE", Align::kRight},
              {"-ELIGIBLE", Align::kRight}});
  for (const v1::SimulationRow& r : report.rows()) {
    rows.AddRow({absl::StrCat(r.product_type(), " ", s.names().Chinese(r.product_type())), r.rule_id(),
                 r.region_code(), absl::StrCat(r.claims()), absl::StrCat(r.units()),
                 FormatYuanGrouped(r.subsidy_today_fen()), FormatYuanGrouped(r.subsidy_draft_fen()),
                 FormatYuanGrouped(r.difference_fen()), absl::StrCat(r.lines_becoming_eligible()),
                 absl::StrCat(r.lines_becoming_ineligible())});
  }
  s.out() << rows.Render() << "\n";
  s.out() << KeyValues(
      {{"Claims", absl::StrCat(report.claims_scanned(), " read, ", report.claims_replayed(), " replayed, ",
                               report.claims_not_replayable(),
                               " not replayable (made before claims kept their inputs)")},
       {"Subsidy", absl::StrCat(FormatYuanGrouped(report.subsidy_today_fen()), " today, ",
                                FormatYuanGrouped(report.subsidy_draft_fen()),
                                " under the draft, difference ", FormatYuanGrouped(report.difference_fen()))},
       {"Draft", report.draft_version()},
       {"Quota", "not re-simulated: each line keeps the units the ledger granted"}});
  if (report.budgets().empty()) return;
  Table budgets({{"BUDGET", Align::kLeft},
                 {"POLICY", Align::kLeft},
                 {"TOTAL (YUAN)", Align::kRight},
                 {"USED NOW", Align::kRight},
                 {"PERIOD TODAY", Align::kRight},
                 {"PERIOD DRAFT", Align::kRight},
                 {"DAYS LEFT TODAY", Align::kRight},
                 {"DAYS LEFT DRAFT", Align::kRight}});
  for (const v1::BudgetForecast& b : report.budgets()) {
    budgets.AddRow({b.budget_id(), b.policy_id(), FormatYuanGrouped(b.total_fen()),
                    FormatYuanGrouped(b.used_fen()), FormatYuanGrouped(b.period_today_fen()),
                    FormatYuanGrouped(b.period_draft_fen()), Days(b.days_to_exhaustion_today()),
                    Days(b.days_to_exhaustion_draft())});
  }
  s.out() << "\n" << budgets.Render();
}

// A long period is one long call: at least kSimulateDeadline, whatever --deadline says.
constexpr absl::Duration kSimulateDeadline = absl::Minutes(10);

int Simulate(Session& s) {
  const CtlOptions& o = s.options();
  if (o.policy_dir.empty() || o.from.empty() || o.to.empty()) {
    s.err() << "tradeinctl: simulate: give --policy_dir, --from and --to\n";
    return kExitUsage;
  }
  v1::SimulatePolicyRequest request;
  request.set_from_date(o.from);
  request.set_to_date(o.to);
  request.set_region_code(o.region);
  if (absl::Status st = AddDraftFiles(o.policy_dir, request); !st.ok()) return s.LocalError(st);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = s.Channel();
  if (!channel.ok()) return s.LocalError(channel.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = s.Context();
  if (!context.ok()) return s.LocalError(context.status());
  (*context)->set_deadline(absl::ToChronoTime(absl::Now() + std::max(o.deadline, kSimulateDeadline)));
  std::unique_ptr<grpc::ClientReader<v1::SimulationUpdate>> reader =
      v1::PortalService::NewStub(*channel)->SimulatePolicy(context->get(), request);
  v1::SimulationUpdate update;
  std::optional<v1::SimulationReport> report;
  while (reader->Read(&update)) {
    if (update.has_report()) report = update.report();
    if (update.has_progress()) {
      s.err() << "\rtradeinctl: simulate: " << update.progress().claims_scanned() << " claims read, up to "
              << update.progress().last_day() << std::flush;
    }
  }
  s.err() << "\n";
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return s.Failed("simulate", status);
  if (!report.has_value()) return s.LocalError(absl::InternalError("the server sent no report"));
  if (o.json) return s.PrintJson(*report);
  if (o.csv) {
    PrintSimulationCsv(*report, s.out());
  } else {
    PrintSimulationTable(s, *report);
  }
  return kExitOk;
}

// The session as the portal commands (portal_commands.h) use it.
PortalSession PortalSessionOf(Session& s) {
  return PortalSession{
      s.options(),
      s.out(),
      [&s] { return s.Channel(); },
      [&s] { return s.Context(); },
      [&s](absl::string_view what, const grpc::Status& status) { return s.Failed(what, status); },
      [&s](const absl::Status& status) { return s.LocalError(status); },
      [&s](const google::protobuf::Message& message) { return s.PrintJson(message); },
      [&s](const v1::Claim& claim) { PrintClaim(s, claim); },
      [&s] { return ServerToday(s); },
      [&s]() -> const ProductNames& { return s.names(); },
      [] { return NewRequestId(); }};
}

}  // namespace

int RunCommand(const std::vector<std::string>& args, const CtlOptions& options, std::ostream& out,
               std::ostream& err) {
  Session session(options, out, err);
  if (args.empty()) {
    err << "tradeinctl: no command (see tradeinctl --help)\n";
    return kExitUsage;
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  const auto at_most = [&](size_t n) {
    if (rest.size() <= n) return true;
    err << "tradeinctl: " << command << ": unexpected argument \"" << rest[n]
        << "\" (see tradeinctl --help)\n";
    return false;
  };
  const std::string first = rest.empty() ? "" : rest[0];
  if (command == "quote") return at_most(0) ? Quote(session) : kExitUsage;
  if (command == "claim") return at_most(0) ? Claim(session) : kExitUsage;
  if (command == "confirm") return at_most(1) ? Confirm(session, first) : kExitUsage;
  if (command == "cancel") return at_most(1) ? Cancel(session, first) : kExitUsage;
  if (command == "refund") return at_most(1) ? Refund(session, first) : kExitUsage;
  if (command == "get") return at_most(1) ? Get(session, first) : kExitUsage;
  if (command == "usage") return at_most(0) ? UsageCommand(session) : kExitUsage;
  if (command == "budget") return at_most(0) ? Budget(session) : kExitUsage;
  if (command == "policies") return at_most(0) ? Policies(session) : kExitUsage;
  if (command == "policy") return at_most(1) ? Policy(session, first) : kExitUsage;
  if (command == "health") return Health(session, rest);
  if (command == "reload") return at_most(0) ? Reload(session) : kExitUsage;
  if (command == "caller") {
    if (rest.size() != 1 || first != "add") {
      err << "tradeinctl: caller: the command is `caller add` (see tradeinctl --help)\n";
      return kExitUsage;
    }
    return AddCaller(options, out, err);
  }
  if (command == "reasons") return at_most(0) ? Reasons(session) : kExitUsage;
  if (command == "simulate") return at_most(0) ? Simulate(session) : kExitUsage;
  if (IsPortalCommand(command)) {
    PortalSession portal = PortalSessionOf(session);
    return RunPortalCommand(command, rest, portal);
  }
  if (command == "lint") {
    if (rest.size() != 1) {
      err << "tradeinctl: lint: give one policy directory\n";
      return kExitUsage;
    }
    return Lint(session, first);
  }
  err << "tradeinctl: unknown command \"" << command << "\" (see tradeinctl --help)\n";
  return kExitUsage;
}

}  // namespace tradein::ctl
