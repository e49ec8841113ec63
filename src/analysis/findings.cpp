// Analyser, findings: gaps, overlaps and unreachable branches and rows of
// decision lists, tables and the segment tree, each with a customer who
// shows it, or `not-proven`.
#include "analysis/analyser.hpp"

#include <algorithm>
#include <functional>
#include <tuple>

#include <fmt/format.h>

namespace stratum::analysis {

// ---- findings ---------------------------------------------------------------

// A gap is reported only with a customer for whom evaluation confirms it:
// the failure names this very node (`where`: "no branch of `x`", …). A
// customer rejected earlier, by another decision, shows no gap here; when
// that is all the analysis finds, the finding is `not-proven`.
void Analyser::gap(Span at, const std::string& what, const Boxes& left, int32_t confirm_slot,
                   const std::string& why, const std::string& where) {
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

void Analyser::overlaps_not_proven(const eval::Table& tab, const std::string& why) {
  auto& d = diags_.warning("not-proven", tab.span, fmt::format("could not prove that no two rows of table `{}` both apply", tab.name));
  d.notes.push_back({fmt::format("because {}", why), {}});
}

void Analyser::could_not_prove(Span at, const std::string& what, const std::string& why) {
  auto& d = diags_.warning("not-proven", at, fmt::format("could not prove that {} applies to every customer", what));
  d.notes.push_back({fmt::format("because {}; add an `else` (or a catch-all row) to make it total", why), {}});
}

// `shadowing`: customers the row's own condition describes; one of them
// (all earlier ones take it) is shown, with the earlier row that does when known.
// `applies`, when given, confirms that the row's own condition holds for a
// customer before it is shown (the boxes may over-approximate it).
Diagnostic& Analyser::unreachable(Span at, bool never, const std::string& what, const Boxes& shadowed,
                                  const std::function<std::string(const Example&)>& taker,
                                  const std::function<bool(const Example&)>& applies) {
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
void Analyser::fields_compared(int32_t node, std::vector<int32_t>& out, int depth) const {
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

int32_t Analyser::slot_of_derived(int32_t d) const { return static_cast<int32_t>(p_.fields.size()) + d; }

// A branch whose condition the analysis cannot model makes the customers
// left for later branches an over-approximation: findings of later
// branches stay sound (a branch unreachable even for the larger set is
// unreachable), an empty remainder still proves the decision total, and a
// gap is reported only when evaluation confirms it (else `not-proven`).
void Analyser::decide(int32_t d) {
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

void Analyser::table(int32_t t) {
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
      // Computed values may be missing where the table says so (`x?`).
      bool optional = tab.propagate_missing || (c < tab.column_may_be_missing.size() && tab.column_may_be_missing[c]);
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
  // A row of `-` in every column applies to everyone: the table is total
  // whatever the rows before it leave.
  bool catch_all = std::any_of(tab.rows.begin(), tab.rows.end(), [](const eval::Row& r) {
    return std::all_of(r.tests.begin(), r.tests.end(), [](const eval::CellTest& c) { return c.kind == TestKind::any; });
  });
  bool needs_match = !(tab.policy == eval::HitPolicy::collect &&
                       (tab.collect == eval::CollectOp::list || tab.collect == eval::CollectOp::sum ||
                        tab.collect == eval::CollectOp::count)) &&
                     tab.policy != eval::HitPolicy::rule_order && tab.policy != eval::HitPolicy::output_order &&
                     !tab.has_else;
  bool single_hit = tab.policy == eval::HitPolicy::unique || tab.policy == eval::HitPolicy::any;
  try {
    std::vector<Boxes> rows;
    for (const auto& r : tab.rows) rows.push_back(row(tab, r, column_vars));
    bool first_like = tab.policy == eval::HitPolicy::first;
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
    if (single_hit) overlaps(t, rows, column_vars);
    if (needs_match && !catch_all) {
      int32_t confirm = tab.output_slots.empty() ? -1 : tab.output_slots[0];
      if (!left_known) could_not_prove(tab.span, fmt::format("a row of table `{}`", tab.name), left_why);
      else if (!left.empty()) {
        gap(tab.span, what, left, confirm, "the customers it leaves out depend on computed values",
            fmt::format("no row of table `{}`", tab.name));
      }
    }
  } catch (const Unknown& u) {
    // Neither of the table's proofs is given: each is said not proven.
    if (needs_match && !catch_all) could_not_prove(tab.span, fmt::format("a row of table `{}`", tab.name), u.reason);
    if (single_hit) overlaps_not_proven(tab, u.reason);
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
std::vector<std::pair<size_t, size_t>> Analyser::candidate_pairs(const std::vector<Boxes>& rows, const std::vector<int32_t>& column_vars,
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

void Analyser::overlaps(int32_t t, const std::vector<Boxes>& rows, const std::vector<int32_t>& column_vars) {
  const eval::Table& tab = p_.tables[t];
  int reported = 0;
  std::optional<std::pair<size_t, size_t>> unsettled;
  auto gave_up = [&](const Unknown& u) { overlaps_not_proven(tab, u.reason); };
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

bool Analyser::same_outputs(const eval::Table& tab, size_t i, size_t j) const {
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
void Analyser::segment(int32_t node, Boxes region, bool exact, std::string why) {
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

}  // namespace stratum::analysis
