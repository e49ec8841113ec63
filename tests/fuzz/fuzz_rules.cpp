// Rule text → parse → check → analyse → lower → evaluate one record.
// The input is a rule file, optionally followed by a line "%%" and a record
// as JSON or YAML. Nothing may crash, hang or leak; every error is a diagnostic.
#include <cstddef>
#include <cstdint>
#include <string>

#include "analysis/analyze.hpp"
#include "driver/stratum.hpp"
#include "driver/testing.hpp"
#include "fuzz_common.hpp"
#include "io/bind.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"

using namespace stratum;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string rules = input, record = R"({"id": "C1"})";
  if (auto cut = input.find("\n%%\n"); cut != std::string::npos) {
    rules = input.substr(0, cut);
    record = input.substr(cut + 4);
  }
  // The analysis with a short budget: the fuzzer's own timeout is for hangs.
  Compilation c = compile_text("fuzz.strat", rules, false);
  if (c.ok()) analyse(*c.program, c.diagnostics, std::chrono::milliseconds(2000));
  std::string rendered = c.render() + c.render(true);
  fuzz::require_clean_json_text(c.render(true));
  if (!c.ok()) return 0;
  const eval::Program& program = *c.program;
  // The file's own tests, with a fixed date.
  (void)run_test_blocks(c, 19723);
  std::unique_ptr<io::Reader> reader;
  try {
    reader = io::make_record_reader(record);
  } catch (const std::exception&) {
    return 0;
  }
  io::Binder binder(program);
  if (reader->open(binder.columns(), binder.required())) return 0;
  eval::Frame frame = program.make_frame();
  frame.today = 19723;
  frame.has_today = true;
  std::vector<std::string> trace;
  std::string out;
  io::RecordWriter writer(program, io::OutputFormat::jsonl, out);
  io::RawRecord raw;
  while (reader->next(raw)) {
    program.reset(frame);
    io::Rejection why;
    if (!binder.bind(raw, frame, why)) {
      fuzz::require_clean_json_text(io::rejection_json(raw.number, raw.line, binder.key_text(raw), why));
      continue;
    }
    trace.clear();
    frame.trace = (size & 1) ? &trace : nullptr;
    try {
      program.evaluate(frame);
      if (frame.trace) program.explain_plan(frame, trace);
      out.clear();
      writer.record(frame, raw.number, frame.trace ? &trace : nullptr);
      fuzz::require_clean_json_text(out);
    } catch (const eval::EvalError&) {
    }
  }
  return 0;
}
