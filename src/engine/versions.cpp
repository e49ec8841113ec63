#include "engine/versions.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/rule_set.hpp"
#include "io/readers.hpp"
#include "syntax/parser.hpp"
#include "value/date.hpp"

namespace stratum::engine {

namespace fs = std::filesystem;

namespace {
// The header of `path`, or the first syntax error's text.
std::optional<VersionInfo> parse_version(const std::string& path, std::string* error) {
  SourceSet sources;
  Diagnostics diags;
  uint32_t id = sources.add(path, io::read_file(path));
  auto module = parse(sources, id, diags);
  if (!module) {
    if (error && !diags.items().empty()) *error = render_text(diags.items().front(), sources);
    return std::nullopt;
  }
  return VersionInfo{path, module->ruleset, module->version, module->effective};
}
}  // namespace

std::optional<VersionInfo> read_version(const std::string& path) { return parse_version(path, nullptr); }

std::vector<VersionInfo> versions_in(const std::string& folder) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().extension() == ".strat" && entry.is_regular_file(ec)) files.push_back(entry.path().string());
  }
  if (ec) throw std::runtime_error(fmt::format("cannot read the folder {}: {}", folder, ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<VersionInfo> out;
  for (const auto& f : files) {
    std::string error;
    auto v = parse_version(f, &error);
    if (!v) {
      throw std::runtime_error(fmt::format("{} cannot be read as a rule file, so the version in force cannot be chosen in {} "
                                           "(fix it, or move it out of the folder):\n{}",
                                           f, folder, error));
    }
    out.push_back(std::move(*v));
  }
  return out;
}

std::string describe(const std::string& ruleset, const std::string& version, std::optional<int32_t> effective) {
  std::string out = ruleset.empty() ? std::string("(unnamed rule set)") : ruleset;
  if (!version.empty()) out += " version " + version;
  if (effective) out += ", effective " + format_date(*effective);
  return out;
}

namespace {

std::string list(const std::vector<const VersionInfo*>& versions) {
  std::string out;
  for (size_t i = 0; i < versions.size(); ++i) {
    const VersionInfo& v = *versions[i];
    out += fmt::format("{}{} ({}, {})", i ? "; " : "", v.version.empty() ? "(no version)" : v.version,
                       format_date(*v.effective), fs::path(v.path).filename().string());
  }
  return out;
}

}  // namespace

std::string choose_rule_file(const std::string& path, const Selection& selection) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    // A file stands for itself; it may not be used before it takes effect.
    if (selection.as_of) {
      std::optional<VersionInfo> v;
      try {
        v = read_version(path);
      } catch (const std::runtime_error&) {
        return path;  // the load that follows says why it cannot be read
      }
      if (v && v->effective && *v->effective > *selection.as_of) {
        throw std::runtime_error(fmt::format("{} ({}) takes effect after the evaluation date {}: not in force yet",
                                             path, describe(v->ruleset, v->version, v->effective),
                                             format_date(*selection.as_of)));
      }
    }
    return path;
  }
  std::vector<VersionInfo> all = versions_in(path);
  std::vector<const VersionInfo*> dated;
  for (const auto& v : all) {
    if (v.effective) dated.push_back(&v);
  }
  if (dated.empty()) {
    if (!selection.ruleset.empty()) {
      for (const auto& v : all) {
        if (v.ruleset == selection.ruleset) return v.path;
      }
      throw std::runtime_error(fmt::format("the folder {} has no rule set named \"{}\"", path, selection.ruleset));
    }
    return main_rule_file(path);
  }
  // Group the dated files by rule set; choose one rule set.
  std::map<std::string, std::vector<const VersionInfo*>> by_name;
  for (const VersionInfo* v : dated) by_name[v->ruleset].push_back(v);
  std::string name = selection.ruleset;
  if (name.empty()) {
    if (by_name.size() > 1) {
      std::string names;
      for (const auto& [n, _] : by_name) names += (names.empty() ? "" : ", ") + fmt::format("\"{}\"", n);
      throw std::runtime_error(fmt::format(
          "the folder {} holds versions of {} rule sets ({}): choose one with --ruleset NAME", path, by_name.size(), names));
    }
    name = by_name.begin()->first;
  }
  auto it = by_name.find(name);
  if (it == by_name.end()) {
    throw std::runtime_error(fmt::format("the folder {} has no version of a rule set named \"{}\" with an effective date", path, name));
  }
  auto& versions = it->second;
  std::sort(versions.begin(), versions.end(), [](auto* a, auto* b) { return *a->effective < *b->effective; });
  for (size_t i = 1; i < versions.size(); ++i) {
    if (*versions[i]->effective == *versions[i - 1]->effective) {
      throw std::runtime_error(fmt::format("{} and {} both take effect on {} for \"{}\": one version must be in force each day",
                                           versions[i - 1]->path, versions[i]->path, format_date(*versions[i]->effective), name));
    }
  }
  if (!selection.as_of) {
    throw std::runtime_error(fmt::format("the folder {} holds {} version{} of \"{}\" ({}): give the evaluation date with --as-of YYYY-MM-DD to choose the one in force",
                                         path, versions.size(), versions.size() == 1 ? "" : "s", name, list(versions)));
  }
  const VersionInfo* chosen = nullptr;
  for (const VersionInfo* v : versions) {
    if (*v->effective <= *selection.as_of) chosen = v;
  }
  if (!chosen) {
    throw std::runtime_error(fmt::format("no version of \"{}\" in {} is in force on {}: the earliest takes effect on {} ({})", name, path,
                                         format_date(*selection.as_of), format_date(*versions.front()->effective),
                                         list({versions.front()})));
  }
  return chosen->path;
}

}  // namespace stratum::engine
