#include "tools/tradeinctl/format.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace tradein::ctl {
namespace {

// Decodes one UTF-8 code point at text[i], advancing i; invalid bytes count as one code point each.
uint32_t NextCodePoint(absl::string_view text, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(text[k])); };
  const uint32_t b0 = byte(i);
  size_t length = 1;
  uint32_t cp = b0;
  if (b0 >= 0xF0 && b0 < 0xF8) {
    length = 4;
    cp = b0 & 0x07;
  } else if (b0 >= 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
  }
  if (length == 1 || i + length > text.size()) {
    ++i;
    return b0;
  }
  for (size_t k = 1; k < length; ++k) cp = (cp << 6) | (byte(i + k) & 0x3F);
  i += length;
  return cp;
}

bool IsWide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
         (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
         (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

std::string Pad(const std::string& text, size_t width, Align align) {
  const size_t used = DisplayWidth(text);
  if (used >= width) return text;
  const std::string blanks(width - used, ' ');
  return align == Align::kLeft ? text + blanks : blanks + text;
}

void TrimRight(std::string& line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
}

}  // namespace

std::string FormatYuanGrouped(int64_t fen) {
  const bool negative = fen < 0;
  // Magnitude as unsigned: -INT64_MIN does not fit int64_t.
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  const std::string yuan = absl::StrCat(magnitude / 100);
  std::string grouped;
  for (size_t i = 0; i < yuan.size(); ++i) {
    if (i > 0 && (yuan.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(yuan[i]);
  }
  const uint64_t cents = magnitude % 100;
  return absl::StrCat(negative ? "-" : "", grouped, ".", cents < 10 ? "0" : "", cents);
}

std::string FormatInstantCst(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  const absl::Time t = absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S %Ez", t, absl::FixedTimeZone(8 * 60 * 60));
}

size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) width += IsWide(NextCodePoint(text, i)) ? 2u : 1u;
  return width;
}

Table::Table(std::vector<std::pair<std::string, Align>> columns) : columns_(std::move(columns)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back({std::move(cells), false});
}

void Table::AddNote(std::string text) { rows_.push_back({{std::move(text)}, true}); }

std::string Table::Render() const {
  std::vector<size_t> widths;
  for (const auto& [title, align] : columns_) widths.push_back(DisplayWidth(title));
  for (const Row& row : rows_) {
    if (row.note) continue;
    for (size_t c = 0; c < columns_.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row.cells[c]));
  }
  const auto render_cells = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (c > 0) line += "  ";
      line += Pad(cells[c], widths[c], columns_[c].second);
    }
    TrimRight(line);
    return line + "\n";
  };
  std::vector<std::string> header;
  for (const auto& [title, align] : columns_) header.push_back(title);
  std::string out = render_cells(header);
  const std::string note_indent(widths.empty() ? 0 : widths[0] + 2, ' ');
  for (const Row& row : rows_) {
    if (row.note) {
      std::string line = note_indent + row.cells[0];
      TrimRight(line);
      out += line + "\n";
    } else {
      out += render_cells(row.cells);
    }
  }
  return out;
}

std::string KeyValues(const std::vector<std::pair<std::string, std::string>>& pairs) {
  size_t width = 0;
  for (const auto& [key, value] : pairs)
    if (!value.empty()) width = std::max(width, DisplayWidth(key));
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (value.empty()) continue;
    out += Pad(key, width, Align::kLeft) + "  " + value + "\n";
  }
  return out;
}

}  // namespace tradein::ctl
