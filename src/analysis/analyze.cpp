// The analysis works on boxes: one constraint per input field (an interval of
// exact values, a set of enum codes or booleans, a set of texts or its
// complement, and whether "missing" is allowed). A condition becomes a union
// of boxes; "no earlier row applies" is a subtraction of boxes. Walking the
// rows of a first-hit table once, subtracting each row's boxes from what is
// left, gives at each row the customers that reach it (empty: unreachable)
// and at the end the customers that no row takes (non-empty without a
// catch-all: a gap). Columns that are computed, not read, are variables of
// their own: a proof over all their values holds for the values the customers
// really produce, but a gap found there is only a "could not prove".
#include "analysis/analyze.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <optional>

#include <fmt/format.h>

namespace stratum {

namespace {

using eval::Cmp;
using eval::Op;
using eval::Program;
using eval::TestKind;
using eval::Value;

// Every number the rules or the data can hold lies in [kLow, kHigh]: the
// exact range of Decimal, so "no value beyond" is a fact, not a cap.
constexpr int128 kLow = -Decimal::kMaxRaw;
constexpr int128 kHigh = Decimal::kMaxRaw;
constexpr size_t kMaxBoxes = 20000;
constexpr int128 kScale = Decimal::kScale;

enum class Kind { interval, mask, text, opaque };

struct Dom {
  bool missing = false;  // "missing" allowed
  bool present = true;   // present values allowed (then `values` below)
  int128 lo = kLow, hi = kHigh;
  unsigned __int128 mask = 0;
  bool text_in = false;  // text: in `texts` (true) or not in it (false)
  std::vector<std::string_view> texts;
};

using Box = std::vector<Dom>;
using Boxes = std::vector<Box>;

struct Unknown {
  std::string reason;
};

struct Var {
  std::string name;
  Type type;
  Kind kind;
  bool whole = false;   // int: multiples of the scale
  int32_t codes = 0;    // enum / bool
  Dom universe;
  bool field = true;    // false: a computed column
  int32_t set_field = -1;   // a membership atom: does set field `set_field` hold member `member`?
  int32_t member = -1;
  int32_t let_slot = -1;    // a `let` linear in the inputs: its value, a variable of its own
  int32_t expr_node = -1;   // or a linear expression written in a condition (`a + b < 1万`)
};

// A `let` linear in the inputs: constant + Σ coefficient × field (a missing
// optional field under `??` counts as its default).
struct Linear {
  Decimal constant;
  std::vector<std::pair<int32_t, Decimal>> terms;  // field slot → coefficient
  std::vector<std::pair<int32_t, Decimal>> defaults;  // field slot → value when missing (from `??`)
};

class Analyser {
 public:
  Analyser(const Program& p, Diagnostics& diags, std::chrono::milliseconds budget)
      : p_(p), diags_(diags), budget_(budget), deadline_(std::chrono::steady_clock::now() + budget) {
    for (const auto& f : p.fields) vars_.push_back(make_var(f.name, f.type, f.optional, true, &f));
    // Membership in a set field is a yes/no variable per member the rules test.
    for (size_t i = 0; i < p.fields.size(); ++i) {
      const auto& f = p.fields[i];
      if (!f.type.is_set) continue;
      size_t members = f.type.base == BaseType::enum_ ? p.enums[f.type.enum_id].members.size() : f.known_members.size();
      for (size_t m = 0; m < members; ++m) {
        Var v = make_var(f.name, Type::of(BaseType::boolean), false, true, nullptr);
        v.set_field = static_cast<int32_t>(i);
        v.member = static_cast<int32_t>(m);
        atom_.push_back(static_cast<int32_t>(vars_.size()));
        vars_.push_back(v);
      }
    }
    // Numeric `let`s linear in the inputs are variables of their own; a
    // counter-example then sets a field so the `let` takes the needed value.
    for (size_t d = 0; d < p.derived.size(); ++d) {
      const auto& der = p.derived[d];
      if (der.kind != eval::DerivedKind::let || !der.type.is_number_like()) continue;
      if (p.nodes[der.node].op == Op::constant) continue;
      auto lin = linear(der.node, 0);
      if (!lin || lin->terms.empty()) continue;
      Var v = make_var(der.name, der.type, false, true, nullptr);
      v.whole = false;
      v.let_slot = static_cast<int32_t>(p.fields.size() + d);
      linear_vars_.push_back({static_cast<int32_t>(vars_.size()), *lin});
      vars_.push_back(v);
    }
    // Linear expressions written inside conditions: the same, per expression.
    std::vector<int32_t> conditions;
    for (const auto& der : p.derived) {
      for (const auto& b : der.branches) if (b.condition >= 0) conditions.push_back(b.condition);
    }
    for (const auto& node : p.segment_nodes) {
      for (const auto& [c, child] : node.branches) if (c >= 0) conditions.push_back(c);
    }
    for (int32_t c : conditions) find_linear_sides(c, 0);
    base_vars_ = vars_.size();
  }

