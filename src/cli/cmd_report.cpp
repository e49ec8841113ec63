// stratum report: one offline HTML page of charts over a decided portfolio.
#include <filesystem>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "engine/rule_set.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"
#include "report/report.hpp"
#include "value/date.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum report RULES --input FILE --output report.html [options]

Decides every record of FILE with RULES and writes one self-contained HTML
page (it opens offline: the data and the charting code are inside) with:
  the distribution of the segment, of every enum decision and plan item;
  each 2-D grid as a scatter of customers over its axes, cells drawn;
  each scorecard's scores with the grades' cut-offs, and its reason codes;
  the migration from a previous run (--previous) or from earlier rules
  (--previous-rules), as a heatmap;
  the rules' branches, rows, cells, bins and plan items no customer reached;
  the rejected records by reason, with sample keys.

Options:
  --input FILE          the portfolio: CSV, JSON Lines or YAML (by its name)
  --input-format F      csv, jsonl or yaml, when the name does not tell
  --output FILE         the page to write (replaced whole, or not at all)
  --previous FILE       a previous run's decisions (`stratum eval` output,
                        CSV or JSON Lines): customers matched by key
  --previous-rules OLD  or: earlier rules; the portfolio is decided by both
                        and the migration is from OLD's decisions to RULES'
  --as-of YYYY-MM-DD    the evaluation date (required when the rules use today)
  --data FILE           also write the data behind the charts (JSON)
  --threads N           decide on N threads (default: all cores)
  --sample N            customers drawn on each grid (default 2000, at most 100000)
  --max-record-bytes N  the longest record read (default 8 MiB), as for eval
  --max-field-bytes N   the longest value read (default 1 MiB), as for eval

Exit status: 0 written; 1 the rules have errors, or an input lacks what the
rules need (a column, a key); 2 usage, or a file cannot be read or written.
)";

}  // namespace

