#include "compile/lower.hpp"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "syntax/format.hpp"

namespace stratum {

namespace {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;
using eval::Cmp;
using eval::Node;
using eval::Op;
using eval::Value;

Cmp cmp_of(BinaryOp op) {
  switch (op) {
    case BinaryOp::eq: return Cmp::eq;
    case BinaryOp::ne: return Cmp::ne;
    case BinaryOp::lt: return Cmp::lt;
    case BinaryOp::le: return Cmp::le;
    case BinaryOp::gt: return Cmp::gt;
    case BinaryOp::ge: return Cmp::ge;
    default: throw InternalError("not a comparison");
  }
}

bool is_duration(const Type& t) { return t.is_duration(); }

class Lowerer {
 public:
  Lowerer(const Model& m, const SourceSet& sources, Diagnostics& diags)
      : m_(m), sources_(sources), diags_(diags), p_(std::make_unique<eval::Program>()) {}

  eval::Derived& add_derived(eval::DerivedKind kind, std::string name, const Type& type) {
    eval::Derived& d = p_->derived.emplace_back();
    d.kind = kind;
    d.name = std::move(name);
    d.type = type;
    return d;
  }

  std::unique_ptr<eval::Program> run() {
    p_->ruleset = m_.ruleset;
    p_->version = m_.version;
    p_->effective = m_.effective;
    p_->enums = m_.enums;
    p_->key_field = m_.key_field;
    p_->uses_today = m_.uses_today;
    for (const FieldInfo& f : m_.fields) p_->fields.push_back({f.name, f.column, f.type, f.optional});
    // Derived slots: lets, then decisions.
    // A value written as a percentage (`30%`, `-10%`) is explained as one.
    auto percent = [](const ast::Expr* e) {
      if (e && e->kind == ExprKind::negate && !e->args.empty()) e = e->args[0].get();
      return e && e->kind == ExprKind::number && e->unit == ast::Unit::percent;
    };
    for (const LetInfo& l : m_.lets) {
      add_derived(eval::DerivedKind::let, l.name, l.type).percent = percent(l.value);
    }
    if (!m_.segments.empty()) {
      p_->outputs.push_back({"segment", Type::enum_of(m_.segment_enum), segment_slot()});
    }
    for (const DecisionInfo& dec : m_.decisions) {
      eval::Derived& d = add_derived(dec.source == DecisionSource::decide  ? eval::DerivedKind::decide
                                     : dec.source == DecisionSource::table ? eval::DerivedKind::table
                                                                           : eval::DerivedKind::scorecard,
                                     dec.name, dec.type);
      d.span = dec.span;
      d.table = dec.source == DecisionSource::table ? dec.index : -1;
      d.index = dec.source == DecisionSource::scorecard ? dec.index : -1;
      d.column = dec.column;
      std::vector<const ast::Expr*> results;
      if (dec.source == DecisionSource::decide) {
        for (const auto& b : m_.module.decides[dec.index].branches) if (b.result) results.push_back(b.result.get());
      } else if (dec.source == DecisionSource::table) {
        for (const auto& r : m_.module.tables[dec.index].rows) {
          if (static_cast<size_t>(dec.column) < r.outputs.size()) results.push_back(r.outputs[dec.column].get());
        }
      }
      // written as a percentage in any result (`0.1%`), or taking a value that is one (see mark_percent)
      d.percent = std::any_of(results.begin(), results.end(), percent);
      for (const ast::Expr* r : results) link_percent(decision_slot(static_cast<int32_t>(&dec - m_.decisions.data())), slot_of(*r));
      if (!dec.imported) {
        p_->outputs.push_back({dec.name, dec.type, decision_slot(static_cast<int32_t>(&dec - m_.decisions.data()))});
      }
    }
    for (size_t i = 0; i < m_.factors.size(); ++i) {
      add_derived(eval::DerivedKind::factor, m_.scorecards[m_.factors[i].scorecard].decl->name + "." + m_.factors[i].name,
                  Type::of(BaseType::decimal))
          .index = static_cast<int32_t>(i);
    }
    if (!m_.segments.empty()) {
      add_derived(eval::DerivedKind::segment, "segment", Type::enum_of(m_.segment_enum));
      p_->segment_slot = segment_slot();
    }
    // `capacity` (why a limit moved the customer) comes before the plan's
    // items among the outputs (JSON Lines nest those in "plan"); its slot
    // comes after theirs (see plan_slot).
    if (!m_.capacities.empty()) p_->outputs.push_back({"capacity", Type::of(BaseType::text), -1});
    for (const PlanItemInfo& item : m_.plan_items) {
      bool any_percent = std::any_of(item.values.begin(), item.values.end(), percent) ||
                         std::any_of(item.conditional.begin(), item.conditional.end(), [&](const auto& c) { return percent(c.second); });
      add_derived(eval::DerivedKind::plan_item, item.name, item.type).percent = any_percent;
      int32_t slot = plan_slot(static_cast<int32_t>(&item - m_.plan_items.data()));
      for (const ast::Expr* v : item.values) {
        if (v) link_percent(slot, slot_of(*v));
      }
      for (const auto& c : item.conditional) link_percent(slot, slot_of(*c.second));
      p_->outputs.push_back({item.name, item.type, plan_slot(static_cast<int32_t>(&item - m_.plan_items.data())), true});
    }
    if (!m_.capacities.empty()) {
      add_derived(eval::DerivedKind::capacity, "capacity", Type::of(BaseType::text));
      p_->capacity_slot = static_cast<int32_t>(p_->fields.size() + p_->derived.size() - 1);
      for (auto& o : p_->outputs) {
        if (o.name == "capacity" && !o.plan) o.slot = p_->capacity_slot;
      }
    }
    // Stable values: each with its candidate and periods in a row, outputs right after it.
    for (const StabilityInfo& info : m_.stabilities) {
      eval::Stability st;
      st.slot = info.decision >= 0 ? decision_slot(info.decision) : segment_slot();
      st.name = info.decision >= 0 ? m_.decisions[info.decision].name : "segment";
      st.rank = info.rank;
      st.down = info.down;
      st.up = info.up;
      st.line = line_of(info.decl->span);
      auto index = static_cast<int32_t>(p_->stabilities.size());
      Type type = Type::enum_of(info.enum_id);
      add_derived(eval::DerivedKind::held, st.name + "@candidate", type).stability = index;
      st.candidate_slot = static_cast<int32_t>(p_->fields.size() + p_->derived.size() - 1);
      add_derived(eval::DerivedKind::held, st.name + "@periods", Type::of(BaseType::int_)).stability = index;
      st.periods_slot = st.candidate_slot + 1;
      p_->derived[st.slot - p_->fields.size()].stability = index;
      auto at = std::find_if(p_->outputs.begin(), p_->outputs.end(), [&](const eval::Output& o) { return o.slot == st.slot; });
      if (at != p_->outputs.end()) {
        at = p_->outputs.insert(at + 1, {st.name + "@candidate", type, st.candidate_slot});
        p_->outputs.insert(at + 1, {st.name + "@periods", Type::of(BaseType::int_), st.periods_slot});
      }
      p_->stabilities.push_back(std::move(st));
    }
    for (size_t i = 0; i < m_.lets.size(); ++i) {
      p_->derived[i].node = expr(*m_.lets[i].value);
      const Expr& v = *m_.lets[i].value;
      bool joined = v.kind == ExprKind::binary && (v.op == BinaryOp::and_ || v.op == BinaryOp::or_);
      bool compared = (v.kind == ExprKind::binary && v.op >= BinaryOp::eq && v.op <= BinaryOp::ge) || v.kind == ExprKind::not_;
      if (m_.lets[i].type == Type::of(BaseType::boolean) && (joined || compared)) bool_parts(v, p_->derived[i].node, p_->derived[i].parts);
    }
    for (size_t i = 0; i < m_.decisions.size(); ++i) {
      const DecisionInfo& dec = m_.decisions[i];
      if (dec.source != DecisionSource::decide) continue;
      auto& d = p_->derived[m_.lets.size() + i];
      for (const auto& b : m_.module.decides[dec.index].branches) {
        d.branches.push_back({b.condition ? expr(*b.condition) : -1, b.result ? expr(*b.result) : -1, b.reject,
                              origin(b.span, b.condition.get())});
        if (b.result) link_percent(decision_slot(static_cast<int32_t>(i)), slot_of(*b.result));
      }
    }
    for (size_t i = 0; i < m_.fields.size(); ++i) {
      p_->fields[i].data_scale = m_.fields[i].data_scale;
      p_->fields[i].fixed = m_.fields[i].fixed;
      if (m_.fields[i].data_scale == -2) p_->fields[i].percent = true;  // `in %`: shown as written
      if (!m_.fields[i].domain) continue;
      p_->fields[i].domain = cell_test(*m_.fields[i].domain, 0, m_.fields[i].type);
      p_->fields[i].domain_text = text_of(m_.fields[i].domain->span);
    }
    for (const TableInfo& t : m_.tables) table(t);
    for (const ScorecardInfo& sc : m_.scorecards) scorecard(sc);
    segments();
    conditional_plans();
    capacities();
    for (const auto& t : m_.module.tests) test(t);
    spread_percent();
    return std::move(p_);
  }

