// stratum diff — what moves on a portfolio: every customer is decided twice
// (by two rule files, or by one rule file against an earlier run read from
// its output), and the migrations old → new are counted: a list of changes,
// largest first, with sample keys; the migration matrix of the decision
// compared; the plan items that change (cli/migration.hpp prints them).
#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "cli/migration.hpp"
#include "engine/capacity.hpp"
#include "engine/decider.hpp"
#include "engine/previous.hpp"
#include "engine/versions.hpp"
#include "io/bind.hpp"
#include "io/decided.hpp"
#include "io/readers.hpp"
#include "value/date.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum diff OLD NEW --input FILE [options]
       stratum diff RULES --input FILE --previous PREV [options]

Decides every customer of FILE with the rule files OLD and NEW, or with RULES
against an earlier run (PREV, what `stratum eval` wrote for an earlier
portfolio, joined by the rules' key), and shows how the customers move: a
line per change (old → new) with its count and sample keys, largest first;
the migration matrix of the decision compared (old value × new value, in
customers, in % of all and in % of each old value, with totals); and for
each plan item both sides have, the customers whose item changed.

  --input FILE          the portfolio: .csv, .jsonl or .yaml
  --input-format F      csv, jsonl or yaml, when the file name does not tell
  --previous PREV       compare with an earlier run: the output of `stratum
                        eval` (.csv or .jsonl; "-" for standard input); a
                        customer absent from PREV is (new), one absent from
                        FILE is (gone)
  --previous-format F   csv or jsonl, when the name of PREV does not tell
  --by NAME             compare this decision (default: the segment when both
                        sides have a segment tree, else the first enum or bool
                        decision)
  --format F            text (default), csv (one line per non-empty cell:
                        what,old,new,customers,share,share_of_old; `what` is
                        the decision or plan.ITEM) or json (one object)
  --as-of YYYY-MM-DD    the date `today` stands for; a folder of versions (OLD,
                        NEW or RULES) stands for the one in force on it
  --ruleset NAME        the rule set, when such a folder holds several
  --samples N           sample keys per change (default 3)

A customer a side rejects shows as (rejected); a missing value as (none).
Shares are percentages with one decimal, rounded half up.

Exit status: 0 compared (whatever changed); 1 rule errors, a missing column,
or a PREV that is malformed, lacks the key or the decision, or names a key
twice; 2 usage or I/O error.
)";

struct Side {
  std::shared_ptr<const engine::RuleSet> rules;
  const eval::Output* output = nullptr;  // the decision compared
};

// The output to compare: `--by`, else the segment, else the first enum/bool decision.
const eval::Output* pick(const eval::Program& p, const std::optional<std::string>& by) {
  for (const auto& o : p.outputs) {
    if (by && o.name == *by && !o.plan) return &o;
  }
  for (const auto& o : p.outputs) {
    if (by && o.name == *by) return &o;
  }
  if (by) return nullptr;
  for (const auto& o : p.outputs) {
    if (!o.plan && !o.type.is_set && (o.type.base == BaseType::enum_ || o.type.base == BaseType::boolean)) return &o;
  }
  return nullptr;
}

// The output's values in declaration order (members; leaves in tree order).
std::vector<std::string> declared(const eval::Program& p, const eval::Output& o) {
  if (o.type.is_set) return {};
  if (o.type.base == BaseType::enum_ && o.type.enum_id >= 0) return p.enums[o.type.enum_id].members;
  if (o.type.base == BaseType::boolean) return {"true", "false"};
  return {};
}

std::string text_of(const engine::Decider& d, const eval::Program& p, const eval::Output& o) {
  const eval::Value& v = d.frame().slots[o.slot];
  if (eval::is_missing(v)) return std::string(kNone);
  std::string text = p.format(v, o.type);
  return text.empty() ? std::string(kNone) : text;  // as an earlier run's empty field reads
}

// The input's records, decided by one rule set (capacity limits applied as
// `eval` applies them: ranked in a pass of their own).
struct Decision {
  std::unique_ptr<io::Reader> reader;
  std::unique_ptr<engine::Decider> decider;
  std::optional<engine::CapacityPlan> capacity;
  io::RawRecord raw;

