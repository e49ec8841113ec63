// Counterfactuals for one customer (nearest.hpp). The regions of each output
// value are the analysis' own: the segment tree's leaves as its branch
// conditions cut the customers, a decision's values as partition() gives
// them. For each box of another value, the customer's place is read in every
// variable of the analysis (a field, a membership in a set field, a linear
// `let`, a decision standing for itself); the variables the customer lies
// outside of must all belong to one field (a linear `let` to one of its
// terms), which is then moved to the box's nearest bound. Of a value's
// candidates the smallest change per field is evaluated first; the first
// that really gives the value is kept.
#include "analysis/nearest.hpp"

#include <algorithm>
#include <deque>
#include <map>

#include <fmt/format.h>

#include "analysis/analyser.hpp"

namespace stratum {

namespace analysis {

namespace {

constexpr size_t kTriesPerField = 64;  // candidates evaluated per output value and field
constexpr size_t kTextsListed = 3;     // texts named in `is none of …`

// A customer's value in one variable of the analysis.
struct At {
  bool known = true;    // false: it could not be computed (a decision that rejects the customer)
  bool present = true;
  int128 n = 0;
  std::string_view s;
};

bool inside(const Dom& d, const Var& v, const At& at) {
  if (!at.known) return false;
  if (!at.present) return d.missing;
  if (!d.present) return false;
  switch (v.kind) {
    case Kind::interval: return at.n >= d.lo && at.n <= d.hi;
    case Kind::mask: return at.n >= 0 && at.n < 128 && ((d.mask >> static_cast<int>(at.n)) & 1);
    case Kind::text: {
      bool listed = std::find(d.texts.begin(), d.texts.end(), at.s) != d.texts.end();
      return d.text_in ? listed : !listed;
    }
    case Kind::opaque: return true;
  }
  return true;
}

int128 abs128(int128 x) { return x < 0 ? -x : x; }

}  // namespace

class NearestSearch {
 public:
  NearestSearch(const Program& p, std::chrono::milliseconds budget) : p_(p), a_(p, scratch_, budget) {}

  Counterfactuals find(const eval::Frame& customer, const std::vector<uint8_t>& fixed) {
    if (!regions_ready_) regions();
    Counterfactuals out;
    out.notes = notes_;
    texts_.clear();
    customer_ = &customer;
    fixed_.assign(p_.fields.size(), 0);
    for (size_t i = 0; i < p_.fields.size(); ++i) fixed_[i] = p_.fields[i].fixed || (i < fixed.size() && fixed[i]);
    point();
    for (const auto& o : outputs_) search(o, out);
    return out;
  }

 private:
  // One value of an output and the customers who get it.
  struct Target {
    Value value;
    std::string label, shown;
    Boxes region;
  };
  struct OutputRegions {
    std::string name;
    int32_t slot = -1;
    bool segment = false;
    std::vector<Target> targets;
  };
  // A change of one field, before it is evaluated.
  struct Move {
    int32_t field = -1;
    Value value;
    bool present = true;
    int128 distance = 0;
    std::string required, condition;
    bool strict = false;  // the condition is a strict bound: the text names the value evaluated too
  };

  const Program& p_;
  Diagnostics scratch_;  // the analyser's own findings (not wanted here)
  Analyser a_;
  bool regions_ready_ = false;
  std::vector<OutputRegions> outputs_;
  std::vector<std::string> notes_;
  std::vector<int32_t> decision_of_var_;  // variable → the derived value it stands for, or -1
  const eval::Frame* customer_ = nullptr;
  std::vector<uint8_t> fixed_;
  std::vector<At> at_;  // the customer, per variable
  std::deque<std::string> texts_;
  std::vector<std::string> needs_;  // decisions whose value a region needs changed (not tried)

  // ---- the regions, once per rule set -----------------------------------------

