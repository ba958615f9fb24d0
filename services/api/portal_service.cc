#include "services/api/portal_service.h"

#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "services/api/basket.h"
#include "services/api/claim_calls.h"
#include "services/api/claim_filter.h"
#include "services/api/claim_preparation.h"
#include "services/api/claim_view.h"
#include "services/api/grpc_status.h"
#include "services/api/policy_simulation.h"
#include "services/api/simulation_stream.h"
#include "services/api/stream_reactor.h"
#include "services/identity/imei.h"
#include "services/policy/region.h"

namespace tradein::api {
namespace {

using quota::ClaimPage;
using quota::ClaimPageRequest;
using quota::ClaimRecord;
using quota::ClaimState;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr int kExportPageSize = 200;
constexpr int kMaxPeriodDays = 366;
// With filters, one ListClaims call reads at most this many claims of the period (then answers a page that
// may be short, with a token to go on), so a filter that matches little cannot make a call read a whole year.
constexpr int kMaxScannedPerPage = 5000;

struct Period {
  absl::CivilDay first;
  absl::CivilDay last;
};

absl::StatusOr<Period> ParsePeriod(const std::string& from, const std::string& to) {
  std::vector<FieldViolation> violations;
  const std::optional<absl::CivilDay> first = ParseCivilDay(from);
  const std::optional<absl::CivilDay> last = ParseCivilDay(to);
  if (!first) violations.push_back({"fromDate", "DATE_INVALID", "must be a real date written YYYY-MM-DD"});
  if (!last) violations.push_back({"toDate", "DATE_INVALID", "must be a real date written YYYY-MM-DD"});
  if (first && last && (*last < *first || *last - *first >= kMaxPeriodDays)) {
    violations.push_back(
        {"toDate", "PERIOD_INVALID", "must be on or after fromDate, at most 366 days in all"});
  }
  if (!violations.empty()) return InvalidArgumentError(violations);
  return Period{*first, *last};
}

// The period and retailer filter every portal read takes.
absl::StatusOr<Period> ParseReadFilter(const std::string& from, const std::string& to,
                                       const std::string& retailer_id) {
  TRADEIN_ASSIGN_OR_RETURN(Period period, ParsePeriod(from, to));
  if (!retailer_id.empty()) TRADEIN_RETURN_IF_ERROR(ValidateClientId(retailer_id, "retailerId"));
  return period;
}

// The states and filter a portal read takes besides its period.
absl::StatusOr<ClaimMatcher> ParseFilters(const google::protobuf::RepeatedField<int>& states,
                                          const v1::ClaimFilter& filter) {
  TRADEIN_RETURN_IF_ERROR(ValidateStates(states, "states"));
  return ClaimMatcher::Create(filter);
}

// The query a page token of `request` is bound to: the request without what may change between pages.
template <typename Request>
std::string DigestOf(const Request& request, absl::string_view scope, const identity::KeyedHasher& hasher) {
  Request query = request;
  if constexpr (std::is_same_v<Request, v1::ListClaimsRequest>) {
    query.clear_page_token();
    query.clear_page_size();
  } else {
    query.clear_resume_token();
  }
  if (query.filter().ByteSizeLong() == 0) query.clear_filter();  // `filter: {}` is no filter
  return QueryDigest(query, scope, hasher);
}

// A store listing of `period` with states as of `now` (a hold that ended by then reads EXPIRED).
ClaimPageRequest PageRequest(const std::string& retailer_id, const Period& period, bool newest_first,
                             std::string cursor, int limit, absl::Time now) {
  ClaimPageRequest page;
  page.retailer_id = retailer_id;
  page.first_day = period.first;
  page.last_day = period.last;
  page.newest_first = newest_first;
  page.cursor = std::move(cursor);
  page.limit = limit;
  page.now = now;
  return page;
}

// What every administrative change of a claim must carry: a claim id, its own request id and a reason.
absl::Status ValidateAdminChange(const std::string& claim_id, const std::string& request_id,
                                 const std::string& reason) {
  TRADEIN_RETURN_IF_ERROR(ValidateClaimId(claim_id));
  TRADEIN_RETURN_IF_ERROR(ValidateClientId(request_id, "requestId"));
  return ValidateReason(reason, /*required=*/true);
}

// A correction asks for exactly one of: new amounts (lines), an invoice number, a serial number.
absl::Status ValidateCorrection(const v1::CorrectClaimRequest& request) {
  const int asked = (request.lines().empty() ? 0 : 1) + (request.invoice_number().empty() ? 0 : 1) +
                    (request.has_serial() ? 1 : 0);
  if (asked != 1) {
    return InvalidArgumentError(
        {{"lines", "FIELD_REQUIRED", "exactly one of: lines (new amounts), invoiceNumber, serial"}});
  }
  std::vector<FieldViolation> violations;
  for (int i = 0; i < request.lines_size(); ++i) {
    if (request.lines(i).line_id().empty() || request.lines(i).subsidy_fen() < 0) {
      violations.push_back({absl::StrCat("lines[", i, "]"), "LINE_INVALID", "a lineId and an amount ≥ 0"});
    }
  }
  if (request.invoice_number().size() > kMaxIdLength) {
    violations.push_back(
        {"invoiceNumber", "FIELD_TOO_LONG", absl::StrCat("at most ", kMaxIdLength, " bytes")});
  }
  if (request.has_serial()) {
    const v1::SerialCorrection& serial = request.serial();
    if (serial.line_id().empty() || serial.line_id().size() > kMaxIdLength)
      violations.push_back({"serial.lineId", "FIELD_REQUIRED", "the line's id, 1-64 characters"});
    if (serial.old_serial_number().empty() || serial.old_serial_number().size() > kMaxIdLength)
      violations.push_back({"serial.oldSerialNumber", "SERIAL_INVALID", "1-64 characters"});
    if (serial.new_serial_number().empty() || serial.new_serial_number().size() > kMaxIdLength)
      violations.push_back({"serial.newSerialNumber", "SERIAL_INVALID", "1-64 characters"});
  }
  return violations.empty() ? absl::OkStatus() : InvalidArgumentError(violations);
}

// Money counted by settlement: claims that owe (or owed) the retailer something.
bool CountsForSettlement(ClaimState state) {
  return state == ClaimState::kConfirmed || state == ClaimState::kPartiallyRefunded ||
         state == ClaimState::kRefunded || state == ClaimState::kVoided;
}

// Streams every claim of a period, one page of the store at a time.
//
// Lifetime: gRPC deletes the reactor in OnDone, which may come (after a cancel or a failed write) while a
// page fetch is still in flight. So nothing the store's callback touches lives in the reactor: it lives in an
// ExportStream that the reactor and every in-flight fetch hold by shared_ptr. The stream calls the reactor
// (StartWrite, Finish) only until it has finished it, under its mutex; after that the reactor may be gone
// and a late page is dropped. A fetch is never started with the mutex held (the memory store answers
// inline, on the calling thread).
class ExportStream : public StreamCore<v1::ExportedClaim>, public std::enable_shared_from_this<ExportStream> {
 public:
  // The query: the store's listing, then `matcher`; resume tokens are bound to `digest`.
  struct Query {
    ClaimPageRequest request;
    ClaimMatcher matcher;
    std::string digest;
  };

