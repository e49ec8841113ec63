// parse: one rule file's text → its syntax tree, or a syntax diagnostic.
// The only place PEGTL is seen; callers get no PEGTL types.
#pragma once

#include <optional>

#include "diag/diagnostic.hpp"
#include "syntax/ast.hpp"

namespace stratum {

// Parses file `file_id` of `sources`. On a syntax error, appends one
// diagnostic (no cascades) and returns nullopt.
std::optional<ast::Module> parse(const SourceSet& sources, uint32_t file_id, Diagnostics& diags);

// Civil date ⇄ days since 1970-01-01 (proleptic Gregorian).
int32_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(int32_t z, int& y, unsigned& m, unsigned& d);
// Parses YYYY-MM-DD (a real calendar date) into days since 1970-01-01.
std::optional<int32_t> parse_iso_date(std::string_view text);

}  // namespace stratum