  void regions() {
    regions_ready_ = true;
    decision_of_var_.assign(a_.vars_.size(), -1);
    for (size_t d = 0; d < a_.decision_var_.size(); ++d) {
      if (a_.decision_var_[d] >= 0) decision_of_var_[a_.decision_var_[d]] = static_cast<int32_t>(d);
    }
    for (const auto& o : p_.outputs) {
      if (o.plan || o.slot < 0 || o.slot == p_.capacity_slot) continue;
      if (o.slot == p_.segment_slot) {
        segment_regions(o);
        continue;
      }
      if (o.type.is_set || (o.type.base != BaseType::enum_ && o.type.base != BaseType::boolean)) continue;
      OutputRegions r{o.name, o.slot, false, {}};
      try {
        for (const auto& part : a_.partition(o.slot, 0)) {
          const Boxes& region = part.first;
          const Value& value = part.second;  // (a named value: lambdas may not capture a structured binding in C++20)
          if (eval::is_missing(value)) continue;
          auto it = std::find_if(r.targets.begin(), r.targets.end(), [&](const Target& t) { return t.value.n == value.n; });
          if (it == r.targets.end()) {
            std::string label = p_.format(value, o.type);
            r.targets.push_back({value, label, label, region});
          } else {
            it->region.insert(it->region.end(), region.begin(), region.end());
          }
        }
      } catch (const Unknown& u) {
        notes_.push_back(fmt::format("`{}`: not searched: {}", o.name, u.reason));
        continue;
      }
      std::sort(r.targets.begin(), r.targets.end(), [](const Target& x, const Target& y) { return x.value.n < y.value.n; });
      outputs_.push_back(std::move(r));
    }
  }

  void segment_regions(const eval::Output& o) {
    OutputRegions r{"segment", o.slot, true, {}};
    const Type& type = p_.derived[o.slot - p_.fields.size()].type;
    for (const auto& n : p_.segment_nodes) {
      if (n.leaf < 0) continue;
      Value v{n.leaf, {}};
      r.targets.push_back({v, p_.format(v, type), n.name, {}});
    }
    std::sort(r.targets.begin(), r.targets.end(), [](const Target& x, const Target& y) { return x.value.n < y.value.n; });
    try {
      walk(0, Boxes{a_.universe()}, r);
    } catch (const Unknown& u) {
      notes_.push_back(fmt::format("segment: not searched: {}", u.reason));
      return;
    }
    outputs_.push_back(std::move(r));
  }

  // The customers reaching segment node `node` are `region`; a branch whose
  // condition the analysis cannot model leaves the leaves below it, and
  // those of the later branches, unsearched.
  void walk(int32_t node, Boxes region, OutputRegions& r) {
    const auto& n = p_.segment_nodes[node];
    if (n.leaf >= 0) {
      for (auto& t : r.targets) {
        if (t.value.n == n.leaf) t.region.insert(t.region.end(), region.begin(), region.end());
      }
      return;
    }
    for (size_t k = 0; k < n.branches.size(); ++k) {
      auto [cond, child] = n.branches[k];
      if (cond < 0) {
        walk(child, region, r);
        return;
      }
      Boxes c;
      try {
        c = a_.condition(cond);
      } catch (const Unknown& u) {
        for (size_t j = k; j < n.branches.size(); ++j) {
          notes_.push_back(fmt::format("segment `{}` and below: not searched: {}", p_.segment_nodes[n.branches[j].second].name, u.reason));
        }
        return;
      }
      walk(child, a_.intersect(region, c), r);
      region = a_.subtract(region, c);
    }
  }

  // ---- the customer ------------------------------------------------------------

