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
//
// The boxes are analysis/boxes.hpp; the analysis itself is split by phase
// (analysis/analyser.hpp). Here are its variables, its time budget, the
// order of its proofs and the entry point.
#include "analysis/analyze.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "analysis/analyser.hpp"

namespace stratum {

namespace analysis {

Analyser::Analyser(const Program& p, Diagnostics& diags, std::chrono::milliseconds budget, const Program* peer,
                   bool peer_first)
    : p_(p), diags_(diags), budget_(budget), deadline_(std::chrono::steady_clock::now() + budget) {
  for (const auto& f : p.fields) vars_.push_back(make_var(f.name, f.type, f.optional, true, &f));
  // Membership in a set field is a yes/no variable per member the rules test.
  members_.resize(p.fields.size());
  for (size_t i = 0; i < p.fields.size(); ++i) {
    const auto& f = p.fields[i];
    if (!f.type.is_set) continue;
    if (f.type.base == BaseType::text) {
      // In one order for both of two compared rule sets: one's texts, then
      // the other's it lacks.
      std::vector<std::string> first = f.known_members;
      if (peer && i < peer->fields.size()) {
        std::vector<std::string> second = peer->fields[i].known_members;
        if (peer_first) std::swap(first, second);
        for (auto& t : second) if (std::find(first.begin(), first.end(), t) == first.end()) first.push_back(t);
      }
      members_[i] = std::move(first);
    }
    size_t members = f.type.base == BaseType::enum_ ? p.enums[f.type.enum_id].members.size() : members_[i].size();
    for (size_t m = 0; m < members; ++m) {
      Var v = make_var(f.name, Type::of(BaseType::boolean), false, true, nullptr);
      v.set_field = static_cast<int32_t>(i);
      v.member = static_cast<int32_t>(m);
      atom_.push_back(static_cast<int32_t>(vars_.size()));
      vars_.push_back(v);
    }
  }
  // An enum or boolean decision is a variable of its own where its regions
  // cannot be computed: its value is then one of those it can take, which
  // proves a match that names each of them total.
  decision_var_.assign(p.derived.size(), -1);
  for (size_t d = 0; d < p.derived.size(); ++d) {
    const auto& der = p.derived[d];
    bool decision = der.kind == eval::DerivedKind::decide || der.kind == eval::DerivedKind::table;
    if (!decision || der.type.is_set || (der.type.base != BaseType::enum_ && der.type.base != BaseType::boolean)) continue;
    auto [mask, missing] = possible_values_of_derived(d, 0);
    Var v = make_var(der.name, der.type, missing, false, nullptr);
    v.universe.mask &= mask;
    decision_var_[d] = static_cast<int32_t>(vars_.size());
    vars_.push_back(v);
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

void Analyser::run() {
  for (size_t d = 0; d < p_.derived.size(); ++d) {
    const auto& der = p_.derived[d];
    if (der.kind == eval::DerivedKind::decide) decide(static_cast<int32_t>(d));
  }
  for (size_t t = 0; t < p_.tables.size(); ++t) table(static_cast<int32_t>(t));
  if (!p_.segment_nodes.empty()) segment(0, Boxes{universe()});
}

Var Analyser::make_var(const std::string& name, const Type& t, bool optional, bool field, const eval::Field* f) {
  Var v;
  v.name = name;
  v.type = t;
  v.field = field;
  v.universe.missing = optional;
  if (t.is_set || t.is_duration() || t.base == BaseType::error) {
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

// Called in the analysis' inner loops: past the time budget, what is
// being proven is given up (Unknown), never waited for.
void Analyser::tick() const {
  if (++ticks_ % 1024 != 0) return;
  if (out_of_time_ || std::chrono::steady_clock::now() > deadline_) {
    out_of_time_ = true;
    throw Unknown{fmt::format("the analysis ran past its time budget ({} s for a rule file)", budget_.count() / 1000.0)};
  }
}

}  // namespace analysis

void analyse(const eval::Program& program, Diagnostics& diags, std::chrono::milliseconds budget) {
  analysis::Analyser(program, diags, budget).run();
}

}  // namespace stratum