 private:
  const Model& m_;
  const SourceSet& sources_;
  std::vector<std::pair<int32_t, int32_t>> percent_links_;  // see mark_percent
  Diagnostics& diags_;

  // ---- explanations: where things were written ------------------------------

  std::string text_of(Span span) const {
    if (span.file == 0) return {};
    std::string_view t = sources_.file(span.file).text();
    std::string out(t.substr(span.begin, span.end - span.begin));
    // one line, single spaces
    std::string flat;
    bool space = false;
    for (char c : out) {
      if (c == '\n' || c == '\r' || c == ' ' || c == '\t') { space = !flat.empty(); continue; }
      if (space) { flat += ' '; space = false; }
      flat += c;
    }
    return flat;
  }
  uint32_t line_of(Span span) const { return span.file ? sources_.file(span.file).line_col(span.begin).line : 0; }

  void referenced(const Expr& e, std::vector<int32_t>& out) const {
    if (e.kind == ExprKind::name && e.ref != ast::RefKind::enum_value && e.ref != ast::RefKind::unresolved) {
      int32_t slot = e.ref == ast::RefKind::field    ? field_slot(e.ref_index)
                     : e.ref == ast::RefKind::let    ? let_slot(e.ref_index)
                     : e.ref == ast::RefKind::factor ? factor_slot(e.ref_index)
                                                     : decision_slot(e.ref_index);
      if (std::find(out.begin(), out.end(), slot) == out.end()) out.push_back(slot);
    }
    for (const auto& a : e.args) referenced(*a, out);
  }

  // A value compared with a percentage (`利用率 >= 90%`, a table cell
  // `>= 要求毛利率` where `let 要求毛利率 = 10%`), or a decision whose result
  // is such a value, is explained as one: 95%, not 0.95. Links between
  // values are recorded as lowering meets them and spread at the end.
  int32_t slot_of(const Expr& e) const {
    if (e.kind != ExprKind::name) return -1;
    switch (e.ref) {
      case ast::RefKind::field: return field_slot(e.ref_index);
      case ast::RefKind::let: return let_slot(e.ref_index);
      case ast::RefKind::decision: return decision_slot(e.ref_index);
      default: return -1;
    }
  }
  bool& percent_flag(int32_t slot) {
    return static_cast<size_t>(slot) < p_->fields.size() ? p_->fields[slot].percent : p_->derived[slot - p_->fields.size()].percent;
  }
  void link_percent(int32_t a, int32_t b) {
    if (a >= 0 && b >= 0) percent_links_.emplace_back(a, b);
  }
  void mark_percent(const Expr& side, const Expr& other) {
    int32_t slot = slot_of(side);
    if (slot < 0 || !(side.type == Type::of(BaseType::decimal))) return;
    const Expr* o = other.kind == ExprKind::negate && !other.args.empty() ? other.args[0].get() : &other;
    if (o->kind == ExprKind::number && o->unit == ast::Unit::percent) percent_flag(slot) = true;
    else link_percent(slot, slot_of(*o));
  }
  void spread_percent() {
    for (bool changed = true; changed;) {
      changed = false;
      for (auto [a, b] : percent_links_) {
        if (percent_flag(a) != percent_flag(b)) {
          percent_flag(a) = percent_flag(b) = true;
          changed = true;
        }
      }
    }
  }

