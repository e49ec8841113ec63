#include "engine/decider.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/previous.hpp"
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
  if (!binder_.bind(raw, frame_, why)) return false;
  if (options_.previous) options_.previous->fill(frame_);
  return true;
}

bool Decider::evaluate(Part part, Rejection& why) {
  if (options_.native && part != Part::plan && native::Library::applies(frame_) && &options_.native->program() == &program_) {
    if (options_.native->evaluate(frame_, part == Part::all)) return true;
  }
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

std::vector<uint8_t> fixed_fields(const eval::Program& program, const std::vector<std::string>& names) {
  std::vector<uint8_t> out(program.fields.size(), 0);
  for (const auto& name : names) {
    auto it = std::find_if(program.fields.begin(), program.fields.end(), [&](const eval::Field& f) { return f.name == name; });
    if (it == program.fields.end()) {
      std::string fields;
      for (size_t i = 0; i < program.fields.size(); ++i) fields += (i ? ", " : "") + program.fields[i].name;
      throw std::invalid_argument(fmt::format("`{}` is not an input field (the fields: {})", name, fields));
    }
    out[it - program.fields.begin()] = 1;
  }
  return out;
}

void add_nearest(Decider& decider, Explanation& e, const std::vector<uint8_t>& fixed) {
  const eval::Program& program = decider.program();
  e.fixed.clear();
  for (size_t i = 0; i < program.fields.size(); ++i) {
    if (program.fields[i].fixed || (i < fixed.size() && fixed[i])) e.fixed.push_back(program.fields[i].name);
  }
  if (e.outcome != Explanation::Outcome::decided) return;  // a rejected customer: the rejection, as without
  Nearest search(program);
  e.nearest = search.find(decider.frame(), fixed);
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
  if (e.nearest) {
    std::string fixed;
    for (const auto& f : e.fixed) fixed += (fixed.empty() ? "" : ", ") + f;
    out += fmt::format("\nnearest: one field changed{}\n", fixed.empty() ? "" : " (fixed: " + fixed + ")");
    const Counterfactuals& n = *e.nearest;
    std::vector<std::string> outputs;
    for (const auto& m : n.moves) if (std::find(outputs.begin(), outputs.end(), m.output) == outputs.end()) outputs.push_back(m.output);
    for (const auto& r : n.out_of_reach) if (std::find(outputs.begin(), outputs.end(), r.output) == outputs.end()) outputs.push_back(r.output);
    if (outputs.empty()) out += "  no other segment or decision value is reached by changing one field\n";
    for (const auto& name : outputs) {
      for (const auto& m : n.moves) if (m.output == name) out += "  " + m.text + "\n";
      for (const auto& r : n.out_of_reach) {
        if (r.output != name) continue;
        std::string values;
        for (const auto& v : r.values) values += (values.empty() ? "" : ", ") + v;
        out += fmt::format("  {}out of reach in one change: {}\n", name == "segment" ? "" : name + " ", values);
      }
    }
    for (const auto& note : n.notes) out += "  (" + note + ")\n";
  }
  return out;
}

}  // namespace stratum::engine
