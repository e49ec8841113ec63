// stratum eval RULES --input FILE — evaluate every record; stream; summary on
// stderr. Every record read is either decided (written to the output) or
// rejected (written to the errors output with its reason): read = decided +
// rejected, always.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "driver/stratum.hpp"
#include "io/bind.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"
#include "value/date.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum eval RULES --input FILE [options]

Evaluates every customer record of FILE against the rule file RULES.

  --input FILE          the records: .csv, .jsonl or .yaml ("-" for standard input)
  --input-format F      csv, jsonl or yaml, when the file name does not tell
  --output FILE         where decided records go (default: standard output);
                        written to a temporary file and renamed when complete
  --format jsonl|csv    output format (default jsonl)
  --errors FILE         rejected records as JSON Lines (record, line, key,
                        column, reason); default: listed on standard error
  --as-of YYYY-MM-DD    the evaluation date `today` stands for
  --summary             print the distribution of each decision on standard
                        error (automatic when standard error is a terminal)
  --explain             add each customer's explanation (`explain` in JSON
                        Lines, an `explain` column in CSV)
  --threads N           evaluate on N threads (default: all cores); the output
                        is the same for any N (YAML input runs on one)
  --diagnostics text|json  how to print rule problems
  --max-record-bytes N  the longest record accepted (default 8388608, 8 MiB);
                        a longer one is rejected and reading goes on after it
  --max-field-bytes N   the longest value accepted (default 1048576, 1 MiB)

Exit status: 0 every record decided; 1 rule errors or rejected records;
2 usage or I/O error.
)";

struct Distribution {
  std::string name;
  Type type;
  int32_t slot;
  std::map<int64_t, uint64_t> counts;
};

void print_distribution(const eval::Program& program, std::vector<Distribution>& dists, uint64_t decided) {
  for (auto& d : dists) {
    std::vector<std::pair<std::string, uint64_t>> rows;
    if (d.type.base == BaseType::enum_) {
      const auto& members = program.enums[d.type.enum_id].members;
      for (size_t i = 0; i < members.size(); ++i) rows.push_back({members[i], d.counts[static_cast<int64_t>(i)]});
    } else {
      rows.push_back({"true", d.counts[1]});
      rows.push_back({"false", d.counts[0]});
    }
    if (d.counts.count(-1)) rows.push_back({"(none)", d.counts[-1]});
    size_t width = utf8::cell_width(d.name);
    for (auto& [label, _] : rows) width = std::max(width, utf8::cell_width(label));
    std::string out = fmt::format("\n{}{}  {:>10}  {:>8}\n", d.name, std::string(width - utf8::cell_width(d.name), ' '), "customers", "share");
    for (auto& [label, n] : rows) {
      uint64_t permille = decided ? (n * 1000 + decided / 2) / decided : 0;
      out += fmt::format("{}{}  {:>10}  {:>5}.{}%\n", label, std::string(width - utf8::cell_width(label), ' '), n,
                         permille / 10, permille % 10);
    }
    out += fmt::format("{}  {:>10}\n", std::string(width, ' '), decided);
    fmt::print(stderr, "{}", out);
  }
}

struct Settings {
  const eval::Program& program;
  io::OutputFormat format;
  bool explain;
  bool errors_as_json;
  std::optional<int32_t> as_of;
  io::RecordLimits limits;
};

// A record the cutting thread already found malformed (or too large): passed
// on as its rejection, without its bytes.
struct Preset {
  std::string key, column, reason;
};

// A run of whole records and, once evaluated, what they gave.
struct Chunk {
  std::string data;                     // the records' bytes (parallel runs)
  std::vector<uint64_t> numbers, lines; // each record's number and line in the input
  std::vector<std::optional<Preset>> presets;  // per record: its rejection, when already known
  size_t bytes = 0;
  std::string out, err;
  uint64_t read = 0, decided = 0, rejected = 0;
  std::vector<std::vector<uint64_t>> counts;  // per distribution: by code, then "no value"
  void clear() {
    data.clear(); numbers.clear(); lines.clear(); presets.clear(); out.clear(); err.clear();
    bytes = 0; read = decided = rejected = 0;
    counts.clear();
  }
};

// Decides records: one per thread, each with its own frame and buffers.
class Worker {
 public:
  explicit Worker(const Settings& s)
      : s_(s), frame_(s.program.make_frame()), binder_(s.program), writer_(s.program, s.format, scratch_) {
    if (s.as_of) { frame_.today = *s.as_of; frame_.has_today = true; }
    binder_.set_max_field(s.limits.max_field);
    if (s.explain) frame_.trace = &trace_;
    writer_.set_explain(s.explain);
    for (const auto& o : s.program.outputs) {
      if (!o.type.is_set && (o.type.base == BaseType::enum_ || o.type.base == BaseType::boolean)) dist_slots_.push_back(o);
    }
  }