  void point() {
    const auto& vars = a_.vars_;
    at_.assign(vars.size(), At{});
    eval::Frame f = frame();
    Analyser::Example ex;
    for (size_t i = 0; i < p_.fields.size(); ++i) {
      at_[i] = {true, customer_->state[i] != 0, customer_->slots[i].n, customer_->slots[i].s};
      ex.values.push_back(customer_->slots[i]);
      ex.present.push_back(customer_->state[i]);
    }
    for (int32_t a : a_.atom_) {
      const Var& v = vars[a];
      bool held = customer_->state[v.set_field] && ((customer_->slots[v.set_field].n >> v.member) & 1);
      at_[a] = {true, true, held ? 1 : 0, {}};
    }
    for (const auto& [var, lin] : a_.linear_vars_) {
      try {
        at_[var] = {true, true, a_.linear_value(lin, ex).raw(), {}};
      } catch (const ArithmeticError&) {
        at_[var].known = false;
      }
    }
    for (size_t var = 0; var < vars.size(); ++var) {
      if (decision_of_var_[var] < 0) continue;
      try {
        const Value& v = p_.slot(f, static_cast<int32_t>(p_.fields.size()) + decision_of_var_[var]);
        at_[var] = {true, !eval::is_missing(v), v.n, {}};
      } catch (const eval::EvalError&) {
        at_[var].known = false;
      }
    }
  }

  // A frame with the customer's fields.
  eval::Frame frame() const {
    eval::Frame f = p_.make_frame();
    for (size_t i = 0; i < p_.fields.size(); ++i) {
      f.slots[i] = customer_->slots[i];
      f.state[i] = customer_->state[i];
    }
    f.today = customer_->today;
    f.has_today = customer_->has_today;
    return f;
  }

  // ---- the search ---------------------------------------------------------------

  void search(const OutputRegions& o, Counterfactuals& out) {
    eval::Frame f = frame();
    Value now;
    try {
      now = p_.slot(f, o.slot);
    } catch (const eval::EvalError&) {
      return;  // a rejected customer has no counterfactuals
    }
    OutOfReach missed{o.name, {}};
    needs_.clear();
    for (const auto& t : o.targets) {
      if (!eval::is_missing(now) && now.n == t.value.n) continue;
      std::map<int32_t, std::vector<Move>> by_field;
      for (const auto& box : t.region) {
        for (auto& m : moves_into(box)) by_field[m.field].push_back(std::move(m));
      }
      bool found = false;
      for (auto& [field, moves] : by_field) {
        std::stable_sort(moves.begin(), moves.end(), [](const Move& x, const Move& y) { return x.distance < y.distance; });
        for (size_t k = 0; k < moves.size() && k < kTriesPerField; ++k) {
          if (k > 0 && same_move(moves[k], moves[k - 1])) continue;
          std::string rejected;
          if (!reaches(o, t, moves[k], rejected)) continue;
          out.moves.push_back(shown(o, t, moves[k], rejected));
          found = true;
          break;
        }
      }
      if (!found && !t.region.empty()) missed.values.push_back(t.shown);
    }
    if (!missed.values.empty()) out.out_of_reach.push_back(std::move(missed));
    if (!needs_.empty()) {
      std::string names;
      for (const auto& n : needs_) names += fmt::format("{}`{}`", names.empty() ? "" : ", ", n);
      out.notes.push_back(fmt::format("{}: regions that need {} to change (a decision the analysis does not split by field) are not tried",
                                      o.segment ? "segment" : "`" + o.name + "`", names));
    }
  }

  static bool same_move(const Move& a, const Move& b) {
    return a.field == b.field && a.present == b.present && a.value.n == b.value.n && a.value.s == b.value.s;
  }

