// stratum eval RULES --input FILE — evaluate every record; stream; summary on
// stderr. Every record read is either decided (written to the output) or
// rejected (written to the errors output with its reason): read = decided +
// rejected, always.
#include <unistd.h>

#include <map>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "driver/stratum.hpp"
#include "io/bind.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"
#include "syntax/parser.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum eval RULES --input FILE [options]

Evaluates every customer record of FILE against the rule file RULES.

  --input FILE          the records: .csv, .jsonl or .yaml ("-" for standard input)
  --input-format F      csv, jsonl or yaml, when the file name does not tell
  --output FILE         where decided records go (default: standard output);
                        written to a temporary file and renamed when complete
  --format jsonl|csv    output format (default jsonl)
  --errors FILE         rejected records as JSON Lines (record, line, key,
                        column, reason); default: listed on standard error
  --as-of YYYY-MM-DD    the evaluation date `today` stands for
  --summary             print the distribution of each decision on standard
                        error (automatic when standard error is a terminal)
  --explain             add each customer's explanation (`explain` in JSON
                        Lines, an `explain` column in CSV)
  --threads N           accepted; evaluation currently runs on one thread
  --diagnostics text|json  how to print rule problems

Exit status: 0 every record decided; 1 rule errors or rejected records;
2 usage or I/O error.
)";

struct Distribution {
  std::string name;
  Type type;
  int32_t slot;
  std::map<int64_t, uint64_t> counts;
};

void print_distribution(const eval::Program& program, std::vector<Distribution>& dists, uint64_t decided) {
  for (auto& d : dists) {
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

}  // namespace

int eval(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--summary", "--explain"},
            {"--input", "--input-format", "--output", "--format", "--errors", "--as-of", "--threads", "--diagnostics"});
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
    if (t->empty() || t->find_first_not_of("0123456789") != std::string::npos || *t == "0") {
      return usage_error("eval", "--threads takes a positive whole number");
    }
    if (*t != "1") fmt::print(stderr, "stratum eval: note: parallel evaluation is not yet supported; running on one thread\n");
  }
  bool json_diag = args.value("--diagnostics").value_or("text") == "json";

  std::string rules_path = args.positionals()[0];
  Compilation c;
  try {
    c = compile(rules_path);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum eval: {}\n", e.what());
    return kUsage;
  }
  std::string diags = c.render(json_diag);
  if (!diags.empty()) fmt::print(json_diag ? stdout : stderr, "{}", diags);
  if (!c.ok()) {
    fmt::print(stderr, "stratum eval: {} has errors; nothing was evaluated\n", rules_path);
    return kInputProblem;
  }
  const eval::Program& program = *c.program;
  if (program.uses_today && !as_of) {
    return usage_error("eval", "the rules use `today`: give the evaluation date with --as-of YYYY-MM-DD");
  }

  try {
    auto reader = io::open_reader(*input, *in_format);
    io::Binder binder(program);
    if (auto problem = reader->open(binder.columns(), binder.required())) {
      fmt::print(stderr, "stratum eval: {}: {}\n", *input, *problem);
      fmt::print(stderr, "read 0, decided 0, rejected 0\n");
      return kInputProblem;
    }
    io::OutputFile out(args.value("--output").value_or("-"));
    std::unique_ptr<io::OutputFile> errors;
    if (auto e = args.value("--errors")) errors = std::make_unique<io::OutputFile>(*e);
    io::RecordWriter writer(program, out_format == "csv" ? io::OutputFormat::csv : io::OutputFormat::jsonl, out);
    writer.set_explain(args.flag("--explain"));
    writer.header();

    std::vector<Distribution> dists;
    for (const auto& o : program.outputs) {
      if (!o.type.is_set && (o.type.base == BaseType::enum_ || o.type.base == BaseType::boolean)) {
        dists.push_back({o.name, o.type, o.slot, {}});
      }
    }

    eval::Frame frame = program.make_frame();
    if (as_of) { frame.today = *as_of; frame.has_today = true; }
    std::vector<std::string> trace;
    bool explain = args.flag("--explain");
    if (explain) frame.trace = &trace;
    io::RawRecord raw;
    io::Rejection why;
    uint64_t read = 0, decided = 0, rejected = 0;
    auto reject = [&](const io::RawRecord& r, const io::Rejection& w) {
      ++rejected;
      std::string key = binder.key_text(r);
      if (errors) {
        errors->write(io::rejection_json(r.number, r.line, key, w));
      } else {
        fmt::print(stderr, "rejected record {}{}{}: {}{}\n", r.number, r.line ? fmt::format(" (line {})", r.line) : "",
                   key.empty() ? "" : fmt::format(" key {}", key),
                   w.column.empty() ? "" : fmt::format("column {}: ", w.column), w.reason);
      }
    };
    while (reader->next(raw)) {
      ++read;
      program.reset(frame);
      trace.clear();
      if (!binder.bind(raw, frame, why)) {
        reject(raw, why);
        continue;
      }
      bool ok = true;
      for (const auto& o : program.outputs) {
        try {
          program.slot(frame, o.slot);
        } catch (const eval::EvalError& e) {
          reject(raw, {o.name, e.what()});
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      ++decided;
      if (explain) program.explain_plan(frame, trace);
      writer.record(frame, raw.number, explain ? &trace : nullptr);
      for (auto& d : dists) {
        const eval::Value& v = frame.slots[d.slot];
        ++d.counts[eval::is_missing(v) ? -1 : static_cast<int64_t>(v.n)];
      }
    }
    out.commit();
    if (errors) errors->commit();
    if (args.flag("--summary") || ::isatty(STDERR_FILENO)) print_distribution(program, dists, decided);
    fmt::print(stderr, "read {}, decided {}, rejected {}\n", read, decided, rejected);
    return rejected > 0 ? kInputProblem : kOk;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum eval: {}\n", e.what());
    return kUsage;
  }
}

}  // namespace stratum::cli