  void process(const io::RawRecord& raw, Chunk& c) {
    const eval::Program& program = s_.program;
    if (c.counts.empty()) {
      for (const auto& o : dist_slots_) {
        size_t values = o.type.base == BaseType::enum_ ? program.enums[o.type.enum_id].members.size() : 2;
        c.counts.emplace_back(values + 1, 0);
      }
    }
    ++c.read;
    program.reset(frame_);
    trace_.clear();
    io::Rejection why;
    if (!binder_.bind(raw, frame_, why)) {
      reject(raw, why, c);
      return;
    }
    for (const auto& o : program.outputs) {
      try {
        program.slot(frame_, o.slot);
      } catch (const eval::EvalError& e) {
        reject(raw, {o.name, e.what()}, c);
        return;
      }
    }
    ++c.decided;
    if (s_.explain) program.explain_plan(frame_, trace_);
    writer_.set_buffer(c.out);
    writer_.record(frame_, raw.number, s_.explain ? &trace_ : nullptr);
    for (size_t k = 0; k < dist_slots_.size(); ++k) {
      const eval::Value& v = frame_.slots[dist_slots_[k].slot];
      auto& counts = c.counts[k];
      ++counts[eval::is_missing(v) ? counts.size() - 1 : static_cast<size_t>(v.n)];
    }
  }

  // Parses and decides a whole chunk, with the records' numbers and lines as
  // the input gave them.
  void process_chunk(Chunk& c, const io::Reader& like) {
    auto reader = like.chunk_reader(std::move(c.data));
    c.data.clear();
    io::RawRecord raw;
    for (size_t k = 0; k < c.numbers.size(); ++k) {
      if (c.presets[k]) {
        ++c.read;
        io::RawRecord where;
        where.number = c.numbers[k];
        where.line = c.lines[k];
        reject(where, {c.presets[k]->column, c.presets[k]->reason}, c, &c.presets[k]->key);
        continue;
      }
      if (!reader->next(raw)) throw InternalError("a chunk holds fewer records than were cut");
      raw.number = c.numbers[k];
      raw.line = c.lines[k];
      process(raw, c);
    }
  }

 private:
  const Settings& s_;
  eval::Frame frame_;
  io::Binder binder_;
  std::string scratch_;
  io::RecordWriter writer_;
  std::vector<std::string> trace_;
  std::vector<eval::Output> dist_slots_;

  void reject(const io::RawRecord& r, const io::Rejection& w, Chunk& c, const std::string* known_key = nullptr) {
    ++c.rejected;
    std::string key = known_key ? *known_key : binder_.key_text(r);
    if (s_.errors_as_json) {
      c.err += io::rejection_json(r.number, r.line, key, w);
    } else {
      c.err += fmt::format("rejected record {}{}{}: {}{}\n", r.number, r.line ? fmt::format(" (line {})", r.line) : "",
                           key.empty() ? "" : fmt::format(" key {}", key),
                           w.column.empty() ? "" : fmt::format("column {}: ", w.column), w.reason);
    }
  }
};

// Worker threads taking chunks in order of submission; results are taken
// back in the same order.
class Pool {
 public:
  Pool(const Settings& s, unsigned threads) {
    for (unsigned i = 0; i < threads; ++i) {
      threads_.emplace_back([this, &s] {
        Worker worker(s);
        for (;;) {
          Job* job = nullptr;
          {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || next_ < jobs_.size(); });
            if (next_ >= jobs_.size()) return;
            job = jobs_[next_++].get();
          }
          try {
            worker.process_chunk(*job->chunk, *job->reader);
          } catch (...) {
            job->failure = std::current_exception();
          }
          {
            std::lock_guard lock(mutex_);
            job->done = true;
          }
          done_.notify_all();
        }
      });
    }
  }
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void submit(std::unique_ptr<Chunk> chunk, const io::Reader& reader) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::make_unique<Job>(Job{std::move(chunk), &reader, false, nullptr}));
    }
    wake_.notify_one();
  }
  size_t in_flight() {
    std::lock_guard lock(mutex_);
    return jobs_.size() - taken_;
  }
  // The oldest chunk once it is done (waiting for it when `wait`), else null.
  std::unique_ptr<Chunk> take_ready(bool wait) {
    std::unique_lock lock(mutex_);
    if (taken_ >= jobs_.size()) return nullptr;
    if (wait) done_.wait(lock, [&] { return jobs_[taken_]->done; });
    if (!jobs_[taken_]->done) return nullptr;
    auto job = std::move(jobs_[taken_++]);
    lock.unlock();
    if (job->failure) std::rethrow_exception(job->failure);
    return std::move(job->chunk);
  }

 private:
  struct Job {
    std::unique_ptr<Chunk> chunk;
    const io::Reader* reader;
    bool done;
    std::exception_ptr failure;
  };
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<std::unique_ptr<Job>> jobs_;  // taken jobs leave null entries behind
  size_t next_ = 0, taken_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

