// SourceFile: the text of one rule file, with line starts and display columns.
//
// Positions inside the engine are byte offsets; people read lines and
// columns. Columns count Unicode characters (a Chinese character is one
// column), and the caret under a diagnostic is padded by terminal cells
// (a wide character takes two), so both the number and the picture are right.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stratum {

// A byte range in one source file.
struct Span {
  uint32_t file = 0;   // index into the SourceSet; 0 is "no file" when empty
  uint32_t begin = 0;  // byte offset
  uint32_t end = 0;    // byte offset, exclusive
};

struct LineCol {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in Unicode characters
};

class SourceFile {
 public:
  SourceFile(std::string path, std::string text);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }

  LineCol line_col(uint32_t offset) const;
  // The text of a 1-based line, without its line terminator.
  std::string_view line_text(uint32_t line) const;
  uint32_t line_count() const { return static_cast<uint32_t>(line_starts_.size()); }

 private:
  std::string path_;
  std::string text_;
  std::vector<uint32_t> line_starts_;
};

// All files of one compilation; Span::file indexes into it (1-based).
class SourceSet {
 public:
  uint32_t add(std::string path, std::string text);
  const SourceFile& file(uint32_t id) const { return *files_.at(id - 1); }
  size_t size() const { return files_.size(); }

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

namespace utf8 {
// Decodes one code point at text[i]; advances i. Invalid bytes decode as
// U+FFFD and advance one byte.
char32_t decode(std::string_view text, size_t& i);
// Number of code points in text.
size_t length(std::string_view text);
// Terminal cells a code point takes: 2 for East Asian wide/fullwidth, else 1.
int cell_width(char32_t c);
size_t cell_width(std::string_view text);
// True when the whole string is valid UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool valid(std::string_view text);
// The length of the longest valid UTF-8 prefix: text.size() when valid.
size_t valid_prefix(std::string_view text);
// Text as it may be shown in a message: control characters and bytes that
// are not UTF-8 written as \n, \t, \xNN (C1 controls as \uNNNN); at most
// max_chars characters (0: all), then "…".
std::string printable(std::string_view text, size_t max_chars = 0);
void append(std::string& out, char32_t c);
}  // namespace utf8

}  // namespace stratum
