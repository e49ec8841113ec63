// DMN interchange: decision tables of a DMN 1.x model (XML) turned into a
// rule file, and a rule file's tables turned back into a DMN model.
//
// import_dmn reads the model's decision tables (S-FEEL unary tests, every
// hit policy, several outputs, item definitions with allowed values,
// annotations) and, given TCK-style test files, writes their cases as
// `test` blocks. What it cannot express is an `unsupported` diagnostic at
// the XML line, and nothing is written: a table is never imported in part.
// Where DMN and Stratum differ (no rule matching gives null; lists for
// RULE ORDER / OUTPUT ORDER / COLLECT), the rule file behaves as DMN says
// and says so in its comments.
//
// export_dmn writes the tables of a checked rule file (with the fields and
// decisions they read) as a DMN 1.3 model; what DMN cannot hold (decision
// lists, scorecards, the segment tree, plans) is named in a note each.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "diag/diagnostic.hpp"
#include "source/source_file.hpp"

namespace stratum {
struct Model;
}

namespace stratum::dmn {

struct XmlFile {
  std::string path;
  std::string text;
};

// The rule file's text, or nothing when `diags` has errors (each at its
// file and line in `sources`, where the DMN texts are added).
std::optional<std::string> import_dmn(const XmlFile& model, const std::vector<XmlFile>& tests, SourceSet& sources,
                                      Diagnostics& diags);

// What DMN's XML cannot carry from the rules (thrown by export_dmn).
struct ExportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The DMN XML of a checked model's tables, or nothing when no table can be
// exported. `notes` names each construct left out (and why).
std::optional<std::string> export_dmn(const Model& model, const std::string& name, std::vector<std::string>& notes);

}  // namespace stratum::dmn