  void find_linear_sides(int32_t node, int depth) {
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

  std::optional<Linear> linear(int32_t node, int depth) const {
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

  static void add_term(Linear& l, int32_t field, Decimal c) {
    for (auto& [f, k] : l.terms) {
      if (f == field) { k = k + c; return; }
    }
    l.terms.push_back({field, c});
  }

  static Linear scale(Linear l, Decimal k) {
    l.constant = l.constant * k;
    for (auto& [f, c] : l.terms) c = c * k;
    return l;
  }

  int32_t linear_var_of(int32_t node) const {
    const eval::Node& n = p_.nodes[node];
    for (const auto& [var, lin] : linear_vars_) {
      if (n.op == Op::derived ? vars_[var].let_slot == n.index : vars_[var].expr_node == node) return var;
    }
    return -1;
  }

  int32_t atom_var(int32_t field, int32_t member) const {
    for (int32_t a : atom_) {
      if (vars_[a].set_field == field && vars_[a].member == member) return a;
    }
    return -1;
  }

  void run() {
    for (size_t d = 0; d < p_.derived.size(); ++d) {
      const auto& der = p_.derived[d];
      if (der.kind == eval::DerivedKind::decide) decide(static_cast<int32_t>(d));
    }
    for (size_t t = 0; t < p_.tables.size(); ++t) table(static_cast<int32_t>(t));
    if (!p_.segment_nodes.empty()) segment(0, Boxes{universe()});
  }

 private:
  const Program& p_;
  Diagnostics& diags_;
  std::vector<Var> vars_;
  std::vector<int32_t> atom_;  // the membership variables
  std::vector<std::pair<int32_t, Linear>> linear_vars_;  // variable → its definition
  size_t base_vars_ = 0;       // fields and membership atoms; computed columns come after
  // A decision's values as regions of customers, computed once when a condition uses it.
  std::vector<std::optional<std::vector<std::pair<Boxes, Value>>>> partitions_;
  std::vector<uint8_t> partition_busy_;
  std::deque<std::string> texts_;  // counter-example texts, kept alive
  std::chrono::milliseconds budget_;
  std::chrono::steady_clock::time_point deadline_;
  mutable uint64_t ticks_ = 0;
  mutable bool out_of_time_ = false;

  Var make_var(const std::string& name, const Type& t, bool optional, bool field, const eval::Field* f) {
    Var v;
    v.name = name;
    v.type = t;
    v.field = field;
    v.universe.missing = optional;
    if (t.is_set || t.base == BaseType::days || t.base == BaseType::months || t.base == BaseType::error) {
      v.kind = Kind::opaque;
    } else if (t.base == BaseType::boolean || t.base == BaseType::enum_) {
      v.kind = Kind::mask;
      v.codes = t.base == BaseType::boolean ? 2 : static_cast<int32_t>(p_.enums[t.enum_id].members.size());
      v.universe.mask = (static_cast<unsigned __int128>(1) << v.codes) - 1;
    } else if (t.base == BaseType::text) {
      v.kind = Kind::text;
      v.universe.text_in = false;
    } else {
      v.kind = Kind::interval;
      v.whole = t.base == BaseType::int_;
      if (f && f->domain) {
        auto d = interval_of(f->domain->kind, f->domain->low.n, f->domain->high.n, f->domain->low_closed, f->domain->high_closed);
        if (d) { v.universe.lo = d->first; v.universe.hi = d->second; }
      }
    }
    return v;
  }

  // The closed raw interval of a comparison with constants.
  static std::optional<std::pair<int128, int128>> interval_of(TestKind k, int128 low, int128 high, bool low_closed, bool high_closed) {
    switch (k) {
      case TestKind::ge: return std::make_pair(low, kHigh);
      case TestKind::gt: return std::make_pair(low + 1, kHigh);
      case TestKind::le: return std::make_pair(kLow, low);
      case TestKind::lt: return std::make_pair(kLow, low - 1);
      case TestKind::eq: return std::make_pair(low, low);
      case TestKind::range: return std::make_pair(low_closed ? low : low + 1, high_closed ? high : high - 1);
      default: return std::nullopt;
    }
  }

  Box universe() const {
    Box b;
    for (const auto& v : vars_) b.push_back(v.universe);
    return b;
  }

  // ---- one dimension ---------------------------------------------------------

  bool values_empty(const Dom& d, const Var& v) const {
    if (!d.present) return true;
    switch (v.kind) {
      case Kind::interval: {
        if (d.lo > d.hi) return true;
        if (!v.whole) return false;
        int128 first = ceil_to(d.lo, kScale);
        return first > d.hi;
      }
      case Kind::mask: return d.mask == 0;
      case Kind::text: return d.text_in && d.texts.empty();
      case Kind::opaque: return false;
    }
    return false;
  }
  bool empty(const Dom& d, const Var& v) const { return !d.missing && values_empty(d, v); }

  static int128 ceil_to(int128 x, int128 unit) {
    int128 q = x / unit;
    if (x % unit > 0) ++q;
    return q * unit;
  }
  // The greatest multiple of unit at or below x (division rounds toward
  // zero, which for negative x would be above it).
  static int128 floor_to(int128 x, int128 unit) {
    int128 q = x / unit;
    if (x % unit < 0) --q;
    return q * unit;
  }

  Dom meet(const Dom& a, const Dom& b, const Var& v) const {
    Dom r;
    r.missing = a.missing && b.missing;
    r.present = a.present && b.present;
    switch (v.kind) {
      case Kind::interval:
        r.lo = std::max(a.lo, b.lo);
        r.hi = std::min(a.hi, b.hi);
        break;
      case Kind::mask: r.mask = a.mask & b.mask; break;
      case Kind::text: {
        auto has = [](const std::vector<std::string_view>& s, std::string_view x) { return std::find(s.begin(), s.end(), x) != s.end(); };
        if (a.text_in && b.text_in) {
          r.text_in = true;
          for (auto x : a.texts) if (has(b.texts, x)) r.texts.push_back(x);
        } else if (a.text_in || b.text_in) {
          const Dom& in = a.text_in ? a : b;
          const Dom& out = a.text_in ? b : a;
          r.text_in = true;
          for (auto x : in.texts) if (!has(out.texts, x)) r.texts.push_back(x);
        } else {
          r.text_in = false;
          r.texts = a.texts;
          for (auto x : b.texts) if (!has(r.texts, x)) r.texts.push_back(x);
        }
        break;
      }
      case Kind::opaque: break;
    }
    return r;
  }

  // The parts of the variable's universe outside d, as disjoint pieces.
  std::vector<Dom> complement(const Dom& d, const Var& v) const {
    std::vector<Dom> out;
    const Dom& u = v.universe;
    if (u.missing && !d.missing) {
      Dom m = u;
      m.present = false;
      m.missing = true;
      out.push_back(m);
    }
    auto piece = [&]() {
      Dom x = u;
      x.missing = false;
      return x;
    };
    if (!d.present) {
      Dom x = piece();
      if (!values_empty(x, v)) out.push_back(x);
      return out;
    }
    switch (v.kind) {
      case Kind::interval: {
        if (d.lo > u.lo) { Dom x = piece(); x.hi = std::min(u.hi, d.lo - 1); if (!values_empty(x, v)) out.push_back(x); }
        if (d.hi < u.hi) { Dom x = piece(); x.lo = std::max(u.lo, d.hi + 1); if (!values_empty(x, v)) out.push_back(x); }
        break;
      }
      case Kind::mask: { Dom x = piece(); x.mask = u.mask & ~d.mask; if (x.mask) out.push_back(x); break; }
      case Kind::text: {
        Dom x = piece();
        x.text_in = !d.text_in;
        x.texts = d.texts;
        if (!values_empty(x, v)) out.push_back(x);
        break;
      }
      case Kind::opaque: break;
    }
    return out;
  }

  bool covers(const Dom& outer, const Dom& inner, const Var& v) const {
    for (const Dom& c : complement(outer, v)) {
      if (!empty(meet(c, inner, v), v)) return false;
    }
    return true;
  }

  // ---- boxes -----------------------------------------------------------------

  std::optional<Box> meet(const Box& a, const Box& b) const {
    Box r(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      r[i] = meet(a[i], b[i], vars_[i]);
      if (empty(r[i], vars_[i])) return std::nullopt;
    }
    return r;
  }

  // Called in the analysis' inner loops: past the time budget, what is
  // being proven is given up (Unknown), never waited for.
  void tick() const {
    if (++ticks_ % 1024 != 0) return;
    if (out_of_time_ || std::chrono::steady_clock::now() > deadline_) {
      out_of_time_ = true;
      throw Unknown{fmt::format("the analysis ran past its time budget ({} s for a rule file)", budget_.count() / 1000.0)};
    }
  }

  // a − b as disjoint boxes.
  Boxes subtract(const Box& a, const Box& b) const {
    tick();
    if (!meet(a, b)) return {a};
    Boxes out;
    Box prefix = a;
    for (size_t i = 0; i < a.size(); ++i) {
      if (covers(b[i], a[i], vars_[i])) continue;
      for (const Dom& c : complement(b[i], vars_[i])) {
        Dom part = meet(c, a[i], vars_[i]);
        if (empty(part, vars_[i])) continue;
        Box piece = prefix;
        piece[i] = part;
        out.push_back(std::move(piece));
      }
      prefix[i] = meet(a[i], b[i], vars_[i]);
    }
    return out;
  }

  Boxes subtract(const Boxes& from, const Boxes& what) const {
    Boxes cur = from;
    for (const Box& w : what) {
      Boxes next;
      for (const Box& c : cur) {
        for (auto& piece : subtract(c, w)) next.push_back(std::move(piece));
      }
      cur = std::move(next);
      if (cur.size() > kMaxBoxes) throw Unknown{"the conditions are too many to analyse"};
    }
    return cur;
  }

  Boxes intersect(const Boxes& a, const Boxes& b) const {
    Boxes out;
    for (const Box& x : a) {
      for (const Box& y : b) {
        tick();
        if (auto m = meet(x, y)) out.push_back(std::move(*m));
      }
      if (out.size() > kMaxBoxes) throw Unknown{"the conditions are too many to analyse"};
    }
    return out;
  }

  Box with(int32_t var, Dom d) const {
    Box b = universe();
    b[var] = meet(b[var], d, vars_[var]);
    return b;
  }

  // ---- conditions → boxes ------------------------------------------------------

  int32_t var_of(int32_t node) const {
    const eval::Node& n = p_.nodes[node];
    if (n.op == Op::field) return n.index;
    return -1;
  }

  Dom present_dom(const Var& v) const {
    Dom d = v.universe;
    d.missing = false;
    return d;
  }

  Boxes compare(int32_t var, Cmp cmp, const Value& k, bool flipped) {
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

  Boxes condition(int32_t node, int depth = 0) {
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
          return decision_where(p_.nodes[n.a].index, [&set, negated](const Value& v) {
            bool in = v.n >= 0 && v.n < 128 && ((set.mask >> static_cast<int>(v.n)) & 1);
            return in != negated;
          }, depth);
        }
        if (var < 0) throw Unknown{"it tests membership of a computed value"};
        const Var& v = vars_[var];
        const auto& set = p_.sets[n.index];
        Dom d = present_dom(v);
        if (v.kind == Kind::mask && !set.text) {
          d.mask &= n.negated ? ~static_cast<unsigned __int128>(set.mask) : static_cast<unsigned __int128>(set.mask);
        } else if (v.kind == Kind::text && set.text) {
          d.text_in = !n.negated;
          d.texts = set.texts;
        } else {
          throw Unknown{"it tests set membership the analysis does not model"};
        }
        return {with(var, d)};
      }
      default: break;
    }
    throw Unknown{"it uses arithmetic or functions the analysis does not model"};
  }