  // The comparisons of a bool `let`, in the order `and`/`or` evaluate them,
  // each with the node lowering made of it (see Program::explain_parts).
  void bool_parts(const Expr& e, int32_t node, std::vector<std::pair<int32_t, eval::Origin>>& out) {
    const eval::Node& n = p_->nodes[node];
    bool joined = e.kind == ExprKind::binary && ((e.op == BinaryOp::and_ && n.op == Op::and_) || (e.op == BinaryOp::or_ && n.op == Op::or_));
    if (joined) {
      bool_parts(*e.args[0], n.a, out);
      bool_parts(*e.args[1], n.b, out);
      return;
    }
    const Expr* inner = e.kind == ExprKind::not_ && !e.args.empty() ? e.args[0].get() : nullptr;
    if (inner && n.op == Op::not_ && inner->kind == ExprKind::binary && (inner->op == BinaryOp::and_ || inner->op == BinaryOp::or_)) {
      // `not (a and b)`: the comparisons inside, each with its own truth (`not a` stays whole)
      bool_parts(*e.args[0], n.a, out);
      return;
    }
    if (n.op == Op::constant) return;
    eval::Origin o;
    o.span = e.span.file ? balanced_span(sources_.file(e.span.file).text(), e.span) : e.span;
    o.line = line_of(o.span);
    o.text = text_of(o.span);
    referenced(e, o.slots);
    out.emplace_back(node, std::move(o));
  }

  eval::Origin origin(Span span, const Expr* condition) {
    eval::Origin o;
    o.span = span;
    o.line = line_of(span);
    o.text = text_of(span);
    if (condition) referenced(*condition, o.slots);
    o.cover = coverage_point(span, "branch `" + o.text + "`");
    return o;
  }

  int32_t coverage_point(Span span, std::string what) {
    std::string file = span.file ? sources_.file(span.file).path() : "";
    // Points in imported files belong to those files' own tests.
    if (span.file != m_.module.file) return -1;
    p_->coverage_points.push_back({file, line_of(span), std::move(what)});
    return static_cast<int32_t>(p_->coverage_points.size() - 1);
  }
  std::unique_ptr<eval::Program> p_;

  int32_t field_slot(int32_t f) const { return f; }
  int32_t let_slot(int32_t l) const { return static_cast<int32_t>(m_.fields.size()) + l; }
  int32_t decision_slot(int32_t d) const {
    return static_cast<int32_t>(m_.fields.size() + m_.lets.size()) + d;
  }

  int32_t factor_slot(int32_t f) const { return decision_slot(static_cast<int32_t>(m_.decisions.size())) + f; }
  int32_t segment_slot() const { return factor_slot(static_cast<int32_t>(m_.factors.size())); }
  int32_t plan_slot(int32_t i) const { return segment_slot() + (m_.segments.empty() ? 0 : 1) + i; }

  void scorecard(const ScorecardInfo& info) {
    eval::Scorecard sc;
    sc.name = info.decl->name;
    for (size_t k = 0; k < info.decl->factors.size(); ++k) {
      const ast::Factor& f = info.decl->factors[k];
      int32_t index = info.first_factor + static_cast<int32_t>(k);
      sc.factor_slots.push_back(factor_slot(index));
      sc.weights.push_back(f.weight ? expr(*f.weight) : -1);
      bool percent_weight = f.weight && ((f.weight->kind == ExprKind::number && f.weight->unit == ast::Unit::percent) ||
                                         (slot_of(*f.weight) >= 0 && percent_flag(slot_of(*f.weight))));
      sc.weight_percent.push_back(percent_weight ? 1 : 0);
      eval::ScoreFactor factor;
      int32_t else_cover = -1;
      factor.name = f.name;
      factor.value = expr(*f.value);
      for (const auto& bin : f.bins) {
        int32_t points = expr(*bin.points);
        if (bin.is_else) {
          if (factor.else_points < 0) {
            factor.else_points = points;
            else_cover = coverage_point(bin.span, fmt::format("bin `{}` of factor `{}`", text_of(bin.span), f.name));
          }
        } else {
          factor.bins.push_back({cell_test(bin.test, 0, m_.factors[index].value_type), points});
          factor.bin_texts.push_back(text_of(bin.span));
          factor.bin_covers.push_back(coverage_point(bin.span, fmt::format("bin `{}` of factor `{}`", text_of(bin.span), f.name)));
        }
      }
      factor.bin_covers.push_back(else_cover);
      p_->factors.push_back(std::move(factor));
      p_->derived[factor_slot(index) - m_.fields.size()].index = index;
    }
    for (const auto& a : info.decl->adjustments) {
      sc.adjustments.push_back({a.multiply, expr(*a.amount), expr(*a.condition), origin(a.span, a.condition.get())});
    }
    p_->scorecards.push_back(std::move(sc));
  }

  int32_t value_slot(ast::RefKind kind, int32_t index) const {
    switch (kind) {
      case ast::RefKind::field: return field_slot(index);
      case ast::RefKind::let: return let_slot(index);
      case ast::RefKind::decision: return decision_slot(index);
      default: return -1;
    }
  }

  void capacities() {
    for (const CapacityInfo& c : m_.capacities) {
      eval::Capacity cap;
      cap.node = c.decl->node;
      cap.limit = c.limit;
      cap.per_slot = c.per_plan_item >= 0 ? plan_slot(c.per_plan_item) : value_slot(c.per_kind, c.per_index);
      cap.per_name = c.decl->per;
      cap.rank_slot = value_slot(c.rank_kind, c.rank_index);
      cap.rank_name = c.decl->rank;
      cap.ascending = c.decl->ascending;
      cap.overflow_leaf = m_.segments[c.overflow].leaf;
      cap.overflow_name = c.decl->overflow;
      cap.plan_only = c.decl->plan_only;
      for (size_t i = 0; i < m_.segments.size(); ++i) {
        if (m_.segments[i].leaf < 0) continue;
        if (cap.leaves.size() <= static_cast<size_t>(m_.segments[i].leaf)) cap.leaves.resize(m_.segments[i].leaf + 1, 0);
        for (int32_t n = static_cast<int32_t>(i); n >= 0; n = m_.segments[n].parent) {
          if (n == c.node) cap.leaves[m_.segments[i].leaf] = 1;
        }
      }
      p_->capacities.push_back(std::move(cap));
    }
  }

