// stratum fmt RULES… — canonical layout of the tables and grids: their cells
// aligned in columns (by display width, so Chinese text lines up). Everything
// else in the file is left exactly as written. Idempotent; the result is
// parsed again before it is written, and a file whose meaning would change is
// never written.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "driver/stratum.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"
#include "syntax/parser.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum fmt RULES… [--check | --stdout]

Aligns the columns of every table and grid. Nothing else changes: names,
conditions and comments stay as written.

  --check    change nothing; exit 1 when a file is not formatted
  --stdout   print the formatted text instead of rewriting the file

Exit status: 0 done (or, with --check, already formatted); 1 a file has
syntax errors or, with --check, is not formatted; 2 usage or I/O error.
)";

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

int fmt(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--check", "--stdout"}, {});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("fmt", *args.error());
  if (args.positionals().empty()) return usage_error("fmt", "name the rule files or directories to format");
  int status = kOk;
  for (const auto& p : args.positionals()) {
    std::string error;
    auto paths = rule_files(p, error);
    if (!error.empty()) { fmt::print(stderr, "stratum fmt: {}\n", error); return kUsage; }
    for (const auto& path : paths) {
      std::string text;
      try {
        text = io::read_file(path);
      } catch (const std::runtime_error& e) {
        fmt::print(stderr, "stratum fmt: {}\n", e.what());
        return kUsage;
      }
      // Only well-formed files are formatted, and the result must mean the same.
      SourceSet before_set, after_set;
      Diagnostics before_diags, after_diags;
      auto before = parse(before_set, before_set.add(path, text), before_diags);
      if (!before) {
        for (const auto& d : before_diags.items()) fmt::print(stderr, "{}", render_text(d, before_set));
        status = kInputProblem;
        continue;
      }
      std::string formatted = format_text(text);
      auto after = parse(after_set, after_set.add(path, formatted), after_diags);
      bool same_shape = after && after->tables.size() == before->tables.size();
      for (size_t t = 0; same_shape && t < before->tables.size(); ++t) {
        same_shape = after->tables[t].rows.size() == before->tables[t].rows.size() &&
                     after->tables[t].columns.size() == before->tables[t].columns.size();
      }
      if (!same_shape) {
        fmt::print(stderr, "stratum fmt: {}: internal error: formatting would change the file's meaning; left as it is\n", path);
        status = kUsage;
        continue;
      }
      if (args.flag("--stdout")) {
        fmt::print("{}", formatted);
      } else if (args.flag("--check")) {
        if (formatted != text) {
          fmt::print("{}: not formatted\n", path);
          status = std::max(status, kInputProblem);
        }
      } else if (formatted != text) {
        // Replaced whole (mode kept, a symlink's target written), or left as it was.
        try {
          io::OutputFile out(path);
          out.write(formatted);
          out.commit();
        } catch (const std::runtime_error& e) {
          fmt::print(stderr, "stratum fmt: {}\n", e.what());
          return kUsage;
        }
        fmt::print("formatted {}\n", path);
      }
    }
  }
  return status;
}

}  // namespace stratum::cli
