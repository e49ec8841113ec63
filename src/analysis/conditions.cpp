// Analyser, conditions: a condition, a decision's values, a table row as
// boxes over the variables; `let`s and expressions linear in the inputs as
// variables of their own.
#include "analysis/analyser.hpp"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

namespace stratum::analysis {

// ---- linear values ----------------------------------------------------------

void Analyser::find_linear_sides(int32_t node, int depth) {
  if (depth > 64) return;
  const eval::Node& n = p_.nodes[node];
  if (n.op == Op::and_ || n.op == Op::or_) {
    find_linear_sides(n.a, depth + 1);
    find_linear_sides(n.b, depth + 1);
  } else if (n.op == Op::not_) {
    find_linear_sides(n.a, depth + 1);
  } else if (n.op == Op::cmp_num) {
    for (int32_t side : {n.a, n.b}) {
      Op op = p_.nodes[side].op;
      if (op == Op::field || op == Op::constant || op == Op::derived) continue;
      auto lin = linear(side, 0);
      if (!lin || lin->terms.empty()) continue;
      Var v = make_var("expression", Type::of(BaseType::decimal), false, true, nullptr);
      v.expr_node = side;
      linear_vars_.push_back({static_cast<int32_t>(vars_.size()), *lin});
      vars_.push_back(v);
    }
  }
}

std::optional<Linear> Analyser::linear(int32_t node, int depth) const {
  if (depth > 32) return std::nullopt;
  const eval::Node& n = p_.nodes[node];
  try {
    switch (n.op) {
      case Op::constant: { Linear l; l.constant = Decimal::from_raw(n.constant.n); return l; }
      case Op::field: {
        const auto& f = p_.fields[n.index];
        if (!f.type.is_number_like() || f.optional) return std::nullopt;
        Linear l;
        l.terms.push_back({n.index, Decimal::from_int(1)});
        return l;
      }
      case Op::coalesce: {
        const eval::Node& a = p_.nodes[n.a];
        const eval::Node& b = p_.nodes[n.b];
        if (a.op != Op::field || b.op != Op::constant || !p_.fields[a.index].type.is_number_like()) return std::nullopt;
        Linear l;
        l.terms.push_back({a.index, Decimal::from_int(1)});
        l.defaults.push_back({a.index, Decimal::from_raw(b.constant.n)});
        return l;
      }
      case Op::derived: {
        const auto& d = p_.derived[n.index - p_.fields.size()];
        if (d.kind != eval::DerivedKind::let) return std::nullopt;
        return linear(d.node, depth + 1);
      }
      case Op::add:
      case Op::sub: {
        auto a = linear(n.a, depth + 1), b = linear(n.b, depth + 1);
        if (!a || !b) return std::nullopt;
        Decimal sign = Decimal::from_int(n.op == Op::add ? 1 : -1);
        a->constant = a->constant + sign * b->constant;
        for (auto [f, c] : b->terms) add_term(*a, f, sign * c);
        a->defaults.insert(a->defaults.end(), b->defaults.begin(), b->defaults.end());
        return a;
      }
      case Op::neg: {
        auto a = linear(n.a, depth + 1);
        if (!a) return std::nullopt;
        return scale(*a, Decimal::from_int(-1));
      }
      case Op::mul: {
        const eval::Node& a = p_.nodes[n.a];
        const eval::Node& b = p_.nodes[n.b];
        if (b.op == Op::constant) { auto l = linear(n.a, depth + 1); if (!l) return std::nullopt; return scale(*l, Decimal::from_raw(b.constant.n)); }
        if (a.op == Op::constant) { auto l = linear(n.b, depth + 1); if (!l) return std::nullopt; return scale(*l, Decimal::from_raw(a.constant.n)); }
        return std::nullopt;
      }
      case Op::div: {
        // By a constant only. The form serves to build counter-examples,
        // which are evaluated before they are shown, so rounding here is harmless.
        const eval::Node& b = p_.nodes[n.b];
        if (b.op != Op::constant || b.constant.n == 0) return std::nullopt;
        auto l = linear(n.a, depth + 1);
        if (!l) return std::nullopt;
        return scale(*l, Decimal::from_int(1) / Decimal::from_raw(b.constant.n));
      }
      default: return std::nullopt;
    }
  } catch (const ArithmeticError&) {
    return std::nullopt;
  }
}

void Analyser::add_term(Linear& l, int32_t field, Decimal c) {
  for (auto& [f, k] : l.terms) {
    if (f == field) { k = k + c; return; }
  }
  l.terms.push_back({field, c});
}

Linear Analyser::scale(Linear l, Decimal k) {
  l.constant = l.constant * k;
  for (auto& [f, c] : l.terms) c = c * k;
  return l;
}

int32_t Analyser::linear_var_of(int32_t node) const {
  const eval::Node& n = p_.nodes[node];
  for (const auto& [var, lin] : linear_vars_) {
    if (n.op == Op::derived ? vars_[var].let_slot == n.index : vars_[var].expr_node == node) return var;
  }
  return -1;
}

int32_t Analyser::atom_var(int32_t field, int32_t member) const {
  const auto& f = p_.fields[field];
  if (f.type.base == BaseType::text && member >= 0 && static_cast<size_t>(member) < f.known_members.size()) {
    // The program's text number → this analysis' membership variable.
    const auto& texts = members_[field];
    member = static_cast<int32_t>(std::find(texts.begin(), texts.end(), f.known_members[member]) - texts.begin());
  }
  for (int32_t a : atom_) {
    if (vars_[a].set_field == field && vars_[a].member == member) return a;
  }
  return -1;
}

// ---- conditions → boxes -----------------------------------------------------

int32_t Analyser::var_of(int32_t node) const {
  const eval::Node& n = p_.nodes[node];
  if (n.op == Op::field) return n.index;
  return -1;
}

Dom Analyser::present_dom(const Var& v) const {
  Dom d = v.universe;
  d.missing = false;
  return d;
}

Boxes Analyser::compare(int32_t var, Cmp cmp, const Value& k, bool flipped) {
  const Var& v = vars_[var];
  if (v.kind == Kind::opaque) throw Unknown{fmt::format("`{}` is compared in a way the analysis does not model", v.name)};
  if (flipped) {
    switch (cmp) {
      case Cmp::lt: cmp = Cmp::gt; break;
      case Cmp::le: cmp = Cmp::ge; break;
      case Cmp::gt: cmp = Cmp::lt; break;
      case Cmp::ge: cmp = Cmp::le; break;
      default: break;
    }
  }
  if (v.kind == Kind::text) {
    if (cmp != Cmp::eq && cmp != Cmp::ne) throw Unknown{"texts are compared only for equality"};
    Dom d = present_dom(v);
    d.text_in = cmp == Cmp::eq;
    d.texts = {k.s};
    return {with(var, d)};
  }
  if (cmp == Cmp::ne) {
    Boxes out;
    for (Cmp c : {Cmp::lt, Cmp::gt}) {
      for (auto& b : compare(var, c, k, false)) out.push_back(std::move(b));
    }
    return out;
  }
  Dom d = present_dom(v);
  if (v.kind == Kind::mask) {
    unsigned __int128 m = 0;
    for (int32_t code = 0; code < v.codes; ++code) {
      int128 c = code;
      bool ok = cmp == Cmp::eq ? c == k.n : cmp == Cmp::lt ? c < k.n : cmp == Cmp::le ? c <= k.n : cmp == Cmp::gt ? c > k.n : c >= k.n;
      if (ok) m |= static_cast<unsigned __int128>(1) << code;
    }
    d.mask &= m;
    return {with(var, d)};
  }
  TestKind kind = cmp == Cmp::eq ? TestKind::eq : cmp == Cmp::lt ? TestKind::lt : cmp == Cmp::le ? TestKind::le
                : cmp == Cmp::gt ? TestKind::gt : TestKind::ge;
  auto iv = interval_of(kind, k.n, 0, true, true);
  d.lo = std::max(d.lo, iv->first);
  d.hi = std::min(d.hi, iv->second);
  return {with(var, d)};
}

Boxes Analyser::condition(int32_t node, int depth) {
  if (depth > 64) throw Unknown{"the condition is nested too deeply to analyse"};
  const eval::Node& n = p_.nodes[node];
  switch (n.op) {
    case Op::constant: return n.constant.n ? Boxes{universe()} : Boxes{};
    case Op::and_: return intersect(condition(n.a, depth + 1), condition(n.b, depth + 1));
    case Op::or_: {
      Boxes a = condition(n.a, depth + 1), b = condition(n.b, depth + 1);
      a.insert(a.end(), b.begin(), b.end());
      return a;
    }
    case Op::not_: return subtract(Boxes{universe()}, condition(n.a, depth + 1));
    case Op::field: {
      const Var& v = vars_[n.index];
      if (v.type.base != BaseType::boolean || v.type.is_set) break;
      Dom d = present_dom(v);
      d.mask = 2;  // true
      return {with(n.index, d)};
    }
    case Op::derived: {
      const auto& d = p_.derived[n.index - p_.fields.size()];
      if (d.kind == eval::DerivedKind::let && d.type.base == BaseType::boolean && !d.type.is_set) {
        return condition(d.node, depth + 1);
      }
      if (d.type.base == BaseType::boolean && !d.type.is_set) {
        return decision_where(n.index, [](const Value& v) { return v.n != 0; }, depth);
      }
      throw Unknown{fmt::format("it depends on `{}`, which the analysis treats as unknown", d.name)};
    }
    case Op::set_has_bit:
    case Op::set_has: {
      int32_t field = var_of(n.a);
      int32_t member = n.op == Op::set_has_bit ? n.index
                       : (n.b >= 0 && p_.nodes[n.b].op == Op::constant && !n.text) ? static_cast<int32_t>(p_.nodes[n.b].constant.n) : -1;
      int32_t var = field >= 0 && member >= 0 ? atom_var(field, member) : -1;
      if (var < 0) throw Unknown{"it tests set membership the analysis does not model"};
      Dom d = vars_[var].universe;
      d.mask = n.negated ? 1 : 2;
      Box b = with(var, d);
      b[field].missing = false;  // a set is never missing when tested
      return {b};
    }
    case Op::cmp_num:
    case Op::cmp_text: {
      int32_t va = var_of(n.a), vb = var_of(n.b);
      const eval::Node& a = p_.nodes[n.a];
      const eval::Node& b = p_.nodes[n.b];
      if (va < 0) va = linear_var_of(n.a);
      if (vb < 0) vb = linear_var_of(n.b);
      if (va >= 0 && b.op == Op::constant) return compare(va, n.cmp, b.constant, false);
      if (vb >= 0 && a.op == Op::constant) return compare(vb, n.cmp, a.constant, true);
      // A decision compared with a constant: the customers for whom its value compares so.
      if (n.op == Op::cmp_num && a.op == Op::derived && b.op == Op::constant) {
        Value k = b.constant;
        Cmp cmp = n.cmp;
        return decision_where(a.index, [k, cmp](const Value& v) { return holds(cmp, v.n, k.n); }, depth);
      }
      if (n.op == Op::cmp_num && b.op == Op::derived && a.op == Op::constant) {
        Value k = a.constant;
        Cmp cmp = n.cmp;
        return decision_where(b.index, [k, cmp](const Value& v) { return holds(cmp, k.n, v.n); }, depth);
      }
      if (n.op == Op::cmp_num) {
        if (auto counted = set_size_region(n)) return *counted;
        if (a.op == Op::set_size || b.op == Op::set_size)
          throw Unknown{"it counts the members of a set: the analysis models whether a set of enum values is empty, not how many it holds"};
      }
      throw Unknown{"it compares values that are not linear in the inputs"};
    }
    case Op::present: {
      int32_t var = var_of(n.a);
      if (var < 0) throw Unknown{"it tests whether a computed value is present"};
      Dom d = vars_[var].universe;
      if (n.negated) { d.present = false; } else { d.missing = false; }
      return {with(var, d)};
    }
    case Op::in_set: {
      int32_t var = var_of(n.a);
      if (var < 0 && p_.nodes[n.a].op == Op::derived && !p_.sets[n.index].text) {
        const auto& set = p_.sets[n.index];
        bool negated = n.negated;
        return decision_where(p_.nodes[n.a].index, [&set, negated](const Value& v) { return set.contains(v) != negated; }, depth);
      }
      if (var < 0) throw Unknown{"it tests membership of a computed value"};
      const Var& v = vars_[var];
      const auto& set = p_.sets[n.index];
      Dom d = present_dom(v);
      if (v.kind == Kind::mask && !set.text) {
        unsigned __int128 m = mask_of(set, v);
        d.mask &= n.negated ? ~m : m;
      } else if (v.kind == Kind::text && set.text) {
        d.text_in = !n.negated;
        d.texts = set.texts;
      } else if (v.kind == Kind::interval && !set.text) {
        Boxes points = points_of(var, set);
        return n.negated ? subtract(Boxes{with(var, d)}, points) : points;
      } else {
        throw Unknown{"it tests set membership the analysis does not model"};
      }
      return {with(var, d)};
    }
    default: break;
  }
  throw Unknown{"it uses arithmetic or functions the analysis does not model"};
}

// `s is empty`, `size(s) op k` over a set<enum> field: the sizes that pass
// are none, all, only 0 or all but 0, each a region of its member atoms.
// Anything else (a set of texts, which may hold texts the rules never name;
// sizes in between) is left to the caller (not modelled).
std::optional<Boxes> Analyser::set_size_region(const eval::Node& n) const {
  const eval::Node& a = p_.nodes[n.a];
  const eval::Node& b = p_.nodes[n.b];
  auto field_counted = [&](const eval::Node& x) {
    return x.op == Op::set_size && !x.text && p_.nodes[x.a].op == Op::field ? p_.nodes[x.a].index : -1;
  };
  int32_t field = field_counted(a);
  bool size_left = field >= 0;
  if (!size_left) field = field_counted(b);
  const eval::Node& k = size_left ? b : a;
  if (field < 0 || k.op != Op::constant) return std::nullopt;
  const auto& f = p_.fields[field];
  int32_t members = static_cast<int32_t>(p_.enums[f.type.enum_id].members.size());
  auto passes = [&](int32_t count) {
    int128 c = Decimal::from_int(count).raw();
    return size_left ? holds(n.cmp, c, k.constant.n) : holds(n.cmp, k.constant.n, c);
  };
  bool zero = passes(0), some = false, all = true;
  for (int32_t c = 1; c <= members; ++c) {
    some = some || passes(c);
    all = all && passes(c);
  }
  Box present = universe();
  present[field].missing = false;
  Box none = present;  // every member atom false
  for (int32_t atom : atom_) {
    if (vars_[atom].set_field != field) continue;
    none[atom].mask = 1;
  }
  if (zero && all) return Boxes{present};
  if (!zero && !some) return Boxes{};
  if (zero && !some) return Boxes{none};
  if (!zero && all) return subtract(Boxes{present}, Boxes{none});
  return std::nullopt;
}

bool Analyser::holds(Cmp c, int128 a, int128 b) {
  switch (c) {
    case Cmp::eq: return a == b;
    case Cmp::ne: return a != b;
    case Cmp::lt: return a < b;
    case Cmp::le: return a <= b;
    case Cmp::gt: return a > b;
    case Cmp::ge: return a >= b;
  }
  return false;
}

// The customers for whom decision `slot` has a value satisfying `pred`.
Boxes Analyser::decision_where(int32_t slot, const std::function<bool(const Value&)>& pred, int depth) {
  const std::vector<std::pair<Boxes, Value>>* parts = nullptr;
  try {
    // A value held by a stability rule may be the previous period's: any value, whatever the fields.
    if (p_.derived[slot - p_.fields.size()].stability >= 0) throw Unknown{"it is held by its stability rule"};
    parts = &partition(slot, depth);
  } catch (const Unknown&) {
    // Its regions are not known: its value, as a variable of its own.
    size_t d = slot - p_.fields.size();
    if (out_of_time_ || decision_var_[d] < 0) throw;
    int32_t var = decision_var_[d];
    const Var& v = vars_[var];
    Dom dom = present_dom(v);
    unsigned __int128 m = 0;
    for (int32_t code = 0; code < v.codes; ++code) {
      Value x;
      x.n = code;
      if (pred(x)) m |= static_cast<unsigned __int128>(1) << code;
    }
    dom.mask &= m;
    return {with(var, dom)};
  }
  Boxes out;
  for (const auto& [region, value] : *parts) {
    if (pred(value)) out.insert(out.end(), region.begin(), region.end());
  }
  return out;
}

// The value of an enum or boolean node as regions of customers: a
// constant everywhere; a decision's regions; `min`/`max` of such, region by
// region. Unknown for anything else.
std::vector<std::pair<Boxes, Value>> Analyser::node_partition(int32_t node, const std::string& of, int depth) {
  if (depth > 32) throw Unknown{"the values are nested too deeply to analyse"};
  const eval::Node& n = p_.nodes[node];
  if (n.op == Op::constant) return {{Boxes{universe()}, n.constant}};
  if (n.op == Op::derived && n.index >= static_cast<int32_t>(p_.fields.size())) {
    const auto& der = p_.derived[n.index - p_.fields.size()];
    if (der.stability >= 0) throw Unknown{fmt::format("`{}` is held by its stability rule: any of its values, whatever the fields", der.name)};
    if (!der.type.is_set && (der.type.base == BaseType::enum_ || der.type.base == BaseType::boolean)) return partition(n.index, depth);
  }
  if ((n.op == Op::min || n.op == Op::max) && n.count > 0) {
    auto acc = node_partition(p_.args[n.index], of, depth + 1);
    for (int32_t k = 1; k < n.count; ++k) {
      auto next = node_partition(p_.args[n.index + k], of, depth + 1);
      std::vector<std::pair<Boxes, Value>> joined;
      for (const auto& [ra, va] : acc) {
        for (const auto& [rb, vb] : next) {
          tick();
          Boxes both = intersect(ra, rb);
          if (both.empty()) continue;
          if (eval::is_missing(va) || eval::is_missing(vb)) throw Unknown{fmt::format("it depends on `{}`, whose results may be missing", of)};
          bool a_wins = n.op == Op::max ? va.n >= vb.n : va.n <= vb.n;
          joined.push_back({std::move(both), a_wins ? va : vb});
        }
      }
      acc = std::move(joined);
    }
    return acc;
  }
  throw Unknown{fmt::format("it depends on `{}`, whose results are computed", of)};
}

std::pair<unsigned __int128, bool> Analyser::possible_values_of_derived(size_t d, int depth) const {
  const auto& der = p_.derived[d];
  unsigned __int128 all = der.type.base == BaseType::boolean ? 3 : der.type.base == BaseType::enum_
      ? (static_cast<unsigned __int128>(1) << p_.enums[der.type.enum_id].members.size()) - 1 : 0;
  if (depth > 16 || der.type.is_set) return {all, true};
  unsigned __int128 mask = 0;
  bool missing = false;
  auto add = [&](int32_t node) {
    auto [m, miss] = possible_values(node, depth + 1);
    mask |= m;
    missing = missing || miss;
  };
  if (der.kind == eval::DerivedKind::decide) {
    for (const auto& b : der.branches) if (b.result >= 0) add(b.result);
  } else if (der.kind == eval::DerivedKind::table) {
    const auto& tab = p_.tables[der.table];
    bool single = tab.policy == eval::HitPolicy::unique || tab.policy == eval::HitPolicy::first ||
                  tab.policy == eval::HitPolicy::any || tab.policy == eval::HitPolicy::priority;
    if (!single) return {all, true};
    for (const auto& r : tab.rows) add(r.outputs[der.column]);
    if (tab.has_else) add(tab.else_outputs[der.column]);
    missing = missing || tab.propagate_missing;
  } else if (der.kind == eval::DerivedKind::let) {
    add(der.node);
  } else {
    return {all, true};
  }
  return {mask & all, missing};
}

std::pair<unsigned __int128, bool> Analyser::possible_values(int32_t node, int depth) const {
  const eval::Node& n = p_.nodes[node];
  if (n.op == Op::constant) {
    if (eval::is_missing(n.constant)) return {0, true};
    if (n.constant.n < 0 || n.constant.n >= 128) return {~static_cast<unsigned __int128>(0), true};
    return {static_cast<unsigned __int128>(1) << static_cast<int>(n.constant.n), false};
  }
  if (n.op == Op::derived && n.index >= static_cast<int32_t>(p_.fields.size())) {
    return possible_values_of_derived(n.index - p_.fields.size(), depth);
  }
  if (n.op == Op::field) return {~static_cast<unsigned __int128>(0), p_.fields[n.index].optional};
  if ((n.op == Op::min || n.op == Op::max) && depth <= 16) {  // one of its arguments
    unsigned __int128 mask = 0;
    bool missing = false;
    for (int32_t k = 0; k < n.count; ++k) {
      auto [m, miss] = possible_values(p_.args[n.index + k], depth + 1);
      mask |= m;
      missing = missing || miss;
    }
    return {mask, missing};
  }
  return {~static_cast<unsigned __int128>(0), true};  // anything
}

// Decision `slot` as regions of customers with the constant value each gets
// (first-hit decision lists and tables over fields, with constant results).
const std::vector<std::pair<Boxes, Value>>& Analyser::partition(int32_t slot, int depth) {
  size_t d = slot - p_.fields.size();
  if (partitions_.size() < p_.derived.size()) {
    partitions_.resize(p_.derived.size());
    partition_busy_.resize(p_.derived.size(), 0);
  }
  if (partitions_[d]) return *partitions_[d];
  const auto& der = p_.derived[d];
  if (partition_busy_[d]) throw Unknown{fmt::format("`{}` depends on itself", der.name)};
  partition_busy_[d] = 1;
  struct Done {
    std::vector<uint8_t>& busy;
    size_t d;
    ~Done() { busy[d] = 0; }
  } done{partition_busy_, d};
  std::vector<std::pair<Boxes, Value>> parts;
  Boxes left{universe()};
  // The customers of `reach` by the value `node` gives them.
  auto add_parts = [&](const Boxes& reach, int32_t node) {
    for (auto& [region, value] : node_partition(node, der.name, depth + 1)) {
      Boxes both = intersect(reach, region);
      if (!both.empty()) parts.push_back({std::move(both), value});
    }
  };
  if (der.kind == eval::DerivedKind::let) {
    add_parts(left, der.node);
  } else if (der.kind == eval::DerivedKind::decide) {
    for (const auto& b : der.branches) {
      Boxes c = b.condition < 0 ? left : condition(b.condition, depth + 1);
      Boxes reach = b.condition < 0 ? left : intersect(left, c);
      if (b.result >= 0 && !reach.empty()) add_parts(reach, b.result);
      if (b.condition < 0) break;
      left = subtract(left, c);
    }
  } else if (der.kind == eval::DerivedKind::table && p_.tables[der.table].policy == eval::HitPolicy::first &&
             !p_.tables[der.table].has_else) {
    const auto& tab = p_.tables[der.table];
    std::vector<int32_t> column_vars;
    for (int32_t col : tab.columns) {
      int32_t v = var_of(col);
      if (v < 0 || tab.propagate_missing) throw Unknown{fmt::format("it depends on `{}`, whose columns are computed", der.name)};
      column_vars.push_back(v);
    }
    for (const auto& r : tab.rows) {
      Boxes c = row(tab, r, column_vars);
      Boxes reach = intersect(left, c);
      if (!reach.empty()) add_parts(reach, r.outputs[der.column]);
      left = subtract(left, c);
    }
  } else {
    throw Unknown{fmt::format("it depends on `{}`, which the analysis treats as unknown", der.name)};
  }
  partitions_[d] = std::move(parts);
  return *partitions_[d];
}

// The codes of a boolean's or an enum's values a set holds.
unsigned __int128 Analyser::mask_of(const eval::ConstSet& set, const Var& v) {
  unsigned __int128 m = 0;
  for (int32_t code = 0; code < v.codes; ++code) {
    Value x;
    x.n = code;
    if (set.contains(x)) m |= static_cast<unsigned __int128>(1) << code;
  }
  return m;
}

// A set of numbers or dates: one box a value, each with `var` present
// and equal to it (values outside its domain left out).
Boxes Analyser::points_of(int32_t var, const eval::ConstSet& set) const {
  const Var& v = vars_[var];
  Boxes out;
  for (int128 k : set.numbers) {
    Dom e = present_dom(v);
    e.lo = std::max(e.lo, k);
    e.hi = std::min(e.hi, k);
    if (empty(e, v)) continue;
    out.push_back(with(var, e));
  }
  return out;
}

// A table row as boxes over the columns' variables.
namespace {
bool may_be_missing(const eval::Table& t, int32_t column) {
  return column >= 0 && static_cast<size_t>(column) < t.column_may_be_missing.size() && t.column_may_be_missing[column];
}
}  // namespace

Boxes Analyser::row(const eval::Table& t, const eval::Row& r, const std::vector<int32_t>& column_vars) {
  Box b = universe();
  for (const auto& c : r.tests) {
    int32_t var = column_vars[c.column];
    const Var& v = vars_[var];
    Dom d = present_dom(v);
    if (v.kind == Kind::opaque) throw Unknown{fmt::format("column `{}` has a type the analysis does not model", v.name)};
    if (c.low_node >= 0 || c.high_node >= 0) throw Unknown{"a cell's bound is computed"};
    switch (c.kind) {
      case TestKind::any: continue;
      case TestKind::missing:  // the customers without the value
        b[var].present = false;
        if (!b[var].missing) return {};
        continue;
      case TestKind::in_set:
      case TestKind::not_in_set: {
        const auto& set = p_.sets[c.set];
        // `not {…}` on a column written `x?` holds for a missing value too.
        if (c.kind == TestKind::not_in_set && may_be_missing(t, c.column)) d.missing = b[var].missing;
        if (v.kind == Kind::mask) {
          unsigned __int128 m = mask_of(set, v);
          d.mask &= c.kind == TestKind::in_set ? m : ~m;
        } else if (v.kind == Kind::text) {
          d.text_in = c.kind == TestKind::in_set;
          d.texts = set.texts;
        } else {
          continue;  // numbers or dates: below, as points
        }
        break;
      }
      case TestKind::ne:
        continue;  // below, as a subtraction
      default: {
        if (v.kind == Kind::text) {
          if (c.kind != TestKind::eq) throw Unknown{"texts are compared only for equality"};
          d.text_in = true;
          d.texts = {c.low.s};
        } else if (v.kind == Kind::mask) {
          unsigned __int128 m = 0;
          for (int32_t code = 0; code < v.codes; ++code) {
            int128 x = code;
            bool ok = c.kind == TestKind::eq ? x == c.low.n : c.kind == TestKind::lt ? x < c.low.n : c.kind == TestKind::le ? x <= c.low.n
                    : c.kind == TestKind::gt ? x > c.low.n : c.kind == TestKind::ge ? x >= c.low.n
                    : (c.low_closed ? x >= c.low.n : x > c.low.n) && (c.high_closed ? x <= c.high.n : x < c.high.n);
            if (ok) m |= static_cast<unsigned __int128>(1) << code;
          }
          d.mask &= m;
        } else {
          auto iv = interval_of(c.kind, c.low.n, c.high.n, c.low_closed, c.high_closed);
          d.lo = std::max(d.lo, iv->first);
          d.hi = std::min(d.hi, iv->second);
        }
      }
    }
    b[var] = meet(b[var], d, v);
    if (empty(b[var], v)) return {};
  }
  Boxes out{b};
  // Sets of numbers or dates: `{…}` keeps the points it names, `not {…}`
  // takes them away (with a missing value, unless the column is `x?`).
  for (const auto& c : r.tests) {
    if (c.kind != TestKind::in_set && c.kind != TestKind::not_in_set) continue;
    int32_t var = column_vars[c.column];
    if (vars_[var].kind != Kind::interval) continue;
    Boxes points = points_of(var, p_.sets[c.set]);
    if (c.kind == TestKind::in_set) {
      out = intersect(out, points);
      continue;
    }
    out = subtract(out, points);
    Box missing = universe();
    missing[var].present = false;
    if (missing[var].missing && !may_be_missing(t, c.column)) out = subtract(out, Boxes{missing});
  }
  // `!= k` cells: the present values other than k.
  for (const auto& c : r.tests) {
    if (c.kind != TestKind::ne) continue;
    int32_t var = column_vars[c.column];
    const Var& v = vars_[var];
    if (c.low_node >= 0) throw Unknown{"a cell's bound is computed"};
    Box point = universe();
    Dom e = present_dom(v);
    if (v.kind == Kind::text) { e.text_in = true; e.texts = {c.low.s}; }
    else if (v.kind == Kind::mask) e.mask &= static_cast<unsigned __int128>(1) << static_cast<int>(c.low.n);
    else { e.lo = c.low.n; e.hi = c.low.n; }
    point[var] = e;
    Box missing = universe();
    missing[var].present = false;
    if (!missing[var].missing || may_be_missing(t, c.column)) missing.clear();  // `x?`: a missing value is not k
    out = subtract(out, Boxes{point});
    if (!missing.empty()) out = subtract(out, Boxes{missing});
  }
  return out;
}

}  // namespace stratum::analysis
