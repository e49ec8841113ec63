// stratum diff OLD NEW --input FILE — the impact of a rules change on a
// portfolio: every customer is decided by both rule files, and the
// migrations old → new are counted, largest first, with sample keys.
#include <algorithm>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "engine/capacity.hpp"
#include "engine/decider.hpp"
#include "io/bind.hpp"
#include "io/readers.hpp"
#include "value/date.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum diff OLD NEW --input FILE [options]

Decides every customer of FILE with the rule files OLD and NEW and shows how
the customers move: a line per change (old → new) with its count and sample
keys, largest first.

  --input FILE          the portfolio: .csv, .jsonl or .yaml
  --input-format F      csv, jsonl or yaml, when the file name does not tell
  --by NAME             compare this decision (default: the segment when both
                        files have a segment tree, else the first enum or bool
                        decision they share)
  --as-of YYYY-MM-DD    the date `today` stands for
  --samples N           sample keys per change (default 3)

Exit status: 0 compared (whatever changed); 1 rule errors or a missing column;
2 usage or I/O error.
)";

struct Side {
  std::shared_ptr<const engine::RuleSet> rules;
  int32_t slot = -1;
  Type type;
};

// The slot to compare: `--by`, else the segment, else the first enum/bool output.
std::optional<std::pair<int32_t, Type>> pick(const eval::Program& p, const std::optional<std::string>& by) {
  for (const auto& o : p.outputs) {
    if (by && o.name == *by) return std::make_pair(o.slot, o.type);
  }
  if (by) return std::nullopt;
  for (const auto& o : p.outputs) {
    if (!o.type.is_set && (o.type.base == BaseType::enum_ || o.type.base == BaseType::boolean)) {
      return std::make_pair(o.slot, o.type);
    }
  }
  return std::nullopt;
}

}  // namespace

