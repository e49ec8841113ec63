// stratum explain RULES --record JSON|YAML — one customer, a readable trace
// of why: the path through the segment tree, each condition with the values
// that decided it, the table rows and grid cells that matched, the scorecard's
// reason codes, and which node's plan each service item comes from; with
// --nearest, what one changed field would move the customer to.
#include <fmt/format.h>

#include "cli/cli.hpp"
#include "engine/decider.hpp"
#include "engine/versions.hpp"
#include "io/bind.hpp"
#include "io/readers.hpp"
#include "value/date.hpp"

namespace stratum::cli {

namespace {
constexpr const char* kHelp = R"(usage: stratum explain RULES --record RECORD [--as-of YYYY-MM-DD] [--ruleset NAME] [--previous PREV [--previous-format F]] [--nearest [--fixed F1,F2]]

Evaluates one customer and prints why each result came out as it did. RULES
may be a folder of versions of a rule set: the one in force on --as-of is used.

  --record RECORD     the customer as JSON or YAML, e.g.
                      '{"id": "C1", "loan_balance": 1500000, "market": "公司", …}'
                      (a file name is read when it ends in .json or .yaml)
  --as-of YYYY-MM-DD  the evaluation date: what `today` stands for, and which
                      version of the rules is in force
  --ruleset NAME      the rule set, when the folder RULES holds several
  --previous PREV     the previous period's output of these rules (as `eval`
                      wrote it): stability rules hold the customer as there
  --previous-format F csv or jsonl, when the name of PREV does not tell
  --nearest           then, for each other segment and each other value of an enum
                      or bool decision, the smallest change of ONE input field that
                      gets it (each change evaluated before it is shown), e.g.
                      `would be 大型客户 if revenue ≥ 3亿 (now 2.6亿)`
  --fixed F1,F2       with --nearest: fields never changed, besides those the
                      rules declare `fixed`

The heading names the rule set, its version and its content hash.
In the trace, ✓ marks the branch or row taken and ✗ one tried and passed
over, each with its line in the rule file and the values it looked at.

Exit status: 0 decided; 1 the record is rejected or the rules have errors; 2 usage.
)";
}  // namespace

int explain(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--nearest"}, {"--record", "--as-of", "--ruleset", "--fixed", "--previous", "--previous-format"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("explain", *args.error());
  if (args.positionals().size() != 1) return usage_error("explain", "name one rule file: stratum explain RULES --record '{…}'");
  auto record = args.value("--record");
  if (!record) return usage_error("explain", "--record is required: the customer as JSON or YAML");
  std::optional<int32_t> as_of;
  if (auto d = args.value("--as-of")) {
    as_of = parse_iso_date(*d);
    if (!as_of) return usage_error("explain", fmt::format("--as-of {}: expected a date YYYY-MM-DD", *d));
  }
  std::shared_ptr<const engine::RuleSet> rules;
  std::string rules_path;
  try {
    rules_path = engine::choose_rule_file(args.positionals()[0], {as_of, args.value("--ruleset").value_or("")});
    rules = engine::RuleSet::load(rules_path);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum explain: {}\n", e.what());
    return kUsage;
  }
  std::string diags = rules->compilation().render();
  if (!diags.empty()) fmt::print(stderr, "{}", diags);
  if (!rules->ok()) return kInputProblem;
  const eval::Program& program = rules->program();
  if (as_of && program.effective && rules_path != args.positionals()[0]) {
    fmt::print(stderr, "rules in force on {}: {} ({})\n", format_date(*as_of),
               engine::describe(program.ruleset, program.version, program.effective), rules_path);
  }
  std::shared_ptr<const engine::PreviousRun> previous;
  if (int status = previous_run(args, "explain", program, "", previous); status != kOk) return status;
  if (program.uses_today && !as_of) {
    return usage_error("explain", "the rules use `today`: give the evaluation date with --as-of YYYY-MM-DD");
  }
  bool nearest = args.flag("--nearest");
  if (args.value("--fixed") && !nearest) return usage_error("explain", "--fixed goes with --nearest");
  std::vector<uint8_t> fixed;
  if (nearest) {
    if (!has_counterfactual_targets(program)) {
      return usage_error("explain", "--nearest: the rules have no segment tree and no enum or bool decision: there is nothing to move the customer to");
    }
    std::vector<std::string> names;
    if (auto list = args.value("--fixed")) {
      size_t start = 0;
      while (start <= list->size()) {
        size_t end = list->find(',', start);
        if (end == std::string::npos) end = list->size();
        std::string name = list->substr(start, end - start);
        while (!name.empty() && name.front() == ' ') name.erase(name.begin());
        while (!name.empty() && name.back() == ' ') name.pop_back();
        if (!name.empty()) names.push_back(name);
        start = end + 1;
      }
    }
    try {
      fixed = engine::fixed_fields(program, names);
    } catch (const std::invalid_argument& e) {
      return usage_error("explain", fmt::format("--fixed: {}", e.what()));
    }
  }
  std::string text = *record;
  try {
    if (text.ends_with(".json") || text.ends_with(".yaml") || text.ends_with(".yml")) text = io::read_file(text);
    auto reader = io::make_record_reader(text);
    io::Binder binder(program);
    reader->open(binder.columns(), binder.required());
    io::RawRecord raw;
    if (!reader->next(raw)) return usage_error("explain", "the record is empty");
    engine::Options options;
    options.as_of = as_of;
    options.explain = true;
    options.previous = previous;
    engine::Decider decider(*rules, options);
    engine::Explanation e = engine::explain(decider, raw);
    if (nearest) engine::add_nearest(decider, e, fixed);
    fmt::print("{}", engine::render(e, *rules, rules_path, as_of ? *args.value("--as-of") : std::string()));
    return e.outcome == engine::Explanation::Outcome::decided ? kOk : kInputProblem;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum explain: {}\n", e.what());
    return kUsage;
  }
}

}  // namespace stratum::cli
