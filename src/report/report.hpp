// Reports over a decided portfolio (`stratum report`): what management looks
// at. The portfolio is decided while it streams (memory flat in its size:
// counts, one bounded sample per grid, and with a previous run its keys),
// and summed up as one JSON document — the data behind every chart — which
// render_html() turns into one self-contained page.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/rule_set.hpp"
#include "io/record.hpp"

namespace stratum::report {

struct Options {
  std::string input;               // the portfolio (CSV, JSON Lines or YAML)
  std::optional<std::string> input_format;  // csv, jsonl, yaml; else from the file's name
  std::string previous;            // a previous run's decisions (`stratum eval` output), or empty
  std::string previous_rules;      // or: earlier rules, deciding the same portfolio for the migration
  std::optional<int32_t> as_of;    // days since 1970-01-01
  unsigned threads = 1;
  size_t grid_sample = 2000;       // customers drawn on each grid, at most
  size_t plan_values = 30;         // values shown per plan item; the rest as "(other)"
  size_t rejection_reasons = 50;   // reasons listed; the rest as "(other reasons)"
  size_t rejection_samples = 5;    // sample keys per reason
  io::RecordLimits limits;         // of the input's and the previous run's records
};

// A problem in what the user gave (a missing column, a malformed record of
// the previous run, rules that lack what is compared): exit status 1.
struct InputProblem : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Decides the portfolio and sums it up. Throws InputProblem, or
// std::runtime_error when a file cannot be read at all; each with a message
// fit for the user.
nlohmann::ordered_json build(const engine::RuleSet& rules, const Options& options);

// The page: the data, Chart.js (Debian's, inlined when Stratum was built)
// and the code that draws the charts. Opens offline; fetches nothing.
std::string render_html(const nlohmann::ordered_json& data);

}  // namespace stratum::report