  ExportStream(grpc::ServerWriteReactor<v1::ExportedClaim>& reactor, quota::QuotaStore& store, Query query,
               absl::Time call_deadline, absl::Duration store_timeout)
      : StreamCore(reactor, store, call_deadline, store_timeout),
        matcher_(std::move(query.matcher)),
        digest_(std::move(query.digest)),
        request_(std::move(query.request)) {}

  // Writes the next claim, or fetches the next page, or finishes: called at the start and after each write.
  void Next() {
    ClaimPageRequest fetch;
    {
      absl::MutexLock lock(&mu_);
      if (!WriteOrFinishLocked()) return;
      fetch = request_;
    }
    store_.ListClaims(
        std::move(fetch), StoreDeadline(),
        [self = shared_from_this()](absl::StatusOr<ClaimPage> page) { self->OnPage(std::move(page)); });
  }

 private:
  void OnPage(absl::StatusOr<ClaimPage> page) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;  // cancelled while the page was on its way
      if (!page.ok()) return FinishLocked(ToGrpcStatus(page.status()));
      page_ = *std::move(page);
      next_ = 0;
      fetched_ = true;
    }
    Next();
  }

  // Starts the next write (of the next claim that passes the filter) or finishes the stream; true when the
  // next page must be fetched instead.
  bool WriteOrFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return false;
    while (next_ < page_.entries.size()) {
      const ClaimPage::Entry& entry = page_.entries[next_++];
      out_.Clear();
      if (absl::Status status = ViewClaim(entry.record, *out_.mutable_claim()); !status.ok()) {
        FinishLocked(ToGrpcStatus(status));
        return false;
      }
      request_.cursor = entry.cursor;
      if (!matcher_.Matches(entry.record, out_.claim())) continue;
      out_.set_resume_token(BoundToken(entry.cursor, digest_));
      StartWriteLocked(&out_);
      return false;
    }
    const bool last_page = fetched_ && (!page_.more || page_.entries.empty());
    if (last_page) {
      FinishLocked(grpc::Status::OK);
      return false;
    }
    return true;
  }

  const ClaimMatcher matcher_;
  const std::string digest_;
  ClaimPageRequest request_ ABSL_GUARDED_BY(mu_);
  ClaimPage page_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  bool fetched_ ABSL_GUARDED_BY(mu_) = false;   // a first page has arrived
  v1::ExportedClaim out_ ABSL_GUARDED_BY(mu_);  // the write in flight
};

