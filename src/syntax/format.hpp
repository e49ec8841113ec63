// Layout of rule text: the columns of every table and grid aligned by
// display width (Chinese text lines up); everything else left exactly as
// written. `stratum fmt` and the language server's formatting both use it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "source/source_file.hpp"

namespace stratum {

// The text laid out: indentation, spacing around operators, blank lines,
// and the columns of tables and grids aligned; comments stay where they
// are. Idempotent. Line ends are kept (CRLF when the first line has one,
// then on every line).
std::string format_rule_text(const std::string& text);

// What formatting may not change: every non-blank line, in order, with the
// blanks outside strings and comments removed. Two texts with the same
// signature hold the same tokens on the same lines (a table row stays a row).
std::vector<std::string> code_signature(const std::string& text);

// An expression's span widened over the parentheses it opens or closes but
// does not hold (the syntax tree keeps no parentheses: `not (a and b)` spans
// `not (a and b`), so that its text reads whole.
Span balanced_span(std::string_view text, Span span);

}  // namespace stratum