  void segments() {
    if (m_.segments.empty()) return;
    for (const SegmentInfo& n : m_.segments) {
      eval::SegmentNode node;
      node.name = n.name;
      node.leaf = n.leaf;
      node.parent = n.parent;
      for (const auto& [condition, child] : n.branches) {
        node.branches.push_back({condition ? expr(*condition) : -1, child});
        eval::Origin o;
        o.span = condition ? condition->span : m_.segments[child].span;
        o.line = line_of(o.span);
        o.text = condition ? "when " + text_of(condition->span) : "else";
        // A child made by `-> N by X`: its condition is written nowhere but in `by X`.
        bool split = condition && condition->args.size() == 2 && condition->args[0]->span.begin == condition->args[1]->span.begin;
        if (split) o.text = fmt::format("when {} == {}  ({})", condition->args[0]->text, condition->args[1]->text, text_of(condition->span));
        if (condition) referenced(*condition, o.slots);
        o.cover = coverage_point(condition ? condition->span : m_.segments[child].span,
                                 fmt::format("branch {} → {}", n.name, m_.segments[child].name));
        node.origins.push_back(std::move(o));
      }
      p_->segment_nodes.push_back(std::move(node));
    }
    // Plan inheritance, resolved once: a node's item is its own, else its parent's.
    for (size_t i = 0; i < m_.plan_items.size(); ++i) {
      const PlanItemInfo& item = m_.plan_items[i];
      std::vector<int32_t> at_node(m_.segments.size(), -1), set_by(m_.segments.size(), -1);
      for (size_t n = 0; n < m_.segments.size(); ++n) {  // preorder: parents come first
        if (item.values[n]) set_by[n] = static_cast<int32_t>(n);
        else if (m_.segments[n].parent >= 0) set_by[n] = set_by[m_.segments[n].parent];
        if (item.values[n]) at_node[n] = expr(*item.values[n]);
        else if (m_.segments[n].parent >= 0) at_node[n] = at_node[m_.segments[n].parent];
      }
      auto& d = p_->derived[plan_slot(static_cast<int32_t>(i)) - m_.fields.size()];
      int32_t leaves = 0;
      for (auto& n : m_.segments) leaves += n.leaf >= 0;
      d.by_leaf.assign(leaves, -1);
      d.from_node.assign(leaves, -1);
      d.leaf_covers.assign(leaves, -1);
      std::vector<int32_t> point_of_node(m_.segments.size(), -1);
      for (size_t n = 0; n < m_.segments.size(); ++n) {
        if (item.values[n]) {
          point_of_node[n] = coverage_point(item.values[n]->span,
                                            fmt::format("plan item `{}` of {}", item.name, m_.segments[n].name));
        }
      }
      for (size_t n = 0; n < m_.segments.size(); ++n) {
        if (m_.segments[n].leaf >= 0) {
          d.by_leaf[m_.segments[n].leaf] = at_node[n];
          d.from_node[m_.segments[n].leaf] = set_by[n];
          if (set_by[n] >= 0) d.leaf_covers[m_.segments[n].leaf] = point_of_node[set_by[n]];
        }
      }
    }
  }

  // Conditional plans: their conditions, the leaves they reach, and each
  // item's settings in file order (the first that applies wins).
  void conditional_plans() {
    for (const ConditionalPlanInfo& c : m_.conditional_plans) {
      eval::PlanCondition pc;
      pc.condition = expr(*c.condition);
      pc.line = line_of(c.span);
      pc.text = "when " + text_of(c.condition->span);
      if (c.node >= 0) {
        pc.text = m_.segments[c.node].name + " " + pc.text;
        for (size_t n = 0; n < m_.segments.size(); ++n) {
          if (m_.segments[n].leaf < 0) continue;
          if (pc.leaves.empty()) {
            int32_t leaves = 0;
            for (auto& x : m_.segments) leaves += x.leaf >= 0;
            pc.leaves.assign(leaves, 0);
          }
          for (int32_t a = static_cast<int32_t>(n); a >= 0; a = m_.segments[a].parent) {
            if (a == c.node) { pc.leaves[m_.segments[n].leaf] = 1; break; }
          }
        }
      }
      p_->plan_conditions.push_back(std::move(pc));
    }
    for (size_t i = 0; i < m_.plan_items.size(); ++i) {
      const PlanItemInfo& item = m_.plan_items[i];
      auto& d = p_->derived[plan_slot(static_cast<int32_t>(i)) - m_.fields.size()];
      for (const auto& [plan, value] : item.conditional) {
        eval::ConditionalSetting cs;
        cs.plan = plan;
        cs.value = expr(*value);
        cs.cover = coverage_point(value->span, fmt::format("plan item `{}` of plan {}", item.name, p_->plan_conditions[plan].text));
        d.conditional.push_back(cs);
      }
    }
  }

  int32_t add(Node n) {
    p_->nodes.push_back(n);
    return static_cast<int32_t>(p_->nodes.size() - 1);
  }

  int32_t constant(Value v) {
    Node n;
    n.op = Op::constant;
    n.constant = v;
    return add(n);
  }

  bool is_constant_node(int32_t i) const { return p_->nodes[i].op == Op::constant; }

  // The value of a literal expression as stored at run time.
  Value literal(const Expr& e) {
    switch (e.kind) {
      case ExprKind::number:
        if (is_duration(e.type)) {
          int64_t w = e.number.to_int64().value_or(0);
          return {e.type.base == BaseType::months ? eval::make_duration(w, 0) : eval::make_duration(0, w), {}};
        }
        return {e.number.raw(), {}};
      case ExprKind::text: return {0, p_->intern(e.text)};
      case ExprKind::boolean: return {e.boolean ? 1 : 0, {}};
      case ExprKind::date: return {e.date_days, {}};
      default: throw InternalError("not a literal");
    }
  }

  int32_t binary(Op op, const Expr& a, const Expr& b, Cmp cmp = Cmp::eq) {
    Node n;
    n.op = op;
    n.cmp = cmp;
    n.a = expr(a);
    n.b = expr(b);
    return fold(add(n), Span{a.span.file, a.span.begin, b.span.end});
  }

