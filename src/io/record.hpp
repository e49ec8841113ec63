// Records as the readers deliver them, before typing: one RawField per input
// field of the rules, or a record-level problem (malformed CSV or JSON).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stratum::io {

enum class RawKind : uint8_t { absent, null, text, number, boolean, array, object };

struct RawField {
  RawKind kind = RawKind::absent;
  std::string_view text;               // text, number, boolean: the literal text
  std::vector<std::string_view> items; // array elements (text or numbers)
};

struct RawRecord {
  uint64_t number = 0;  // 1-based, counting every record read
  uint64_t line = 0;    // line where the record starts (0 when not line-based)
  std::vector<RawField> fields;  // in the order of the columns asked for
  std::string error;             // non-empty: the record is malformed
  std::string error_column;
  std::string_view source;       // the record's bytes in the input (CSV, JSON Lines)
};

// How large one record, and one field of it, may be. A larger record is
// rejected with the reason and reading goes on after it: memory stays
// bounded whatever the input holds.
struct RecordLimits {
  size_t max_record = 8u << 20;  // bytes (--max-record-bytes)
  size_t max_field = 1u << 20;   // bytes (--max-field-bytes)
};

// A source of records. `open` binds the wanted column names (one per input
// field); it returns an error message when a required column is absent from
// a header, and the reader is then unusable.
class Reader {
 public:
  virtual ~Reader() = default;
  virtual std::optional<std::string> open(const std::vector<std::string>& columns,
                                          const std::vector<bool>& required) = 0;
  // Binds every column the input has, for a file whose columns are not
  // known ahead (an earlier run's output): a CSV header's, in order; in JSON
  // Lines each key as the records name it (a key met first on a later
  // record is a new column, absent from the records before), the members of
  // an object value (`"plan":{…}`) as columns of their own. An error message
  // when the input cannot be read so (or this reader cannot).
  virtual std::optional<std::string> open_all() { return std::string("this input cannot list its columns"); }
  // The columns bound by `open_all`, so far (JSON Lines: they grow as keys
  // are met); each record's fields follow them.
  virtual const std::vector<std::string>& all_columns() const {
    static const std::vector<std::string> none;
    return none;
  }
  // Fills `r` with the next record; false at the end of the input.
  virtual bool next(RawRecord& r) = 0;
  // A reader of the same kind and columns over `data`, whole records as
  // `source` gave them: for evaluating chunks of the input in parallel.
  // Null when the format cannot be read in chunks.
  virtual std::unique_ptr<Reader> chunk_reader(std::string data) const { return nullptr; }
  // Whether a record's `source` lacks its terminator, so that a chunk of
  // records needs a line end after each (JSON Lines).
  virtual bool needs_record_separator() const { return false; }
  // Sets the size limits (before the first record is read).
  virtual void set_limits(const RecordLimits& limits) { limits_ = limits; }
  // Cuts whole records off the input without reading their fields, for a
  // chunk_reader to read: appends about `target` bytes of whole lines to
  // `data` and counts them into `run`. Only where that gives exactly the
  // records next() would (plain lines: in CSV no quote; none over the size
  // limit); false when the records ahead are to be read one by one (next()).
  struct Run {
    uint64_t first_number = 0;  // the first record's number
    uint64_t first_line = 0;    // the line number of the first line cut
    uint64_t records = 0;
    bool started = false;
  };
  virtual bool cut(std::string& data, Run& run, size_t target) {
    (void)data, (void)run, (void)target;
    return false;
  }

 protected:
  RecordLimits limits_;
};

enum class Format { csv, jsonl, yaml };

// Guesses the format from a file name (.csv, .jsonl/.ndjson/.json, .yaml/.yml).
std::optional<Format> format_from_name(std::string_view path);

// Opens `path` ("-" is standard input). Throws std::runtime_error on I/O errors.
std::unique_ptr<Reader> open_reader(const std::string& path, Format format);

// Reads a file into a string, whole. Throws std::runtime_error on failure.
std::string read_file(const std::string& path);

// Whether two paths name the same existing file (the same device and inode):
// an output that is also an input would replace what it was read from.
bool same_file(const std::string& a, const std::string& b);

}  // namespace stratum::io