  // The changes of one field that bring the customer into `box`: none when
  // the customer lies outside it in more than one field, or in a decision.
  std::vector<Move> moves_into(const Box& box) {
    const auto& vars = a_.vars_;
    int32_t field = -1;
    std::vector<int32_t> linear;
    for (size_t var = 0; var < vars.size() && var < box.size(); ++var) {
      if (covers(box[var], vars[var].universe, vars[var]) || inside(box[var], vars[var], at_[var])) continue;
      if (decision_of_var_[var] >= 0) {  // a computed value would have to change
        const std::string& name = p_.derived[decision_of_var_[var]].name;
        if (std::find(needs_.begin(), needs_.end(), name) == needs_.end()) needs_.push_back(name);
        return {};
      }
      if (vars[var].let_slot >= 0 || vars[var].expr_node >= 0) {
        linear.push_back(static_cast<int32_t>(var));
        continue;
      }
      int32_t f = var < p_.fields.size() ? static_cast<int32_t>(var) : vars[var].set_field;
      if (f < 0 || (field >= 0 && field != f)) return {};
      field = f;
    }
    if (!linear.empty()) {
      if (field >= 0) return {};
      return linear_moves(box, linear);
    }
    if (field < 0 || fixed_[field]) return {};
    auto m = move(box, field);
    if (!m || !fits(box, *m)) return {};
    return {*m};
  }

  // Whether the customer with move `m` lies inside `box` in every variable.
  bool fits(const Box& box, const Move& m) {
    const auto& vars = a_.vars_;
    Analyser::Example ex;
    for (size_t i = 0; i < p_.fields.size(); ++i) {
      bool moved = static_cast<int32_t>(i) == m.field;
      ex.values.push_back(moved ? m.value : customer_->slots[i]);
      ex.present.push_back(moved ? m.present : customer_->state[i]);
    }
    for (size_t var = 0; var < vars.size() && var < box.size(); ++var) {
      const Var& v = vars[var];
      At at = at_[var];
      if (static_cast<int32_t>(var) == m.field) {
        at = {true, m.present, m.value.n, m.value.s};
      } else if (v.set_field == m.field && v.set_field >= 0) {
        at = {true, true, m.present && ((m.value.n >> v.member) & 1) ? 1 : 0, {}};
      } else if (v.let_slot >= 0 || v.expr_node >= 0) {
        for (const auto& [lv, lin] : a_.linear_vars_) {
          if (lv != static_cast<int32_t>(var)) continue;
          try {
            at = {true, true, a_.linear_value(lin, ex).raw(), {}};
          } catch (const ArithmeticError&) {
            at.known = false;
          }
        }
      }
      if (!covers(box[var], v.universe, v) && !inside(box[var], v, at)) return false;
    }
    return true;
  }

  // The step a number of field `f` moves by past a strict bound: 0.01元 for
  // money, 1 for a count, 0.01 for a decimal (0.01% for a rate), a day for a date.
  int128 step_of(int32_t f) const {
    const auto& field = p_.fields[f];
    switch (field.type.base) {
      case BaseType::date: return 1;
      case BaseType::int_: return kScale;
      case BaseType::money: return kScale / 100;
      default: return p_.percent_slot(f) ? kScale / 10'000 : kScale / 100;
    }
  }

  // A value of field `f` as explanations show values; a set's members in braces.
  std::string show(int32_t f, const Value& v) const {
    std::string text = p_.shown(v, p_.fields[f].type, p_.percent_slot(f));
    if (!p_.fields[f].type.is_set || text == "{}") return text;
    std::string members;
    for (char c : text) members += c == ';' ? std::string(", ") : std::string(1, c);
    return "{" + members + "}";
  }

