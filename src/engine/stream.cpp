#include "engine/stream.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace stratum::engine {

namespace {

bool tallied(const eval::Output& o) {
  return !o.type.is_set && (o.type.base == BaseType::enum_ || o.type.base == BaseType::boolean);
}

// A record the cutting thread already found malformed (or too large): passed
// on as its rejection, without its bytes.
struct Preset {
  std::string key, column, reason;
};

// Block sizes. Results are written while they are still in the cache of
// the core that formatted them (a record's results can be larger than its
// input: the SME scheme writes 2.6 bytes per byte read): blocks of 1 MiB
// were measured 15–30% slower than these on one and on two threads, as the
// kernel's copy of each block into the file then came from memory
// (docs/performance.md).
constexpr size_t kBlockOut = 256 << 10;  // one thread: results handed on at this size
constexpr size_t kChunkIn = 128 << 10;   // several threads: input bytes per chunk

// A block as it travels: the records' bytes in, the results out.
struct Chunk {
  std::string data;                            // the records' bytes (parallel runs)
  // Either whole lines cut without reading them (`plain`: records numbered
  // from the run's first, lines counted from its first line), or records the
  // cutting thread read one by one:
  bool plain = false;
  io::Reader::Run run;
  std::vector<uint64_t> numbers, lines;        // each record's number and line in the input
  std::vector<std::optional<Preset>> presets;  // per record: its rejection, when already known
  Block block;
};

}  // namespace

void configure(io::RecordWriter& writer, const StreamOptions& s) {
  writer.set_explain(s.decide.explain);
  writer.set_keep_input(s.keep_input);
  if (s.provenance) writer.set_provenance(*s.provenance);
}

namespace {

// Decides and formats records: one per thread.
class Worker {
 public:
  Worker(const RuleSet& rules, const StreamOptions& s)
      : s_(s), program_(rules.program()), decider_(rules, s.decide), writer_(program_, s.format, scratch_) {
    configure(writer_, s);
    for (const auto& o : program_.outputs) {
      if (tallied(o)) tallied_.push_back(o);
    }
    if (s.observe) observer_ = s.observe(decider_);
  }

  // Hands the observer's findings over with the block.
  void finish(Block& b) {
    if (observer_) b.findings = observer_->take();
  }

  void process(const io::RawRecord& raw, Block& b) {
    if (b.counts.empty()) {
      for (const auto& o : tallied_) {
        size_t values = o.type.base == BaseType::enum_ ? program_.enums[o.type.enum_id].members.size() : 2;
        b.counts.emplace_back(values + 1, 0);
      }
    }
    ++b.read;
    Rejection why;
    if (!decider_.decide(raw, why) || (s_.adjust && !s_.adjust(decider_, raw, why))) {
      reject({raw.number, raw.line, decider_.key_text(raw), std::move(why)}, b);
      return;
    }
    ++b.decided;
    if (observer_) observer_->decided(decider_, raw);
    if (s_.write) {
      writer_.set_buffer(b.out);
      writer_.record(decider_.frame(), raw.number, s_.decide.explain ? &decider_.explanation() : nullptr);
    }
    for (size_t k = 0; k < tallied_.size(); ++k) {
      const eval::Value& v = decider_.frame().slots[tallied_[k].slot];
      auto& counts = b.counts[k];
      ++counts[eval::is_missing(v) ? counts.size() - 1 : static_cast<size_t>(v.n)];
    }
  }

  // Parses and decides a whole chunk, with the records' numbers and lines as
  // the input gave them.
  void process_chunk(Chunk& c, const io::Reader& like, std::string out) {
    c.block.out = std::move(out);  // a buffer used before: grown, and its pages in memory
    c.block.out.clear();
    auto reader = like.chunk_reader(std::move(c.data));
    c.data.clear();
    io::RawRecord raw;
    if (c.plain) {
      for (uint64_t k = 0; k < c.run.records; ++k) {
        if (!reader->next(raw)) throw InternalError("a chunk holds fewer records than were cut");
        raw.number = c.run.first_number + k;
        raw.line = c.run.first_line + raw.line - 1;  // the chunk's lines count from 1
        process(raw, c.block);
      }
      if (reader->next(raw)) throw InternalError("a chunk holds more records than were cut");
      finish(c.block);
      return;
    }
    for (size_t k = 0; k < c.numbers.size(); ++k) {
      if (c.presets[k]) {
        ++c.block.read;
        reject({c.numbers[k], c.lines[k], c.presets[k]->key, {c.presets[k]->column, c.presets[k]->reason}}, c.block);
        continue;
      }
      if (!reader->next(raw)) throw InternalError("a chunk holds fewer records than were cut");
      raw.number = c.numbers[k];
      raw.line = c.lines[k];
      process(raw, c.block);
    }
    finish(c.block);
  }

