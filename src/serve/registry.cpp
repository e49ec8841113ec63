#include "serve/registry.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

namespace stratum::serve {

namespace fs = std::filesystem;

namespace {

// A rule set found in the rules directory: its main file, or why it cannot be served.
struct Found {
  std::string main;
  std::string problem;
};

bool inside(const fs::path& root, const fs::path& p) {
  auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end();
}

struct Discovery {
  std::map<std::string, Found> found;
  std::set<std::string> present;  // every name an entry still has, a rule set or not
  std::string error;              // the rules directory cannot be read: nothing is known
};

Discovery discover(const std::string& dir) {
  Discovery d;
  auto& found = d.found;
  std::error_code ec;
  std::vector<fs::directory_entry> entries;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) entries.push_back(*it);
  if (ec) {
    d.error = fmt::format("cannot read the rules directory {}: {}", dir, ec.message());
    return d;
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.path() < b.path(); });
  for (const auto& e : entries) {
    std::string file = e.path().filename().string();
    if (file.empty() || file[0] == '.') continue;
    d.present.insert(file);
    if (e.path().extension() == ".strat") d.present.insert(e.path().stem().string());
    std::error_code sec;
    fs::file_status st = fs::status(e.path(), sec);
    bool is_rule_file = fs::is_regular_file(st) && e.path().extension() == ".strat";
    bool is_folder = fs::is_directory(st);
    if (!is_rule_file && !is_folder) continue;
    std::string name = is_rule_file ? e.path().stem().string() : file;
    if (found.count(name)) continue;  // x.strat before the folder x/: the file is served
    fs::path target = fs::weakly_canonical(e.path(), sec);
    if (sec || !inside(fs::path(dir), target)) {
      found[name] = {e.path().string(), fmt::format("{} leads outside the rules directory {}: it is not served", e.path().string(), dir)};
      continue;
    }
    if (is_rule_file) {
      found[name] = {e.path().string(), ""};
      continue;
    }
    // A folder is a rule set when it holds rule files (a folder of reference data is not).
    bool has_rules = false;
    for (const auto& f : fs::directory_iterator(e.path(), sec)) {
      if (f.path().extension() == ".strat") { has_rules = true; break; }
    }
    if (!has_rules) continue;
    try {
      found[name] = {engine::main_rule_file(e.path().string()), ""};
    } catch (const std::exception& x) {
      found[name] = {e.path().string(), x.what()};
    }
  }
  return d;
}

std::string stat_stamp(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return "-";
  return fmt::format("{}.{}:{}:{}:{}", static_cast<int64_t>(st.st_mtim.tv_sec), static_cast<int64_t>(st.st_mtim.tv_nsec),
                     static_cast<int64_t>(st.st_size), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_dev));
}

