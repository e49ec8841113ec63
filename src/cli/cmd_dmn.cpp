// stratum import-dmn MODEL.dmn — DMN decision tables as a rule file;
// stratum export-dmn RULES — a rule file's tables as a DMN model.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "dmn/dmn.hpp"
#include "driver/stratum.hpp"
#include "io/record.hpp"
#include "syntax/format.hpp"
#include "io/writer.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kImportHelp = R"(usage: stratum import-dmn MODEL.dmn [--tests CASES.xml]… [--output FILE.strat]

Turns the decision tables of a DMN 1.x model into a rule file: the input
data become an `input` block (string inputs with a list of allowed values
become enums), each decision table a `table` with the same hit policy, and
each test case of a DMN TCK-style test file a `test` block. Where DMN and
Stratum differ, the rule file behaves as DMN says and its comments say how
(no rule matching gives no value; RULE ORDER, OUTPUT ORDER and COLLECT give
lists). Anything the importer cannot express — FEEL beyond S-FEEL unary
tests of literal values, decisions that are not tables, structured inputs —
is reported at its XML line, and no file is written.

The rule file is checked as it is written: its proofs (gaps, overlaps,
unreachable rows) are printed, and it is written even when they find
errors, so that it can be corrected.

  --tests FILE    test cases (DMN TCK XML) to write as test blocks; repeatable
  --output FILE   write the rule file there (default: standard output)

Exit status: 0 imported; 1 the model holds what cannot be imported, or the
imported rules have errors; 2 usage or I/O error.
)";

constexpr const char* kExportHelp = R"(usage: stratum export-dmn RULES.strat [--output MODEL.dmn]

Writes the decision tables of a rule file as a DMN 1.3 model: each table
(or grid) whose columns read input fields or other exported tables and
whose cells are constants (literals, enum values, `let`s holding a
literal) becomes a decision table with the same hit policy; the fields it
reads become input data, enums item definitions with their allowed values
(and output values, which order PRIORITY and OUTPUT ORDER). A note on
standard error names everything left out and why: decision lists,
scorecards, the segment tree, service plans, tests, and tables DMN cannot
express.

  --output FILE   write the model there (default: standard output)

Exit status: 0 exported; 1 the rules have errors or hold no exportable
table; 2 usage or I/O error.
)";

// DMN models and test files are read whole; beyond this they are refused
// (a device or an endless pipe named by mistake is never read to the end).
constexpr size_t kMaxXmlBytes = 64u << 20;

std::string read_xml(const std::string& path) {
  std::error_code ec;
  auto st = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(st)) throw std::runtime_error(fmt::format("cannot read {}: it is a folder", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(fmt::format("cannot read {}: {}", path, std::filesystem::exists(st) ? std::strerror(errno) : "no such file"));
  }
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxXmlBytes) throw std::runtime_error(fmt::format("cannot read {}: it is larger than 64 MiB", path));
  }
  if (in.bad()) throw std::runtime_error(fmt::format("cannot read {}", path));
  return text;
}

// Writes `text` to `path` ("-" or none: standard output), whole or not at all.
int write_out(const char* command, const std::optional<std::string>& path, const std::string& text) {
  if (!path || *path == "-") {
    fmt::print("{}", text);
    return kOk;
  }
  try {
    io::OutputFile out(*path);
    out.write(text);
    out.commit();
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum {}: {}\n", command, e.what());
    return kUsage;
  }
  return kOk;
}

}  // namespace

