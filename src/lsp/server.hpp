// The language server: the Language Server Protocol over a pair of streams
// (the editor's pipe to `stratum lsp`). Every answer comes from the engine
// the command line uses: the same checker, analysis and formatter, so an
// editor shows exactly what `stratum check` would say.
#pragma once

#include <cstdio>

namespace stratum::lsp {

// Serves until the client says `exit` or closes `in`. Returns the process
// exit status: 0 after `shutdown` then `exit`, 1 otherwise (as the protocol
// asks). `log` receives one line per problem with the client's messages.
int serve(std::FILE* in, std::FILE* out, std::FILE* log);

}  // namespace stratum::lsp
