#include "syntax/format.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "source/source_file.hpp"

namespace stratum {

namespace {

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return std::string(s.substr(a, b - a));
}

// Splits a table line into cells at '|' outside quotes; "||" becomes its own cell.
// The line's comment (from '#' outside quotes) is returned apart.
std::vector<std::string> cells_of(std::string_view line, std::string& comment) {
  std::vector<std::string> cells;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted && c == '\\' && i + 1 < line.size()) {  // an escape: `\"` does not end the text
      cur += c;
      cur += line[++i];
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '#') {
      comment = std::string(line.substr(i));
      break;
    }
    if (!quoted && c == '|') {
      cells.push_back(trim(cur));
      cur.clear();
      if (i + 1 < line.size() && line[i + 1] == '|') {
        cells.push_back("||");
        ++i;
      }
      continue;
    }
    cur += c;
  }
  cells.push_back(trim(cur));
  return cells;
}

bool is_table_start(std::string_view line) {
  std::string t = trim(line);
  for (const char* kw : {"table ", "grid ", "private table ", "private grid "}) {
    if (t.starts_with(kw) && t.find('{') != std::string::npos) return true;
  }
  return false;
}

std::string format_text(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  bool final_newline = !text.empty() && text.back() == '\n';
  if (final_newline) lines.pop_back();
  // Line ends as the file has them: CRLF when its first line ends so, and then
  // on every line (a file of mixed ends comes out with one kind).
  bool crlf = !lines.empty() && lines[0].ends_with('\r');
  for (auto& l : lines) {
    if (l.ends_with('\r')) l.pop_back();
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!is_table_start(lines[i])) continue;
    // The body: up to the line that is just '}'.
    size_t j = i + 1;
    while (j < lines.size() && trim(lines[j]) != "}") ++j;
    if (j >= lines.size()) break;
    struct RowLine {
      size_t index;
      std::string indent;
      std::vector<std::string> cells;
      std::string comment;
    };
    std::vector<RowLine> rows;
    for (size_t k = i + 1; k < j; ++k) {
      std::string t = trim(lines[k]);
      if (t.empty() || t[0] == '#' || t.find('|') == std::string::npos) continue;
      RowLine r;
      r.index = k;
      r.indent = "  ";
      r.cells = cells_of(lines[k], r.comment);
      rows.push_back(std::move(r));
    }
    // Widths per cell position (a grid's header starts with an empty cell).
    // An `else || …` row spans the input columns with its one `else` cell.
    size_t inputs = 0;
    if (!rows.empty()) {
      auto sep = std::find(rows[0].cells.begin(), rows[0].cells.end(), "||");
      if (sep != rows[0].cells.end()) inputs = static_cast<size_t>(sep - rows[0].cells.begin());
    }
    auto is_else = [&](const RowLine& r) {
      return inputs > 0 && r.cells.size() >= 2 && r.cells[0] == "else" && r.cells[1] == "||";
    };
    auto position = [&](const RowLine& r, size_t c) { return is_else(r) && c > 0 ? c + inputs - 1 : c; };
    std::vector<size_t> width;
    for (const auto& r : rows) {
      for (size_t c = is_else(r) ? 1 : 0; c < r.cells.size(); ++c) {
        size_t at = position(r, c);
        if (width.size() <= at) width.resize(at + 1, 0);
        width[at] = std::max(width[at], utf8::cell_width(r.cells[c]));
      }
    }
    size_t span = 0;  // the input columns' width with their separators
    for (size_t c = 0; c < inputs && c < width.size(); ++c) span += width[c] + (c ? 3 : 0);
    if (inputs > 0 && span < 4 && std::any_of(rows.begin(), rows.end(), is_else)) {
      width[inputs - 1] += 4 - span;
      span = 4;
    }
    for (const auto& r : rows) {
      std::string out = r.indent;
      for (size_t c = 0; c < r.cells.size(); ++c) {
        const std::string& cell = r.cells[c];
        bool last = c + 1 == r.cells.size();
        if (cell == "||") {
          out += "|| ";
          continue;
        }
        out += cell;
        if (!last) {
          size_t w = is_else(r) && c == 0 ? span : width[position(r, c)];
          out += std::string(w - utf8::cell_width(cell), ' ');
          out += r.cells[c + 1] == "||" ? " " : " | ";
        }
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      if (!r.comment.empty()) out += "  " + r.comment;
      lines[r.index] = out;
    }
    i = j;
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    if (i + 1 < lines.size() || final_newline) out += crlf ? "\r\n" : "\n";
  }
  return out;
}

}  // namespace

std::string format_rule_text(const std::string& text) { return format_text(text); }

Span balanced_span(std::string_view text, Span span) {
  if (span.begin > span.end || span.end > text.size()) return span;
  int depth = 0, lowest = 0;  // depth at the end; the lowest it went (a `)` closing what began before)
  bool quoted = false;
  for (uint32_t i = span.begin; i < span.end; ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    else if (c == '(') ++depth;
    else if (c == ')') lowest = std::min(lowest, --depth);
  }
  // `)` without its `(`: take the `(`s before the span
  for (int open = -lowest; open > 0 && span.begin > 0;) {
    char c = text[span.begin - 1];
    if (c == ' ' || c == '\t') { --span.begin; continue; }
    if (c != '(') break;
    --span.begin;
    --open;
    ++depth;
  }
  // `(` without its `)`: take the `)`s after it
  for (int open = depth; open > 0 && span.end < text.size();) {
    char c = text[span.end];
    if (c == ' ' || c == '\t') { ++span.end; continue; }
    if (c != ')') break;
    ++span.end;
    --open;
  }
  // no blanks left hanging at either end
  while (span.end > span.begin && (text[span.end - 1] == ' ' || text[span.end - 1] == '\t')) --span.end;
  while (span.begin < span.end && (text[span.begin] == ' ' || text[span.begin] == '\t')) ++span.begin;
  return span;
}

}  // namespace stratum
