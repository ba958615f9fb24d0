#include "common/reasons.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tradein {
namespace {

using absl::StatusCode;
constexpr ReasonScope kItem = ReasonScope::kItem;
constexpr ReasonScope kError = ReasonScope::kError;
constexpr ReasonScope kBoth = ReasonScope::kBoth;
constexpr ReasonScope kGateway = ReasonScope::kGateway;
constexpr TillAction kShow = TillAction::kShowToCashier;
constexpr TillAction kRetry = TillAction::kRetrySameRequest;
constexpr TillAction kSupport = TillAction::kCallSupport;

// clang-format off
constexpr Reason kReasons[] = {
    // An item's reasons (services/pricing/reason.h): the item is not (fully) granted.
    {"NOT_COVERED", kItem, StatusCode::kOk, kShow,
     "the policy in force does not subsidise this product type", "本政策不补贴该品类"},
    {"OUTSIDE_PROGRAMME_WINDOW", kItem, StatusCode::kOk, kShow,
     "the transaction date is outside the programme's window", "交易日期不在活动期内"},
    {"GRADE_NOT_ELIGIBLE", kItem, StatusCode::kOk, kShow,
     "the energy or water efficiency grade does not qualify", "能效或水效等级不符合补贴条件"},
    {"PRICE_ABOVE_CEILING", kItem, StatusCode::kOk, kShow,
     "the unit price is above the subsidy's price ceiling", "单件售价超过补贴限价"},
    {"PRICE_BELOW_MINIMUM", kItem, StatusCode::kOk, kShow,
     "the unit price is below the subsidy's minimum", "售价低于补贴最低标准"},
    {"OLD_VEHICLE_TOO_NEW", kItem, StatusCode::kOk, kShow,
     "the old car was first registered after the cut-off date", "旧车注册登记日期晚于规定日期"},
    {"OWNERSHIP_TOO_RECENT", kItem, StatusCode::kOk, kShow,
     "the old car has been in the buyer's name since after the cut-off date", "旧车登记在本人名下的时间晚于规定日期"},
    {"DISPLACEMENT_TOO_LARGE", kItem, StatusCode::kOk, kShow,
     "the new car's engine displacement is above the limit", "新车排量超过规定上限"},
    {"NOT_IN_NEV_CATALOGUE", kItem, StatusCode::kOk, kShow,
     "the new car is not in the NEV purchase-tax exemption catalogue",
     "新车不在《减免车辆购置税的新能源汽车车型目录》内"},
    {"FUEL_PAIRING_NOT_ALLOWED", kItem, StatusCode::kOk, kShow,
     "this old car's fuel type does not qualify for this new car", "旧车与新车的燃料类型组合不符合规定"},
    {"HOME_TOO_NEW", kItem, StatusCode::kOk, kShow,
     "the home was completed too recently to count as an old home", "房屋竣工验收时间不符合旧房条件"},
    {"OLD_BIKE_REQUIRED", kItem, StatusCode::kOk, kShow,
     "an old e-bike must be handed in for scrapping", "须交售旧电动自行车"},
    {"NEW_BIKE_NOT_CERTIFIED", kItem, StatusCode::kOk, kShow,
     "the new e-bike needs its certificate of conformity and CCC certification", "新车须具备合格证和CCC认证"},
    {"CLAIM_WINDOW_CLOSED", kBoth, StatusCode::kFailedPrecondition, kShow,
     "the rule's claim window is not open today", "不在补贴申领期内"},
    {"QUOTA_EXHAUSTED", kItem, StatusCode::kOk, kShow,
     "the buyer has no quota left for this product type", "该品类补贴名额已用完"},
    {"HOME_ALREADY_USED", kItem, StatusCode::kOk, kShow,
     "this home has already been subsidised in this programme", "该房屋已享受过补贴"},
    {"VEHICLE_ALREADY_USED", kItem, StatusCode::kOk, kShow,
     "this old car has already been used for a subsidy in this programme", "该旧车已用于申领补贴"},
    {"AMOUNT_CAP_REACHED", kItem, StatusCode::kOk, kShow,
     "granted only the rest of the buyer's cumulative cap", "已达累计补贴上限，仅补贴剩余额度"},
    {"BUDGET_EXHAUSTED", kItem, StatusCode::kOk, kShow,
     "the programme's budget is used up", "补贴资金已用完"},
    {"SERIAL_ALREADY_SUBSIDISED", kBoth, StatusCode::kFailedPrecondition, kShow,
     "this unit's serial number has already been subsidised", "该商品序列号已享受过补贴"},
    {"NEW_VEHICLE_ALREADY_SUBSIDISED", kItem, StatusCode::kOk, kShow,
     "this new car (its VIN) has already taken a car subsidy: one per new car, scrappage or replacement",
     "该新车(车架号)已享受过汽车以旧换新补贴，每辆新车只能享受报废更新或置换更新补贴中的一项"},

    // INVALID_ARGUMENT: the request is wrong; the field is named in google.rpc.BadRequest.
    {"FIELD_REQUIRED", kError, StatusCode::kInvalidArgument, kShow,
     "a required field is missing", "缺少必填项"},
    {"ITEMS_REQUIRED", kError, StatusCode::kInvalidArgument, kShow,
     "the request lists no items", "请至少录入一件商品"},
    {"UNKNOWN_PRODUCT_TYPE", kError, StatusCode::kInvalidArgument, kSupport,
     "the product type code is not known", "商品品类代码无效"},
    {"PRICE_OUT_OF_RANGE", kError, StatusCode::kInvalidArgument, kShow,
     "the price is out of range", "价格超出允许范围"},
    {"QUANTITY_OUT_OF_RANGE", kError, StatusCode::kInvalidArgument, kShow,
     "the quantity is out of range", "数量超出允许范围"},
    {"GRADE_OUT_OF_RANGE", kError, StatusCode::kInvalidArgument, kShow,
     "an efficiency grade must be 1 (best) .. 5, or 0 for no label", "能效或水效等级须为1(最高)至5，无标识填0"},
    {"DISPLACEMENT_OUT_OF_RANGE", kError, StatusCode::kInvalidArgument, kShow,
     "the engine displacement is out of range", "发动机排量超出允许范围"},
    {"DATE_INVALID", kError, StatusCode::kInvalidArgument, kShow,
     "a date must be a real day written YYYY-MM-DD", "日期须为有效日期，格式为YYYY-MM-DD"},
    {"TRANSACTION_DATE_IN_FUTURE", kError, StatusCode::kInvalidArgument, kShow,
     "the transaction date is after today", "交易日期不能晚于今天"},
    {"REGION_CODE_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "the region code is not a known GB/T 2260 code", "行政区划代码无效"},
    {"POLICY_NOT_FOR_REGION", kError, StatusCode::kInvalidArgument, kSupport,
     "the pinned policy does not apply to this region", "指定的补贴政策不适用于该地区"},
    {"VIN_LENGTH", kError, StatusCode::kInvalidArgument, kShow,
     "a VIN has 17 characters", "车架号(VIN)须为17位"},
    {"VIN_CHARACTERS", kError, StatusCode::kInvalidArgument, kShow,
     "a VIN holds digits and capital letters other than I, O and Q", "车架号(VIN)只能包含数字和除I、O、Q外的大写字母"},
    {"VIN_CHECK_DIGIT", kError, StatusCode::kInvalidArgument, kShow,
     "the VIN's check digit does not match: check for a typing error", "车架号(VIN)校验位不符，请核对是否录入有误"},
    {"DUPLICATE_VIN", kError, StatusCode::kInvalidArgument, kShow,
     "two lines of the request are the same car", "同一请求中有两行是同一辆车"},
    {"DUPLICATE_LINE_ID", kError, StatusCode::kInvalidArgument, kSupport,
     "two lines of the request have the same lineId", "同一请求中有重复的行号"},
    {"DETAILS_NOT_EXPECTED", kError, StatusCode::kInvalidArgument, kSupport,
     "the item carries details of another kind of product", "商品附带了不属于该品类的信息"},
    {"ID_NUMBER_LENGTH", kError, StatusCode::kInvalidArgument, kShow,
     "a resident identity card number has 18 characters", "身份证号码须为18位"},
    {"ID_NUMBER_FORMAT", kError, StatusCode::kInvalidArgument, kShow,
     "a resident identity card number is 17 digits and a digit or X", "身份证号码须为17位数字加1位数字或X"},
    {"ID_NUMBER_REGION", kError, StatusCode::kInvalidArgument, kShow,
     "the identity card number's region part is not a real region", "身份证号码的地区码无效"},
    {"ID_NUMBER_BIRTH_DATE", kError, StatusCode::kInvalidArgument, kShow,
     "the identity card number's birth date is not a real day", "身份证号码的出生日期无效"},
    {"ID_NUMBER_CHECK_DIGIT", kError, StatusCode::kInvalidArgument, kShow,
     "the identity card number's check digit does not match: check for a typing error",
     "身份证号码校验位不符，请核对是否录入有误"},
    {"ID_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "an id is 1-64 characters of A-Z a-z 0-9 . _ : -", "编号须为1至64位字母、数字或 . _ : -"},
    {"SERIAL_INVALID", kError, StatusCode::kInvalidArgument, kShow,
     "a serial number is 1-64 characters", "序列号须为1至64个字符"},
    {"IMEI_INVALID", kError, StatusCode::kInvalidArgument, kShow,
     "an IMEI is 15 digits whose last is the Luhn check digit: check for a typing error",
     "IMEI须为15位数字且校验位正确，请核对是否录入有误"},
    {"SERIAL_COUNT", kError, StatusCode::kInvalidArgument, kShow,
     "give one serial number per granted unit", "每件获补贴的商品须录入一个序列号"},
    {"TOO_MANY_ITEMS", kError, StatusCode::kInvalidArgument, kShow,
     "the request has more items than allowed (100)", "单笔商品行数超过上限(100)"},
    {"TOO_MANY_SERIALS", kError, StatusCode::kInvalidArgument, kShow,
     "a line has more serial numbers than allowed (100)", "单行序列号数量超过上限(100)"},
    {"TOO_MANY_ENTRIES", kError, StatusCode::kInvalidArgument, kSupport,
     "a list in the request has more entries than allowed (100)", "请求中的列表条目超过上限(100)"},
    {"FIELD_TOO_LONG", kError, StatusCode::kInvalidArgument, kShow,
     "a field is longer than allowed", "字段内容过长"},
    {"LINE_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "a corrected line needs a lineId and an amount of at least 0", "更正行须有行号和不小于0的金额"},
    {"PERIOD_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "toDate must be on or after fromDate, at most 366 days in all", "截止日期须不早于起始日期，且区间不超过366天"},
    {"PAGE_SIZE_OUT_OF_RANGE", kError, StatusCode::kInvalidArgument, kSupport,
     "pageSize is 0 (default 50) .. 500", "每页条数须为0(默认50)至500"},
    {"TOKEN_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "the page token was not given out by this service for this query", "分页令牌无效"},
    {"CURSOR_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "not a cursor of a claim listing", "分页游标无效"},
    {"TOKEN_QUERY_MISMATCH", kError, StatusCode::kInvalidArgument, kSupport,
     "the page or resume token belongs to another query (period, retailer, states or filter): repeat that "
     "query, or start this one without a token",
     "分页令牌属于另一查询(期间、零售商、状态或筛选条件不同)，请用原查询，或不带令牌重新开始"},
    {"STATE_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "not a claim state (RESERVED, CONFIRMED, CANCELLED, EXPIRED, REFUNDED, PARTIALLY_REFUNDED, REJECTED, VOIDED)",
     "申领状态无效"},
    {"GROUP_BY_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "groupBy names DAY, REGION, RETAILER or PRODUCT_TYPE, each at most once",
     "汇总维度须为DAY、REGION、RETAILER或PRODUCT_TYPE，且不可重复"},
    {"LIMIT_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "a page holds at least one claim", "每页至少一条"},
    {"FILE_NAME_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "a draft's files need distinct names of letters, digits, '-', '_' and '.', ending .textproto",
     "草案文件名须互不相同，仅含字母、数字、'-'、'_'、'.'，并以.textproto结尾"},
    {"DRAFT_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "the draft policies do not load: each problem is listed with its file and line",
     "政策草案无法加载：各问题均已列出文件和行号"},
    {"REQUEST_UNPARSABLE", kError, StatusCode::kInvalidArgument, kSupport,
     "the bytes are not a valid request message", "请求报文无法解析"},
    {"JSON_INVALID", kError, StatusCode::kInvalidArgument, kSupport,
     "the request body is not valid JSON for this call", "请求内容不是有效的JSON"},
    {"NOT_UTF8", kError, StatusCode::kInvalidArgument, kSupport,
     "the text is not valid UTF-8", "文本不是有效的UTF-8编码"},
    {"QUERY_PARAMETER_UNKNOWN", kError, StatusCode::kInvalidArgument, kSupport,
     "a query parameter is not known", "查询参数无效"},

    // NOT_FOUND.
    {"CLAIM_NOT_FOUND", kError, StatusCode::kNotFound, kShow,
     "no such claim", "查无此补贴申领"},
    {"LINE_NOT_FOUND", kError, StatusCode::kNotFound, kShow,
     "the claim has no such line", "该申领中无此商品行"},
    {"POLICY_NOT_FOUND", kError, StatusCode::kNotFound, kSupport,
     "no such policy", "查无此补贴政策"},
    {"NO_POLICY_IN_FORCE", kError, StatusCode::kNotFound, kShow,
     "no subsidy policy is in force for this region on this date", "该地区在该日期没有生效的补贴政策"},

    // FAILED_PRECONDITION: the claim is not in a state that allows this.
    {"WRONG_STATE", kError, StatusCode::kFailedPrecondition, kShow,
     "the claim's state does not allow this", "该申领的当前状态不允许此操作"},
    {"HOLD_EXPIRED", kError, StatusCode::kFailedPrecondition, kShow,
     "the claim's hold expired: claim again", "补贴名额保留已超时，请重新申领"},
    {"INVOICE_MISMATCH", kError, StatusCode::kFailedPrecondition, kShow,
     "the claim was confirmed with another invoice number", "该申领已用另一张发票号确认"},
    {"REFUND_EXCEEDS_GRANT", kError, StatusCode::kFailedPrecondition, kShow,
     "more units than were granted and not yet refunded", "退货数量超过已补贴且未退货的数量"},
    {"CORRECTION_NOT_A_REDUCTION", kError, StatusCode::kFailedPrecondition, kSupport,
     "a correction may only lower a line's subsidy, and not below what was refunded",
     "更正只能调低补贴金额，且不得低于已退金额"},
    {"SERIAL_NOT_ON_LINE", kError, StatusCode::kFailedPrecondition, kSupport,
     "the claim's line does not hold this serial number: check the old serial number and the line",
     "该申领行未登记此序列号，请核对原序列号和行号"},
    {"POLICY_RELOAD_FAILED", kError, StatusCode::kFailedPrecondition, kSupport,
     "the policy or callers files were not reloaded: the old ones stay in force", "重新加载失败，原有配置继续生效"},

    // ALREADY_EXISTS: an idempotency key reused for different content.
    {"REQUEST_ID_REUSED", kError, StatusCode::kAlreadyExists, kSupport,
     "this requestId was used for a different claim", "该请求号已用于另一笔申领"},
    {"REFUND_ID_REUSED", kError, StatusCode::kAlreadyExists, kSupport,
     "this refund requestId was used for a different refund", "该退货请求号已用于另一笔退货"},
    {"VOID_ID_REUSED", kError, StatusCode::kAlreadyExists, kSupport,
     "this requestId was used for a different void", "该请求号已用于另一次作废"},
    {"CORRECTION_ID_REUSED", kError, StatusCode::kAlreadyExists, kSupport,
     "this requestId was used for a different correction", "该请求号已用于另一次更正"},

    // RESOURCE_EXHAUSTED, UNAUTHENTICATED, PERMISSION_DENIED.
    {"RATE_LIMITED", kError, StatusCode::kResourceExhausted, kRetry,
     "over the caller's request rate: retry after the RetryInfo delay", "请求过于频繁，请稍后用同一请求号重试"},
    {"UNAUTHENTICATED", kError, StatusCode::kUnauthenticated, kSupport,
     "no valid API key or client certificate", "终端未通过身份验证，请联系技术支持"},
    {"ROLE_NOT_ALLOWED", kError, StatusCode::kPermissionDenied, kSupport,
     "the caller's role may not do this", "该终端的角色无权执行此操作"},
    {"RETAILER_MISMATCH", kError, StatusCode::kPermissionDenied, kSupport,
     "the retailerId is not the caller's own", "商户编号与本终端登记的不一致"},
    {"REGION_NOT_ALLOWED", kError, StatusCode::kPermissionDenied, kShow,
     "the caller's shops are not in this region", "本商户未登记在该地区经营"},

    // Errors without a reason of their own, by gRPC code.
    {"UNAVAILABLE", kError, StatusCode::kUnavailable, kRetry,
     "the service cannot reach its quota store right now: retry with the same requestId",
     "服务暂时不可用，请用同一请求号重试"},
    {"DEADLINE_EXCEEDED", kError, StatusCode::kDeadlineExceeded, kRetry,
     "no answer in time: retry with the same requestId (a claim is made at most once)",
     "处理超时，请用同一请求号重试(不会重复申领)"},
    {"ABORTED", kError, StatusCode::kAborted, kRetry,
     "a concurrent change got in the way: retry with the same requestId", "操作冲突，请用同一请求号重试"},
    {"CANCELLED", kError, StatusCode::kCancelled, kRetry,
     "the call was cancelled", "请求已取消"},
    {"INTERNAL", kError, StatusCode::kInternal, kSupport,
     "an internal error", "系统内部错误，请联系技术支持"},
    {"UNKNOWN", kError, StatusCode::kUnknown, kSupport,
     "an unexpected error", "未知错误，请联系技术支持"},

    // HTTP refusals of the JSON gateway (services/http/request_parser.cc), before any call is made.
    {"HEADERS_TOO_LARGE", kGateway, StatusCode::kInvalidArgument, kSupport,
     "the request line and headers are over the size limit (16 KiB)", "请求头过大"},
    {"TOO_MANY_HEADERS", kGateway, StatusCode::kInvalidArgument, kSupport,
     "the request has more headers than the limit (64)", "请求头数量过多"},
    {"HEADER_FOLDED", kGateway, StatusCode::kInvalidArgument, kSupport,
     "folded header lines (obs-fold) are not accepted", "不接受折行的请求头"},
    {"HEADER_NAME_INVALID", kGateway, StatusCode::kInvalidArgument, kSupport,
     "a header name must be an RFC 9110 token", "请求头名称无效"},
    {"HEADER_VALUE_INVALID", kGateway, StatusCode::kInvalidArgument, kSupport,
     "a header value must not contain control characters", "请求头的值含有控制字符"},
    {"CONTENT_LENGTH_DUPLICATE", kGateway, StatusCode::kInvalidArgument, kSupport,
     "Content-Length must be sent once", "Content-Length只能出现一次"},
    {"CONTENT_LENGTH_INVALID", kGateway, StatusCode::kInvalidArgument, kSupport,
     "Content-Length must be a decimal number of bytes", "Content-Length须为十进制字节数"},
    {"CONTENT_LENGTH_CONFLICT", kGateway, StatusCode::kInvalidArgument, kSupport,
     "Content-Length and Transfer-Encoding must not be sent together",
     "Content-Length与Transfer-Encoding不能同时出现"},
    {"TRANSFER_ENCODING_UNSUPPORTED", kGateway, StatusCode::kUnimplemented, kSupport,
     "request bodies must be sent with a Content-Length", "请求体须带Content-Length发送"},
    {"BODY_TOO_LARGE", kGateway, StatusCode::kInvalidArgument, kSupport,
     "the request body is over the size limit (4 MiB)", "请求体过大"},
    {"REQUEST_LINE_INVALID", kGateway, StatusCode::kInvalidArgument, kSupport,
     "the request line must read METHOD /path HTTP/1.1", "请求行格式无效"},
    {"REQUEST_TARGET_INVALID", kGateway, StatusCode::kInvalidArgument, kSupport,
     "the request target must start with / and hold printable ASCII only", "请求路径无效"},
    // Routing and CORS of the JSON gateway (services/gateway/gateway_front.cc).
    {"ROUTE_NOT_FOUND", kGateway, StatusCode::kNotFound, kSupport,
     "no API route has this path (GET /v1/openapi.json lists them)", "没有此接口路径（接口列表见 /v1/openapi.json）"},
    {"METHOD_NOT_ALLOWED", kGateway, StatusCode::kUnimplemented, kSupport,
     "the path does not take this HTTP method (the Allow header lists those it takes)",
     "此接口路径不支持该HTTP方法（可用方法见Allow响应头）"},
    {"CORS_ORIGIN_NOT_ALLOWED", kGateway, StatusCode::kPermissionDenied, kSupport,
     "the page's origin is not in the gateway's --http_cors_origins", "该网页来源不在网关允许的跨域来源列表中"},
    // The settlement console on the JSON gateway (services/gateway/console.cc).
    {"CONSOLE_LOGIN_INVALID", kGateway, StatusCode::kInvalidArgument, kSupport,
     "the console's login takes {\"key\":\"…\"} with Content-Type: application/json",
     "结算控制台登录须以 application/json 提交 {\"key\":\"…\"}"},
    {"CONSOLE_LOGIN_REFUSED", kGateway, StatusCode::kUnauthenticated, kShow,
     "this key is not a portal or admin key of this service", "此密钥不是本服务的监管平台或管理员密钥"},
    {"CONSOLE_SESSION_INVALID", kGateway, StatusCode::kUnauthenticated, kShow,
     "no console session, or it ended: log in again", "结算控制台会话不存在或已结束，请重新登录"},
    {"CONSOLE_HEADER_MISSING", kGateway, StatusCode::kPermissionDenied, kSupport,
     "console calls carry the header X-Console: 1", "结算控制台的请求须带有请求头 X-Console: 1"},
    {"CONSOLE_READ_ONLY", kGateway, StatusCode::kPermissionDenied, kSupport,
     "the console only reads (totals, claims, budgets, policies); this route is not one of them",
     "结算控制台只能查询（汇总、申领、预算、政策），不能调用此接口"},
};
// clang-format on

absl::string_view ScopeText(const Reason& reason) {
  switch (reason.scope) {
    case ReasonScope::kItem:
      return "item";
    case ReasonScope::kError:
      return "error";
    case ReasonScope::kBoth:
      return "item, error";
    case ReasonScope::kGateway:
      return "HTTP gateway";
  }
  return "";
}

}  // namespace

absl::Span<const Reason> AllReasons() { return kReasons; }

const Reason* FindReason(absl::string_view code) {
  for (const Reason& reason : kReasons) {
    if (reason.code == code) return &reason;
  }
  return nullptr;
}

absl::string_view ChineseTextFor(absl::string_view reason, absl::StatusCode code) {
  if (const Reason* found = FindReason(reason); found != nullptr) return found->message_zh;
  for (const Reason& entry : kReasons) {
    if (entry.scope == ReasonScope::kError && entry.status == code &&
        entry.code == absl::StatusCodeToString(code)) {
      return entry.message_zh;
    }
  }
  return FindReason("UNKNOWN")->message_zh;
}

absl::string_view TillActionName(TillAction action) {
  switch (action) {
    case TillAction::kShowToCashier:
      return "SHOW_TO_CASHIER";
    case TillAction::kRetrySameRequest:
      return "RETRY_SAME_REQUEST";
    case TillAction::kCallSupport:
      return "CALL_SUPPORT";
  }
  return "";
}

std::string RenderReasonsMarkdown() {
  std::string out =
      "# Reason codes\n\n"
      "<!-- Generated from common/reasons.cc by `ninja -C build/test reasons_doc`; do not edit. -->\n\n"
      "Every reason a client can meet: an item's `reasons[].code` (the item is not, or not fully, granted) "
      "or an\n"
      "error's `google.rpc.ErrorInfo.reason`. Every error also carries a `google.rpc.LocalizedMessage` "
      "(locale\n"
      "`zh-CN`) for the till's screen; the status message is English. Tills can fetch this list with\n"
      "`PolicyService/ListReasons` (`GET /v1/reasons`) and cache it. What a till should do:\n\n"
      "- `SHOW_TO_CASHIER`: show the Chinese text to the cashier and the buyer; change the sale or stop.\n"
      "- `RETRY_SAME_REQUEST`: a passing fault; retry the same call with the same `requestId` (it is "
      "idempotent).\n"
      "- `CALL_SUPPORT`: the till or the service is wrong; show the text and call the till's support.\n\n";
  absl::StrAppend(&out, AllReasons().size(), " reasons.\n\n",
                  "| Code | Where | gRPC code | Till | English | 中文 |\n", "|---|---|---|---|---|---|\n");
  for (const Reason& reason : AllReasons()) {
    absl::StrAppend(&out, "| `", reason.code, "` | ", ScopeText(reason), " | ",
                    reason.status == absl::StatusCode::kOk ? "" : absl::StatusCodeToString(reason.status),
                    " | ", TillActionName(reason.action), " | ", reason.message, " | ", reason.message_zh,
                    " |\n");
  }
  return out;
}

}  // namespace tradein
