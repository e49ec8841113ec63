// Layout of rule text: the columns of every table and grid aligned by
// display width (Chinese text lines up); everything else left exactly as
// written. `stratum fmt` and the language server's formatting both use it.
#pragma once

#include <string>
#include <string_view>

#include "source/source_file.hpp"

namespace stratum {

// The text with its tables and grids aligned; idempotent. Line ends are
// kept (CRLF when the first line has one, then on every line).
std::string format_rule_text(const std::string& text);

// An expression's span widened over the parentheses it opens or closes but
// does not hold (the syntax tree keeps no parentheses: `not (a and b)` spans
// `not (a and b`), so that its text reads whole.
Span balanced_span(std::string_view text, Span span);

}  // namespace stratum
