// stratum eval RULES --input FILE — evaluate every record; stream; summary on
// stderr. Every record read is either decided (written to the output) or
// rejected (written to the errors output with its reason): read = decided +
// rejected, always.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "engine/capacity.hpp"
#include "engine/previous.hpp"
#include "engine/stream.hpp"
#include "engine/versions.hpp"
#include "io/bind.hpp"
#include "io/decided.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"
#include "native/library.hpp"
#include "value/date.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum eval RULES --input FILE [options]

Evaluates every customer record of FILE against the rule file RULES. RULES
may be a folder holding several versions of a rule set (each with
`effective DATE` on its ruleset line): the version in force on --as-of is
used, and named on standard error.

  --input FILE          the records: .csv, .jsonl or .yaml ("-" for standard input)
  --input-format F      csv, jsonl or yaml, when the file name does not tell
  --output FILE         where decided records go (default: standard output);
                        written to a temporary file and renamed when complete
  --format jsonl|csv    output format (default jsonl)
  --errors FILE         rejected records as JSON Lines (record, line, key,
                        column, reason); default: listed on standard error
  --as-of YYYY-MM-DD    the evaluation date: what `today` stands for, and which
                        version of the rules is in force
  --ruleset NAME        the rule set to use when the folder RULES holds versions
                        of several
  --previous PREV       the previous period's output of these rules (JSON Lines
                        or CSV, as eval wrote it), joined by key: stability
                        rules hold a customer at its previous value for as
                        many periods as they say (a customer not in PREV is new)
  --previous-format F   csv or jsonl, when the name of PREV does not tell
  --keep-input          each decided record also carries the input fields the
                        rules read, as they were read: what `stratum replay`
                        needs to decide it again
  --summary             print the distribution of each decision on standard
                        error (automatic when standard error is a terminal)
  --explain             add each customer's explanation (`explain` in JSON
                        Lines, an `explain` column in CSV)
  --threads N           evaluate on N threads (default: all cores); the output
                        is the same for any N (YAML input runs on one)
  --native LIB          decide through the rules compiled ahead of time by
                        `stratum build --native RULES -o LIB` (the same
                        output; refused when LIB was built from other rules)
  --diagnostics text|json  how to print rule problems
  --max-record-bytes N  the longest record accepted (default 8388608, 8 MiB);
                        a longer one is rejected and reading goes on after it
  --max-field-bytes N   the longest value accepted (default 1048576, 1 MiB)

Every decided record ends with @ruleset, @version, @hash (SHA-256 of the
rule files and data it was compiled from) and @as_of.

Exit status: 0 every record decided; 1 rule errors or rejected records;
2 usage or I/O error.
)";

void print_distribution(const eval::Program& program, engine::Tally& tally) {
  uint64_t decided = tally.decided;
  for (auto& d : tally.decisions) {
    std::vector<std::pair<std::string, uint64_t>> rows;
    if (d.type.base == BaseType::enum_) {
      const auto& members = program.enums[d.type.enum_id].members;
      for (size_t i = 0; i < members.size(); ++i) rows.push_back({members[i], d.counts[static_cast<int64_t>(i)]});
    } else {
      rows.push_back({"true", d.counts[1]});
      rows.push_back({"false", d.counts[0]});
    }
    if (d.counts.count(-1)) rows.push_back({"(none)", d.counts[-1]});
    size_t width = utf8::cell_width(d.name);
    for (auto& [label, _] : rows) width = std::max(width, utf8::cell_width(label));
    std::string out = fmt::format("\n{}{}  {:>10}  {:>8}\n", d.name, std::string(width - utf8::cell_width(d.name), ' '), "customers", "share");
    for (auto& [label, n] : rows) {
      uint64_t permille = decided ? (n * 1000 + decided / 2) / decided : 0;
      out += fmt::format("{}{}  {:>10}  {:>5}.{}%\n", label, std::string(width - utf8::cell_width(label), ' '), n,
                         permille / 10, permille % 10);
    }
    out += fmt::format("{}  {:>10}\n", std::string(width, ' '), decided);
    fmt::print(stderr, "{}", out);
  }
}

