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

// One line split into its code and its comment (from a `#` outside quotes).
struct Split {
  std::string code, comment, gap;  // gap: the blanks between code and comment
};
Split split_line(const std::string& line) {
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '\\' && i + 1 < line.size()) ++i;
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    else if (c == '#') {
      Split s{line.substr(0, i), line.substr(i), ""};
      size_t end = s.code.find_last_not_of(" \t");
      s.gap = end == std::string::npos ? "" : s.code.substr(end + 1);
      s.code = end == std::string::npos ? "" : s.code.substr(0, end + 1);
      return s;
    }
  }
  size_t end = line.find_last_not_of(" \t");
  return {end == std::string::npos ? "" : line.substr(0, end + 1), "", ""};
}

size_t indent_of(const std::string& line) {
  size_t n = 0;
  for (char c : line) {
    if (c == ' ') ++n;
    else if (c == '\t') n += 2;
    else break;
  }
  return n;
}

// One space on each side of `->`, `==`, `!=`, `>=`, `<=`, `??`, `=`, and
// after `,` and `;`, where the author wrote none; nothing else in the line
// moves (runs of blanks that align columns stay). Strings are left as written.
std::string spaced(const std::string& code) {
  std::string out;
  bool quoted = false;
  auto pad_before = [&]() {
    if (!out.empty() && out.back() != ' ' && out.back() != '\t' && out.back() != '(' && out.back() != '[' && out.back() != '{') {
      out += ' ';
    }
  };
  for (size_t i = 0; i < code.size(); ++i) {
    char c = code[i];
    if (quoted) {
      out += c;
      if (c == '\\' && i + 1 < code.size()) out += code[++i];
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') {
      quoted = true;
      out += c;
      continue;
    }
    std::string_view rest(code.data() + i, code.size() - i);
    size_t op = 0;
    for (std::string_view o : {"->", "==", "!=", ">=", "<=", "??"}) {
      if (rest.starts_with(o)) { op = o.size(); break; }
    }
    if (!op && c == '=') op = 1;
    if (op) {
      bool leading = out.find_first_not_of(" \t") == std::string::npos;  // `>= 5` opening a cell or a bin stays as it is
      if (!leading) pad_before();
      out.append(code, i, op);
      i += op - 1;
      if (i + 1 < code.size() && code[i + 1] != ' ' && code[i + 1] != '\t') out += ' ';
      continue;
    }
    out += c;
    if ((c == ',' || c == ';') && i + 1 < code.size() && code[i + 1] != ' ' && code[i + 1] != '\t') out += ' ';
  }
  return out;
}

bool is_table_start(std::string_view line);