  // Evaluates a node whose operands are all constants, once, here. One that
  // fails (1 / 0, an overflow) would fail for every customer: it is an error
  // of the rules, reported at `where`.
  int32_t fold(int32_t index, Span where = {}) {
    const Node& n = p_->nodes[index];
    bool foldable = n.op != Op::today && n.op != Op::field && n.op != Op::derived && n.op != Op::constant &&
                    (n.a < 0 || is_constant_node(n.a)) && (n.b < 0 || is_constant_node(n.b));
    if (n.op == Op::min || n.op == Op::max) {
      for (int32_t i = 0; i < n.count; ++i) foldable = foldable && is_constant_node(p_->args[n.index + i]);
    }
    if (!foldable) return index;
    eval::Frame frame = p_->make_frame();
    try {
      Value v = p_->evaluate_node(frame, index);
      p_->nodes[index] = Node{};
      p_->nodes[index].constant = v;
      return index;
    } catch (const eval::EvalError& e) {
      if (where.file != 0) {
        diags_.error("always-fails", where, fmt::format("this always fails: {}", e.what()));
      }
      return index;
    }
  }

  int32_t expr(const Expr& e) {
    switch (e.kind) {
      case ExprKind::number:
      case ExprKind::text:
      case ExprKind::boolean:
      case ExprKind::date: return constant(literal(e));
      case ExprKind::today: {
        Node n;
        n.op = Op::today;
        return add(n);
      }
      case ExprKind::name: {
        if (e.ref == ast::RefKind::enum_value) return constant({e.ref_index, {}});
        // A `let` that is a constant (`let 门槛 = 3亿`) is used as its value.
        if (e.ref == ast::RefKind::let) {
          int32_t node = p_->derived[e.ref_index].node;
          if (node >= 0 && is_constant_node(node)) return constant(p_->nodes[node].constant);
        }
        Node n;
        n.op = e.ref == ast::RefKind::field ? Op::field : Op::derived;
        n.index = e.ref == ast::RefKind::field      ? field_slot(e.ref_index)
                  : e.ref == ast::RefKind::let      ? let_slot(e.ref_index)
                  : e.ref == ast::RefKind::factor   ? factor_slot(e.ref_index)
                                                    : decision_slot(e.ref_index);
        return add(n);
      }
      case ExprKind::set: return constant_set_value(e);
      case ExprKind::negate: {
        Node n;
        n.op = is_duration(e.type) ? Op::ineg : Op::neg;
        n.a = expr(*e.args[0]);
        return fold(add(n), e.span);
      }
      case ExprKind::not_: {
        Node n;
        n.op = Op::not_;
        n.a = expr(*e.args[0]);
        return fold(add(n), e.span);
      }
      case ExprKind::presence: {
        Node n;
        n.op = Op::present;
        n.negated = e.negated;
        n.a = expr(*e.args[0]);
        return add(n);
      }
      case ExprKind::empty: {  // size(s) == 0, or != 0
        Node size;
        size.op = Op::set_size;
        size.a = expr(*e.args[0]);
        size.text = e.args[0]->type.base != BaseType::enum_ || e.args[0]->type.is_list;
        Node n;
        n.op = Op::cmp_num;
        n.cmp = e.negated ? Cmp::ne : Cmp::eq;
        n.a = add(size);
        n.b = constant({0, {}});
        return fold(add(n), e.span);
      }
      case ExprKind::in: return membership(*e.args[0], *e.args[1], e.negated);
      case ExprKind::contains: {
        const Expr& s = *e.args[0];
        if (!s.type.is_set && s.type.base == BaseType::text) return binary(Op::text_contains, s, *e.args[1]);
        return membership(*e.args[1], s, false);
      }
      case ExprKind::call: return call(e);
      case ExprKind::binary: return binary_expr(e);
      case ExprKind::load: break;
      case ExprKind::missing: return constant(eval::missing_value());
    }
    throw InternalError("unknown expression");
  }

  // A set literal as a value (for a set<…> let or field comparison).
  int32_t constant_set_value(const Expr& e) {
    if (e.type.base == BaseType::enum_) {
      int128 mask = 0;
      for (auto& a : e.args) mask |= static_cast<int128>(1) << a->ref_index;
      return constant({mask, {}});
    }
    std::string joined;
    if (e.loaded) {
      for (std::string_view v : e.loaded->values) {
        if (!joined.empty()) joined += eval::kSetSeparator;
        joined += v;
      }
    }
    for (auto& a : e.args) {
      if (!joined.empty()) joined += eval::kSetSeparator;
      joined += a->text;
    }
    return constant({0, p_->intern(joined)});
  }

  // A set read by `load`: its texts, kept once in the program.
  int32_t make_loaded_set(const ast::LoadedTexts& loaded) {
    if (auto it = loaded_sets_.find(&loaded); it != loaded_sets_.end()) return it->second;
    eval::ConstSet s;
    s.text = true;
    std::string_view blob = p_->intern(loaded.blob);
    s.texts.reserve(loaded.values.size());
    for (std::string_view v : loaded.values) s.texts.push_back(blob.substr(static_cast<size_t>(v.data() - loaded.blob.data()), v.size()));
    p_->sets.push_back(std::move(s));
    return loaded_sets_[&loaded] = static_cast<int32_t>(p_->sets.size() - 1);
  }
  std::unordered_map<const ast::LoadedTexts*, int32_t> loaded_sets_;

  int32_t make_set(const std::vector<std::unique_ptr<Expr>>& elems, const Type& elem) {
    eval::ConstSet s;
    s.text = elem.base == BaseType::text;
    for (auto& a : elems) {
      Value v = literal_or_enum(*a);
      if (s.text) s.texts.push_back(v.s);
      else if (elem.base == BaseType::enum_) s.mask |= static_cast<int128>(1) << static_cast<int>(v.n);
      else s.numbers.push_back(v.n);
    }
    std::sort(s.texts.begin(), s.texts.end());
    std::sort(s.numbers.begin(), s.numbers.end());
    p_->sets.push_back(std::move(s));
    return static_cast<int32_t>(p_->sets.size() - 1);
  }

  Value literal_or_enum(const Expr& e) {
    if (e.kind == ExprKind::name) return {e.ref_index, {}};
    if (e.kind == ExprKind::negate) {
      Value v = literal(*e.args[0]);
      return {-v.n, {}};
    }
    return literal(e);
  }

  // The set a `let` stands for, when it is a set literal.
  const Expr* set_literal(const Expr& s) const {
    if (s.kind == ExprKind::set) return &s;
    if (s.kind == ExprKind::name && s.ref == ast::RefKind::let) {
      const Expr* v = m_.lets[s.ref_index].value;
      return v ? set_literal(*v) : nullptr;
    }
    return nullptr;
  }