using ExportReactor = StreamReactor<v1::ExportedClaim, ExportStream>;

// Reads one page of ListClaims: store pages until the page is full, the period ends, or (with filters)
// kMaxScannedPerPage claims were read; the token points after the last claim read, matching or not.
class ListCollector : public std::enable_shared_from_this<ListCollector> {
 public:
  ListCollector(quota::QuotaStore& store, ClaimPageRequest request, ClaimMatcher matcher, std::string digest,
                absl::Time call_deadline, absl::Duration store_timeout, grpc::ServerUnaryReactor* reactor,
                v1::ListClaimsResponse* response)
      : store_(store),
        request_(std::move(request)),
        page_size_(request_.limit),
        matcher_(std::move(matcher)),
        digest_(std::move(digest)),
        call_deadline_(call_deadline),
        store_timeout_(store_timeout),
        reactor_(reactor),
        response_(response) {}

  void Next() {
    // Without filters every claim read is shown: read just what the page lacks, as before filters existed.
    request_.limit = matcher_.filters() ? std::min(kMaxPageSize, kMaxScannedPerPage - scanned_)
                                        : page_size_ - response_->claims_size();
    store_.ListClaims(
        request_, std::min(call_deadline_, absl::Now() + store_timeout_),
        [self = shared_from_this()](absl::StatusOr<ClaimPage> page) { self->OnPage(std::move(page)); });
  }

 private:
  void OnPage(absl::StatusOr<ClaimPage> page) {
    if (!page.ok()) return reactor_->Finish(ToGrpcStatus(page.status()));
    for (size_t i = 0; i < page->entries.size(); ++i) {
      const ClaimPage::Entry& entry = page->entries[i];
      v1::Claim* claim = response_->add_claims();
      if (absl::Status status = ViewClaim(entry.record, *claim); !status.ok())
        return reactor_->Finish(ToGrpcStatus(status));
      if (!matcher_.Matches(entry.record, *claim)) response_->mutable_claims()->RemoveLast();
      request_.cursor = entry.cursor;
      ++scanned_;
      if (response_->claims_size() == page_size_ || scanned_ >= kMaxScannedPerPage)
        return Answer(/*more=*/i + 1 < page->entries.size() || page->more);
    }
    if (page->more && !page->entries.empty()) return Next();
    Answer(/*more=*/false);
  }