 private:
  const StreamOptions& s_;
  const eval::Program& program_;
  Decider decider_;
  std::string scratch_;
  io::RecordWriter writer_;
  std::vector<eval::Output> tallied_;
  std::unique_ptr<Observer> observer_;

  void reject(const RejectedRecord& r, Block& b) {
    ++b.rejected;
    if (observer_) observer_->rejected(r);
    if (s_.write) b.err += s_.errors_as_json ? io::rejection_json(r.record, r.line, r.key, r.why) : rejection_text(r);
  }
};

// Worker threads taking chunks in order of submission. A finished chunk is
// delivered (`deliver`, in input order) by whichever worker finds it next
// in line, so that writing the results is shared by the workers rather than
// left to the thread cutting the input; deliveries never overlap.
class Pool {
 public:
  using Deliver = std::function<void(Chunk&)>;
  // Starts up to `threads` workers: as many as the system allows, at least
  // one (else it throws std::system_error).
  Pool(const RuleSet& rules, const StreamOptions& s, unsigned threads, Deliver deliver) : deliver_(std::move(deliver)) {
    for (unsigned i = 0; i < threads; ++i) {
      try {
        start(rules, s);
      } catch (const std::system_error&) {
        if (threads_.empty()) throw;
        break;
      }
    }
  }
  void start(const RuleSet& rules, const StreamOptions& s) {
    threads_.emplace_back([this, &rules, &s] {
      Worker worker(rules, s);
      for (;;) {
        Job* job = nullptr;
        std::string out;
        {
          std::unique_lock lock(mutex_);
          wake_.wait(lock, [&] { return stop_ || next_ < jobs_.size(); });
          if (next_ >= jobs_.size()) return;
          job = jobs_[next_++].get();
          if (!spare_.empty()) {
            out = std::move(spare_.back());
            spare_.pop_back();
          }
        }
        try {
          worker.process_chunk(*job->chunk, *job->reader, std::move(out));
        } catch (...) {
          job->failure = std::current_exception();
        }
        {
          std::unique_lock lock(mutex_);
          job->done = true;
          deliver_ready(lock);
        }
        done_.notify_all();
      }
    });
  }
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Queues a chunk; waits while 2 × threads chunks are not yet delivered.
  // Throws what a chunk or its delivery threw.
  void submit(std::unique_ptr<Chunk> chunk, const io::Reader& reader) {
    {
      std::unique_lock lock(mutex_);
      jobs_.push_back(std::make_unique<Job>(Job{std::move(chunk), &reader, false, nullptr}));
    }
    wake_.notify_one();
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return failure_ || jobs_.size() - delivered_ < 2 * threads_.size(); });
    if (failure_) std::rethrow_exception(failure_);
  }
  // Waits until every chunk is delivered; throws as submit.
  void finish() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return failure_ || delivered_ == jobs_.size(); });
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  struct Job {
    std::unique_ptr<Chunk> chunk;
    const io::Reader* reader;
    bool done;
    std::exception_ptr failure;
  };
  Deliver deliver_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<std::unique_ptr<Job>> jobs_;  // delivered jobs leave null entries behind
  size_t next_ = 0, taken_ = 0, delivered_ = 0;
  bool delivering_ = false;
  std::exception_ptr failure_;       // the first failure: nothing is delivered after it
  std::vector<std::string> spare_;  // output buffers to reuse
  bool stop_ = false;
  std::vector<std::thread> threads_;

  // Delivers the chunks next in line that are done, unless another thread
  // is delivering (it takes them after its own). Called with `lock` held.
  void deliver_ready(std::unique_lock<std::mutex>& lock) {
    while (!delivering_ && !failure_ && !stop_ && taken_ < jobs_.size() && jobs_[taken_]->done) {
      std::unique_ptr<Job> job = std::move(jobs_[taken_++]);
      delivering_ = true;
      lock.unlock();
      std::exception_ptr failed = job->failure;
      if (!failed) {
        try {
          deliver_(*job->chunk);
        } catch (...) {
          failed = std::current_exception();
        }
      }
      std::string out = std::move(job->chunk->block.out);
      job.reset();
      lock.lock();
      delivering_ = false;
      ++delivered_;
      if (failed) failure_ = failed;
      if (!failed && spare_.size() < 2 * threads_.size() + 2) {
        out.clear();
        spare_.push_back(std::move(out));
      }
    }
  }
};

}  // namespace

