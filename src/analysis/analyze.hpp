// analyse: proofs over the input domain, at check time.
//
// For every decision list, table, grid and node of the segment tree:
//   gap          — no `else` / catch-all and some customer gets no value (error)
//   overlap      — rows of a `unique` table, or rows of an `any` table with
//                  different results, that one customer matches together (error)
//   unreachable  — a row or branch that earlier ones fully cover, or whose
//                  condition can never hold (warning)
// Each finding carries a concrete customer (every input field, valid under its
// domain) that shows it, and that customer is evaluated before the finding is
// reported: a counter-example that does not hold is never printed. Where the
// conditions go beyond what the analysis models (decisions used as
// conditions, arithmetic on several fields, set membership), it says it could
// not prove totality instead of claiming anything.
#pragma once

#include <chrono>

#include "diag/diagnostic.hpp"
#include "eval/program.hpp"

namespace stratum {

// The analysis gives up what it has not proven after `budget` (then
// `not-proven`); the default is kAnalysisBudget.
inline constexpr std::chrono::milliseconds kAnalysisBudget{20'000};
void analyse(const eval::Program& program, Diagnostics& diags, std::chrono::milliseconds budget = kAnalysisBudget);

}  // namespace stratum