// Indentation, spacing and blank lines, line by line (no line is joined or
// split, and comments stay on their lines): two spaces per `{`, `[` or `(`
// open at the line's start; a line that continues a block opened with text
// after it on its line (`input c { a : int` … `b : int }`), or an
// expression (a line starting with an operator, or after a line ending in
// one), keeps the indentation its author aligned it with unless that is
// shallower than its block's (then the block's, or two steps more for an
// expression); at most one blank line in a row, none at the start or the
// end. Table and grid bodies are left to the column aligner.
void layout(std::vector<std::string>& lines) {
  struct Open {
    char bracket;
    bool inline_block;  // text followed it on its line
  };
  std::vector<Open> open;
  std::vector<std::string> out;
  bool in_table = false, previous_continues = false, blank = false;
  auto ends_with_operator = [](const std::string& code) {
    for (std::string_view o : {"+", "-", "*", "/", "=", "->", "??", ",", "and", "or", "not", ">=", "<=", "==", "!="}) {
      if (code.size() >= o.size() && std::string_view(code).substr(code.size() - o.size()) == o) {
        if ((o == "and" || o == "or" || o == "not") && code.size() > o.size()) {
          unsigned char before = static_cast<unsigned char>(code[code.size() - o.size() - 1]);
          if (before != ' ' && before != '\t' && before != ')') continue;
        }
        return true;
      }
    }
    return false;
  };
  auto starts_with_operator = [](std::string_view code) {
    for (std::string_view o : {"+ ", "- ", "* ", "/ ", "and ", "or ", "?? ", "-> ", "×"}) {
      if (code.starts_with(o)) return true;
    }
    return false;
  };
  for (const std::string& raw : lines) {
    Split s = split_line(raw);
    std::string body = s.code.substr(std::min(s.code.size(), s.code.find_first_not_of(" \t")));
    if (s.code.find_first_not_of(" \t") == std::string::npos) body.clear();
    if (body.empty() && s.comment.empty()) {
      blank = !out.empty();
      continue;
    }
    if (blank) out.emplace_back();
    blank = false;
    // depth at the line's start, less the closers it begins with
    size_t closers = 0;
    while (closers < body.size() && (body[closers] == '}' || body[closers] == ']' || body[closers] == ')')) ++closers;
    size_t depth = open.size() >= closers ? open.size() - closers : 0;
    bool table_end = in_table && body == "}";
    std::string line;
    if (in_table && !table_end) {
      line = raw;  // the aligner's
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    } else {
      bool inside_inline = depth > 0 && depth <= open.size() && open[depth - 1].inline_block;
      bool continues = !body.empty() && (starts_with_operator(body) || previous_continues);
      size_t base = 2 * depth, have = indent_of(raw);
      size_t indent = base;
      if (inside_inline && closers == 0) indent = std::max(base, have);  // `{ a,` … `b }`: the block's items
      else if (continues && closers == 0) indent = have >= base ? have : base + 4;
      std::string code = body.empty() ? "" : spaced(body);
      line = std::string(indent, ' ') + code;
      if (!s.comment.empty()) line += (code.empty() ? "" : (s.gap.empty() ? std::string(" ") : s.gap)) + s.comment;
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    }
    out.push_back(line);
    // the brackets this line opens and closes (outside strings)
    if (!body.empty()) {
      bool quoted = false;
      for (size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (quoted) {
          if (c == '\\') ++i;
          else if (c == '"') quoted = false;
          continue;
        }
        if (c == '"') quoted = true;
        else if (c == '{' || c == '[' || c == '(') {
          bool more = body.find_first_not_of(" \t", i + 1) != std::string::npos;
          open.push_back({c, more});
        } else if ((c == '}' || c == ']' || c == ')') && !open.empty()) {
          // a range `[0, 50%)` closes a `[` with `)`: any closer closes the innermost
          open.pop_back();
        }
      }
      if (!in_table && is_table_start(body)) in_table = true;
      else if (table_end) in_table = false;
      previous_continues = !in_table && ends_with_operator(body);
    }
  }
  lines = std::move(out);
}

bool is_table_start(std::string_view line) {
  std::string t = trim(line);
  if (t.starts_with("override ")) t = trim(t.substr(9));
  if (t.starts_with("rows ") && t.find('{') != std::string::npos) return true;  // `override rows of T {`
  for (const char* kw : {"table ", "grid ", "private table ", "private grid "}) {
    if (t.starts_with(kw) && t.find('{') != std::string::npos) return true;
  }
  return false;
}

std::string format_text(const std::string& text) {
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";  // kept, and not taken for code
  if (std::string_view(text).starts_with(kBom)) return std::string(kBom) + format_text(text.substr(kBom.size()));
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
  layout(lines);
  final_newline = final_newline || !lines.empty();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!is_table_start(lines[i])) continue;
    // The body: up to the line that is just '}'.
    size_t j = i + 1;
    while (j < lines.size() && trim(split_line(lines[j]).code) != "}") ++j;  // `} # end of t` closes it too
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

std::vector<std::string> code_signature(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line, kept;
    bool quoted = false, comment = false;
    for (size_t i = start; i < end; ++i) {
      char c = text[i];
      if (comment) {
        if (c != '\r') line += c;
        continue;
      }
      if (quoted) {
        line += c;
        if (c == '\\' && i + 1 < end) line += text[++i];
        else if (c == '"') quoted = false;
        continue;
      }
      if (c == '"') quoted = true;
      if (c == '#') comment = true;
      if (c == ' ' || c == '\t' || c == '\r') continue;
      line += c;
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    if (!line.empty()) out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

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
