// Layout of rule text: the columns of every table and grid aligned by
// display width (Chinese text lines up); everything else left exactly as
// written. `stratum fmt` and the language server's formatting both use it.
#pragma once

#include <string>

namespace stratum {

// The text with its tables and grids aligned; idempotent. Line ends are
// kept (CRLF when the first line has one, then on every line).
std::string format_rule_text(const std::string& text);

}  // namespace stratum
