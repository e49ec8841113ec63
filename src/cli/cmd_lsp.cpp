// stratum lsp — the language server for editors (the Language Server
// Protocol on standard input and output).
#include <csignal>
#include <cstdio>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "lsp/server.hpp"

namespace stratum::cli {

namespace {
constexpr const char* kHelp = R"(usage: stratum lsp [--stdio]

Serves the Language Server Protocol on standard input and output, for an
editor to start (editors/vscode does). For each rule file open in the
editor, as it is typed:

  diagnostics   every error and warning `stratum check` reports, gaps and
                overlaps with a customer that shows them
  hover         the type, unit and comment of a field, `let`, decision,
                enum value, segment or plan item; a `let`'s definition
  definition    where a name is declared, across imports
  references    every use of a name, across imports
  completion    fields, lets, decisions, enum values (after `枚举.`), plan
                items (after `plan.`), keywords and types
  symbols       the outline: inputs, enums, lets, decisions, the segment
                tree, plan items, tests
  formatting    as `stratum fmt`
  code actions  the checker's "did you mean" suggestions, as quick fixes

  --stdio       the transport, and the only one (editors pass it)

Problems with the editor's messages are written to standard error.

Exit status: 0 after the editor's `shutdown` and `exit`; 1 when the editor
leaves without them; 2 usage.
)";
}  // namespace

int lsp(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--stdio"}, {});
  if (args.flag("--help") || args.flag("-h")) {
    fmt::print("{}", kHelp);
    return kOk;
  }
  if (args.error()) return usage_error("lsp", *args.error());
  if (!args.positionals().empty()) return usage_error("lsp", "takes no arguments: the editor speaks to it on standard input");
  // An editor that closes the pipe ends the server with a word, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  return lsp::serve(stdin, stdout, stderr);
}

}  // namespace stratum::cli
