// Streaming a whole input through a rule set on every core: the input is cut
// into blocks of whole records on the calling thread, worker threads parse,
// decide and format each block, and the blocks come back in input order, so
// the output is the same for any number of threads. Every record read is
// either decided or rejected: read = decided + rejected, always.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/decider.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"

namespace stratum::engine {

struct RejectedRecord;

// What an observer found in one block of records; travels with the block to
// the calling thread, where the findings of every block are joined in input
// order.
struct Findings {
  virtual ~Findings() = default;
};

// Looks at each customer as it is decided, on the worker thread that decided
// it (one observer per worker): for reports over a whole portfolio.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void decided(const Decider& decider, const io::RawRecord& raw) = 0;
  virtual void rejected(const RejectedRecord& record) = 0;
  // What was found since the last call.
  virtual std::unique_ptr<Findings> take() = 0;
};

struct StreamOptions {
  Options decide;
  io::OutputFormat format = io::OutputFormat::jsonl;
  bool errors_as_json = false;  // rejections as JSON Lines, else as lines of text
  unsigned threads = 1;
  bool write = true;            // format the decided customers and the rejections (Block::out, err)
  bool keep_input = false;      // each decided record carries its input fields (io::RecordWriter::set_keep_input)
  std::optional<io::Provenance> provenance;  // each decided record says which rules decided it
  // Makes each worker's observer, given the worker's decider (null: none).
  std::function<std::unique_ptr<Observer>(Decider&)> observe;
  // Called for each decided customer before it is counted, observed or
  // written (capacity limits move some); false rejects it with `why`.
  std::function<bool(Decider&, const io::RawRecord&, Rejection&)> adjust;
};

// Sets a writer up as the options say (explanations, input fields, provenance).
void configure(io::RecordWriter& writer, const StreamOptions& s);

// A run of records, once decided: the decided customers formatted for the
// output, the rejections formatted for the errors, and the counts.
struct Block {
  std::string out, err;
  uint64_t read = 0, decided = 0, rejected = 0;
  size_t bytes = 0;  // input bytes the block covers
  std::vector<std::vector<uint64_t>> counts;  // per tallied decision: by code, then "no value"
  std::unique_ptr<Findings> findings;         // the observer's, when StreamOptions::observe is set
};

// The distribution of each enum and boolean decision over the decided customers.
struct Tally {
  struct Decision {
    std::string name;
    Type type;
    int32_t slot;
    std::map<int64_t, uint64_t> counts;  // by enum code or 0/1; -1: no value
  };
  explicit Tally(const eval::Program& program);
  void add(const Block& b);
  uint64_t read = 0, decided = 0, rejected = 0;
  std::vector<Decision> decisions;
};

// Decides every record of `reader` (opened with the rules' columns). `sink`
// receives each block in input order, one call at a time: on the calling
// thread with one thread, else on the worker that finished the block next in
// line. Throws what the reader throws (I/O errors) and what `sink` throws.
void stream(const RuleSet& rules, io::Reader& reader, const StreamOptions& options,
            const std::function<void(Block&)>& sink);

// The text line of one rejection, as `stratum eval` lists them on standard error.
std::string rejection_text(const RejectedRecord& r);

}  // namespace stratum::engine
