// Capacity limits over a portfolio (`capacity NODE { … }`, docs/language.md).
// A first pass decides every record and keeps, of the customers a limit
// concerns, only what ranks them: memory in proportion to them, not to the
// input. The places are then given out, per capacity and per group, to the
// first by rank (ties by key, then by input order). A second pass decides
// every record again and moves each customer left without a place to the
// capacity's overflow, with the reason, so the output is the same for any
// number of threads.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/stream.hpp"

namespace stratum::engine {

// One capacity's places for one group (one value of `per`).
struct CapacityUse {
  int32_t capacity = -1;
  std::string group;  // the value of `per` as text; empty without `per` (and for a capacity nobody competed for)
  uint64_t competing = 0, kept = 0;
  bool grouped = true;  // false: the customers without a value of `per` ("(no value)")
};

class CapacityPlan {
 public:
  // Pass one: decides every record of `reader` (opened with the rules'
  // columns) and gives out the places. Throws what stream() throws.
  static CapacityPlan make(const RuleSet& rules, io::Reader& reader, const StreamOptions& options);

  // Pass two, for a customer `decider` has just decided (record number
  // `record`): when a limit left it no place, its segment (or only its
  // plan) becomes the overflow's and `capacity` says why. False, with `why`,
  // when its plan then cannot be evaluated.
  bool apply(Decider& decider, uint64_t record, Rejection& why) const;

  // Per capacity and group: capacities in declaration order (each at least
  // once), groups by their text, the customers without a value last.
  const std::vector<CapacityUse>& usage() const { return usage_; }
  // The usage as `stratum eval --summary` prints it.
  std::string summary(const eval::Program& program) const;

 private:
  struct Moved {
    int32_t use = -1;       // index into usage_
    uint64_t position = 0;  // 1-based rank in its group
  };
  std::unordered_map<uint64_t, Moved> moved_;  // by record number
  std::vector<CapacityUse> usage_;
};

}  // namespace stratum::engine
