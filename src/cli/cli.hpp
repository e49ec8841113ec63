// The `stratum` command line: one function per subcommand, each returning the
// process exit status: 0 all good; 1 problems in the user's input (rule
// errors, rejected records, failing tests); 2 usage or I/O errors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stratum::eval {
class Program;
}
namespace stratum::engine {
class PreviousRun;
}

namespace stratum::cli {

constexpr int kOk = 0;
constexpr int kInputProblem = 1;
constexpr int kUsage = 2;

// Options in `--name value`, `--name=value` or flag form, and positionals.
class Args {
 public:
  Args(std::vector<std::string> argv, std::vector<std::string> flags, std::vector<std::string> valued);
  // Set when the arguments are malformed (unknown option, missing value).
  const std::optional<std::string>& error() const { return error_; }
  bool flag(const std::string& name) const;
  std::optional<std::string> value(const std::string& name) const;  // the last given
  std::vector<std::string> values(const std::string& name) const;  // every one, in order
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<std::string> flags_set_;
  std::vector<std::string> positionals_;
  std::optional<std::string> error_;
};

int usage_error(const std::string& command, const std::string& message);
// Why `path` cannot be read twice (standard input, a pipe, a FIFO, a
// device), or nothing when it is a regular file (or does not exist: the
// reader says so).
std::optional<std::string> not_rereadable(const std::string& path);

// The .strat files a RULES argument names: the file itself, or every .strat
// file under a directory (sorted, so runs are reproducible).
std::vector<std::string> rule_files(const std::string& path, std::string& error);

// `--previous PREV [--previous-format csv|jsonl]`: the previous period's run
// for the rules' stability rules (`out` stays null when not given). Any other
// status than kOk: the problem is printed and the command ends with it.
int previous_run(const Args& args, const std::string& command, const eval::Program& program, const std::string& input,
                 std::shared_ptr<const engine::PreviousRun>& out);

int check(const std::vector<std::string>& argv);
int eval(const std::vector<std::string>& argv);
int test(const std::vector<std::string>& argv);
int explain(const std::vector<std::string>& argv);
int diff(const std::vector<std::string>& argv);
int replay(const std::vector<std::string>& argv);
int fmt(const std::vector<std::string>& argv);
int build(const std::vector<std::string>& argv);
int serve(const std::vector<std::string>& argv);
int report(const std::vector<std::string>& argv);
int import_dmn(const std::vector<std::string>& argv);
int export_dmn(const std::vector<std::string>& argv);
int lsp(const std::vector<std::string>& argv);

}  // namespace stratum::cli