  void Answer(bool more) {
    if (more) response_->set_next_page_token(BoundToken(request_.cursor, digest_));
    reactor_->Finish(grpc::Status::OK);
  }

  quota::QuotaStore& store_;
  ClaimPageRequest request_;
  const int page_size_;
  const ClaimMatcher matcher_;
  const std::string digest_;
  const absl::Time call_deadline_;
  const absl::Duration store_timeout_;
  grpc::ServerUnaryReactor* reactor_;
  v1::ListClaimsResponse* response_;
  int scanned_ = 0;
};

using Dimension = v1::GetTotalsRequest::Dimension;

// The dimensions of a GetTotalsRequest: each at most once; none = day, retailer, product type (the answer
// from before groupBy existed).
absl::StatusOr<absl::flat_hash_set<int>> ParseGrouping(const google::protobuf::RepeatedField<int>& group_by) {
  if (group_by.empty())
    return absl::flat_hash_set<int>{v1::GetTotalsRequest::DAY, v1::GetTotalsRequest::RETAILER,
                                    v1::GetTotalsRequest::PRODUCT_TYPE};
  absl::flat_hash_set<int> dimensions;
  for (int i = 0; i < group_by.size(); ++i) {
    const int dimension = group_by.Get(i);
    if (dimension == v1::GetTotalsRequest::DIMENSION_UNSPECIFIED ||
        !v1::GetTotalsRequest::Dimension_IsValid(dimension) || !dimensions.insert(dimension).second) {
      return InvalidArgumentError({{absl::StrCat("groupBy[", i, "]"), "GROUP_BY_INVALID",
                                    "DAY, REGION, RETAILER or PRODUCT_TYPE, each at most once"}});
    }
  }
  return dimensions;
}

// Adds up the settlement money of every claim of a period that passes the filter, page by page, then answers.
class TotalsCollector : public std::enable_shared_from_this<TotalsCollector> {
 public:
  TotalsCollector(quota::QuotaStore& store, ClaimPageRequest request, ClaimMatcher matcher,
                  absl::flat_hash_set<int> dimensions, absl::Time deadline, grpc::ServerUnaryReactor* reactor,
                  v1::Totals* response)
      : store_(store),
        request_(std::move(request)),
        matcher_(std::move(matcher)),
        dimensions_(std::move(dimensions)),
        deadline_(deadline),
        reactor_(reactor),
        response_(response) {}

  void Next() {
    store_.ListClaims(request_, deadline_, [self = shared_from_this()](absl::StatusOr<ClaimPage> page) {
      if (!page.ok()) return self->reactor_->Finish(ToGrpcStatus(page.status()));
      for (const ClaimPage::Entry& entry : page->entries) {
        if (absl::Status status = self->Add(entry.record); !status.ok())
          return self->reactor_->Finish(ToGrpcStatus(status));
      }
      if (page->more && !page->entries.empty()) {
        self->request_.cursor = page->entries.back().cursor;
        return self->Next();
      }
      self->Answer();
    });
  }

 private:
  // day, region, retailer, product type: the row order; a dimension not grouped by is "".
  using Key = std::tuple<std::string, std::string, std::string, std::string>;

  std::string If(Dimension dimension, std::string value) const {
    return dimensions_.contains(dimension) ? std::move(value) : std::string();
  }

