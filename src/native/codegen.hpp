// The C++ source of a rule set compiled ahead of time (`stratum build
// --native`): one function per computed value, the program's nodes written
// out as expressions over exact decimals, the segment tree as jumps. What
// the generator does not write out (tables, scorecards, dates, stability,
// capacity, …) is left to the interpreter, value by value, through the
// callbacks of native/abi.hpp. The source is a function of the program
// alone: the same rules give the same text, and its hash (the fingerprint)
// tells a library built from other rules.
#pragma once

#include <string>
#include <vector>

#include "eval/program.hpp"

namespace stratum::native {

struct Generated {
  std::string source;       // the whole translation unit
  std::string fingerprint;  // hex; also written into the source
  size_t compiled = 0;      // computed values written out
  // The computed values left to the interpreter, each "name: why".
  std::vector<std::string> interpreted;
};

Generated generate(const eval::Program& program);

}  // namespace stratum::native
