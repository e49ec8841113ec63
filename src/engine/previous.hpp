// The previous period's run, for stability rules: what `stratum eval` wrote
// then (JSON Lines or CSV), joined by key. For each stable value it keeps the
// value decided, the candidate and the periods in a row (`NAME`,
// `NAME@candidate`, `NAME@periods`): the next run needs nothing else.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "eval/program.hpp"
#include "io/record.hpp"

namespace stratum::io {
class DecidedFile;
}

namespace stratum::engine {

class PreviousRun {
 public:
  // Reads `path` for the rules of `program` (which have stability rules).
  // Throws io::DecidedFileError for a malformed file or one without the
  // stable values' columns, std::runtime_error when it cannot be read.
  static std::shared_ptr<const PreviousRun> read(const eval::Program& program, const std::string& path, io::Format format);
  // The same, from a file already read (keyed by the rules' key field).
  static std::shared_ptr<const PreviousRun> from(const eval::Program& program, const io::DecidedFile& file);
  // What a decided file kept of its own previous period (`eval --keep-input`
  // writes NAME@previous, NAME@previous_candidate, NAME@previous_periods):
  // the previous period as that run saw it, for `stratum replay`.
  static std::shared_ptr<const PreviousRun> kept(const eval::Program& program, const io::DecidedFile& file);

  // Sets frame.previous for the customer just bound in `frame` (by its key):
  // a customer absent from the previous run is new.
  void fill(eval::Frame& frame) const;

  size_t customers() const { return by_key_.size(); }
  // What was read but could not be used, once per kind ("12 customers: 客户等级 `金卡` is not a value of it …").
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Suffixes {
    const char* value;
    const char* candidate;
    const char* periods;
  };
  static std::shared_ptr<const PreviousRun> read_columns(const eval::Program& program, const io::DecidedFile& file, const Suffixes& suffix);
  const eval::Program* program_ = nullptr;
  // Looked up by a text key's view, without a string per customer.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<eval::Previous>, KeyHash, std::equal_to<>> by_key_;
  std::vector<std::string> warnings_;
};

// The key of the customer bound in `frame`, as `stratum eval` writes it.
std::string key_of(const eval::Program& program, const eval::Frame& frame);

}  // namespace stratum::engine
