// Running the tests that live beside rules: `test` blocks in a rule file and
// YAML case files (a list of {name, given, expect} maps).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "driver/stratum.hpp"

namespace stratum {

struct TestOutcome {
  std::string name;
  std::string where;    // file:line
  bool passed = false;
  std::vector<std::string> problems;  // "规模: expected 中型, got 小型"
};

// Runs the `test` blocks compiled into the program. With `covered` (sized to
// the program's coverage points), marks what the tests reached.
std::vector<TestOutcome> run_test_blocks(const Compilation& c, std::optional<int32_t> as_of,
                                         std::vector<uint8_t>* covered = nullptr);

// Runs the cases of a YAML file against the program. A malformed case file
// yields one failed outcome saying what is wrong with it.
std::vector<TestOutcome> run_yaml_cases(const Compilation& c, const std::string& path, std::optional<int32_t> as_of,
                                        std::vector<uint8_t>* covered = nullptr);

}  // namespace stratum
