// load: a rule file and the files it imports → one module. Imports and
// `load` reference files resolve relative to the file that names them and
// must stay inside the rules root (the main file's folder); import cycles and
// declarations that clash across files are diagnosed here.
#pragma once

#include <optional>
#include <string>

#include "diag/diagnostic.hpp"
#include "syntax/ast.hpp"

namespace stratum {

std::optional<ast::Module> load_module(const std::string& path, std::string text, SourceSet& sources,
                                       Diagnostics& diags);

}  // namespace stratum