// The files a rule set was compiled from (the main file when it has not
// been), relative to its folder, sorted.
std::vector<std::string> files_of(const std::string& main, const engine::RuleSet* rules) {
  std::vector<std::string> files = {fs::path(main).filename().string()};
  if (rules) {
    for (const auto& rf : rules->bundle().files) files.push_back(rf.path);
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

}  // namespace

Registry::Registry(std::string rules_dir) : catalog_(std::make_shared<const Catalog>()) {
  std::error_code ec;
  fs::path canonical = fs::canonical(rules_dir, ec);
  dir_ = ec ? rules_dir : canonical.string();
}

std::shared_ptr<const Catalog> Registry::snapshot() const {
  std::lock_guard lock(mutex_);
  return catalog_;
}

std::string Registry::tree_signature() const {
  std::string sig;
  std::error_code ec;
  std::vector<std::string> lines;
  fs::recursive_directory_iterator it(dir_, fs::directory_options::skip_permission_denied, ec), end;
  size_t seen = 0;
  for (; !ec && it != end && seen < 100000; it.increment(ec), ++seen) {
    std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    lines.push_back(it->path().string() + "=" + stat_stamp(it->path()));
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) { sig += l; sig += '\n'; }
  return sig;
}

bool Registry::changed() {
  if (!missing_.empty()) return true;
  return tree_signature() != tree_;
}

std::string Registry::files_signature(const std::string& root, const std::vector<std::string>& files) const {
  std::string sig;
  for (const auto& f : files) {
    fs::path p = fs::path(root) / f;
    sig += p.string() + "=" + stat_stamp(p) + "\n";
  }
  return sig;
}

std::vector<ReloadEvent> Registry::refresh(bool force) {
  std::vector<ReloadEvent> events;
  tree_ = tree_signature();
  auto old = snapshot();
  auto next = std::make_shared<Catalog>(*old);
  Discovery discovery = discover(dir_);
  if (!discovery.error.empty()) {
    // Moved, deleted or unreadable for now: what was loaded keeps serving.
    if (discovery.error != dir_error_ || force) events.push_back({ReloadEvent::Kind::unreadable, "", {}, {}, discovery.error});
    std::lock_guard lock(mutex_);
    dir_error_ = discovery.error;
    return events;
  }
  {
    std::lock_guard lock(mutex_);
    dir_error_.clear();
  }
  auto& found = discovery.found;
  for (const auto& [name, f] : found) {
    missing_.erase(name);
    auto previous = old->count(name) ? old->at(name) : nullptr;
    auto stamp = stamps_.find(name);
    bool failed_before = previous && (!previous->rules || !previous->last_error.empty());
    if (!force && previous && stamp != stamps_.end() && !failed_before && f.problem.empty()) {
      // Reloaded only when one of the files it was compiled from changed.
      std::string root = fs::path(previous->path).parent_path().string();
      if (files_signature(root, files_of(previous->path, previous->rules.get())) == stamp->second) continue;
    }
    std::shared_ptr<const engine::RuleSet> rules;
    std::string problem = f.problem;
    std::string stamp_now;
    if (problem.empty()) {
      std::string root = fs::path(f.main).parent_path().string();
      // The stamp is taken before reading: a file written meanwhile is read again next time.
      std::vector<std::string> files = files_of(f.main, previous ? previous->rules.get() : nullptr);
      std::string before = files_signature(root, files);
      try {
        rules = engine::RuleSet::load(f.main);
      } catch (const std::exception& e) {
        problem = e.what();
      }
      if (rules) {
        std::vector<std::string> read = files_of(f.main, rules.get());
        // Other files than were stamped (imports changed): no stamp, so the next refresh reads them again.
        stamp_now = read == files ? before : std::string();
        if (!rules->ok()) problem = rules->compilation().render(false);
      }
    }
    auto served = std::make_shared<Served>(previous ? *previous : Served{name, f.main, nullptr, {}, {}, {}, {}});
    served->path = f.main;
    if (problem.empty()) {
      stamps_[name] = stamp_now;
      if (previous && previous->rules && previous->rules->hash() == rules->hash() && previous->last_error.empty()) {
        if (force) events.push_back({ReloadEvent::Kind::unchanged, name, rules->hash(), rules->hash(), {}});
        continue;
      }
      served->rules = rules;
      served->loaded_at = Clock::now();
      served->last_error.clear();
      served->refused_hash.clear();
      events.push_back({previous && previous->rules ? ReloadEvent::Kind::reloaded : ReloadEvent::Kind::loaded, name,
                        rules->hash(), previous && previous->rules ? previous->rules->hash() : "",
                        rules->compilation().render(false)});
    } else {
      stamps_.erase(name);
      std::string hash = rules ? rules->hash() : "";
      if (previous && previous->last_error == problem && previous->refused_hash == hash && !force) continue;
      served->last_error = problem;
      served->last_error_at = Clock::now();
      served->refused_hash = hash;
      events.push_back({ReloadEvent::Kind::refused, name, hash, served->rules ? served->rules->hash() : "", problem});
    }
    (*next)[name] = served;
  }
  for (auto it = next->begin(); it != next->end();) {
    if (found.count(it->first)) { ++it; continue; }
    if (discovery.present.count(it->first)) {
      // Still there, but no longer a rule file or a folder of them (a
      // directory in its place, a dangling link): refused, the last good
      // version keeps serving.
      std::string problem = fmt::format("{} is no longer a rule file (*.strat) or a folder of rule files: the version "
                                        "loaded before keeps serving", it->second->path);
      missing_.erase(it->first);
      if (it->second->last_error != problem || force) {
        auto served = std::make_shared<Served>(*it->second);
        served->last_error = problem;
        served->last_error_at = Clock::now();
        served->refused_hash.clear();
        stamps_.erase(it->first);
        events.push_back({ReloadEvent::Kind::refused, it->first, "", served->rules ? served->rules->hash() : "", problem});
        it->second = served;
      }
      ++it;
      continue;
    }
    // Gone twice in a row (not a file being replaced): no longer served.
    if (++missing_[it->first] < 2 && !force) { ++it; continue; }
    events.push_back({ReloadEvent::Kind::removed, it->first, it->second->rules ? it->second->rules->hash() : "", {}, {}});
    missing_.erase(it->first);
    stamps_.erase(it->first);
    it = next->erase(it);
  }
  std::lock_guard lock(mutex_);
  catalog_ = std::move(next);
  return events;
}

}  // namespace stratum::serve