  // The value of field `f` nearest the customer's inside interval `d`.
  std::optional<Move> number_move(const Dom& d, int32_t f) const {
    const Var& v = a_.vars_[f];
    int128 step = step_of(f);
    bool present = customer_->state[f] != 0;
    int128 cur = customer_->slots[f].n;
    Move m;
    m.field = f;
    int128 x;
    bool up;
    if (!present) {
      x = d.lo <= 0 && d.hi >= 0 ? 0 : d.lo > 0 ? ceil_to(d.lo, step) : floor_to(d.hi, step);
      up = true;
    } else if (cur < d.lo) {
      x = ceil_to(d.lo, step);
      up = true;
    } else if (cur > d.hi) {
      x = floor_to(d.hi, step);
      up = false;
    } else {
      return std::nullopt;
    }
    if (x < d.lo || x > d.hi) x = up ? d.lo : d.hi;
    if (v.whole && x % kScale != 0) return std::nullopt;
    m.value = {x, {}};
    m.distance = present ? abs128(x - cur) : kHigh;
    std::string name = p_.fields[f].name, at = show(f, m.value);
    m.required = at;
    // A bound as the rules wrote it: `> X` is the interval from X + 1 raw unit.
    bool strict_lo = d.lo % step != 0 && (d.lo - 1) % step == 0;
    bool strict_hi = d.hi % step != 0 && (d.hi + 1) % step == 0;
    bool lo_bounded = d.lo > v.universe.lo, hi_bounded = d.hi < v.universe.hi;
    std::string lo_text = lo_bounded ? show(f, {strict_lo ? d.lo - 1 : d.lo, {}}) : "";
    std::string hi_text = hi_bounded ? show(f, {strict_hi ? d.hi + 1 : d.hi, {}}) : "";
    if (!present) {
      m.condition = fmt::format("{} = {}", name, at);
    } else if (up && !hi_bounded) {
      m.condition = fmt::format("{} {} {}", name, strict_lo ? ">" : "≥", lo_text);
      m.strict = strict_lo;
    } else if (!up && !lo_bounded) {
      m.condition = fmt::format("{} {} {}", name, strict_hi ? "<" : "≤", hi_text);
      m.strict = strict_hi;
    } else {
      m.condition = fmt::format("{} in {}{}, {}{}", name, strict_lo ? "(" : "[", lo_text, hi_text, strict_hi ? ")" : "]");
      m.strict = up ? strict_lo : strict_hi;
    }
    return m;
  }

  // The change of field `f` into `box` (the customer is outside it in `f` alone).
  std::optional<Move> move(const Box& box, int32_t f) {
    const auto& field = p_.fields[f];
    const Var& v = a_.vars_[f];
    const Dom& d = box[f];
    bool present = customer_->state[f] != 0;
    if (field.type.is_set) return set_move(box, f);
    if (!d.present || values_empty(d, v)) return std::nullopt;  // only `missing` — no value to propose
    switch (v.kind) {
      case Kind::interval: return number_move(d, f);
      case Kind::mask: {
        int32_t cur = present ? static_cast<int32_t>(customer_->slots[f].n) : 0, best = -1;
        for (int32_t code = 0; code < v.codes; ++code) {
          if (!((d.mask >> code) & 1) || (present && code == cur)) continue;
          if (best < 0 || abs128(code - cur) < abs128(best - cur)) best = code;
        }
        if (best < 0) return std::nullopt;
        Move m;
        m.field = f;
        m.value = {best, {}};
        m.distance = abs128(best - cur);
        m.required = show(f, m.value);
        m.condition = fmt::format("{} = {}", field.name, m.required);
        return m;
      }
      case Kind::text: {
        Move m;
        m.field = f;
        if (d.text_in) {
          if (d.texts.empty()) return std::nullopt;
          m.value = {0, d.texts.front()};
          m.required = std::string(d.texts.front());
          m.condition = fmt::format("{} = \"{}\"", field.name, m.required);
          return m;
        }
        std::string t = "其他";
        for (int k = 1; std::find(d.texts.begin(), d.texts.end(), t) != d.texts.end(); ++k) t = fmt::format("其他{}", k);
        texts_.push_back(t);
        m.value = {0, texts_.back()};
        m.required = t;
        std::string listed;
        for (size_t k = 0; k < d.texts.size() && k < kTextsListed; ++k) listed += fmt::format("{}\"{}\"", k ? ", " : "", d.texts[k]);
        if (d.texts.size() > kTextsListed) listed += fmt::format(", … ({} texts)", d.texts.size());
        m.condition = fmt::format("{} is none of {}", field.name, listed);
        return m;
      }
      case Kind::opaque: return std::nullopt;
    }
    return std::nullopt;
  }

