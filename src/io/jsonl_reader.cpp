// JSON records: JSON Lines (one object per line; blank lines are skipped)
// and JSON text (a request body: one object, objects one after another, or
// an array of objects). Values of the wanted keys are kept as text (numbers
// keep their exact digits, so no binary floating point is involved);
// everything else is validated and skipped.
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

struct JsonError {
  size_t at;
  std::string message;
};

// The wanted keys' values of JSON objects, as RawFields.
class ObjectParser {
 public:
  ObjectParser() = default;
  ObjectParser(const ObjectParser& other) : wanted_(other.wanted_), columns_(other.columns_) { index(); }
  ObjectParser& operator=(const ObjectParser&) = delete;

  void open(const std::vector<std::string>& columns) {
    wanted_ = columns.size();
    columns_ = columns;
    index();
  }

  // Every key met becomes a column (see Reader::open_all).
  void open_all() {
    open({});
    grow_ = true;
  }
  bool grows() const { return grow_; }
  const std::vector<std::string>& columns() const { return columns_; }

  // Clears `r`'s fields for a record of at most `bytes` bytes.
  void start(RawRecord& r, size_t bytes) {
    r.fields.resize(wanted_);
    for (auto& f : r.fields) {
      f.kind = RawKind::absent;
      f.text = {};
      f.items.clear();
    }
    scratch_.clear();
    scratch_.reserve(bytes * 4 + 16);  // unescaped text never outgrows this: views stay valid
  }