// A progress line on a terminal: records, rate and, for files, time left.
class Progress {
 public:
  explicit Progress(const std::string& input) : on_(::isatty(STDERR_FILENO)), start_(Clock::now()), last_(start_) {
    std::error_code ec;
    if (input != "-") total_ = std::filesystem::file_size(input, ec);
    if (ec) total_ = 0;
  }
  void update(uint64_t records, size_t bytes) {
    bytes_ += bytes;
    if (!on_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();
    double rate = seconds > 0 ? records / seconds : 0;
    std::string eta;
    if (total_ > 0 && bytes_ > 0 && bytes_ < total_) {
      eta = fmt::format(", {:.0f}% done, about {:.0f} s left", 100.0 * bytes_ / total_,
                        seconds * (total_ - bytes_) / bytes_);
    }
    fmt::print(stderr, "\r{} records, {:.0f} records/s{}\x1b[K", records, rate, eta);
    shown_ = true;
  }
  void finish() {
    if (shown_) fmt::print(stderr, "\r\x1b[K");
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool on_;
  bool shown_ = false;
  Clock::time_point start_, last_;
  uint64_t total_ = 0, bytes_ = 0;
};

}  // namespace

int eval(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--summary", "--explain", "--keep-input"},
            {"--input", "--input-format", "--output", "--format", "--errors", "--as-of", "--threads", "--diagnostics",
             "--max-record-bytes", "--max-field-bytes", "--ruleset", "--previous", "--previous-format", "--native"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("eval", *args.error());
  if (args.positionals().size() != 1) return usage_error("eval", "name one rule file: stratum eval RULES --input FILE");
  auto input = args.value("--input");
  if (!input) return usage_error("eval", "--input FILE is required (CSV, JSON Lines or YAML)");
  std::string out_format = args.value("--format").value_or("jsonl");
  if (out_format != "jsonl" && out_format != "csv") return usage_error("eval", "--format is jsonl or csv");
  std::optional<io::Format> in_format;
  if (auto f = args.value("--input-format")) {
    if (*f == "csv") in_format = io::Format::csv;
    else if (*f == "jsonl") in_format = io::Format::jsonl;
    else if (*f == "yaml") in_format = io::Format::yaml;
    else return usage_error("eval", "--input-format is csv, jsonl or yaml");
  } else {
    in_format = io::format_from_name(*input);
    if (!in_format) return usage_error("eval", fmt::format("cannot tell the format of {}: add --input-format csv|jsonl|yaml", *input));
  }
  std::optional<int32_t> as_of;
  if (auto d = args.value("--as-of")) {
    as_of = parse_iso_date(*d);
    if (!as_of) return usage_error("eval", fmt::format("--as-of {}: expected a date YYYY-MM-DD", *d));
  }
  if (auto t = args.value("--threads")) {
    if (t->empty() || t->size() > 4 || t->find_first_not_of("0123456789") != std::string::npos || std::stoul(*t) == 0) {
      return usage_error("eval", "--threads takes a whole number from 1 to 9999");
    }
  }
  bool json_diag = args.value("--diagnostics").value_or("text") == "json";
  io::RecordLimits limits;
  for (auto [flag, target] : {std::pair{"--max-record-bytes", &limits.max_record}, std::pair{"--max-field-bytes", &limits.max_field}}) {
    if (auto v = args.value(flag)) {
      if (v->empty() || v->size() > 12 || v->find_first_not_of("0123456789") != std::string::npos || std::stoull(*v) == 0) {
        return usage_error("eval", fmt::format("{} takes a whole number of bytes from 1 to 999999999999", flag));
      }
      *target = static_cast<size_t>(std::stoull(*v));
    }
  }

  if (auto e = args.value("--errors"), prev = args.value("--previous"); e && prev && io::same_file(*e, *prev)) {
    return usage_error("eval", fmt::format("--errors {} is the previous period's output (--previous): it would be replaced; write elsewhere", *e));
  }
  for (const char* flag : {"--output", "--errors"}) {
    if (auto o = args.value(flag); o && io::same_file(*o, *input)) {
      return usage_error("eval", fmt::format("{} {} is the input: it would be replaced by what is read from it; write elsewhere", flag, *o));
    }
  }

  std::string rules_path = args.positionals()[0];
  std::shared_ptr<const engine::RuleSet> rules;
  try {
    rules_path = engine::choose_rule_file(rules_path, {as_of, args.value("--ruleset").value_or("")});
    rules = engine::RuleSet::load(rules_path);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum eval: {}\n", e.what());
    return kUsage;
  }
  std::string diags = rules->compilation().render(json_diag);
  if (!diags.empty()) fmt::print(json_diag ? stdout : stderr, "{}", diags);
  if (!rules->ok()) {
    fmt::print(stderr, "stratum eval: {} has errors; nothing was evaluated\n", rules_path);
    return kInputProblem;
  }
  const eval::Program& program = rules->program();
  if (program.uses_today && !as_of) {
    return usage_error("eval", "the rules use `today`: give the evaluation date with --as-of YYYY-MM-DD");
  }
  if (as_of && program.effective && rules_path != args.positionals()[0]) {
    fmt::print(stderr, "rules in force on {}: {} ({})\n", format_date(*as_of),
               engine::describe(program.ruleset, program.version, program.effective), rules_path);
  }
  // Nor may an output replace a file the rules were compiled from (an import, reference data).
  std::filesystem::path root = std::filesystem::path(rules->path()).parent_path();
  for (const char* flag : {"--output", "--errors"}) {
    auto o = args.value(flag);
    if (!o) continue;
    for (const auto& f : rules->bundle().files) {
      std::string path = (root / f.path).string();
      if (io::same_file(*o, path)) {
        return usage_error("eval", fmt::format("{} {} is a file of the rules ({}): it would be replaced; write elsewhere", flag, *o, path));
      }
    }
  }

  // The previous period's run, for stability rules.
  std::shared_ptr<const engine::PreviousRun> previous;
  if (int status = previous_run(args, "eval", program, *input, previous); status != kOk) return status;

  std::shared_ptr<const native::Library> compiled;
  if (auto lib = args.value("--native")) {
    try {
      compiled = native::Library::load(*lib, program);
    } catch (const std::runtime_error& e) {
      fmt::print(stderr, "stratum eval: --native {}\n", e.what());
      return kUsage;
    }
  }

  if (auto once = not_rereadable(*input); once && !program.capacities.empty()) {
    return usage_error("eval", fmt::format("the rules have capacity limits, which read the input twice (to rank the customers, then to decide them): give --input a file, not {}", *once));
  }

  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  if (auto t = args.value("--threads")) threads = static_cast<unsigned>(std::stoul(*t));
  try {
    auto reader = io::open_reader(*input, *in_format);
    reader->set_limits(limits);
    io::Binder header_binder(program);
    if (auto problem = reader->open(header_binder.columns(), header_binder.required())) {
      fmt::print(stderr, "stratum eval: {}: {}\n", *input, *problem);
      fmt::print(stderr, "read 0, decided 0, rejected 0\n");
      return kInputProblem;
    }
    io::OutputFile out(args.value("--output").value_or("-"));
    std::unique_ptr<io::OutputFile> errors;
    if (auto e = args.value("--errors")) errors = std::make_unique<io::OutputFile>(*e);
    engine::StreamOptions options;
    options.decide.as_of = as_of;
    options.decide.explain = args.flag("--explain");
    options.decide.max_field = limits.max_field;
    options.decide.previous = previous;
    options.decide.native = compiled;
    options.format = out_format == "csv" ? io::OutputFormat::csv : io::OutputFormat::jsonl;
    options.errors_as_json = errors != nullptr;
    options.threads = threads;
    options.keep_input = args.flag("--keep-input");
    options.provenance = io::Provenance{program.ruleset, program.version, rules->hash(), as_of};
    {
      std::string header;
      io::RecordWriter writer(program, options.format, header);
      engine::configure(writer, options);
      writer.header();
      out.write(header);
    }
    // Capacity limits: a first pass ranks the customers they concern.
    std::optional<engine::CapacityPlan> capacity;
    if (!program.capacities.empty()) {
      auto first = io::open_reader(*input, *in_format);
      first->set_limits(limits);
      if (auto problem = first->open(header_binder.columns(), header_binder.required())) {
        fmt::print(stderr, "stratum eval: {}: {}\n", *input, *problem);
        return kInputProblem;
      }
      capacity = engine::CapacityPlan::make(*rules, *first, options);
      options.adjust = [&capacity](engine::Decider& d, const io::RawRecord& raw, engine::Rejection& why) {
        return capacity->apply(d, raw.number, why);
      };
    }
    engine::Tally tally(program);
    Progress progress(*input);
    engine::stream(*rules, *reader, options, [&](engine::Block& b) {
      out.write(b.out);
      if (errors) errors->write(b.err);
      else if (!b.err.empty()) fmt::print(stderr, "{}", b.err);
      tally.add(b);
      progress.update(tally.read, b.bytes);
    });
    progress.finish();
    out.commit();
    if (errors) errors->commit();
    if (args.flag("--summary") || ::isatty(STDERR_FILENO)) {
      print_distribution(program, tally);
      if (capacity) fmt::print(stderr, "{}", capacity->summary(program));
    }
    fmt::print(stderr, "read {}, decided {}, rejected {}\n", tally.read, tally.decided, tally.rejected);
    return tally.rejected > 0 ? kInputProblem : kOk;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum eval: {}\n", e.what());
    return kUsage;
  }
}

}  // namespace stratum::cli
