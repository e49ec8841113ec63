// A rule set against the one it extends (compare.hpp). Two analysers, one per
// rule set, over the same field variables (membership variables of either's
// texts, in one order); a decision's variable or a linear `let`'s is shared
// where the two definitions are the same. Each output is split into regions
// of customers by the value they get, in each rule set; two regions with
// different values that meet hold a customer who gets one value here and
// the other from the parent, and that customer is evaluated by both before
// it is shown. No such pair: the output is proven unchanged.
#include "analysis/compare.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "analysis/analyser.hpp"

namespace stratum {

namespace analysis {

namespace {

constexpr int kSearchTries = 400;
constexpr const char* kRejected = "no value (the customer is rejected)";  // customers tried per output where the regions do not tell

struct Part {
  Boxes region;
  std::string label;
};

}  // namespace

class Comparer {
 public:
  Comparer(const Program& parent, const Program& child, const std::string& parent_name, Span at, Diagnostics& out,
           std::chrono::milliseconds budget)
      : P_(parent), C_(child), parent_name_(parent_name), at_(at), out_(out),
        pa_(parent, scratch_, budget, &child, false), ca_(child, scratch_, budget, &parent, true) {}

  void run() {
    if (!same_fields()) {
      out_.warning("override-not-proven", at_,
                   fmt::format("the input fields differ from those of `{}`: nothing is compared", parent_name_));
      return;
    }
    collect_seeds();
    for (const auto& o : C_.outputs) compare_output(o);
  }

 private:
  const Program& P_;
  const Program& C_;
  const std::string& parent_name_;
  Span at_;
  Diagnostics& out_;
  Diagnostics scratch_;  // the analysers' own findings (not wanted here)
  Analyser pa_;
  Analyser ca_;
  std::map<std::pair<int32_t, int32_t>, bool> same_slots_;
  std::mt19937_64 rng_{20270101};
  struct Seed {
    std::vector<Value> values;
    std::vector<uint8_t> state;  // 0 missing, 1 present, 2 not given
  };
  std::vector<Seed> seeds_;

  // ---- the same definition ---------------------------------------------------

  bool same_fields() const {
    if (P_.fields.size() != C_.fields.size()) return false;
    for (size_t i = 0; i < P_.fields.size(); ++i) {
      const auto& a = P_.fields[i];
      const auto& b = C_.fields[i];
      if (a.name != b.name || a.optional != b.optional || !same_type(a.type, b.type)) return false;
    }
    return pa_.vars_.size() >= P_.fields.size() && atoms_aligned();
  }

  bool atoms_aligned() const {
    if (pa_.atom_.size() != ca_.atom_.size()) return false;
    for (size_t k = 0; k < pa_.atom_.size(); ++k) {
      if (pa_.atom_[k] != ca_.atom_[k]) return false;
      const Var& a = pa_.vars_[pa_.atom_[k]];
      const Var& b = ca_.vars_[ca_.atom_[k]];
      if (a.set_field != b.set_field || a.member != b.member) return false;
    }
    for (size_t i = 0; i < P_.fields.size(); ++i) {
      if (pa_.members_[i] != ca_.members_[i]) return false;
    }
    return true;
  }

  bool same_type(const Type& a, const Type& b) const {
    if (a.base != b.base || a.is_set != b.is_set || a.is_list != b.is_list) return false;
    if (a.base != BaseType::enum_) return true;
    const auto& ea = P_.enums[a.enum_id];
    const auto& eb = C_.enums[b.enum_id];
    return ea.name == eb.name && ea.members == eb.members;
  }

  static bool same_value(const Value& a, const Value& b) {
    if (eval::is_missing(a) || eval::is_missing(b)) return eval::is_missing(a) && eval::is_missing(b);
    return a.n == b.n && a.s == b.s;
  }

  bool same_set(int32_t a, int32_t b) const {
    const auto& x = P_.sets[a];
    const auto& y = C_.sets[b];
    return x.text == y.text && x.mask == y.mask && x.texts == y.texts && x.numbers == y.numbers;
  }