  int32_t membership(const Expr& item, const Expr& set, bool negated) {
    Node n;
    n.negated = negated;
    if (const Expr* lit = set_literal(set)) {
      n.op = Op::in_set;
      n.a = expr(item);
      n.index = lit->loaded ? make_loaded_set(*lit->loaded) : make_set(lit->args, set.type.element());
      return add(n);
    }
    // A set<text> field tested for a constant text: a bit the binder sets.
    if (set.type.base == BaseType::text && set.kind == ExprKind::name && set.ref == ast::RefKind::field &&
        item.kind == ExprKind::text) {
      auto& known = p_->fields[set.ref_index].known_members;
      auto it = std::find(known.begin(), known.end(), item.text);
      if (it != known.end() || known.size() < 120) {
        if (it == known.end()) it = known.insert(known.end(), item.text);
        n.op = Op::set_has_bit;
        n.a = expr(set);
        n.index = static_cast<int32_t>(it - known.begin());
        return add(n);
      }
    }
    n.op = Op::set_has;
    n.text = set.type.base == BaseType::text;
    n.a = expr(set);
    n.b = expr(item);
    return add(n);
  }

  int32_t call(const Expr& e) {
    const std::string& f = e.text;
    Node n;
    if (f == "coalesce") {
      // coalesce(a, b, c) = a ?? (b ?? c)
      int32_t acc = expr(*e.args.back());
      for (size_t i = e.args.size() - 1; i-- > 0;) {
        Node c;
        c.op = Op::coalesce;
        c.a = expr(*e.args[i]);
        c.b = acc;
        acc = add(c);
      }
      return acc;
    }
    if (f == "min" || f == "max") {
      n.op = f == "min" ? Op::min : Op::max;
      std::vector<int32_t> argv;
      for (auto& a : e.args) argv.push_back(expr(*a));
      n.index = static_cast<int32_t>(p_->args.size());
      n.count = static_cast<int32_t>(argv.size());
      p_->args.insert(p_->args.end(), argv.begin(), argv.end());
      return fold(add(n), e.span);
    }
    if (f == "size") {
      n.op = Op::set_size;
      n.a = expr(*e.args[0]);
      n.text = e.args[0]->type.base != BaseType::enum_ || e.args[0]->type.is_list;
      return fold(add(n), e.span);
    }
    if (f == "round") {
      n.op = Op::round;
      n.a = expr(*e.args[0]);
      n.count = e.args.size() == 2 ? static_cast<int32_t>(e.args[1]->number.to_int64().value_or(0)) : 0;
      return fold(add(n), e.span);
    }
    static const std::pair<const char*, Op> unary[] = {{"abs", Op::abs}, {"floor", Op::floor}, {"ceil", Op::ceil}};
    for (auto& [name, op] : unary) {
      if (f == name) {
        n.op = op;
        n.a = expr(*e.args[0]);
        return fold(add(n), e.span);
      }
    }
    static const std::pair<const char*, Op> binary_fns[] = {
        {"years_between", Op::years_between}, {"months_between", Op::months_between},
        {"days_between", Op::days_between},   {"contains", Op::text_contains},
        {"startswith", Op::starts_with}};
    for (auto& [name, op] : binary_fns) {
      if (f == name) return binary(op, *e.args[0], *e.args[1]);
    }
    throw InternalError("unknown function " + f);
  }

  int32_t binary_expr(const Expr& e) {
    const Expr& a = *e.args[0];
    const Expr& b = *e.args[1];
    const Type& ta = a.type;
    const Type& tb = b.type;
    switch (e.op) {
      case BinaryOp::and_: return binary(Op::and_, a, b);
      case BinaryOp::or_: return binary(Op::or_, a, b);
      case BinaryOp::coalesce: {
        Node n;
        n.op = Op::coalesce;
        n.a = expr(a);
        n.b = expr(b);
        return add(n);
      }
      case BinaryOp::eq: case BinaryOp::ne: case BinaryOp::lt:
      case BinaryOp::le: case BinaryOp::gt: case BinaryOp::ge:
        mark_percent(a, b);
        mark_percent(b, a);
        return binary(ta.base == BaseType::text && !ta.is_set ? Op::cmp_text : Op::cmp_num, a, b, cmp_of(e.op));
      case BinaryOp::add:
        // a duration in days alone adds as a number; one with months by the calendar
        if (ta.base == BaseType::date) return binary(tb.base == BaseType::days ? Op::add_days : Op::add_months, a, b);
        if (tb.base == BaseType::date) return binary(ta.base == BaseType::days ? Op::add_days : Op::add_months, b, a);
        if (is_duration(ta)) return binary(Op::iadd, a, b);
        return binary(Op::add, a, b);
      case BinaryOp::sub:
        if (ta.base == BaseType::date && tb.base == BaseType::date) return binary(Op::date_diff, a, b);
        if (ta.base == BaseType::date) return binary(tb.base == BaseType::days ? Op::sub_days : Op::sub_months, a, b);
        if (is_duration(ta)) return binary(Op::isub, a, b);
        return binary(Op::sub, a, b);
      case BinaryOp::mul:
        if (is_duration(ta)) return binary(Op::imul, a, b);
        if (is_duration(tb)) return binary(Op::imul, b, a);
        return binary(Op::mul, a, b);
      case BinaryOp::div: return binary(Op::div, a, b);
    }
    throw InternalError("unknown operator");
  }

  // ---- tables ---------------------------------------------------------------

