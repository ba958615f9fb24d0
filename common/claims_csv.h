// -----------------------------------------------------------------------------
// File: claims_csv.h
// -----------------------------------------------------------------------------
//
// The settlement export as CSV for spreadsheets in China: UTF-8 with a byte-order mark, Chinese headings, one
// row per claim, RFC 4180 quoting (a cell with a comma, a double quote, CR or LF is quoted, its quotes
// doubled; rows end CRLF), and formula injection defused: a cell starting with '=', '+', '-' or '@' gets a
// leading single quote so a spreadsheet shows it as text. Money in yuan with two decimals, exact from fen.
// One writer for the JSON gateway (`Accept: text/csv` on the export route) and `tradeinctl export --csv`, so
// both write the same bytes. The columns are listed in docs/portal.md.
//
//   std::string csv = ClaimsCsvHeader();        // BOM + the heading row
//   for (const v1::Claim& claim : claims) csv += ClaimCsvRow(claim);
//
// Thread safety: pure functions.
#ifndef TRADEIN_COMMON_CLAIMS_CSV_H_
#define TRADEIN_COMMON_CLAIMS_CSV_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tradein/v1/claim_service.pb.h"

namespace tradein {

// The UTF-8 byte-order mark that opens the document.
inline constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";

// CsvCell
//
// One cell as written: injection-escaped, then quoted when RFC 4180 requires it.
std::string CsvCell(absl::string_view text);

// CsvRow
//
// The cells joined by commas, ending CRLF.
std::string CsvRow(const std::vector<std::string>& cells);

// ClaimsCsvHeader
//
// The BOM and the heading row: what a document starts with.
std::string ClaimsCsvHeader();

// ClaimCsvRow
//
// One claim's row, under ClaimsCsvHeader's headings.
std::string ClaimCsvRow(const v1::Claim& claim);

}  // namespace tradein

#endif  // TRADEIN_COMMON_CLAIMS_CSV_H_
