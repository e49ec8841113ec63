#include "driver/stratum.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "analysis/compare.hpp"
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

std::string Compilation::render(bool json, bool notes) const {
  std::string out;
  for (const Diagnostic* d : sorted_diagnostics()) {
    if (d->severity == Severity::note && !notes) continue;
    out += json ? render_json(*d, sources) + "\n" : render_text(*d, sources);
  }
  return out;
}

namespace {

// A rule set that extends another, against it: the parent is compiled on
// its own (from the same files), each override keeps its type, and, when
// `prove`, every output is compared (analysis/compare.hpp).
void compare_with_parent(Compilation& c, const std::string& path, const LoadOptions& options, bool prove) {
  namespace fs = std::filesystem;
  const ast::Module& m = c.model->module;
  fs::path rel(m.parent_path);
  std::map<std::string, std::string> memory;
  LoadOptions from;
  std::string parent_path, text;
  if (options.memory) {
    // The parent's own root is its folder: the same files, named from there.
    std::string prefix = rel.parent_path().generic_string();
    for (const auto& [k, v] : *options.memory) {
      if (prefix.empty()) memory[k] = v;
      else if (k.starts_with(prefix + "/")) memory[k.substr(prefix.size() + 1)] = v;
    }
    from.memory = &memory;
    parent_path = rel.filename().string();
    text = options.memory->at(m.parent_path);
  } else {
    fs::path dir = fs::path(path).parent_path();
    parent_path = (dir.empty() ? rel : dir / rel).string();
    text = io::read_file(parent_path);
  }
  Compilation parent = compile_files(parent_path, std::move(text), from, false);
  if (!parent.ok()) {
    c.diagnostics.error("extends-parent", m.extends_span,
                        fmt::format("`{}` does not compile on its own ({} error{}): `stratum check {}` shows {}", m.extends,
                                    parent.diagnostics.error_count(), parent.diagnostics.error_count() == 1 ? "" : "s", parent_path,
                                    parent.diagnostics.error_count() == 1 ? "it" : "them"));
    return;
  }
  // An override keeps the type of what it replaces.
  const Model& pm = *parent.model;
  const Model& cm = *c.model;
  auto check_type = [&](const std::string& name, Span at, const Type& t, const char* what) {
    auto same = [&](const Type& u) {
      return pm.type_name(u) == cm.type_name(t) || (u.is_duration() && t.is_duration());
    };
    auto compare = [&](const std::string& other, const Type& u) {
      if (other != name || same(u)) return;
      c.diagnostics.error("override-type", at, fmt::format("{} `{}` is `{}` here and `{}` in `{}`: an override keeps the type of what it replaces",
                                                           what, name, cm.type_name(t), pm.type_name(u), m.extends));
    };
    for (const auto& l : pm.lets) compare(l.name, l.type);
    for (const auto& d : pm.decisions) compare(d.name, d.type);
  };
  for (const auto& ch : m.changes) {
    if (ch.kind == "let") {
      for (const auto& l : cm.lets) if (l.name == ch.name && l.span.file == ch.span.file && l.span.begin == ch.span.begin) check_type(l.name, l.span, l.type, "`let`");
    } else if (ch.kind == "decision") {
      for (const auto& d : cm.decisions) if (d.name == ch.name) check_type(d.name, ch.span, d.type, "decision");
    } else if (ch.kind == "plan") {
      for (const auto& item : cm.plan_items) {
        if (item.name != ch.name) continue;
        for (const auto& pitem : pm.plan_items) {
          // An item's type is what all its settings share: durations of any
          // units, and whole numbers with decimals, are one type.
          bool numbers = !pitem.type.is_set && !item.type.is_set &&
                         (pitem.type.base == BaseType::int_ || pitem.type.base == BaseType::decimal) &&
                         (item.type.base == BaseType::int_ || item.type.base == BaseType::decimal);
          bool durations = pitem.type.is_duration() && item.type.is_duration();
          if (pitem.name == item.name && pm.type_name(pitem.type) != cm.type_name(item.type) && !numbers && !durations) {
            c.diagnostics.error("override-type", ch.span,
                                fmt::format("plan item `{}` is `{}` here and `{}` in `{}`: an item keeps one type", item.name,
                                            cm.type_name(item.type), pm.type_name(pitem.type), m.extends));
          }
        }
      }
    }
  }
  if (c.diagnostics.has_errors() || !prove) return;
  stratum::compare_with_parent(*parent.program, *c.program, m.parent_ruleset, m.extends_span, c.diagnostics);
}

}  // namespace

Compilation compile_text(const std::string& path, std::string text, bool analyse_rules) {
  return compile_files(path, std::move(text), {}, analyse_rules);
}

Compilation compile_files(const std::string& path, std::string text, const LoadOptions& options, bool analyse_rules) {
  Compilation c;
  LoadOptions with = options;
  with.read = &c.files;
  auto module = load_module(path, std::move(text), c.sources, c.diagnostics, with);
  if (!module || c.diagnostics.has_errors()) return c;
  std::vector<ast::Module::Change> changes = module->changes;
  uint32_t main_file = module->file;
  c.model = std::make_unique<Model>(check(std::move(*module), c.sources, c.diagnostics));
  if (c.diagnostics.has_errors()) {
    // An error in a parent's file about what this rule set overrides (a
    // threshold of another type, say) points at the override too.
    for (auto& d : c.diagnostics.items()) {
      if (d.span.file == main_file) continue;
      for (const auto& ch : changes) {
        if (ch.kind != "segments" && d.message.find("`" + ch.name + "`") != std::string::npos) {
          d.notes.push_back({fmt::format("`{}` is overridden here", ch.name), ch.span});
        }
      }
    }
    return c;
  }
  c.program = lower(*c.model, c.sources, c.diagnostics);
  if (!c.diagnostics.has_errors() && analyse_rules) {
    analyse(*c.program, c.diagnostics);
    if (!c.model->module.parent_path.empty() && !c.diagnostics.has_errors()) compare_with_parent(c, path, options, options.compare_parent);
  }
  if (c.diagnostics.has_errors()) c.program.reset();
  return c;
}

Compilation compile(const std::string& path, bool compare_parent) {
  LoadOptions options;
  options.compare_parent = compare_parent;
  return compile_files(path, io::read_file(path), options);
}

}  // namespace stratum
