#include "io/writer.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

#include <fmt/format.h>

#include "diag/diagnostic.hpp"

namespace stratum::io {

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    file_ = stdout;
    return;
  }
  temp_ = fmt::format("{}.tmp-{}", path_, ::getpid());
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) throw std::runtime_error(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
}

OutputFile::~OutputFile() {
  if (path_ == "-") {
    if (!committed_) { try { flush(); } catch (...) {} }
    return;
  }
  if (!committed_ && file_) {
    std::fclose(file_);
    std::remove(temp_.c_str());
  }
}

void OutputFile::flush() {
  if (buffer_.empty()) return;
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    throw std::runtime_error(fmt::format("cannot write {}: {}", path_ == "-" ? "standard output" : path_, std::strerror(errno)));
  }
  buffer_.clear();
}

void OutputFile::commit() {
  flush();
  committed_ = true;
  if (path_ == "-") {
    std::fflush(stdout);
    return;
  }
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    std::remove(temp_.c_str());
    throw std::runtime_error(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
  }
  file_ = nullptr;
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    std::remove(temp_.c_str());
    throw std::runtime_error(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
  }
}

void append_csv_field(std::string& b, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    b.append(s);
    return;
  }
  b += '"';
  for (char c : s) {
    if (c == '"') b += '"';
    b += c;
  }
  b += '"';
}

RecordWriter::RecordWriter(const eval::Program& program, OutputFormat format, std::string& buffer)
    : program_(program), format_(format), buf_(&buffer) {
  for (const auto& o : program_.outputs) json_names_.push_back("\"" + json_escape(o.name) + "\":");
  if (program_.key_field >= 0) json_key_ = "{\"" + json_escape(program_.fields[program_.key_field].name) + "\":\"";
}

void RecordWriter::header() {
  if (format_ != OutputFormat::csv) return;
  std::string& b = *buf_;
  bool first = true;
  if (program_.key_field >= 0) {
    append_csv_field(b, program_.fields[program_.key_field].name);
    first = false;
  } else {
    b += "record";
    first = false;
  }
  for (const auto& o : program_.outputs) {
    if (!first) b += ',';
    append_csv_field(b, o.name);
    first = false;
  }
  if (explain_) b += ",explain";
  b += '\n';
}

void RecordWriter::value(std::string& b, const eval::Value& v, const Type& t) {
  bool json = format_ == OutputFormat::jsonl;
  if (!t.is_set && (t.base == BaseType::int_ || t.base == BaseType::decimal || t.base == BaseType::money ||
                    t.base == BaseType::boolean)) {
    program_.append_text(b, v, t);
    return;
  }
  if (!t.is_set && t.base == BaseType::enum_) {
    // Enum names are the rule author's identifiers: nothing to escape or quote.
    if (json) b += '"';
    program_.append_text(b, v, t);
    if (json) b += '"';
    return;
  }
  // Text is written straight from the value; dates, durations and sets are
  // formatted first.
  std::string formatted;
  std::string_view text = v.s;
  if (t.is_set || t.base != BaseType::text) {
    formatted = program_.format(v, t);
    text = formatted;
  }
  if (json) {
    b += '"';
    append_json_escaped(b, text);
    b += '"';
  } else {
    append_csv_field(b, text);
  }
}

void RecordWriter::record(const eval::Frame& frame, uint64_t record_number, const std::vector<std::string>* explanation) {
  std::string& b = *buf_;
  bool json = format_ == OutputFormat::jsonl;
  if (json && program_.key_field < 0) b += '{';
  if (program_.key_field >= 0) {
    const auto& f = program_.fields[program_.key_field];
    if (json) {
      // The key is copied as text, whatever its type.
      const eval::Value& k = frame.slots[program_.key_field];
      b += json_key_;  // `{"id":"`
      if (f.type.base == BaseType::text) append_json_escaped(b, k.s);
      else program_.append_text(b, k, f.type);
      b += '"';
    } else {
      const eval::Value& k = frame.slots[program_.key_field];
      if (f.type.base == BaseType::text) append_csv_field(b, k.s);
      else program_.append_text(b, k, f.type);
    }
  } else {
    if (json) b += fmt::format("\"record\":{}", record_number);
    else b += std::to_string(record_number);
  }
  bool in_plan = false;
  for (const auto& o : program_.outputs) {
    if (json) {
      if (o.plan && !in_plan) {
        b += ",\"plan\":{";
        in_plan = true;
      } else {
        b += ',';
      }
      b += json_names_[&o - program_.outputs.data()];
    } else {
      b += ',';
    }
    const eval::Value& v = frame.slots[o.slot];
    if (eval::is_missing(v)) {
      if (json) b += "null";
    } else {
      value(b, v, o.type);
    }
  }
  if (in_plan) b += '}';
  if (explain_) {
    if (json) {
      b += ",\"explain\":[";
      for (size_t i = 0; explanation && i < explanation->size(); ++i) {
        if (i) b += ',';
        b += '"';
        append_json_escaped(b, (*explanation)[i]);
        b += '"';
      }
      b += ']';
    } else {
      std::string joined;
      for (size_t i = 0; explanation && i < explanation->size(); ++i) {
        std::string_view line = (*explanation)[i];
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        joined += (i ? " | " : "");
        joined += line;
      }
      b += ',';
      append_csv_field(b, joined);
    }
  }
  b += json ? "}\n" : "\n";
}

std::string rejection_json(uint64_t record, uint64_t line, const std::string& key, const Rejection& why) {
  std::string out = fmt::format("{{\"record\":{}", record);
  if (line) out += fmt::format(",\"line\":{}", line);
  out += key.empty() ? ",\"key\":null" : fmt::format(",\"key\":\"{}\"", json_escape(key));
  out += why.column.empty() ? ",\"column\":null" : fmt::format(",\"column\":\"{}\"", json_escape(why.column));
  out += fmt::format(",\"reason\":\"{}\"}}\n", json_escape(why.reason));
  return out;
}

}  // namespace stratum::io
