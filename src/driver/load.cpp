#include "driver/load.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "io/block_input.hpp"
#include "io/readers.hpp"
#include "source/source_file.hpp"
#include "syntax/parser.hpp"

namespace stratum {

namespace fs = std::filesystem;

namespace {

fs::path folder_of(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

class Loader {
 public:
  Loader(SourceSet& sources, Diagnostics& diags, fs::path root, const LoadOptions& options)
      : sources_(sources), diags_(diags), root_(std::move(root)), options_(options) {}

  std::optional<ast::Module> run(const std::string& path, std::string text) {
    fs::path canonical = options_.memory ? root_ / fs::path(path).filename()
                                         : fs::weakly_canonical(fs::absolute(path));
    record(root_ / fs::path(path).filename(), text);
    uint32_t id = sources_.add(path, std::move(text));
    auto main = parse(sources_, id, diags_);
    if (!main) return std::nullopt;
    loaded_.insert(canonical);
    stack_.push_back(canonical);
    fs::path dir = options_.memory ? root_ : folder_of(path);
    bool ok = complete(*main, dir);
    stack_.pop_back();
    if (!ok) return std::nullopt;
    return main;
  }

 private:
  SourceSet& sources_;
  Diagnostics& diags_;
  fs::path root_;
  const LoadOptions& options_;
  std::set<fs::path> loaded_;
  std::vector<fs::path> stack_;
  std::set<fs::path> recorded_;

  std::string relative(const fs::path& p) const { return p.lexically_relative(root_).generic_string(); }

  // Notes a file read, once, for LoadOptions::read.
  void record(const fs::path& p, const std::string& text) {
    if (options_.read && recorded_.insert(p).second) options_.read->push_back({relative(p), text});
  }

  // The text of a file inside the root: from memory or from the disk.
  std::string read(const fs::path& p) {
    std::string text;
    if (options_.memory) {
      text = options_.memory->at(relative(p));
    } else {
      text = io::read_file(p.string());
    }
    record(p, text);
    return text;
  }

  // Resolves `name` relative to `dir`; empty with a diagnostic when it leaves the root.
  std::optional<fs::path> inside_root(const fs::path& dir, const std::string& name, Span span, const char* what) {
    fs::path p = options_.memory ? (dir / name).lexically_normal() : fs::weakly_canonical(fs::absolute(dir / name));
    auto [r, q] = std::mismatch(root_.begin(), root_.end(), p.begin(), p.end());
    if (r != root_.end() || fs::path(name).is_absolute()) {
      diags_.error("outside-root", span,
                   fmt::format("{} `{}` is outside the rules root (the main rule file's folder): rule files read only files inside it", what, name));
      return std::nullopt;
    }
    if (options_.memory) {
      if (!options_.memory->count(relative(p))) {
        diags_.error("file-not-found", span, fmt::format("{} `{}` does not exist (paths are relative to the file that names them)", what, name));
        return std::nullopt;
      }
      return p;
    }
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (!fs::exists(st)) {
      diags_.error("file-not-found", span, fmt::format("{} `{}` does not exist (paths are relative to the file that names them)", what, name));
      return std::nullopt;
    }
    if (!fs::is_regular_file(st)) {
      const char* kind = fs::is_directory(st) ? "a folder" : fs::is_fifo(st) ? "a FIFO (named pipe)"
                         : fs::is_socket(st) ? "a socket" : fs::is_character_file(st) || fs::is_block_file(st) ? "a device" : "not a regular file";
      diags_.error("file-not-found", span, fmt::format("{} `{}` is {}: name a file", what, name, kind));
      return std::nullopt;
    }
    return p;
  }

  // Imports every file `module` names, merging their declarations into `into`.
  bool import_all(ast::Module& module, const fs::path& dir, ast::Module& into) {
    bool ok = true;
    std::vector<ast::ImportDecl> imports = std::move(module.imports);
    module.imports.clear();
    for (const auto& imp : imports) {
      auto p = inside_root(dir, imp.path, imp.span, "imported file");
      if (!p) { ok = false; continue; }
      if (std::find(stack_.begin(), stack_.end(), *p) != stack_.end()) {
        std::string chain;
        for (const auto& s : stack_) chain += s.lexically_relative(root_).string() + " → ";
        chain += p->lexically_relative(root_).string();
        diags_.error("import-cycle", imp.span, fmt::format("import cycle: {}", chain));
        ok = false;
        continue;
      }
      if (!loaded_.insert(*p).second) continue;  // already merged through another import
      std::string text;
      try {
        text = read(*p);
      } catch (const std::exception& e) {
        diags_.error("file-not-found", imp.span, e.what());
        ok = false;
        continue;
      }
      std::string shown = (fs::path(sources_.file(imp.span.file).path()).parent_path() / imp.path).lexically_normal().string();
      if (shown.empty()) shown = imp.path;
      uint32_t id = sources_.add(shown, std::move(text));
      auto sub = parse(sources_, id, diags_);
      if (!sub) { ok = false; continue; }
      if (!sub->extends.empty()) {
        diags_.error("extends-import", imp.span,
                     fmt::format("`{}` extends `{}`: import a rule set that stands alone (or extend this one)", imp.path, sub->extends));
        ok = false;
        continue;
      }
      if (!stray_overrides(*sub)) { ok = false; continue; }
      resolve_loads(*sub, p->parent_path());
      stack_.push_back(*p);
      ok = import_all(*sub, p->parent_path(), into) && ok;
      stack_.pop_back();
      ok = merge(std::move(*sub), into) && ok;
    }
    return ok;
  }

  // The file `child` extends, with everything it imports and extends itself.
  std::optional<ast::Module> load_parent(ast::Module& child, const fs::path& dir) {
    auto p = inside_root(dir, child.extends, child.extends_span, "extended rule file");
    if (!p) return std::nullopt;
    if (std::find(stack_.begin(), stack_.end(), *p) != stack_.end()) {
      std::string chain;
      for (const auto& s : stack_) chain += s.lexically_relative(root_).string() + " → ";
      chain += p->lexically_relative(root_).string();
      diags_.error("extends-cycle", child.extends_span, fmt::format("rule sets extend each other in a cycle: {}", chain));
      return std::nullopt;
    }
    if (!loaded_.insert(*p).second) {
      diags_.error("extends-clash", child.extends_span,
                   fmt::format("`{}` is already read through an import: a rule set extends a file it does not also import", child.extends));
      return std::nullopt;
    }
    std::string text;
    try {
      text = read(*p);
    } catch (const std::exception& e) {
      diags_.error("file-not-found", child.extends_span, e.what());
      return std::nullopt;
    }
    std::string shown = (fs::path(sources_.file(child.extends_span.file).path()).parent_path() / child.extends).lexically_normal().string();
    uint32_t id = sources_.add(shown.empty() ? child.extends : shown, std::move(text));
    auto parent = parse(sources_, id, diags_);
    if (!parent) return std::nullopt;
    child.parent_path = relative(*p);
    child.parent_ruleset = parent->ruleset.empty() ? child.extends : parent->ruleset;
    stack_.push_back(*p);
    bool ok = complete(*parent, p->parent_path());
    stack_.pop_back();
    if (!ok) return std::nullopt;
    return parent;
  }

  // `override` in a file that extends nothing.
  bool stray_overrides(const ast::Module& m) {
    if (!m.extends.empty()) return true;
    bool ok = true;
    auto refuse = [&](Span at, const std::string& what) {
      diags_.error("override-unknown", at,
                   fmt::format("`override {}`: this file extends no rule set (`ruleset \"…\" extends \"parent.strat\"`), so there is nothing to override", what));
      ok = false;
    };
    for (const auto& l : m.lets) if (l.override_) refuse(l.span, "let " + l.name);
    for (const auto& d : m.decides) if (d.override_) refuse(d.span, "decide " + d.name);
    for (const auto& t : m.tables) if (t.override_) refuse(t.span, (t.rows_only ? "rows of " : t.is_grid ? "grid " : "table ") + t.name);
    for (const auto& c : m.scorecards) if (c.override_) refuse(c.span, "scorecard " + c.name);
    for (const auto& p : m.plans) if (p.override_) refuse(p.span, "plan " + p.node);
    return ok;
  }

  // The rest of a parsed rule file (the main one or one extended): its
  // reference data, the file it extends and the files it imports.
  bool complete(ast::Module& m, const fs::path& dir) {
    resolve_loads(m, dir);
    bool ok = stray_overrides(m);
    std::optional<ast::Module> base;
    if (!m.extends.empty()) {
      base = load_parent(m, dir);
      ok = base.has_value();
    }
    ok = import_all(m, dir, m) && ok;
    if (base) ok = extend(std::move(*base), m) && ok;
    return ok;
  }

  // Whether the parent declares `name` as a `let` or a decision, and where.
  static std::optional<std::pair<const char*, Span>> declared(const ast::Module& m, const std::string& name) {
    for (const auto& l : m.lets) if (l.name == name) return std::pair{"a `let`", l.span};
    for (const auto& d : m.decides) if (d.name == name) return std::pair{"a decision", d.span};
    for (const auto& t : m.tables) if (t.name == name) return std::pair{"a decision", t.span};
    for (const auto& c : m.scorecards) if (c.name == name) return std::pair{"a decision", c.span};
    return std::nullopt;
  }

  static ast::SegmentNode* find_segment(ast::SegmentNode* n, const std::string& name) {
    if (n->name == name) return n;
    for (auto& b : n->branches) {
      if (auto* found = find_segment(b.node.get(), name)) return found;
    }
    return nullptr;
  }

  // The node split by an enum (`-> N by X`) whose children's names `name`
  // is one of (N_value), if any.
  static const ast::SegmentNode* split_parent(const ast::SegmentNode* n, const std::string& name) {
    if (!n->split_by.empty() && name.starts_with(n->name + "_")) return n;
    for (const auto& b : n->branches) {
      if (auto* found = split_parent(b.node.get(), name)) return found;
    }
    return nullptr;
  }

  // Removes the parent's decision `name` (of whichever kind); returns whether
  // it was imported into the parent.
  static bool remove_decision(ast::Module& m, const std::string& name) {
    bool imported = false;
    auto drop = [&](auto& list) {
      for (auto it = list.begin(); it != list.end(); ++it) {
        if (it->name != name) continue;
        imported = it->imported;
        list.erase(it);
        return;
      }
    };
    drop(m.decides);
    drop(m.tables);
    drop(m.scorecards);
    return imported;
  }

  // `child` (an extending file, its own imports merged) over `base` (its
  // parent, whole): the parent's declarations with the child's overrides and
  // additions; the result replaces `child`.
  bool extend(ast::Module base, ast::Module& child) {
    bool ok = true;
    auto refuse = [&](const char* code, Span at, std::string message, std::optional<Span> parent = std::nullopt) {
      auto& d = diags_.error(code, at, std::move(message));
      if (parent) d.notes.push_back({"the parent's declaration", *parent});
      ok = false;
    };
    const std::string& parent = child.extends;
    // A name declared twice by the branch itself (its `let`s and decisions
    // share one namespace; plans are by node, segments by leaf).
    std::map<std::string, Span> seen;
    auto twice = [&](const std::string& key, const std::string& name, Span at) {
      auto [it, fresh] = seen.emplace(key, at);
      if (fresh) return false;
      auto& d = diags_.error("duplicate-name", at, fmt::format("`{}` is declared twice in this rule set", name));
      d.notes.push_back({"the first declaration", it->second});
      ok = false;
      return true;
    };
    for (auto& e : child.enums) {
      auto it = std::find_if(base.enums.begin(), base.enums.end(), [&](auto& x) { return x.name == e.name; });
      if (it == base.enums.end()) {
        base.enums.push_back(std::move(e));
        continue;
      }
      if (!same_values(*it, e)) {
        refuse("extends-enum", e.span,
               fmt::format("enum `{}` has other values than in `{}`: a rule set that extends another cannot change an enum's values", e.name, parent),
               it->span);
      }
    }
    for (auto& in : child.inputs) {
      for (auto& f : in.fields) {
        const ast::FieldDecl* existing = nullptr;
        for (const auto& target : base.inputs) {
          for (const auto& g : target.fields) if (g.name == f.name) existing = &g;
        }
        if (!existing) {
          refuse("extends-input", f.span,
                 fmt::format("field `{}` is not in the input of `{}`: a rule set that extends another reads the parent's input and cannot add fields", f.name, parent));
          continue;
        }
        if (!same_field(*existing, f)) {
          refuse("extends-input", f.span,
                 fmt::format("field `{}` is declared differently (type or column) than in `{}`: a rule set that extends another cannot change input fields", f.name, parent),
                 existing->span);
        }
      }
    }
    for (auto& l : child.lets) {
      if (twice(l.name, l.name, l.span)) continue;
      auto it = std::find_if(base.lets.begin(), base.lets.end(), [&](auto& x) { return x.name == l.name; });
      auto other = declared(base, l.name);
      if (l.override_) {
        if (it == base.lets.end()) {
          refuse("override-unknown", l.span,
                 other ? fmt::format("`{}` is {} of `{}`, not a `let`: override it as one", l.name, other->first, parent)
                       : fmt::format("`override let {}`: `{}` declares no `let` of that name", l.name, parent),
                 other ? std::optional<Span>(other->second) : std::nullopt);
          continue;
        }
        child.changes.push_back({"let", l.name, l.span});
        *it = std::move(l);
      } else if (other) {
        refuse("override-needed", l.span,
               fmt::format("`{}` is declared by `{}`: write `override let {} = …` to replace it", l.name, parent, l.name), other->second);
      } else {
        child.changes.push_back({"let", l.name, l.span});
        base.lets.push_back(std::move(l));
      }
    }
    auto decisions = [&](auto& list, auto& into, const char* word) {
      for (auto& d : list) {
        if (twice(d.name, d.name, d.span)) continue;
        auto other = declared(base, d.name);
        if (d.override_) {
          if (!other || std::string(other->first) != "a decision") {
            refuse("override-unknown", d.span,
                   other ? fmt::format("`{}` is {} of `{}`, not a decision: override it as one", d.name, other->first, parent)
                         : fmt::format("`override {} {}`: `{}` declares no decision of that name", word, d.name, parent),
                   other ? std::optional<Span>(other->second) : std::nullopt);
            continue;
          }
          d.imported = remove_decision(base, d.name);
        } else if (other) {
          refuse("override-needed", d.span,
                 fmt::format("`{}` is declared by `{}`: write `override {} {}` to replace it", d.name, parent, word, d.name), other->second);
          continue;
        }
        child.changes.push_back({"decision", d.name, d.span});
        into.push_back(std::move(d));
      }
    };
    // `override rows of T`: each named row replaces the parent's row of that name.
    for (auto it = child.tables.begin(); it != child.tables.end();) {
      if (!it->rows_only) { ++it; continue; }
      ast::TableDecl rows = std::move(*it);
      it = child.tables.erase(it);
      if (twice("rows of " + rows.name, "override rows of " + rows.name, rows.span)) continue;
      auto target = std::find_if(base.tables.begin(), base.tables.end(), [&](auto& t) { return t.name == rows.name && !t.is_grid; });
      if (target == base.tables.end()) {
        auto other = declared(base, rows.name);
        refuse("override-unknown", rows.span, fmt::format("`override rows of {}`: `{}` declares no table of that name", rows.name, parent),
               other ? std::optional<Span>(other->second) : std::nullopt);
        continue;
      }
      auto names = [](const ast::TableDecl& t) {
        std::vector<std::string> out;
        for (const auto& c : t.columns) out.push_back(c->qualifier.empty() ? c->text : c->qualifier + "." + c->text);
        out.push_back("||");
        for (const auto& o : t.outputs) out.push_back(o.name);
        return out;
      };
      if (names(rows) != names(*target) || rows.column_may_be_missing != target->column_may_be_missing) {
        refuse("override-rows", rows.span,
               fmt::format("the header of `override rows of {}` must be the parent's table's, column for column", rows.name), target->span);
        continue;
      }
      if (rows.else_row) refuse("override-rows", rows.else_row->span, "an `else` row cannot be overridden by name: override the whole table");
      for (auto& row : rows.rows) {
        if (row.label.empty()) {
          refuse("override-rows", row.span,
                 fmt::format("a row of `override rows of {}` names the parent's row it replaces: `[名称] …`", rows.name));
          continue;
        }
        auto same = std::find_if(target->rows.begin(), target->rows.end(), [&](auto& r) { return r.label == row.label; });
        if (same == target->rows.end()) {
          refuse("override-rows", row.label_span,
                 fmt::format("the table `{}` of `{}` has no row named `{}` (a row is named by `[名称]` before its cells)", rows.name, parent, row.label),
                 target->span);
          continue;
        }
        if (twice("row " + rows.name + "/" + row.label, "[" + row.label + "]", row.label_span)) continue;
        child.changes.push_back({"decision", rows.name, row.label_span});
        *same = std::move(row);
      }
    }
    decisions(child.decides, base.decides, "decide");
    decisions(child.tables, base.tables, "table");
    decisions(child.scorecards, base.scorecards, "scorecard");
    for (auto& root : child.segments) {
      if (twice("segments " + root->name, "segments " + root->name, root->span)) continue;
      ast::SegmentNode* leaf = base.segments.empty() ? nullptr : find_segment(base.segments[0].get(), root->name);
      if (const ast::SegmentNode* split = base.segments.empty() || leaf ? nullptr : split_parent(base.segments[0].get(), root->name)) {
        refuse("extends-segment", root->span,
               fmt::format("`{}` is a child made by `-> {} by {}`: adding segments below the children of a split is not yet supported",
                           root->name, split->name, split->split_by),
               split->span);
        continue;
      }
      auto overflow = std::find_if(base.capacities.begin(), base.capacities.end(), [&](auto& c) { return c.overflow == root->name; });
      if (leaf && overflow != base.capacities.end()) {
        refuse("extends-segment", root->span,
               fmt::format("`{}` is where the capacity of `{}` sends its overflow: it stays a leaf", root->name, overflow->node), overflow->overflow_span);
        continue;
      }
      if (!leaf) {
        refuse("extends-segment", root->span,
               base.segments.empty() ? fmt::format("`{}` has no segment tree to grow: a rule set that extends another adds segments below the parent's leaves", parent)
                                     : fmt::format("`{}` is not a segment of `{}`: `segments NAME {{ … }}` in a rule set that extends another names a leaf of the parent's tree and adds segments below it", root->name, parent));
        continue;
      }
      if (!leaf->branches.empty() || !leaf->split_by.empty()) {
        refuse("extends-segment", root->span,
               fmt::format("`{}` is not a leaf of the tree of `{}`: a rule set that extends another adds segments below the parent's leaves and cannot change or remove the parent's segments", root->name, parent),
               leaf->span);
        continue;
      }
      child.changes.push_back({"segments", root->name, root->span});
      leaf->branches = std::move(root->branches);
    }
    std::vector<ast::PlanDecl> conditional;
    for (auto& p : child.plans) {
      if (p.condition) {
        if (p.override_) {
          refuse("override-unknown", p.span,
                 "a conditional plan cannot be overridden: write it without `override`; the conditional plans of a rule set that extends another come before the parent's");
          continue;
        }
        for (const auto& item : p.items) child.changes.push_back({"plan", item.name, item.span});
        conditional.push_back(std::move(p));
        continue;
      }
      if (twice("plan " + p.node, "plan " + p.node, p.span)) continue;
      auto it = std::find_if(base.plans.begin(), base.plans.end(), [&](auto& x) { return !x.condition && x.node == p.node; });
      if (p.override_ && it == base.plans.end()) {
        refuse("override-unknown", p.span, fmt::format("`override plan {}`: `{}` has no plan for `{}` (write `plan {}` to give it one)", p.node, parent, p.node, p.node));
        continue;
      }
      if (!p.override_ && it != base.plans.end()) {
        refuse("override-needed", p.span,
               fmt::format("`{}` has a plan for `{}`: write `override plan {}` to change its items", parent, p.node, p.node), it->span);
        continue;
      }
      for (const auto& item : p.items) child.changes.push_back({"plan", item.name, item.span});
      if (it == base.plans.end()) {
        base.plans.push_back(std::move(p));
        continue;
      }
      for (auto& item : p.items) {
        auto same = std::find_if(it->items.begin(), it->items.end(), [&](auto& x) { return x.name == item.name; });
        if (same != it->items.end()) *same = std::move(item);
        else it->items.push_back(std::move(item));
      }
    }
    base.plans.insert(base.plans.begin(), std::make_move_iterator(conditional.begin()), std::make_move_iterator(conditional.end()));
    for (auto& cap : child.capacities) {
      child.changes.push_back({"capacity", cap.node, cap.span});
      base.capacities.push_back(std::move(cap));
    }
    // A branch's stability rule for a value replaces the parent's for it.
    for (auto& st : child.stabilities) {
      child.changes.push_back({"stability", st.target, st.span});
      auto same = std::find_if(base.stabilities.begin(), base.stabilities.end(), [&](auto& x) { return x.target == st.target; });
      if (same != base.stabilities.end()) *same = std::move(st);
      else base.stabilities.push_back(std::move(st));
    }
    for (auto& f : child.fixed) base.fixed.push_back(std::move(f));  // the parent's fixed fields stay fixed
    base.tests = std::move(child.tests);
    base.file = child.file;
    base.ruleset = std::move(child.ruleset);
    base.version = std::move(child.version);
    base.effective = child.effective;
    base.effective_span = child.effective_span;
    base.extends = std::move(child.extends);
    base.extends_span = child.extends_span;
    base.parent_path = std::move(child.parent_path);
    base.parent_ruleset = std::move(child.parent_ruleset);
    base.changes = std::move(child.changes);
    child = std::move(base);
    return ok;
  }

  static bool same_type(const ast::TypeRef& a, const ast::TypeRef& b) {
    return a.name == b.name && a.is_set == b.is_set && a.optional == b.optional;
  }

  // Two declarations of one enum (or field) in two files agree: the same
  // values in the same order (the same type and data column).
  static bool same_values(const ast::EnumDecl& a, const ast::EnumDecl& b) {
    return a.members.size() == b.members.size() &&
           std::equal(a.members.begin(), a.members.end(), b.members.begin(), [](auto& x, auto& y) { return x.name == y.name; });
  }
  static bool same_field(const ast::FieldDecl& a, const ast::FieldDecl& b) {
    return same_type(a.type, b.type) && (a.column.empty() ? a.name : a.column) == (b.column.empty() ? b.name : b.column);
  }

  bool merge(ast::Module from, ast::Module& into) {
    bool ok = true;
    for (auto& e : from.enums) {
      auto it = std::find_if(into.enums.begin(), into.enums.end(), [&](auto& x) { return x.name == e.name; });
      if (it == into.enums.end()) {
        into.enums.push_back(std::move(e));
        continue;
      }
      if (!same_values(*it, e)) {
        auto& d = diags_.error("import-clash", e.span,
                               fmt::format("enum `{}` is declared here with other values than in the importing file", e.name));
        d.notes.push_back({"the other declaration", it->span});
        ok = false;
      }
    }
    if (into.inputs.empty() && !from.inputs.empty()) into.inputs.push_back({from.inputs[0].name, from.inputs[0].span, {}});
    for (auto& in : from.inputs) {
      for (auto& f : in.fields) {
        ast::FieldDecl* existing = nullptr;
        for (auto& target : into.inputs) {
          for (auto& g : target.fields) {
            if (g.name == f.name) existing = &g;
          }
        }
        if (!existing) {
          f.key = false;  // the importing file decides the key
          into.inputs[0].fields.push_back(std::move(f));
          continue;
        }
        if (!same_field(*existing, f)) {
          auto& d = diags_.error("import-clash", f.span,
                                 fmt::format("field `{}` is declared here differently (type or column) than in the importing file", f.name));
          d.notes.push_back({"the other declaration", existing->span});
          ok = false;
        }
      }
    }
    for (auto& l : from.lets) into.lets.push_back(std::move(l));
    for (auto& d : from.decides) { d.imported = true; into.decides.push_back(std::move(d)); }
    for (auto& t : from.tables) { t.imported = true; into.tables.push_back(std::move(t)); }
    for (auto& s : from.scorecards) { s.imported = true; into.scorecards.push_back(std::move(s)); }
    // An imported file's tests, segment tree and plans stay with that file.
    return ok;
  }

  // Replaces every `load "file.csv" column c` in the module's lets by the set
  // of that column's values, read now, once.
  void resolve_loads(ast::Module& m, const fs::path& dir) {
    for (auto& l : m.lets) {
      if (!l.value || l.value->kind != ast::ExprKind::load) continue;
      ast::Expr& e = *l.value;
      auto p = inside_root(dir, e.text, e.span, "reference data");
      if (!p) continue;
      try {
        auto reader = io::make_csv_text_reader(read(*p));
        if (auto problem = reader->open({e.qualifier}, {true})) {
          diags_.error("bad-reference-data", e.span, fmt::format("{}: {}", e.text, *problem));
          continue;
        }
        // The values go into one buffer; the set views it, sorted and distinct.
        auto loaded = std::make_shared<ast::LoadedTexts>();
        std::vector<std::pair<size_t, size_t>> at;  // offset, length in the buffer
        io::RawRecord r;
        bool bad = false;
        while (reader->next(r)) {
          if (!r.error.empty()) {
            diags_.error("bad-reference-data", e.span, fmt::format("{} line {}: {}", e.text, r.line, r.error));
            bad = true;
            break;
          }
          std::string_view v = r.fields[0].text;
          while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
          while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
          if (v.empty()) continue;
          if (!utf8::valid(v)) {
            diags_.error("bad-reference-data", e.span,
                         fmt::format("{} line {}: \"{}\" is not UTF-8 text", e.text, r.line, utf8::printable(v, 40)));
            bad = true;
            break;
          }
          at.push_back({loaded->blob.size(), v.size()});
          loaded->blob.append(v);
        }
        if (bad) continue;
        if (at.empty()) {
          diags_.error("bad-reference-data", e.span, fmt::format("{} has no values in column `{}`", e.text, e.qualifier));
          continue;
        }
        loaded->blob.shrink_to_fit();
        loaded->values.reserve(at.size());
        for (auto [off, len] : at) loaded->values.push_back(std::string_view(loaded->blob).substr(off, len));
        std::vector<std::pair<size_t, size_t>>().swap(at);
        std::sort(loaded->values.begin(), loaded->values.end());
        loaded->values.erase(std::unique(loaded->values.begin(), loaded->values.end()), loaded->values.end());
        loaded->values.shrink_to_fit();
        auto set = std::make_unique<ast::Expr>();
        set->kind = ast::ExprKind::set;
        set->span = e.span;
        set->loaded = std::move(loaded);
        l.value = std::move(set);
      } catch (const std::exception& ex) {
        diags_.error("bad-reference-data", e.span, fmt::format("cannot read {}: {}", e.text, ex.what()));
      }
    }
  }
};

}  // namespace

std::optional<ast::Module> load_module(const std::string& path, std::string text, SourceSet& sources,
                                       Diagnostics& diags, const LoadOptions& options) {
  // In memory, the root is a name that stands for the main file's folder.
  fs::path root = options.memory ? fs::path("/rules") : fs::weakly_canonical(fs::absolute(folder_of(path)));
  if (root.filename().empty()) root = root.parent_path();
  return Loader(sources, diags, root, options).run(path, std::move(text));
}

}  // namespace stratum