  // A set field: the members the box needs added or taken away.
  std::optional<Move> set_move(const Box& box, int32_t f) {
    const auto& field = p_.fields[f];
    bool text = field.type.base == BaseType::text;
    bool present = customer_->state[f] != 0;
    if (!box[f].present) return std::nullopt;
    int128 mask = present ? customer_->slots[f].n : 0;
    std::vector<std::string> members;  // a set of texts: its texts, in order
    if (text && present) {
      std::string_view s = customer_->slots[f].s;
      size_t start = 0;
      while (!s.empty() && start <= s.size()) {
        size_t end = s.find(eval::kSetSeparator, start);
        if (end == std::string_view::npos) end = s.size();
        members.emplace_back(s.substr(start, end - start));
        start = end + 1;
      }
    }
    std::vector<std::string> changes;
    int128 distance = 0;
    for (int32_t a : a_.atom_) {
      const Var& v = a_.vars_[a];
      if (v.set_field != f) continue;
      bool held = (mask >> v.member) & 1;
      bool want_yes = box[a].mask == 2, want_no = box[a].mask == 1;
      std::string name = text ? fmt::format("\"{}\"", a_.members_[f][v.member]) : p_.enums[field.type.enum_id].members[v.member];
      if (want_yes && !held) {
        changes.push_back(fmt::format("{} contains {}", field.name, name));
        if (text) members.push_back(a_.members_[f][v.member]);
        mask |= static_cast<int128>(1) << v.member;
        ++distance;
      } else if (want_no && held) {
        changes.push_back(fmt::format("{} does not contain {}", field.name, name));
        if (text) members.erase(std::remove(members.begin(), members.end(), a_.members_[f][v.member]), members.end());
        mask &= ~(static_cast<int128>(1) << v.member);
        ++distance;
      }
    }
    if (changes.empty() && present) return std::nullopt;
    Move m;
    m.field = f;
    m.distance = distance;
    if (text) {
      std::string joined;
      for (const auto& t : members) joined += (joined.empty() ? "" : std::string(1, eval::kSetSeparator)) + t;
      texts_.push_back(joined);
      m.value = {field.known_mask(texts_.back()), texts_.back()};
    } else {
      m.value = {mask, {}};
    }
    m.required = show(f, m.value);
    if (changes.empty()) changes.push_back(fmt::format("{} = {}", field.name, m.required));
    for (size_t k = 0; k < changes.size(); ++k) m.condition += (k ? " and " : "") + changes[k];
    return m;
  }

  // The customer lies outside a linear `let` (or expression) of the box: each
  // of its fields in turn, moved so that its value lands at the nearest bound.
  std::vector<Move> linear_moves(const Box& box, const std::vector<int32_t>& linear) {
    std::vector<Move> out;
    int32_t var = linear.front();
    const Linear* lin = nullptr;
    for (const auto& [lv, l] : a_.linear_vars_) {
      if (lv == var) lin = &l;
    }
    if (!lin || !at_[var].known) return out;
    const Dom& want = box[var];
    bool up = at_[var].n < want.lo;
    int128 target = up ? want.lo : want.hi;
    for (auto [f, c] : lin->terms) {
      if (fixed_[f] || c.raw() == 0 || !customer_->state[f]) continue;
      try {
        Decimal x = Decimal::from_raw(customer_->slots[f].n);
        Decimal need = x + (Decimal::from_raw(target) - Decimal::from_raw(at_[var].n)) / c;
        int128 step = step_of(f);
        bool field_up = (c.raw() > 0) == up;
        int128 raw = field_up ? ceil_to(need.raw(), step) : floor_to(need.raw(), step);
        const Var& fv = a_.vars_[f];
        if (raw < fv.universe.lo || raw > fv.universe.hi) continue;
        Move m;
        m.field = f;
        m.value = {raw, {}};
        m.distance = abs128(raw - customer_->slots[f].n);
        m.required = show(f, m.value);
        m.condition = fmt::format("{} {} {}", p_.fields[f].name, field_up ? "≥" : "≤", m.required);
        if (fits(box, m)) out.push_back(std::move(m));
      } catch (const ArithmeticError&) {
      }
    }
    return out;
  }