int import_dmn(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h"}, {"--tests", "--output"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kImportHelp); return kOk; }
  if (args.error()) return usage_error("import-dmn", *args.error());
  if (args.positionals().size() != 1) return usage_error("import-dmn", "name one DMN model (MODEL.dmn)");
  const std::string& model_path = args.positionals()[0];
  std::vector<std::string> test_paths = args.values("--tests");
  auto output = args.value("--output");
  if (output) {
    std::vector<std::string> read = test_paths;
    read.push_back(model_path);
    for (const auto& r : read) {
      if (io::same_file(*output, r)) return usage_error("import-dmn", fmt::format("--output {} is {}: it would be replaced; write elsewhere", *output, r));
    }
  }
  dmn::XmlFile model;
  std::vector<dmn::XmlFile> tests;
  try {
    model = {model_path, read_xml(model_path)};
    for (const auto& p : test_paths) tests.push_back({p, read_xml(p)});
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum import-dmn: {}\n", e.what());
    return kUsage;
  }
  SourceSet sources;
  Diagnostics diags;
  auto text = dmn::import_dmn(model, tests, sources, diags);
  std::vector<const Diagnostic*> found;
  for (const auto& d : diags.items()) found.push_back(&d);
  std::stable_sort(found.begin(), found.end(), [](const Diagnostic* a, const Diagnostic* b) {
    return std::tie(a->span.file, a->span.begin) < std::tie(b->span.file, b->span.begin);
  });
  for (const Diagnostic* d : found) fmt::print(stderr, "{}", render_text(*d, sources));
  if (!text) {
    fmt::print(stderr, "stratum import-dmn: {} not imported ({} error{}); nothing written\n", model_path,
               diags.error_count(), diags.error_count() == 1 ? "" : "s");
    return kInputProblem;
  }
  std::string formatted = format_rule_text(*text);
  // The rule file is checked as it is written: what its proofs find is said.
  std::string name = output && *output != "-" ? *output : "(imported rules)";
  Compilation c = compile_text(name, formatted);
  for (const Diagnostic* d : c.sorted_diagnostics()) fmt::print(stderr, "{}", render_text(*d, c.sources));
  int status = write_out("import-dmn", output, formatted);
  if (status != kOk) return status;
  if (!c.ok()) {
    fmt::print(stderr, "stratum import-dmn: the imported rules have {} error{} (written as they are, to be corrected)\n",
               c.diagnostics.error_count(), c.diagnostics.error_count() == 1 ? "" : "s");
    return kInputProblem;
  }
  return kOk;
}

int export_dmn(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h"}, {"--output"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kExportHelp); return kOk; }
  if (args.error()) return usage_error("export-dmn", *args.error());
  if (args.positionals().size() != 1) return usage_error("export-dmn", "name one rule file");
  const std::string& path = args.positionals()[0];
  auto output = args.value("--output");
  if (output && io::same_file(*output, path)) {
    return usage_error("export-dmn", fmt::format("--output {} is the rule file: it would be replaced; write elsewhere", *output));
  }
  Compilation c;
  try {
    c = compile(path);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum export-dmn: {}\n", e.what());
    return kUsage;
  }
  if (!c.ok()) {
    for (const Diagnostic* d : c.sorted_diagnostics()) fmt::print(stderr, "{}", render_text(*d, c.sources));
    fmt::print(stderr, "stratum export-dmn: {} has errors; nothing exported\n", path);
    return kInputProblem;
  }
  if (output) {
    std::filesystem::path root = std::filesystem::path(path).parent_path();
    for (const auto& f : c.files) {
      if (io::same_file(*output, (root / f.path).string())) return usage_error("export-dmn", fmt::format("--output {} is a file of the rules: it would be replaced", *output));
    }
  }
  std::vector<std::string> notes;
  std::string name = c.model->ruleset.empty() ? path : c.model->ruleset;
  std::optional<std::string> xml;
  try {
    xml = dmn::export_dmn(*c.model, name, notes);
  } catch (const dmn::ExportError& e) {
    fmt::print(stderr, "stratum export-dmn: {}; nothing exported\n", e.what());
    return kInputProblem;
  }
  for (const auto& n : notes) fmt::print(stderr, "stratum export-dmn: note: {}\n", n);
  if (!xml) {
    fmt::print(stderr, "stratum export-dmn: {} has no table DMN can express; nothing exported\n", path);
    return kInputProblem;
  }
  return write_out("export-dmn", output, *xml);
}

}  // namespace stratum::cli
