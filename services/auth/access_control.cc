#include "services/auth/access_control.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "grpcpp/security/auth_context.h"
#include "services/policy/region.h"

namespace tradein::auth {
namespace {

constexpr int64_t kNanosPerToken = 1'000'000'000;
constexpr absl::string_view kBearer = "bearer ";

absl::Status Unauthenticated() {
  return ReasonError(absl::StatusCode::kUnauthenticated, "UNAUTHENTICATED",
                     "present an mTLS client certificate or `authorization: Bearer <key>` whose SHA-256 is "
                     "an api_key_sha256 "
                     "in the callers file (hash the key without a newline: printf %s \"$KEY\" | sha256sum)");
}

absl::Status Denied(absl::string_view reason, absl::string_view message) {
  return ReasonError(absl::StatusCode::kPermissionDenied, reason, message);
}

// What `action` lets a caller do, in English and Chinese, for a denial's message.
std::pair<absl::string_view, absl::string_view> ActionWords(Action action) {
  switch (action) {
    case Action::kQuote:
      return {"ask for quotes", "查询补贴报价"};
    case Action::kReadPolicy:
      return {"read policies", "查看补贴政策"};
    case Action::kClaim:
      return {"make claims", "申领补贴"};
    case Action::kChangeClaim:
      return {"confirm, cancel or refund claims", "确认、取消或退货"};
    case Action::kReadClaim:
      return {"read claims", "查看申领"};
    case Action::kReadUsage:
      return {"read quota or budget usage", "查看名额或资金使用情况"};
    case Action::kPortalRead:
      return {"read the portal's listings, exports and totals", "查看监管平台的申领列表、导出和汇总"};
    case Action::kAdmin:
      return {"reload policies or void or correct claims", "重新加载政策、作废或更正申领"};
  }
  return {"do this", "执行此操作"};
}

absl::string_view RoleZh(Caller::Role role) {
  switch (role) {
    case Caller::RETAILER:
      return "零售商";
    case Caller::PORTAL:
      return "监管平台";
    case Caller::ADMIN:
      return "管理员";
    default:
      return "未知角色";
  }
}

// PERMISSION_DENIED ROLE_NOT_ALLOWED naming the caller, its role and what it tried, e.g. "caller portal-1
// (role PORTAL) may not reload policies or void or correct claims".
absl::Status RoleNotAllowed(const Caller& caller, Action action) {
  const auto [en, zh] = ActionWords(action);
  return WithChineseMessage(
      Denied("ROLE_NOT_ALLOWED", absl::StrCat("caller ", caller.id(), " (role ",
                                              Caller::Role_Name(caller.role()), ") may not ", en)),
      absl::StrCat("终端", caller.id(), "（角色：", RoleZh(caller.role()), " ",
                   Caller::Role_Name(caller.role()), "）无权", zh));
}

bool RoleMay(Caller::Role role, Action action) {
  switch (action) {
    case Action::kQuote:
    case Action::kReadPolicy:
    case Action::kReadClaim:
    case Action::kReadUsage:
      return true;
    case Action::kClaim:
    case Action::kChangeClaim:
      return role == Caller::RETAILER;
    case Action::kPortalRead:
      return role == Caller::PORTAL || role == Caller::ADMIN;
    case Action::kAdmin:
      return role == Caller::ADMIN;
  }
  return false;
}

// The callers-table entry the call's credentials name, or nullptr.
const Caller* Identify(const grpc::ServerContextBase& context, const CallersTable& table) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const char* property : {"x509_subject_alternative_name", "x509_common_name"}) {
      for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
        if (const Caller* caller = table.FindByTlsIdentity(absl::string_view(value.data(), value.size()))) {
          return caller;
        }
      }
    }
  }
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find("authorization");
  if (header == metadata.end()) return nullptr;
  // The scheme is case-insensitive (RFC 7235 §2.1); spaces around the key are not part of it.
  absl::string_view value =
      absl::StripAsciiWhitespace(absl::string_view(header->second.data(), header->second.size()));
  if (!absl::StartsWithIgnoreCase(value, kBearer)) return nullptr;
  return table.FindByApiKey(absl::StripAsciiWhitespace(value.substr(kBearer.size())));
}

