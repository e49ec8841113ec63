#include "diag/diagnostic.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace stratum {

Diagnostic& Diagnostics::error(std::string code, Span span, std::string message) {
  items_.push_back({Severity::error, std::move(code), std::move(message), span, {}});
  return items_.back();
}

Diagnostic& Diagnostics::warning(std::string code, Span span, std::string message) {
  items_.push_back({Severity::warning, std::move(code), std::move(message), span, {}});
  return items_.back();
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

size_t Diagnostics::error_count() const {
  return std::count_if(items_.begin(), items_.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::error; });
}

size_t Diagnostics::warning_count() const {
  return std::count_if(items_.begin(), items_.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::warning; });
}

namespace {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::note: return "note";
  }
  return "error";
}

// The source excerpt: gutter, the line, and carets under the span's part of
// that line (padded in terminal cells so wide characters line up).
void render_excerpt(std::string& out, const SourceFile& file, Span span) {
  LineCol begin = file.line_col(span.begin);
  std::string_view line = file.line_text(begin.line);
  std::string number = std::to_string(begin.line);
  std::string gutter(number.size(), ' ');
  // Byte offset of the line start.
  uint32_t line_start = span.begin;
  {
    LineCol lc = begin;
    // walk back over lc.column - 1 characters
    std::string_view text = file.text();
    uint32_t chars = lc.column - 1;
    while (chars > 0 && line_start > 0) {
      --line_start;
      if ((static_cast<unsigned char>(text[line_start]) & 0xC0) != 0x80) --chars;
    }
  }
  size_t col_bytes = std::min<size_t>(span.begin - line_start, line.size());
  size_t span_end = std::min<size_t>(span.end, line_start + line.size());
  size_t mark_end = span_end > span.begin ? col_bytes + (span_end - span.begin) : col_bytes;
  // The line by characters; control characters and bytes that are not
  // UTF-8 as U+FFFD, one cell each (as cell_width counts them), so the
  // caret stays aligned.
  struct Shown { std::string text; size_t at; };
  std::vector<Shown> chars;
  for (size_t i = 0; i < line.size();) {
    size_t at = i;
    char32_t c = utf8::decode(line, i);
    if (c == '\t') chars.push_back({" ", at});
    else if (c < 0x20 || c == 0x7F || c == 0xFFFD) chars.push_back({"\xEF\xBF\xBD", at});
    else chars.push_back({std::string(line.substr(at, i - at)), at});
  }
  // A long line (a minified XML file) is shown around the span, with '…'.
  size_t first = 0, last = chars.size();
  if (utf8::cell_width(line) > 240) {
    size_t mark = 0;
    while (mark < chars.size() && chars[mark].at < col_bytes) ++mark;
    first = mark > 60 ? mark - 60 : 0;
    last = std::min(chars.size(), first + 180);
  }
  std::string shown = first > 0 ? "…" : "";
  size_t pad = first > 0 ? 1 : 0, width = 0;
  for (size_t k = first; k < last; ++k) {
    shown += chars[k].text;
    size_t w = utf8::cell_width(chars[k].text);
    if (chars[k].at < col_bytes) pad += w;
    else if (chars[k].at < mark_end) width += w;
  }
  if (last < chars.size()) shown += "…";
  width = std::max<size_t>(1, width);
  out += fmt::format("{} |\n{} | {}\n{} | {}{}\n", gutter, number, shown, gutter,
                     std::string(pad, ' '), std::string(width, '^'));
}

}  // namespace

std::string render_text(const Diagnostic& d, const SourceSet& sources) {
  std::string out;
  if (d.span.file != 0) {
    const SourceFile& file = sources.file(d.span.file);
    LineCol lc = file.line_col(d.span.begin);
    out += fmt::format("{}:{}:{}: {}: {} [{}]\n", file.path(), lc.line, lc.column,
                       severity_name(d.severity), d.message, d.code);
    render_excerpt(out, file, d.span);
  } else {
    out += fmt::format("stratum: {}: {} [{}]\n", severity_name(d.severity), d.message, d.code);
  }
  if (!d.counterexample.empty()) {
    std::string example;
    for (const auto& v : d.counterexample) example += (example.empty() ? "" : ", ") + v.field + ": " + v.text;
    out += fmt::format("  = for example: {{ {} }}\n", example);
  }
  for (const Note& n : d.notes) {
    if (n.span.file != 0) {
      const SourceFile& file = sources.file(n.span.file);
      LineCol lc = file.line_col(n.span.begin);
      out += fmt::format("{}:{}:{}: note: {}\n", file.path(), lc.line, lc.column, n.message);
      render_excerpt(out, file, n.span);
    } else {
      out += fmt::format("  = note: {}\n", n.message);
    }
  }
  return out;
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_escaped(out, s);
  return out;
}

// Bytes that are not UTF-8 are written as the text `\xNN` (backslash, x, two
// hex digits), so the JSON stays valid and the byte stays visible.
void append_json_escaped(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      size_t at = i;
      char32_t cp = utf8::decode(s, at);
      if (cp == 0xFFFD && !(at - i == 3 && s.substr(i, 3) == "\xEF\xBF\xBD")) {
        out += fmt::format("\\\\x{:02X}", static_cast<unsigned char>(c));
      } else {
        out.append(s.substr(i, at - i));
        i = at - 1;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
}

namespace {
std::string json_location(const SourceSet& sources, Span span) {
  if (span.file == 0) return "\"file\":null,\"line\":null,\"column\":null,\"end\":null";
  const SourceFile& file = sources.file(span.file);
  LineCol b = file.line_col(span.begin);
  LineCol e = file.line_col(span.end);
  return fmt::format(R"("file":"{}","line":{},"column":{},"end":{{"line":{},"column":{}}})",
                     json_escape(file.path()), b.line, b.column, e.line, e.column);
}
}  // namespace

std::string render_json(const Diagnostic& d, const SourceSet& sources) {
  std::string out = fmt::format("{{{}", json_location(sources, d.span));
  out += fmt::format(R"(,"severity":"{}","code":"{}","message":"{}","notes":[)",
                     severity_name(d.severity), json_escape(d.code), json_escape(d.message));
  for (size_t i = 0; i < d.notes.size(); ++i) {
    if (i) out += ",";
    out += fmt::format("{{{}", json_location(sources, d.notes[i].span));
    out += fmt::format(R"(,"message":"{}"}})", json_escape(d.notes[i].message));
  }
  out += "]";
  if (!d.counterexample.empty()) {
    out += ",\"counterexample\":{";
    for (size_t i = 0; i < d.counterexample.size(); ++i) {
      out += fmt::format("{}\"{}\":{}", i ? "," : "", json_escape(d.counterexample[i].field), d.counterexample[i].json);
    }
    out += "}";
  }
  out += "}";
  return out;
}

}  // namespace stratum