  struct Cursor {
    std::string_view s;
    size_t i = 0;
    bool newlines = false;  // a line end is white space (JSON text), or ends the record (JSON Lines)
    void ws() {
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || (newlines && s[i] == '\n'))) ++i;
    }
    [[noreturn]] void fail(std::string m) const { throw JsonError{i, std::move(m)}; }
    char peek() const { return i < s.size() ? s[i] : '\0'; }
    void expect(char c, const char* what) {
      ws();
      if (peek() != c) fail(i < s.size() ? fmt::format("expected {}", what) : fmt::format("expected {}, the line ends", what));
      ++i;
    }
  };

  // Parses the object at c.i (its '{') into r's fields; c.i ends after its '}'.
  void parse_object(Cursor& c, RawRecord& r) {
    ++c.i;
    c.ws();
    seen_.assign(wanted_, 0);
    learned_.clear();
    if (c.peek() == '}') { ++c.i; } else {
      for (size_t k = 0;; ++k) {
        c.ws();
        if (c.peek() != '"') c.fail("expected a key in double quotes");
        size_t key_at = c.i;
        std::string_view key = string(c);
        c.expect(':', "':' after the key");
        c.ws();
        int32_t column = column_of(key, k);
        learned_.emplace_back(key, column);
        if (column < 0) {
          skip_value(c, 0);
        } else {
          if (seen_[column]) {
            r.error_column = std::string(key);
            throw JsonError{key_at, fmt::format("key \"{}\" appears twice", key)};
          }
          seen_[column] = 1;
          value(c, r.fields[column]);
        }
        c.ws();
        if (c.peek() == ',') { ++c.i; continue; }
        if (c.peek() == '}') { ++c.i; break; }
        c.fail("expected ',' or '}'");
      }
    }
  }

  // JSON Lines written by one program repeat one shape: the same keys, in
  // the same order, without white space. A line of the last learned shape
  // is read here with the keys compared as bytes; anything else (white
  // space, another order, an escape, a list, an object) gives false, and
  // the line is read by parse_object, which also says what is wrong.
  // Everything accepted here is valid JSON that parse_object reads the same.
  bool parse_shaped(std::string_view line, RawRecord& r) const {
    if (shape_.empty() || line.empty() || line[0] != '{') return false;
    size_t i = 1, n = line.size();
    for (size_t k = 0; k < shape_.size(); ++k) {
      const std::string& literal = shape_[k].literal;
      if (line.compare(i, literal.size(), literal) != 0) return false;
      i += literal.size();
      if (i >= n) return false;
      RawField* f = shape_[k].column >= 0 ? &r.fields[static_cast<size_t>(shape_[k].column)] : nullptr;
      char p = line[i];
      if (p == '"') {
        size_t start = ++i;
        i = plain_string_end(line, i);
        if (i >= n || line[i] != '"') return false;  // an escape, a control byte, no end
        if (f) {
          f->kind = RawKind::text;
          f->text = line.substr(start, i - start);
        }
        ++i;
      } else if (p == '-' || (p >= '0' && p <= '9')) {
        size_t start = i;
        i = number_end(line, i);
        if (i == std::string_view::npos) return false;
        if (f) {
          f->kind = RawKind::number;
          f->text = line.substr(start, i - start);
        }
      } else if (line.compare(i, 4, "true") == 0 || line.compare(i, 5, "false") == 0) {
        bool yes = p == 't';
        i += yes ? 4 : 5;
        if (f) {
          f->kind = RawKind::boolean;
          f->text = yes ? "true" : "false";
        }
      } else if (line.compare(i, 4, "null") == 0) {
        i += 4;
        if (f) f->kind = RawKind::null;
      } else {
        return false;
      }
      if (i >= n || line[i] != (k + 1 < shape_.size() ? ',' : '}')) return false;
      ++i;
    }
    for (; i < n; ++i) {
      if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') return false;
    }
    return true;
  }

  // Learn the shape of the object parse_object just read (its keys, in
  // order), when every key is plain text (no quote, backslash or control
  // byte): then `"key":` as bytes is that key and nothing else.
  void learn() {
    shape_.resize(learned_.size());
    for (size_t k = 0; k < learned_.size(); ++k) {
      std::string_view key = learned_[k].first;
      for (char ch : key) {
        if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) {
          shape_.clear();
          return;
        }
      }
      std::string& literal = shape_[k].literal;
      literal.assign(1, '"');
      literal.append(key);
      literal.append("\":");
      shape_[k].column = learned_[k].second;
    }
  }

  // Parses the object at c.i (its '{') into r's fields, every key a column:
  // a key not met before adds one; an object value's members are columns of
  // their own (one level: deeper objects are values of kind object).
  void parse_any(Cursor& c, RawRecord& r) {
    std::vector<bool> seen(wanted_, false);
    members(c, r, seen, 0);
  }

  void value(Cursor& c, RawField& f) {
    char p = c.peek();
    if (p == '"') { f.kind = RawKind::text; f.text = string(c); return; }
    if (p == '-' || (p >= '0' && p <= '9')) { f.kind = RawKind::number; f.text = number(c); return; }
    if (literal(c, "true")) { f.kind = RawKind::boolean; f.text = "true"; return; }
    if (literal(c, "false")) { f.kind = RawKind::boolean; f.text = "false"; return; }
    if (literal(c, "null")) { f.kind = RawKind::null; return; }
    if (p == '[') {
      f.kind = RawKind::array;
      ++c.i;
      c.ws();
      if (c.peek() == ']') { ++c.i; return; }
      for (;;) {
        c.ws();
        char q = c.peek();
        if (q == '"') f.items.push_back(string(c));
        else if (q == '-' || (q >= '0' && q <= '9')) f.items.push_back(number(c));
        else c.fail("expected text or a number in the array");
        c.ws();
        if (c.peek() == ',') { ++c.i; continue; }
        if (c.peek() == ']') { ++c.i; return; }
        c.fail("expected ',' or ']'");
      }
    }
    if (p == '{') { f.kind = RawKind::object; skip_value(c, 0); return; }
    c.fail("expected a value");
  }

  static bool literal(Cursor& c, std::string_view word) {
    if (c.s.substr(c.i, word.size()) == word) { c.i += word.size(); return true; }
    return false;
  }

  void skip_value(Cursor& c, int depth) {
    if (depth > 64) c.fail("nested too deeply");
    c.ws();
    char p = c.peek();
    if (p == '"') { string(c); return; }
    if (p == '-' || (p >= '0' && p <= '9')) { number(c); return; }
    if (literal(c, "true") || literal(c, "false") || literal(c, "null")) return;
    if (p == '[' || p == '{') {
      char close = p == '[' ? ']' : '}';
      ++c.i;
      c.ws();
      if (c.peek() == close) { ++c.i; return; }
      for (;;) {
        c.ws();
        if (p == '{') {
          if (c.peek() != '"') c.fail("expected a key in double quotes");
          string(c);
          c.expect(':', "':' after the key");
        }
        skip_value(c, depth + 1);
        c.ws();
        if (c.peek() == ',') { ++c.i; continue; }
        if (c.peek() == close) { ++c.i; return; }
        c.fail(fmt::format("expected ',' or '{}'", close));
      }
    }
    c.fail("expected a value");
  }

  // The end of a string's plain bytes from i: the first '"', '\\' or
  // control byte (or the end of s).
  static size_t plain_string_end(std::string_view s, size_t i) {
    for (; i + 16 <= s.size(); i += 16) {
      if (unsigned hits = match16<true, '"', '\\'>(s.data() + i)) return i + static_cast<size_t>(std::countr_zero(hits));
    }
    while (i < s.size() && s[i] != '"' && s[i] != '\\' && static_cast<unsigned char>(s[i]) >= 0x20) ++i;
    return i;
  }

  // The end of the JSON number at i, or npos when it is malformed (then
  // `stop`, when given, is where it stopped being a number).
  static size_t number_end(std::string_view s, size_t i, size_t* stop = nullptr) {
    auto digits = [&]() {
      size_t b = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == b && stop) *stop = i;
      return i > b;
    };
    if (i < s.size() && s[i] == '-') ++i;
    if (!digits()) return std::string_view::npos;
    if (i < s.size() && s[i] == '.') {
      ++i;
      if (!digits()) return std::string_view::npos;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (!digits()) return std::string_view::npos;
    }
    return i;
  }

  std::string_view number(Cursor& c) {
    size_t start = c.i, stop = c.i;
    size_t end = number_end(c.s, c.i, &stop);
    if (end == std::string_view::npos) {
      c.i = stop;
      c.fail("malformed number");
    }
    c.i = end;
    return c.s.substr(start, end - start);
  }

  // A JSON string: a view into the line when it has no escapes, otherwise
  // into the scratch buffer (reserved so it never moves).
  std::string_view string(Cursor& c) {
    ++c.i;
    size_t start = c.i;
    c.i = plain_string_end(c.s, c.i);
    while (c.i < c.s.size() && c.s[c.i] != '"' && c.s[c.i] != '\\') {
      if (static_cast<unsigned char>(c.s[c.i]) < 0x20) c.fail("control character in a string");
      ++c.i;
    }
    if (c.i >= c.s.size()) c.fail("unterminated string");
    if (c.s[c.i] == '"') { ++c.i; return c.s.substr(start, c.i - 1 - start); }
    size_t off = scratch_.size();
    scratch_.append(c.s.substr(start, c.i - start));
    while (c.i < c.s.size() && c.s[c.i] != '"') {
      char ch = c.s[c.i];
      if (static_cast<unsigned char>(ch) < 0x20) c.fail("control character in a string");
      if (ch != '\\') { scratch_ += ch; ++c.i; continue; }
      ++c.i;
      char e = c.peek();
      ++c.i;
      switch (e) {
        case '"': scratch_ += '"'; break;
        case '\\': scratch_ += '\\'; break;
        case '/': scratch_ += '/'; break;
        case 'b': scratch_ += '\b'; break;
        case 'f': scratch_ += '\f'; break;
        case 'n': scratch_ += '\n'; break;
        case 'r': scratch_ += '\r'; break;
        case 't': scratch_ += '\t'; break;
        case 'u': {
          char32_t cp = hex4(c);
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (c.s.substr(c.i, 2) != "\\u") c.fail("unpaired surrogate in \\u escape");
            c.i += 2;
            char32_t lo = hex4(c);
            if (lo < 0xDC00 || lo > 0xDFFF) c.fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8::append(scratch_, cp);
          break;
        }
        default: --c.i; c.fail("unknown escape in a string");
      }
    }
    if (c.i >= c.s.size()) c.fail("unterminated string");
    ++c.i;
    return std::string_view(scratch_).substr(off);
  }

  static char32_t hex4(Cursor& c) {
    char32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = c.peek();
      int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (d < 0) c.fail("malformed \\u escape");
      v = v * 16 + d;
      ++c.i;
    }
    return v;
  }

 private:
  size_t wanted_ = 0;
  std::vector<std::string> columns_;
  std::unordered_map<std::string_view, size_t> index_;  // views into columns_
  std::string scratch_;

  bool grow_ = false;
  std::vector<uint8_t> seen_;  // per wanted key: met in the object being read
  // The last shape learned (see parse_shaped): per key, `"key":` and its
  // column (-1: not a wanted key).
  struct ShapeKey {
    std::string literal;
    int32_t column = -1;
  };
  std::vector<ShapeKey> shape_;
  std::vector<std::pair<std::string_view, int32_t>> learned_;  // the keys parse_object read, in order

  // The column of the k-th key of an object (-1: not wanted): the learned
  // shape's when its k-th key is this one (records mostly repeat their keys
  // in one order), else the index's.
  int32_t column_of(std::string_view key, size_t k) const {
    if (k < shape_.size()) {
      const std::string& literal = shape_[k].literal;
      if (literal.size() == key.size() + 3 && literal.compare(1, key.size(), key) == 0) return shape_[k].column;
    }
    auto it = index_.find(key);
    return it == index_.end() ? -1 : static_cast<int32_t>(it->second);
  }

  void members(Cursor& c, RawRecord& r, std::vector<bool>& seen, int depth) {
    ++c.i;
    c.ws();
    if (c.peek() == '}') { ++c.i; return; }
    for (;;) {
      c.ws();
      if (c.peek() != '"') c.fail("expected a key in double quotes");
      size_t key_at = c.i;
      std::string_view key = string(c);
      c.expect(':', "':' after the key");
      c.ws();
      if (depth == 0 && c.peek() == '{') {
        members(c, r, seen, 1);
      } else {
        auto it = index_.find(key);
        size_t column;
        if (it != index_.end()) {
          column = it->second;
        } else {
          column = columns_.size();
          columns_.emplace_back(key);
          index();  // the views move with the strings
          wanted_ = columns_.size();
          r.fields.resize(wanted_);
          seen.resize(wanted_, false);
        }
        if (seen[column]) {
          r.error_column = columns_[column];
          throw JsonError{key_at, fmt::format("key \"{}\" appears twice", columns_[column])};
        }
        seen[column] = true;
        value(c, r.fields[column]);
      }
      c.ws();
      if (c.peek() == ',') { ++c.i; continue; }
      if (c.peek() == '}') { ++c.i; return; }
      c.fail("expected ',' or '}'");
    }
  }

  void index() {
    shape_.clear();
    index_.clear();
    for (size_t i = 0; i < columns_.size(); ++i) index_.emplace(columns_[i], i);
  }
};

