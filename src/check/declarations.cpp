// Checker, declarations: enums and types resolved, input fields, lets and
// decisions collected and their names declared (in declaration order: the
// outputs' order), chains of lets bounded before anything follows them.
#include "check/checker.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace stratum::checking {

// ---- declarations -----------------------------------------------------------

bool Checker::is_builtin_type(std::string_view n) {
  return n == "bool" || n == "int" || n == "decimal" || n == "money" || n == "text" || n == "date" ||
         n == "duration";
}

void Checker::collect_enums() {
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

Type Checker::resolve_type(const ast::TypeRef& t) {
  Type out;
  if (t.name == "bool") out = Type::of(BaseType::boolean);
  else if (t.name == "int") out = Type::of(BaseType::int_);
  else if (t.name == "decimal") out = Type::of(BaseType::decimal);
  else if (t.name == "money") out = Type::of(BaseType::money);
  else if (t.name == "text") out = Type::of(BaseType::text);
  else if (t.name == "date") out = Type::of(BaseType::date);
  else if (t.name == "duration") out = Type::of(BaseType::duration);
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
  if (t.is_list) out = out.as_list();
  return out;
}

bool Checker::declare(const std::string& name, Span span, Symbol sym) {
  auto [it, inserted] = symbols_.emplace(name, sym);
  if (!inserted) {
    auto& d = diags_.error("duplicate-name", span, fmt::format("`{}` is already defined", name));
    d.notes.push_back({"first defined here", symbol_span(it->second)});
    return false;
  }
  return true;
}

Span Checker::symbol_span(Symbol s) const {
  switch (s.kind) {
    case SymbolKind::field: return m_.fields[s.index].span;
    case SymbolKind::let: return m_.lets[s.index].span;
    case SymbolKind::decision: return m_.decisions[s.index].span;
  }
  return {};
}

void Checker::collect_fields() {
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
      if (info.type.is_list) {
        diags_.error("unsupported-type", f.type.span, "a list is the result of a `rule order` or `output order` table; an input field is a value or a set<…>");
        info.type = {};
      }
      info.optional = f.type.optional;
      info.key = f.key;
      info.domain = f.domain.get();
      if (!f.data_unit.empty() && !info.type.is_error()) {
        const std::string& u = f.data_unit;
        bool money = !info.type.is_set && info.type.base == BaseType::money;
        bool decimal = !info.type.is_set && info.type.base == BaseType::decimal;
        if (money && u != "%") info.data_scale = u.starts_with("万") ? 4 : u.starts_with("亿") ? 8 : 0;
        else if (decimal && u == "%") info.data_scale = -2;
        else
          diags_.error("type-mismatch", f.data_unit_span,
                       fmt::format("`in {}` is not a unit of {}: an amount (`money`) arrives in 元, 万 or 亿, a rate (`decimal`) in %",
                                   u, m_.type_name(info.type)));
      }
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

void Checker::collect_derived() {
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
      if (t.is_list) {
        diags_.error("unsupported-type", d.type.span, "a list is the result of a `rule order` or `output order` table");
        t = {};
      }
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

int32_t Checker::add_decision(const std::string& name, Span span, Type type, DecisionSource src, int32_t index, int32_t column) {
  int32_t d = static_cast<int32_t>(m_.decisions.size());
  m_.decisions.push_back({name, span, type, src, index, column});
  declare(name, span, {SymbolKind::decision, d});
  return d;
}

// ---- derived values ---------------------------------------------------------

void Checker::lets_named(const Expr& e, const std::unordered_map<std::string, Symbol>& symbols, std::vector<int32_t>& out) {
  if (e.kind == ExprKind::name && e.qualifier.empty()) {
    if (auto it = symbols.find(e.text); it != symbols.end() && it->second.kind == SymbolKind::let) out.push_back(it->second.index);
  }
  for (const auto& a : e.args) lets_named(*a, symbols, out);  // expression depth is bounded by the parser
}

bool Checker::lets_shallow_enough() {
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

void Checker::check_let(int32_t i) {
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

int32_t Checker::decision_node(int32_t d) const { return static_cast<int32_t>(m_.lets.size()) + d; }

}  // namespace stratum::checking
