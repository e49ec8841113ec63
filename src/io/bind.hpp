// Binder: raw record fields → typed input slots of a Frame, or the reason a
// record is rejected (which column, what was wrong).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "eval/program.hpp"
#include "io/record.hpp"

namespace stratum::io {

struct Rejection {
  std::string column;  // the data column at fault; or, with `kind`, the value of the rules that failed
  std::string reason;
  std::string at;      // "file:line" of the `reject` that rejected, when one did
  std::string kind;    // empty: a data column; "decision", "let" or "plan item"
};

// The value of 1 to 16 ASCII digits (nothing else), read eight at a time
// without a branch per digit; false for any other text.
bool plain_digits(std::string_view text, uint64_t& out);

class Binder {
 public:
  explicit Binder(const eval::Program& program);

  // The column names to ask the reader for, and which are required.
  std::vector<std::string> columns() const;
  std::vector<bool> required() const;

  // Fills the input slots of `frame`. Returns false and sets `why` when the
  // record cannot be used. Text values point into `raw` (and into an internal
  // buffer reused record to record): use them before the next call.
  bool bind(const RawRecord& raw, eval::Frame& frame, Rejection& why);
  // The same for one field (input field `i`), for a front end that gives
  // fields one by one: call start_record() first, once per record.
  void start_record() { scratch_.clear(); }
  bool bind_field(size_t i, const RawField& field, eval::Frame& frame, Rejection& why);
  // The longest value accepted, in bytes (--max-field-bytes).
  void set_max_field(size_t bytes) { max_field_ = bytes; }

  // The record's key as text (for error reports), or empty.
  std::string key_text(const RawRecord& raw) const;

  // Parses one value of `type` from text, as data files write it.
  // A value of `type` as written in data. Amounts may carry 元, 万, 亿 (万元,
  // 亿元) and decimals %; a plain number is × 10^scale (a field's `in 万`).
  bool parse_value(std::string_view text, const Type& type, eval::Value& out, std::string& why, int scale = 0);

 private:
  const eval::Program& program_;
  // Enum names → codes: per enum, an open-addressing table (FNV-1a, power-of-two size).
  struct EnumTable {
    std::vector<std::pair<std::string_view, int32_t>> slots;  // code -1: empty
    uint32_t mask = 0;
    int32_t find(std::string_view name) const;
  };
  std::vector<EnumTable> enum_codes_;
  std::string scratch_;
  size_t max_field_ = RecordLimits{}.max_field;
  std::vector<std::string_view> items_;  // reused for set fields
};

}  // namespace stratum::io