class JsonlReader final : public Reader {
 public:
  explicit JsonlReader(const std::string& path) : in_(path) {}
  JsonlReader(const JsonlReader& other, std::string data)
      : in_(BlockInput::Memory{}, std::move(data)), parser_(other.parser_) {
    limits_ = other.limits_;
    records_ = 1;  // no BOM inside a chunk
  }

  bool needs_record_separator() const override { return true; }
  std::unique_ptr<Reader> chunk_reader(std::string data) const override {
    return std::make_unique<JsonlReader>(*this, std::move(data));
  }

  std::optional<std::string> open(const std::vector<std::string>& columns, const std::vector<bool>&) override {
    parser_.open(columns);
    return std::nullopt;
  }

  std::optional<std::string> open_all() override {
    parser_.open_all();
    return std::nullopt;
  }

  const std::vector<std::string>& all_columns() const override { return parser_.columns(); }

  // Every line is a record unless blank (spaces, tabs, '\r'), after the
  // first record (whose byte order mark next() takes off) and when the
  // columns are known (not growing as keys are met).
  bool cut(std::string& data, Run& run, size_t target) override {
    if (records_ == 0 || parser_.grows()) return false;
    auto blank = [](std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; };
    return cut_lines(in_, target, limits_.max_record, false, blank, records_, line_, 1, data, run);
  }