  static bool holds(Cmp c, int128 a, int128 b) {
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
  Boxes decision_where(int32_t slot, const std::function<bool(const Value&)>& pred, int depth) {
    const auto& parts = partition(slot, depth);
    Boxes out;
    for (const auto& [region, value] : parts) {
      if (pred(value)) out.insert(out.end(), region.begin(), region.end());
    }
    return out;
  }

  // Decision `slot` as regions of customers with the constant value each gets
  // (first-hit decision lists and tables over fields, with constant results).
  const std::vector<std::pair<Boxes, Value>>& partition(int32_t slot, int depth) {
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
    auto constant_of = [&](int32_t node) -> Value {
      if (node < 0 || p_.nodes[node].op != Op::constant) {
        throw Unknown{fmt::format("it depends on `{}`, whose results are computed", der.name)};
      }
      return p_.nodes[node].constant;
    };
    if (der.kind == eval::DerivedKind::decide) {
      for (const auto& b : der.branches) {
        Boxes c = b.condition < 0 ? left : condition(b.condition, depth + 1);
        Boxes reach = b.condition < 0 ? left : intersect(left, c);
        if (b.result >= 0 && !reach.empty()) parts.push_back({reach, constant_of(b.result)});
        if (b.condition < 0) break;
        left = subtract(left, c);
      }
    } else if (der.kind == eval::DerivedKind::table && p_.tables[der.table].policy == eval::HitPolicy::first) {
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
        if (!reach.empty()) parts.push_back({reach, constant_of(r.outputs[der.column])});
        left = subtract(left, c);
      }
    } else {
      throw Unknown{fmt::format("it depends on `{}`, which the analysis treats as unknown", der.name)};
    }
    partitions_[d] = std::move(parts);
    return *partitions_[d];
  }

