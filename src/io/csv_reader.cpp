// CSV (RFC 4180): header row, fields separated by ',', optional double quotes
// with "" for a quote inside, CRLF or LF line ends, a UTF-8 BOM at the start.
// Malformed records are reported one by one and never stop the reader.
#include <array>
#include <bit>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "io/block_input.hpp"
#include "io/byte_scan.hpp"
#include "io/readers.hpp"
#include "source/source_file.hpp"

namespace stratum::io {

namespace {

constexpr auto kSpecial = [] {
  std::array<bool, 256> t{};
  t[','] = t['\n'] = t['"'] = true;
  return t;
}();

class CsvReader final : public Reader {
 public:
  explicit CsvReader(const std::string& path) : in_(path) {}
  CsvReader(BlockInput::Memory, std::string data) : in_(BlockInput::Memory{}, std::move(data)) {}
  CsvReader(const CsvReader& header, std::string data)
      : in_(BlockInput::Memory{}, std::move(data)),
        wanted_(header.wanted_),
        header_size_(header.header_size_),
        column_of_field_(header.column_of_field_) {
    limits_ = header.limits_;
  }

  std::unique_ptr<Reader> chunk_reader(std::string data) const override {
    return std::make_unique<CsvReader>(*this, std::move(data));
  }

  std::optional<std::string> open(const std::vector<std::string>& columns,
                                  const std::vector<bool>& required) override {
    wanted_ = columns.size();
    std::vector<std::string> header;
    if (auto problem = read_header(header)) return problem;
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < header.size(); ++i) {
      if (!index.emplace(header[i], i).second) {
        for (auto& c : columns) {
          if (c == header[i]) return fmt::format("the header names column `{}` twice", utf8::printable(c, 60));
        }
      }
    }
    column_of_field_.assign(columns.size(), SIZE_MAX);
    std::string missing;
    for (size_t f = 0; f < columns.size(); ++f) {
      auto it = index.find(columns[f]);
      if (it != index.end()) column_of_field_[f] = it->second;
      else if (required[f]) missing += (missing.empty() ? "`" : ", `") + columns[f] + "`";
    }
    if (!missing.empty()) {
      std::string found;
      for (auto& h : header) {
        if (found.size() > 400) { found += ", …"; break; }
        found += (found.empty() ? "" : ", ") + utf8::printable(h, 60);
      }
      return fmt::format("the input has no column {} (its columns are: {})", missing, found);
    }
    return std::nullopt;
  }

  std::optional<std::string> open_all() override {
    if (auto problem = read_header(all_)) return problem;
    std::unordered_map<std::string_view, size_t> index;
    for (const auto& name : all_) {
      if (!index.emplace(name, index.size()).second) {
        return fmt::format("line 1 (header): the header names column `{}` twice", utf8::printable(name, 60));
      }
    }
    wanted_ = all_.size();
    column_of_field_.resize(wanted_);
    for (size_t f = 0; f < wanted_; ++f) column_of_field_[f] = f;
    return std::nullopt;
  }

  const std::vector<std::string>& all_columns() const override { return all_; }

  // Lines without a quote are records as they stand: one per line that is
  // not blank (empty, or a lone '\r').
  bool cut(std::string& data, Run& run, size_t target) override {
    auto blank = [](std::string_view line) { return line.empty() || line == "\r"; };
    return cut_lines(in_, target, limits_.max_record, true, blank, records_, line_, 0, data, run);
  }

  bool next(RawRecord& r) override {
    for (;;) {
      if (!parse_record()) return false;
      r.source = std::string_view(in_.data() + record_start_, in_.pos() - record_start_);
      // Skip blank lines: they are not records.
      if (error_.empty() && fields_.size() == 1 && fields_[0].len == 0 && !fields_[0].quoted) continue;
      break;
    }
    r.number = ++records_;
    r.line = record_line_;
    r.error.clear();
    r.error_column.clear();
    r.fields.resize(wanted_);
    // Even a malformed record gives what it has, so its key can be reported.
    for (size_t f = 0; f < wanted_; ++f) {
      RawField& out = r.fields[f];
      out.items.clear();
      size_t c = column_of_field_[f];
      if (c == SIZE_MAX || c >= fields_.size()) {
        out.kind = RawKind::absent;
        out.text = {};
      } else {
        out.kind = RawKind::text;
        out.text = view(fields_[c]);
      }
    }
    if (!error_.empty()) {
      r.error = error_;
    } else if (fields_.size() != header_size_) {
      r.error = fmt::format("the record has {} field{}, the header has {}", fields_.size(),
                            fields_.size() == 1 ? "" : "s", header_size_);
    }
    return true;
  }

