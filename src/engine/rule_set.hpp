// RuleSet: rule files loaded, checked and compiled once, then shared. It is
// immutable: any number of threads decide with it at once, each through its
// own Decider. It is named by the content hash of every file it was compiled
// from, and carries those files (its bundle), so that another process can
// compile exactly the same rules from them without reading any disk.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driver/stratum.hpp"

namespace stratum::engine {

// The texts a rule set was compiled from. `main` is the main rule file as it
// was named (it is shown in diagnostics and explanations); every file's path
// is relative to the main file's folder, the main file first.
struct Bundle {
  std::string main;
  std::vector<RuleFile> files;
};

// The SHA-256 of a bundle's files (paths and texts, in path order), in hex.
std::string bundle_hash(const std::vector<RuleFile>& files);

class RuleSet {
 public:
  // Compiles the rule file at `path`. A folder stands for its one rule file
  // (`main.strat` when it has several). Rule problems do not throw: see ok()
  // and diagnostics(). Throws std::runtime_error when `path` cannot be read.
  static std::shared_ptr<const RuleSet> load(const std::string& path, bool analyse = true);
  // Compiles the rules from texts, as load() read them. Throws
  // std::runtime_error when the bundle has no main file.
  static std::shared_ptr<const RuleSet> from_bundle(const Bundle& bundle, bool analyse = true);

  bool ok() const { return compilation_.ok(); }
  const Compilation& compilation() const { return compilation_; }
  const Diagnostics& diagnostics() const { return compilation_.diagnostics; }
  const eval::Program& program() const { return *compilation_.program; }  // only when ok()
  const std::string& path() const { return bundle_.main; }
  const Bundle& bundle() const { return bundle_; }
  const std::string& hash() const { return hash_; }

 private:
  RuleSet() = default;
  Compilation compilation_;
  Bundle bundle_;
  std::string hash_;
};

// The rule file a folder stands for, or an error message.
std::string main_rule_file(const std::string& folder);

}  // namespace stratum::engine