int report(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h"}, {"--input", "--input-format", "--output", "--previous", "--previous-rules", "--as-of", "--data",
                                     "--threads", "--sample", "--max-record-bytes", "--max-field-bytes"});
  if (args.flag("--help") || args.flag("-h")) {
    fmt::print("{}", kHelp);
    return kOk;
  }
  if (args.error()) return usage_error("report", *args.error());
  if (args.positionals().size() != 1) return usage_error("report", "name one rule file: stratum report RULES --input FILE --output report.html");
  auto input = args.value("--input");
  if (!input) return usage_error("report", "--input FILE is required (CSV, JSON Lines or YAML)");
  auto output = args.value("--output");
  if (!output) return usage_error("report", "--output FILE is required (the HTML page to write)");
  report::Options options;
  options.input = *input;
  if (auto f = args.value("--input-format")) {
    if (*f != "csv" && *f != "jsonl" && *f != "yaml") return usage_error("report", "--input-format is csv, jsonl or yaml");
    options.input_format = *f;
  }
  options.previous = args.value("--previous").value_or("");
  options.previous_rules = args.value("--previous-rules").value_or("");
  if (!options.previous.empty() && !options.previous_rules.empty()) {
    return usage_error("report", "--previous and --previous-rules compare with different things: give one");
  }
  if (auto d = args.value("--as-of")) {
    options.as_of = parse_iso_date(*d);
    if (!options.as_of) return usage_error("report", fmt::format("--as-of {}: expected a date YYYY-MM-DD", *d));
  }
  options.threads = std::max(1u, std::thread::hardware_concurrency());
  for (auto [flag, target, most] : {std::tuple{"--threads", &options.threads, 9999u}}) {
    if (auto t = args.value(flag)) {
      if (t->empty() || t->size() > 4 || t->find_first_not_of("0123456789") != std::string::npos || std::stoul(*t) == 0 || std::stoul(*t) > most) {
        return usage_error("report", fmt::format("{} takes a whole number from 1 to {}", flag, most));
      }
      *target = static_cast<unsigned>(std::stoul(*t));
    }
  }
  if (auto s = args.value("--sample")) {
    if (s->empty() || s->size() > 6 || s->find_first_not_of("0123456789") != std::string::npos || std::stoul(*s) > 100000) {
      return usage_error("report", "--sample takes a whole number from 0 to 100000");
    }
    options.grid_sample = std::stoul(*s);
  }
  for (auto [flag, target] : {std::pair{"--max-record-bytes", &options.limits.max_record}, std::pair{"--max-field-bytes", &options.limits.max_field}}) {
    if (auto v = args.value(flag)) {
      if (v->empty() || v->size() > 12 || v->find_first_not_of("0123456789") != std::string::npos || std::stoull(*v) == 0) {
        return usage_error("report", fmt::format("{} takes a whole number of bytes from 1 to 999999999999", flag));
      }
      *target = static_cast<size_t>(std::stoull(*v));
    }
  }

  std::string rules_path = args.positionals()[0];
  if (auto o = args.value("--output"), d = args.value("--data"); o && d && *o == *d) {
    return usage_error("report", "--output and --data name the same file: give each its own");
  }
  std::shared_ptr<const engine::RuleSet> rules;
  try {
    rules = engine::RuleSet::load(rules_path);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum report: {}\n", e.what());
    return kUsage;
  }
  std::string diags = rules->compilation().render(false);
  if (!diags.empty()) fmt::print(stderr, "{}", diags);
  if (!rules->ok()) {
    fmt::print(stderr, "stratum report: {} has errors; no report was written\n", rules_path);
    return kInputProblem;
  }
  if (rules->program().uses_today && !options.as_of) {
    return usage_error("report", "the rules use `today`: give the evaluation date with --as-of YYYY-MM-DD");
  }
  // Nothing read may be replaced: the input, the previous run or rules, and
  // every file the rules were compiled from (imports, reference data).
  std::vector<std::pair<std::string, std::string>> read = {{"the input", *input}, {"the previous run", options.previous},
                                                           {"the previous rules", options.previous_rules}};
  read.emplace_back("the rules", rules_path);
  std::filesystem::path root = std::filesystem::path(rules->path()).parent_path();
  for (const auto& f : rules->bundle().files) read.emplace_back("a file of the rules", (root / f.path).string());
  for (const char* flag : {"--output", "--data"}) {
    auto o = args.value(flag);
    if (!o) continue;
    for (const auto& [what, path] : read) {
      if (io::same_file(*o, path)) {
        return usage_error("report", fmt::format("{} {} is {}{}: it would be replaced; write elsewhere", flag, *o, what,
                                                 what == std::string("a file of the rules") ? " (" + path + ")" : ""));
      }
    }
  }
  nlohmann::ordered_json data;
  try {
    data = report::build(*rules, options);
  } catch (const report::InputProblem& e) {
    fmt::print(stderr, "stratum report: {}\n", e.what());
    return kInputProblem;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum report: {}\n", e.what());
    return kUsage;
  }
  try {
    // Both written whole to temporary files first; the page is renamed into
    // place, then the data: a failure before leaves both as they were.
    io::OutputFile page(*output);
    page.write(report::render_html(data));
    page.flush();
    std::unique_ptr<io::OutputFile> data_file;
    if (auto d = args.value("--data")) {
      data_file = std::make_unique<io::OutputFile>(*d);
      data_file->write(data.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
      data_file->write("\n");
      data_file->flush();
    }
    page.commit();
    if (data_file) data_file->commit();
    const auto& h = data["header"];
    fmt::print(stderr, "read {}, decided {}, rejected {}\n", h["read"].get<uint64_t>(), h["decided"].get<uint64_t>(),
               h["rejected"].get<uint64_t>());
    fmt::print(stderr, "report written to {}\n", *output);
    return kOk;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum report: {}\n", e.what());
    return kUsage;  // the page or the data cannot be written
  }
}

}  // namespace stratum::cli