  void table(const TableInfo& info) {
    const ast::TableDecl& t = *info.decl;
    eval::Table out;
    out.name = t.name;
    out.span = t.span;
    out.policy = static_cast<eval::HitPolicy>(t.policy);
    out.grid = t.is_grid;
    out.collect = static_cast<eval::CollectOp>(t.collect);
    out.row_lines = info.row_lines;
    // A column that may be missing makes the table's result missing then
    // (a result cell `missing` makes its decision optional, not the table).
    for (size_t k = 0; k < t.columns.size(); ++k) {
      const auto& c = t.columns[k];
      out.column_may_be_missing.push_back(ast::column_may_be_missing(t, k) ? 1 : 0);
      if (ast::column_may_be_missing(t, k)) continue;  // missing matches its `-` cells instead
      bool optional = (c->ref == ast::RefKind::field && m_.fields[c->ref_index].optional) ||
                      (c->ref == ast::RefKind::let && m_.lets[c->ref_index].maybe_missing) ||
                      (c->ref == ast::RefKind::decision && m_.decisions[c->ref_index].maybe_missing);
      out.propagate_missing = out.propagate_missing || optional;
    }
    out.output_types = info.cell_types;
    for (auto& c : t.columns) {
      out.columns.push_back(expr(*c));
      out.column_names.push_back(c->text);
      std::vector<int32_t> slots;
      referenced(*c, slots);
      out.column_slots.push_back(slots.size() == 1 ? slots[0] : -1);
    }
    for (int32_t d : info.decisions) out.output_slots.push_back(decision_slot(d));
    for (const auto& row : t.rows) {
      eval::Row r;
      for (size_t c = 0; c < row.inputs.size(); ++c) {
        const ast::Cell& cell = row.inputs[c];
        if (cell.kind == ast::CellKind::any) continue;
        for (const auto& v : cell.values) mark_percent(*t.columns[c], *v);
        r.tests.push_back(cell_test(cell, static_cast<int32_t>(c), info.column_types[c]));
      }
      for (auto& o : row.outputs) r.outputs.push_back(expr(*o));
      r.span = row.span;
      r.cover = coverage_point(row.span, t.is_grid ? fmt::format("cell of grid `{}`", t.name) : fmt::format("row of table `{}`", t.name));
      r.text = t.is_grid ? text_of(row.inputs[0].span) + " × " + text_of(row.inputs[1].span) + " → " + text_of(row.outputs[0]->span)
                         : text_of(row.span);
      out.rows.push_back(std::move(r));
    }
    if (t.else_row) {
      out.has_else = true;
      for (auto& o : t.else_row->outputs) out.else_outputs.push_back(expr(*o));
      out.else_line = line_of(t.else_row->span);
      out.else_text = text_of(t.else_row->span);
      out.else_cover = coverage_point(t.else_row->span, fmt::format("`else` row of table `{}`", t.name));
    }
    // Cells read their column's slot in place when the column names a value.
    auto slot_of = [&](int32_t column) {
      const Node& n = p_->nodes[out.columns[column]];
      return n.op == Op::field || n.op == Op::derived ? n.index : -1;
    };
    for (auto& row : out.rows) {
      for (auto& t : row.tests) t.slot = slot_of(t.column);
    }
    build_index(out, info);
    build_fast_tests(out);
    p_->tables.push_back(std::move(out));
    p_->compile_rows(static_cast<int32_t>(p_->tables.size()) - 1);
  }

  void build_fast_tests(eval::Table& out) {
    for (size_t r = 0; r < out.rows.size(); ++r) {
      const auto& tests = out.index_column >= 0 ? out.indexed_tests[r] : out.rows[r].tests;
      std::vector<eval::Table::FastTest> fast;
      bool ok = true;
      for (const auto& t : tests) {
        bool simple = t.slot >= 0 && t.slot < static_cast<int32_t>(m_.fields.size()) && !t.text &&
                      t.low_node < 0 && !p_->fields[t.slot].type.is_set &&
                      (t.kind == eval::TestKind::ge || t.kind == eval::TestKind::gt || t.kind == eval::TestKind::le ||
                       t.kind == eval::TestKind::lt || t.kind == eval::TestKind::eq || t.kind == eval::TestKind::ne);
        if (!simple) { ok = false; break; }
        fast.push_back({t.low.n, t.slot, t.kind});
      }
      out.fast_tests.push_back(ok ? std::move(fast) : std::vector<eval::Table::FastTest>{});
      out.fast_rows.push_back(ok ? 1 : 0);
    }
  }

  // Indexes a table on its first enum column whose every cell is `-`, a value
  // or a set of values: a customer's code then picks the rows to try.
  void build_index(eval::Table& out, const TableInfo& info) {
    for (size_t c = 0; c < info.column_types.size(); ++c) {
      const Type& type = info.column_types[c];
      if (type.base != BaseType::enum_ || type.is_set || type.enum_id < 0) continue;
      if (ast::column_may_be_missing(*info.decl, c)) continue;  // a missing value has no code to index by
      bool indexable = true;
      for (const auto& row : out.rows) {
        for (const auto& t : row.tests) {
          if (t.column != static_cast<int32_t>(c)) continue;
          bool constant = t.low_node < 0 && t.high_node < 0;
          if (!constant || !(t.kind == eval::TestKind::eq || t.kind == eval::TestKind::ne ||
                             t.kind == eval::TestKind::in_set || t.kind == eval::TestKind::not_in_set)) {
            indexable = false;
          }
        }
      }
      if (!indexable) continue;
      size_t codes = m_.enums[type.enum_id].members.size();
      out.index_column = static_cast<int32_t>(c);
      out.rows_by_code.assign(codes, {});
      out.indexed_tests.clear();
      for (size_t r = 0; r < out.rows.size(); ++r) {
        std::vector<eval::CellTest> rest;
        const eval::CellTest* own = nullptr;
        for (const auto& t : out.rows[r].tests) {
          if (t.column == static_cast<int32_t>(c)) own = &t;
          else rest.push_back(t);
        }
        out.indexed_tests.push_back(std::move(rest));
        for (size_t code = 0; code < codes; ++code) {
          bool passes = true;
          if (own) {
            int128 v = static_cast<int128>(code);
            switch (own->kind) {
              case eval::TestKind::eq: passes = own->low.n == v; break;
              case eval::TestKind::ne: passes = own->low.n != v; break;
              case eval::TestKind::in_set:
              case eval::TestKind::not_in_set: {
                bool in = (p_->sets[own->set].mask >> static_cast<int>(code)) & 1;
                passes = own->kind == eval::TestKind::in_set ? in : !in;
                break;
              }
              default: break;
            }
          }
          if (passes) out.rows_by_code[code].push_back(static_cast<int32_t>(r));
        }
      }
      return;
    }
  }