  bool next(RawRecord& r) override {
    std::string_view line;
    for (;;) {
      if (!read_line(line)) return false;
      if (oversized_) break;
      size_t k = 0;
      while (k < line.size() && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) ++k;
      if (k < line.size()) break;
    }
    r.number = ++records_;
    r.line = line_;
    // A byte order mark is not part of the record (nor of a chunk's copy of it).
    if (records_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    r.source = std::string_view(line.data(), line.size());
    r.error.clear();
    r.error_column.clear();
    parser_.start(r, line.size());
    if (oversized_) {
      oversized_ = false;
      r.error = fmt::format("the record is longer than {} bytes (the limit, --max-record-bytes): skipped to the end of line {}",
                            limits_.max_record, line_);
      return true;
    }
    if (line.size() > limits_.max_record) {
      r.error = fmt::format("the record is longer than {} bytes (the limit, --max-record-bytes)", limits_.max_record);
      return true;
    }
    if (!parser_.grows() && parser_.parse_shaped(line, r)) return true;
    try {
      ObjectParser::Cursor c{line};
      c.ws();
      if (c.peek() != '{') c.fail("expected a JSON object `{…}` on each line");
      if (parser_.grows()) {
        parser_.parse_any(c, r);
      } else {
        parser_.start(r, line.size());  // what parse_shaped set before it gave up
        parser_.parse_object(c, r);
      }
      c.ws();
      if (c.i != line.size()) c.fail("unexpected text after the object");
      if (!parser_.grows()) parser_.learn();
    } catch (const JsonError& e) {
      r.error = fmt::format("invalid JSON at character {}: {}", utf8::length(line.substr(0, e.at)) + 1, e.message);
    }
    return true;
  }

 private:
  BlockInput in_;
  ObjectParser parser_;
  uint64_t records_ = 0, line_ = 0;
  bool oversized_ = false;  // the line just read was over the record limit

  bool read_line(std::string_view& line) {
    for (;;) {
      const char* d = in_.data();
      const void* nl = std::memchr(d + in_.pos(), '\n', in_.end() - in_.pos());
      if (nl) {
        size_t e = static_cast<const char*>(nl) - d;
        line = std::string_view(d + in_.pos(), e - in_.pos());
        in_.consume_to(e + 1);
        ++line_;
        return true;
      }
      if (in_.end() - in_.pos() > limits_.max_record) {
        // Too long: skipped to its end without holding it in memory.
        for (;;) {
          in_.consume_to(in_.end());
          size_t shift;
          if (!in_.refill(shift)) break;
          const char* b = in_.data();
          if (const void* e = std::memchr(b + in_.pos(), '\n', in_.end() - in_.pos())) {
            in_.consume_to(static_cast<const char*>(e) - b + 1);
            break;
          }
        }
        ++line_;
        oversized_ = true;
        line = {};
        return true;
      }
      size_t shift;
      if (!in_.refill(shift)) {
        if (in_.pos() < in_.end()) {
          line = std::string_view(in_.data() + in_.pos(), in_.end() - in_.pos());
          in_.consume_to(in_.end());
          ++line_;
          return true;
        }
        return false;
      }
    }
  }

};

// JSON text in memory (a request body): one object, several objects one
// after another (JSON Lines, or pretty-printed objects), or one array of
// objects. A syntax error ends the records: the record that holds it carries
// the error with its line and column, and there is none after it.
class JsonTextReader final : public Reader {
 public:
  explicit JsonTextReader(std::string text) : owned_(std::move(text)), view_(owned_) {}
  // Over text the caller keeps, finding where records are without reading them.
  struct Locate {};
  JsonTextReader(Locate, std::string_view text) : view_(text), locate_only_(true) {}