  // Whether the customer with move `m` gets `t` from `o`; `rejected` says why
  // another decision then rejects them (empty: none does).
  bool reaches(const OutputRegions& o, const Target& t, const Move& m, std::string& rejected) const {
    eval::Frame f = frame();
    f.slots[m.field] = m.value;
    f.state[m.field] = m.present;
    try {
      const Value& v = p_.slot(f, o.slot);
      if (eval::is_missing(v) || v.n != t.value.n) return false;
    } catch (const eval::EvalError&) {
      return false;
    }
    for (const auto& out : p_.outputs) {
      if (out.plan || out.slot < 0 || out.slot == p_.capacity_slot) continue;
      try {
        p_.slot(f, out.slot);
      } catch (const eval::EvalError& e) {
        rejected = fmt::format("`{}`: {}", e.decision.empty() ? out.name : e.decision, e.what());
        break;
      }
    }
    return true;
  }

  // The moved value as a record gives it: money with its unit, a rate of a
  // field `in %` as a percentage, so that the field's own unit does not scale it.
  std::string data(const Move& m) const {
    if (!m.present) return "";
    const auto& field = p_.fields[m.field];
    std::string text = p_.format(m.value, field.type);
    if (field.type.is_set) return text;
    if (field.type.base == BaseType::money) return text + "元";
    if (field.type.base == BaseType::decimal && field.data_scale != 0) {
      return (Decimal::from_raw(m.value.n) * Decimal::from_int(100)).to_string() + "%";
    }
    return text;
  }

  Counterfactual shown(const OutputRegions& o, const Target& t, const Move& m, const std::string& rejected) const {
    Counterfactual c;
    c.output = o.name;
    c.target = t.label;
    c.target_shown = t.shown;
    c.field = p_.fields[m.field].name;
    c.now = customer_->state[m.field] ? show(m.field, customer_->slots[m.field]) : "missing";
    c.required = m.required;
    c.data = data(m);
    c.condition = m.condition;
    c.rejected = rejected;
    std::string now = m.strict ? fmt::format("now {}; nearest {}", c.now, m.required) : "now " + c.now;
    c.text = o.segment ? fmt::format("would be {} if {} ({})", t.shown, m.condition, now)
                       : fmt::format("{} would be {} if {} ({})", o.name, t.shown, m.condition, now);
    if (!rejected.empty()) c.text += fmt::format("; then rejected at {}", rejected);
    return c;
  }
};

}  // namespace analysis

bool has_counterfactual_targets(const eval::Program& p) {
  return std::any_of(p.outputs.begin(), p.outputs.end(), [&](const eval::Output& o) {
    if (o.plan || o.slot < 0 || o.slot == p.capacity_slot) return false;
    return o.slot == p.segment_slot || (!o.type.is_set && (o.type.base == BaseType::enum_ || o.type.base == BaseType::boolean));
  });
}

Nearest::Nearest(const eval::Program& p, std::chrono::milliseconds budget) : search_(std::make_unique<analysis::NearestSearch>(p, budget)) {}

Nearest::~Nearest() = default;

Counterfactuals Nearest::find(const eval::Frame& customer, const std::vector<uint8_t>& fixed) {
  try {
    return search_->find(customer, fixed);
  } catch (const analysis::Unknown& u) {
    Counterfactuals out;
    out.notes.push_back(fmt::format("not searched: {}", u.reason));
    return out;
  }
}

}  // namespace stratum