  absl::Status Add(const ClaimRecord& record) {
    if (!CountsForSettlement(record.state)) return absl::OkStatus();
    v1::Claim claim;
    TRADEIN_RETURN_IF_ERROR(ViewClaim(record, claim));
    if (!matcher_.Matches(record, claim)) return absl::OkStatus();
    ++claims_;
    const std::string day = If(v1::GetTotalsRequest::DAY, FormatCivilDay(ChinaCivilDay(record.created_at)));
    const std::string region = If(v1::GetTotalsRequest::REGION, claim.region_code());
    const std::string retailer = If(v1::GetTotalsRequest::RETAILER, record.retailer_id);
    for (size_t i = 0; i < record.grants.size(); ++i) {
      const std::string& product_type = claim.items(static_cast<int>(i)).product_type();
      if (record.grants[i].units == 0 || !matcher_.CountsProductType(product_type)) continue;
      v1::TotalsRow& row =
          rows_[{day, region, retailer, If(v1::GetTotalsRequest::PRODUCT_TYPE, product_type)}];
      row.set_claim_items(row.claim_items() + 1);
      row.set_units(row.units() + record.grants[i].units);
      row.set_granted_fen(row.granted_fen() + record.grants[i].fen);
      row.set_refunded_fen(row.refunded_fen() + record.refunds[i].fen);
    }
    return absl::OkStatus();
  }

  void Answer() {
    for (auto& [key, row] : rows_) {
      row.set_day(std::get<0>(key));
      row.set_region_code(std::get<1>(key));
      row.set_retailer_id(std::get<2>(key));
      row.set_product_type(std::get<3>(key));
      row.set_net_fen(row.granted_fen() - row.refunded_fen());
      response_->set_granted_fen(response_->granted_fen() + row.granted_fen());
      response_->set_refunded_fen(response_->refunded_fen() + row.refunded_fen());
      *response_->add_rows() = std::move(row);
    }
    response_->set_net_fen(response_->granted_fen() - response_->refunded_fen());
    response_->set_claims(claims_);
    reactor_->Finish(grpc::Status::OK);
  }

  quota::QuotaStore& store_;
  ClaimPageRequest request_;
  const ClaimMatcher matcher_;
  const absl::flat_hash_set<int> dimensions_;
  const absl::Time deadline_;
  grpc::ServerUnaryReactor* reactor_;
  v1::Totals* response_;
  std::map<Key, v1::TotalsRow> rows_;
  int64_t claims_ = 0;
};

}  // namespace

PortalService::PortalService(const Clock& clock, const identity::KeyedHasher& hasher,
                             quota::QuotaStore& store, CallGate& gate, ClaimEvents& events, Options options)
    : clock_(clock),
      hasher_(hasher),
      store_(store),
      gate_(gate),
      events_(events),
      options_(std::move(options)) {}

absl::Time PortalService::StoreDeadline(const grpc::CallbackServerContext& context) const {
  return std::min(absl::FromChrono(context.deadline()), absl::Now() + options_.store_timeout);
}

grpc::ServerUnaryReactor* PortalService::ListClaims(grpc::CallbackServerContext* context,
                                                    const v1::ListClaimsRequest* request,
                                                    v1::ListClaimsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kPortalRead);
  if (!grant.ok()) return Refuse(reactor, grant.status());
  absl::StatusOr<Period> period =
      ParseReadFilter(request->from_date(), request->to_date(), request->retailer_id());
  if (!period.ok()) return Refuse(reactor, period.status());
  if (request->page_size() < 0 || request->page_size() > kMaxPageSize) {
    return Refuse(reactor,
                  InvalidArgumentError({{"pageSize", "PAGE_SIZE_OUT_OF_RANGE", "0 (default 50) .. 500"}}));
  }
  absl::StatusOr<ClaimMatcher> matcher = ParseFilters(request->states(), request->filter());
  if (!matcher.ok()) return Refuse(reactor, matcher.status());
  const std::string digest = DigestOf(*request, "list-query", hasher_);
  absl::StatusOr<std::string> cursor =
      CursorOfToken(request->page_token(), digest, /*legacy_ok=*/!matcher->filters(), "pageToken");
  if (!cursor.ok()) return Refuse(reactor, cursor.status());
  ClaimPageRequest page =
      PageRequest(request->retailer_id(), *period, /*newest_first=*/true, *cursor,
                  request->page_size() == 0 ? kDefaultPageSize : request->page_size(), clock_.Now());
  for (int state : request->states()) page.states.push_back(static_cast<ClaimState>(state));
  std::make_shared<ListCollector>(store_, std::move(page), *std::move(matcher), digest,
                                  absl::FromChrono(context->deadline()), options_.store_timeout, reactor,
                                  response)
      ->Next();
  return reactor;
}

