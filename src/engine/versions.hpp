// Versions of a rule set over time. A rule file may say when it takes effect
// (`ruleset "对公客户分层细分" version "2027.1" effective 2027-01-01`); a rules
// folder may hold several versions of one rule set, and the one in force on
// an evaluation date is the one with the latest effective date on or before
// it. Every front end (eval, explain, diff, the Python module) chooses through
// here, so they choose alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stratum::engine {

// What a rule file's `ruleset` line declares.
struct VersionInfo {
  std::string path;     // as found (the folder joined with the file name)
  std::string ruleset;  // empty when the file has no `ruleset` line
  std::string version;
  std::optional<int32_t> effective;  // days since 1970-01-01
};

// The header of the rule file at `path` (only its `ruleset` line is read).
// Nothing when the file cannot be parsed. Throws std::runtime_error when it
// cannot be read.
std::optional<VersionInfo> read_version(const std::string& path);

// The rule files directly in `folder` (sorted by name), with their headers.
// Throws std::runtime_error when the folder cannot be read, or a rule file
// in it cannot be parsed (a version that cannot be read must not let another
// decide in its place).
std::vector<VersionInfo> versions_in(const std::string& folder);

// Which version to load.
struct Selection {
  std::optional<int32_t> as_of;  // the evaluation date
  std::string ruleset;           // empty: the folder's only rule set
};

// The rule file `path` stands for on `selection.as_of`: a file stands for
// itself (refused when it takes effect after the date); a folder whose files
// declare effective dates, for the version in force; any other folder, for
// its one rule file (main.strat when it has several). Throws
// std::runtime_error saying why none can be chosen.
std::string choose_rule_file(const std::string& path, const Selection& selection);

// "对公客户分层细分 version 2027.1, effective 2027-01-01", as much as the
// file declares.
std::string describe(const std::string& ruleset, const std::string& version, std::optional<int32_t> effective);

}  // namespace stratum::engine