int diff(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h"}, {"--input", "--input-format", "--by", "--as-of", "--samples"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("diff", *args.error());
  if (args.positionals().size() != 2) return usage_error("diff", "name two rule files: stratum diff OLD NEW --input FILE");
  auto input = args.value("--input");
  if (!input) return usage_error("diff", "--input FILE is required");
  std::optional<io::Format> format;
  if (auto f = args.value("--input-format")) {
    format = *f == "csv" ? io::Format::csv : *f == "jsonl" ? io::Format::jsonl : *f == "yaml" ? io::Format::yaml : format;
    if (!format) return usage_error("diff", "--input-format is csv, jsonl or yaml");
  } else {
    format = io::format_from_name(*input);
    if (!format) return usage_error("diff", fmt::format("cannot tell the format of {}: add --input-format", *input));
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
  if (auto once = not_rereadable(*input)) {
    return usage_error("diff", fmt::format("diff reads the input once for each rule file: give --input a file, not {}", *once));
  }
  Side sides[2];
  for (int k = 0; k < 2; ++k) {
    try {
      sides[k].rules = engine::RuleSet::load(args.positionals()[k]);
    } catch (const std::runtime_error& e) {
      fmt::print(stderr, "stratum diff: {}\n", e.what());
      return kUsage;
    }
    std::string diags = sides[k].rules->compilation().render();
    if (!diags.empty()) fmt::print(stderr, "{}", diags);
    if (!sides[k].rules->ok()) {
      fmt::print(stderr, "stratum diff: {} has errors\n", args.positionals()[k]);
      return kInputProblem;
    }
    const auto& p = sides[k].rules->program();
    if (p.uses_today && !as_of) return usage_error("diff", "the rules use `today`: give --as-of YYYY-MM-DD");
    auto chosen = pick(p, args.value("--by"));
    if (!chosen) {
      fmt::print(stderr, "stratum diff: {} has no {} to compare\n", args.positionals()[k],
                 args.value("--by") ? fmt::format("decision `{}`", *args.value("--by")) : std::string("segment or enum decision"));
      return kInputProblem;
    }
    sides[k].slot = chosen->first;
    sides[k].type = chosen->second;
  }
  try {
    std::unique_ptr<io::Reader> readers[2];
    std::unique_ptr<engine::Decider> deciders[2];
    std::optional<engine::CapacityPlan> capacities[2];
    engine::Options options;
    options.as_of = as_of;
    for (int k = 0; k < 2; ++k) {
      const auto& p = sides[k].rules->program();
      readers[k] = io::open_reader(*input, *format);
      io::Binder binder(p);
      if (auto problem = readers[k]->open(binder.columns(), binder.required())) {
        fmt::print(stderr, "stratum diff: {}: {} (for {})\n", *input, *problem, args.positionals()[k]);
        return kInputProblem;
      }
      deciders[k] = std::make_unique<engine::Decider>(*sides[k].rules, options);
      // Capacity limits, as `eval` applies them: ranked in a pass of their own.
      if (!p.capacities.empty()) {
        auto first = io::open_reader(*input, *format);
        if (auto problem = first->open(binder.columns(), binder.required())) {
          fmt::print(stderr, "stratum diff: {}: {} (for {})\n", *input, *problem, args.positionals()[k]);
          return kInputProblem;
        }
        engine::StreamOptions so;
        so.decide = options;
        so.threads = std::max(1u, std::thread::hardware_concurrency());
        capacities[k] = engine::CapacityPlan::make(*sides[k].rules, *first, so);
      }
    }
    struct Change {
      uint64_t count = 0;
      std::vector<std::string> keys;
    };
    std::map<std::pair<std::string, std::string>, Change> changes;
    uint64_t read = 0;
    io::RawRecord raws[2];
    for (;;) {
      bool more[2] = {readers[0]->next(raws[0]), readers[1]->next(raws[1])};
      if (!more[0] || !more[1]) break;
      ++read;
      std::string outcome[2];
      for (int k = 0; k < 2; ++k) {
        engine::Rejection why;
        if (!deciders[k]->decide(raws[k], why) || (capacities[k] && !capacities[k]->apply(*deciders[k], raws[k].number, why))) {
          outcome[k] = "(rejected)";
          continue;
        }
        const eval::Value& v = deciders[k]->frame().slots[sides[k].slot];
        outcome[k] = eval::is_missing(v) ? "(none)" : sides[k].rules->program().format(v, sides[k].type);
      }
      Change& c = changes[{outcome[0], outcome[1]}];
      ++c.count;
      if (c.keys.size() < samples && outcome[0] != outcome[1]) {
        std::string key = deciders[0]->key_text(raws[0]);
        c.keys.push_back(key.empty() ? fmt::format("record {}", raws[0].number) : key);
      }
    }
    std::vector<std::pair<std::pair<std::string, std::string>, Change>> rows(changes.begin(), changes.end());
    // Changes first, largest first; then the customers who stay.
    std::stable_sort(rows.begin(), rows.end(), [](auto& a, auto& b) {
      bool sa = a.first.first == a.first.second, sb = b.first.first == b.first.second;
      if (sa != sb) return !sa;
      return a.second.count > b.second.count;
    });
    uint64_t moved = 0;
    for (auto& [k, c] : rows) if (k.first != k.second) moved += c.count;
    fmt::print("{} → {} on {}: {} customers, {} change{}\n\n", args.positionals()[0], args.positionals()[1], *input, read,
               moved, moved == 1 ? "" : "s");
    fmt::print("{:>9}  {}\n", "customers", "old → new   (sample keys)");
    for (auto& [k, c] : rows) {
      if (k.first == k.second) {
        fmt::print("{:>9}  {}   (unchanged)\n", c.count, k.first);
      } else {
        std::string keys;
        for (auto& key : c.keys) keys += (keys.empty() ? "" : ", ") + key;
        fmt::print("{:>9}  {} → {}{}\n", c.count, k.first, k.second, keys.empty() ? "" : "   (" + keys + ")");
      }
    }
    return kOk;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum diff: {}\n", e.what());
    return kUsage;
  }
}

}  // namespace stratum::cli