grpc::ServerWriteReactor<v1::ExportedClaim>* PortalService::ExportClaims(
    grpc::CallbackServerContext* context, const v1::ExportClaimsRequest* request) {
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kPortalRead);
  absl::StatusOr<Period> period =
      grant.ok() ? ParseReadFilter(request->from_date(), request->to_date(), request->retailer_id())
                 : grant.status();
  absl::StatusOr<ClaimMatcher> matcher =
      period.ok() ? ParseFilters(request->states(), request->filter()) : period.status();
  const std::string digest = DigestOf(*request, "export-query", hasher_);
  absl::StatusOr<std::string> cursor =
      matcher.ok()
          ? CursorOfToken(request->resume_token(), digest,
                          /*legacy_ok=*/!matcher->filters() && request->states().empty(), "resumeToken")
          : matcher.status();
  if (!cursor.ok()) return RefuseStream<v1::ExportedClaim>(cursor.status());
  ClaimPageRequest page = PageRequest(request->retailer_id(), *period, /*newest_first=*/false, *cursor,
                                      kExportPageSize, clock_.Now());
  for (int state : request->states()) page.states.push_back(static_cast<ClaimState>(state));
  return new ExportReactor(store_, ExportStream::Query{std::move(page), *std::move(matcher), digest},
                           absl::FromChrono(context->deadline()), options_.store_timeout);
}

grpc::ServerWriteReactor<v1::SimulationUpdate>* PortalService::SimulatePolicy(
    grpc::CallbackServerContext* context, const v1::SimulatePolicyRequest* request) {
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kPortalRead);
  if (!grant.ok()) return RefuseStream<v1::SimulationUpdate>(grant.status());
  absl::StatusOr<Period> period = ParsePeriod(request->from_date(), request->to_date());
  if (!period.ok()) return RefuseStream<v1::SimulationUpdate>(period.status());
  if (!request->region_code().empty() && !policy::IsRegionCode(request->region_code())) {
    return RefuseStream<v1::SimulationUpdate>(
        InvalidArgumentError({{"regionCode", "REGION_CODE_INVALID", "must be a 6-digit GB/T 2260 code"}}));
  }
  absl::StatusOr<std::shared_ptr<const policy::PolicySnapshot>> draft =
      LoadDraftPolicies(request->policy_files(), clock_.Now());
  if (!draft.ok()) return RefuseStream<v1::SimulationUpdate>(draft.status());
  // Like the totals, a simulation reads many pages: it may use the whole of the caller's deadline.
  return StartSimulationStream(
      store_, PageRequest("", *period, /*newest_first=*/false, "", kMaxPageSize, clock_.Now()),
      PolicySimulation(*std::move(draft), request->region_code(), period->first, period->last),
      absl::FromChrono(context->deadline()), options_.store_timeout);
}

grpc::ServerUnaryReactor* PortalService::GetTotals(grpc::CallbackServerContext* context,
                                                   const v1::GetTotalsRequest* request,
                                                   v1::Totals* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kPortalRead);
  if (!grant.ok()) return Refuse(reactor, grant.status());
  absl::StatusOr<Period> period =
      ParseReadFilter(request->from_date(), request->to_date(), request->retailer_id());
  if (!period.ok()) return Refuse(reactor, period.status());
  absl::StatusOr<ClaimMatcher> matcher = ParseFilters(request->states(), request->filter());
  if (!matcher.ok()) return Refuse(reactor, matcher.status());
  absl::StatusOr<absl::flat_hash_set<int>> dimensions = ParseGrouping(request->group_by());
  if (!dimensions.ok()) return Refuse(reactor, dimensions.status());
  ClaimPageRequest page =
      PageRequest(request->retailer_id(), *period, /*newest_first=*/false, "", kMaxPageSize, clock_.Now());
  for (int state : request->states()) page.states.push_back(static_cast<ClaimState>(state));
  // A report reads many pages: it may use the whole of the caller's deadline, not just one store timeout.
  std::make_shared<TotalsCollector>(store_, std::move(page), *std::move(matcher), *std::move(dimensions),
                                    absl::FromChrono(context->deadline()), reactor, response)
      ->Next();
  return reactor;
}

