#include "native/library.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

extern char** environ;

namespace stratum::native {

namespace fs = std::filesystem;
using stratum_native::Context;
using stratum_native::Host;

static_assert(sizeof(stratum_native::Value) == sizeof(eval::Value) && alignof(stratum_native::Value) == alignof(eval::Value));
static_assert(offsetof(stratum_native::Value, n) == offsetof(eval::Value, n) && offsetof(stratum_native::Value, s) == offsetof(eval::Value, s));

namespace {

// What the library calls back: the interpreter, over the customer's frame.
struct HostState {
  const eval::Program* program;
  eval::Frame* frame;
};

const stratum_native::Value* host_slot(void* host, int32_t slot) {
  auto* h = static_cast<HostState*>(host);
  try {
    return reinterpret_cast<const stratum_native::Value*>(&h->program->slot(*h->frame, slot));
  } catch (...) {
    return nullptr;  // the interpreter, deciding the customer again, gives the reason
  }
}

int host_set_contains(void* host, int32_t set, const stratum_native::Value* value) {
  auto* h = static_cast<HostState*>(host);
  return h->program->sets[set].contains(*reinterpret_cast<const eval::Value*>(value)) ? 1 : 0;
}

int host_multiply(__int128 a, __int128 b, __int128* out) {
  try {
    *out = (Decimal::from_raw(a) * Decimal::from_raw(b)).raw();
    return 1;
  } catch (const ArithmeticError&) {
    return 0;
  }
}

int host_divide(__int128 a, __int128 b, __int128* out) {
  if (b == 0) return 0;
  try {
    *out = (Decimal::from_raw(a) / Decimal::from_raw(b)).raw();
    return 1;
  } catch (const ArithmeticError&) {
    return 0;
  }
}

const Host kHost = {host_slot, host_set_contains, host_multiply, host_divide};

// A temporary folder, removed with what is in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "stratum-native-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
      throw std::runtime_error(fmt::format("cannot make a temporary folder in {}: {}", fs::temp_directory_path().string(),
                                           std::strerror(errno)));
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last `lines` lines of a text (without its last newline).
std::string tail(std::string text, size_t lines) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t at = text.size();
  for (size_t n = 0; n < lines; ++n) {
    size_t nl = at == 0 ? std::string::npos : text.rfind('\n', at - 1);
    if (nl == std::string::npos) return text;
    at = nl;
  }
  return text.substr(at + 1);
}

// Writes `bytes` to a new file beside `target` (a name no one can guess or
// have planted), then renames it over `target`: a reader never sees half a
// file, and a failure leaves `target` as it was.
void replace_file(const std::string& target, const std::string& bytes, mode_t mode) {
  fs::path out(target);
  std::string pattern = (out.parent_path() / ("." + out.filename().string() + ".tmp-XXXXXX")).string();
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error(fmt::format("cannot write {}: {}", target, std::strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = errno;
      ::close(fd);
      ::unlink(pattern.c_str());
      throw std::runtime_error(fmt::format("cannot write {}: {}", target, std::strerror(error)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(pattern.c_str(), target.c_str()) != 0) {
    int error = errno;
    ::unlink(pattern.c_str());
    throw std::runtime_error(fmt::format("cannot write {}: {}", target, std::strerror(error)));
  }
}

// Runs argv[0] (looked up on PATH) with stdout and stderr into `log`; its exit status.
int run(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    throw std::runtime_error(fmt::format("cannot run the C++ compiler `{}`: {} (name another with --cxx or CXX)", argv[0],
                                         std::strerror(error)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(fmt::format("waiting for the C++ compiler: {}", std::strerror(errno)));
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

void* open_library(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error(fmt::format("{}: {}", path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(fmt::format("{}: not a regular file (a native library is)", path));
  // A name without a slash would be looked up on the library path, not here.
  std::string where = path.find('/') == std::string::npos ? "./" + path : path;
  void* handle = ::dlopen(where.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    throw std::runtime_error(fmt::format("{}: cannot load it as a native library: {}", path, why ? why : "unknown error"));
  }
  return handle;
}

}  // namespace

BuildReport build(const eval::Program& program, const std::string& output, const BuildOptions& options) {
  BuildReport report;
  report.generated = generate(program);
  if (output.empty()) throw std::runtime_error("no output file named");
  std::error_code ec;
  fs::file_status status = fs::status(output, ec);
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    throw std::runtime_error(fmt::format("{} exists and is not a regular file: it is not replaced; write elsewhere", output));
  }
  if (!options.keep_source.empty()) {
    fs::file_status kept = fs::status(options.keep_source, ec);
    if (fs::exists(kept) && !fs::is_regular_file(kept)) {
      throw std::runtime_error(fmt::format("{} exists and is not a regular file: it is not replaced; write elsewhere", options.keep_source));
    }
    if (fs::weakly_canonical(fs::absolute(options.keep_source), ec) == fs::weakly_canonical(fs::absolute(output), ec) ||
        (fs::exists(kept) && fs::exists(status) && fs::equivalent(options.keep_source, output, ec))) {
      throw std::runtime_error("--keep-source names the library itself; write the source elsewhere");
    }
  }
  TempDir temp;
  fs::path source = temp.path() / "rules.cpp", library = temp.path() / "rules.so", log = temp.path() / "compiler.log";
  write_file(source, report.generated.source);
  std::string compiler = options.compiler;
  if (compiler.empty()) {
    const char* cxx = std::getenv("CXX");
    compiler = cxx && *cxx ? cxx : "c++";
  }
  // `ccache g++`, `g++ -m64`: the command and its own options, split at blanks (as make does)
  std::vector<std::string> argv;
  std::istringstream words(compiler);
  for (std::string word; words >> word;) argv.push_back(word);
  if (argv.empty()) throw std::runtime_error("the C++ compiler's name is empty (--cxx or CXX)");
  compiler = argv[0];
  for (const char* flag : {"-std=c++20", "-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-w", "-o"}) argv.push_back(flag);
  argv.push_back(library.string());
  argv.push_back(source.string());
  for (const auto& a : argv) report.command += (report.command.empty() ? "" : " ") + a;
  int exit = run(argv, log);
  if (exit != 0) {
    std::string said = tail(read_file(log), 30);
    throw std::runtime_error(fmt::format("the C++ compiler `{}` failed (exit status {}) on the generated source; unless the "
                                         "compiler itself is at fault, this is a fault of Stratum's code generator: please "
                                         "report it with the rules. {}",
                                         compiler, exit, said.empty() ? "It printed nothing." : "Its last messages:\n" + said));
  }
  // The new library must load and fit the rules before it replaces anything.
  { auto check = Library::load(library.string(), program); }
  if (!options.keep_source.empty()) replace_file(options.keep_source, report.generated.source, 0644);
  replace_file(output, read_file(library), 0755);
  return report;
}

std::shared_ptr<const Library> Library::load(const std::string& path, const eval::Program& program) {
  std::shared_ptr<Library> lib(new Library());
  lib->program_ = &program;
  lib->path_ = path;
  lib->handle_ = open_library(path);
  auto info_fn = reinterpret_cast<stratum_native::InfoFunction>(::dlsym(lib->handle_, "stratum_native_info"));
  lib->evaluate_ = reinterpret_cast<stratum_native::EvaluateFunction>(::dlsym(lib->handle_, "stratum_native_evaluate"));
  if (!info_fn || !lib->evaluate_) {
    throw std::runtime_error(fmt::format("{}: not a library built by `stratum build --native`", path));
  }
  const stratum_native::Info* info = info_fn();
  if (!info || info->abi != stratum_native::kAbi) {
    throw std::runtime_error(fmt::format("{}: built by another version of Stratum (interface {}, this one {}): rebuild it with "
                                         "`stratum build --native`",
                                         path, info ? info->abi : 0, stratum_native::kAbi));
  }
  if (info->value_size != sizeof(eval::Value) || info->text_offset != offsetof(eval::Value, s)) {
    throw std::runtime_error(fmt::format("{}: its values are laid out otherwise than Stratum's (built by another compiler or for "
                                         "another machine): rebuild it with `stratum build --native`",
                                         path));
  }
  if (info->probe.data() != info->probe_text || info->probe.size() != 5) {
    throw std::runtime_error(fmt::format("{}: built against another C++ standard library than Stratum's (its text values are laid "
                                         "out otherwise): rebuild it with a compiler that uses Stratum's (--cxx)",
                                         path));
  }
  Generated expected = generate(program);
  if (info->slots != program.slot_count() || !info->fingerprint || expected.fingerprint != info->fingerprint) {
    throw std::runtime_error(fmt::format("{}: built from other rules ({}) than these ({} version {}): rebuild it with "
                                         "`stratum build --native` from these rules",
                                         path, info->ruleset ? info->ruleset : "?", program.ruleset, program.version));
  }
  eval::Value missing = eval::missing_value();
  lib->missing_ = {missing.n, missing.s};
  lib->constants_.reserve(program.nodes.size());
  for (const auto& n : program.nodes) lib->constants_.push_back(n.constant);
  return lib;
}

Library::~Library() {
  if (handle_) ::dlclose(handle_);
}

bool Library::evaluate(eval::Frame& f, bool plan) const {
  HostState host{program_, &f};
  Context c{reinterpret_cast<stratum_native::Value*>(f.slots.data()),
            f.state.data(),
            f.plan_conditions.data(),
            f.table_hit.data(),
            reinterpret_cast<const stratum_native::Value*>(constants_.data()),
            &missing_,
            &kHost,
            &host};
  if (evaluate_(&c, plan ? 1 : 0)) return true;
  program_->reset(f);  // what it computed is computed again, by the interpreter
  return false;
}

}  // namespace stratum::native
