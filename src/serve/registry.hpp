// Registry: the rule sets a service serves, one per rule file or rule folder
// directly under the rules directory, kept loaded and up to date. A new
// version is loaded and checked off to the side and swapped in whole; a
// version with errors is refused and the last good one keeps serving. A
// request takes one snapshot of the catalog and decides entirely with it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/rule_set.hpp"

namespace stratum::serve {

using Clock = std::chrono::system_clock;

struct Served {
  std::string name;   // the rule file's name without .strat, or the folder's name
  std::string path;   // the main rule file
  std::shared_ptr<const engine::RuleSet> rules;  // null: no good version yet
  Clock::time_point loaded_at{};
  std::string last_error;   // the last refused version's diagnostics; empty after a good load
  Clock::time_point last_error_at{};
  std::string refused_hash; // the refused version's content hash
};

// One consistent view of every rule set, by name.
using Catalog = std::map<std::string, std::shared_ptr<const Served>>;

struct ReloadEvent {
  enum class Kind { loaded, reloaded, refused, removed, unchanged, unreadable } kind;
  std::string name;
  std::string hash;        // the version loaded or refused
  std::string previous;    // the version it replaced (reloaded)
  std::string diagnostics; // refused, unreadable: why; loaded/reloaded: warnings, if any
};

class Registry {
 public:
  explicit Registry(std::string rules_dir);

  // The catalog now: a request holds it for its whole life.
  std::shared_ptr<const Catalog> snapshot() const;

  // Looks at the rules directory: loads new rule sets, reloads the ones whose
  // files changed (every one with `force`), drops the ones whose files are
  // gone. Returns what happened, one event per rule set that changed (and,
  // with `force`, one per rule set). Only one caller at a time.
  std::vector<ReloadEvent> refresh(bool force);

  // Whether anything under the rules directory changed since the last refresh.
  bool changed();

  const std::string& rules_dir() const { return dir_; }
  // Why the rules directory could not be read at the last refresh (empty: it could).
  std::string dir_error() const {
    std::lock_guard lock(mutex_);
    return dir_error_;
  }

 private:
  std::string dir_;  // canonical
  mutable std::mutex mutex_;
  std::shared_ptr<const Catalog> catalog_;
  std::string tree_;  // the last signature of the rules directory
  std::string dir_error_;
  std::map<std::string, std::string> stamps_;  // per rule set: the signature of its files at its last load attempt
  std::map<std::string, int> missing_;         // per rule set: polls in a row its main file was missing

  std::string tree_signature() const;
  std::string files_signature(const std::string& root, const std::vector<std::string>& files) const;
};

}  // namespace stratum::serve
