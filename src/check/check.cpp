// The checker: one pass over declarations to collect names, then each
// expression is resolved and typed where it stands, with the facts the
// surrounding conditions establish (`x is present and …`). Dependencies
// between derived values are recorded and searched for cycles at the end.
#include "check/check.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include <fmt/format.h>

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
    case BaseType::days: base = "duration (days)"; break;
    case BaseType::months: base = "duration (months)"; break;
    case BaseType::enum_:
      base = t.enum_id >= 0 && t.enum_id < static_cast<int32_t>(enums.size()) ? enums[t.enum_id].name : "enum";
      break;
  }
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

namespace {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;
using ast::RefKind;

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

// The closest of `candidates` to `name`, if close enough to be a likely typo.
std::string closest(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  size_t len = utf8::length(name);
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, c);
    if (d < best_d) { best_d = d; best = c; }
  }
  size_t limit = len <= 3 ? 1 : len <= 5 ? 2 : 3;
  return best_d <= limit ? best : std::string();
}

// Names known to be present (not missing) at a point of an expression.
struct Facts {
  std::vector<std::pair<RefKind, int32_t>> present;
  bool has(RefKind k, int32_t i) const {
    return std::find(present.begin(), present.end(), std::make_pair(k, i)) != present.end();
  }
  void add(const Facts& o) { present.insert(present.end(), o.present.begin(), o.present.end()); }
};

struct Typed {
  Type type;
  bool maybe_missing = false;
};

enum class SymbolKind { field, let, decision };
struct Symbol {
  SymbolKind kind;
  int32_t index;
};

class Checker {
 public:
  Checker(Model& model, Diagnostics& diags) : m_(model), diags_(diags) {}

