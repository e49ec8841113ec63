// The checker: one pass over declarations to collect names, then each
// expression is resolved and typed where it stands, with the facts the
// surrounding conditions establish (`x is present and …`). Dependencies
// between derived values are recorded and searched for cycles at the end.
// The passes are split by phase (check/checker.hpp); here are their order,
// the shared helpers and the entry point.
#include "check/check.hpp"

#include <algorithm>
#include <string>
#include <tuple>

#include "check/checker.hpp"

namespace stratum {

std::string Model::type_name(const Type& t) const {
  std::string base;
  switch (t.base) {
    case BaseType::error: base = "?"; break;
    case BaseType::boolean: base = "bool"; break;
    case BaseType::int_: base = "int"; break;
    case BaseType::decimal: base = "decimal"; break;
    case BaseType::money: base = "money"; break;
    case BaseType::text: base = "text"; break;
    case BaseType::date: base = "date"; break;
    case BaseType::days: base = "duration in days"; break;
    case BaseType::months: base = "duration in months"; break;
    case BaseType::duration: base = "duration"; break;
    case BaseType::enum_:
      base = t.enum_id >= 0 && t.enum_id < static_cast<int32_t>(enums.size()) ? enums[t.enum_id].name : "enum";
      break;
  }
  if (t.is_list) return "list<" + base + ">";
  return t.is_set ? "set<" + base + ">" : base;
}

const char* ast::to_string(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return "+";
    case BinaryOp::sub: return "-";
    case BinaryOp::mul: return "*";
    case BinaryOp::div: return "/";
    case BinaryOp::eq: return "==";
    case BinaryOp::ne: return "!=";
    case BinaryOp::lt: return "<";
    case BinaryOp::le: return "<=";
    case BinaryOp::gt: return ">";
    case BinaryOp::ge: return ">=";
    case BinaryOp::and_: return "and";
    case BinaryOp::or_: return "or";
    case BinaryOp::coalesce: return "??";
  }
  return "?";
}

namespace checking {

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::u32string x, y;
  for (size_t i = 0; i < a.size();) x += utf8::decode(a, i);
  for (size_t i = 0; i < b.size();) y += utf8::decode(b, i);
  std::vector<size_t> prev(y.size() + 1), cur(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= x.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= y.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[y.size()];
}

}  // namespace

std::string closest(std::string_view name, const std::vector<std::string>& candidates,
                    const std::function<bool(const std::string&)>& fits) {
  std::u32string x;
  for (size_t i = 0; i < name.size();) x += utf8::decode(name, i);
  size_t limit = x.size() <= 3 ? 1 : x.size() <= 5 ? 2 : 3;
  std::string best;
  std::tuple<int, int, size_t, long> best_rank{2, 2, SIZE_MAX, 0};
  for (const auto& c : candidates) {
    std::u32string y;
    for (size_t i = 0; i < c.size();) y += utf8::decode(c, i);
    if (y == x) continue;
    size_t prefix = 0, suffix = 0;
    while (prefix < x.size() && prefix < y.size() && x[prefix] == y[prefix]) ++prefix;
    while (suffix < x.size() - prefix && suffix < y.size() - prefix && x[x.size() - 1 - suffix] == y[y.size() - 1 - suffix]) ++suffix;
    // `name` is the candidate's start and end with only its middle left out.
    // Or the candidate is the name's start (`maximum` for `max`).
    bool abbreviates = (x.size() >= 2 && y.size() > x.size() && y.size() <= 2 * x.size() + 2 && prefix >= 1 && suffix >= 1 &&
                        prefix + suffix == x.size()) ||
                       (y.size() >= 3 && prefix == y.size() && x.size() <= 2 * y.size() + 2);
    size_t d = edit_distance(name, c);
    if (!abbreviates && d > limit) continue;
    std::tuple<int, int, size_t, long> rank{abbreviates ? 0 : 1, fits && fits(c) ? 0 : 1, d, -static_cast<long>(prefix + suffix)};
    if (rank < best_rank) { best_rank = rank; best = c; }
  }
  return best;
}

void Checker::run() {
  collect_enums();
  collect_fields();
  collect_derived();
  if (!lets_shallow_enough()) return;
  mark_optional_grids();  // over fields and tables, before lets use them
  for (size_t i = 0; i < m_.lets.size(); ++i) check_let(static_cast<int32_t>(i));
  check_domains();
  mark_optional_grids();  // and over lets
  for (size_t i = 0; i < m_.module.decides.size(); ++i) check_decide(static_cast<int32_t>(i));
  for (size_t i = 0; i < m_.tables.size(); ++i) check_table(static_cast<int32_t>(i));
  for (size_t i = 0; i < m_.scorecards.size(); ++i) check_scorecard(static_cast<int32_t>(i));
  check_segments();
  check_plans();
  check_capacities();
  check_fixed();
  check_stabilities();
  find_cycles();
  for (auto& t : m_.module.tests) check_test(t);
  bool decides_something = !m_.segments.empty() || !m_.plan_items.empty() ||
                           std::any_of(m_.decisions.begin(), m_.decisions.end(), [](const DecisionInfo& d) { return !d.imported; });
  if (!decides_something && !diags_.has_errors()) {
    diags_.warning("nothing-decided", Span{m_.module.file, 0, 0},
                   "this rule file decides nothing: it has no decision, table, scorecard, grid, segment tree or plan, "
                   "so evaluating it gives each record only its key");
  }
}

}  // namespace checking

Model check(ast::Module module, const SourceSet& sources, Diagnostics& diags) {
  Model model;
  model.module = std::move(module);
  model.ruleset = model.module.ruleset;
  model.version = model.module.version;
  model.effective = model.module.effective;
  checking::Checker checker(model, diags);
  checker.sources_ = &sources;
  checker.run();
  return model;
}

}  // namespace stratum