// Whether `region` is one of the retailer's regions or inside one.
bool InRegions(const Caller& caller, absl::string_view region) {
  if (!policy::IsRegionCode(region)) return false;
  const policy::RegionChain chain = policy::AncestorsOf(region);
  for (int i = 0; i < chain.size; ++i) {
    const std::string& code = chain.codes[static_cast<size_t>(i)];
    if (std::find(caller.region_codes().begin(), caller.region_codes().end(), code) !=
        caller.region_codes().end()) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::string_view ActionName(Action action) {
  switch (action) {
    case Action::kQuote:
      return "quote";
    case Action::kReadPolicy:
      return "read_policy";
    case Action::kClaim:
      return "claim";
    case Action::kChangeClaim:
      return "change_claim";
    case Action::kReadClaim:
      return "read_claim";
    case Action::kReadUsage:
      return "read_usage";
    case Action::kPortalRead:
      return "portal_read";
    case Action::kAdmin:
      return "admin";
  }
  return "unknown";
}

AccessControl::AccessControl(std::shared_ptr<const CallersTable> callers) : callers_(std::move(callers)) {}

void AccessControl::ReplaceCallers(std::shared_ptr<const CallersTable> callers) {
  callers_.store(std::move(callers));
}

absl::Status AccessControl::TakeToken(const Caller& caller) {
  const int64_t rate = caller.rate_limit().requests_per_second();
  if (rate <= 0) return absl::OkStatus();
  const int64_t capacity =
      (caller.rate_limit().burst() > 0 ? caller.rate_limit().burst() : rate) * kNanosPerToken;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  absl::MutexLock lock(&buckets_mu_);
  auto [it, fresh] = buckets_.try_emplace(caller.id(), Bucket{capacity, now});
  Bucket& bucket = it->second;
  // Beyond the time a bucket takes to fill, idle time adds nothing: capping it first keeps the product within
  // int64 whatever the rate and however long the caller was away.
  const int64_t elapsed_nanos = std::min(now - bucket.refilled_nanos, capacity / rate + 1);
  bucket.tokens_nanos = std::min(capacity, bucket.tokens_nanos + elapsed_nanos * rate);
  bucket.refilled_nanos = now;
  if (bucket.tokens_nanos >= kNanosPerToken) {
    bucket.tokens_nanos -= kNanosPerToken;
    return absl::OkStatus();
  }
  const int64_t wait_ms = ((kNanosPerToken - bucket.tokens_nanos) / rate + 999'999) / 1'000'000;
  return WithRetryDelay(
      ReasonError(absl::StatusCode::kResourceExhausted, "RATE_LIMITED",
                  absl::StrCat("over ", rate, " requests per second; retry in ", wait_ms, " ms")),
      wait_ms);
}

absl::StatusOr<Grant> AccessControl::Authorize(const grpc::ServerContextBase& context, Action action,
                                               absl::string_view request_retailer,
                                               absl::string_view request_region, std::string* caller_id) {
  const std::shared_ptr<const CallersTable> table = callers_.load();
  if (table == nullptr) {
    if (caller_id != nullptr) *caller_id = "anonymous";
    return Grant{"anonymous", std::string(request_retailer), false};
  }
  const Caller* caller = Identify(context, *table);
  if (caller == nullptr) return Unauthenticated();
  if (caller_id != nullptr) *caller_id = caller->id();
  if (absl::Status status = TakeToken(*caller); !status.ok()) return status;
  if (!RoleMay(caller->role(), action)) {
    return RoleNotAllowed(*caller, action);
  }
  if (caller->role() != Caller::RETAILER) return Grant{caller->id(), std::string(request_retailer), false};
  if (!request_retailer.empty() && request_retailer != caller->retailer_id()) {
    return Denied("RETAILER_MISMATCH", "retailerId is not the caller's own");
  }
  if (action == Action::kClaim && !InRegions(*caller, request_region)) {
    return Denied("REGION_NOT_ALLOWED", "the caller's shops are not in this region");
  }
  return Grant{caller->id(), caller->retailer_id(), true};
}

}  // namespace tradein::auth
