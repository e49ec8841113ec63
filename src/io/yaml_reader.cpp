// YAML: a sequence of maps, one map a record. The document is loaded whole
// (YAML is for small hand-written sets of customers; use CSV or JSON Lines
// for portfolios).
#include <iostream>
#include <unordered_map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "io/readers.hpp"

namespace stratum::io {

namespace {

class YamlReader final : public Reader {
 public:
  explicit YamlReader(const std::string& path) {
    try {
      root_ = path == "-" ? YAML::Load(std::cin) : YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
      throw std::runtime_error(fmt::format("cannot open {}", path));
    } catch (const YAML::Exception& e) {
      throw std::runtime_error(fmt::format("{}:{}:{}: invalid YAML: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    if (root_ && !root_.IsNull() && !root_.IsSequence()) {
      throw std::runtime_error(fmt::format("{}: expected a YAML sequence of records (`- id: …`)", path));
    }
  }

  // One record or a list of them, given as text (JSON is YAML too).
  struct FromText {};
  YamlReader(FromText, const std::string& text) {
    try {
      root_ = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw std::runtime_error(fmt::format("the record is not valid JSON or YAML (line {}, column {}): {}", e.mark.line + 1,
                                           e.mark.column + 1, e.msg));
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
    r.line = static_cast<uint64_t>(item.Mark().line) + 1;
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
    return true;
  }

 private:
  YAML::Node root_;
  YAML::Node current_;
  size_t index_ = 0;
  std::vector<std::string> columns_;
};

}  // namespace

std::unique_ptr<Reader> make_yaml_reader(const std::string& path) { return std::make_unique<YamlReader>(path); }

std::unique_ptr<Reader> make_record_reader(const std::string& text) {
  return std::make_unique<YamlReader>(YamlReader::FromText{}, text);
}

}  // namespace stratum::io