  // A table row as boxes over the columns' variables.
  Boxes row(const eval::Table& t, const eval::Row& r, const std::vector<int32_t>& column_vars) {
    Box b = universe();
    for (const auto& c : r.tests) {
      int32_t var = column_vars[c.column];
      const Var& v = vars_[var];
      Dom d = present_dom(v);
      if (v.kind == Kind::opaque) throw Unknown{fmt::format("column `{}` has a type the analysis does not model", v.name)};
      if (c.low_node >= 0 || c.high_node >= 0) throw Unknown{"a cell's bound is computed"};
      switch (c.kind) {
        case TestKind::any: continue;
        case TestKind::in_set:
        case TestKind::not_in_set: {
          const auto& set = p_.sets[c.set];
          if (v.kind == Kind::mask) d.mask &= c.kind == TestKind::in_set ? static_cast<unsigned __int128>(set.mask) : ~static_cast<unsigned __int128>(set.mask);
          else if (v.kind == Kind::text) { d.text_in = c.kind == TestKind::in_set; d.texts = set.texts; }
          else throw Unknown{"a set of numbers in a cell"};
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
    // `!= k` cells: the present values other than k.
    Boxes out{b};
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
      if (!missing[var].missing) missing.clear();
      out = subtract(out, Boxes{point});
      if (!missing.empty()) out = subtract(out, Boxes{missing});
    }
    return out;
  }

  // ---- counter-examples ---------------------------------------------------------

  // A value inside the box for every field, valid under its domain, or nullopt
  // when the box needs a computed column's value (no customer can be built).
  struct Example {
    std::vector<Value> values;
    std::vector<uint8_t> present;
  };

  std::optional<Example> example(const Box& b) {
    Example ex;
    for (size_t i = 0; i < p_.fields.size(); ++i) {
      const Var& v = vars_[i];
      const Dom& d = b[i];
      if (values_empty(d, v)) {
        ex.values.push_back(eval::missing_value());
        ex.present.push_back(0);
        continue;
      }
      Value val;
      switch (v.kind) {
        case Kind::interval: {
          int128 unit = v.type.base == BaseType::date ? 1 : kScale;
          int128 pick;
          if (d.lo <= 0 && d.hi >= 0) pick = 0;
          else if (d.lo > 0) pick = ceil_to(d.lo, unit) <= d.hi ? ceil_to(d.lo, unit) : d.lo;
          else pick = floor_to(d.hi, unit) >= d.lo ? floor_to(d.hi, unit) : d.hi;
          if (v.type.base == BaseType::date && d.lo <= 19723 && d.hi >= 19723) pick = 19723;  // 2024-01-01
          val = {pick, {}};
          break;
        }
        case Kind::mask: {
          int32_t code = 0;
          while (!((d.mask >> code) & 1)) ++code;
          val = {code, {}};
          break;
        }
        case Kind::text: {
          if (d.text_in) {
            val = {0, d.texts.front()};
          } else {
            std::string t = "其他";
            for (int k = 1; std::find(d.texts.begin(), d.texts.end(), t) != d.texts.end(); ++k) t = fmt::format("其他{}", k);
            texts_.push_back(t);
            val = {0, texts_.back()};
          }
          break;
        }
        case Kind::opaque:
          val = {0, {}};
          break;
      }
      ex.values.push_back(val);
      ex.present.push_back(1);
    }
    // Linear `let`s: move one of their fields so each lands in its interval.
    for (const auto& [var, lin] : linear_vars_) {
      const Dom& want = b[var];
      const Var& v = vars_[var];
      if (covers(want, v.universe, v)) continue;
      if (!linear_fit(lin, want, b, ex)) return std::nullopt;
    }
    // Set fields: the members whose atom must be (or may be) held.
    for (size_t i = 0; i < p_.fields.size(); ++i) {
      const auto& f = p_.fields[i];
      if (!f.type.is_set || !ex.present[i]) continue;
      int128 mask = 0;
      std::string joined;
      for (int32_t a : atom_) {
        const Var& v = vars_[a];
        if (v.set_field != static_cast<int32_t>(i)) continue;
        bool hold = (b[a].mask & 2) && !(b[a].mask & 1);  // only "yes" allowed
        if (!hold) continue;
        mask |= static_cast<int128>(1) << v.member;
        if (f.type.base == BaseType::text) {
          if (!joined.empty()) joined += eval::kSetSeparator;
          joined += f.known_members[v.member];
        }
      }
      if (f.type.base == BaseType::text) {
        texts_.push_back(joined);
        ex.values[i] = {mask, texts_.back()};
      } else {
        ex.values[i] = {mask, {}};
      }
    }
    for (size_t i = base_vars_; i < vars_.size(); ++i) {
      if (!covers(b[i], vars_[i].universe, vars_[i])) return std::nullopt;  // needs a particular computed value
    }
    return ex;
  }

  Decimal linear_value(const Linear& lin, const Example& ex) const {
    Decimal v = lin.constant;
    for (auto [f, c] : lin.terms) {
      Decimal x = Decimal::from_raw(ex.values[f].n);
      if (!ex.present[f]) {
        for (auto [g, dflt] : lin.defaults) if (g == f) x = dflt;
      }
      v = v + c * x;
    }
    return v;
  }

  bool linear_fit(const Linear& lin, const Dom& want, const Box& b, Example& ex) {
    try {
      Decimal now = linear_value(lin, ex);
      if (now.raw() >= want.lo && now.raw() <= want.hi) return true;
      // A target inside the interval: a whole number near its low end if possible.
      int128 target = want.lo > kLow ? ceil_to(want.lo, kScale) : (want.hi / kScale) * kScale;
      if (target > want.hi || target < want.lo) target = want.lo > kLow ? want.lo : want.hi;
      for (auto [f, c] : lin.terms) {
        if (c.raw() == 0) continue;
        const Var& fv = vars_[f];
        if (!covers(b[f], present_dom(fv), fv)) continue;  // this field is constrained by the box: keep it
        Decimal x = Decimal::from_raw(ex.present[f] ? ex.values[f].n : 0);
        Decimal rest = now - c * x;
        Decimal need = (Decimal::from_raw(target) - rest) / c;
        if (fv.whole) need = need.round_half_up(0);
        if (need.raw() < fv.universe.lo || need.raw() > fv.universe.hi) continue;
        ex.values[f] = {need.raw(), {}};
        ex.present[f] = 1;
        Decimal after = linear_value(lin, ex);
        if (after.raw() >= want.lo && after.raw() <= want.hi) return true;
      }
    } catch (const ArithmeticError&) {
    }
    return false;
  }

  std::vector<ExampleValue> describe(const Example& ex) const {
    std::vector<ExampleValue> out;
    for (size_t i = 0; i < p_.fields.size(); ++i) {
      const auto& f = p_.fields[i];
      if (!ex.present[i]) {
        out.push_back({f.name, "missing", "null"});
        continue;
      }
      std::string text = p_.format(ex.values[i], f.type);
      if (f.type.is_set) {
        std::string json = "[";
        size_t start = 0;
        while (!text.empty() && start <= text.size()) {
          size_t end = text.find(';', start);
          if (end == std::string::npos) end = text.size();
          json += (json.size() > 1 ? "," : "") + ("\"" + json_escape(text.substr(start, end - start)) + "\"");
          start = end + 1;
        }
        json += "]";
        out.push_back({f.name, "{" + text + "}", json});
        continue;
      }
      bool number = !f.type.is_set && (f.type.base == BaseType::int_ || f.type.base == BaseType::decimal ||
                                       f.type.base == BaseType::money || f.type.base == BaseType::boolean);
      std::string shown = f.type.base == BaseType::money ? text + "元" : text;
      out.push_back({f.name, shown, number ? text : "\"" + json_escape(text) + "\""});
    }
    return out;
  }

  eval::Frame frame_of(const Example& ex) const {
    eval::Frame f = p_.make_frame();
    for (size_t i = 0; i < p_.fields.size(); ++i) {
      f.slots[i] = ex.values[i];
      f.state[i] = ex.present[i];
    }
    f.has_today = true;
    f.today = 19723;
    return f;
  }

  // True when evaluating `slot` for the customer fails for want of a row or branch.
  // The reason evaluating `slot` fails for the customer, or nothing when it
  // does not fail.
  std::optional<std::string> failure(const Example& ex, int32_t slot) const {
    eval::Frame f = frame_of(ex);
    try {
      p_.slot(f, slot);
    } catch (const eval::EvalError& e) {
      return std::string(e.what());
    }
    return std::nullopt;
  }

  // ---- findings -----------------------------------------------------------------

  // A gap is reported only with a customer for whom evaluation confirms it:
  // the failure names this very node (`where`: "no branch of `x`", …). A
  // customer rejected earlier, by another decision, shows no gap here; when
  // that is all the analysis finds, the finding is `not-proven`.
  void gap(Span at, const std::string& what, const Boxes& left, int32_t confirm_slot,
           const std::string& why = "the customers it leaves out depend on computed values", const std::string& where = {}) {
    std::string upstream;
    for (const Box& b : left) {
      auto ex = example(b);
      if (!ex) continue;
      if (confirm_slot >= 0) {
        auto failed = failure(*ex, confirm_slot);
        if (!failed) continue;
        std::string_view m = *failed;
        bool own = where.empty() ? (m.find("no row") != std::string_view::npos || m.find("no branch") != std::string_view::npos)
                                 : m.find(where) != std::string_view::npos;
        if (!own) {
          // Another node's gap took the customer first (not an arithmetic failure).
          bool other_gap = m.find("no row") != std::string_view::npos || m.find("no branch") != std::string_view::npos;
          if (upstream.empty() && other_gap) upstream = *failed;
          continue;
        }
      }
      auto& d = diags_.error("gap", at, fmt::format("{} applies to some customers, and there is no `else` or catch-all row", what));
      d.counterexample = describe(*ex);
      return;
    }
    std::string because = upstream.empty() ? why : fmt::format("the customers it seems to leave out are rejected before it: {}", upstream);
    could_not_prove(at, what.starts_with("no ") ? "a " + what.substr(3) : what, because);
  }

  void could_not_prove(Span at, const std::string& what, const std::string& why) {
    auto& d = diags_.warning("not-proven", at, fmt::format("could not prove that {} applies to every customer", what));
    d.notes.push_back({fmt::format("because {}; add an `else` (or a catch-all row) to make it total", why), {}});
  }

  // `shadowing`: customers the row's own condition describes; one of them
  // (all earlier ones take it) is shown, with the earlier row that does when known.
  // `applies`, when given, confirms that the row's own condition holds for a
  // customer before it is shown (the boxes may over-approximate it).
  Diagnostic& unreachable(Span at, bool never, const std::string& what, const Boxes& shadowed = {},
                          const std::function<std::string(const Example&)>& taker = nullptr,
                          const std::function<bool(const Example&)>& applies = nullptr) {
    auto& d = diags_.warning("unreachable", at,
                             never ? fmt::format("{} can never apply: its condition never holds for inputs in their domains", what)
                                   : fmt::format("{} can never apply: earlier ones take every customer it would", what));
    // Customers with every field present first: a missing value makes a
    // weaker example (the row's own condition cannot be evaluated for it).
    std::vector<const Box*> order;
    for (const Box& b : shadowed) {
      bool forces_missing = false;
      for (size_t i = 0; i < p_.fields.size() && i < b.size(); ++i) forces_missing = forces_missing || !b[i].present;
      if (!forces_missing) order.push_back(&b);
    }
    for (const Box& b : shadowed) {
      if (std::find(order.begin(), order.end(), &b) == order.end()) order.push_back(&b);
    }
    for (const Box* bp : order) {
      const Box& b = *bp;
      auto ex = example(b);
      if (!ex) continue;
      if (applies && !applies(*ex)) continue;
      // Shown only with the earlier row or branch that takes it, so the
      // customer really shows the finding (and is not rejected before).
      std::string who = taker ? taker(*ex) : std::string();
      if (taker && who.empty()) continue;
      d.counterexample = describe(*ex);
      if (!who.empty()) d.notes.push_back({who, {}});
      break;
    }
    return d;
  }

  // Input fields a condition reads other than through a presence test.
  void fields_compared(int32_t node, std::vector<int32_t>& out, int depth) const {
    if (node < 0 || depth > 200) return;
    const eval::Node& n = p_.nodes[node];
    if (n.op == Op::present) return;
    if (n.op == Op::field) {
      if (static_cast<size_t>(n.index) < p_.fields.size()) out.push_back(n.index);
      return;
    }
    if (n.op == Op::constant || n.op == Op::derived) return;
    fields_compared(n.a, out, depth + 1);
    fields_compared(n.b, out, depth + 1);
    if (n.op == Op::min || n.op == Op::max) {
      for (int32_t k = 0; k < n.count; ++k) fields_compared(p_.args[n.index + k], out, depth + 1);
    }
  }

  int32_t slot_of_derived(int32_t d) const { return static_cast<int32_t>(p_.fields.size()) + d; }

  // The line of the earlier branch of `der` that takes the customer.
  std::string branch_taking(const eval::Derived& der, const Example& ex, const eval::Branch* before) const {
    eval::Frame f = frame_of(ex);
    for (const auto& b : der.branches) {
      if (&b == before) break;
      try {
        if (b.condition < 0 || p_.evaluate_node(f, b.condition).n) {
          return fmt::format("for this customer the branch at line {} applies first", b.origin.line);
        }
      } catch (const eval::EvalError&) {
        return std::string();
      }
    }
    return std::string();
  }

  // A branch whose condition the analysis cannot model makes the customers
  // left for later branches an over-approximation: findings of later
  // branches stay sound (a branch unreachable even for the larger set is
  // unreachable), an empty remainder still proves the decision total, and a
  // gap is reported only when evaluation confirms it (else `not-proven`).
  void decide(int32_t d) {
    const auto& der = p_.derived[d];
    bool has_else = std::any_of(der.branches.begin(), der.branches.end(), [](auto& b) { return b.condition < 0; });
    Boxes left{universe()};
    bool known = true;
    std::string why;
    for (const auto& b : der.branches) {
      if (b.condition < 0) break;
      try {
        Boxes c = intersect(Boxes{universe()}, condition(b.condition));
        if (c.empty()) unreachable(b.origin.span, true, "this branch");
        else if (intersect(left, c).empty()) {
          unreachable(b.origin.span, false, "this branch", c, [&](const Example& ex) { return branch_taking(der, ex, &b); },
                      [&](const Example& ex) {
                        // A field the condition compares must be present for it to hold.
                        std::vector<int32_t> used;
                        fields_compared(b.condition, used, 0);
                        for (int32_t i : used) {
                          if (!ex.present[i]) return false;
                        }
                        eval::Frame f = frame_of(ex);
                        try {
                          return p_.evaluate_node(f, b.condition).n != 0;
                        } catch (const eval::EvalError&) {
                          return false;
                        }
                      });
        }
        left = subtract(left, c);
      } catch (const Unknown& u) {
        if (known) why = u.reason;
        known = false;
      }
    }
    if (has_else || left.empty()) return;
    std::string what = fmt::format("no branch of `{}`", der.name);
    std::string where = fmt::format("no branch of `{}` applies", der.name);
    if (!known) gap(der.span, what, left, slot_of_derived(d), why, where);
    else gap(der.span, what, left, slot_of_derived(d), "the customers it leaves out depend on computed values", where);
  }

  void table(int32_t t) {
    const eval::Table& tab = p_.tables[t];
    // Variables of the columns: the field it reads, or a variable of its own.
    std::vector<int32_t> column_vars;
    size_t added = 0;
    for (size_t c = 0; c < tab.columns.size(); ++c) {
      const eval::Node& n = p_.nodes[tab.columns[c]];
      if (n.op == Op::field) {
        column_vars.push_back(n.index);
      } else {
        Type type = n.op == Op::derived ? p_.derived[n.index - p_.fields.size()].type : Type{};
        bool optional = tab.propagate_missing;
        vars_.push_back(make_var(c < tab.column_names.size() ? tab.column_names[c] : "column", type, optional, false, nullptr));
        column_vars.push_back(static_cast<int32_t>(vars_.size() - 1));
        ++added;
      }
    }
    struct Cleanup {
      std::vector<Var>& vars;
      size_t n;
      ~Cleanup() { vars.resize(vars.size() - n); }
    } cleanup{vars_, added};
    Box space = universe();
    if (tab.propagate_missing) {
      // A missing column value gives no result, which is not a gap.
      for (int32_t v : column_vars) space[v].missing = false;
    }
    std::string what = fmt::format("no row of table `{}`", tab.name);
    try {
      std::vector<Boxes> rows;
      for (const auto& r : tab.rows) rows.push_back(row(tab, r, column_vars));
      bool first_like = tab.policy == eval::HitPolicy::first;
      // A row of `-` in every column applies to everyone: the table is total
      // whatever the rows before it leave.
      bool catch_all = std::any_of(tab.rows.begin(), tab.rows.end(), [](const eval::Row& r) {
        return std::all_of(r.tests.begin(), r.tests.end(), [](const eval::CellTest& c) { return c.kind == TestKind::any; });
      });
      Boxes left{space};
      bool left_known = true;
      std::string left_why;
      for (size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].empty()) {
          unreachable(tab.rows[r].span, true, "this row");
          continue;
        }
        if (!left_known) continue;
        try {
          bool shadowed = first_like && intersect(left, rows[r]).empty();
          left = subtract(left, rows[r]);
          if (!shadowed) continue;
        } catch (const Unknown& u) {
          left_known = false;
          left_why = u.reason;
          continue;
        }
        {
          unreachable(tab.rows[r].span, false, "this row", intersect(Boxes{space}, rows[r]), [&](const Example& ex) {
            eval::Frame f = frame_of(ex);
            for (size_t j = 0; j < r; ++j) {
              try {
                if (p_.row_applies(f, t, static_cast<int32_t>(j)))
                  return fmt::format("for this customer the row at line {} applies first", tab.row_lines[j]);
              } catch (const eval::EvalError&) {
              }
            }
            return std::string();
          }, [&](const Example& ex) {
            eval::Frame f = frame_of(ex);
            try {
              return p_.row_applies(f, t, static_cast<int32_t>(r));
            } catch (const eval::EvalError&) {
              return false;
            }
          });
        }
      }
      if (tab.policy == eval::HitPolicy::unique || tab.policy == eval::HitPolicy::any) overlaps(t, rows, column_vars);
      bool needs_match = !(tab.policy == eval::HitPolicy::collect &&
                           (tab.collect == eval::CollectOp::list || tab.collect == eval::CollectOp::sum ||
                            tab.collect == eval::CollectOp::count));
      if (needs_match && !catch_all) {
        int32_t confirm = tab.output_slots.empty() ? -1 : tab.output_slots[0];
        if (!left_known) could_not_prove(tab.span, fmt::format("a row of table `{}`", tab.name), left_why);
        else if (!left.empty()) {
          gap(tab.span, what, left, confirm, "the customers it leaves out depend on computed values",
              fmt::format("no row of table `{}`", tab.name));
        }
      }
    } catch (const Unknown& u) {
      could_not_prove(tab.span, fmt::format("a row of table `{}`", tab.name), u.reason);
    }
  }