 private:
  struct FieldRef {
    bool in_scratch = false;
    bool quoted = false;
    size_t off = 0, len = 0;
  };

  BlockInput in_;
  std::vector<FieldRef> fields_;
  std::string scratch_;
  std::string error_;
  size_t wanted_ = 0, header_size_ = 0;
  std::vector<size_t> column_of_field_;
  uint64_t records_ = 0;
  uint64_t line_ = 1, record_line_ = 1;
  size_t record_start_ = 0;

  std::vector<std::string> all_;  // every column, when opened by open_all

  // Reads the header row (after a UTF-8 byte order mark, which is not part
  // of the data, whether or not the first name is quoted).
  std::optional<std::string> read_header(std::vector<std::string>& header) {
    while (in_.end() - in_.pos() < 3 && !in_.at_eof()) {
      size_t shift;
      if (!in_.refill(shift)) break;
    }
    if (in_.end() - in_.pos() >= 3 && std::memcmp(in_.data() + in_.pos(), "\xEF\xBB\xBF", 3) == 0) in_.consume_to(in_.pos() + 3);
    if (!parse_record()) return std::string("the input is empty: expected a header row");
    if (!error_.empty()) return fmt::format("line 1 (header): {}", error_);
    header.clear();
    for (auto& f : fields_) header.emplace_back(view(f));
    header_size_ = header.size();
    return std::nullopt;
  }

  std::string_view view(const FieldRef& f) const {
    return f.in_scratch ? std::string_view(scratch_).substr(f.off, f.len)
                        : std::string_view(in_.data() + f.off, f.len);
  }

  // Parses one record at the current position into fields_. Returns false at
  // the end of the input. On a malformed record sets error_ and skips to the
  // end of its line.
  bool parse_record() {
    for (;;) {
      size_t lines = 0;
      int r = try_parse(lines);
      if (r == 1) {
        record_line_ = line_;
        line_ += lines;
        if (in_.pos() - record_start_ > limits_.max_record && error_.empty()) {
          error_ = fmt::format("the record is longer than {} bytes (the limit, --max-record-bytes)", limits_.max_record);
        }
        return true;
      }
      if (r == 0) return false;
      if (in_.end() - in_.pos() > limits_.max_record) return skip_oversized();
      size_t shift;
      if (!in_.refill(shift)) {
        // End of input inside a record: parse what is there as final.
        int final_r = try_parse(lines, true);
        record_line_ = line_;
        line_ += lines;
        return final_r == 1;
      }
    }
  }