grpc::ServerUnaryReactor* PortalService::ReloadPolicies(grpc::CallbackServerContext* context,
                                                        const v1::ReloadPoliciesRequest* request,
                                                        v1::ReloadPoliciesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kAdmin);
  if (!grant.ok()) return Refuse(reactor, grant.status());
  // Loading a policy directory reads a few files (milliseconds); done inline, as SIGHUP does.
  const absl::Status status = options_.reload();
  if (!status.ok()) {
    return Refuse(reactor, ReasonError(absl::StatusCode::kFailedPrecondition, "POLICY_RELOAD_FAILED",
                                       status.message()));
  }
  *response = options_.describe_policies();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* PortalService::VoidClaim(grpc::CallbackServerContext* context,
                                                   const v1::VoidClaimRequest* request, v1::Claim* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kAdmin);
  absl::Status status = grant.status();
  if (status.ok())
    status = ValidateAdminChange(request->claim_id(), request->request_id(), request->reason());
  if (!status.ok()) return Refuse(reactor, status);
  audit::AuditContext audit = AuditContextOf(gate_.calls, context, request->reason());
  store_.Void(
      {request->claim_id(), request->request_id(), Fingerprint(*request, "void-request", hasher_),
       clock_.Now(), NoteOf(audit)},
      StoreDeadline(*context),
      FinishWithClaim(reactor, response, events_, "VoidClaim",
                      [this, audit = std::move(audit)](const ClaimRecord& record, const v1::Claim& claim) {
                        events_.Voided(claim, record.last_change_fen, audit);
                      }));
  return reactor;
}

grpc::ServerUnaryReactor* PortalService::CorrectClaim(grpc::CallbackServerContext* context,
                                                      const v1::CorrectClaimRequest* request,
                                                      v1::Claim* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Grant> grant = AuthorizeCall(gate_, *context, *request, auth::Action::kAdmin);
  absl::Status status = grant.status();
  if (status.ok())
    status = ValidateAdminChange(request->claim_id(), request->request_id(), request->reason());
  if (status.ok()) status = ValidateCorrection(*request);
  if (!status.ok()) return Refuse(reactor, status);
  audit::AuditContext audit = AuditContextOf(gate_.calls, context, request->reason());
  if (request->lines().empty()) {
    FixConfirmation(context, request, std::move(audit), reactor, response);
    return reactor;
  }
  quota::CorrectRequest correct{request->claim_id(),
                                request->request_id(),
                                Fingerprint(*request, "correct-request", hasher_),
                                {},
                                clock_.Now(),
                                NoteOf(audit),
                                std::nullopt};
  for (const v1::LineCorrection& line : request->lines())
    correct.lines.push_back({line.line_id(), line.subsidy_fen()});
  store_.Correct(
      std::move(correct), StoreDeadline(*context),
      FinishWithClaim(reactor, response, events_, "CorrectClaim",
                      [this, audit = std::move(audit)](const ClaimRecord& record, const v1::Claim& claim) {
                        events_.Corrected(claim, record.last_change_fen, audit);
                      }));
  return reactor;
}

