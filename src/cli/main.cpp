// stratum: the command-line wrapper around the engine.
#include <fmt/format.h>

#include "cli/cli.hpp"
#include "diag/diagnostic.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kHelp = R"(usage: stratum COMMAND [options]

Stratum checks and evaluates bank customer segmentation rules.

Commands:
  check RULES…                 check rule files; print diagnostics
  eval RULES --input FILE      evaluate every record of FILE
  test RULES… [CASES.yaml…]    run the tests beside the rules
  explain RULES --record '{…}' one customer, and why
  diff OLD NEW --input FILE    how a rules change moves a portfolio's customers
  fmt RULES…                   align the columns of tables and grids

Run `stratum COMMAND --help` for a command's options.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    fmt::print("{}", kHelp);
    return args.empty() ? stratum::cli::kUsage : stratum::cli::kOk;
  }
  if (args[0] == "--version") {
    fmt::print("stratum {}\n", kVersion);
    return 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "check") return stratum::cli::check(args);
    if (command == "eval") return stratum::cli::eval(args);
    if (command == "test") return stratum::cli::test(args);
    if (command == "explain") return stratum::cli::explain(args);
    if (command == "diff") return stratum::cli::diff(args);
    if (command == "fmt") return stratum::cli::fmt(args);
    fmt::print(stderr, "stratum: unknown command `{}`\n{}", command, kHelp);
    return stratum::cli::kUsage;
  } catch (const stratum::InternalError& e) {
    fmt::print(stderr, "stratum: internal error: {}\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    fmt::print(stderr, "stratum: {}\n", e.what());
    return stratum::cli::kUsage;
  }
}
