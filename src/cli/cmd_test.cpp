// stratum test RULES… [CASES.yaml…] — run the `test` blocks of rule files and
// YAML case files; closing line `N passed, M failed`.
#include <filesystem>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "driver/testing.hpp"
#include "value/date.hpp"

namespace stratum::cli {

namespace {
constexpr const char* kHelp = R"(usage: stratum test RULES… [CASES.yaml…] [--as-of YYYY-MM-DD] [--verbose] [--coverage]

Runs the `test` blocks of each rule file, the YAML case files named (against
the one rule file named), and for each rule file X.strat the case file
X.cases.yaml beside it when there is one.

A YAML case file is a list of cases:
  - name: 工业 300人 2000万元 为中型
    given: { industry: 工业, employees: 300, revenue: 20000000, total_assets: 0 }
    expect: { 规模: 中型 }
Values are written as in data files (money in yuan, plain decimals); a set's
members or a list's items as a YAML list (`[甲, 乙]`, `[]` when empty), no
value as `missing`.

  --as-of YYYY-MM-DD   the date `today` stands for in the tests
  --verbose            list every test, not only the failing ones
  --coverage           list every branch, table row, grid cell, scorecard bin
                       and plan item that no test reached (any makes the
                       exit status 1)

Exit status: 0 all passed, 1 a test failed or a rule file has errors, 2 usage.
)";

bool is_yaml(const std::string& p) { return p.ends_with(".yaml") || p.ends_with(".yml"); }
}  // namespace

int test(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--verbose", "-v", "--coverage"}, {"--as-of"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("test", *args.error());
  std::optional<int32_t> as_of;
  if (auto d = args.value("--as-of")) {
    as_of = parse_iso_date(*d);
    if (!as_of) return usage_error("test", fmt::format("--as-of {}: expected a date YYYY-MM-DD", *d));
  }
  bool verbose = args.flag("--verbose") || args.flag("-v");
  std::vector<std::string> rules, cases;
  for (const auto& p : args.positionals()) {
    if (is_yaml(p)) { cases.push_back(p); continue; }
    std::string error;
    auto files = rule_files(p, error);
    if (!error.empty()) { fmt::print(stderr, "stratum test: {}\n", error); return kUsage; }
    rules.insert(rules.end(), files.begin(), files.end());
  }
  if (rules.empty()) return usage_error("test", "name the rule files (or directories) to test");
  if (!cases.empty() && rules.size() != 1) {
    return usage_error("test", "YAML case files run against one rule file: name exactly one");
  }
  size_t passed = 0, failed = 0, uncovered = 0;
  auto report = [&](const std::vector<TestOutcome>& outcomes) {
    for (const auto& o : outcomes) {
      if (o.passed) {
        ++passed;
        if (verbose) fmt::print("ok    {}  {}\n", o.where, o.name);
      } else {
        ++failed;
        fmt::print("FAIL  {}  {}\n", o.where, o.name);
        for (const auto& p : o.problems) fmt::print("      {}\n", p);
      }
    }
  };
  for (const auto& path : rules) {
    Compilation c;
    try {
      c = compile(path);
    } catch (const std::runtime_error& e) {
      fmt::print(stderr, "stratum test: {}\n", e.what());
      return kUsage;
    }
    std::string diags = c.render();
    if (!diags.empty()) fmt::print(stderr, "{}", diags);
    if (!c.ok()) {
      ++failed;
      fmt::print("FAIL  {}  (the rule file has errors; its tests did not run)\n", path);
      continue;
    }
    std::vector<uint8_t> covered(c.program->coverage_points.size(), 0);
    std::vector<uint8_t>* cov = args.flag("--coverage") ? &covered : nullptr;
    report(run_test_blocks(c, as_of, cov));
    std::vector<std::string> files = cases;
    std::filesystem::path sibling = std::filesystem::path(path).replace_extension(".cases.yaml");
    std::error_code ec;
    if (cases.empty() && std::filesystem::exists(sibling, ec)) files.push_back(sibling.string());
    for (const auto& f : files) report(run_yaml_cases(c, f, as_of, cov));
    if (cov) {
      size_t missed = 0;
      for (size_t i = 0; i < covered.size(); ++i) {
        if (covered[i]) continue;
        const auto& point = c.program->coverage_points[i];
        fmt::print("not covered  {}:{}  {}\n", point.file, point.line, point.what);
        ++missed;
      }
      fmt::print("coverage  {}: {} of {} reached\n", path, covered.size() - missed, covered.size());
      uncovered += missed;
    }
  }
  fmt::print("{} passed, {} failed\n", passed, failed);
  return failed > 0 || uncovered > 0 ? kInputProblem : kOk;
}

}  // namespace stratum::cli
