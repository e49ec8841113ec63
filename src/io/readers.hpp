// Constructors of the concrete readers (CSV, JSON Lines, YAML).
#pragma once

#include "io/record.hpp"

namespace stratum::io {

std::unique_ptr<Reader> make_csv_reader(const std::string& path);
std::unique_ptr<Reader> make_jsonl_reader(const std::string& path);
std::unique_ptr<Reader> make_yaml_reader(const std::string& path);
// CSV given as text (a header row, then the records).
std::unique_ptr<Reader> make_csv_text_reader(std::string text);
// Records given as JSON text, as a request body holds them: one object,
// objects one after another (JSON Lines or pretty-printed), or an array of
// objects. Errors name the line and column.
std::unique_ptr<Reader> make_json_text_reader(std::string text);
// Where each record of such a JSON text is, without reading its values:
// for reading a large batch in parallel. `error` is set (and the records
// stop) at the first syntax error, as the reader would report it.
struct JsonTextLayout {
  struct Record {
    size_t offset, size;  // the object's bytes in the text
    uint64_t line;        // the line it starts on
  };
  std::vector<Record> records;
  std::string error;
};
JsonTextLayout locate_json_records(std::string_view text);
// Records given as JSON or YAML text: one map, or a list of maps.
std::unique_ptr<Reader> make_record_reader(const std::string& text);

}  // namespace stratum::io