  // Whether the next record could be read; `decided` tells its fate.
  bool next(bool& decided) {
    if (!reader->next(raw)) return false;
    engine::Rejection why;
    decided = decider->decide(raw, why) && (!capacity || capacity->apply(*decider, raw.number, why));
    return true;
  }
  std::string sample_key() const {
    std::string key = decider->key_text(raw);
    return key.empty() ? fmt::format("record {}", raw.number) : key;
  }
};

// Opens the input for `rules`; a message (for the user) when it cannot.
std::optional<std::string> open(Decision& d, const engine::RuleSet& rules, const std::string& input, io::Format format,
                                const engine::Options& options) {
  const auto& p = rules.program();
  d.reader = io::open_reader(input, format);
  io::Binder binder(p);
  if (auto problem = d.reader->open(binder.columns(), binder.required())) return problem;
  d.decider = std::make_unique<engine::Decider>(rules, options);
  if (!p.capacities.empty()) {
    auto first = io::open_reader(input, format);
    if (auto problem = first->open(binder.columns(), binder.required())) return problem;
    engine::StreamOptions so;
    so.decide = options;
    so.threads = std::max(1u, std::thread::hardware_concurrency());
    d.capacity = engine::CapacityPlan::make(rules, *first, so);
  }
  return std::nullopt;
}

// The plan items both programs have, by name: (old output, new output).
std::vector<std::pair<const eval::Output*, const eval::Output*>> shared_plan_items(const eval::Program& a,
                                                                                  const eval::Program& b) {
  std::vector<std::pair<const eval::Output*, const eval::Output*>> out;
  for (const auto& o : a.outputs) {
    if (!o.plan) continue;
    for (const auto& n : b.outputs) {
      if (n.plan && n.name == o.name) out.push_back({&o, &n});
    }
  }
  return out;
}

void print(const DiffReport& report, const std::string& format) {
  if (format == "csv") fmt::print("{}", render_csv(report));
  else if (format == "json") fmt::print("{}", render_json(report));
  else fmt::print("{}", render_text(report));
}

}  // namespace