  bool same_node(int32_t a, int32_t b) {
    if (a < 0 || b < 0) return a == b;
    const eval::Node& x = P_.nodes[a];
    const eval::Node& y = C_.nodes[b];
    if (x.op != y.op || x.cmp != y.cmp || x.negated != y.negated || x.text != y.text || x.count != y.count) return false;
    switch (x.op) {
      case Op::constant: return same_value(x.constant, y.constant);
      case Op::field:
      case Op::derived: return same_slot(x.index, y.index);
      case Op::in_set:
        if (!same_set(x.index, y.index)) return false;
        break;
      case Op::set_has_bit: {
        // The same text, whatever its number in each rule set.
        const eval::Node& fa = P_.nodes[x.a];
        const eval::Node& fb = C_.nodes[y.a];
        if (fa.op != Op::field || fb.op != Op::field || fa.index != fb.index) return false;
        if (P_.fields[fa.index].known_members.at(x.index) != C_.fields[fb.index].known_members.at(y.index)) return false;
        break;
      }
      case Op::min:
      case Op::max:
        for (int32_t k = 0; k < x.count; ++k) {
          if (!same_node(P_.args[x.index + k], C_.args[y.index + k])) return false;
        }
        break;
      default:
        if (x.index != y.index) return false;
    }
    return same_node(x.a, y.a) && same_node(x.b, y.b);
  }

  bool same_cell(const eval::CellTest& x, const eval::CellTest& y) {
    if (x.column != y.column || x.kind != y.kind || x.text != y.text || x.low_closed != y.low_closed ||
        x.high_closed != y.high_closed || (x.slot < 0) != (y.slot < 0)) {
      return false;
    }
    if (x.slot >= 0 && !same_slot(x.slot, y.slot)) return false;
    if ((x.set < 0) != (y.set < 0) || (x.set >= 0 && !same_set(x.set, y.set))) return false;
    return same_node(x.low_node, y.low_node) && same_node(x.high_node, y.high_node) && same_value(x.low, y.low) &&
           same_value(x.high, y.high);
  }