std::string rejection_text(const RejectedRecord& r) {
  return fmt::format("rejected record {}{}{}: {}{}\n", r.record, r.line ? fmt::format(" (line {})", r.line) : "",
                     r.key.empty() ? "" : fmt::format(" key {}", r.key),
                     r.why.column.empty() ? "" : fmt::format("{} {}{}: ", r.why.kind.empty() ? "column" : r.why.kind, r.why.column,
                                                             r.why.at.empty() ? "" : " (" + r.why.at + ")"),
                     r.why.reason);
}

Tally::Tally(const eval::Program& program) {
  for (const auto& o : program.outputs) {
    if (tallied(o)) decisions.push_back({o.name, o.type, o.slot, {}});
  }
}

void Tally::add(const Block& b) {
  read += b.read;
  decided += b.decided;
  rejected += b.rejected;
  for (size_t k = 0; k < b.counts.size() && k < decisions.size(); ++k) {
    for (size_t v = 0; v < b.counts[k].size(); ++v) {
      if (!b.counts[k][v]) continue;
      int64_t code = v + 1 == b.counts[k].size() ? -1 : static_cast<int64_t>(v);
      decisions[k].counts[code] += b.counts[k][v];
    }
  }
}

void stream(const RuleSet& rules, io::Reader& reader, const StreamOptions& options,
            const std::function<void(Block&)>& sink) {
  std::unique_ptr<io::Reader> probe = reader.chunk_reader(std::string());
  if (options.threads <= 1 || !probe) {
    // One thread: decide as the records come.
    Worker worker(rules, options);
    io::RawRecord raw;
    Block b;
    while (reader.next(raw)) {
      worker.process(raw, b);
      b.bytes += raw.source.size();
      if (b.out.size() + b.err.size() >= kBlockOut || b.read >= 65536) {
        worker.finish(b);
        sink(b);
        std::string out = std::move(b.out);  // kept: grown, and its pages in memory
        out.clear();
        b = Block();
        b.out = std::move(out);
      }
    }
    worker.finish(b);
    sink(b);
    return;
  }
  // Several threads: this thread cuts the input into chunks of whole
  // records; workers parse, decide and format them; the results are
  // delivered in input order.
  Pool pool(rules, options, options.threads, [&](Chunk& done) { sink(done.block); });
  io::Binder keys(rules.program());
  io::RawRecord raw;
  auto chunk = std::make_unique<Chunk>();
  auto submit = [&]() {
    pool.submit(std::move(chunk), reader);
    chunk = std::make_unique<Chunk>();
  };
  auto spare = std::make_unique<Chunk>();
  for (;;) {
    // Plain lines are cut without reading them (Reader::cut), into chunks of
    // their own; the others are read here, one record at a time, and handed
    // on as their bytes.
    size_t had = chunk->data.size();
    bool cut = false;
    if (chunk->numbers.empty()) {
      cut = reader.cut(chunk->data, chunk->run, std::max<size_t>(kChunkIn - std::min(had, kChunkIn), kChunkIn / 8));
    } else if (reader.cut(spare->data, spare->run, kChunkIn)) {
      submit();  // the records read one by one first
      chunk = std::exchange(spare, std::make_unique<Chunk>());
      had = 0;
      cut = true;
    }
    if (cut) {
      chunk->plain = true;
      chunk->block.bytes += chunk->data.size() - had;
      if (chunk->data.size() >= kChunkIn / 2 || chunk->run.records >= 65536) submit();
      continue;
    }
    if (chunk->plain) submit();  // a record to read here: after the lines cut before it
    if (!reader.next(raw)) break;
    chunk->numbers.push_back(raw.number);
    chunk->lines.push_back(raw.line);
    chunk->block.bytes += raw.source.size();
    if (!raw.error.empty()) {
      // Already known to be rejected: its reason goes on, not its bytes.
      chunk->presets.push_back(Preset{keys.key_text(raw), raw.error_column, raw.error});
    } else {
      chunk->presets.emplace_back();
      chunk->data.append(raw.source);
      if (reader.needs_record_separator()) chunk->data += '\n';
    }
    if (chunk->data.size() >= kChunkIn || chunk->numbers.size() >= 65536) submit();
  }
  if (!chunk->numbers.empty() || chunk->plain) submit();
  pool.finish();
}

}  // namespace stratum::engine
