// lower: the checked model → the evaluation tree (eval::Program). Names
// become slots, enum values codes, literals Values, table cells compiled
// tests with their constant bounds evaluated once here.
#pragma once

#include <memory>

#include "check/model.hpp"
#include "diag/diagnostic.hpp"
#include "eval/program.hpp"

namespace stratum {

std::unique_ptr<eval::Program> lower(const Model& model, const SourceSet& sources, Diagnostics& diags);

}  // namespace stratum