  template <class T, class F>
  static bool all_same(const std::vector<T>& a, const std::vector<T>& b, F same) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!same(a[i], b[i])) return false;
    }
    return true;
  }

  bool same_table(const eval::Table& x, const eval::Table& y) {
    if (x.policy != y.policy || x.collect != y.collect || x.has_else != y.has_else || x.propagate_missing != y.propagate_missing ||
        x.column_may_be_missing != y.column_may_be_missing) {
      return false;
    }
    auto node = [&](int32_t a, int32_t b) { return same_node(a, b); };
    auto row = [&](const eval::Row& a, const eval::Row& b) {
      return all_same(a.tests, b.tests, [&](auto& s, auto& t) { return same_cell(s, t); }) && all_same(a.outputs, b.outputs, node);
    };
    return all_same(x.columns, y.columns, node) && all_same(x.rows, y.rows, row) && all_same(x.else_outputs, y.else_outputs, node);
  }

  bool same_tree(int32_t a, int32_t b) {
    const auto& x = P_.segment_nodes[a];
    const auto& y = C_.segment_nodes[b];
    if (x.name != y.name || (x.leaf < 0) != (y.leaf < 0) || x.branches.size() != y.branches.size()) return false;
    for (size_t k = 0; k < x.branches.size(); ++k) {
      if (!same_node(x.branches[k].first, y.branches[k].first) || !same_tree(x.branches[k].second, y.branches[k].second)) return false;
    }
    return true;
  }

  // The same stability rule (or none) on both sides.
  bool same_stability(int32_t a, int32_t b) {
    if ((a < 0) != (b < 0)) return false;
    if (a < 0) return true;
    const auto& s = P_.stabilities[a];
    const auto& t = C_.stabilities[b];
    return s.rank == t.rank && s.down == t.down && s.up == t.up;
  }

  // `with_stability` false: the rules' value alone (a stable value's candidate).
  bool same_derived(const eval::Derived& x, const eval::Derived& y, bool with_stability = true) {
    if (x.kind != y.kind || x.name != y.name) return false;
    // (a held value's own kind compares its stability rule as it needs)
    if (with_stability && x.kind != eval::DerivedKind::held && !same_stability(x.stability, y.stability)) return false;
    if (x.kind != eval::DerivedKind::segment && !same_type(x.type, y.type)) return false;
    auto node = [&](int32_t a, int32_t b) { return same_node(a, b); };
    switch (x.kind) {
      case eval::DerivedKind::let: return same_node(x.node, y.node);
      case eval::DerivedKind::decide:
        return all_same(x.branches, y.branches, [&](const eval::Branch& a, const eval::Branch& b) {
          return same_node(a.condition, b.condition) && same_node(a.result, b.result) && a.reject == b.reject;
        });
      case eval::DerivedKind::table:
        return x.column == y.column && same_table(P_.tables[x.table], C_.tables[y.table]);
      case eval::DerivedKind::scorecard: {
        const auto& a = P_.scorecards[x.index];
        const auto& b = C_.scorecards[y.index];
        return all_same(a.factor_slots, b.factor_slots, [&](int32_t s, int32_t t) { return same_slot(s, t); }) &&
               all_same(a.weights, b.weights, node) &&
               all_same(a.adjustments, b.adjustments, [&](const eval::ScoreAdjustment& s, const eval::ScoreAdjustment& t) {
                 return s.multiply == t.multiply && same_node(s.amount, t.amount) && same_node(s.condition, t.condition);
               });
      }
      case eval::DerivedKind::factor: {
        const auto& a = P_.factors[x.index];
        const auto& b = C_.factors[y.index];
        return same_node(a.value, b.value) && same_node(a.else_points, b.else_points) &&
               all_same(a.bins, b.bins, [&](auto& s, auto& t) { return same_cell(s.first, t.first) && same_node(s.second, t.second); });
      }
      case eval::DerivedKind::segment: return same_tree(0, 0);
      case eval::DerivedKind::capacity: return true;  // set over a portfolio, never compared (compare_output)
      case eval::DerivedKind::held: {  // the candidate: the rules' value; the periods: that and the stability rule
        int32_t a = P_.stabilities[x.stability].slot, b = C_.stabilities[y.stability].slot;
        bool rules_same = same_derived(P_.derived[a - P_.fields.size()], C_.derived[b - C_.fields.size()], false);
        return rules_same && (x.name.ends_with("@candidate") || same_stability(x.stability, y.stability));
      }
      case eval::DerivedKind::plan_item: {
        if ((P_.segment_slot < 0) != (C_.segment_slot < 0)) return false;
        if (P_.segment_slot >= 0 && !same_slot(P_.segment_slot, C_.segment_slot)) return false;
        return all_same(x.by_leaf, y.by_leaf, node) &&
               all_same(x.conditional, y.conditional, [&](const eval::ConditionalSetting& s, const eval::ConditionalSetting& t) {
                 const auto& cs = P_.plan_conditions[s.plan];
                 const auto& ct = C_.plan_conditions[t.plan];
                 return cs.leaves == ct.leaves && same_node(cs.condition, ct.condition) && same_node(s.value, t.value);
               });
      }
    }
    return false;
  }

  // Whether slot a of the parent and slot b of the child hold the same value
  // for every customer by construction: the same field, or derived values
  // defined alike from values that are the same.
  bool same_slot(int32_t a, int32_t b) {
    int32_t pf = static_cast<int32_t>(P_.fields.size()), cf = static_cast<int32_t>(C_.fields.size());
    if (a < pf || b < cf) return a == b;
    auto key = std::pair{a, b};
    if (auto it = same_slots_.find(key); it != same_slots_.end()) return it->second;
    same_slots_[key] = true;  // definitions do not depend on themselves: the checker refused cycles
    bool same = same_derived(P_.derived[a - pf], C_.derived[b - cf]);
    same_slots_[key] = same;
    return same;
  }

  // ---- values as regions -----------------------------------------------------

  std::string label(const Program& p, const Value& v, const Type& t) const {
    return eval::is_missing(v) ? "missing" : p.format(v, t);
  }

  // The customers of `a`'s rule set by the value `slot` gives them; those it
  // gives none (a rejection) are the rest, labelled so.
  std::vector<Part> parts(Analyser& a, int32_t slot) {
    const Program& p = a.p_;
    const auto& der = p.derived[slot - p.fields.size()];
    std::vector<Part> out;
    if (der.kind == eval::DerivedKind::segment) {
      segment_parts(a, 0, Boxes{a.universe()}, out);
    } else if (der.kind == eval::DerivedKind::plan_item) {
      plan_parts(a, der, out);
    } else {
      for (const auto& [region, value] : a.partition(slot, 0)) out.push_back({region, label(p, value, der.type)});
    }
    Boxes rest{a.universe()};
    for (const auto& part : out) rest = a.subtract(rest, part.region);
    if (!rest.empty()) out.push_back({std::move(rest), kRejected});
    return out;
  }

  // The decisions node `n` reads (through `let`s), by slot.
  void decisions_read(const Program& p, int32_t n, std::set<int32_t>& out, std::set<int32_t>& lets) const {
    if (n < 0) return;
    const eval::Node& x = p.nodes[n];
    if (x.op == Op::derived && x.index >= static_cast<int32_t>(p.fields.size())) {
      const auto& d = p.derived[x.index - p.fields.size()];
      if (d.kind == eval::DerivedKind::let) {
        if (lets.insert(x.index).second) decisions_read(p, d.node, out, lets);
      } else {
        out.insert(x.index);
      }
    }
    decisions_read(p, x.a, out, lets);
    decisions_read(p, x.b, out, lets);
    if (x.op == Op::min || x.op == Op::max) {
      for (int32_t k = 0; k < x.count; ++k) decisions_read(p, p.args[x.index + k], out, lets);
    }
  }

  // Whether decision `slot` of `a`'s rule set is defined alike in the other.
  bool alike(const Analyser& a, int32_t slot) {
    bool child = &a == &ca_;
    const Program& here = child ? C_ : P_;
    const Program& there = child ? P_ : C_;
    const std::string& name = here.derived[slot - here.fields.size()].name;
    for (size_t d = 0; d < there.derived.size(); ++d) {
      if (there.derived[d].name != name) continue;
      int32_t other = static_cast<int32_t>(there.fields.size() + d);
      return child ? same_slot(other, slot) : same_slot(slot, other);
    }
    return false;
  }

  // The customers for whom condition `node` cannot be evaluated: a decision
  // it reads rejects them. Where that decision's regions are not known, the
  // rejections are the same in both rule sets when it is defined alike in
  // both (and then left out); otherwise the analysis gives up.
  Boxes rejected_by(Analyser& a, int32_t node) {
    std::set<int32_t> slots, lets;
    decisions_read(a.p_, node, slots, lets);
    Boxes out;
    for (int32_t slot : slots) {
      try {
        Boxes rest{a.universe()};
        for (const auto& [region, value] : a.partition(slot, 0)) rest = a.subtract(rest, region);
        out.insert(out.end(), rest.begin(), rest.end());
      } catch (const Unknown& u) {
        if (!alike(a, slot)) throw;
      }
    }
    return out;
  }

  void segment_parts(Analyser& a, int32_t node, Boxes region, std::vector<Part>& out) {
    const Program& p = a.p_;
    const auto& n = p.segment_nodes[node];
    if (n.leaf >= 0) {
      if (!region.empty()) out.push_back({std::move(region), p.format({n.leaf, {}}, p.derived[p.segment_slot - p.fields.size()].type)});
      return;
    }
    for (auto [cond, child] : n.branches) {
      if (cond < 0) {
        segment_parts(a, child, region, out);
        return;
      }
      Boxes rejected = a.intersect(region, rejected_by(a, cond));
      if (!rejected.empty()) {
        region = a.subtract(region, rejected);
        out.push_back({std::move(rejected), kRejected});
      }
      Boxes c = a.condition(cond);
      segment_parts(a, child, a.intersect(region, c), out);
      region = a.subtract(region, c);
    }
  }

  // The leaves' regions, by leaf number.
  std::vector<Boxes> leaf_regions(Analyser& a) {
    const Program& p = a.p_;
    std::vector<Part> leaves;
    segment_parts(a, 0, Boxes{a.universe()}, leaves);
    std::vector<Boxes> by_leaf;
    for (const auto& n : p.segment_nodes) {
      if (n.leaf < 0) continue;
      if (by_leaf.size() <= static_cast<size_t>(n.leaf)) by_leaf.resize(n.leaf + 1);
      std::string name = p.format({n.leaf, {}}, p.derived[p.segment_slot - p.fields.size()].type);
      for (const auto& part : leaves) {
        if (part.label == name) by_leaf[n.leaf] = part.region;
      }
    }
    return by_leaf;
  }

  // A plan item: the first conditional plan that applies and sets it, else
  // the leaf's plans.
  void plan_parts(Analyser& a, const eval::Derived& der, std::vector<Part>& out) {
    const Program& p = a.p_;
    Boxes left{a.universe()};
    std::vector<Boxes> leaves;
    if (p.segment_slot >= 0) leaves = leaf_regions(a);
    auto add = [&](const Boxes& reach, int32_t node) {
      if (reach.empty()) return;
      if (node < 0) {
        out.push_back({reach, "missing"});
        return;
      }
      for (const auto& [region, value] : a.node_partition(node, der.name, 1)) {
        Boxes both = a.intersect(reach, region);
        if (!both.empty()) out.push_back({std::move(both), label(p, value, der.type)});
      }
    };
    for (const auto& setting : der.conditional) {
      const auto& plan = p.plan_conditions[setting.plan];
      Boxes rejected = a.intersect(left, rejected_by(a, plan.condition));
      if (!rejected.empty()) {
        left = a.subtract(left, rejected);
        out.push_back({std::move(rejected), kRejected});
      }
      Boxes where = a.condition(plan.condition);
      if (!plan.leaves.empty()) {
        Boxes under;
        for (size_t l = 0; l < plan.leaves.size() && l < leaves.size(); ++l) {
          if (plan.leaves[l]) under.insert(under.end(), leaves[l].begin(), leaves[l].end());
        }
        where = a.intersect(where, under);
      }
      add(a.intersect(left, where), setting.value);
      left = a.subtract(left, where);
    }
    if (p.segment_slot < 0) {
      add(left, -1);
      return;
    }
    for (size_t l = 0; l < leaves.size(); ++l) {
      add(a.intersect(left, leaves[l]), l < der.by_leaf.size() ? der.by_leaf[l] : -1);
    }
  }

  // A box of the parent's analysis in the child's variables: fields and
  // membership as they are; a decision's or a `let`'s variable where both
  // define it alike; nothing when the box constrains another.
  std::optional<Box> to_child(const Box& b) {
    Box out = ca_.universe();
    size_t fixed = P_.fields.size() + pa_.atom_.size();
    for (size_t i = 0; i < b.size() && i < pa_.vars_.size(); ++i) {
      const Var& v = pa_.vars_[i];
      if (covers(b[i], v.universe, v)) continue;
      int32_t j = i < fixed ? static_cast<int32_t>(i) : shared_var(static_cast<int32_t>(i));
      if (j < 0) return std::nullopt;
      out[j] = meet(out[j], b[i], ca_.vars_[j]);
      if (empty(out[j], ca_.vars_[j])) return Box{};
    }
    return out;
  }

  int32_t shared_var(int32_t pv) {
    int32_t pf = static_cast<int32_t>(P_.fields.size());
    for (size_t d = 0; d < P_.derived.size(); ++d) {
      bool decision = pa_.decision_var_[d] == pv;
      int32_t let_slot = pa_.vars_[pv].let_slot;
      if (!decision && let_slot != pf + static_cast<int32_t>(d)) continue;
      for (size_t e = 0; e < C_.derived.size(); ++e) {
        if (C_.derived[e].name != P_.derived[d].name) continue;
        if (!same_slot(pf + static_cast<int32_t>(d), static_cast<int32_t>(C_.fields.size() + e))) return -1;
        if (decision) return ca_.decision_var_[e];
        for (const auto& [var, lin] : ca_.linear_vars_) {
          if (ca_.vars_[var].let_slot == static_cast<int32_t>(C_.fields.size() + e)) return var;
        }
        return -1;
      }
      return -1;
    }
    return -1;
  }

  // ---- customers -------------------------------------------------------------

  struct Outcome {
    std::string here, there;
  };

  // The value `slot` (and `pslot` in the parent) gives the customer in each rule set.
  std::string evaluate(const Program& p, eval::Frame& f, int32_t slot) const {
    try {
      const Value& v = p.slot(f, slot);
      return label(p, v, p.derived[slot - p.fields.size()].type);
    } catch (const eval::EvalError&) {
      return kRejected;
    }
  }

  std::optional<Outcome> differs(const Analyser::Example& ex, int32_t cslot, int32_t pslot) const {
    eval::Frame cf = ca_.frame_of(ex);
    eval::Frame pf = P_.make_frame();
    for (size_t i = 0; i < P_.fields.size(); ++i) {
      Value v = ex.values[i];
      if (ex.present[i] && P_.fields[i].type.is_set && P_.fields[i].type.base == BaseType::text) v.n = P_.fields[i].known_mask(v.s);
      pf.slots[i] = v;
      pf.state[i] = ex.present[i];
    }
    pf.has_today = true;
    pf.today = cf.today;
    Outcome o{evaluate(C_, cf, cslot), evaluate(P_, pf, pslot)};
    if (o.here == o.there) return std::nullopt;
    return o;
  }

  // A point of box b picked at random (each variable with several values
  // narrowed to one: a bound of the box, zero or a round number inside it),
  // for a search where the box's own example does not do.
  Box random_point(Box b) {
    static constexpr int64_t kRound[] = {0, 1, 10, 100, 1000, 10'000, 50'000, 100'000, 500'000, 1'000'000, 10'000'000,
                                         50'000'000, 100'000'000, 300'000'000, 1'000'000'000};
    for (size_t i = 0; i < ca_.base_vars_ && i < b.size(); ++i) {
      const Var& v = ca_.vars_[i];
      Dom& d = b[i];
      if (d.missing && d.present && !values_empty(d, v) && rng_() % 4 == 0) d.present = false;
      if (!d.present) continue;
      if (v.kind == Kind::mask && d.mask) {
        std::vector<int> codes;
        for (int c = 0; c < 128; ++c) if ((d.mask >> c) & 1) codes.push_back(c);
        d.mask = static_cast<unsigned __int128>(1) << codes[rng_() % codes.size()];
        d.missing = false;
      } else if (v.kind == Kind::interval && v.type.base == BaseType::date) {
        // A day near the examples' today (2024-01-01), a whole number of years or months before it, or a bound.
        static constexpr int32_t kDaysBefore[] = {0, 1, 30, 31, 182, 365, 366, 730, 1095, 1096, 1460, 1826, 1827, 3652};
        std::vector<int128> picks;
        if (d.lo > kLow) picks.push_back(d.lo);
        if (d.hi < kHigh) picks.push_back(d.hi);
        for (int32_t k : kDaysBefore) {
          for (int128 day : {int128{19723} - k, int128{19723} + k}) {
            if (day >= d.lo && day <= d.hi) picks.push_back(day);
          }
        }
        if (picks.empty()) continue;
        d.lo = d.hi = picks[rng_() % picks.size()];
        d.missing = false;
      } else if (v.kind == Kind::interval) {
        std::vector<int128> picks;
        auto consider = [&](int128 x) {
          x = ceil_to(x, kScale);
          if (x >= d.lo && x <= d.hi) picks.push_back(x);
        };
        if (d.lo > kLow) consider(d.lo);
        if (d.hi < kHigh) picks.push_back(floor_to(d.hi, kScale) >= d.lo ? floor_to(d.hi, kScale) : d.hi);
        for (int64_t k : kRound) consider(Decimal::from_int(k).raw());
        if (picks.empty()) continue;
        int128 pick = picks[rng_() % picks.size()];
        if (v.whole && pick % kScale != 0) continue;
        d.lo = d.hi = pick;
        d.missing = false;
      }
    }
    return b;
  }

  // The rule sets' own test customers: realistic values for the fields a
  // region leaves free (a decision's value often needs many of them).
  void collect_seeds() {
    auto add = [&](const Program& p) {
      for (const auto& t : p.tests) {
        Seed s{std::vector<Value>(p.fields.size()), std::vector<uint8_t>(p.fields.size(), 2)};
        for (const auto& [slot, value] : t.given) {
          if (slot < 0 || static_cast<size_t>(slot) >= p.fields.size()) continue;
          s.values[slot] = value;
          s.state[slot] = eval::is_missing(value) ? 0 : 1;
        }
        seeds_.push_back(std::move(s));
      }
    };
    add(P_);
    add(C_);
  }

  // The example of `region` with each field the region leaves free taken
  // from the seed, where the seed gives it.
  std::optional<Analyser::Example> seeded(const Box& region, const Seed& seed) {
    auto ex = ca_.example(region);
    if (!ex) return std::nullopt;
    for (size_t i = 0; i < C_.fields.size(); ++i) {
      if (seed.state[i] == 2) continue;
      const Var& v = ca_.vars_[i];
      if (!covers(region[i], v.universe, v)) continue;
      bool atoms_free = true;
      for (int32_t a : ca_.atom_) {
        if (ca_.vars_[a].set_field == static_cast<int32_t>(i) && !covers(region[a], ca_.vars_[a].universe, ca_.vars_[a])) atoms_free = false;
      }
      if (!atoms_free) continue;
      ex->values[i] = seed.values[i];
      ex->present[i] = seed.state[i];
      if (seed.state[i] && C_.fields[i].type.is_set && C_.fields[i].type.base == BaseType::text) {
        ex->values[i].n = C_.fields[i].known_mask(seed.values[i].s);
      }
    }
    return ex;
  }

  // A customer of `region` (a box of the child's analysis) for whom the two
  // rule sets differ: the box's own example, the tests' customers moved into
  // it, then some at random.
  std::optional<std::pair<Analyser::Example, Outcome>> witness(const Box& region, int32_t cslot, int32_t pslot, int tries) {
    if (auto ex = ca_.example(region)) {
      if (auto o = differs(*ex, cslot, pslot)) return std::pair{*ex, *o};
    }
    for (const auto& seed : seeds_) {
      auto ex = seeded(region, seed);
      if (!ex) continue;
      if (auto o = differs(*ex, cslot, pslot)) return std::pair{*ex, *o};
    }
    for (int k = 0; k < tries; ++k) {
      auto ex = ca_.example(random_point(region));
      if (!ex) continue;
      if (auto o = differs(*ex, cslot, pslot)) return std::pair{*ex, *o};
    }
    return std::nullopt;
  }

  // ---- findings --------------------------------------------------------------

  std::string shown(const eval::Output& o) const {
    if (o.plan) return fmt::format("plan item `{}`", o.name);
    if (o.name == "segment") return "the segment";
    return fmt::format("`{}`", o.name);
  }

  // Every finding is reported at `extends "…"`, in the order of the outputs.
  Span span_of(int32_t) const { return at_; }

  void changed(const eval::Output& o, int32_t cslot, const Analyser::Example& ex, const Outcome& how) {
    auto& d = out_.warning("override-changes", span_of(cslot),
                           fmt::format("{} can differ from `{}`: this customer gets {} here and {} from `{}`", shown(o), parent_name_,
                                       how.here, how.there, parent_name_));
    d.severity = Severity::note;
    d.counterexample = ca_.describe(ex);
  }

  void unchanged(const eval::Output& o, int32_t cslot, bool by_construction) {
    auto& d = out_.warning("override-unchanged", span_of(cslot),
                           by_construction
                               ? fmt::format("{} is the same as in `{}` for every customer: it and everything it uses are defined as there", shown(o), parent_name_)
                               : fmt::format("{} is the same as in `{}` for every customer: proven, although it uses what this rule set overrides", shown(o), parent_name_));
    d.severity = Severity::note;
  }

  void compare_output(const eval::Output& o) {
    int32_t cslot = o.slot;
    if (cslot == C_.capacity_slot) {
      auto& d = out_.warning("override-not-compared", at_,
                             "`capacity` depends on the whole portfolio (who else competes for the places), not on one customer: it is not compared");
      d.severity = Severity::note;
      return;
    }
    const auto it = std::find_if(P_.outputs.begin(), P_.outputs.end(), [&](const eval::Output& x) { return x.name == o.name && x.plan == o.plan; });
    if (it == P_.outputs.end()) {
      auto& d = out_.warning("override-changes", span_of(cslot), fmt::format("{} is new: `{}` has no such output", shown(o), parent_name_));
      d.severity = Severity::note;
      return;
    }
    int32_t pslot = it->slot;
    if (same_slot(pslot, cslot)) {
      unchanged(o, cslot, true);
      return;
    }
    // A stable value whose stability rule differs: the same previous period holds a customer in one and moves him in the other.
    auto stability_of = [](const eval::Program& p, int32_t slot) {
      return slot >= static_cast<int32_t>(p.fields.size()) ? p.derived[slot - p.fields.size()].stability : -1;
    };
    bool candidate = o.slot >= static_cast<int32_t>(C_.fields.size()) &&
                     C_.derived[o.slot - C_.fields.size()].kind == eval::DerivedKind::held && o.name.ends_with("@candidate");
    if (!candidate && (stability_of(C_, cslot) >= 0 || stability_of(P_, pslot) >= 0) && !same_stability(stability_of(P_, pslot), stability_of(C_, cslot))) {
      auto& d = out_.warning("override-changes", span_of(cslot),
                             fmt::format("{} differs from `{}`'s: its stability rule is not the parent's, so a customer with the same previous "
                                         "period can be held by one and moved by the other",
                                         shown(o), parent_name_));
      d.severity = Severity::note;
      return;
    }
    std::string why;
    try {
      auto here = parts(ca_, cslot);
      auto there = parts(pa_, pslot);
      bool proven = true;
      for (const auto& t : there) {
        for (const auto& pbox : t.region) {
          auto cb = to_child(pbox);
          if (!cb) {
            proven = false;
            why = "the parent's regions depend on values this rule set defines otherwise";
            continue;
          }
          if (cb->empty()) continue;
          for (const auto& h : here) {
            if (h.label == t.label) continue;
            for (const auto& hbox : h.region) {
              ca_.tick();
              auto both = ca_.boxes_.meet(hbox, *cb);
              if (!both) continue;
              if (auto w = witness(*both, cslot, pslot, 50)) {
                changed(o, cslot, w->first, w->second);
                return;
              }
              proven = false;
              why = "a region where the two differ needs values the analysis cannot build a customer for";
            }
          }
        }
      }
      if (proven) {
        unchanged(o, cslot, false);
        return;
      }
    } catch (const Unknown& u) {
      why = u.reason;
    }
    // The regions do not tell: customers at random, each evaluated by both.
    if (auto w = witness(ca_.universe(), cslot, pslot, kSearchTries)) {
      changed(o, cslot, w->first, w->second);
      return;
    }
    out_.warning("override-not-proven", span_of(cslot),
                           fmt::format("whether {} differs from `{}` is not proven: {}; no customer among {} tried gets another value", shown(o),
                                       parent_name_, why, kSearchTries + 1));
  }
};

}  // namespace analysis

void compare_with_parent(const eval::Program& parent, const eval::Program& child, const std::string& parent_name, Span at,
                         Diagnostics& diags, std::chrono::milliseconds budget) {
  analysis::Comparer(parent, child, parent_name, at, diags, budget).run();
}

}  // namespace stratum
