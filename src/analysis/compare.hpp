// compare: a rule set that extends another (`ruleset "…" extends "…"`)
// against its parent. For every output of the child — each decision, the
// segment and each plan item — one of:
//   override-unchanged   proven the same for every customer: its definition
//                        and everything it uses are the parent's (by
//                        construction), or the analysis' regions show that no
//                        customer gets another value (note)
//   override-changes     a customer who gets another value here than from the
//                        parent, found by the analysis and confirmed by
//                        evaluating both rule sets (note, with the customer)
//   override-not-proven  neither could be shown (warning, with the reason)
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "analysis/analyze.hpp"
#include "diag/diagnostic.hpp"
#include "eval/program.hpp"

namespace stratum {

// Every finding is reported `at` (the child's `extends "…"`), in the order
// of the child's outputs.
void compare_with_parent(const eval::Program& parent, const eval::Program& child, const std::string& parent_name, Span at,
                         Diagnostics& diags,
                         std::chrono::milliseconds budget = kAnalysisBudget);

}  // namespace stratum
