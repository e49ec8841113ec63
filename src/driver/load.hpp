// load: a rule file and the files it imports → one module. Imports and
// `load` reference files resolve relative to the file that names them and
// must stay inside the rules root (the main file's folder); import cycles and
// declarations that clash across files are diagnosed here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "diag/diagnostic.hpp"
#include "syntax/ast.hpp"

namespace stratum {

// One file a rule set was compiled from: a rule file or reference data.
// `path` is relative to the rules root, with '/' between folders.
struct RuleFile {
  std::string path;
  std::string text;
};

struct LoadOptions {
  // When set, every file is taken from here (keyed by its path relative to
  // the rules root) and the disk is not read: a rule set compiled again from
  // the texts it was first compiled from.
  const std::map<std::string, std::string>* memory = nullptr;
  // When set, receives every file read (the main file first, each once).
  std::vector<RuleFile>* read = nullptr;
  // A rule set that extends another is proven against it, output by output
  // (analysis/compare.hpp): what `stratum check` shows. Off, only the types
  // of its overrides are checked against the parent.
  bool compare_parent = false;
};

std::optional<ast::Module> load_module(const std::string& path, std::string text, SourceSet& sources,
                                       Diagnostics& diags, const LoadOptions& options = {});

}  // namespace stratum
