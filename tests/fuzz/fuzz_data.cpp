// Data files → reader → binder → evaluation → JSON Lines, for one format
// (FUZZ_FORMAT: csv, jsonl or yaml; jsonl also as one JSON text, the way
// the decision service reads a request body), against fixed rules that use every kind
// of field. Every record is decided or rejected (N = D + R); every output
// line and every rejection is valid JSON text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "driver/stratum.hpp"
#include "fuzz_common.hpp"
#include "io/bind.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"

using namespace stratum;

namespace {

constexpr const char* kRules = R"(
enum 行业 { 工业, 零售业 }
input c {
  id       : text key
  industry : 行业
  n        : int >= 0
  amount   : money?
  ratio    : decimal?
  since    : date?
  name     : text?
  tags     : set<text>?
  flags    : set<行业>?
  ok       : bool?
}
decide 档 : text {
  when amount is present and amount >= 1万 -> "大"
  when tags is present and tags contains "互联网" -> "新"
  else -> "小"
}
let 比 = (ratio ?? 0) * 2
let 年 = years_between(since ?? 2020-01-01, today)
decide 老 : bool { when 年 >= 3 -> true  else -> false }
decide 名 : text { when name is present -> name  else -> "无" }
)";

const eval::Program& program() {
  static Compilation c = compile_text("fuzz.strat", kRules);
  if (!c.ok()) {
    std::fprintf(stderr, "%s", c.render().c_str());
    std::abort();
  }
  return *c.program;
}

// Reads, binds, decides and writes every record of `reader`.
void decide_all(io::Reader& reader) {
  const eval::Program& p = program();
  reader.set_limits({4096, 512});
  io::Binder binder(p);
  binder.set_max_field(512);
  try {
    if (auto problem = reader.open(binder.columns(), binder.required())) {
      fuzz::require_clean_json_text(*problem);
      return;
    }
    eval::Frame frame = p.make_frame();
    frame.today = 19723;
    frame.has_today = true;
    std::string out;
    io::RecordWriter writer(p, io::OutputFormat::jsonl, out);
    io::RawRecord raw;
    uint64_t read = 0, decided = 0, rejected = 0;
    while (reader.next(raw)) {
      ++read;
      if (raw.number != read) {
        std::fprintf(stderr, "finding: record numbers skip (%llu after %llu)\n", (unsigned long long)raw.number, (unsigned long long)read - 1);
        std::abort();
      }
      if (!raw.error.empty()) fuzz::require_clean_json_text(raw.error);
      p.reset(frame);
      io::Rejection why;
      if (!binder.bind(raw, frame, why)) {
        ++rejected;
        fuzz::require_clean_json_text(io::rejection_json(raw.number, raw.line, binder.key_text(raw), why));
        continue;
      }
      try {
        p.evaluate(frame);
        out.clear();
        writer.record(frame, raw.number);
        fuzz::require_clean_json_text(out);
        ++decided;
      } catch (const eval::EvalError& e) {
        ++rejected;
        fuzz::require_clean_json_text(e.what());
      }
    }
    if (read != decided + rejected) std::abort();
  } catch (const std::runtime_error& e) {
    fuzz::require_clean_json_text(e.what());  // an I/O-level error, reported
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::MemFile file(data, size);
  std::unique_ptr<io::Reader> reader;
  try {
    reader = io::open_reader(file.path(), FUZZ_FORMAT);
  } catch (const std::exception& e) {
    fuzz::require_clean_json_text(e.what());
    return 0;
  }
  decide_all(*reader);
  if (FUZZ_FORMAT == io::Format::jsonl) {
    // The same bytes as a request body of the decision service.
    auto body = io::make_json_text_reader(std::string(reinterpret_cast<const char*>(data), size));
    decide_all(*body);
  }
  return 0;
}
