// stratum: the command-line wrapper around the engine.
#include <algorithm>
#include <cerrno>
#include <string_view>
#include <vector>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <thread>

#include <malloc.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "diag/diagnostic.hpp"
#include "io/writer.hpp"

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
  replay DECIDED --rules DIR   decide an earlier run's records again: the audit
  fmt RULES…                   lay out rule files (indentation, spacing, tables)
  build --native RULES -o LIB  compile the rules ahead of time (eval --native LIB)
  serve RULES_DIR              decide over HTTP: the decision service
  report RULES --input FILE    one offline HTML page of charts over a portfolio
  import-dmn MODEL.dmn         DMN decision tables as a rule file
  export-dmn RULES             a rule file's tables as a DMN model
  lsp                          the language server, for editors

Run `stratum COMMAND --help` for a command's options.
)";

// A last word on standard error that never throws: when standard error
// itself is full or closed there is no one left to tell.
// The command nearest to a mistyped one (`chek` → `check`), or "".
std::string closest_command(const std::string& typed) {
  static const char* const commands[] = {"check", "eval", "test", "explain", "diff", "replay", "fmt", "build", "serve", "report", "import-dmn", "export-dmn", "lsp"};
  std::string best;
  size_t best_distance = 3;  // at most two edits away
  for (const char* c : commands) {
    std::string_view cand(c);
    std::vector<size_t> row(cand.size() + 1);
    for (size_t j = 0; j <= cand.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= typed.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= cand.size(); ++j) {
        size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (typed[i - 1] == cand[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    if (row[cand.size()] < best_distance) {
      best_distance = row[cand.size()];
      best = c;
    }
  }
  return best;
}

void say(const std::string& text) noexcept {
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

// Standard input, output and error closed at start (`>&-`) would let the
// next file opened take their numbers, and output meant for the terminal
// would land in it. Hold them with /dev/null opened read-only, so writing
// there fails (and is reported) instead.
void hold_standard_streams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      int held = ::open("/dev/null", O_RDONLY);
      if (held >= 0 && held != fd) {
        ::dup2(held, fd);
        ::close(held);
      }
    }
  }
}

// Evaluation and checking follow chains of values up to fixed depths
// (docs/limits.md); every thread, the command's own included (see main),
// gets a stack that holds them whatever `ulimit -s` says. Only what is
// touched is ever committed.
void enough_stack() {
  pthread_attr_t attr;
  if (::pthread_attr_init(&attr) == 0) {
    ::pthread_attr_setstacksize(&attr, 256u << 20);
    ::pthread_setattr_default_np(&attr);
    ::pthread_attr_destroy(&attr);
  }
}

int dispatch(const std::string& command, std::vector<std::string>& args) {
  if (command == "check") return stratum::cli::check(args);
  if (command == "eval") return stratum::cli::eval(args);
  if (command == "test") return stratum::cli::test(args);
  if (command == "explain") return stratum::cli::explain(args);
  if (command == "diff") return stratum::cli::diff(args);
  if (command == "replay") return stratum::cli::replay(args);
  if (command == "fmt") return stratum::cli::fmt(args);
  if (command == "build") return stratum::cli::build(args);
  if (command == "serve") return stratum::cli::serve(args);
  if (command == "report") return stratum::cli::report(args);
  if (command == "import-dmn") return stratum::cli::import_dmn(args);
  if (command == "export-dmn") return stratum::cli::export_dmn(args);
  if (command == "lsp") return stratum::cli::lsp(args);
  return -1;
}

}  // namespace

int run(int argc, char** argv);

int main(int argc, char** argv) {
  // Blocks of records (about 1 MiB in, a few MiB out) are allocated and freed
  // all the time: kept in the heap for reuse, not mapped and returned to the
  // system each time (every fresh page a fault). Memory stays bounded by
  // the blocks in flight.
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // (glibc's largest: 32 MiB on 64 bits)
  ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
  hold_standard_streams();
  enough_stack();
  stratum::io::install_signal_cleanup();
  // The stopping signals are taken by the command's thread, not this one:
  // `serve` waits for them on its own thread (sigtimedwait, with every
  // other thread blocking them); every other command lets them clean up.
  sigset_t stopping;
  sigemptyset(&stopping);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&stopping, s);
  ::pthread_sigmask(SIG_BLOCK, &stopping, nullptr);
  int status = 0;
  std::thread command([&] {
    if (argc < 2 || std::string_view(argv[1]) != "serve") ::pthread_sigmask(SIG_UNBLOCK, &stopping, nullptr);
    status = run(argc, argv);
  });
  command.join();
  // Whatever went to standard output must have arrived: a full disk or a
  // closed pipe is an error, never a silent loss.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    say(fmt::format("stratum: cannot write standard output: {}\n", std::strerror(errno ? errno : EIO)));
    return stratum::cli::kUsage;
  }
  return status;
}

int run(int argc, char** argv) {
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
    int status = dispatch(command, args);
    if (status >= 0) return status;
    std::string hint = closest_command(command);
    say(fmt::format("stratum: unknown command `{}`{}\n{}", command,
                    hint.empty() ? "" : fmt::format(" (did you mean `{}`?)", hint), kHelp));
    return stratum::cli::kUsage;
  } catch (const stratum::InternalError& e) {
    say(fmt::format("stratum: internal error: {}\n", e.what()));
    return 3;
  } catch (const std::exception& e) {
    say(fmt::format("stratum: {}\n", e.what()));
    return stratum::cli::kUsage;
  } catch (...) {
    say("stratum: unexpected failure\n");
    return 3;
  }
}
