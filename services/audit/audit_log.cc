#include "services/audit/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace tradein::audit {
namespace {

void Field(std::string& line, absl::string_view key, absl::string_view value) {
  line.push_back(',');
  AppendJsonString(line, key);
  line.push_back(':');
  AppendJsonString(line, value);
}

void Field(std::string& line, absl::string_view key, int64_t value) {
  line.push_back(',');
  AppendJsonString(line, key);
  absl::StrAppend(&line, ":", value);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  if (path.empty() || path == "-") return std::unique_ptr<AuditLog>(new AuditLog(stdout, false));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  std::FILE* file = fd >= 0 ? ::fdopen(fd, "a") : nullptr;
  if (file == nullptr) {
    if (fd >= 0) ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("cannot open the audit log ", path));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(file, true));
}

AuditLog::~AuditLog() {
  absl::MutexLock lock(&mu_);
  if (owned_) std::fclose(file_);
}

void AuditLog::Record(absl::string_view event, const v1::Claim& claim, int64_t fen,
                      const AuditContext& context, absl::Time now) {
  std::string line = "{\"ts\":";
  AppendJsonString(line, absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%Ez", now, absl::FixedTimeZone(8 * 3600)));
  Field(line, "event", event);
  Field(line, "claim_id", claim.claim_id());
  Field(line, "state", v1::Claim::State_Name(claim.state()));
  Field(line, "caller", context.caller);
  Field(line, "retailer_id", claim.retailer_id());
  Field(line, "request_id", context.request_id);
  Field(line, "client_request_id", claim.request_id());
  Field(line, "buyer_ref", claim.buyer_ref());
  Field(line, "policy_id", claim.policy_id());
  Field(line, "policy_version", claim.policy_version());
  Field(line, "programme", claim.programme());
  Field(line, "region_code", claim.region_code());
  Field(line, "transaction_date", claim.transaction_date());
  Field(line, "fen", fen);
  Field(line, "total_fen", claim.total_subsidy_fen());
  Field(line, "refunded_fen", claim.refunded_fen());
  if (!context.reason.empty()) Field(line, "reason", context.reason);
  line.append(",\"items\":[");
  for (int i = 0; i < claim.items_size(); ++i) {
    const v1::ItemResult& item = claim.items(i);
    line.append(i ? ",{" : "{");
    line.append("\"line_id\":");
    AppendJsonString(line, item.line_id());
    Field(line, "product_type", item.product_type());
    Field(line, "rule_id", item.rule_id());
    Field(line, "units", item.granted_quantity());
    Field(line, "fen", item.subsidy_fen());
    Field(line, "refunded_units", item.refunded_quantity());
    line.push_back('}');
  }
  line.append("]}\n");
  absl::MutexLock lock(&mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace tradein::audit
