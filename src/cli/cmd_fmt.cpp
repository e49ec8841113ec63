// stratum fmt RULES… — one layout for rule files (src/syntax/format): the
// indentation, the spacing around operators, the blank lines, and the cells
// of tables and grids aligned in columns (by display width, so Chinese text
// lines up). Idempotent; the result is parsed again and compared token by
// token, line by line, before it is written, and a file whose meaning would
// change is never written.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "driver/stratum.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"
#include "syntax/format.hpp"
#include "syntax/parser.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum fmt RULES… [--check | --stdout]

Lays out rule files one way: two spaces of indentation per open `{`, `[`
or `(` (a continuation line keeps a deeper indentation its author aligned
it with), one space around `->`, `=`, `==`, `!=`, `>=`, `<=`, `??` and after
`,` and `;` where none was written, at most one blank line in a row, no
trailing blanks, and the columns of every table and grid aligned. Lines are
never joined or split; names, strings and comments stay as written and
where they are. Formatting twice changes nothing more; a result that would
not hold the same tokens on the same lines, or would not parse, is never
written.

  --check    change nothing; exit 1 when a file is not formatted
  --stdout   print the formatted text instead of rewriting the file

Exit status: 0 done (or, with --check, already formatted); 1 a file has
syntax errors or, with --check, is not formatted; 2 usage or I/O error.
)";

}  // namespace

int fmt(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--check", "--stdout"}, {});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("fmt", *args.error());
  if (args.positionals().empty()) return usage_error("fmt", "name the rule files or directories to format");
  if (args.flag("--check") && args.flag("--stdout")) return usage_error("fmt", "--check and --stdout exclude each other");
  int status = kOk;
  for (const auto& p : args.positionals()) {
    std::string error;
    auto paths = rule_files(p, error);
    if (!error.empty()) {  // said, and the other paths still formatted
      fmt::print(stderr, "stratum fmt: {}\n", error);
      status = kUsage;
      continue;
    }
    for (const auto& path : paths) {
      std::string text;
      try {
        text = io::read_file(path);
      } catch (const std::runtime_error& e) {
        fmt::print(stderr, "stratum fmt: {}\n", e.what());
        status = kUsage;
        continue;
      }
      // Only well-formed files are formatted, and the result must mean the same.
      SourceSet before_set, after_set;
      Diagnostics before_diags, after_diags;
      auto before = parse(before_set, before_set.add(path, text), before_diags);
      if (!before) {
        for (const auto& d : before_diags.items()) fmt::print(stderr, "{}", render_text(d, before_set));
        status = std::max(status, kInputProblem);
        continue;
      }
      std::string formatted = format_rule_text(text);
      auto after = parse(after_set, after_set.add(path, formatted), after_diags);
      // Only blanks move: the same tokens on the same lines, and it still parses.
      bool same_shape = after && after->tables.size() == before->tables.size() && code_signature(formatted) == code_signature(text);
      for (size_t t = 0; same_shape && t < before->tables.size(); ++t) {
        same_shape = after->tables[t].rows.size() == before->tables[t].rows.size() &&
                     after->tables[t].columns.size() == before->tables[t].columns.size();
      }
      if (!same_shape) {
        fmt::print(stderr, "stratum fmt: {}: internal error: formatting would change the file's meaning; left as it is\n", path);
        status = kUsage;
        continue;
      }
      if (args.flag("--stdout")) {
        fmt::print("{}", formatted);
      } else if (args.flag("--check")) {
        if (formatted != text) {
          fmt::print("{}: not formatted\n", path);
          status = std::max(status, kInputProblem);
        }
      } else if (formatted != text) {
        // Replaced whole (mode kept, a symlink's target written), or left as it was.
        try {
          io::OutputFile out(path);
          out.write(formatted);
          out.commit();
        } catch (const std::runtime_error& e) {
          fmt::print(stderr, "stratum fmt: {}\n", e.what());
          return kUsage;
        }
        fmt::print("formatted {}\n", path);
      }
    }
  }
  return status;
}

}  // namespace stratum::cli
