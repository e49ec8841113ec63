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

}  // namespace stratum
