// DMN XML → import-dmn → the rule file checked, analysed and its tests run
// → export-dmn. The input is a DMN model, optionally followed by a line "%%"
// and a DMN TCK test file. Nothing may crash, hang or leak; whatever cannot
// be imported is a diagnostic, and whatever is imported must check.
#include <cstddef>
#include <cstdint>
#include <string>

#include "analysis/analyze.hpp"
#include "dmn/dmn.hpp"
#include "driver/stratum.hpp"
#include "driver/testing.hpp"
#include "fuzz_common.hpp"

using namespace stratum;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<dmn::XmlFile> tests;
  std::string model = input;
  if (auto cut = input.find("\n%%\n"); cut != std::string::npos) {
    model = input.substr(0, cut);
    tests.push_back({"cases.xml", input.substr(cut + 4)});
  }
  SourceSet sources;
  Diagnostics diags;
  auto text = dmn::import_dmn({"model.dmn", model}, tests, sources, diags);
  for (const auto& d : diags.items()) {
    (void)render_text(d, sources);
    fuzz::require_clean_json_text(render_json(d, sources));
  }
  if (!text) return 0;
  Compilation c = compile_text("imported.strat", *text, false);
  // The importer writes only what the language holds: never a syntax or type error.
  for (const auto& d : c.diagnostics.items()) {
    if (d.code == "syntax" || d.code == "type-mismatch" || d.code == "unknown-name" || d.code == "duplicate-name") __builtin_trap();
  }
  if (!c.ok()) return 0;
  analyse(*c.program, c.diagnostics, std::chrono::milliseconds(2000));
  (void)run_test_blocks(c, 19723);
  std::vector<std::string> notes;
  (void)dmn::export_dmn(*c.model, "fuzz", notes);
  return 0;
}
