// Checker, constructs: decision lists, field ranges, tables and grids (and
// which of them may be missing), scorecards, the segment tree, plans, and the
// cycles among derived values.
#include "check/checker.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include <fmt/format.h>

namespace stratum::checking {

// ---- derived values ---------------------------------------------------------

void Checker::check_decide(int32_t index) {
  auto& d = m_.module.decides[index];
  int32_t dec = -1;
  for (size_t k = 0; k < m_.decisions.size(); ++k) {
    if (m_.decisions[k].source == DecisionSource::decide && m_.decisions[k].index == index) dec = static_cast<int32_t>(k);
  }
  current_node_ = decision_node(dec);
  Type want = m_.decisions[dec].type;
  Facts earlier_false;  // rows are tried in order: later rows know earlier conditions failed
  bool seen_else = false;
  for (auto& b : d.branches) {
    if (seen_else) {
      diags_.error("unreachable-branch", b.span, "a branch after `else` is never reached");
    }
    Facts facts = earlier_false;
    if (b.condition) {
      Facts then_facts = check_when(*b.condition, facts);
      if (b.result) {
        Typed r = expr(*b.result, &want, then_facts);
        require_value(r, *b.result);
        expect_type(r.type, want, *b.result, fmt::format("the result of `{}`", d.name));
      }
      earlier_false.add(facts_when(*b.condition, false));
    } else {
      seen_else = true;
      if (b.result) {
        Typed r = expr(*b.result, &want, facts);
        require_value(r, *b.result);
        expect_type(r.type, want, *b.result, fmt::format("the result of `{}`", d.name));
      }
    }
  }
  if (d.branches.empty()) diags_.error("empty-decision", d.span, fmt::format("decision `{}` has no branches", d.name));
  current_node_ = -1;
}

// `employees : int >= 0`: a constant bound of an ordered type.
void Checker::check_domains() {
  for (auto& f : m_.fields) {
    if (!f.domain || f.type.is_error()) continue;
    if (!f.type.is_ordered() || f.type.base == BaseType::enum_) {
      diags_.error("type-mismatch", f.domain->span, "a field's range (`>= 0`, `in [0, 1]`) is for numbers, amounts and dates");
      continue;
    }
    ast::Expr head;
    head.kind = ExprKind::name;
    head.text = f.name;
    cell(*f.domain, f.type, head);
    for (auto& v : f.domain->values) {
      if (!is_constant(*v)) diags_.error("not-constant", v->span, "a field's range is given by constants");
    }
    // A whole-number range must hold a whole number: `int in (8, 9)` holds none.
    const ast::Cell& d = *f.domain;
    if (f.type.base == BaseType::int_ && d.kind == ast::CellKind::range && d.values.size() == 2 &&
        d.values[0]->kind == ExprKind::number && d.values[1]->kind == ExprKind::number) {
      Decimal lo = d.values[0]->number, hi = d.values[1]->number;
      Decimal first = d.low_closed ? lo.ceil() : (lo.floor() + Decimal::from_int(1));
      Decimal last = d.high_closed ? hi.floor() : (hi.ceil() - Decimal::from_int(1));
      if (first > last) {
        diags_.error("empty-range", d.span, fmt::format("no whole number lies in this range, so no record could ever be read"));
      }
    }
  }
}

// A table or grid over a value that may be missing has no result for a
// customer without that value: its decisions may be missing, and their
// users must say what then (`is present`, `??`).
// To a fixed point: a table over a table over an optional value is
// optional too, whatever order they are declared in.
void Checker::mark_optional_grids() {
  // A result cell `missing` (DMN's null; an `else || missing` row) makes
  // its column's decision optional.
  if (!symbols_.count("missing")) {
    for (auto& info : m_.tables) {
      const ast::TableDecl& t = *info.decl;
      auto scan = [&](const ast::TableRow& row) {
        for (size_t c = 0; c < row.outputs.size() && c < info.decisions.size(); ++c) {
          if (ast::is_missing_cell(*row.outputs[c])) m_.decisions[info.decisions[c]].maybe_missing = true;
        }
      };
      for (const auto& row : t.rows) scan(row);
      if (t.else_row) scan(*t.else_row);
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& info : m_.tables) {
      for (int32_t d : info.decisions) {
        if (m_.decisions[d].maybe_missing) continue;
        for (size_t c = 0; c < info.decl->columns.size(); ++c) {
          auto& col = info.decl->columns[c];
          if (ast::column_may_be_missing(*info.decl, c)) continue;  // `x?`: missing matches `-` cells
          auto it = symbols_.find(col->text);
          if (!col->qualifier.empty() || it == symbols_.end()) continue;
          bool optional = (it->second.kind == SymbolKind::field && m_.fields[it->second.index].optional) ||
                          (it->second.kind == SymbolKind::let && let_state_[it->second.index] == 2 && m_.lets[it->second.index].maybe_missing) ||
                          (it->second.kind == SymbolKind::decision && m_.decisions[it->second.index].maybe_missing);
          if (optional) {
            m_.decisions[d].maybe_missing = true;
            changed = true;
            break;
          }
        }
      }
    }
  }
}

void Checker::check_table(int32_t index) {
  TableInfo& info = m_.tables[index];
  ast::TableDecl& t = *info.decl;
  for (auto& row : t.rows) info.row_lines.push_back(line_of(row.span));
  // Row names (`[名称]`) are unique in their table.
  for (size_t r = 0; r < t.rows.size(); ++r) {
    if (t.rows[r].label.empty()) continue;
    for (size_t q = 0; q < r; ++q) {
      if (t.rows[q].label != t.rows[r].label) continue;
      auto& d = diags_.error("duplicate-name", t.rows[r].label_span,
                             fmt::format("two rows of `{}` are named `{}`: a row's name is unique in its table", t.name, t.rows[r].label));
      d.notes.push_back({"the other one", t.rows[q].label_span});
      break;
    }
  }
  // What the result cells hold, per hit policy.
  bool lists = t.policy == ast::HitPolicy::rule_order || t.policy == ast::HitPolicy::output_order;
  const char* list_policy = t.policy == ast::HitPolicy::rule_order ? "rule order" : "output order";
  if (t.policy == ast::HitPolicy::collect && t.outputs.size() != 1) {
    diags_.error("table-shape", t.policy_span, "a `collect` table has exactly one result column");
  }
  bool ordered_column = false;
  for (int32_t d : info.decisions) {
    Type decided = m_.decisions[d].type;
    Type cell = decided;
    if (decided.is_error()) { info.cell_types.push_back(cell); continue; }
    if (lists) {
      if (!decided.is_list) {
        diags_.error("type-mismatch", t.policy_span,
                     fmt::format("a `{}` table gives the results of every matching row, in order: declare the result column `{}` as list<{}>",
                                 list_policy, m_.decisions[d].name, m_.type_name(decided.element())));
      }
      cell = decided.element();
      if (cell.base == BaseType::enum_) ordered_column = true;
      info.cell_types.push_back(cell);
      continue;
    }
    if (decided.is_list) {
      diags_.error("type-mismatch", t.policy_span, "only a `rule order` or `output order` table gives a list");
      info.cell_types.push_back(decided.element());
      continue;
    }
    if (t.policy == ast::HitPolicy::priority) {
      if (decided.base == BaseType::enum_ && !decided.is_set) ordered_column = true;
      else if (t.outputs.size() == 1) diags_.error("type-mismatch", t.policy_span, "a `priority` table's result is an enum: the value declared first wins");
    }
    if (t.policy == ast::HitPolicy::collect) {
      switch (t.collect) {
        case ast::CollectOp::list:
          if (!decided.is_set) {
            diags_.error("type-mismatch", t.policy_span,
                         fmt::format("`collect list` gathers a set: declare the result as set<{}>", m_.type_name(decided)));
          }
          cell = decided.element();
          break;
        case ast::CollectOp::sum:
          if (!decided.is_number_like()) diags_.error("type-mismatch", t.policy_span, "`collect sum` adds numbers or money");
          break;
        case ast::CollectOp::min:
        case ast::CollectOp::max:
          if (!decided.is_number_like()) diags_.error("type-mismatch", t.policy_span, "`collect min`/`max` compares numbers or money");
          break;
        case ast::CollectOp::count:
          if (decided.base != BaseType::int_ || decided.is_set) diags_.error("type-mismatch", t.policy_span, "`collect count` gives an int");
          cell = {};  // the cells are not used
          break;
      }
    } else if (decided.is_set) {
      diags_.error("type-mismatch", t.policy_span, "only a `collect list` table gives a set");
    }
    info.cell_types.push_back(cell);
  }
  bool all_typed = std::all_of(info.decisions.begin(), info.decisions.end(), [&](int32_t d) { return !m_.decisions[d].type.is_error(); });
  if (all_typed && !ordered_column && t.outputs.size() > 1 &&
      (t.policy == ast::HitPolicy::priority)) {
    diags_.error("type-mismatch", t.policy_span, "a `priority` table orders its rows by its enum result columns: give it at least one");
  }
  if (all_typed && !ordered_column && t.policy == ast::HitPolicy::output_order) {
    diags_.error("type-mismatch", t.policy_span,
                 "an `output order` table sorts the results by its enum result columns (the value declared first comes first): give it at least one list<enum>");
  }
  if (t.else_row) {
    bool aggregate = t.policy == ast::HitPolicy::collect &&
                     (t.collect == ast::CollectOp::sum || t.collect == ast::CollectOp::min || t.collect == ast::CollectOp::max);
    if (t.policy == ast::HitPolicy::collect && !aggregate) {
      diags_.error("table-shape", t.else_row->span,
                   fmt::format("a `{}` table has a result whether rows match or not: it takes no `else` row",
                               t.collect == ast::CollectOp::list ? "collect list" : "collect count"));
    }
  }
  // All outputs of a table depend on the same columns: record them for the
  // first output's node and let the others depend on it.
  current_node_ = info.decisions.empty() ? -1 : decision_node(info.decisions[0]);
  for (size_t k = 1; k < info.decisions.size(); ++k) {
    deps_[decision_node(info.decisions[k])].push_back({current_node_, t.outputs[k].span});
  }
  Facts none;
  for (size_t c = 0; c < t.columns.size(); ++c) {
    auto& col = t.columns[c];
    Typed ty = expr(*col, nullptr, none);
    if (ast::column_may_be_missing(t, c) && !ty.maybe_missing && !ty.type.is_error()) {
      diags_.warning("never-missing", col->span, fmt::format("column `{}` is never missing: remove the `?`", col->text));
    }
    if (ty.maybe_missing && !col->qualifier.empty()) {
      diags_.error("unguarded-optional", col->span, "this column may be missing");
    } else if (ty.maybe_missing) {
      ty.maybe_missing = false;  // the table's result is missing then (see mark_optional_grids)
    }
    info.column_types.push_back(ty.type);
  }
  for (auto& row : t.rows) {
    if (row.inputs.size() != t.columns.size()) {
      diags_.error("table-shape", row.span,
                   fmt::format("this row has {} input cells, the header has {} columns", row.inputs.size(), t.columns.size()));
      continue;
    }
    if (row.outputs.size() != t.outputs.size()) {
      diags_.error("table-shape", row.span,
                   fmt::format("this row has {} result cells, the header has {} result columns", row.outputs.size(), t.outputs.size()));
      continue;
    }
    for (size_t c = 0; c < row.inputs.size(); ++c) {
      ast::Cell& in = row.inputs[c];
      if (in.kind == ast::CellKind::equals && in.values.size() == 1 && ast::is_missing_cell(*in.values[0]) && !symbols_.count("missing")) {
        // `missing`: the customers without the column's value.
        if (!ast::column_may_be_missing(t, c)) {
          diags_.error("type-mismatch", in.span,
                       fmt::format("`missing` tests a column that may be missing: write the column `{}?`", t.columns[c]->text));
        }
        in.kind = ast::CellKind::missing;
        continue;
      }
      cell(in, info.column_types[c], *t.columns[c]);
    }
    result_cells(t, info, row, false);
  }
  if (t.else_row) {
    if (t.else_row->outputs.size() != t.outputs.size()) {
      diags_.error("table-shape", t.else_row->span,
                   fmt::format("the `else` row has {} result cells, the header has {} result columns", t.else_row->outputs.size(), t.outputs.size()));
    } else {
      result_cells(t, info, *t.else_row, true);
    }
  }
  if (t.rows.empty()) diags_.error("empty-decision", t.span, fmt::format("table `{}` has no rows", t.name));
  current_node_ = -1;
}

void Checker::result_cells(ast::TableDecl& t, TableInfo& info, ast::TableRow& row, bool is_else) {
  Facts none;
  bool lists = t.policy == ast::HitPolicy::rule_order || t.policy == ast::HitPolicy::output_order;
  for (size_t c = 0; c < row.outputs.size(); ++c) {
    Expr& out = *row.outputs[c];
    if (ast::is_missing_cell(out) && !symbols_.count("missing")) {
      if (lists || (t.policy == ast::HitPolicy::collect && !is_else)) {
        diags_.error("type-mismatch", out.span,
                     lists ? "a list holds values: `missing` is for first, unique, any and priority tables and for the `else` row of collect sum, min and max"
                           : "every matching row of this table gives a result: `missing` is for first, unique, any and priority tables and for an `else` row");
      }
      out.kind = ExprKind::missing;
      continue;
    }
    Type want = c < info.cell_types.size() ? info.cell_types[c] : Type{};
    Typed r = expr(out, want.is_error() ? nullptr : &want, none);
    require_value(r, out);
    if (!want.is_error()) expect_type(r.type, want, out, fmt::format("column `{}`", t.outputs[c].name));
  }
}

void Checker::cell(ast::Cell& c, const Type& column, const Expr& head) {
  if (column.is_error()) return;
  Facts none;
  auto value = [&](Expr& e) {
    Typed t = expr(e, &column, none);
    require_value(t, e);
    return t.type;
  };
  std::string what = fmt::format("column `{}`", head.text);
  switch (c.kind) {
    case ast::CellKind::any:
    case ast::CellKind::missing: return;
    case ast::CellKind::equals:
    case ast::CellKind::set:
    case ast::CellKind::not_set:
      if (column.is_set) {
        diags_.error("type-mismatch", c.span, fmt::format("{} is a set; test it in a `let` with `contains`", what));
        return;
      }
      for (auto& v : c.values) compare_types(column, value(*v), *v, what, BinaryOp::eq);
      return;
    case ast::CellKind::compare:
      compare_types(column, value(*c.values[0]), *c.values[0], what, c.op);
      return;
    case ast::CellKind::range:
      for (auto& v : c.values) compare_types(column, value(*v), *v, what, BinaryOp::lt);
      return;
  }
}

// ---- scorecards -------------------------------------------------------------

void Checker::check_scorecard(int32_t index) {
  ScorecardInfo& info = m_.scorecards[index];
  ast::ScorecardDecl& sc = *info.decl;
  current_node_ = decision_node(info.decision);
  Facts none;
  Type points = Type::of(BaseType::decimal);
  for (size_t k = 0; k < sc.factors.size(); ++k) {
    ast::Factor& f = sc.factors[k];
    Typed v = expr(*f.value, nullptr, none);
    require_value(v, *f.value);
    m_.factors[info.first_factor + k].value_type = v.type;
    if (f.weight) {
      Typed w = value(*f.weight, nullptr, none);
      expect_type(w.type, points, *f.weight, fmt::format("the weight of `{}`", f.name));
    }
    bool seen_else = false;
    for (auto& bin : f.bins) {
      if (seen_else) diags_.error("unreachable-branch", bin.span, "a bin after `else` is never reached");
      if (bin.is_else) seen_else = true;
      else cell(bin.test, v.type, *f.value);
      Typed p = value(*bin.points, nullptr, none);
      expect_type(p.type, points, *bin.points, fmt::format("the points of `{}`", f.name));
    }
    if (f.bins.empty()) diags_.error("empty-decision", f.span, fmt::format("factor `{}` has no bins", f.name));
  }
  for (auto& a : sc.adjustments) {
    Typed amount = value(*a.amount, nullptr, none);
    expect_type(amount.type, points, *a.amount, a.multiply ? "the factor of `multiply`" : "the points of `bonus`");
    Typed c = value(*a.condition, nullptr, none);
    expect_type(c.type, Type::of(BaseType::boolean), *a.condition, "the condition");
  }
  if (sc.factors.empty()) diags_.error("empty-decision", sc.span, fmt::format("scorecard `{}` has no factors", sc.name));
  current_node_ = -1;
}

// ---- the segment tree and plans ---------------------------------------------

void Checker::check_segments() {
  if (m_.module.segments.empty()) return;
  if (m_.module.segments.size() > 1) {
    auto& d = diags_.error("duplicate-name", m_.module.segments[1]->span, "a rule file has one segment tree");
    d.notes.push_back({"the first is here", m_.module.segments[0]->span});
  }
  expand_splits(*m_.module.segments[0]);
  int32_t leaves = 0;
  flatten(*m_.module.segments[0], -1, "", leaves);
  // The leaves' paths are the values of an enum of their own: that is the
  // segment's type in outputs, tests and the distribution.
  EnumInfo paths{"segment", m_.module.segments[0]->span, {}, {}};
  for (auto& n : m_.segments) {
    if (n.leaf >= 0) {
      paths.codes[n.path] = n.leaf;
      paths.members.push_back(n.path);
    }
  }
  if (paths.members.size() > 120) {
    diags_.error("enum-too-large", m_.module.segments[0]->span, "a segment tree has at most 120 leaves");
  }
  m_.segment_enum = static_cast<int32_t>(m_.enums.size());
  m_.enums.push_back(std::move(paths));
  Facts none;
  node_facts_.assign(m_.segments.size(), Facts{});
  check_segment_node(*m_.module.segments[0], none);
}

// `-> N by X`: N gets a child per value of X (an enum field, `let` or
// decision that is never missing), named N_value and taken when X == value;
// a match that names every value is total, as the analysis proves.
void Checker::expand_splits(ast::SegmentNode& n) {
  for (auto& b : n.branches) expand_splits(*b.node);
  if (n.split_by.empty()) return;
  auto it = symbols_.find(n.split_by);
  if (it == symbols_.end()) {
    std::vector<std::string> names;
    for (auto& [name, _] : symbols_) names.push_back(name);
    std::sort(names.begin(), names.end());
    auto& d = diags_.error("unknown-name", n.split_span, fmt::format("unknown name `{}`", n.split_by));
    if (auto hint = closest(n.split_by, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
    return;
  }
  const Symbol& s = it->second;
  Type type = s.kind == SymbolKind::field ? m_.fields[s.index].type : s.kind == SymbolKind::let ? m_.lets[s.index].type
                                                                                               : m_.decisions[s.index].type;
  bool missing = s.kind == SymbolKind::field ? m_.fields[s.index].optional
                 : s.kind == SymbolKind::let ? m_.lets[s.index].maybe_missing
                                             : m_.decisions[s.index].maybe_missing;
  if (type.is_error()) return;
  if (type.is_set || type.base != BaseType::enum_ || type.enum_id < 0) {
    diags_.error("type-mismatch", n.split_span,
                 fmt::format("`by {}` splits a segment by the values of an enum; `{}` is {}", n.split_by, n.split_by, m_.type_name(type)));
    return;
  }
  if (missing) {
    diags_.error("not-optional", n.split_span,
                 fmt::format("`{}` may be missing: a segment is split by a value every customer has (give it a default with `??`)", n.split_by));
    return;
  }
  const EnumInfo& e = m_.enums[type.enum_id];
  for (const auto& member : e.members) {
    ast::SegmentBranch b;
    b.span = n.split_span;
    auto name = std::make_unique<ast::Expr>();
    name->kind = ast::ExprKind::name;
    name->span = n.split_span;
    name->text = n.split_by;
    auto value = std::make_unique<ast::Expr>();
    value->kind = ast::ExprKind::name;
    value->span = n.split_span;
    value->text = member;
    value->qualifier = e.name;
    b.condition = std::make_unique<ast::Expr>();
    b.condition->kind = ast::ExprKind::binary;
    b.condition->op = ast::BinaryOp::eq;
    b.condition->span = n.split_span;
    b.condition->depth = 2;
    b.condition->args.push_back(std::move(name));
    b.condition->args.push_back(std::move(value));
    b.node = std::make_unique<ast::SegmentNode>();
    b.node->name = n.name + "_" + member;
    b.node->span = n.split_span;
    n.branches.push_back(std::move(b));
  }
}

void Checker::flatten(const ast::SegmentNode& n, int32_t parent, const std::string& prefix, int32_t& leaves) {
  int32_t index = static_cast<int32_t>(m_.segments.size());
  SegmentInfo info;
  info.name = n.name;
  info.span = n.span;
  info.parent = parent;
  info.path = prefix.empty() ? n.name : prefix + "/" + n.name;
  if (n.branches.empty()) info.leaf = leaves++;
  if (auto [it, ok] = segment_index_.emplace(n.name, index); !ok) {
    auto& d = diags_.error("duplicate-name", n.span, fmt::format("segment `{}` appears twice in the tree", n.name));
    d.notes.push_back({"first here", m_.segments[it->second].span});
  }
  m_.segments.push_back(info);
  std::string path = m_.segments[index].path;
  for (const auto& b : n.branches) {
    int32_t child = static_cast<int32_t>(m_.segments.size());
    m_.segments[index].branches.push_back({b.condition.get(), child});
    flatten(*b.node, index, path, leaves);
  }
}

// Checks a branch's `when` condition under what earlier rows established;
// returns what holds inside the branch.
Facts Checker::check_when(Expr& condition, const Facts& facts) {
  Typed c = expr(condition, nullptr, facts);
  require_value(c, condition);
  expect_type(c.type, Type::of(BaseType::boolean), condition, "a `when` condition");
  Facts then_facts = facts;
  then_facts.add(facts_when(condition, true));
  return then_facts;
}

void Checker::check_segment_node(ast::SegmentNode& n, const Facts& inherited) {
  // What holds for every customer at this node (its branch conditions):
  // plans of the node may rely on it.
  if (auto at = segment_index_.find(n.name); at != segment_index_.end() && m_.segments[at->second].span.begin == n.span.begin && m_.segments[at->second].span.file == n.span.file) {
    node_facts_[at->second] = inherited;
  }
  Facts earlier_false = inherited;
  bool seen_else = false;
  for (auto& b : n.branches) {
    if (seen_else) diags_.error("unreachable-branch", b.span, "a branch after `else` is never reached");
    Facts facts = earlier_false;
    if (b.condition) {
      check_segment_node(*b.node, check_when(*b.condition, facts));
      earlier_false.add(facts_when(*b.condition, false));
    } else {
      seen_else = true;
      check_segment_node(*b.node, facts);
    }
  }
}

// Node plans (`plan NODE { … }`) and conditional plans (`plan [NODE] when
// COND { … }`). An item keeps one type in every plan that sets it.
void Checker::check_plans() {
  if (m_.module.plans.empty()) return;
  std::unordered_map<std::string, int32_t> item_index;
  std::vector<bool> planned(m_.segments.size(), false);
  for (auto& plan : m_.module.plans) {
    int32_t node = -1;
    if (!plan.node.empty()) {
      if (m_.segments.empty()) {
        diags_.error("unknown-name", plan.span,
                     fmt::format("`{}` is not a segment: there is no `segments` tree (a plan for every customer is `plan when CONDITION {{ … }}`)", plan.node));
        continue;
      }
      auto at = segment_index_.find(plan.node);
      if (at == segment_index_.end()) {
        std::vector<std::string> names;
        for (auto& n : m_.segments) names.push_back(n.name);
        auto& d = diags_.error("unknown-name", plan.span, fmt::format("`{}` is not a segment of the tree", plan.node));
        if (auto hint = closest(plan.node, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
        continue;
      }
      node = at->second;
    }
    Facts facts = node >= 0 && node < static_cast<int32_t>(node_facts_.size()) ? node_facts_[node] : Facts{};
    int32_t conditional = -1;
    if (plan.condition) {
      facts = check_when(*plan.condition, facts);
      conditional = static_cast<int32_t>(m_.conditional_plans.size());
      m_.conditional_plans.push_back({plan.span, node, plan.condition.get()});
    } else {
      if (planned[node]) {
        diags_.error("duplicate-name", plan.span, fmt::format("segment `{}` has two plans: put its items in one", plan.node));
        continue;
      }
      planned[node] = true;
    }
    std::set<std::string> in_this_plan;
    for (auto& item : plan.items) {
      Typed t = expr(*item.value, nullptr, facts);
      require_value(t, *item.value);
      auto [it, fresh] = item_index.emplace(item.name, static_cast<int32_t>(m_.plan_items.size()));
      if (fresh) {
        if (symbols_.count(item.name)) {
          auto& d = diags_.error("duplicate-name", item.span,
                                 fmt::format("plan item `{}` has the name of a field, `let` or decision; outputs need distinct names", item.name));
          d.notes.push_back({"that one is here", symbol_span(symbols_.at(item.name))});
        }
        PlanItemInfo info{item.name, item.span, t.type, std::vector<const ast::Expr*>(m_.segments.size(), nullptr)};
        m_.plan_items.push_back(std::move(info));
      } else if (!t.type.is_error() && !m_.plan_items[it->second].type.is_error()) {
        Type& have = m_.plan_items[it->second].type;
        if (have.base == BaseType::int_ && t.type.base == BaseType::decimal) have = t.type;
        else if (have.is_duration() && t.type.is_duration() && !(have == t.type)) {
          // `1 months` here, `2 weeks` there: a duration of months and days
          have = Type::of(BaseType::duration);
        } else if (!compatible(t.type, have)) {
          auto& d = diags_.error("type-mismatch", item.value->span,
                                 fmt::format("type mismatch: plan item `{}` is {} elsewhere, this is {}", item.name,
                                             m_.type_name(have), m_.type_name(t.type)));
          d.notes.push_back({"first set here", m_.plan_items[it->second].span});
        }
      }
      if (!in_this_plan.insert(item.name).second) {
        diags_.error("duplicate-name", item.span, fmt::format("`{}` is set twice in this plan", item.name));
        continue;
      }
      if (conditional >= 0) m_.plan_items[it->second].conditional.push_back({conditional, item.value.get()});
      else m_.plan_items[it->second].values[node] = item.value.get();
    }
  }
  overridden_plan_items();
}

// A plan item set on an inner segment that every leaf below sets again
// (itself or through a segment between) never applies: said, with where
// each leaf takes its value instead.
void Checker::overridden_plan_items() {
  for (const auto& item : m_.plan_items) {
    for (size_t n = 0; n < m_.segments.size() && n < item.values.size(); ++n) {
      if (!item.values[n] || m_.segments[n].leaf >= 0) continue;
      std::vector<std::pair<int32_t, int32_t>> takers;  // (leaf, the segment whose setting it takes)
      bool dead = true;
      std::vector<int32_t> stack{static_cast<int32_t>(n)};
      while (!stack.empty() && dead) {
        int32_t at = stack.back();
        stack.pop_back();
        for (const auto& [cond, child] : m_.segments[at].branches) {
          if (item.values[child]) {
            // This subtree takes its value from `child`: every leaf in it.
            std::vector<int32_t> below{child};
            while (!below.empty()) {
              int32_t x = below.back();
              below.pop_back();
              if (m_.segments[x].leaf >= 0) takers.push_back({x, child});
              for (const auto& b : m_.segments[x].branches) below.push_back(b.second);
            }
          } else if (m_.segments[child].leaf >= 0) {
            dead = false;  // a leaf that takes this node's value
          } else {
            stack.push_back(child);
          }
        }
      }
      if (!dead || takers.empty()) continue;
      auto& d = diags_.warning("overridden", item.values[n]->span,
                               fmt::format("plan item `{}` of segment `{}` never applies: every segment below it sets its own", item.name,
                                           m_.segments[n].name));
      std::sort(takers.begin(), takers.end());
      size_t shown = 0;
      for (const auto& [leaf, from] : takers) {
        if (++shown > 8) {
          d.notes.push_back({fmt::format("… and {} more", takers.size() - 8), {}});
          break;
        }
        d.notes.push_back({leaf == from ? fmt::format("`{}` sets it here", m_.segments[leaf].name)
                                        : fmt::format("`{}` takes it from `{}`, here", m_.segments[leaf].name, m_.segments[from].name),
                           item.values[from]->span});
      }
    }
  }
}

// ---- cycles -----------------------------------------------------------------

std::string Checker::node_name(int32_t n) const {
  return n < static_cast<int32_t>(m_.lets.size()) ? m_.lets[n].name : m_.decisions[n - m_.lets.size()].name;
}

Span Checker::node_span(int32_t n) const {
  return n < static_cast<int32_t>(m_.lets.size()) ? m_.lets[n].span : m_.decisions[n - m_.lets.size()].span;
}

void Checker::find_cycles() {
  std::vector<int> color(deps_.size(), 0);
  std::vector<int32_t> stack;
  std::function<void(int32_t)> visit = [&](int32_t n) {
    color[n] = 1;
    stack.push_back(n);
    for (auto& [to, span] : deps_[n]) {
      if (color[to] == 1) {
        auto start = std::find(stack.begin(), stack.end(), to);
        std::string path;
        for (auto it = start; it != stack.end(); ++it) path += fmt::format("`{}` → ", node_name(*it));
        path += fmt::format("`{}`", node_name(to));
        auto& d = diags_.error("cycle", node_span(to), fmt::format("`{}` depends on itself: {}", node_name(to), path));
        d.notes.push_back({fmt::format("`{}` is used here", node_name(to)), span});
      } else if (color[to] == 0) {
        visit(to);
      }
    }
    stack.pop_back();
    color[n] = 2;
  };
  for (size_t n = 0; n < deps_.size(); ++n) {
    if (color[n] == 0) visit(static_cast<int32_t>(n));
  }
}

}  // namespace stratum::checking

namespace stratum::checking {

// `capacity NODE { limit N [per X]; rank by Y; overflow -> LEAF | overflow plan LEAF }`.
void Checker::check_capacities() {
  if (m_.module.capacities.empty()) return;
  auto segment = [&](const std::string& name, Span at) -> int32_t {
    auto it = segment_index_.find(name);
    if (it != segment_index_.end()) return it->second;
    std::vector<std::string> names;
    for (auto& n : m_.segments) names.push_back(n.name);
    auto& d = diags_.error("unknown-name", at, fmt::format("`{}` is not a segment of the tree", name));
    if (auto hint = closest(name, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
    return -1;
  };
  auto under = [&](int32_t n, int32_t ancestor) {
    for (; n >= 0; n = m_.segments[n].parent) {
      if (n == ancestor) return true;
    }
    return false;
  };
  // A value every customer at the node has: a field, `let` or decision.
  auto value = [&](const std::string& name, Span at, ast::RefKind& kind, int32_t& index, const char* role) -> const Type* {
    auto it = symbols_.find(name);
    if (it == symbols_.end()) {
      std::vector<std::string> names;
      for (auto& [n, _] : symbols_) names.push_back(n);
      std::sort(names.begin(), names.end());
      auto& d = diags_.error("unknown-name", at, fmt::format("`{}` is not a field, `let` or decision{} ({})", name,
                                                              std::string(role).starts_with("what the places") ? " or plan item" : "", role));
      if (auto hint = closest(name, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
      return nullptr;
    }
    index = it->second.index;
    switch (it->second.kind) {
      case SymbolKind::field: kind = RefKind::field; return &m_.fields[index].type;
      case SymbolKind::let: kind = RefKind::let; return &m_.lets[index].type;
      case SymbolKind::decision: kind = RefKind::decision; return &m_.decisions[index].type;
    }
    return nullptr;
  };
  if (m_.segments.empty()) {
    diags_.error("capacity", m_.module.capacities.front().span, "a capacity limits the customers of a segment: there is no `segments` tree");
    return;
  }
  if (m_.key_field < 0) {
    diags_.error("capacity", m_.module.capacities.front().span,
                 "a capacity breaks ties between customers by their key: mark the input's key field `key`");
  }
  for (const auto& c : m_.module.capacities) {
    CapacityInfo info;
    info.decl = &c;
    info.node = segment(c.node, c.span);
    const ast::Expr& n = *c.limit;
    auto whole = n.kind == ExprKind::number && (n.unit == ast::Unit::none || n.unit == ast::Unit::count) ? n.number.to_int64() : std::nullopt;
    if (!whole || *whole < 0 || *whole > 1'000'000'000) {
      diags_.error("capacity", n.span, "a capacity's limit is a whole number of customers, from 0 to 1000000000");
    } else {
      info.limit = *whole;
    }
    if (!c.per.empty()) {
      // A plan item (`per 服务团队`: so many customers per team), else a field, `let` or decision.
      auto item = std::find_if(m_.plan_items.begin(), m_.plan_items.end(), [&](const PlanItemInfo& p) { return p.name == c.per; });
      const Type* t = nullptr;
      if (item != m_.plan_items.end() && !symbols_.count(c.per)) {
        info.per_plan_item = static_cast<int32_t>(item - m_.plan_items.begin());
        t = &item->type;
      } else {
        t = value(c.per, c.per_span, info.per_kind, info.per_index, "what the places are per");
      }
      if (t && (t->is_set || t->is_list)) {
        diags_.error("capacity", c.per_span, fmt::format("places are per one value: `{}` is {}", c.per, m_.type_name(*t)));
      }
    }
    if (const Type* t = value(c.rank, c.rank_span, info.rank_kind, info.rank_index, "what ranks the customers")) {
      bool ordered = !t->is_set && !t->is_list &&
                     (t->is_number_like() || t->base == BaseType::date || t->base == BaseType::enum_ || t->base == BaseType::boolean);
      if (!ordered) {
        diags_.error("capacity", c.rank_span,
                     fmt::format("customers are ranked by a number, a date, an enum or a bool: `{}` is {}", c.rank, m_.type_name(*t)));
      }
    }
    info.overflow = segment(c.overflow, c.overflow_span);
    if (info.overflow >= 0) {
      if (m_.segments[info.overflow].leaf < 0) {
        diags_.error("capacity", c.overflow_span, fmt::format("`{}` is not a leaf: the customers beyond the limit go to a leaf", c.overflow));
      } else if (info.node >= 0 && under(info.overflow, info.node)) {
        diags_.error("capacity", c.overflow_span,
                     fmt::format("`{}` is below `{}`: the customers beyond the limit go to a leaf outside it", c.overflow, c.node));
      }
    }
    m_.capacities.push_back(info);
  }
  // One capacity per customer: no node under another's (and none overflowing into one).
  for (size_t i = 0; i < m_.capacities.size(); ++i) {
    const auto& a = m_.capacities[i];
    for (size_t j = 0; j < m_.capacities.size(); ++j) {
      const auto& b = m_.capacities[j];
      if (i != j && a.node >= 0 && b.node >= 0 && under(a.node, b.node) && (a.node != b.node || i > j)) {
        diags_.error("capacity", a.decl->span,
                     fmt::format("`{}` is at or below `{}`, which has a capacity: a customer competes for one capacity", a.decl->node, b.decl->node));
      }
      if (a.overflow >= 0 && b.node >= 0 && i != j && !a.decl->plan_only && under(a.overflow, b.node)) {
        diags_.error("capacity", a.decl->overflow_span,
                     fmt::format("not yet supported: an overflow into `{}`, which has a capacity of its own (`{}`)", a.decl->overflow, b.decl->node));
      }
    }
  }
  for (const auto& item : m_.plan_items) {
    if (item.name == "capacity") {
      diags_.error("duplicate-name", item.span,
                   "a rule file with a capacity has an output `capacity` (why a customer was moved): no plan item may be called so");
    }
  }
  if (symbols_.count("capacity")) {
    diags_.error("duplicate-name", m_.module.capacities.front().span,
                 "a rule file with a capacity has an output `capacity` (why a customer was moved): no field, `let` or decision may be called so");
  }
}

// `fixed F1, F2`: each an input field, which explanations' counterfactuals
// never move (`stratum explain --nearest`).
void Checker::check_stabilities() {
  std::set<std::string> seen;
  for (const auto& s : m_.module.stabilities) {
    StabilityInfo info;
    info.decl = &s;
    bool segment = s.target == "segment";
    if (segment) {
      if (m_.segments.empty()) {
        diags_.error("stability", s.span, "`segment` has no stability without a `segments` tree");
        continue;
      }
      info.enum_id = m_.segment_enum;
    } else {
      auto it = symbols_.find(s.target);
      if (it == symbols_.end() || it->second.kind != SymbolKind::decision) {
        std::vector<std::string> names = {"segment"};
        for (const auto& d : m_.decisions) {
          if (!d.imported) names.push_back(d.name);
        }
        auto& d = diags_.error(it == symbols_.end() ? "unknown-name" : "stability", s.span,
                               fmt::format("`{}` is not a decision: a stability rule holds an enum decision or `segment`", s.target));
        if (auto hint = closest(s.target, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
        continue;
      }
      const DecisionInfo& dec = m_.decisions[it->second.index];
      if (dec.type.is_set || dec.type.base != BaseType::enum_) {
        diags_.error("stability", s.span, fmt::format("a stability rule holds an enum decision, whose values are ordered: `{}` is {}",
                                                      s.target, m_.type_name(dec.type)));
        continue;
      }
      if (dec.imported) {
        diags_.error("stability", s.span, fmt::format("`{}` is imported: hold it in the rule file that decides it", s.target));
        continue;
      }
      info.decision = it->second.index;
      info.enum_id = dec.type.enum_id;
    }
    if (m_.key_field < 0) {
      diags_.error("stability", s.span, "a stability rule finds a customer's previous period by key: mark the input's key field `key`");
      continue;
    }
    if (!seen.insert(s.target).second) {
      diags_.error("duplicate-name", s.span, fmt::format("`{}` has a stability rule already: one per decision", s.target));
      continue;
    }
    const auto& members = m_.enums[info.enum_id].members;
    // A value by its name: an enum member, or a leaf of the tree (by its name or path).
    auto value = [&](const std::string& name, Span at) -> int32_t {
      if (segment) {
        auto it = segment_index_.find(name);
        if (it != segment_index_.end() && m_.segments[it->second].leaf >= 0) return m_.segments[it->second].leaf;
        if (it != segment_index_.end()) {
          diags_.error("stability", at, fmt::format("`{}` is not a leaf of the tree: customers are held at the segments they end in", name));
          return -1;
        }
      } else {
        for (size_t k = 0; k < members.size(); ++k) {
          if (members[k] == name) return static_cast<int32_t>(k);
        }
      }
      std::vector<std::string> names;
      if (segment) {
        for (const auto& n : m_.segments) {
          if (n.leaf >= 0) names.push_back(n.name);
        }
      } else {
        names = members;
      }
      auto& d = diags_.error("unknown-name", at, fmt::format("`{}` is not a {} of `{}`", name, segment ? "segment" : "value", s.target));
      if (auto hint = closest(name, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
      return -1;
    };
    info.rank.assign(members.size(), -1);
    bool ok = true;
    for (size_t k = 0; k < s.order.size(); ++k) {
      int32_t v = value(s.order[k].first, s.order[k].second);
      if (v < 0) {
        ok = false;
      } else if (info.rank[v] >= 0) {
        diags_.error("stability", s.order[k].second, fmt::format("`{}` is in the order twice", s.order[k].first));
        ok = false;
      } else {
        info.rank[v] = static_cast<int32_t>(k);
      }
    }
    int32_t down = 1, up = 1;
    std::vector<int32_t> down_from(members.size(), 0), up_from(members.size(), 0);
    bool any_down = false, any_up = false;
    for (const auto& r : s.rules) {
      const ast::Expr& n = *r.periods;
      auto whole = n.kind == ExprKind::number && n.unit == ast::Unit::none ? n.number.to_int64() : std::nullopt;
      if (!whole || *whole < 1 || *whole > 1000) {
        diags_.error("stability", n.span, "a stability rule counts whole periods, from 1 to 1000");
        ok = false;
        continue;
      }
      int32_t periods = static_cast<int32_t>(*whole);
      const char* way = r.down ? "down" : "up";
      if (r.from.empty()) {
        bool& twice = r.down ? any_down : any_up;
        if (twice) {
          diags_.error("stability", r.span, fmt::format("`{} after` is given twice", way));
          ok = false;
        }
        twice = true;
        (r.down ? down : up) = periods;
        continue;
      }
      int32_t v = value(r.from, r.from_span);
      if (v < 0) {
        ok = false;
        continue;
      }
      if (info.rank[v] < 0) {
        diags_.error("stability", r.from_span, fmt::format("`{}` is not in the order: `{} from` names a value of the order", r.from, r.down ? "down" : "up"));
        ok = false;
        continue;
      }
      int32_t& slot = (r.down ? down_from : up_from)[v];
      if (slot) {
        diags_.error("stability", r.span, fmt::format("`{} from {} after` is given twice", way, r.from));
        ok = false;
      }
      slot = periods;
    }
    if (!ok) continue;
    info.down.assign(members.size(), down);
    info.up.assign(members.size(), up);
    for (size_t k = 0; k < members.size(); ++k) {
      if (down_from[k]) info.down[k] = down_from[k];
      if (up_from[k]) info.up[k] = up_from[k];
    }
    bool holds = false;
    for (size_t k = 0; k < members.size(); ++k) holds = holds || (info.rank[k] >= 0 && (info.down[k] > 1 || info.up[k] > 1));
    if (!holds) {
      diags_.warning("stability", s.span, fmt::format("the stability of `{}` holds nobody: every move takes 1 period (write `down after N periods` with N above 1)", s.target));
    }
    Diagnostic note;
    note.severity = Severity::note;
    note.code = "stability-previous";
    note.span = s.span;
    note.message = fmt::format("`{}` is held by the previous period's value only when `stratum eval --previous` gives the previous run's output; without it every customer is decided as new", s.target);
    diags_.add(std::move(note));
    m_.stabilities.push_back(std::move(info));
  }
}

void Checker::check_fixed() {
  for (const auto& f : m_.module.fixed) {
    auto it = std::find_if(m_.fields.begin(), m_.fields.end(), [&](const FieldInfo& x) { return x.name == f.field; });
    if (it != m_.fields.end()) {
      it->fixed = true;
      continue;
    }
    std::vector<std::string> names;
    for (const auto& x : m_.fields) names.push_back(x.name);
    auto& d = diags_.error("unknown-name", f.span, fmt::format("`{}` is not an input field: only input fields can be fixed", f.field));
    if (auto hint = closest(f.field, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
  }
}

}  // namespace stratum::checking
