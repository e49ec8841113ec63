#include "engine/batch.hpp"

#include <algorithm>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace stratum::engine {

BatchSplit split_batch(size_t rows, const BatchOptions& options) {
  size_t per = std::max<size_t>(1, options.rows_per_thread);
  size_t most = (rows + per - 1) / per;
  BatchSplit split;
  split.rows = rows;
  split.threads = static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(std::max(1u, options.threads), most)));
  return split;
}

void decide_batch(const RuleSet& rules, size_t rows, const BatchOptions& options, const BatchCalls& calls) {
  const eval::Program& p = rules.program();
  BatchSplit split = split_batch(rows, options);
  std::vector<std::exception_ptr> failures(split.threads);
  auto work = [&](unsigned k) {
    try {
      Decider decider(rules, options.decide);
      io::RawRecord raw;
      raw.fields.resize(p.fields.size());
      for (size_t r = split.begin(k), end = split.begin(k + 1); r < end; ++r) {
        raw.number = r + 1;
        Rejection why;
        if (!calls.fill(k, r, raw, why) || !decider.decide(raw, why)) {
          calls.rejected(k, r, RejectedRecord{r + 1, 0, decider.key_text(raw), std::move(why)});
          continue;
        }
        calls.decided(k, r, decider);
      }
    } catch (...) {
      failures[k] = std::current_exception();
    }
  };
  // A thread the system will not start (a process or memory limit): its
  // rows are decided on this thread instead.
  std::vector<std::thread> pool;
  std::vector<unsigned> here{0};
  for (unsigned k = 1; k < split.threads; ++k) {
    try {
      pool.emplace_back(work, k);
    } catch (const std::system_error&) {
      here.push_back(k);
    }
  }
  for (unsigned k : here) work(k);
  for (auto& t : pool) t.join();
  for (auto& f : failures) {
    if (f) std::rethrow_exception(f);
  }
}

}  // namespace stratum::engine
