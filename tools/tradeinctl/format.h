// -----------------------------------------------------------------------------
// File: format.h
// -----------------------------------------------------------------------------
//
// Text formatting for tradeinctl's human output: amounts in yuan with thousands separators, instants in
// China Standard Time, and tables whose columns line up in a terminal even when cells hold Chinese (each CJK
// character takes two columns).
//
//   Table table({{"LINE", Align::kLeft}, {"SUBSIDY", Align::kRight}});
//   table.AddRow({"1", FormatYuanGrouped(100000)});      // "1,000.00"
//   table.AddNote("5000.00 × 20% = 1000.00");          // a line of its own under the row
//   std::cout << table.Render();
//
// Thread safety: pure functions; a Table is a value used by one thread.
#ifndef TRADEIN_TOOLS_TRADEINCTL_FORMAT_H_
#define TRADEIN_TOOLS_TRADEINCTL_FORMAT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"

namespace tradein::ctl {

// "1,000.00" for 100000 fen, "-0.01" for -1, "92,233,720,368,547,758.07" for INT64_MAX. Exact.
std::string FormatYuanGrouped(int64_t fen);

// "2025-06-01 10:30:00 +08:00"; "-" for an unset timestamp.
std::string FormatInstantCst(const google::protobuf::Timestamp& timestamp);

// Terminal columns `text` (UTF-8) takes: East Asian wide and full-width characters count 2, others 1.
size_t DisplayWidth(absl::string_view text);

enum class Align { kLeft, kRight };

class Table {
 public:
  explicit Table(std::vector<std::pair<std::string, Align>> columns);

  // One cell per column; missing cells are empty, extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  // A free line under the last row, indented to the second column.
  void AddNote(std::string text);
  size_t rows() const { return rows_.size(); }

  // Header, then the rows; columns separated by two spaces; no trailing blanks.
  std::string Render() const;

 private:
  struct Row {
    std::vector<std::string> cells;
    bool note = false;
  };
  std::vector<std::pair<std::string, Align>> columns_;
  std::vector<Row> rows_;
};

// Two aligned columns without a header: "Claim   abc\nState   RESERVED\n". Empty values are skipped.
std::string KeyValues(const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace tradein::ctl

#endif  // TRADEIN_TOOLS_TRADEINCTL_FORMAT_H_
