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
// Records given as JSON or YAML text: one map, or a list of maps.
std::unique_ptr<Reader> make_record_reader(const std::string& text);

}  // namespace stratum::io