  // 1: parsed; 0: no more input; -1: need more bytes.
  int try_parse(size_t& lines, bool final = false) {
    const char* d = in_.data();
    size_t i = in_.pos(), end = in_.end();
    record_start_ = i;
    fields_.clear();
    scratch_.clear();
    error_.clear();
    lines = 0;
    if (i >= end) return final || in_.at_eof() ? 0 : -1;
    auto finish = [&](size_t next) {
      in_.consume_to(next);
      return 1;
    };
    if (int r = plain_record(d, i, end, lines)) return r;
    for (;;) {
      FieldRef f;
      if (i < end && d[i] == '"') {
        f.quoted = true;
        f.in_scratch = true;
        f.off = scratch_.size();
        size_t quote_line = lines;
        size_t quote_at = i;
        ++i;
        for (;;) {
          if (i >= end) {
            if (!final) return -1;
            // Only the line the quote opens on belongs to this record: the
            // lines after it are read again as records of their own.
            const void* nl = std::memchr(d + quote_at, '\n', end - quote_at);
            size_t stop = nl ? static_cast<size_t>(static_cast<const char*>(nl) - d) + 1 : end;
            error_ = fmt::format("a quoted field opened on line {} is never closed (the record ends with that line)",
                                 line_ + quote_line);
            lines = quote_line + (nl ? 1 : 0);
            return finish(stop);
          }
          char c = d[i];
          if (c == '"') {
            if (i + 1 < end && d[i + 1] == '"') { scratch_ += '"'; i += 2; continue; }
            if (i + 1 >= end && !final) return -1;
            ++i;
            break;
          }
          if (c == '\n') ++lines;
          scratch_ += c;
          ++i;
        }
        f.len = scratch_.size() - f.off;
        fields_.push_back(f);
        // After the closing quote: ',' or the end of the line.
        if (i < end && d[i] == ',') { ++i; continue; }
        if (i < end && d[i] == '\r' && i + 1 < end && d[i + 1] == '\n') return finish(i + 2 + (++lines, 0));
        if (i < end && d[i] == '\r' && i + 1 >= end && !final) return -1;
        if (i < end && d[i] == '\n') { ++lines; return finish(i + 1); }
        if (i >= end) return final || in_.at_eof() ? finish(i) : -1;
        error_ = fmt::format("unexpected text after the closing quote of field {}", fields_.size());
        return skip_line(i, end, lines, final);
      }
      f.off = i;
      // Most bytes are plain: skip them by table, stop at , \n or ".
      while (i < end && !kSpecial[static_cast<unsigned char>(d[i])]) ++i;
      while (i < end && d[i] != ',' && d[i] != '\n') {
        if (d[i] == '"') {
          error_ = fmt::format("a '\"' inside field {}, which is not quoted (quote the whole field and double the quote)", fields_.size() + 1);
          return skip_line(i, end, lines, final);
        }
        ++i;
      }
      if (i >= end && !final && !in_.at_eof()) return -1;
      f.len = i - f.off;
      if (f.len > 0 && d[f.off + f.len - 1] == '\r' && (i >= end || d[i] == '\n')) --f.len;
      fields_.push_back(f);
      if (i < end && d[i] == ',') { ++i; continue; }
      if (i < end && d[i] == '\n') { ++lines; return finish(i + 1); }
      return finish(i);
    }
  }

  // The common record: one line of plain fields (no quote), scanned 16
  // bytes at a time for ',' '\n' and '"'. Gives 1 with the record parsed
  // (as the general path would), or 0 to leave it to the general path: a
  // quote, or no line end in the bytes at hand.
  int plain_record(const char* d, size_t start, size_t end, size_t& lines) {
    size_t field = start;
    for (size_t i = start; i + 16 <= end; i += 16) {
      for (unsigned hits = match16<false, ',', '\n', '"'>(d + i); hits; hits &= hits - 1) {
        size_t at = i + static_cast<size_t>(std::countr_zero(hits));
        char c = d[at];
        if (c == '"') {
          fields_.clear();
          return 0;
        }
        FieldRef f;
        f.off = field;
        f.len = at - field;
        if (c == '\n') {
          if (f.len > 0 && d[at - 1] == '\r') --f.len;
          fields_.push_back(f);
          lines = 1;
          in_.consume_to(at + 1);
          return 1;
        }
        fields_.push_back(f);
        field = at + 1;
      }
    }
    fields_.clear();
    return 0;
  }

  // A record over the size limit: rejected, and skipped to the end of the
  // line it starts on without holding it in memory; reading goes on there.
  bool skip_oversized() {
    record_line_ = line_;
    fields_.clear();
    scratch_.clear();
    error_ = fmt::format("the record is longer than {} bytes (the limit, --max-record-bytes): skipped to the end of line {}",
                         limits_.max_record, line_);
    for (;;) {
      const char* d = in_.data();
      const void* nl = std::memchr(d + in_.pos(), '\n', in_.end() - in_.pos());
      if (nl) {
        in_.consume_to(static_cast<const char*>(nl) - d + 1);
        ++line_;
        break;
      }
      in_.consume_to(in_.end());
      size_t shift;
      if (!in_.refill(shift)) break;
    }
    record_start_ = in_.pos();
    return true;
  }

  int skip_line(size_t i, size_t end, size_t& lines, bool final) {
    const char* d = in_.data();
    while (i < end && d[i] != '\n') ++i;
    if (i >= end && !final && !in_.at_eof()) return -1;
    if (i < end) { ++lines; ++i; }
    in_.consume_to(i);
    return 1;
  }
};

}  // namespace

std::unique_ptr<Reader> make_csv_reader(const std::string& path) { return std::make_unique<CsvReader>(path); }

std::unique_ptr<Reader> make_csv_text_reader(std::string text) {
  return std::make_unique<CsvReader>(BlockInput::Memory{}, std::move(text));
}

}  // namespace stratum::io
