// Analyser: the analysis of one program, one file per phase (internal to
// src/analysis; analyse() in analyze.cpp is the entry point):
//   analyze.cpp      the variables of the analysis, the time budget, the order
//                    of the proofs
//   boxes.cpp        regions of customers as unions of boxes (boxes.hpp)
//   conditions.cpp   conditions, decisions and table rows as boxes; linear values
//   witnesses.cpp    counter-examples: a customer inside a box, shown and evaluated
//   findings.cpp     gaps, overlaps and unreachable rows of decisions, tables and
//                    the segment tree
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/analyze.hpp"
#include "analysis/boxes.hpp"

namespace stratum::analysis {

using eval::Cmp;
using eval::Op;
using eval::Program;
using eval::TestKind;
using eval::Value;

// A `let` linear in the inputs: constant + Σ coefficient × field (a missing
// optional field under `??` counts as its default).
struct Linear {
  Decimal constant;
  std::vector<std::pair<int32_t, Decimal>> terms;  // field slot → coefficient
  std::vector<std::pair<int32_t, Decimal>> defaults;  // field slot → value when missing (from `??`)
};

class Analyser {
 public:
  // With `peer` (a rule set this one is compared with, over the same
  // fields), the membership variables are those of the texts either tests,
  // in one order (the peer's first when `peer_first`), so the two
  // analysers' field variables are the same.
  Analyser(const Program& p, Diagnostics& diags, std::chrono::milliseconds budget, const Program* peer = nullptr,
           bool peer_first = false);

  void run();

 private:
  const Program& p_;
  Diagnostics& diags_;
  std::vector<Var> vars_;
  std::vector<int32_t> atom_;  // the membership variables
  // Per set<text> field, the texts of its membership variables (`member`
  // indexes these; the program's known_members come first).
  std::vector<std::vector<std::string>> members_;
  std::vector<std::pair<int32_t, Linear>> linear_vars_;  // variable → its definition
  size_t base_vars_ = 0;       // fields and membership atoms; computed columns come after
  // A decision's values as regions of customers, computed once when a condition uses it.
  std::vector<std::optional<std::vector<std::pair<Boxes, Value>>>> partitions_;
  std::vector<uint8_t> partition_busy_;
  // Per derived value: the variable standing for an enum or boolean
  // decision's value where its regions cannot be computed (-1: none).
  std::vector<int32_t> decision_var_;
  std::deque<std::string> texts_;  // counter-example texts, kept alive
  std::chrono::milliseconds budget_;
  std::chrono::steady_clock::time_point deadline_;
  mutable uint64_t ticks_ = 0;
  mutable bool out_of_time_ = false;
  // The box algebra over vars_, within the time budget.
  BoxAlgebra boxes_{vars_, [this] { tick(); }};

  // A value inside the box for every field, valid under its domain, or nullopt
  // when the box needs a computed column's value (no customer can be built).
  struct Example {
    std::vector<Value> values;
    std::vector<uint8_t> present;
  };

  Var make_var(const std::string& name, const Type& t, bool optional, bool field, const eval::Field* f);
  void tick() const;

  Box universe() const { return boxes_.universe(); }
  Boxes subtract(const Boxes& from, const Boxes& what) const { return boxes_.subtract(from, what); }
  Boxes intersect(const Boxes& a, const Boxes& b) const { return boxes_.intersect(a, b); }
  Box with(int32_t var, Dom d) const { return boxes_.with(var, d); }

  // ---- conditions.cpp -------------------------------------------------------
  void find_linear_sides(int32_t node, int depth);
  std::optional<Linear> linear(int32_t node, int depth) const;
  static void add_term(Linear& l, int32_t field, Decimal c);
  static Linear scale(Linear l, Decimal k);
  int32_t linear_var_of(int32_t node) const;
  int32_t atom_var(int32_t field, int32_t member) const;

  int32_t var_of(int32_t node) const;
  Dom present_dom(const Var& v) const;
  static unsigned __int128 mask_of(const eval::ConstSet& set, const Var& v);
  Boxes points_of(int32_t var, const eval::ConstSet& set) const;
  std::optional<Boxes> set_size_region(const eval::Node& n) const;
  Boxes compare(int32_t var, Cmp cmp, const Value& k, bool flipped);
  Boxes condition(int32_t node, int depth = 0);
  static bool holds(Cmp c, int128 a, int128 b);
  Boxes decision_where(int32_t slot, const std::function<bool(const Value&)>& pred, int depth);
  const std::vector<std::pair<Boxes, Value>>& partition(int32_t slot, int depth);
  // The values an enum or boolean node can take (a mask of codes), and
  // whether it can be missing: over-approximated, never under.
  std::pair<unsigned __int128, bool> possible_values(int32_t node, int depth) const;
  std::vector<std::pair<Boxes, Value>> node_partition(int32_t node, const std::string& of, int depth);
  std::pair<unsigned __int128, bool> possible_values_of_derived(size_t d, int depth) const;
  Boxes row(const eval::Table& t, const eval::Row& r, const std::vector<int32_t>& column_vars);

  // ---- witnesses.cpp --------------------------------------------------------
  std::optional<Example> example(const Box& b);
  Decimal linear_value(const Linear& lin, const Example& ex) const;
  bool linear_fit(const Linear& lin, const Dom& want, const Box& b, Example& ex);
  std::vector<ExampleValue> describe(const Example& ex) const;
  eval::Frame frame_of(const Example& ex) const;
  std::optional<std::string> failure(const Example& ex, int32_t slot) const;
  std::string branch_taking(const eval::Derived& der, const Example& ex, const eval::Branch* before) const;

  // ---- findings.cpp ---------------------------------------------------------
  void gap(Span at, const std::string& what, const Boxes& left, int32_t confirm_slot,
           const std::string& why = "the customers it leaves out depend on computed values", const std::string& where = {});
  void could_not_prove(Span at, const std::string& what, const std::string& why);
  void overlaps_not_proven(const eval::Table& tab, const std::string& why);
  Diagnostic& unreachable(Span at, bool never, const std::string& what, const Boxes& shadowed = {},
                          const std::function<std::string(const Example&)>& taker = nullptr,
                          const std::function<bool(const Example&)>& applies = nullptr);
  void fields_compared(int32_t node, std::vector<int32_t>& out, int depth) const;
  int32_t slot_of_derived(int32_t d) const;
  void decide(int32_t d);
  void table(int32_t t);
  std::vector<std::pair<size_t, size_t>> candidate_pairs(const std::vector<Boxes>& rows, const std::vector<int32_t>& column_vars,
                                                         bool& all) const;
  void overlaps(int32_t t, const std::vector<Boxes>& rows, const std::vector<int32_t>& column_vars);
  bool same_outputs(const eval::Table& tab, size_t i, size_t j) const;
  void segment(int32_t node, Boxes region, bool exact = true, std::string why = {});

  friend class Comparer;  // compare.cpp: a rule set against the one it extends
  friend class NearestSearch;  // nearest.cpp: counterfactuals for one customer
};

}  // namespace stratum::analysis
