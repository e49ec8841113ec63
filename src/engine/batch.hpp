// Deciding a batch of records already in memory (a DataFrame's rows, a
// request's list) on several threads: the rows are split into contiguous
// runs, one per thread, each thread with its own Decider. Every row is
// either decided or rejected, exactly once.
#pragma once

#include <functional>

#include "engine/decider.hpp"

namespace stratum::engine {

struct BatchOptions {
  Options decide;
  unsigned threads = 1;      // at most; fewer for small batches
  size_t rows_per_thread = 4096;  // a thread is started for at least this many rows
};

// How a batch is split: thread k decides rows [begin(k), begin(k + 1)).
struct BatchSplit {
  size_t rows = 0;
  unsigned threads = 1;
  size_t begin(unsigned k) const { return rows * k / threads; }
};

struct BatchCalls {
  // Fills `raw.fields` (already sized to the rules' fields) with row `row`.
  // False when a value cannot be a field: `why` says which and why, and the
  // key field is filled when readable (else left absent) so the rejection
  // can name it.
  std::function<bool(unsigned thread, size_t row, io::RawRecord& raw, Rejection& why)> fill;
  // Row `row` is decided: the decider's frame holds its results.
  std::function<void(unsigned thread, size_t row, const Decider& decider)> decided;
  // Row `row` is rejected (`record` is row + 1).
  std::function<void(unsigned thread, size_t row, RejectedRecord&& rejected)> rejected;
};

// The split decide_batch will use for `rows` rows.
BatchSplit split_batch(size_t rows, const BatchOptions& options);

// Decides rows 0 … rows − 1; the calls run on the threads (thread 0 is the
// caller's). Returns when every row is done; rethrows the first failure of
// any thread (not a rejection: an internal error or running out of memory).
void decide_batch(const RuleSet& rules, size_t rows, const BatchOptions& options, const BatchCalls& calls);

}  // namespace stratum::engine