struct Totals {
  explicit Totals(const eval::Program& program) {
    for (const auto& o : program.outputs) {
      if (!o.type.is_set && (o.type.base == BaseType::enum_ || o.type.base == BaseType::boolean)) {
        dists.push_back({o.name, o.type, o.slot, {}});
      }
    }
  }
  void add(const Chunk& c) {
    read += c.read;
    decided += c.decided;
    rejected += c.rejected;
    for (size_t k = 0; k < c.counts.size() && k < dists.size(); ++k) {
      for (size_t v = 0; v < c.counts[k].size(); ++v) {
        if (!c.counts[k][v]) continue;
        int64_t code = v + 1 == c.counts[k].size() ? -1 : static_cast<int64_t>(v);
        dists[k].counts[code] += c.counts[k][v];
      }
    }
  }
  uint64_t read = 0, decided = 0, rejected = 0;
  std::vector<Distribution> dists;
};

// A progress line on a terminal: records, rate and, for files, time left.
class Progress {
 public:
  explicit Progress(const std::string& input) : on_(::isatty(STDERR_FILENO)), start_(Clock::now()), last_(start_) {
    std::error_code ec;
    if (input != "-") total_ = std::filesystem::file_size(input, ec);
    if (ec) total_ = 0;
  }
  void update(uint64_t records, size_t bytes) {
    bytes_ += bytes;
    if (!on_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();
    double rate = seconds > 0 ? records / seconds : 0;
    std::string eta;
    if (total_ > 0 && bytes_ > 0 && bytes_ < total_) {
      eta = fmt::format(", {:.0f}% done, about {:.0f} s left", 100.0 * bytes_ / total_,
                        seconds * (total_ - bytes_) / bytes_);
    }
    fmt::print(stderr, "\r{} records, {:.0f} records/s{}\x1b[K", records, rate, eta);
    shown_ = true;
  }
  void finish() {
    if (shown_) fmt::print(stderr, "\r\x1b[K");
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool on_;
  bool shown_ = false;
  Clock::time_point start_, last_;
  uint64_t total_ = 0, bytes_ = 0;
};

}  // namespace

int eval(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h", "--summary", "--explain"},
            {"--input", "--input-format", "--output", "--format", "--errors", "--as-of", "--threads", "--diagnostics",
             "--max-record-bytes", "--max-field-bytes"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("eval", *args.error());
  if (args.positionals().size() != 1) return usage_error("eval", "name one rule file: stratum eval RULES --input FILE");
  auto input = args.value("--input");
  if (!input) return usage_error("eval", "--input FILE is required (CSV, JSON Lines or YAML)");
  std::string out_format = args.value("--format").value_or("jsonl");
  if (out_format != "jsonl" && out_format != "csv") return usage_error("eval", "--format is jsonl or csv");
  std::optional<io::Format> in_format;
  if (auto f = args.value("--input-format")) {
    if (*f == "csv") in_format = io::Format::csv;
    else if (*f == "jsonl") in_format = io::Format::jsonl;
    else if (*f == "yaml") in_format = io::Format::yaml;
    else return usage_error("eval", "--input-format is csv, jsonl or yaml");
  } else {
    in_format = io::format_from_name(*input);
    if (!in_format) return usage_error("eval", fmt::format("cannot tell the format of {}: add --input-format csv|jsonl|yaml", *input));
  }
  std::optional<int32_t> as_of;
  if (auto d = args.value("--as-of")) {
    as_of = parse_iso_date(*d);
    if (!as_of) return usage_error("eval", fmt::format("--as-of {}: expected a date YYYY-MM-DD", *d));
  }
  if (auto t = args.value("--threads")) {
    if (t->empty() || t->size() > 4 || t->find_first_not_of("0123456789") != std::string::npos || std::stoul(*t) == 0) {
      return usage_error("eval", "--threads takes a whole number from 1 to 9999");
    }
  }
  bool json_diag = args.value("--diagnostics").value_or("text") == "json";
  io::RecordLimits limits;
  for (auto [flag, target] : {std::pair{"--max-record-bytes", &limits.max_record}, std::pair{"--max-field-bytes", &limits.max_field}}) {
    if (auto v = args.value(flag)) {
      if (v->empty() || v->size() > 12 || v->find_first_not_of("0123456789") != std::string::npos || std::stoull(*v) == 0) {
        return usage_error("eval", fmt::format("{} takes a whole number of bytes from 1 to 999999999999", flag));
      }
      *target = static_cast<size_t>(std::stoull(*v));
    }
  }

  std::string rules_path = args.positionals()[0];
  Compilation c;
  try {
    c = compile(rules_path);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum eval: {}\n", e.what());
    return kUsage;
  }
  std::string diags = c.render(json_diag);
  if (!diags.empty()) fmt::print(json_diag ? stdout : stderr, "{}", diags);
  if (!c.ok()) {
    fmt::print(stderr, "stratum eval: {} has errors; nothing was evaluated\n", rules_path);
    return kInputProblem;
  }
  const eval::Program& program = *c.program;
  if (program.uses_today && !as_of) {
    return usage_error("eval", "the rules use `today`: give the evaluation date with --as-of YYYY-MM-DD");
  }

  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  if (auto t = args.value("--threads")) threads = static_cast<unsigned>(std::stoul(*t));
  try {
    auto reader = io::open_reader(*input, *in_format);
    reader->set_limits(limits);
    io::Binder header_binder(program);
    if (auto problem = reader->open(header_binder.columns(), header_binder.required())) {
      fmt::print(stderr, "stratum eval: {}: {}\n", *input, *problem);
      fmt::print(stderr, "read 0, decided 0, rejected 0\n");
      return kInputProblem;
    }
    io::OutputFile out(args.value("--output").value_or("-"));
    std::unique_ptr<io::OutputFile> errors;
    if (auto e = args.value("--errors")) errors = std::make_unique<io::OutputFile>(*e);
    Settings settings{program, out_format == "csv" ? io::OutputFormat::csv : io::OutputFormat::jsonl,
                      args.flag("--explain"), errors != nullptr, as_of, limits};
    {
      std::string header;
      io::RecordWriter writer(program, settings.format, header);
      writer.set_explain(settings.explain);
      writer.header();
      out.write(header);
    }
    Totals totals(program);
    Progress progress(*input);
    auto absorb = [&](Chunk& c) {
      out.write(c.out);
      if (errors) errors->write(c.err);
      else if (!c.err.empty()) fmt::print(stderr, "{}", c.err);
      totals.add(c);
      progress.update(totals.read, c.bytes);
    };
    std::unique_ptr<io::Reader> probe = reader->chunk_reader(std::string());
    if (threads <= 1 || !probe) {
      // One thread: evaluate as the records come.
      Worker worker(settings);
      io::RawRecord raw;
      Chunk c;
      while (reader->next(raw)) {
        worker.process(raw, c);
        c.bytes += raw.source.size();
        if (c.out.size() + c.err.size() >= (1 << 20)) {
          absorb(c);
          c.clear();
        }
      }
      absorb(c);
    } else {
      // Several threads: this thread cuts the input into chunks of whole
      // records; workers parse, decide and format them; the results are
      // written in input order, so the output is the same for any --threads.
      Pool pool(settings, threads);
      io::RawRecord raw;
      auto chunk = std::make_unique<Chunk>();
      bool jsonl = *in_format == io::Format::jsonl;
      auto submit = [&]() {
        pool.submit(std::move(chunk), *reader);
        chunk = std::make_unique<Chunk>();
        while (auto done = pool.take_ready(false)) absorb(*done);
        while (pool.in_flight() >= 2 * threads) {
          if (auto done = pool.take_ready(true)) absorb(*done);
        }
      };
      while (reader->next(raw)) {
        chunk->numbers.push_back(raw.number);
        chunk->lines.push_back(raw.line);
        if (!raw.error.empty()) {
          // Already known to be rejected: its reason goes on, not its bytes.
          chunk->presets.push_back(Preset{header_binder.key_text(raw), raw.error_column, raw.error});
          chunk->bytes += raw.source.size();
          if (chunk->data.size() >= (1 << 20) || chunk->numbers.size() >= 65536) submit();
          continue;
        }
        chunk->presets.emplace_back();
        chunk->data.append(raw.source);
        if (jsonl) chunk->data += '\n';
        chunk->bytes += raw.source.size();
        if (chunk->data.size() >= (1 << 20) || chunk->numbers.size() >= 65536) submit();
      }
      if (!chunk->numbers.empty()) submit();
      while (pool.in_flight() > 0) {
        if (auto done = pool.take_ready(true)) absorb(*done);
      }
    }
    progress.finish();
    out.commit();
    if (errors) errors->commit();
    if (args.flag("--summary") || ::isatty(STDERR_FILENO)) print_distribution(program, totals.dists, totals.decided);
    fmt::print(stderr, "read {}, decided {}, rejected {}\n", totals.read, totals.decided, totals.rejected);
    return totals.rejected > 0 ? kInputProblem : kOk;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "stratum eval: {}\n", e.what());
    return kUsage;
  }
}

}  // namespace stratum::cli
