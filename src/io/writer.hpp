// Output: decided customers as JSON Lines or CSV, rejected records as JSON
// Lines, through a buffered sink that writes to a temporary file and renames
// it into place only when the run completes.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "eval/program.hpp"
#include "io/bind.hpp"

namespace stratum::io {

// Removes the temporary files of unfinished OutputFiles when the process is
// stopped by SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE, then dies of it.
void install_signal_cleanup();

// A file written whole or not at all ("-" is standard output). A regular
// file (or the regular file a symlink points to) is written to a temporary
// file beside it and renamed over it on commit, keeping its mode and owner;
// a FIFO, a device or a dangling symlink is written through in place.
class OutputFile {
 public:
  explicit OutputFile(std::string path);
  ~OutputFile();  // without commit(): the temporary file is removed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(std::string_view s) {
    if (s.size() >= (1 << 16)) return write_through(s);  // a block of records: not copied again
    buffer_.append(s);
    if (buffer_.size() >= (1 << 20)) flush();
  }
  std::string& buffer() { return buffer_; }
  void maybe_flush() { if (buffer_.size() >= (1 << 20)) flush(); }
  void flush();
  void write_through(std::string_view s);  // flush, then `s` straight to the file
  void commit();  // flush, close, rename into place; throws on I/O errors

 private:
  std::string path_, temp_, target_;
  std::FILE* file_ = nullptr;
  bool direct_ = false;  // written in place (not a regular file)
  int slot_ = -1;        // the temporary file's slot for signal cleanup
  std::string buffer_;
  bool committed_ = false;
  size_t synced_ = 0, unsynced_ = 0;  // bytes whose writeback has started, and since
  void start_writeback(size_t bytes);
  [[noreturn]] void fail_write();
};

enum class OutputFormat { jsonl, csv };

// Which rules decided a record, written with it (`@ruleset`, `@version`,
// `@hash`, `@as_of`): what `stratum replay` re-decides it with.
struct Provenance {
  std::string ruleset, version, hash;
  std::optional<int32_t> as_of;  // days since 1970-01-01
};

// Formats decided records into a text buffer (the caller writes it out).
class RecordWriter {
 public:
  RecordWriter(const eval::Program& program, OutputFormat format, std::string& buffer);
  void set_buffer(std::string& buffer) { buf_ = &buffer; }
  void header();
  void set_explain(bool on) { explain_ = on; }
  // Each record also carries the rules' input fields (but the key) after the
  // decisions, under their column names, written so that the readers read
  // them back to the same values (`stratum replay` decides them again).
  void set_keep_input(bool on) { keep_input_ = on; }
  // Each record carries where its decisions come from.
  void set_provenance(const Provenance& p);
  // Writes the key and every output of an evaluated frame (and its
  // explanation, when given).
  void record(const eval::Frame& frame, uint64_t record_number, const std::vector<std::string>* explanation = nullptr);

 private:
  const eval::Program& program_;
  OutputFormat format_;
  std::string* buf_;
  bool explain_ = false;
  bool keep_input_ = false;
  std::string provenance_;  // the record's closing fields, formatted once
  std::vector<std::string> json_inputs_;  // `,"column":` per kept input field
  void input_value(std::string& b, size_t field, const eval::Value& v);
  std::vector<std::string> json_names_;  // `,"name":` per output, escaped once
  std::string json_key_;                 // `{"id":"` for the key field
  void value(std::string& b, const eval::Value& v, const Type& t);
};

void append_csv_field(std::string& b, std::string_view s);

// One JSON Lines object per rejected record.
std::string rejection_json(uint64_t record, uint64_t line, const std::string& key, const Rejection& why);

}  // namespace stratum::io
