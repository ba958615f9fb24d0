#include "common/claims_csv.h"

#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/civil_date.h"
#include "common/money.h"

namespace tradein {
namespace {

// The Chinese name of a claim state (claim_service.proto Claim.State), as the till's errors say it.
absl::string_view StateZh(v1::Claim::State state) {
  static constexpr absl::string_view kNames[] = {"未知状态", "已预留",   "已确认", "已取消", "已过期",
                                                 "已退货",   "部分退货", "已拒绝", "已作废"};
  const int index = static_cast<int>(state);
  return index >= 0 && index < static_cast<int>(std::size(kNames)) ? kNames[index] : kNames[0];
}

std::string ChinaTime(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(t.seconds()), ChinaTimeZone());
}

}  // namespace

std::string CsvCell(absl::string_view text) {
  const bool formula = !text.empty() && absl::string_view("=+-@").find(text[0]) != absl::string_view::npos;
  const std::string cell = formula ? absl::StrCat("'", text) : std::string(text);
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  return absl::StrCat("\"", absl::StrReplaceAll(cell, {{"\"", "\"\""}}), "\"");
}

std::string CsvRow(const std::vector<std::string>& cells) {
  std::string row;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) row += ',';
    row += CsvCell(cells[i]);
  }
  return row + "\r\n";
}

std::string ClaimsCsvHeader() {
  return absl::StrCat(
      kUtf8Bom, CsvRow({"申领编号", "状态", "零售商", "地区代码", "交易日期", "政策", "补贴项目", "商品品类",
                        "补贴件数", "发票号码", "序列号", "核定补贴(元)", "已退金额(元)", "应付补贴(元)",
                        "买方标识", "创建时间", "更新时间", "确认时间"}));
}

std::string ClaimCsvRow(const v1::Claim& claim) {
  std::vector<std::string> product_types;
  std::vector<std::string> serials;
  int64_t units = 0;
  int64_t granted_fen = 0;
  for (const v1::ItemResult& item : claim.items()) {
    product_types.push_back(item.product_type());
    serials.insert(serials.end(), item.serial_numbers().begin(), item.serial_numbers().end());
    units += item.granted_quantity();
    granted_fen += item.subsidy_fen();
  }
  return CsvRow({claim.claim_id(), std::string(StateZh(claim.state())), claim.retailer_id(),
                 claim.region_code(), claim.transaction_date(), claim.policy_id(), claim.programme(),
                 absl::StrJoin(product_types, ";"), absl::StrCat(units), claim.invoice_number(),
                 absl::StrJoin(serials, ";"), FormatYuan(granted_fen), FormatYuan(claim.refunded_fen()),
                 FormatYuan(claim.total_subsidy_fen()), claim.buyer_ref(), ChinaTime(claim.created_at()),
                 ChinaTime(claim.updated_at()), ChinaTime(claim.confirmed_at())});
}

}  // namespace tradein