  void run() {
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

 private:
  Model& m_;
  Diagnostics& diags_;
  std::unordered_map<std::string, int32_t> enum_index_;
  std::unordered_map<std::string, Symbol> symbols_;
  std::unordered_map<std::string, std::vector<int32_t>> enum_members_;  // value name → enums
  std::unordered_map<std::string, int32_t> scorecard_index_;
  std::unordered_map<std::string, int32_t> segment_index_;
  std::vector<Facts> node_facts_;  // per segment node: what its branch conditions establish
  std::vector<int> let_state_;  // 0 unchecked, 1 checking, 2 done
  // Dependency graph over derived values: node = let i or decision (lets.size() + d).
  std::vector<std::vector<std::pair<int32_t, Span>>> deps_;
  int32_t current_node_ = -1;

  // ---- declarations ---------------------------------------------------------

  static bool is_builtin_type(std::string_view n) {
    return n == "bool" || n == "int" || n == "decimal" || n == "money" || n == "text" || n == "date" ||
           n == "duration";
  }

  void collect_enums() {
    for (auto& e : m_.module.enums) {
      if (is_builtin_type(e.name)) {
        diags_.error("duplicate-name", e.span, fmt::format("`{}` is a built-in type and cannot name an enum", e.name));
        continue;
      }
      if (auto it = enum_index_.find(e.name); it != enum_index_.end()) {
        auto& d = diags_.error("duplicate-name", e.span, fmt::format("enum `{}` is declared twice", e.name));
        d.notes.push_back({"first declared here", m_.enums[it->second].span});
        continue;
      }
      EnumInfo info{e.name, e.span, {}, {}};
      for (auto& member : e.members) {
        if (info.codes.count(member.name)) {
          diags_.error("duplicate-name", member.span,
                       fmt::format("`{}` appears twice in enum `{}`", member.name, e.name));
          continue;
        }
        info.codes[member.name] = static_cast<int32_t>(info.members.size());
        info.members.push_back(member.name);
      }
      if (info.members.empty()) diags_.error("empty-enum", e.span, fmt::format("enum `{}` has no values", e.name));
      if (info.members.size() > 120) {
        diags_.error("enum-too-large", e.span, fmt::format("enum `{}` has {} values; at most 120 are supported", e.name, info.members.size()));
      }
      int32_t id = static_cast<int32_t>(m_.enums.size());
      enum_index_[e.name] = id;
      for (auto& name : info.members) enum_members_[name].push_back(id);
      m_.enums.push_back(std::move(info));
    }
  }

  Type resolve_type(const ast::TypeRef& t) {
    Type out;
    if (t.name == "bool") out = Type::of(BaseType::boolean);
    else if (t.name == "int") out = Type::of(BaseType::int_);
    else if (t.name == "decimal") out = Type::of(BaseType::decimal);
    else if (t.name == "money") out = Type::of(BaseType::money);
    else if (t.name == "text") out = Type::of(BaseType::text);
    else if (t.name == "date") out = Type::of(BaseType::date);
    else if (t.name == "duration") out = Type::of(BaseType::days);
    else if (auto it = enum_index_.find(t.name); it != enum_index_.end()) out = Type::enum_of(it->second);
    else {
      std::vector<std::string> names = {"bool", "int", "decimal", "money", "text", "date", "duration"};
      for (auto& e : m_.enums) names.push_back(e.name);
      std::string hint = closest(t.name, names);
      auto& d = diags_.error("unknown-type", t.span, fmt::format("unknown type `{}`", t.name));
      d.notes.push_back({hint.empty() ? "types are bool, int, decimal, money, text, date, duration, set<…> and the declared enums"
                                      : fmt::format("did you mean `{}`?", hint), {}});
      return {};
    }
    if (t.is_set) {
      if (out.base != BaseType::enum_ && out.base != BaseType::text) {
        diags_.error("unsupported-type", t.span, "sets are supported of text and of enums");
        return {};
      }
      out.is_set = true;
    }
    return out;
  }

  bool declare(const std::string& name, Span span, Symbol sym) {
    auto [it, inserted] = symbols_.emplace(name, sym);
    if (!inserted) {
      auto& d = diags_.error("duplicate-name", span, fmt::format("`{}` is already defined", name));
      d.notes.push_back({"first defined here", symbol_span(it->second)});
      return false;
    }
    return true;
  }

  Span symbol_span(Symbol s) const {
    switch (s.kind) {
      case SymbolKind::field: return m_.fields[s.index].span;
      case SymbolKind::let: return m_.lets[s.index].span;
      case SymbolKind::decision: return m_.decisions[s.index].span;
    }
    return {};
  }

  void collect_fields() {
    if (m_.module.inputs.size() > 1) {
      auto& d = diags_.error("duplicate-input", m_.module.inputs[1].span, "a rule file has one `input` block");
      d.notes.push_back({"the first is here", m_.module.inputs[0].span});
    }
    std::unordered_map<std::string, Span> columns;
    for (auto& in : m_.module.inputs) {
      for (auto& f : in.fields) {
        FieldInfo info;
        info.name = f.name;
        info.column = f.column.empty() ? f.name : f.column;
        info.span = f.span;
        info.type = resolve_type(f.type);
        info.optional = f.type.optional;
        info.key = f.key;
        info.domain = f.domain.get();
        int32_t index = static_cast<int32_t>(m_.fields.size());
        if (!declare(f.name, f.span, {SymbolKind::field, index})) continue;
        if (auto [it, ok] = columns.emplace(info.column, f.span); !ok) {
          auto& d = diags_.error("duplicate-column", f.column.empty() ? f.span : f.column_span,
                                 fmt::format("two fields read the same column `{}`", info.column));
          d.notes.push_back({"the other field is here", it->second});
        }
        if (f.key) {
          if (m_.key_field >= 0) {
            auto& d = diags_.error("duplicate-key", f.key_span, "only one field can be the `key`");
            d.notes.push_back({"the key is already here", m_.fields[m_.key_field].span});
          } else if (info.optional) {
            diags_.error("optional-key", f.key_span, "the key field cannot be optional");
          } else if (!info.type.is_error() && (info.type.is_set || (info.type.base != BaseType::text && info.type.base != BaseType::int_))) {
            diags_.error("key-type", f.key_span, "the key field must be text or int");
          } else {
            m_.key_field = index;
          }
        }
        m_.fields.push_back(std::move(info));
      }
    }
  }

  void collect_derived() {
    for (auto& l : m_.module.lets) {
      int32_t index = static_cast<int32_t>(m_.lets.size());
      m_.lets.push_back({l.name, l.span, l.value.get(), {}, false});
      declare(l.name, l.span, {SymbolKind::let, index});
    }
    let_state_.assign(m_.lets.size(), 0);
    // Decisions in declaration order across decide and table is the output
    // order; the AST keeps them in separate lists, so order by position.
    struct Pending { uint32_t file, pos; DecisionSource src; int32_t index; };
    std::vector<Pending> pending;
    for (size_t i = 0; i < m_.module.decides.size(); ++i) {
      pending.push_back({m_.module.decides[i].span.file, m_.module.decides[i].span.begin, DecisionSource::decide, static_cast<int32_t>(i)});
    }
    for (size_t i = 0; i < m_.module.tables.size(); ++i) {
      pending.push_back({m_.module.tables[i].span.file, m_.module.tables[i].span.begin, DecisionSource::table, static_cast<int32_t>(i)});
    }
    for (size_t i = 0; i < m_.module.scorecards.size(); ++i) {
      pending.push_back({m_.module.scorecards[i].span.file, m_.module.scorecards[i].span.begin, DecisionSource::scorecard, static_cast<int32_t>(i)});
    }
    std::sort(pending.begin(), pending.end(), [](auto& a, auto& b) { return std::tie(a.file, a.pos) < std::tie(b.file, b.pos); });
    m_.tables.resize(m_.module.tables.size());
    for (auto& p : pending) {
      if (p.src == DecisionSource::decide) {
        auto& d = m_.module.decides[p.index];
        Type t = resolve_type(d.type);
        if (d.type.optional) diags_.error("optional-decision", d.type.span, "a decision always has a value: remove the `?`");
        m_.decisions[add_decision(d.name, d.span, t, DecisionSource::decide, p.index, 0)].imported = d.imported || d.is_private;
      } else if (p.src == DecisionSource::scorecard) {
        auto& sc = m_.module.scorecards[p.index];
        Type t = Type::of(BaseType::decimal);
        if (sc.type) {
          Type declared = resolve_type(*sc.type);
          if (!declared.is_error() && !(declared == t)) {
            diags_.error("type-mismatch", sc.type->span, "a scorecard's result is a decimal");
          }
        }
        int32_t d = add_decision(sc.name, sc.span, t, DecisionSource::scorecard, p.index, 0);
        m_.decisions[d].imported = sc.imported || sc.is_private;
        ScorecardInfo info{&sc, d, static_cast<int32_t>(m_.factors.size())};
        std::set<std::string> names;
        for (auto& f : sc.factors) {
          if (!names.insert(f.name).second) {
            diags_.error("duplicate-name", f.span, fmt::format("scorecard `{}` scores `{}` twice", sc.name, f.name));
          }
          m_.factors.push_back({f.name, static_cast<int32_t>(m_.scorecards.size()), {}});
        }
        scorecard_index_[sc.name] = static_cast<int32_t>(m_.scorecards.size());
        m_.scorecards.push_back(info);
      } else {
        auto& t = m_.module.tables[p.index];
        TableInfo& info = m_.tables[p.index];
        info.decl = &t;
        std::optional<Type> table_type;
        if (t.type) table_type = resolve_type(*t.type);
        for (size_t c = 0; c < t.outputs.size(); ++c) {
          auto& out = t.outputs[c];
          Type ty;
          if (out.type) ty = resolve_type(*out.type);
          else if (table_type) ty = *table_type;
          else {
            diags_.error("missing-type", out.span,
                         fmt::format("give the result column a type, e.g. `{} : 规模`, or the table one (`table {} : 规模 first`)", out.name, t.name));
          }
          info.decisions.push_back(add_decision(out.name, out.span, ty, DecisionSource::table, p.index, static_cast<int32_t>(c)));
          m_.decisions[info.decisions.back()].imported = t.imported || t.is_private;
        }
      }
    }
    deps_.assign(m_.lets.size() + m_.decisions.size(), {});
  }

  int32_t add_decision(const std::string& name, Span span, Type type, DecisionSource src, int32_t index, int32_t column) {
    int32_t d = static_cast<int32_t>(m_.decisions.size());
    m_.decisions.push_back({name, span, type, src, index, column});
    declare(name, span, {SymbolKind::decision, d});
    return d;
  }

  // ---- derived values -------------------------------------------------------

  // A `let` computed from a `let` computed from … : checking and evaluating
  // follow such chains, so their length is limited (docs/limits.md). Found
  // without recursion, before anything follows them.
  static constexpr int32_t kMaxLetChain = 1000;

  static void lets_named(const Expr& e, const std::unordered_map<std::string, Symbol>& symbols, std::vector<int32_t>& out) {
    if (e.kind == ExprKind::name && e.qualifier.empty()) {
      if (auto it = symbols.find(e.text); it != symbols.end() && it->second.kind == SymbolKind::let) out.push_back(it->second.index);
    }
    for (const auto& a : e.args) lets_named(*a, symbols, out);  // expression depth is bounded by the parser
  }

  bool lets_shallow_enough() {
    size_t n = m_.lets.size();
    std::vector<std::vector<int32_t>> uses(n);
    for (size_t i = 0; i < n; ++i) lets_named(*m_.lets[i].value, symbols_, uses[i]);
    // Longest chain below each let, by an explicit-stack depth-first walk;
    // a let met again while open is a cycle, reported later by find_cycles().
    std::vector<int32_t> depth(n, -1);
    std::vector<uint8_t> open(n, 0);
    for (size_t root = 0; root < n; ++root) {
      if (depth[root] >= 0) continue;
      std::vector<std::pair<int32_t, size_t>> stack{{static_cast<int32_t>(root), 0}};
      open[root] = 1;
      while (!stack.empty()) {
        auto& [at, next] = stack.back();
        if (next < uses[at].size()) {
          int32_t u = uses[at][next++];
          if (depth[u] < 0 && !open[u]) {
            open[u] = 1;
            stack.push_back({u, 0});
          }
          continue;
        }
        int32_t d = 1;
        for (int32_t u : uses[at]) d = std::max(d, depth[u] < 0 ? 1 : depth[u] + 1);
        depth[at] = d;
        open[at] = 0;
        if (d > kMaxLetChain) {
          auto& diag = diags_.error("too-deep", m_.lets[at].span,
                                    fmt::format("`{}` is computed through a chain of {} `let`s, each using the next; at most {} are allowed",
                                                m_.lets[at].name, d, kMaxLetChain));
          diag.notes.push_back({"compute intermediate values in fewer steps, or give them as inputs (see docs/limits.md)", {}});
          return false;
        }
        stack.pop_back();
      }
    }
    return true;
  }

  void check_let(int32_t i) {
    if (let_state_[i] != 0) return;
    let_state_[i] = 1;
    int32_t saved = current_node_;
    current_node_ = i;
    Facts facts;
    Typed t = expr(*m_.lets[i].value, nullptr, facts);
    m_.lets[i].type = t.type;
    m_.lets[i].maybe_missing = t.maybe_missing;
    current_node_ = saved;
    let_state_[i] = 2;
  }

  int32_t decision_node(int32_t d) const { return static_cast<int32_t>(m_.lets.size()) + d; }

  void check_decide(int32_t index) {
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
  void check_domains() {
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
  void mark_optional_grids() {
    for (bool changed = true; changed;) {
      changed = false;
      for (auto& info : m_.tables) {
        for (int32_t d : info.decisions) {
          if (m_.decisions[d].maybe_missing) continue;
          for (auto& col : info.decl->columns) {
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

  void check_table(int32_t index) {
    TableInfo& info = m_.tables[index];
    ast::TableDecl& t = *info.decl;
    for (auto& row : t.rows) info.row_lines.push_back(line_of(row.span));
    // What the result cells hold, per hit policy.
    bool single = t.policy == ast::HitPolicy::priority || t.policy == ast::HitPolicy::collect;
    if (single && t.outputs.size() != 1) {
      diags_.error("table-shape", t.policy_span, "a `priority` or `collect` table has exactly one result column");
    }
    for (int32_t d : info.decisions) {
      Type decided = m_.decisions[d].type;
      Type cell = decided;
      if (decided.is_error()) { info.cell_types.push_back(cell); continue; }
      if (t.policy == ast::HitPolicy::priority && (decided.base != BaseType::enum_ || decided.is_set)) {
        diags_.error("type-mismatch", t.policy_span, "a `priority` table's result is an enum: the value declared first wins");
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
    // All outputs of a table depend on the same columns: record them for the
    // first output's node and let the others depend on it.
    current_node_ = info.decisions.empty() ? -1 : decision_node(info.decisions[0]);
    for (size_t k = 1; k < info.decisions.size(); ++k) {
      deps_[decision_node(info.decisions[k])].push_back({current_node_, t.outputs[k].span});
    }
    Facts none;
    for (auto& col : t.columns) {
      Typed ty = expr(*col, nullptr, none);
      if (ty.maybe_missing && !col->qualifier.empty()) {
        diags_.error("unguarded-optional", col->span, "this column may be missing");
      } else if (ty.maybe_missing) {
        ty.maybe_missing = false;  // the table's result is missing then (see mark_optional_grids)
      }
      if (false) {
        diags_.error("unguarded-optional", col->span,
                     fmt::format("table column `{}` may be missing: define a `let` with a default (`let x = {} ?? …`) and use it as the column", col->text, col->text));
        ty.type = {};
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
      for (size_t c = 0; c < row.inputs.size(); ++c) cell(row.inputs[c], info.column_types[c], *t.columns[c]);
      for (size_t c = 0; c < row.outputs.size(); ++c) {
        Type want = c < info.cell_types.size() ? info.cell_types[c] : Type{};
        Typed r = expr(*row.outputs[c], want.is_error() ? nullptr : &want, none);
        require_value(r, *row.outputs[c]);
        if (!want.is_error()) expect_type(r.type, want, *row.outputs[c], fmt::format("column `{}`", t.outputs[c].name));
      }
    }
    if (t.rows.empty()) diags_.error("empty-decision", t.span, fmt::format("table `{}` has no rows", t.name));
    current_node_ = -1;
  }

  void cell(ast::Cell& c, const Type& column, const Expr& head) {
    if (column.is_error()) return;
    Facts none;
    auto value = [&](Expr& e) {
      Typed t = expr(e, &column, none);
      require_value(t, e);
      return t.type;
    };
    std::string what = fmt::format("column `{}`", head.text);
    switch (c.kind) {
      case ast::CellKind::any: return;
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

  // ---- scorecards -----------------------------------------------------------

  void check_scorecard(int32_t index) {
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

  // ---- the segment tree and plans --------------------------------------------

  void check_segments() {
    if (m_.module.segments.empty()) return;
    if (m_.module.segments.size() > 1) {
      auto& d = diags_.error("duplicate-name", m_.module.segments[1]->span, "a rule file has one segment tree");
      d.notes.push_back({"the first is here", m_.module.segments[0]->span});
    }
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

  void flatten(const ast::SegmentNode& n, int32_t parent, const std::string& prefix, int32_t& leaves) {
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
  Facts check_when(Expr& condition, const Facts& facts) {
    Typed c = expr(condition, nullptr, facts);
    require_value(c, condition);
    expect_type(c.type, Type::of(BaseType::boolean), condition, "a `when` condition");
    Facts then_facts = facts;
    then_facts.add(facts_when(condition, true));
    return then_facts;
  }

  void check_segment_node(ast::SegmentNode& n, const Facts& inherited) {
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
  void check_plans() {
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
          auto duration = [](const Type& x) { return !x.is_set && (x.base == BaseType::days || x.base == BaseType::months); };
          if (have.base == BaseType::int_ && t.type.base == BaseType::decimal) have = t.type;
          else if ((duration(have) || m_.plan_items[it->second].durations_as_text) && duration(t.type) && !(have == t.type)) {
            // `1 months` here, `1 weeks` there: shown as written ("1 month", "1 week").
            have = Type::of(BaseType::text);
            m_.plan_items[it->second].durations_as_text = true;
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
  }

  // ---- tests ----------------------------------------------------------------

  void check_test(ast::TestDecl& t) {
    Facts none;
    std::set<std::string> seen;
    for (auto& b : t.given) {
      auto it = symbols_.find(b.name);
      if (!b.value) {
        diags_.error("not-constant", b.span, "`reject` belongs in `expect`, not in `given`");
        continue;
      }
      if (!seen.insert("g:" + b.name).second) {
        diags_.error("duplicate-name", b.span, fmt::format("`{}` is given twice", b.name));
        continue;
      }
      if (b.name == "today" && it == symbols_.end()) {
        // `today: 2024-06-30` fixes the evaluation date for this test.
        Type date = Type::of(BaseType::date);
        Typed v = expr(*b.value, &date, none);
        if (b.value->kind != ExprKind::date) diags_.error("not-constant", b.value->span, "`today` is given as a date, e.g. 2024-06-30");
        expect_type(v.type, date, *b.value, "`today`");
        continue;
      }
      if (it == symbols_.end() || it->second.kind != SymbolKind::field) {
        std::vector<std::string> names;
        for (auto& f : m_.fields) names.push_back(f.name);
        auto& d = diags_.error("unknown-name", b.span, fmt::format("`{}` is not an input field", b.name));
        if (auto hint = closest(b.name, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
        continue;
      }
      const FieldInfo& f = m_.fields[it->second.index];
      Typed v = expr(*b.value, &f.type, none);
      if (!is_constant(*b.value)) {
        diags_.error("not-constant", b.value->span, "a test gives plain values (literals and enum values)");
      }
      expect_type(v.type, f.type, *b.value, fmt::format("field `{}`", f.name));
    }
    for (auto& b : t.expect) {
      auto it = symbols_.find(b.name);
      if (!seen.insert("e:" + b.name).second) {
        diags_.error("duplicate-name", b.span, fmt::format("`{}` is expected twice", b.name));
        continue;
      }
      if (!b.value) {  // `x: reject "…"`
        if (it == symbols_.end() && b.name != "segment") {
          diags_.error("unknown-name", b.span, fmt::format("`{}` is not a decision or a `let`", b.name));
        }
        continue;
      }
      if (b.name == "segment" || b.name.starts_with("plan.") || b.name.find('.') != std::string::npos) {
        expect_special(b);
        continue;
      }
      if (it == symbols_.end() || it->second.kind == SymbolKind::field) {
        std::vector<std::string> names;
        for (auto& d : m_.decisions) names.push_back(d.name);
        for (auto& l : m_.lets) names.push_back(l.name);
        auto& d = diags_.error("unknown-name", b.span, fmt::format("`{}` is not a decision or a `let`", b.name));
        if (auto hint = closest(b.name, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
        continue;
      }
      Type want = it->second.kind == SymbolKind::let ? m_.lets[it->second.index].type : m_.decisions[it->second.index].type;
      if (b.value->kind == ExprKind::name && b.value->text == "missing" && b.value->qualifier.empty() && !symbols_.count("missing")) {
        continue;  // `expect { x: missing }`: no value
      }
      Typed v = expr(*b.value, &want, none);
      if (!is_constant(*b.value)) {
        diags_.error("not-constant", b.value->span, "a test expects plain values (literals and enum values)");
      }
      expect_type(v.type, want, *b.value, fmt::format("`{}`", b.name));
    }
    if (t.expect.empty()) diags_.error("empty-test", t.span, "the test expects nothing: add `expect { decision: value }`");
  }

  // `segment: 叶子` / `segment: "对公客户/…"`, `plan.项目: 值`, `评分卡.因子: 分`.
  void expect_special(ast::Binding& b) {
    Facts none;
    if (b.name == "segment") {
      if (m_.segments.empty()) {
        diags_.error("unknown-name", b.span, "the rules have no segment tree");
        return;
      }
      Expr& v = *b.value;
      int32_t leaf = -1;
      if (v.kind == ExprKind::name && v.qualifier.empty()) {
        auto it = segment_index_.find(v.text);
        if (it != segment_index_.end()) leaf = m_.segments[it->second].leaf;
        if (it != segment_index_.end() && leaf < 0) {
          diags_.error("type-mismatch", v.span, fmt::format("`{}` is not a leaf: a customer always lands in a leaf", v.text));
          return;
        }
      } else if (v.kind == ExprKind::text) {
        for (auto& n : m_.segments) {
          if (n.leaf >= 0 && n.path == v.text) leaf = n.leaf;
        }
      }
      if (leaf < 0) {
        std::vector<std::string> names;
        for (auto& n : m_.segments) if (n.leaf >= 0) names.push_back(n.name);
        auto& d = diags_.error("unknown-name", v.span, "expected a leaf of the segment tree, by name or by its path in quotes");
        std::string text = v.kind == ExprKind::text ? v.text : v.text;
        if (auto hint = closest(text, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
        return;
      }
      v.ref = RefKind::enum_value;
      v.ref_index = leaf;
      v.kind = ExprKind::name;
      v.type = Type::enum_of(m_.segment_enum);
      return;
    }
    if (b.name.starts_with("plan.")) {
      std::string item = b.name.substr(5);
      for (auto& p : m_.plan_items) {
        if (p.name == item) {
          if (b.value->kind == ExprKind::name && b.value->text == "missing" && b.value->qualifier.empty()) return;
          Typed v = expr(*b.value, &p.type, none);
          if (!is_constant(*b.value)) diags_.error("not-constant", b.value->span, "a test expects plain values");
          expect_type(v.type, p.type, *b.value, fmt::format("plan item `{}`", item));
          return;
        }
      }
      diags_.error("unknown-name", b.span, fmt::format("no plan sets `{}`", item));
      return;
    }
    std::string qualifier = b.name.substr(0, b.name.find('.'));
    std::string factor = b.name.substr(b.name.find('.') + 1);
    auto sc = scorecard_index_.find(qualifier);
    if (sc != scorecard_index_.end()) {
      for (auto& f : m_.scorecards[sc->second].decl->factors) {
        if (f.name == factor) {
          Type want = Type::of(BaseType::decimal);
          Typed v = expr(*b.value, &want, none);
          expect_type(v.type, want, *b.value, fmt::format("the points of `{}`", b.name));
          return;
        }
      }
    }
    diags_.error("unknown-name", b.span, fmt::format("`{}` is not a decision, `let`, `segment`, `plan.…` or scorecard factor", b.name));
  }

  static bool is_constant(const Expr& e) {
    switch (e.kind) {
      case ExprKind::number: case ExprKind::text: case ExprKind::boolean: case ExprKind::date:
        return true;
      case ExprKind::name: return e.ref == RefKind::enum_value;
      case ExprKind::negate: return is_constant(*e.args[0]);
      case ExprKind::set:
        return e.loaded || std::all_of(e.args.begin(), e.args.end(), [](auto& a) { return is_constant(*a); });
      default: return false;
    }
  }

  // ---- cycles ---------------------------------------------------------------

  std::string node_name(int32_t n) const {
    return n < static_cast<int32_t>(m_.lets.size()) ? m_.lets[n].name : m_.decisions[n - m_.lets.size()].name;
  }
  Span node_span(int32_t n) const {
    return n < static_cast<int32_t>(m_.lets.size()) ? m_.lets[n].span : m_.decisions[n - m_.lets.size()].span;
  }

  void find_cycles() {
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

  // ---- expressions ----------------------------------------------------------

  void require_value(Typed& t, const Expr& e) {
    if (!t.maybe_missing) return;
    t.maybe_missing = false;
    std::string name = e.kind == ExprKind::name ? e.text : "this value";
    std::string hint = e.kind == ExprKind::name
                           ? fmt::format("guard it in the same condition (`{0} is present and …`) or give a default (`{0} ?? …`)", e.text)
                           : "guard the optional fields it uses with `is present`, or give a default with `??`";
    auto& d = diags_.error("unguarded-optional", e.span, fmt::format("`{}` may be missing here", name));
    d.notes.push_back({hint, {}});
  }

  bool compatible(const Type& got, const Type& want) const {
    if (got.is_error() || want.is_error()) return true;
    if (got == want) return true;
    if (got.is_set != want.is_set) return false;
    // int widens to decimal
    return got.base == BaseType::int_ && want.base == BaseType::decimal;
  }

  void expect_type(const Type& got, const Type& want, const Expr& e, const std::string& where) {
    if (compatible(got, want)) return;
    auto& d = diags_.error("type-mismatch", e.span,
                           fmt::format("type mismatch: {} is {}, this is {}", where, m_.type_name(want), m_.type_name(got)));
    unit_hint(d, got, want, e);
  }

  void unit_hint(Diagnostic& d, const Type& got, const Type& want, const Expr& e) const {
    if (want.base == BaseType::money && got.is_numeric() && e.kind == ExprKind::number) {
      d.notes.push_back({fmt::format("money needs a unit: write `{0}元`, `{0}万` or `{0}亿`", e.number.to_string()), {}});
    } else if (got.base == BaseType::money && want.is_numeric()) {
      d.notes.push_back({"amounts of money (万/亿/元) cannot be compared with counts or ratios", {}});
    }
  }

  // Comparing a value of type `left` with `right` (==, <, …).
  void compare_types(const Type& left, const Type& right, const Expr& at, const std::string& what, BinaryOp op) {
    if (left.is_error() || right.is_error()) return;
    bool ok = left == right || (left.is_numeric() && right.is_numeric());
    if (ok && op != BinaryOp::eq && op != BinaryOp::ne && !left.is_ordered()) {
      diags_.error("type-mismatch", at.span, fmt::format("{} is {}, which has no order: use == or !=", what, m_.type_name(left)));
      return;
    }
    if (!ok) {
      auto& d = diags_.error("type-mismatch", at.span,
                             fmt::format("type mismatch: {} is {}, `{}` is {}", what, m_.type_name(left),
                                         source_text(at), m_.type_name(right)));
      unit_hint(d, right, left, at);
    }
  }

  // The text of an expression, from the file it is written in (an imported
  // file's expressions are checked along with the importing file's).
  std::string source_text(const Expr& e) const {
    if (!sources_ || e.span.file == 0) return "";
    return std::string(sources_->file(e.span.file).text().substr(e.span.begin, e.span.end - e.span.begin));
  }
  uint32_t line_of(Span span) const { return sources_ && span.file ? sources_->file(span.file).line_col(span.begin).line : 0; }

 public:
  const SourceSet* sources_ = nullptr;

 private:
  Facts facts_when(const Expr& e, bool truth) const {
    Facts f;
    if (e.kind == ExprKind::presence && e.negated != truth && e.args[0]->kind == ExprKind::name) {
      f.present.push_back({e.args[0]->ref, e.args[0]->ref_index});
    } else if (e.kind == ExprKind::not_) {
      f = facts_when(*e.args[0], !truth);
    } else if (e.kind == ExprKind::binary && ((e.op == BinaryOp::and_ && truth) || (e.op == BinaryOp::or_ && !truth))) {
      f = facts_when(*e.args[0], truth);
      f.add(facts_when(*e.args[1], truth));
    }
    return f;
  }

  Typed error_typed() { return {}; }

  // A bare name that is not a field/let/decision but is some enum's value.
  bool is_enum_candidate(const Expr& e) const {
    return e.kind == ExprKind::name && e.qualifier.empty() && !symbols_.count(e.text) && enum_members_.count(e.text);
  }
  bool is_enum_set_candidate(const Expr& e) const {
    return e.kind == ExprKind::set && !e.args.empty() &&
           std::all_of(e.args.begin(), e.args.end(), [&](auto& a) { return is_enum_candidate(*a); });
  }

  void depend_on(int32_t node, Span at) {
    if (current_node_ >= 0) deps_[current_node_].push_back({node, at});
  }

  Typed name(Expr& e, const Type* expected, const Facts& facts) {
    // 评分卡.因子: a scorecard factor's points
    if (!e.qualifier.empty() && scorecard_index_.count(e.qualifier)) {
      const ScorecardInfo& sc = m_.scorecards[scorecard_index_.at(e.qualifier)];
      for (size_t k = 0; k < sc.decl->factors.size(); ++k) {
        if (sc.decl->factors[k].name == e.text) {
          e.ref = RefKind::factor;
          e.ref_index = sc.first_factor + static_cast<int32_t>(k);
          depend_on(decision_node(sc.decision), e.span);
          e.type = Type::of(BaseType::decimal);
          return {e.type, false};
        }
      }
      diags_.error("unknown-name", e.span, fmt::format("scorecard `{}` has no factor `{}`", e.qualifier, e.text));
      return error_typed();
    }
    // 行业.工业
    if (!e.qualifier.empty()) {
      auto it = enum_index_.find(e.qualifier);
      if (it == enum_index_.end()) {
        diags_.error("unknown-name", e.span, fmt::format("`{}` is not an enum", e.qualifier));
        return error_typed();
      }
      return enum_value(e, it->second);
    }
    if (expected && expected->base == BaseType::enum_ && expected->enum_id >= 0 &&
        m_.enums[expected->enum_id].codes.count(e.text)) {
      return enum_value(e, expected->enum_id);
    }
    if (auto it = symbols_.find(e.text); it != symbols_.end()) {
      Symbol s = it->second;
      switch (s.kind) {
        case SymbolKind::field: {
          const FieldInfo& f = m_.fields[s.index];
          e.ref = RefKind::field;
          e.ref_index = s.index;
          e.type = f.type;
          return {f.type, f.optional && !facts.has(RefKind::field, s.index)};
        }
        case SymbolKind::let: {
          e.ref = RefKind::let;
          e.ref_index = s.index;
          depend_on(s.index, e.span);
          if (let_state_[s.index] == 0) check_let(s.index);
          const LetInfo& l = m_.lets[s.index];
          e.type = l.type;
          return {l.type, l.maybe_missing && !facts.has(RefKind::let, s.index)};
        }
        case SymbolKind::decision: {
          e.ref = RefKind::decision;
          e.ref_index = s.index;
          depend_on(decision_node(s.index), e.span);
          e.type = m_.decisions[s.index].type;
          return {e.type, m_.decisions[s.index].maybe_missing && !facts.has(RefKind::decision, s.index)};
        }
      }
    }
    if (auto it = enum_members_.find(e.text); it != enum_members_.end()) {
      if (expected && expected->base == BaseType::enum_ && expected->enum_id >= 0) {
        // A value of another enum where this one is expected.
        return unknown_enum_value(e, expected->enum_id);
      }
      if (it->second.size() == 1) return enum_value(e, it->second[0]);
      auto& d = diags_.error("ambiguous-name", e.span, fmt::format("`{}` is a value of several enums", e.text));
      for (int32_t id : it->second) d.notes.push_back({fmt::format("write `{}.{}` to mean enum `{}`'s", m_.enums[id].name, e.text, m_.enums[id].name), {}});
      return error_typed();
    }
    if (expected && expected->base == BaseType::enum_ && expected->enum_id >= 0) return unknown_enum_value(e, expected->enum_id);
    std::vector<std::string> names;
    for (auto& [n, _] : symbols_) names.push_back(n);
    std::sort(names.begin(), names.end());
    auto& d = diags_.error("unknown-name", e.span, fmt::format("unknown name `{}`", e.text));
    if (auto hint = closest(e.text, names); !hint.empty()) d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
    return error_typed();
  }

  Typed enum_value(Expr& e, int32_t enum_id) {
    const EnumInfo& info = m_.enums[enum_id];
    auto it = info.codes.find(e.text);
    if (it == info.codes.end()) return unknown_enum_value(e, enum_id);
    e.ref = RefKind::enum_value;
    e.ref_index = it->second;
    e.type = Type::enum_of(enum_id);
    return {e.type, false};
  }

  Typed unknown_enum_value(Expr& e, int32_t enum_id) {
    const EnumInfo& info = m_.enums[enum_id];
    auto& d = diags_.error("unknown-enum-value", e.span, fmt::format("`{}` is not a value of enum `{}`", e.text, info.name));
    if (auto hint = closest(e.text, info.members); !hint.empty()) {
      d.notes.push_back({fmt::format("did you mean `{}`?", hint), {}});
    } else {
      std::string all;
      for (auto& m : info.members) all += (all.empty() ? "" : ", ") + m;
      d.notes.push_back({fmt::format("its values are: {}", all), {}});
    }
    return error_typed();
  }

  Typed number(Expr& e) {
    using U = ast::Unit;
    auto whole = [&](const char* what) {
      if (!e.number.is_integer()) {
        diags_.error("not-whole", e.span, fmt::format("{} must be a whole number", what));
      }
    };
    // Durations are whole days or months within the calendar's range: a
    // larger one is refused here, never wrapped around.
    auto bounded = [&](int64_t factor, int64_t limit, const char* what) {
      Decimal limit_d = Decimal::from_int(limit / factor);
      if (e.number > limit_d || e.number < -limit_d) {
        diags_.error("out-of-range", e.span, fmt::format("a duration is at most {} {}{}", limit / factor, what,
                                                          std::string_view(what) == "years" ? "" : " (about 8,000 years)"));
        e.number = Decimal{};
        return;
      }
      e.number = e.number * Decimal::from_int(factor);
    };
    switch (e.unit) {
      case U::none: e.type = Type::of(e.number.is_integer() ? BaseType::int_ : BaseType::decimal); break;
      case U::percent: e.type = Type::of(BaseType::decimal); break;
      case U::yuan: case U::wan_yuan: case U::yi_yuan: e.type = Type::of(BaseType::money); break;
      case U::count: whole("a count"); e.type = Type::of(BaseType::int_); break;
      case U::years: whole("a number of years"); bounded(12, kMaxDurationMonths, "years"); e.type = Type::of(BaseType::months); break;
      case U::months: whole("a number of months"); bounded(1, kMaxDurationMonths, "months"); e.type = Type::of(BaseType::months); break;
      case U::weeks: whole("a number of weeks"); bounded(7, kMaxDurationDays, "weeks"); e.type = Type::of(BaseType::days); break;
      case U::days: whole("a number of days"); bounded(1, kMaxDurationDays, "days"); e.type = Type::of(BaseType::days); break;
    }
    return {e.type, false};
  }

  Typed expr(Expr& e, const Type* expected, const Facts& facts) {
    Typed t = expr_inner(e, expected, facts);
    e.type = t.type;
    return t;
  }

  Typed value(Expr& e, const Type* expected, const Facts& facts) {
    Typed t = expr(e, expected, facts);
    require_value(t, e);
    return t;
  }

  Typed expr_inner(Expr& e, const Type* expected, const Facts& facts) {
    switch (e.kind) {
      case ExprKind::number: return number(e);
      case ExprKind::text: return {Type::of(BaseType::text), false};
      case ExprKind::boolean: return {Type::of(BaseType::boolean), false};
      case ExprKind::date: return {Type::of(BaseType::date), false};
      case ExprKind::today: m_.uses_today = true; return {Type::of(BaseType::date), false};
      case ExprKind::name: return name(e, expected, facts);
      case ExprKind::set: return set(e, expected, facts);
      case ExprKind::call: return call(e, facts);
      case ExprKind::negate: {
        Typed a = value(*e.args[0], expected, facts);
        if (!a.type.is_error() && !(a.type.is_number_like() || a.type.base == BaseType::days || a.type.base == BaseType::months)) {
          diags_.error("type-mismatch", e.span, fmt::format("cannot negate {}", m_.type_name(a.type)));
          return error_typed();
        }
        return {a.type, false};
      }
      case ExprKind::not_: {
        Typed a = value(*e.args[0], nullptr, facts);
        expect_type(a.type, Type::of(BaseType::boolean), *e.args[0], "the operand of `not`");
        return {Type::of(BaseType::boolean), false};
      }
      case ExprKind::presence: {
        Expr& x = *e.args[0];
        Typed a = expr(x, nullptr, Facts{});
        if (x.kind != ExprKind::name || (x.ref != RefKind::field && x.ref != RefKind::let && x.ref != RefKind::decision)) {
          diags_.error("not-optional", x.span, "`is present` applies to an optional field, or a `let` or grid that may be missing");
        } else if (!a.type.is_error() && !a.maybe_missing) {
          diags_.warning("never-missing", x.span, fmt::format("`{}` is never missing, so this test is always {}", x.text, e.negated ? "false" : "true"));
        }
        return {Type::of(BaseType::boolean), false};
      }
      case ExprKind::in: {
        Expr& x = *e.args[0];
        Expr& s = *e.args[1];
        Typed a, b;
        if (is_enum_candidate(x) && !is_enum_set_candidate(s)) {
          b = value(s, nullptr, facts);
          Type elem = b.type.element();
          a = value(x, &elem, facts);
        } else {
          a = value(x, nullptr, facts);
          Type want = a.type.as_set();
          b = value(s, &want, facts);
        }
        membership(a.type, b.type, e, s);
        return {Type::of(BaseType::boolean), false};
      }
      case ExprKind::contains: {
        Expr& s = *e.args[0];
        Expr& x = *e.args[1];
        Typed b = value(s, nullptr, facts);
        if (!b.type.is_error() && !b.type.is_set && b.type.base == BaseType::text) {
          Typed a = value(x, nullptr, facts);
          expect_type(a.type, Type::of(BaseType::text), x, "the text searched for");
          return {Type::of(BaseType::boolean), false};
        }
        Type elem = b.type.element();
        Typed a = value(x, b.type.is_error() ? nullptr : &elem, facts);
        membership(a.type, b.type, e, s);
        return {Type::of(BaseType::boolean), false};
      }
      case ExprKind::binary: return binary(e, expected, facts);
      case ExprKind::load:
        return error_typed();  // the loader replaced it, or reported why it could not
    }
    return error_typed();
  }

  void membership(const Type& item, const Type& set, const Expr& e, const Expr& set_expr) {
    if (item.is_error() || set.is_error()) return;
    if (!set.is_set) {
      diags_.error("type-mismatch", set_expr.span, fmt::format("expected a set, this is {}", m_.type_name(set)));
      return;
    }
    if (!(item == set.element() || (item.is_numeric() && set.element().is_numeric()))) {
      diags_.error("type-mismatch", e.span,
                   fmt::format("type mismatch: {} cannot be in {}", m_.type_name(item), m_.type_name(set)));
    }
  }

  Typed set(Expr& e, const Type* expected, const Facts& facts) {
    if (e.loaded) return {Type::of(BaseType::text).as_set(), false};  // reference data: texts
    Type elem_expected;
    const Type* ep = nullptr;
    if (expected && expected->is_set) { elem_expected = expected->element(); ep = &elem_expected; }
    Type elem;
    bool first = true;
    for (auto& a : e.args) {
      if (ep && ep->base == BaseType::enum_ && ep->enum_id >= 0 && a->kind == ExprKind::name &&
          a->qualifier.empty() && !m_.enums[ep->enum_id].codes.count(a->text)) {
        // In a set of enum values, a name that is not one is a misspelt value.
        unknown_enum_value(*a, ep->enum_id);
        first = false;
        elem = {};
        continue;
      }
      Typed t = value(*a, ep, facts);
      if (!is_constant(*a) && !t.type.is_error()) {
        diags_.error("not-constant", a->span, "set elements are values (text, numbers or enum values)");
      }
      if (first) {
        elem = t.type;
        first = false;
        if (!ep && elem.base == BaseType::enum_) { elem_expected = elem; ep = &elem_expected; }
      } else if (!compatible(t.type, elem) && !compatible(elem, t.type)) {
        diags_.error("type-mismatch", a->span, fmt::format("set elements must have one type: {} and {}", m_.type_name(elem), m_.type_name(t.type)));
      } else if (elem.base == BaseType::int_ && t.type.base == BaseType::decimal) {
        elem = t.type;
      }
      if (t.type.is_set) diags_.error("type-mismatch", a->span, "sets cannot contain sets");
    }
    if (e.args.empty()) {
      if (expected && expected->is_set) return {*expected, false};
      diags_.error("type-mismatch", e.span, "an empty set needs a context that gives its type");
      return error_typed();
    }
    if (elem.is_error()) return error_typed();
    return {elem.as_set(), false};
  }

  Typed call(Expr& e, const Facts& facts) {
    const std::string& f = e.text;
    auto arity = [&](size_t lo, size_t hi) {
      if (e.args.size() < lo || e.args.size() > hi) {
        diags_.error("wrong-arity", e.span,
                     lo == hi ? fmt::format("`{}` takes {} argument{}", f, lo, lo == 1 ? "" : "s")
                              : fmt::format("`{}` takes {} to {} arguments", f, lo, hi));
        return false;
      }
      return true;
    };
    std::vector<Typed> args;
    if (f == "coalesce") {
      if (!arity(2, 64)) return error_typed();
      Typed first = expr(*e.args[0], nullptr, facts);
      bool missing = first.maybe_missing;
      for (size_t i = 1; i < e.args.size(); ++i) {
        Typed t = expr(*e.args[i], &first.type, facts);
        expect_type(t.type, first.type, *e.args[i], "the default");
        missing = t.maybe_missing;
      }
      return {first.type, missing};
    }
    for (auto& a : e.args) args.push_back(value(*a, nullptr, facts));
    auto numeric_or_money = [&](const Typed& t, const Expr& at) {
      if (t.type.is_error() || t.type.is_number_like()) return true;
      diags_.error("type-mismatch", at.span, fmt::format("`{}` needs a number or an amount, this is {}", f, m_.type_name(t.type)));
      return false;
    };
    if (f == "min" || f == "max") {
      if (!arity(2, 64)) return error_typed();
      Type result = args[0].type;
      for (size_t i = 0; i < args.size(); ++i) {
        if (args[i].type.is_error()) return error_typed();
        if (!args[i].type.is_ordered()) {
          diags_.error("type-mismatch", e.args[i]->span, fmt::format("`{}` needs ordered values, this is {}", f, m_.type_name(args[i].type)));
          return error_typed();
        }
        if (args[i].type.base == BaseType::decimal && result.base == BaseType::int_) result = args[i].type;
        else if (!compatible(args[i].type, result) && !compatible(result, args[i].type)) {
          diags_.error("type-mismatch", e.args[i]->span,
                       fmt::format("`{}` compares values of one type: {} and {}", f, m_.type_name(result), m_.type_name(args[i].type)));
          return error_typed();
        }
      }
      return {result, false};
    }
    if (f == "abs" || f == "floor" || f == "ceil") {
      if (!arity(1, 1) || !numeric_or_money(args[0], *e.args[0])) return error_typed();
      Type t = args[0].type;
      if (f != "abs" && t.base == BaseType::decimal) t = Type::of(BaseType::int_);
      return {t, false};
    }
    if (f == "round") {
      if (!arity(1, 2) || !numeric_or_money(args[0], *e.args[0])) return error_typed();
      if (e.args.size() == 2) {
        const Expr& p = *e.args[1];
        if (p.kind != ExprKind::number || p.unit != ast::Unit::none || !p.number.is_integer() ||
            p.number < Decimal::from_int(-12) || p.number > Decimal::from_int(12)) {
          diags_.error("type-mismatch", p.span, "the places of `round` are a whole number from -12 to 12, written as it is");
          return error_typed();
        }
      }
      return {args[0].type, false};
    }
    if (f == "years_between" || f == "months_between" || f == "days_between") {
      if (!arity(2, 2)) return error_typed();
      for (size_t i = 0; i < 2; ++i) expect_type(args[i].type, Type::of(BaseType::date), *e.args[i], fmt::format("argument {} of `{}`", i + 1, f));
      return {Type::of(BaseType::int_), false};
    }
    if (f == "contains" || f == "startswith") {
      if (!arity(2, 2)) return error_typed();
      for (size_t i = 0; i < 2; ++i) expect_type(args[i].type, Type::of(BaseType::text), *e.args[i], fmt::format("argument {} of `{}`", i + 1, f));
      return {Type::of(BaseType::boolean), false};
    }
    auto& d = diags_.error("unknown-function", e.span, fmt::format("unknown function `{}`", f));
    std::string hint = closest(f, {"min", "max", "abs", "round", "floor", "ceil", "years_between", "months_between",
                                   "days_between", "coalesce", "contains", "startswith"});
    d.notes.push_back({hint.empty() ? "the functions are min max abs round floor ceil years_between months_between days_between coalesce contains startswith"
                                    : fmt::format("did you mean `{}`?", hint), {}});
    return error_typed();
  }

  Typed binary(Expr& e, const Type* expected, const Facts& facts) {
    Expr& l = *e.args[0];
    Expr& r = *e.args[1];
    switch (e.op) {
      case BinaryOp::and_:
      case BinaryOp::or_: {
        Typed a = value(l, nullptr, facts);
        expect_type(a.type, Type::of(BaseType::boolean), l, fmt::format("the left side of `{}`", to_string(e.op)));
        Facts right = facts;
        right.add(facts_when(l, e.op == BinaryOp::and_));
        Typed b = value(r, nullptr, right);
        expect_type(b.type, Type::of(BaseType::boolean), r, fmt::format("the right side of `{}`", to_string(e.op)));
        return {Type::of(BaseType::boolean), false};
      }
      case BinaryOp::coalesce: {
        Typed a = expr(l, expected, facts);
        if (!a.type.is_error() && !a.maybe_missing) {
          diags_.warning("never-missing", l.span, "this value is never missing, so `?? …` has no effect");
        }
        Typed b = expr(r, a.type.is_error() ? expected : &a.type, facts);
        expect_type(b.type, a.type, r, "the default after `??`");
        return {a.type, b.maybe_missing};
      }
      case BinaryOp::eq: case BinaryOp::ne: case BinaryOp::lt:
      case BinaryOp::le: case BinaryOp::gt: case BinaryOp::ge: {
        Typed a, b;
        if (is_enum_candidate(l) && !is_enum_candidate(r)) {
          b = value(r, nullptr, facts);
          a = value(l, &b.type, facts);
        } else {
          a = value(l, nullptr, facts);
          b = value(r, &a.type, facts);
        }
        compare_types(a.type, b.type, r, fmt::format("`{}`", source_text(l)), e.op);
        if (a.type.is_set || b.type.is_set) {
          if (!a.type.is_error() && !b.type.is_error())
            diags_.error("type-mismatch", e.span, "sets are tested with `in` and `contains`, not compared");
        }
        return {Type::of(BaseType::boolean), false};
      }
      default: break;
    }
    // arithmetic
    Typed a = value(l, nullptr, facts);
    Typed b = value(r, nullptr, facts);
    if (a.type.is_error() || b.type.is_error()) return error_typed();
    Type result = arithmetic(e.op, a.type, b.type);
    if (result.is_error()) {
      auto& d = diags_.error("type-mismatch", e.span,
                             fmt::format("cannot compute {} {} {}", m_.type_name(a.type), to_string(e.op), m_.type_name(b.type)));
      if ((a.type.base == BaseType::money) != (b.type.base == BaseType::money) && (e.op == BinaryOp::add || e.op == BinaryOp::sub)) {
        d.notes.push_back({"money adds to money: give the number a unit (元, 万, 亿)", {}});
      }
    }
    return {result, false};
  }

  static Type arithmetic(BinaryOp op, Type a, Type b) {
    using B = BaseType;
    if (a.is_set || b.is_set) return {};
    auto num = [](Type t) { return t.base == B::int_ || t.base == B::decimal; };
    auto widen = [](Type x, Type y) { return Type::of(x.base == B::decimal || y.base == B::decimal ? B::decimal : B::int_); };
    switch (op) {
      case BinaryOp::add:
      case BinaryOp::sub:
        if (num(a) && num(b)) return widen(a, b);
        if (a.base == B::money && b.base == B::money) return a;
        if (a.base == B::date && (b.base == B::days || b.base == B::months)) return a;
        if (op == BinaryOp::add && b.base == B::date && (a.base == B::days || a.base == B::months)) return b;
        if (op == BinaryOp::sub && a.base == B::date && b.base == B::date) return Type::of(B::days);
        if ((a.base == B::days || a.base == B::months) && a == b) return a;
        return {};
      case BinaryOp::mul:
        if (num(a) && num(b)) return widen(a, b);
        if (a.base == B::money && num(b)) return a;
        if (num(a) && b.base == B::money) return b;
        if ((a.base == B::days || a.base == B::months) && b.base == B::int_) return a;
        if (a.base == B::int_ && (b.base == B::days || b.base == B::months)) return b;
        return {};
      case BinaryOp::div:
        if (num(a) && num(b)) return Type::of(B::decimal);
        if (a.base == B::money && b.base == B::money) return Type::of(B::decimal);
        if (a.base == B::money && num(b)) return a;
        return {};
      default: return {};
    }
  }
};

}  // namespace

Model check(ast::Module module, const SourceSet& sources, Diagnostics& diags) {
  Model model;
  model.module = std::move(module);
  model.ruleset = model.module.ruleset;
  model.version = model.module.version;
  Checker checker(model, diags);
  checker.sources_ = &sources;
  checker.run();
  return model;
}

}  // namespace stratum
