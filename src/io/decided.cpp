#include "io/decided.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "io/readers.hpp"
#include "source/source_file.hpp"

namespace stratum::io {

namespace {

// A field as text, as the run wrote it; no value for null, absent and empty.
std::optional<std::string> text_of(const RawField& f) {
  switch (f.kind) {
    case RawKind::absent:
    case RawKind::null: return std::nullopt;
    case RawKind::text: if (f.text.empty()) return std::nullopt; [[fallthrough]];
    case RawKind::number:
    case RawKind::boolean: return std::string(f.text);
    case RawKind::array: {
      std::string joined;
      for (auto item : f.items) {
        if (!joined.empty()) joined += ", ";
        joined += item;
      }
      return joined;
    }
    case RawKind::object: return std::string("{…}");
  }
  return std::nullopt;
}

}  // namespace

DecidedFile DecidedFile::read(const std::string& path, Format format, const std::string& key_column,
                              const RecordLimits& limits) {
  if (format == Format::yaml) throw std::runtime_error(fmt::format("{}: a decided file is CSV or JSON Lines, not YAML", path));
  if (path != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw std::runtime_error(fmt::format("cannot read {}: it is a folder", path));
  }
  auto reader = open_reader(path, format);
  reader->set_limits(limits);
  if (auto problem = reader->open_all()) {
    constexpr std::string_view header = "line 1 (header): ";
    if (problem->starts_with(header)) throw DecidedFileError(fmt::format("{}:1: {}", path, problem->substr(header.size())));
    throw DecidedFileError(fmt::format("{}: {}", path, *problem));
  }
  DecidedFile out;
  out.path_ = path;
  auto key_at = [&]() -> std::optional<size_t> {
    const auto& columns = reader->all_columns();
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == key_column) return i;
    }
    return std::nullopt;
  };
  std::optional<size_t> key = key_at();
  if (format == Format::csv && !key) {
    std::string found;
    for (const auto& h : reader->all_columns()) {
      if (found.size() > 400) { found += ", …"; break; }
      found += (found.empty() ? "" : ", ") + utf8::printable(h, 60);
    }
    throw DecidedFileError(fmt::format("{}:1: the header has no column `{}`, the key (its columns are: {})", path,
                                       key_column, found));
  }
  RawRecord raw;
  while (reader->next(raw)) {
    if (!raw.error.empty()) throw DecidedFileError(fmt::format("{}:{}: {}", path, raw.line, raw.error));
    if (!key) key = key_at();
    if (!key || *key >= raw.fields.size() || raw.fields[*key].kind == RawKind::absent) {
      throw DecidedFileError(fmt::format("{}:{}: the record has no `{}`, the key", path, raw.line, key_column));
    }
    const RawField& k = raw.fields[*key];
    if ((k.kind != RawKind::text && k.kind != RawKind::number) || k.text.empty()) {
      throw DecidedFileError(fmt::format("{}:{}: the key `{}` has no value", path, raw.line, key_column));
    }
    auto [it, added] = out.by_key_.try_emplace(std::string(k.text), out.rows_.size());
    if (!added) {
      throw DecidedFileError(fmt::format("{}:{}: the key `{}` appears twice (first on line {})", path, raw.line,
                                         utf8::printable(it->first, 60), out.lines_[it->second]));
    }
    Row row;
    row.reserve(raw.fields.size());
    for (const auto& f : raw.fields) row.push_back(text_of(f));
    row[*key] = std::string(k.text);  // the key as written, even an empty-looking one
    out.rows_.push_back(std::move(row));
    out.lines_.push_back(raw.line);
  }
  out.columns_ = reader->all_columns();
  if (format == Format::jsonl && out.rows_.empty()) {
    throw DecidedFileError(fmt::format("{}: the file holds no records (a decided file has one per customer)", path));
  }
  // JSON Lines: a column met first on a later record is absent before it.
  for (auto& row : out.rows_) row.resize(out.columns_.size());
  out.key_column_ = *key;
  return out;
}

std::optional<size_t> DecidedFile::column(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i] == name) return i;
  }
  return std::nullopt;
}

const DecidedFile::Row* DecidedFile::find(std::string_view key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &rows_[it->second];
}

std::optional<size_t> DecidedFile::position(std::string_view key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

}  // namespace stratum::io
