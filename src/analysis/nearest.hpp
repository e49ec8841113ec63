// nearest: counterfactual reasons — for one decided customer, each other
// leaf of the segment tree and each other value of an enum or bool decision
// that a change of ONE input field reaches, with the smallest such change.
//
// It reads the analysis' regions (the boxes where an output has each value):
// a box that holds the customer in every variable but those of one field is
// reachable by moving that field into the box, to the box's nearest bound
// (`>= 3亿`: 3亿; `> 0元`: 0.01元 for money, the next whole number for a
// count, the next day for a date). Boxes over a decision the analysis cannot
// split into regions need a computed value to change, not a field: they are
// not tried (notes say so). Every change proposed is evaluated with the real
// evaluator first, and kept only when the output really takes the value.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eval/program.hpp"

namespace stratum {

// One change of one field that moves the customer to another value of an output.
struct Counterfactual {
  std::string output;     // `segment`, or the decision's name
  std::string target;     // the value the output would take (the segment: the leaf's path)
  std::string target_shown;  // the leaf's name, or the value
  std::string field;      // the one input field changed
  std::string now;        // its value now, as the rules write values (`2.6亿`, `12%`, `missing`)
  std::string required;   // the value evaluated (`3亿`, `公司`, `{制造, 互联网}`)
  std::string data;       // the same as a data file gives it, in any unit the field declares
                          // (`300000000元`, `12%`, a set's members joined by `;` —
                          // empty for the empty set; for any other field: missing)
  std::string condition;  // `revenue ≥ 3亿`, `所属市场 = 公司`, `业务标签 contains "互联网"`
  std::string rejected;   // non-empty: the changed customer is rejected elsewhere, with this reason
  std::string text;       // `would be 大型客户 if revenue ≥ 3亿 (now 2.6亿)`
};

// The values of an output that no change of one field reaches (as far as
// the analysis' regions tell).
struct OutOfReach {
  std::string output;
  std::vector<std::string> values;
};

struct Counterfactuals {
  std::vector<Counterfactual> moves;     // by output, then value (declaration order), then field
  std::vector<OutOfReach> out_of_reach;
  std::vector<std::string> notes;        // what was not tried, and why
};

// Whether the rules have anything to move a customer to: a segment tree, or
// an enum or bool decision among the outputs.
bool has_counterfactual_targets(const eval::Program& p);

namespace analysis {
class NearestSearch;
}

// The search for one rule set; the regions are computed once, at the first
// customer. Not thread-safe: one per thread.
class Nearest {
 public:
  explicit Nearest(const eval::Program& p, std::chrono::milliseconds budget = std::chrono::milliseconds{5'000});
  ~Nearest();
  Nearest(const Nearest&) = delete;
  Nearest& operator=(const Nearest&) = delete;

  // `customer`: a frame with the customer's fields bound (and `today` where
  // the rules use it), decided. `fixed`: per field slot, 1 for a field that
  // may not move, besides those the rules declare `fixed`.
  Counterfactuals find(const eval::Frame& customer, const std::vector<uint8_t>& fixed = {});

 private:
  std::unique_ptr<analysis::NearestSearch> search_;
};

}  // namespace stratum