  std::optional<std::string> open(const std::vector<std::string>& columns, const std::vector<bool>&) override {
    parser_.open(columns);
    return std::nullopt;
  }

  bool next(RawRecord& r) override {
    if (done_) return false;
    ObjectParser::Cursor c{view_, pos_, true};
    r.error.clear();
    r.error_column.clear();
    size_t end = 0;
    try {
      if (!started_) {
        started_ = true;
        if (view_.starts_with("\xEF\xBB\xBF")) c.i = 3;
        c.ws();
        if (c.peek() == '[') { array_ = true; ++c.i; }
      }
      c.ws();
      if (array_) {
        if (c.peek() == ']') {
          ++c.i;
          c.ws();
          if (c.i != view_.size()) c.fail("unexpected text after the array");
          done_ = true;
          return false;
        }
        if (records_ > 0) {
          if (c.peek() != ',') c.fail(c.i < view_.size() ? "expected ',' or ']'" : "expected ',' or ']', the text ends");
          ++c.i;
          c.ws();
        }
      } else if (c.i == view_.size()) {
        done_ = true;
        return false;
      }
      if (c.peek() != '{') {
        c.fail(c.i < view_.size() ? (array_ ? "expected a JSON object `{…}` in the array" : "expected a JSON object `{…}` or an array of them")
                                  : "expected a JSON object `{…}`, the text ends");
      }
      // The object's extent first (this checks its syntax): its size bounds
      // the record and the scratch space.
      ObjectParser::Cursor probe = c;
      parser_.skip_value(probe, 0);
      end = probe.i;
    } catch (const JsonError& e) {
      // A syntax error: a record that holds it, and nothing after it.
      r.number = ++records_;
      parser_.start(r, 0);
      r.source = {};
      fail(r, e);
      done_ = true;
      return true;
    }
    size_t begin = c.i;
    r.number = ++records_;
    r.line = line_of(begin);
    r.source = view_.substr(begin, end - begin);
    pos_ = end;
    if (locate_only_) return true;
    if (end - begin > limits_.max_record) {
      parser_.start(r, 0);
      r.error = fmt::format("the record is longer than {} bytes (the limit)", limits_.max_record);
      return true;
    }
    parser_.start(r, end - begin);
    try {
      parser_.parse_object(c, r);
      parser_.learn();  // the next object's keys are looked up where this one had them
    } catch (const JsonError& e) {
      fail(r, e);  // well-formed, but not a record (a key twice): rejected, and reading goes on
    }
    return true;
  }

