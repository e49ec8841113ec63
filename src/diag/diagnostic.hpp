// Diagnostic: the one type every stage reports problems with, and its
// renderers (compiler-style text with the source line and a caret, and JSON).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "source/source_file.hpp"

namespace stratum {

enum class Severity { error, warning, note };

struct Note {
  std::string message;
  Span span;  // empty file (0) when the note has no location
};

// One field of a counter-example customer: its value as text and as JSON.
struct ExampleValue {
  std::string field;
  std::string text;
  std::string json;
};

struct Diagnostic {
  Severity severity = Severity::error;
  std::string code;  // stable identifier, e.g. "type-mismatch"
  std::string message;
  Span span;
  std::vector<Note> notes;
  std::vector<ExampleValue> counterexample;  // analysis findings: a customer that shows it
};

// Collects diagnostics; stages append, the driver renders.
class Diagnostics {
 public:
  Diagnostic& error(std::string code, Span span, std::string message);
  Diagnostic& warning(std::string code, Span span, std::string message);
  void add(Diagnostic d) { items_.push_back(std::move(d)); }

  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  std::vector<Diagnostic>& items() { return items_; }

 private:
  std::vector<Diagnostic> items_;
};

// `file:line:col: error: message [code]`, the source line and a caret line.
std::string render_text(const Diagnostic& d, const SourceSet& sources);
// One JSON object on one line (file, line, column, end, severity, code,
// message, notes).
std::string render_json(const Diagnostic& d, const SourceSet& sources);

// Thrown for engine bugs only: never for anything a user wrote.
struct InternalError : std::logic_error {
  using std::logic_error::logic_error;
};

std::string json_escape(std::string_view s);
// The same, appended to `out` (the output writers use it per record).
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace stratum
