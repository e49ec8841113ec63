// check: resolve names, check types and units, guard optional fields, find
// cycles and duplicates. Reports into `diags`; returns the model (complete
// only when no error was reported).
#pragma once

#include "check/model.hpp"
#include "diag/diagnostic.hpp"

namespace stratum {

Model check(ast::Module module, const SourceSet& sources, Diagnostics& diags);

}  // namespace stratum