void PortalService::FixConfirmation(grpc::CallbackServerContext* context,
                                    const v1::CorrectClaimRequest* request, audit::AuditContext audit,
                                    grpc::ServerUnaryReactor* reactor, v1::Claim* response) {
  // The fix is computed from the claim's confirmation as read here; the store applies it only while the claim
  // still has that confirmation (else ABORTED: the caller retries with the same requestId).
  store_.Get(request->claim_id(), clock_.Now(), StoreDeadline(*context),
             [this, context, request, audit = std::move(audit), reactor,
              response](absl::StatusOr<ClaimRecord> current) mutable {
               absl::StatusOr<quota::CorrectRequest> fix =
                   current.ok() ? ConfirmationFix(*request, *current) : current.status();
               if (!fix.ok()) {
                 Refuse(reactor, fix.status());
                 return;
               }
               fix->note = NoteOf(audit);
               const std::string what =
                   fix->fix->kind == quota::ClaimEvent::Kind::kInvoiceCorrected ? "invoice" : "serial";
               store_.Correct(
                   *std::move(fix), StoreDeadline(*context),
                   FinishWithClaim(reactor, response, events_, "CorrectClaim",
                                   [this, what, audit = std::move(audit)](const ClaimRecord& record,
                                                                          const v1::Claim& claim) {
                                     // Reported only for the call that made the change: its event is
                                     // the claim's last.
                                     const quota::ClaimEvent event =
                                         record.history.empty() ? quota::ClaimEvent{} : record.history.back();
                                     events_.ConfirmationFixed(claim, what, event.before, event.after, audit);
                                   }));
             });
}

absl::StatusOr<quota::CorrectRequest> PortalService::ConfirmationFix(const v1::CorrectClaimRequest& request,
                                                                     const ClaimRecord& record) const {
  v1::ConfirmClaimRequest confirmation;
  if (!confirmation.ParseFromString(record.confirmation)) {
    return absl::InternalError(
        absl::StrCat("claim ", record.claim_id, ": stored confirmation does not parse"));
  }
  quota::CorrectRequest::Fix fix;
  fix.expected_confirmation = record.confirmation;
  if (!request.has_serial()) {
    fix.kind = quota::ClaimEvent::Kind::kInvoiceCorrected;
    fix.before = confirmation.invoice_number();
    fix.after = request.invoice_number();
    confirmation.set_invoice_number(request.invoice_number());
  } else {
    const v1::SerialCorrection& serial = request.serial();
    if (options_.policies && ImeiLines(record, options_.policies()->catalogue()).contains(serial.line_id()) &&
        !identity::IsValidImei(serial.new_serial_number())) {
      return InvalidArgumentError(
          {{"serial.newSerialNumber", "IMEI_INVALID",
            "a phone's serial number is its IMEI: 15 digits, the last the Luhn check digit"}});
    }
    fix.kind = quota::ClaimEvent::Kind::kSerialCorrected;
    fix.before = absl::StrCat(serial.line_id(), ": ", serial.old_serial_number());
    fix.after = absl::StrCat(serial.line_id(), ": ", serial.new_serial_number());
    fix.old_serial = SerialKeyOf(serial.line_id(), serial.old_serial_number(), "serial.oldSerialNumber");
    fix.new_serial = SerialKeyOf(serial.line_id(), serial.new_serial_number(), "serial.newSerialNumber");
    // The recorded serial (written as confirmed, whatever its case) becomes the new one. One the record does
    // not list leaves the confirmation as it is: the store answers SERIAL_NOT_ON_LINE, or replays a retry.
    for (v1::LineSerials& line : *confirmation.mutable_line_serials()) {
      if (line.line_id() != serial.line_id()) continue;
      for (std::string& number : *line.mutable_serial_numbers()) {
        if (absl::AsciiStrToUpper(number) == absl::AsciiStrToUpper(serial.old_serial_number())) {
          number = serial.new_serial_number();
          break;
        }
      }
    }
  }
  fix.confirmation = confirmation.SerializeAsString();
  quota::CorrectRequest correct{request.claim_id(),
                                request.request_id(),
                                Fingerprint(request, "correct-request", hasher_),
                                {},
                                clock_.Now(),
                                {},
                                std::move(fix)};
  return correct;
}

quota::SerialKey PortalService::SerialKeyOf(const std::string& line_id, const std::string& serial,
                                            const std::string& field) const {
  return {"", hasher_.ScopedKey("serial", absl::AsciiStrToUpper(serial)), line_id, field};
}

}  // namespace tradein::api