 private:
  std::string owned_;
  std::string_view view_;
  bool locate_only_ = false;
  ObjectParser parser_;
  size_t pos_ = 0;
  uint64_t records_ = 0;
  bool started_ = false, array_ = false, done_ = false;
  size_t counted_to_ = 0;
  uint64_t counted_lines_ = 1;

  void fail(RawRecord& r, const JsonError& e) {
    LineCol at = position(e.at);
    r.line = at.line;
    r.error = fmt::format("invalid JSON at line {}, column {}: {}", at.line, at.column, e.message);
  }

  // The 1-based line of a byte offset (offsets asked for mostly grow).
  uint64_t line_of(size_t at) {
    if (at < counted_to_) { counted_to_ = 0; counted_lines_ = 1; }
    for (size_t i = counted_to_; i < at; ++i) counted_lines_ += view_[i] == '\n';
    counted_to_ = at;
    return counted_lines_;
  }
  LineCol position(size_t at) {
    at = std::min(at, view_.size());
    size_t line_start = view_.rfind('\n', at == 0 ? 0 : at - 1);
    line_start = line_start == std::string::npos || at == 0 ? 0 : line_start + 1;
    return {static_cast<uint32_t>(line_of(at)), static_cast<uint32_t>(utf8::length(view_.substr(line_start, at - line_start)) + 1)};
  }
};

}  // namespace

std::unique_ptr<Reader> make_jsonl_reader(const std::string& path) { return std::make_unique<JsonlReader>(path); }

std::unique_ptr<Reader> make_json_text_reader(std::string text) { return std::make_unique<JsonTextReader>(std::move(text)); }

JsonTextLayout locate_json_records(std::string_view text) {
  JsonTextLayout layout;
  JsonTextReader reader(JsonTextReader::Locate{}, text);
  reader.open({}, {});
  RawRecord r;
  while (reader.next(r)) {
    if (!r.error.empty()) {
      layout.error = r.error;
      break;
    }
    layout.records.push_back({static_cast<size_t>(r.source.data() - text.data()), r.source.size(), r.line});
  }
  return layout;
}

}  // namespace stratum::io
