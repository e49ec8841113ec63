#include "engine/decider.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/versions.hpp"

namespace stratum::engine {

Decider::Decider(const RuleSet& rules, const Options& options) : Decider(rules.program(), options) {}

Decider::Decider(const eval::Program& program, const Options& options)
    : program_(program), options_(options), frame_(program.make_frame()), binder_(program) {
  if (options.as_of) {
    frame_.today = *options.as_of;
    frame_.has_today = true;
  }
  binder_.set_max_field(options.max_field);
  if (options.explain) frame_.trace = &trace_;
}

bool Decider::bind(const io::RawRecord& raw, Rejection& why) {
  program_.reset(frame_);
  trace_.clear();
  return binder_.bind(raw, frame_, why);
}

bool Decider::evaluate(Part part, Rejection& why) {
  for (const auto& o : program_.outputs) {
    if ((part == Part::decisions && o.plan) || (part == Part::plan && !o.plan)) continue;
    try {
      program_.slot(frame_, o.slot);
    } catch (const eval::EvalError& e) {
      why = {e.decision.empty() ? o.name : e.decision, e.what(), e.at, e.decision.empty() ? "decision" : e.kind};
      return false;
    }
  }
  return true;
}

bool Decider::decide(const io::RawRecord& raw, Rejection& why) {
  if (!bind(raw, why) || !evaluate(Part::all, why)) return false;
  if (options_.explain) {
    try {
      program_.explain_plan(frame_, trace_);
    } catch (const eval::EvalError& e) {
      why = {e.decision, e.what(), e.at, e.kind};
      return false;
    }
  }
  return true;
}

Explanation explain(Decider& decider, const io::RawRecord& raw) {
  using Outcome = Explanation::Outcome;
  Explanation e;
  e.key = decider.key_text(raw);
  if (!decider.bind(raw, e.why)) {
    e.outcome = Outcome::rejected_binding;
    return e;
  }
  bool decided = decider.evaluate(Decider::Part::decisions, e.why);
  e.trace = decider.explanation();
  if (!decided) {
    e.outcome = Outcome::rejected_decision;
    return e;
  }
  const eval::Program& program = decider.program();
  // Plans of segments, and conditional plans (a file without a segment tree may have those alone).
  bool planned = std::any_of(program.outputs.begin(), program.outputs.end(), [](const eval::Output& o) { return o.plan; });
  if (planned) {
    if (!decider.evaluate(Decider::Part::plan, e.why)) {
      e.trace = decider.explanation();  // with what the failing item read
      e.outcome = Outcome::rejected_plan;
      return e;
    }
    try {
      program.explain_plan(decider.frame(), e.plan);
    } catch (const eval::EvalError& error) {
      e.plan.clear();
      e.why = {error.decision, error.what(), error.at, error.kind};
      e.outcome = Outcome::rejected_plan;
    }
  }
  return e;
}

std::string render(const Explanation& e, const RuleSet& rules, const std::string& rules_path, const std::string& as_of) {
  using Outcome = Explanation::Outcome;
  const eval::Program& p = rules.program();
  std::string out = fmt::format("customer {}  ({}{})\nrules {}, hash {}\n\n", e.key.empty() ? "(no key)" : e.key, rules_path,
                                as_of.empty() ? "" : ", as of " + as_of, describe(p.ruleset, p.version, p.effective),
                                rules.hash());
  if (e.outcome == Outcome::rejected_binding) {
    out += fmt::format("rejected: {}{}\n", e.why.column.empty() ? "" : "column " + e.why.column + ": ", e.why.reason);
    return out;
  }
  for (const auto& line : e.trace) out += line + "\n";
  if (e.outcome == Outcome::rejected_decision || e.outcome == Outcome::rejected_plan) {
    out += fmt::format("\nrejected at {} `{}`{}: {}\n", e.why.kind, e.why.column, e.why.at.empty() ? "" : " (" + e.why.at + ")", e.why.reason);
  } else if (!e.plan.empty()) {
    out += "\nservice plan\n";
    for (const auto& line : e.plan) out += "  " + line + "\n";
  }
  return out;
}

}  // namespace stratum::engine