  eval::CellTest cell_test(const ast::Cell& cell, int32_t column, const Type& type) {
    eval::CellTest t;
    t.column = column;
    t.text = type.base == BaseType::text;
    auto bound = [&](const Expr& e, Value& k, int32_t& node) {
      int32_t n = expr(e);
      if (is_constant_node(n)) k = p_->nodes[n].constant;
      else node = n;
    };
    switch (cell.kind) {
      case ast::CellKind::any: break;
      case ast::CellKind::missing: t.kind = eval::TestKind::missing; break;
      case ast::CellKind::equals:
        t.kind = eval::TestKind::eq;
        bound(*cell.values[0], t.low, t.low_node);
        break;
      case ast::CellKind::compare:
        switch (cell.op) {
          case BinaryOp::lt: t.kind = eval::TestKind::lt; break;
          case BinaryOp::le: t.kind = eval::TestKind::le; break;
          case BinaryOp::gt: t.kind = eval::TestKind::gt; break;
          case BinaryOp::ge: t.kind = eval::TestKind::ge; break;
          case BinaryOp::ne: t.kind = eval::TestKind::ne; break;
          default: t.kind = eval::TestKind::eq; break;
        }
        bound(*cell.values[0], t.low, t.low_node);
        break;
      case ast::CellKind::range:
        t.kind = eval::TestKind::range;
        t.low_closed = cell.low_closed;
        t.high_closed = cell.high_closed;
        bound(*cell.values[0], t.low, t.low_node);
        bound(*cell.values[1], t.high, t.high_node);
        break;
      case ast::CellKind::set:
      case ast::CellKind::not_set: {
        t.kind = cell.kind == ast::CellKind::set ? eval::TestKind::in_set : eval::TestKind::not_in_set;
        bool all_constant = std::all_of(cell.values.begin(), cell.values.end(), [](auto& v) {
          return v->kind != ExprKind::name || v->ref == ast::RefKind::enum_value;
        });
        if (!all_constant) {
          diags_.error("not-constant", cell.span, "the values in a set cell are constants (text, numbers or enum values)");
          break;
        }
        t.set = make_set(cell.values, type);
        break;
      }
    }
    return t;
  }

  // ---- tests ----------------------------------------------------------------

  // `[a, b]`: the items' texts joined, as a list value holds them.
  Value test_list(const ast::Binding& b, const Type& list) {
    std::string joined;
    for (size_t k = 0; k < b.items.size(); ++k) {
      if (k) joined += eval::kSetSeparator;
      joined += p_->format(test_value(*b.items[k]), list.element());
    }
    return {0, p_->intern(std::move(joined))};
  }

  Value test_value(const Expr& e) {
    if (e.kind == ExprKind::name && e.text == "missing" && e.ref == ast::RefKind::unresolved) return eval::missing_value();
    int32_t n = expr(e);
    if (!is_constant_node(n)) throw InternalError("test value is not constant");
    return p_->nodes[n].constant;
  }

  void test(const ast::TestDecl& t) {
    eval::TestCase tc;
    tc.name = t.name;
    tc.span = t.span;
    for (auto& g : t.given) {
      if (g.name == "today" && g.value->kind == ExprKind::date) tc.today = g.value->date_days;
      for (size_t f = 0; f < m_.fields.size(); ++f) {
        if (m_.fields[f].name != g.name) continue;
        Value v = test_value(*g.value);
        const auto& field = p_->fields[f];
        if (field.type.is_set && field.type.base == BaseType::text) v.n = field.known_mask(v.s);
        tc.given.push_back({static_cast<int32_t>(f), v});
      }
    }
    for (auto& x : t.expect) {
      if (x.is_list) {
        for (size_t d = 0; d < m_.decisions.size(); ++d) {
          if (m_.decisions[d].name == x.name && m_.decisions[d].type.is_list)
            tc.expect.push_back({x.name, x.span, decision_slot(static_cast<int32_t>(d)), m_.decisions[d].type, test_list(x, m_.decisions[d].type)});
        }
        continue;
      }
      if (!x.value) {
        int32_t slot = -1;
        Type type;
        if (x.name == "segment" && !m_.segments.empty()) { slot = segment_slot(); type = Type::enum_of(m_.segment_enum); }
        for (size_t l = 0; l < m_.lets.size(); ++l) {
          if (m_.lets[l].name == x.name) { slot = let_slot(static_cast<int32_t>(l)); type = m_.lets[l].type; }
        }
        for (size_t d = 0; d < m_.decisions.size(); ++d) {
          if (m_.decisions[d].name == x.name) { slot = decision_slot(static_cast<int32_t>(d)); type = m_.decisions[d].type; }
        }
        if (slot >= 0) tc.expect.push_back({x.name, x.span, slot, type, {}, x.reject});
        continue;
      }
      if (x.name == "segment") {
        tc.expect.push_back({x.name, x.span, segment_slot(), Type::enum_of(m_.segment_enum), {x.value->ref_index, {}}});
        continue;
      }
      if (x.name.starts_with("plan.")) {
        for (size_t i = 0; i < m_.plan_items.size(); ++i) {
          if (m_.plan_items[i].name == x.name.substr(5))
            tc.expect.push_back({x.name, x.span, plan_slot(static_cast<int32_t>(i)), m_.plan_items[i].type, test_value(*x.value)});
        }
        continue;
      }
      if (auto dot = x.name.find('.'); dot != std::string::npos) {
        for (size_t i = 0; i < m_.factors.size(); ++i) {
          const auto& sc = m_.scorecards[m_.factors[i].scorecard];
          if (sc.decl->name == x.name.substr(0, dot) && m_.factors[i].name == x.name.substr(dot + 1))
            tc.expect.push_back({x.name, x.span, factor_slot(static_cast<int32_t>(i)), Type::of(BaseType::decimal), test_value(*x.value)});
        }
        continue;
      }
      for (size_t l = 0; l < m_.lets.size(); ++l) {
        if (m_.lets[l].name == x.name)
          tc.expect.push_back({x.name, x.span, let_slot(static_cast<int32_t>(l)), m_.lets[l].type, test_value(*x.value)});
      }
      for (size_t d = 0; d < m_.decisions.size(); ++d) {
        if (m_.decisions[d].name == x.name)
          tc.expect.push_back({x.name, x.span, decision_slot(static_cast<int32_t>(d)), m_.decisions[d].type, test_value(*x.value)});
      }
    }
    p_->tests.push_back(std::move(tc));
  }
};

}  // namespace

std::unique_ptr<eval::Program> lower(const Model& model, const SourceSet& sources, Diagnostics& diags) {
  return Lowerer(model, sources, diags).run();
}

}  // namespace stratum