  // Pairs of rows of a unique (or any) table that both apply to a customer.
  // Each finding comes with a customer for whom evaluation confirms it; a
  // pair whose regions meet but for which no such customer is found is
  // reported as not proven, never passed over.
  // Pairs of rows whose regions may meet: all pairs, or, when a column
  // separates the rows, only those whose ranges in it overlap (a sweep over
  // the rows sorted by their lower bound there). In (i, j) order.
  // Empty with `all` set: every pair i < j is a candidate (walked in place,
  // not stored).
  std::vector<std::pair<size_t, size_t>> candidate_pairs(const std::vector<Boxes>& rows, const std::vector<int32_t>& column_vars,
                                                         bool& all) const {
    constexpr size_t kMaxPairs = 1u << 22;
    all = false;
    std::vector<std::pair<size_t, size_t>> pairs;
    int32_t best = -1;
    size_t best_full = rows.size() + 1;
    std::vector<std::pair<int128, int128>> hull(rows.size());
    for (int32_t v : column_vars) {
      if (vars_[v].kind != Kind::interval) continue;
      size_t full = 0;
      for (const Boxes& r : rows) {
        for (const Box& b : r) {
          if (b[v].lo <= vars_[v].universe.lo && b[v].hi >= vars_[v].universe.hi) { ++full; break; }
        }
      }
      if (full < best_full) { best_full = full; best = v; }
    }
    if (best < 0 || best_full * 4 > rows.size()) {
      all = true;
      return pairs;
    }
    std::vector<size_t> order;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].empty()) continue;
      int128 lo = kHigh, hi = kLow;
      for (const Box& b : rows[i]) { lo = std::min(lo, b[best].lo); hi = std::max(hi, b[best].hi); }
      hull[i] = {lo, hi};
      order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return hull[a].first < hull[b].first; });
    std::vector<size_t> active;
    for (size_t i : order) {
      std::erase_if(active, [&](size_t a) { return hull[a].second < hull[i].first; });
      for (size_t a : active) {
        tick();
        pairs.push_back({std::min(a, i), std::max(a, i)});
      }
      if (pairs.size() > kMaxPairs) {
        all = true;
        return {};
      }
      active.push_back(i);
    }
    std::sort(pairs.begin(), pairs.end());
    return pairs;
  }

  void overlaps(int32_t t, const std::vector<Boxes>& rows, const std::vector<int32_t>& column_vars) {
    const eval::Table& tab = p_.tables[t];
    int reported = 0;
    std::optional<std::pair<size_t, size_t>> unsettled;
    auto gave_up = [&](const Unknown& u) {
      auto& d = diags_.warning("not-proven", tab.span, fmt::format("could not prove that no two rows of table `{}` both apply", tab.name));
      d.notes.push_back({fmt::format("because {}", u.reason), {}});
    };
    std::vector<std::pair<size_t, size_t>> pairs;
    bool all = false;
    try {
      pairs = candidate_pairs(rows, column_vars, all);
    } catch (const Unknown& u) {
      gave_up(u);
      return;
    }
    size_t n = rows.size();
    size_t count = all ? (n < 2 ? 0 : n * (n - 1) / 2) : pairs.size();
    size_t i = 0, j = 0;  // with `all`: the pair walked to
    for (size_t k = 0; k < count && reported < 5; ++k) {
      if (all) {
        if (k == 0) { i = 0; j = 1; }
        else if (++j == n) { ++i; j = i + 1; }
      } else {
        std::tie(i, j) = pairs[k];
      }
      {
        if (tab.policy == eval::HitPolicy::any && same_outputs(tab, i, j)) continue;
        Boxes both;
        try {
          both = intersect(rows[i], rows[j]);
        } catch (const Unknown& u) {
          gave_up(u);
          return;
        }
        bool confirmed = false;
        for (const Box& b : both) {
          auto ex = example(b);
          if (!ex) continue;
          eval::Frame f = frame_of(*ex);
          try {
            if (!p_.row_applies(f, t, static_cast<int32_t>(i)) || !p_.row_applies(f, t, static_cast<int32_t>(j))) continue;
          } catch (const eval::EvalError&) {
            continue;
          }
          if (tab.policy == eval::HitPolicy::any && !tab.output_slots.empty()) {
            // Results written as expressions may still agree: only a real disagreement counts.
            eval::Frame g = frame_of(*ex);
            bool differs = false;
            try {
              p_.slot(g, tab.output_slots[0]);
            } catch (const eval::EvalError& e) {
              differs = std::string_view(e.what()).find("different results") != std::string_view::npos;
            }
            if (!differs) continue;
          }
          auto& d = diags_.error("overlap", tab.rows[j].span,
                                 fmt::format("rows at lines {} and {} of table `{}` both apply to some customers, and its hit policy is {}",
                                             tab.row_lines[i], tab.row_lines[j], tab.name,
                                             tab.policy == eval::HitPolicy::unique ? "unique" : "any (and their results differ)"));
          d.notes.push_back({"the other row", tab.rows[i].span});
          d.counterexample = describe(*ex);
          ++reported;
          confirmed = true;
          break;
        }
        if (!confirmed && !both.empty() && !unsettled) unsettled = {i, j};
      }
    }
    if (unsettled) {  // said even beside confirmed overlaps: every finding of the table at once
      auto [i, j] = *unsettled;
      auto& d = diags_.warning("not-proven", tab.rows[j].span,
                               fmt::format("could not prove that rows at lines {} and {} of table `{}` never both apply",
                                           tab.row_lines[i], tab.row_lines[j], tab.name));
      d.notes.push_back({"because their columns are computed values whose combinations the analysis does not model; "
                         "with hit policy `first` the earlier row takes such customers", {}});
    }
  }

  bool same_outputs(const eval::Table& tab, size_t i, size_t j) const {
    for (size_t o = 0; o < tab.rows[i].outputs.size(); ++o) {
      const eval::Node& a = p_.nodes[tab.rows[i].outputs[o]];
      const eval::Node& b = p_.nodes[tab.rows[j].outputs[o]];
      if (a.op != Op::constant || b.op != Op::constant) return false;
      if (a.constant.n != b.constant.n || a.constant.s != b.constant.s) return false;
    }
    return true;
  }

  // `region` holds every customer who reaches the node; when `exact` is
  // false (a condition above could not be modelled) it may hold more, which
  // keeps every finding sound (see decide()). Every subtree is analysed.
  void segment(int32_t node, Boxes region, bool exact = true, std::string why = {}) {
    const auto& n = p_.segment_nodes[node];
    if (n.leaf >= 0) return;
    bool has_else = std::any_of(n.branches.begin(), n.branches.end(), [](auto& b) { return b.first < 0; });
    for (size_t k = 0; k < n.branches.size(); ++k) {
      auto [cond, child] = n.branches[k];
      Span at = k < n.origins.size() ? n.origins[k].span : Span{};
      std::string to = fmt::format("the branch to `{}`", p_.segment_nodes[child].name);
      if (cond < 0) {
        if (region.empty()) unreachable(at, false, to);
        segment(child, region, exact, why);
        break;
      }
      try {
        Boxes c = intersect(Boxes{universe()}, condition(cond));
        Boxes reach = intersect(region, c);
        if (c.empty()) unreachable(at, true, to);
        else if (reach.empty()) unreachable(at, false, to);
        region = subtract(region, c);
        segment(child, reach, exact, why);
      } catch (const Unknown& u) {
        // Anyone left may take this branch: its subtree is analysed for all of them.
        if (exact) why = u.reason;
        exact = false;
        segment(child, region, false, why);
      }
    }
    if (has_else || region.empty()) return;
    Span at = n.origins.empty() ? Span{} : n.origins.front().span;
    std::string what = fmt::format("no branch under segment `{}`", n.name);
    std::string where = fmt::format("under segment `{}`", n.name);
    if (exact) gap(at, what, region, p_.segment_slot, "the customers it leaves out depend on computed values", where);
    else gap(at, what, region, p_.segment_slot, why, where);
  }
};

}  // namespace

void analyse(const eval::Program& program, Diagnostics& diags, std::chrono::milliseconds budget) {
  Analyser(program, diags, budget).run();
}

}  // namespace stratum
