#include "driver/stratum.hpp"

#include <algorithm>

#include "check/check.hpp"
#include "compile/lower.hpp"
#include "analysis/analyze.hpp"
#include "driver/load.hpp"
#include "io/record.hpp"
#include "syntax/parser.hpp"

namespace stratum {

std::vector<const Diagnostic*> Compilation::sorted_diagnostics() const {
  // Diagnostics in source order, so a file reads top to bottom.
  std::vector<const Diagnostic*> sorted;
  for (const auto& d : diagnostics.items()) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic* a, const Diagnostic* b) {
    return std::tie(a->span.file, a->span.begin) < std::tie(b->span.file, b->span.begin);
  });
  return sorted;
}

std::string Compilation::render(bool json) const {
  std::string out;
  for (const Diagnostic* d : sorted_diagnostics()) {
    out += json ? render_json(*d, sources) + "\n" : render_text(*d, sources);
  }
  return out;
}

Compilation compile_text(const std::string& path, std::string text, bool analyse_rules) {
  return compile_files(path, std::move(text), {}, analyse_rules);
}

Compilation compile_files(const std::string& path, std::string text, const LoadOptions& options, bool analyse_rules) {
  Compilation c;
  LoadOptions with = options;
  with.read = &c.files;
  auto module = load_module(path, std::move(text), c.sources, c.diagnostics, with);
  if (!module || c.diagnostics.has_errors()) return c;
  c.model = std::make_unique<Model>(check(std::move(*module), c.sources, c.diagnostics));
  if (c.diagnostics.has_errors()) return c;
  c.program = lower(*c.model, c.sources, c.diagnostics);
  if (!c.diagnostics.has_errors() && analyse_rules) analyse(*c.program, c.diagnostics);
  if (c.diagnostics.has_errors()) c.program.reset();
  return c;
}

Compilation compile(const std::string& path) { return compile_text(path, io::read_file(path)); }

}  // namespace stratum
