// YAML: a sequence of maps, one map a record. The document is loaded whole
// (YAML is for small hand-written sets of customers; use CSV or JSON Lines
// for portfolios).
#include <iostream>
#include <iterator>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "io/readers.hpp"
#include "source/source_file.hpp"

namespace stratum::io {

namespace {

class YamlReader final : public Reader {
 public:
  // Every document of the file counts: each is a sequence of records (or
  // empty). The file is loaded whole, so its size is limited.
  explicit YamlReader(const std::string& path) {
    std::string text = read_limited(path);
    // The documents are cut at their `---` / `...` marker lines (at column 0,
    // where the YAML spec allows nothing else) and each is loaded alone:
    // yaml-cpp's LoadAll can loop forever on some malformed input.
    struct Piece { size_t begin, end; uint64_t line; };
    std::vector<Piece> pieces;
    size_t start = 0, line = 0, doc_line = 0;
    for (size_t at = 0; at <= text.size();) {
      size_t nl = text.find('\n', at);
      size_t stop = nl == std::string::npos ? text.size() : nl;
      std::string_view l(text.data() + at, stop - at);
      bool marker = (l.starts_with("---") || l.starts_with("...")) &&
                    (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
      if (marker) {
        pieces.push_back({start, at, doc_line});
        // Content after `--- ` on the marker line belongs to the new document.
        start = l.starts_with("---") ? at + 3 : stop;
        doc_line = line;
      }
      if (nl == std::string::npos) break;
      at = nl + 1;
      ++line;
    }
    pieces.push_back({start, text.size(), doc_line});
    root_ = YAML::Node(YAML::NodeType::Sequence);
    size_t documents = 0;
    for (const Piece& piece : pieces) {
      std::string part = text.substr(piece.begin, piece.end - piece.begin);
      YAML::Node doc;
      try {
        doc = YAML::Load(part);
      } catch (const YAML::Exception& e) {
        throw std::runtime_error(fmt::format("{}:{}:{}: invalid YAML: {}", path, piece.line + e.mark.line + 1, e.mark.column + 1,
                                             utf8::printable(e.msg, 200)));
      }
      if (!doc || doc.IsNull()) continue;
      ++documents;
      if (!doc.IsSequence()) {
        throw std::runtime_error(fmt::format("{}:{}: expected a YAML sequence of records (`- id: …`){}", path,
                                             piece.line + doc.Mark().line + 1, pieces.size() > 1 ? fmt::format(" in document {}", documents) : ""));
      }
      for (const auto& item : doc) {
        root_.push_back(item);
        line_offset_.push_back(piece.line);
      }
    }
  }

  static constexpr size_t kMaxYamlBytes = 16u << 20;

  static std::string read_limited(const std::string& path) {
    std::string text;
    if (path == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      text = read_file(path);
    }
    if (text.size() > kMaxYamlBytes) {
      throw std::runtime_error(fmt::format("{}: a YAML input is at most {} MiB (it is read whole); use CSV or JSON Lines for portfolios",
                                           path, kMaxYamlBytes >> 20));
    }
    return text;
  }

  // One record or a list of them, given as text (JSON is YAML too).
  struct FromText {};
  YamlReader(FromText, const std::string& text) {
    try {
      root_ = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw std::runtime_error(fmt::format("the record is not valid JSON or YAML (line {}, column {}): {}", e.mark.line + 1,
                                           e.mark.column + 1, utf8::printable(e.msg, 200)));
    }
    if (root_.IsMap()) {
      YAML::Node seq(YAML::NodeType::Sequence);
      seq.push_back(root_);
      root_.reset(seq);  // `=` would assign into the map itself
    }
    if (!root_.IsSequence()) throw std::runtime_error("the record must be a map of field names to values, e.g. {\"id\": \"C1\", …}");
  }

  std::optional<std::string> open(const std::vector<std::string>& columns, const std::vector<bool>&) override {
    columns_ = columns;
    return std::nullopt;
  }

  bool next(RawRecord& r) override {
    if (!root_ || root_.IsNull() || index_ >= root_.size()) return false;
    const YAML::Node item = root_[index_++];
    current_ = item;
    r.number = index_;
    r.line = static_cast<uint64_t>(item.Mark().line) + 1 + (index_ - 1 < line_offset_.size() ? line_offset_[index_ - 1] : 0);
    r.error.clear();
    r.error_column.clear();
    r.fields.assign(columns_.size(), RawField{});
    if (!item.IsMap()) {
      r.error = "expected a map of field names to values";
      return true;
    }
    for (size_t f = 0; f < columns_.size(); ++f) {
      const YAML::Node v = item[columns_[f]];
      RawField& out = r.fields[f];
      if (!v.IsDefined()) continue;
      if (v.IsNull()) { out.kind = RawKind::null; continue; }
      if (v.IsScalar()) {
        out.kind = RawKind::text;
        out.text = v.Scalar();
      } else if (v.IsSequence()) {
        out.kind = RawKind::array;
        for (const auto& e : v) {
          if (!e.IsScalar()) { r.error = "expected a list of plain values"; r.error_column = columns_[f]; break; }
          out.items.push_back(e.Scalar());
        }
      } else {
        out.kind = RawKind::object;
      }
    }
    // A key given twice is an error, as in CSV headers and JSON Lines.
    seen_.clear();
    for (const auto& kv : item) {
      if (!kv.first.IsScalar()) {
        r.error = "expected field names (plain text) as keys";
        break;
      }
      if (!seen_.insert(kv.first.Scalar()).second) {
        r.error = fmt::format("the key `{}` is given twice", utf8::printable(kv.first.Scalar(), 40));
        r.error_column = kv.first.Scalar();
        break;
      }
    }
    return true;
  }

 private:
  YAML::Node root_;
  YAML::Node current_;
  size_t index_ = 0;
  std::vector<std::string> columns_;
  std::unordered_set<std::string> seen_;
  std::vector<uint64_t> line_offset_;  // per record: the line its document starts on
};

}  // namespace

std::unique_ptr<Reader> make_yaml_reader(const std::string& path) { return std::make_unique<YamlReader>(path); }

std::unique_ptr<Reader> make_record_reader(const std::string& text) {
  return std::make_unique<YamlReader>(YamlReader::FromText{}, text);
}

}  // namespace stratum::io
