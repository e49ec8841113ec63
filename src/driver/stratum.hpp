// The engine's entry point: load → parse → check → lower. The CLI and the
// tests call this; nothing else strings the stages together.
#pragma once

#include <memory>
#include <string>

#include "check/model.hpp"
#include "diag/diagnostic.hpp"
#include "driver/load.hpp"
#include "eval/program.hpp"
#include "source/source_file.hpp"

namespace stratum {

struct Compilation {
  SourceSet sources;
  Diagnostics diagnostics;
  std::unique_ptr<Model> model;            // set when parsing succeeded
  std::unique_ptr<eval::Program> program;  // set when there are no errors
  std::vector<RuleFile> files;             // every file read, the main file first

  bool ok() const { return program != nullptr; }
  // Every error and warning, in order; notes (the proof of an extending rule
  // set, which `stratum check` prints) only when asked for.
  std::string render(bool json = false, bool notes = false) const;
  std::vector<const Diagnostic*> sorted_diagnostics() const;  // in source order
};

// Compiles the rule file at `path`; with `compare_parent`, a rule set that
// extends another is proven against it (see LoadOptions). I/O errors throw
// std::runtime_error.
Compilation compile(const std::string& path, bool compare_parent = false);
// Compiles rule text given directly; `path` names it in diagnostics. Without
// `analyse`, the proofs (gaps, overlaps, unreachable rows) are skipped.
Compilation compile_text(const std::string& path, std::string text, bool analyse = true);
// Compiles with the files given in `options` (see LoadOptions).
Compilation compile_files(const std::string& path, std::string text, const LoadOptions& options, bool analyse = true);

}  // namespace stratum
