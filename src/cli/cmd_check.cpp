// stratum check RULES… — parse, resolve and type-check; print diagnostics.
#include <set>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "driver/stratum.hpp"

namespace stratum::cli {

namespace {
constexpr const char* kHelp = R"(usage: stratum check RULES… [--diagnostics text|json] [--quiet]

Checks rule files: syntax, names, types and units, optional fields, cycles.
RULES is a .strat file or a directory (every .strat file under it).

  --diagnostics text|json  how to print problems (default text; json: one object per line)
  --quiet                  print nothing when everything is clean

Exit status: 0 clean (warnings allowed), 1 errors found, 2 usage or I/O error.
)";
}

int check(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--quiet", "-q"}, {"--diagnostics"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("check", *args.error());
  std::string format = args.value("--diagnostics").value_or("text");
  if (format != "text" && format != "json") return usage_error("check", "--diagnostics is text or json");
  if (args.positionals().empty()) return usage_error("check", "name the rule files or directories to check");
  bool json = format == "json";
  size_t files = 0, errors = 0, warnings = 0, notes = 0;
  std::set<std::string> seen;
  for (const auto& p : args.positionals()) {
    std::string error;
    auto paths = rule_files(p, error);
    if (!error.empty()) { fmt::print(stderr, "stratum check: {}\n", error); return kUsage; }
    for (const auto& path : paths) {
      Compilation c;
      try {
        c = compile(path, /*compare_parent=*/true);
      } catch (const std::runtime_error& e) {
        fmt::print(stderr, "stratum check: {}\n", e.what());
        return kUsage;
      }
      ++files;
      // A problem of an imported file is met again through every file that
      // imports it: reported once, at its own file and text.
      std::string out;
      for (const Diagnostic* d : c.sorted_diagnostics()) {
        std::string text = json ? render_json(*d, c.sources) + "\n" : render_text(*d, c.sources);
        if (!seen.insert(text).second) continue;
        (d->severity == Severity::error ? errors : d->severity == Severity::warning ? warnings : notes) += 1;
        out += text;
      }
      if (!out.empty()) fmt::print(json ? stdout : stderr, "{}", out);
    }
  }
  if (!json && ((!args.flag("--quiet") && !args.flag("-q")) || errors > 0)) {
    fmt::print(stderr, "checked {} file{}: {} error{}, {} warning{}{}\n", files, files == 1 ? "" : "s", errors,
               errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s",
               notes ? fmt::format(", {} note{}", notes, notes == 1 ? "" : "s") : "");
  }
  return errors > 0 ? kInputProblem : kOk;
}

}  // namespace stratum::cli
