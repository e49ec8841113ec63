// A decided file: what `stratum eval` wrote (JSON Lines or CSV), read whole
// and keyed by the rule set's key column, to compare a run with an earlier
// one customer by customer (`stratum diff --previous`, `eval --previous`).
//
// Every column is carried, whatever it is named (the outputs, `@…` columns
// of a run's provenance, `NAME@…` columns of stable decisions), under the
// name the CSV output gives it: the members of the JSON Lines `plan` object
// are columns of their own. Values are kept as the run wrote them: JSON
// strings unescaped, numbers and booleans as their text; a JSON null, an
// absent key and an empty CSV field have no value.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/record.hpp"

namespace stratum::io {

// The decided file itself is wrong (malformed, a key twice, no key column):
// a problem in the user's data, unlike an I/O error (std::runtime_error).
// The message is "FILE:LINE: reason" (or "FILE: reason" for the whole file).
class DecidedFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DecidedFile {
 public:
  // One customer's values, per column (std::nullopt: no value).
  using Row = std::vector<std::optional<std::string>>;

  // Reads `path` ("-" is standard input, read once). Throws DecidedFileError
  // for malformed input, a record without a key and a key twice;
  // std::runtime_error when the file cannot be read or the format is YAML.
  static DecidedFile read(const std::string& path, Format format, const std::string& key_column,
                          const RecordLimits& limits = {});

  const std::string& path() const { return path_; }
  // As in the file, in order (JSON Lines: in the order keys are first met).
  const std::vector<std::string>& columns() const { return columns_; }
  std::optional<size_t> column(std::string_view name) const;
  size_t key_column() const { return key_column_; }

  // Customers, in file order.
  size_t size() const { return rows_.size(); }
  const Row& row(size_t i) const { return rows_[i]; }
  const std::string& key(size_t i) const { return *rows_[i][key_column_]; }
  uint64_t line(size_t i) const { return lines_[i]; }  // where the record starts
  // The row of `key`, or nullptr.
  const Row* find(std::string_view key) const;
  // The index of `key`'s row (for `row`, `line`), or none.
  std::optional<size_t> position(std::string_view key) const;

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::string path_;
  std::vector<std::string> columns_;
  size_t key_column_ = 0;
  std::vector<Row> rows_;
  std::vector<uint64_t> lines_;
  std::unordered_map<std::string, size_t, KeyHash, std::equal_to<>> by_key_;
};

}  // namespace stratum::io
