// The CSV writer of the settlement export: the BOM, RFC 4180 quoting, formula-injection escapes, Chinese
// headings and state names, money in yuan exact from fen.
#include "common/claims_csv.h"

#include "gtest/gtest.h"

namespace tradein {
namespace {

TEST(CsvCellTest, PlainTextIsWrittenAsItIs) {
  EXPECT_EQ(CsvCell("shop-1"), "shop-1");
  EXPECT_EQ(CsvCell("已确认"), "已确认");
  EXPECT_EQ(CsvCell(""), "");
}

TEST(CsvCellTest, QuotesCommasQuotesAndLineBreaks) {
  EXPECT_EQ(CsvCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvCell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvCell("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvCell("cr\rhere"), "\"cr\rhere\"");
}

TEST(CsvCellTest, DefusesFormulaInjection) {
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(CsvCell("+86"), "'+86");
  EXPECT_EQ(CsvCell("-1"), "'-1");
  EXPECT_EQ(CsvCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvCell("=1,2"), "\"'=1,2\"");
  EXPECT_EQ(CsvCell("a=b"), "a=b");  // only the first character matters
}

TEST(CsvRowTest, JoinsWithCommasAndEndsWithCrLf) {
  EXPECT_EQ(CsvRow({"a", "b,c", "=d"}), "a,\"b,c\",'=d\r\n");
  EXPECT_EQ(CsvRow({""}), "\r\n");
}

TEST(ClaimsCsvTest, HeaderStartsWithTheBomAndHasChineseHeadings) {
  const std::string header = ClaimsCsvHeader();
  ASSERT_GE(header.size(), 3u);
  EXPECT_EQ(header.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(header.substr(3, header.find(',') - 3), "申领编号");
  EXPECT_NE(header.find("应付补贴(元)"), std::string::npos);
  EXPECT_EQ(header.substr(header.size() - 2), "\r\n");
}

TEST(ClaimsCsvTest, RowHasStateInChineseMoneyInYuanAndEscapedInvoice) {
  v1::Claim claim;
  claim.set_claim_id("clm-1");
  claim.set_state(v1::Claim::PARTIALLY_REFUNDED);
  claim.set_retailer_id("shop-1");
  claim.set_region_code("330381");
  claim.set_transaction_date("2025-06-01");
  claim.set_policy_id("zj-2025");
  claim.set_programme("zj");
  claim.set_invoice_number("=cmd|' /C calc'!A0");
  claim.set_refunded_fen(50001);
  claim.set_total_subsidy_fen(99999);
  claim.set_buyer_ref("abc");
  claim.mutable_created_at()->set_seconds(1748736000);    // 2025-06-01 00:00:00 UTC = 08:00 China
  claim.mutable_confirmed_at()->set_seconds(1748736300);  // five minutes later
  v1::ItemResult* phone = claim.add_items();
  phone->set_product_type("phone");
  phone->set_granted_quantity(2);
  phone->set_subsidy_fen(150000);
  phone->add_serial_numbers("SN1");
  phone->add_serial_numbers("SN2");
  EXPECT_EQ(ClaimCsvRow(claim),
            "clm-1,部分退货,shop-1,330381,2025-06-01,zj-2025,zj,phone,2,'=cmd|' /C calc'!A0,SN1;SN2,1500.00,"
            "500.01,999.99,abc,2025-06-01 08:00:00,,2025-06-01 08:05:00\r\n");
}

}  // namespace
}  // namespace tradein
