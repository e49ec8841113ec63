// Rule sets compiled ahead of time: `stratum build --native` writes a rule
// set's C++ (native/codegen.hpp) and compiles it with the system's C++
// compiler into a shared library; `stratum eval --native LIB` (and the
// engine's Options::native) load it and decide customers through it. Every
// value it does not compute, every rejection, and every customer explained
// or covered is decided by the interpreter, so the results are the
// interpreter's (tests/unit/test_native.cpp compares them on every shipped
// rule file).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "eval/program.hpp"
#include "native/abi.hpp"
#include "native/codegen.hpp"

namespace stratum::native {

struct BuildOptions {
  std::string compiler;     // empty: $CXX, else `c++`
  std::string keep_source;  // also write the generated C++ here (empty: not kept)
};

struct BuildReport {
  Generated generated;
  std::string command;  // the compiler's command line
};

// Generates the C++ for `program` and compiles it into a shared library at
// `output`, which is replaced only once the new library is built and loads.
// Throws std::runtime_error saying what failed (the compiler's messages
// included).
BuildReport build(const eval::Program& program, const std::string& output, const BuildOptions& options = {});

class Library {
 public:
  // Loads the library at `path`, built from the rules `program` was compiled
  // from (its fingerprint must be the program's). Throws std::runtime_error
  // saying why it cannot be used.
  static std::shared_ptr<const Library> load(const std::string& path, const eval::Program& program);
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  // Evaluates the customer bound in `f` by the binder (every required field
  // present, every absent optional field holding eval::missing_value(); its
  // derived values reset, as Decider::bind leaves a frame): every
  // decision, and with `plan` every plan item. True: decided, the values in
  // f. False: not decided here (a rejection, or a value left to the
  // interpreter failed); f is reset, for the interpreter to decide it.
  bool evaluate(eval::Frame& f, bool plan) const;
  // Whether evaluate() may decide this frame: not one being explained,
  // covered, tested or compared row by row (the interpreter does those).
  static bool applies(const eval::Frame& f) {
    return !f.trace && !f.covered && !f.reached && !f.test_mode && !f.row_by_row;
  }

  const eval::Program& program() const { return *program_; }
  const std::string& path() const { return path_; }

 private:
  Library() = default;
  const eval::Program* program_ = nullptr;
  std::string path_;
  void* handle_ = nullptr;
  stratum_native::EvaluateFunction evaluate_ = nullptr;
  std::vector<eval::Value> constants_;
  stratum_native::Value missing_{};
};

}  // namespace stratum::native