int diff(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h"},
            {"--input", "--input-format", "--by", "--as-of", "--samples", "--format", "--previous", "--previous-format", "--ruleset"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("diff", *args.error());
  auto previous = args.value("--previous");
  if (previous && args.positionals().size() != 1) {
    return usage_error("diff", "with --previous, name one rule file: stratum diff RULES --input FILE --previous PREV");
  }
  if (!previous && args.positionals().size() != 2) {
    return usage_error("diff", "name two rule files (stratum diff OLD NEW --input FILE), or one and --previous PREV");
  }
  if (args.value("--previous-format") && !previous) return usage_error("diff", "--previous-format goes with --previous PREV");
  auto input = args.value("--input");
  if (!input) return usage_error("diff", "--input FILE is required");
  std::string out_format = args.value("--format").value_or("text");
  if (out_format != "text" && out_format != "csv" && out_format != "json") {
    return usage_error("diff", "--format is text, csv or json");
  }
  std::optional<io::Format> format;
  if (auto f = args.value("--input-format")) {
    format = *f == "csv" ? io::Format::csv : *f == "jsonl" ? io::Format::jsonl : *f == "yaml" ? io::Format::yaml : format;
    if (!format) return usage_error("diff", "--input-format is csv, jsonl or yaml");
  } else {
    format = io::format_from_name(*input);
    if (!format) return usage_error("diff", fmt::format("cannot tell the format of {}: add --input-format", *input));
  }
  std::optional<io::Format> previous_format;
  if (previous) {
    if (auto f = args.value("--previous-format")) {
      previous_format = *f == "csv" ? io::Format::csv : *f == "jsonl" ? io::Format::jsonl : previous_format;
      if (!previous_format) return usage_error("diff", "--previous-format is csv or jsonl");
    } else {
      previous_format = io::format_from_name(*previous);
      if (!previous_format || *previous_format == io::Format::yaml) {
        return usage_error("diff", fmt::format("cannot tell the format of {} (the output of `stratum eval`, .csv or .jsonl): "
                                               "add --previous-format", *previous));
      }
    }
    if (*previous == "-" && *input == "-") return usage_error("diff", "--input and --previous cannot both be standard input");
  }
  std::optional<int32_t> as_of;
  if (auto d = args.value("--as-of")) {
    as_of = parse_iso_date(*d);
    if (!as_of) return usage_error("diff", fmt::format("--as-of {}: expected a date YYYY-MM-DD", *d));
  }
  size_t samples = 3;
  if (auto n = args.value("--samples")) {
    if (n->empty() || n->size() > 3 || n->find_first_not_of("0123456789") != std::string::npos) {
      return usage_error("diff", "--samples takes a whole number from 0 to 999");
    }
    samples = std::stoul(*n);
  }
  size_t side_count = previous ? 1 : 2;
  if (!previous) {
    if (auto once = not_rereadable(*input)) {
      return usage_error("diff", fmt::format("diff reads the input once for each rule file: give --input a file, not {}", *once));
    }
  }
  Side sides[2];
  for (size_t k = 0; k < side_count; ++k) {
    const std::string& path = args.positionals()[k];
    try {
      // A folder of versions stands for the one in force on --as-of.
      sides[k].rules = engine::RuleSet::load(engine::choose_rule_file(path, {as_of, args.value("--ruleset").value_or("")}));
    } catch (const std::runtime_error& e) {
      fmt::print(stderr, "stratum diff: {}\n", e.what());
      return kUsage;
    }
    std::string diags = sides[k].rules->compilation().render();
    if (!diags.empty()) fmt::print(stderr, "{}", diags);
    if (!sides[k].rules->ok()) {
      fmt::print(stderr, "stratum diff: {} has errors\n", path);
      return kInputProblem;
    }
    const auto& p = sides[k].rules->program();
    if (p.uses_today && !as_of) return usage_error("diff", "the rules use `today`: give --as-of YYYY-MM-DD");
    sides[k].output = pick(p, args.value("--by"));
    if (!sides[k].output) {
      fmt::print(stderr, "stratum diff: {} has no {} to compare\n", path,
                 args.value("--by") ? fmt::format("decision `{}`", *args.value("--by")) : std::string("segment or enum decision"));
      return kInputProblem;
    }
    if (previous && !p.capacities.empty()) {
      if (auto once = not_rereadable(*input)) {
        return usage_error("diff", fmt::format("the rules' capacity limits rank the whole portfolio before deciding it: "
                                               "give --input a file, not {}", *once));
      }
    }
  }
  engine::Options options;
  options.as_of = as_of;
  try {
    if (!previous) {
      const eval::Program& old_p = sides[0].rules->program();
      const eval::Program& new_p = sides[1].rules->program();
      std::vector<std::string> values = declared(old_p, *sides[0].output);
      for (auto& v : declared(new_p, *sides[1].output)) {
        if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
      }
      DiffReport report{args.positionals()[0], args.positionals()[1], *input, sides[1].output->name,
                        Migration(values, samples), {}};
      auto items = shared_plan_items(old_p, new_p);
      for (auto& [o, n] : items) report.plan_items.push_back({n->name, Migration(declared(new_p, *n), 0)});
      Decision runs[2];
      for (int k = 0; k < 2; ++k) {
        if (auto problem = open(runs[k], *sides[k].rules, *input, *format, options)) {
          fmt::print(stderr, "stratum diff: {}: {} (for {})\n", *input, *problem, args.positionals()[k]);
          return kInputProblem;
        }
      }
      for (;;) {
        bool decided[2];
        if (!runs[0].next(decided[0]) || !runs[1].next(decided[1])) break;
        std::string outcome[2];
        for (int k = 0; k < 2; ++k) {
          outcome[k] = decided[k] ? text_of(*runs[k].decider, sides[k].rules->program(), *sides[k].output) : std::string(kRejected);
        }
        report.decision.add(outcome[0], outcome[1], outcome[0] == outcome[1] ? std::string() : runs[0].sample_key());
        if (!decided[0] || !decided[1]) continue;
        for (size_t i = 0; i < items.size(); ++i) {
          report.plan_items[i].migration.add(text_of(*runs[0].decider, old_p, *items[i].first),
                                             text_of(*runs[1].decider, new_p, *items[i].second), {});
        }
      }
      print(report, out_format);
      return kOk;
    }
    // The same rules on two periods: the old values are an earlier run's.
    const eval::Program& p = sides[0].rules->program();
    const eval::Output& output = *sides[0].output;
    if (p.key_field < 0) {
      fmt::print(stderr, "stratum diff: {}: the rules' input has no key field, and --previous joins customers by key\n",
                 args.positionals()[0]);
      return kInputProblem;
    }
    const std::string& key_column = p.fields[p.key_field].name;
    io::DecidedFile before;
    try {
      before = io::DecidedFile::read(*previous, *previous_format, key_column);
    } catch (const io::DecidedFileError& e) {
      fmt::print(stderr, "stratum diff: {}\n", e.what());
      return kInputProblem;
    }
    auto compared = before.column(output.name);
    if (!compared) {
      std::string found;
      for (const auto& c : before.columns()) found += (found.empty() ? "" : ", ") + c;
      fmt::print(stderr, "stratum diff: {}{}: {} `{}`, the decision compared (its columns are: {})\n", *previous,
                 *previous_format == io::Format::csv ? ":1" : "",
                 *previous_format == io::Format::csv ? "the header has no column" : "no record has", output.name, found);
      return kInputProblem;
    }
    std::vector<std::string> values = declared(p, output);
    DiffReport report{*previous, args.positionals()[0], *input, output.name, Migration(values, samples), {}};
    std::vector<std::pair<const eval::Output*, size_t>> items;  // plan item, its column in PREV
    for (const auto& o : p.outputs) {
      if (!o.plan) continue;
      if (auto c = before.column(o.name)) {
        items.push_back({&o, *c});
        report.plan_items.push_back({o.name, Migration(declared(p, o), 0)});
      }
    }
    auto old_value = [](const io::DecidedFile::Row& row, size_t column) {
      return row[column] ? *row[column] : std::string(kNone);
    };
    // Stability rules hold customers at the earlier run's values, as `eval --previous` does.
    if (!p.stabilities.empty()) {
      try {
        options.previous = engine::PreviousRun::from(p, before);
      } catch (const io::DecidedFileError& e) {
        fmt::print(stderr, "stratum diff: {}\n", e.what());
        return kInputProblem;
      }
    }
    Decision run;
    if (auto problem = open(run, *sides[0].rules, *input, *format, options)) {
      fmt::print(stderr, "stratum diff: {}: {}\n", *input, *problem);
      return kInputProblem;
    }
    std::vector<uint8_t> met(before.size(), 0);
    bool decided;
    while (run.next(decided)) {
      std::string now = decided ? text_of(*run.decider, p, output) : std::string(kRejected);
      const io::RawField& key = run.raw.fields[p.key_field];
      std::optional<size_t> at;
      if (key.kind == io::RawKind::text || key.kind == io::RawKind::number) at = before.position(key.text);
      if (!at) {
        report.decision.add(std::string(kNew), now, run.sample_key());
        continue;
      }
      met[*at] = 1;
      std::string then = old_value(before.row(*at), *compared);
      report.decision.add(then, now, then == now ? std::string() : run.sample_key());
      if (!decided) continue;
      for (size_t i = 0; i < items.size(); ++i) {
        report.plan_items[i].migration.add(old_value(before.row(*at), items[i].second), text_of(*run.decider, p, *items[i].first), {});
      }
    }
    for (size_t i = 0; i < before.size(); ++i) {
      if (!met[i]) report.decision.add(old_value(before.row(i), *compared), std::string(kGone), before.key(i));
    }
    print(report, out_format);
    return kOk;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum diff: {}\n", e.what());
    return kUsage;
  }
}

}  // namespace stratum::cli
