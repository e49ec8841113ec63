// Decider: decides customers one at a time with a RuleSet — binds a record's
// fields to the rules' inputs, evaluates every decision, and either leaves
// the results in its frame or says why the record is rejected. One per
// thread: it owns the frame and buffers a decision works in. Every front end
// (eval, explain, diff, the Python module) decides through it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/nearest.hpp"
#include "engine/rule_set.hpp"
#include "io/bind.hpp"
#include "io/record.hpp"
#include "native/library.hpp"

namespace stratum::engine {

class PreviousRun;

struct Options {
  std::optional<int32_t> as_of;  // the day `today` stands for (days since 1970-01-01)
  bool explain = false;          // keep each customer's explanation
  size_t max_field = io::RecordLimits{}.max_field;  // the longest value accepted, in bytes
  // The previous period's run, for stability rules (none: every customer is new).
  std::shared_ptr<const PreviousRun> previous;
  // The rules compiled ahead of time (`stratum build --native`), loaded for
  // the same program: customers not explained are decided through it
  // (what it leaves, and every rejection, by the interpreter).
  std::shared_ptr<const native::Library> native;
};

// Why a record was not decided: the column (empty: the whole record) and the reason.
using Rejection = io::Rejection;

// A rejected record, as a value: where it was, its key, and why.
struct RejectedRecord {
  uint64_t record = 0;  // 1-based, counting every record read
  uint64_t line = 0;    // 0 when the input is not line-based
  std::string key;
  Rejection why;
};

class Decider {
 public:
  explicit Decider(const RuleSet& rules, const Options& options = {});
  explicit Decider(const eval::Program& program, const Options& options = {});

  // Binds the record and evaluates every decision. True: decided, and the
  // results are in frame() until the next call. False: `why` says why not.
  // With Options::explain, explanation() then holds the trace and the plan.
  bool decide(const io::RawRecord& raw, Rejection& why);

  // The two steps of decide(), for a front end that shows them apart.
  bool bind(const io::RawRecord& raw, Rejection& why);
  enum class Part { all, decisions, plan };  // plan: the service plan's items alone
  bool evaluate(Part part, Rejection& why);

  const eval::Frame& frame() const { return frame_; }
  eval::Frame& frame() { return frame_; }
  const std::vector<std::string>& explanation() const { return trace_; }
  std::vector<std::string>& explanation() { return trace_; }
  // The record's key as text, or empty.
  std::string key_text(const io::RawRecord& raw) const { return binder_.key_text(raw); }
  const eval::Program& program() const { return program_; }
  const Options& options() const { return options_; }

 private:
  const eval::Program& program_;
  Options options_;
  eval::Frame frame_;
  io::Binder binder_;
  std::vector<std::string> trace_;
};

// One customer explained: the trace of every decision, then the service
// plan and where each of its items comes from.
struct Explanation {
  std::string key;
  // decided; or rejected when binding the fields, evaluating a decision
  // (why.column names it), or evaluating the service plan.
  enum class Outcome { decided, rejected_binding, rejected_decision, rejected_plan } outcome = Outcome::decided;
  Rejection why;
  std::vector<std::string> trace;  // the decisions, line by line
  std::vector<std::string> plan;   // the service plan's items
  // With add_nearest(): what one changed field would move the customer to.
  std::optional<Counterfactuals> nearest;
  std::vector<std::string> fixed;  // the fields not moved (the rules' `fixed` and those asked for)
};

// Decides `raw` and explains it. `decider` must have Options::explain set.
Explanation explain(Decider& decider, const io::RawRecord& raw);

// Per field slot, 1 for the fields named (for add_nearest). Throws
// std::invalid_argument naming one that is not an input field.
std::vector<uint8_t> fixed_fields(const eval::Program& program, const std::vector<std::string>& names);

// After explain(): for a decided customer (the decider still holds it), each
// other segment and value of an enum or bool decision one changed field
// reaches, with the smallest change (analysis/nearest.hpp). `fixed` (per
// field slot, may be empty) adds fields not to move to the rules' own.
void add_nearest(Decider& decider, Explanation& e, const std::vector<uint8_t>& fixed = {});

// The explanation as `stratum explain` prints it: the heading names the
// customer, the rule file and the evaluation date (`as_of`, may be empty),
// then the rule set's name, version and content hash.
std::string render(const Explanation& e, const RuleSet& rules, const std::string& rules_path, const std::string& as_of);

}  // namespace stratum::engine
