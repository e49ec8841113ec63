// stratum build --native RULES -o LIB — the rules compiled ahead of time:
// their C++ generated (native/codegen) and compiled by the system's C++
// compiler into a shared library that `stratum eval --native LIB` loads.
#include <filesystem>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "engine/rule_set.hpp"
#include "io/record.hpp"
#include "native/library.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum build --native RULES -o LIB [options]

Compiles the rule file RULES ahead of time: writes its decisions, segment
tree and service plan as C++ and compiles them with the system's C++
compiler into the shared library LIB, for `stratum eval RULES --native LIB`.
The results are the interpreter's: what the library does not compute
(tables, scorecards, dates, stability and capacity rules, …) it leaves to
the interpreter value by value, and a customer it cannot decide (a
rejection) is decided again by the interpreter, which gives the reason.
Explanations are the interpreter's. LIB is refused by eval when it was
built from other rules or by another version of Stratum: rebuild it then.

  --native              compile to native code (the only kind of build)
  -o, --output LIB      the library to write; replaced only once the new one
                        is built and loads
  --cxx COMPILER        the C++ compiler (default: $CXX, else c++); it must
                        take g++'s options (-std=c++20 -O2 -shared -fPIC)
  --keep-source FILE    also write the generated C++ to FILE

Load only libraries you built: loading one runs its code.

Exit status: 0 built; 1 rule errors; 2 usage, I/O or compiler error.
)";

}  // namespace

int build(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--native"}, {"-o", "--output", "--cxx", "--keep-source"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("build", *args.error());
  if (!args.flag("--native")) return usage_error("build", "say --native: a native library is the only kind of build");
  if (args.positionals().size() != 1) return usage_error("build", "name one rule file (or a folder holding one)");
  auto output = args.value("--output");
  if (auto o = args.value("-o")) output = o;
  if (!output || output->empty()) return usage_error("build", "name the library to write with -o LIB");
  if (*output == "-") return usage_error("build", "a library is written to a file, not to standard output");

  std::shared_ptr<const engine::RuleSet> rules;
  try {
    rules = engine::RuleSet::load(args.positionals()[0], false);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum build: {}\n", e.what());
    return kUsage;
  }
  std::string diags = rules->compilation().render(false);
  if (!diags.empty()) fmt::print(stderr, "{}", diags);
  if (!rules->ok()) {
    fmt::print(stderr, "stratum build: {} has errors; nothing was built\n", rules->path());
    return kInputProblem;
  }
  // Neither output may replace a file the rules were compiled from.
  std::filesystem::path root = std::filesystem::path(rules->path()).parent_path();
  native::BuildOptions options;
  options.compiler = args.value("--cxx").value_or("");
  options.keep_source = args.value("--keep-source").value_or("");
  for (const std::string* out : {&*output, &options.keep_source}) {
    if (out->empty()) continue;
    for (const auto& f : rules->bundle().files) {
      std::string path = (root / f.path).string();
      if (io::same_file(*out, path)) {
        return usage_error("build", fmt::format("{} is a file of the rules ({}): it would be replaced; write elsewhere", *out, path));
      }
    }
  }
  try {
    native::BuildReport report = native::build(rules->program(), *output, options);
    const auto& g = report.generated;
    fmt::print(stderr, "built {}: {} of {} computed values compiled", *output, g.compiled, g.compiled + g.interpreted.size());
    if (g.interpreted.empty()) {
      fmt::print(stderr, "\n");
    } else {
      fmt::print(stderr, "; left to the interpreter:\n");
      for (const auto& line : g.interpreted) fmt::print(stderr, "  {}\n", line);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "stratum build: {}\n", e.what());
    return kUsage;
  }
  return kOk;
}

}  // namespace stratum::cli
