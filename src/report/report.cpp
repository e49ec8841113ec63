#include "report/report.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "engine/capacity.hpp"
#include "engine/decider.hpp"
#include "engine/stream.hpp"
#include "io/readers.hpp"
#include "value/date.hpp"

namespace stratum::report {

namespace {

using json = nlohmann::ordered_json;

// The slot's type: a field's or a derived value's.
Type slot_type(const eval::Program& p, int32_t slot) {
  if (slot < 0) return Type::of(BaseType::error);
  if (static_cast<size_t>(slot) < p.fields.size()) return p.fields[slot].type;
  return p.derived[slot - p.fields.size()].type;
}

std::string slot_name(const eval::Program& p, int32_t slot) {
  if (static_cast<size_t>(slot) < p.fields.size()) return p.fields[slot].name;
  return p.derived[slot - p.fields.size()].name;
}

// A number to draw (charts need no more than a double's precision).
bool plottable(const Type& t) {
  return !t.is_set && (t.is_number_like() || t.base == BaseType::date || t.base == BaseType::days || t.base == BaseType::months);
}
double to_double(const eval::Value& v, const Type& t) {
  if (t.is_number_like()) return static_cast<double>(v.n) / static_cast<double>(Decimal::kScale);
  if (t.base == BaseType::months) return static_cast<double>(eval::duration_months(v.n));
  return static_cast<double>(v.n);
}

// A well-mixed 64-bit hash of a record's number: the grid samples keep the
// customers with the smallest, so a sample does not depend on the threads.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct Point {
  uint64_t rank;
  double x, y;
  int32_t row;
  bool operator<(const Point& o) const { return rank < o.rank; }
};

// The k points of smallest rank, as a max-heap on rank.
struct Sample {
  std::priority_queue<Point> heap;
  void add(const Point& p, size_t k) {
    if (heap.size() < k) heap.push(p);
    else if (k > 0 && p.rank < heap.top().rank) {
      heap.pop();
      heap.push(p);
    }
  }
};

struct Grid {
  int32_t table = -1;
  int32_t x_slot = -1, y_slot = -1;
  Type x_type, y_type;
};

// How many distinct values of a plan item, and rejection reasons, are kept
// while the portfolio streams (memory stays flat beyond them).
constexpr size_t kPlanValuesKept = 1000;
constexpr size_t kReasonsKept = 10000;

struct Reason {
  uint64_t count = 0;
  std::vector<std::string> samples;
  std::string example;  // the first record's reason, whole
};

// A rejection's reason without the values it quotes ("\"168万\" is not a
// number" → "\"…\" is not a number"), so that records rejected for the same
// reason are counted together.
std::string reason_kind(const std::string& reason) {
  std::string out;
  out.reserve(reason.size());
  for (size_t i = 0; i < reason.size(); ++i) {
    if (reason[i] == '"') {
      size_t end = reason.find('"', i + 1);
      if (end != std::string::npos) {
        out += "\"…\"";
        i = end;
        continue;
      }
    }
    out += reason[i];
  }
  return out;
}

// What one block of customers showed.
struct BlockFindings : engine::Findings {
  std::vector<uint64_t> hits;                             // per coverage point: decided customers
  std::vector<uint64_t> hits_all;                         // per coverage point: every customer (coverage)
  std::vector<std::map<std::string, uint64_t>> plan;      // per plan item: by value
  std::vector<Sample> samples;                            // per grid
  std::vector<std::map<int64_t, uint64_t>> scores;        // per scorecard: by whole score
  std::vector<uint64_t> migration;                        // previous × current, row-major
  std::map<std::string, Reason> reasons;                  // rejections: by column and reason
};

struct Previous {
  std::vector<std::string> labels;                        // the previous values, in order seen
  std::unordered_map<std::string, std::pair<int32_t, size_t>> by_key;  // key → (label, record index)
  std::unique_ptr<std::atomic<uint8_t>[]> seen;           // per previous record: met again
  size_t records = 0;
  uint64_t duplicates = 0;
  uint64_t without_key = 0;
};

// The shape of the report: which outputs, grids and scorecards it follows.
struct Plan {
  const eval::Program* program = nullptr;
  std::vector<int32_t> plan_outputs;   // indexes into program.outputs
  std::vector<Grid> grids;
  std::vector<int32_t> scorecards;     // slot of each scorecard's score
  std::vector<int32_t> scorecard_index;
  int32_t migration_output = -1;       // the output compared with the previous run
  std::vector<std::string> current_labels;
  const Previous* previous = nullptr;
  const Options* options = nullptr;
};

class Collector : public engine::Observer {
 public:
  Collector(const Plan& plan, engine::Decider& decider) : plan_(plan), program_(*plan.program) {
    fresh();
    decider.frame().reached = &reached_;
    decider_ = &decider;
  }

  void decided(const engine::Decider& d, const io::RawRecord& raw) override {
    eval::Frame& frame = decider_->frame();
    // What a decided customer reached: for the cells, bins and coverage.
    for (int32_t p : reached_) {
      ++f_->hits[p];
      ++f_->hits_all[p];
    }
    reached_.clear();
    for (size_t k = 0; k < plan_.plan_outputs.size(); ++k) {
      const eval::Output& o = program_.outputs[plan_.plan_outputs[k]];
      const eval::Value& v = frame.slots[o.slot];
      ++f_->plan[k][eval::is_missing(v) ? std::string("(none)") : program_.format(v, o.type)];
    }
    for (size_t g = 0; g < plan_.grids.size(); ++g) {
      const Grid& grid = plan_.grids[g];
      int32_t row = frame.table_hit[grid.table];
      if (row < 0) continue;
      const eval::Value& x = frame.slots[grid.x_slot];
      const eval::Value& y = frame.slots[grid.y_slot];
      if (frame.state[grid.x_slot] == 0 || frame.state[grid.y_slot] == 0 || eval::is_missing(x) || eval::is_missing(y)) continue;
      f_->samples[g].add({mix(raw.number), to_double(x, grid.x_type), to_double(y, grid.y_type), row}, plan_.options->grid_sample);
    }
    for (size_t s = 0; s < plan_.scorecards.size(); ++s) {
      int32_t slot = plan_.scorecards[s];
      if (frame.state[slot] != 2 || eval::is_missing(frame.slots[slot])) continue;
      double score = to_double(frame.slots[slot], slot_type(program_, slot));
      ++f_->scores[s][static_cast<int64_t>(std::floor(score))];
    }
    if (plan_.previous) {
      size_t width = plan_.current_labels.size() + 2;  // then (rejected), (gone)
      size_t to = plan_.current_labels.size();          // "(none)" when missing
      const eval::Output& o = program_.outputs[plan_.migration_output];
      const eval::Value& v = frame.slots[o.slot];
      if (!eval::is_missing(v)) to = static_cast<size_t>(v.n);
      migrate(d.key_text(raw), to, width);
    }
  }

  void rejected(const engine::RejectedRecord& r) override {
    // A rejected customer's branches count for coverage only (a `reject`
    // branch is reached), never in a grid's cells or a scorecard's bins.
    for (int32_t p : reached_) ++f_->hits_all[p];
    reached_.clear();
    std::string whole = r.why.column.empty() ? r.why.reason : r.why.column + ": " + r.why.reason;
    std::string reason = reason_kind(whole);
    auto it = f_->reasons.try_emplace(reason).first;
    if (it->second.count++ == 0) it->second.example = whole;
    if (it->second.samples.size() < plan_.options->rejection_samples) {
      it->second.samples.push_back(r.key.empty() ? fmt::format("record {}", r.record) : r.key);
    }
    if (plan_.previous) migrate(r.key, plan_.current_labels.size() + 1, plan_.current_labels.size() + 2);
  }

  std::unique_ptr<engine::Findings> take() override {
    auto out = std::move(f_);
    fresh();
    return out;
  }

 private:
  const Plan& plan_;
  const eval::Program& program_;
  engine::Decider* decider_ = nullptr;
  std::unique_ptr<BlockFindings> f_;
  std::vector<int32_t> reached_;  // the coverage points the customer at hand reached

  void fresh() {
    f_ = std::make_unique<BlockFindings>();
    f_->hits.assign(program_.coverage_points.size(), 0);
    f_->hits_all.assign(program_.coverage_points.size(), 0);
    f_->plan.resize(plan_.plan_outputs.size());
    f_->samples.resize(plan_.grids.size());
    f_->scores.resize(plan_.scorecards.size());
    if (plan_.previous) f_->migration.assign((plan_.previous->labels.size() + 1) * (plan_.current_labels.size() + 2), 0);
  }

  void migrate(const std::string& key, size_t to, size_t width) {
    size_t from = plan_.previous->labels.size();  // (new)
    auto it = plan_.previous->by_key.find(key);
    if (it != plan_.previous->by_key.end()) {
      from = static_cast<size_t>(it->second.first);
      plan_.previous->seen[it->second.second].store(1, std::memory_order_relaxed);
    }
    ++f_->migration[from * width + to];
  }
};

// Reads a previous run's decisions: each record's key and the value of the
// decision compared.
void read_previous(const std::string& path, const std::string& key_column, const std::string& decision,
                   const std::vector<std::string>& labels, const io::RecordLimits& limits, Previous& out) {
  auto format = io::format_from_name(path);
  if (!format) throw std::runtime_error(fmt::format("cannot tell the format of {} (.csv or .jsonl)", path));
  auto reader = io::open_reader(path, *format);
  reader->set_limits(limits);
  if (auto problem = reader->open({key_column, decision}, {true, true})) {
    throw InputProblem(fmt::format("--previous {}: {}", path, *problem));
  }
  // This run's values first, in their order (the matrix's diagonal is then
  // who stayed), then any other the previous run has, as they come.
  std::unordered_map<std::string, int32_t> label_codes;
  for (const auto& l : labels) {
    label_codes.emplace(l, static_cast<int32_t>(out.labels.size()));
    out.labels.push_back(l);
  }
  io::RawRecord raw;
  while (reader->next(raw)) {
    if (!raw.error.empty()) {
      throw InputProblem(fmt::format("--previous {}: record {} (line {}): {}", path, raw.number, raw.line, raw.error));
    }
    if ((raw.fields[0].kind != io::RawKind::text && raw.fields[0].kind != io::RawKind::number) || raw.fields[0].text.empty()) {
      ++out.without_key;
      continue;  // no key: no customer to match
    }
    std::string key(raw.fields[0].text);
    std::string value = raw.fields[1].kind == io::RawKind::null || raw.fields[1].kind == io::RawKind::absent ||
                                raw.fields[1].text.empty()
                            ? "(none)"
                            : std::string(raw.fields[1].text);
    auto [code, added] = label_codes.try_emplace(value, static_cast<int32_t>(out.labels.size()));
    if (added) out.labels.push_back(value);
    if (!out.by_key.try_emplace(key, code->second, out.records).second) ++out.duplicates;
    ++out.records;
  }
  out.seen = std::make_unique<std::atomic<uint8_t>[]>(out.records);
  for (size_t i = 0; i < out.records; ++i) out.seen[i].store(0);
}

// Whether a node's value is the same for every customer: constants and
// `let`s of constants (a grid's bounds are often named: `>= 利润贡献度分界`).
bool constant_node(const eval::Program& p, int32_t node, int depth = 0) {
  if (node < 0 || depth > 64) return node < 0;
  const eval::Node& n = p.nodes[node];
  switch (n.op) {
    case eval::Op::constant: return true;
    case eval::Op::field: case eval::Op::today: case eval::Op::present: case eval::Op::coalesce: return false;
    case eval::Op::derived: {
      if (static_cast<size_t>(n.index) < p.fields.size()) return false;
      const eval::Derived& d = p.derived[n.index - p.fields.size()];
      return d.kind == eval::DerivedKind::let && constant_node(p, d.node, depth + 1);
    }
    default: break;
  }
  if (n.count > 0) {
    for (int32_t i = 0; i < n.count; ++i) {
      if (!constant_node(p, p.args[n.index + i], depth + 1)) return false;
    }
  }
  return constant_node(p, n.a, depth + 1) && constant_node(p, n.b, depth + 1);
}

// A constant bound's value, or none.
std::optional<eval::Value> bound_value(const eval::Program& p, int32_t node) {
  if (!constant_node(p, node)) return std::nullopt;
  try {
    eval::Frame frame = p.make_frame();
    eval::Value v = p.evaluate_node(frame, node);
    if (eval::is_missing(v)) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Decides the portfolio with earlier rules: each record's key and the value
// of the decision compared (or "(rejected)"), as a previous run.
class PreviousCollector : public engine::Observer {
 public:
  struct Found : engine::Findings {
    std::vector<std::pair<std::string, std::string>> keyed;
  };
  PreviousCollector(const eval::Output& output, const eval::Program& program) : output_(output), program_(program) {}
  void decided(const engine::Decider& d, const io::RawRecord& raw) override {
    const eval::Value& v = d.frame().slots[output_.slot];
    f_->keyed.emplace_back(d.key_text(raw), eval::is_missing(v) ? std::string("(none)") : program_.format(v, output_.type));
  }
  void rejected(const engine::RejectedRecord& r) override { f_->keyed.emplace_back(r.key, "(rejected)"); }
  std::unique_ptr<engine::Findings> take() override {
    auto out = std::move(f_);
    f_ = std::make_unique<Found>();
    return out;
  }

 private:
  const eval::Output& output_;
  const eval::Program& program_;
  std::unique_ptr<Found> f_ = std::make_unique<Found>();
};

io::Format input_format(const Options& options) {
  if (options.input_format) {
    if (*options.input_format == "csv") return io::Format::csv;
    if (*options.input_format == "jsonl") return io::Format::jsonl;
    return io::Format::yaml;
  }
  auto f = io::format_from_name(options.input);
  if (!f) throw std::runtime_error(fmt::format("cannot tell the format of {}: add --input-format csv|jsonl|yaml", options.input));
  return *f;
}

std::unique_ptr<io::Reader> open_input(const eval::Program& program, const Options& options) {
  auto reader = io::open_reader(options.input, input_format(options));
  reader->set_limits(options.limits);
  io::Binder binder(program);
  if (auto problem = reader->open(binder.columns(), binder.required())) {
    throw InputProblem(fmt::format("{}: {}", options.input, *problem));
  }
  return reader;
}

void decide_previous(const std::string& rules_path, const std::string& decision, const Options& options, Previous& out) {
  std::shared_ptr<const engine::RuleSet> rules = engine::RuleSet::load(rules_path);
  if (!rules->ok()) {
    throw InputProblem(fmt::format("--previous-rules {} has errors:\n{}", rules_path, rules->compilation().render(false)));
  }
  if (std::string warnings = rules->compilation().render(false); !warnings.empty()) fmt::print(stderr, "{}", warnings);
  const eval::Program& program = rules->program();
  const eval::Output* output = nullptr;
  for (const auto& o : program.outputs) {
    if (o.name == decision && !o.plan) output = &o;
  }
  if (!output) throw InputProblem(fmt::format("--previous-rules {}: the rules decide no `{}` to compare", rules_path, decision));
  if (program.key_field < 0) throw InputProblem(fmt::format("--previous-rules {}: the rules' input has no key field", rules_path));
  if (program.uses_today && !options.as_of) {
    throw std::runtime_error(fmt::format("--previous-rules {}: the rules use `today`: give --as-of", rules_path));
  }
  auto reader = open_input(program, options);
  engine::StreamOptions so;
  so.decide.as_of = options.as_of;
  so.threads = options.threads;
  so.write = false;
  so.observe = [&](engine::Decider&) { return std::make_unique<PreviousCollector>(*output, program); };
  std::unordered_map<std::string, int32_t> label_codes;
  if (output->type.base == BaseType::enum_) {
    for (const auto& m : program.enums[output->type.enum_id].members) {
      label_codes.emplace(m, static_cast<int32_t>(out.labels.size()));
      out.labels.push_back(m);
    }
  }
  engine::stream(*rules, *reader, so, [&](engine::Block& b) {
    auto* f = static_cast<PreviousCollector::Found*>(b.findings.get());
    if (!f) return;
    for (auto& [key, value] : f->keyed) {
      if (key.empty()) {
        ++out.without_key;
        continue;
      }
      auto [code, added] = label_codes.try_emplace(value, static_cast<int32_t>(out.labels.size()));
      if (added) out.labels.push_back(value);
      if (!out.by_key.try_emplace(key, code->second, out.records).second) ++out.duplicates;
      ++out.records;
    }
  });
  out.seen = std::make_unique<std::atomic<uint8_t>[]>(out.records);
  for (size_t i = 0; i < out.records; ++i) out.seen[i].store(0);
}

// A cell's interval on one axis: [low, high), either end open (null).
struct Interval {
  std::optional<double> low, high;
  bool low_closed = true, high_closed = false;
};

Interval interval_of(const eval::Program& p, const eval::Row& row, int32_t column, const Type& type) {
  Interval iv;
  for (const auto& t : row.tests) {
    if (t.column != column) continue;
    // A bound: the constant, or a `let` of constants; one computed per customer is drawn open.
    auto low = [&]() -> std::optional<double> {
      if (t.low_node < 0) return to_double(t.low, type);
      auto v = bound_value(p, t.low_node);
      return v ? std::optional<double>(to_double(*v, type)) : std::nullopt;
    };
    auto high = [&]() -> std::optional<double> {
      if (t.high_node < 0) return to_double(t.high, type);
      auto v = bound_value(p, t.high_node);
      return v ? std::optional<double>(to_double(*v, type)) : std::nullopt;
    };
    switch (t.kind) {
      // A comparison keeps its one bound in `low`, whichever side it bounds.
      case eval::TestKind::lt: iv.high = low(); iv.high_closed = false; break;
      case eval::TestKind::le: iv.high = low(); iv.high_closed = true; break;
      case eval::TestKind::gt: iv.low = low(); iv.low_closed = false; break;
      case eval::TestKind::ge: iv.low = low(); iv.low_closed = true; break;
      case eval::TestKind::eq: iv.low = iv.high = low(); iv.high_closed = true; break;
      case eval::TestKind::range:
        iv.low = low();
        iv.high = high();
        iv.low_closed = t.low_closed;
        iv.high_closed = t.high_closed;
        break;
      default: break;
    }
  }
  return iv;
}

json number_or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// The text after " → " in a grid cell's row text: its result.
std::string cell_result(const std::string& text) {
  size_t at = text.rfind(" → ");
  return at == std::string::npos ? text : text.substr(at + std::string(" → ").size());
}

}  // namespace

json build(const engine::RuleSet& rules, const Options& options) {
  const eval::Program& program = rules.program();
  Plan plan;
  plan.program = &program;
  plan.options = &options;
  for (size_t k = 0; k < program.outputs.size(); ++k) {
    if (program.outputs[k].plan) plan.plan_outputs.push_back(static_cast<int32_t>(k));
  }
  for (size_t t = 0; t < program.tables.size(); ++t) {
    const eval::Table& table = program.tables[t];
    if (!table.grid || table.column_slots.size() != 2) continue;
    Grid g;
    g.table = static_cast<int32_t>(t);
    g.x_slot = table.column_slots[0];  // `grid … by X, Y`: X across, Y up
    g.y_slot = table.column_slots[1];
    if (g.x_slot < 0 || g.y_slot < 0) continue;
    g.x_type = slot_type(program, g.x_slot);
    g.y_type = slot_type(program, g.y_slot);
    if (!plottable(g.x_type) || !plottable(g.y_type)) continue;
    plan.grids.push_back(g);
  }
  for (size_t d = 0; d < program.derived.size(); ++d) {
    if (program.derived[d].kind == eval::DerivedKind::scorecard) {
      plan.scorecards.push_back(static_cast<int32_t>(program.fields.size() + d));
      plan.scorecard_index.push_back(program.derived[d].index);
    }
  }

  // The previous run, compared on the segment (else the first enum decision).
  Previous previous;
  if (!options.previous.empty() && !options.previous_rules.empty()) {
    throw std::runtime_error("--previous and --previous-rules compare with different things: give one");
  }
  if (!options.previous.empty() || !options.previous_rules.empty()) {
    for (size_t k = 0; k < program.outputs.size(); ++k) {
      const auto& o = program.outputs[k];
      if (o.plan || o.type.is_set || o.type.base != BaseType::enum_) continue;
      if (o.slot == program.segment_slot || plan.migration_output < 0) plan.migration_output = static_cast<int32_t>(k);
      if (o.slot == program.segment_slot) break;
    }
    const char* option = options.previous.empty() ? "--previous-rules" : "--previous";
    if (plan.migration_output < 0) throw InputProblem(fmt::format("{}: the rules decide no segment or enum to compare", option));
    if (program.key_field < 0) throw InputProblem(fmt::format("{}: the rules' input has no key field to match customers by", option));
    const auto& o = program.outputs[plan.migration_output];
    plan.current_labels = program.enums[o.type.enum_id].members;
    if (!options.previous.empty()) {
      read_previous(options.previous, program.fields[program.key_field].name, o.name, plan.current_labels, options.limits, previous);
    }
    else decide_previous(options.previous_rules, o.name, options, previous);
    plan.previous = &previous;
  }

  // Decide, and sum up block by block.
  if (!program.capacities.empty()) {
    std::error_code ec;
    auto st = std::filesystem::status(options.input, ec);
    if (options.input == "-" || (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st))) {
      throw std::runtime_error(fmt::format("the rules have capacity limits, which read the input twice (to rank the customers, then to decide them): give a file, not {}",
                                           options.input == "-" ? "standard input" : options.input));
    }
  }
  auto reader = open_input(program, options);
  engine::StreamOptions so;
  so.decide.as_of = options.as_of;
  so.threads = options.threads;
  so.write = false;
  so.observe = [&](engine::Decider& d) { return std::make_unique<Collector>(plan, d); };
  // Capacity limits: ranked in a first pass over the input, as `stratum eval` does.
  std::optional<engine::CapacityPlan> capacity;
  if (!program.capacities.empty()) {
    auto first = open_input(program, options);
    capacity = engine::CapacityPlan::make(rules, *first, so);
    so.adjust = [&capacity](engine::Decider& d, const io::RawRecord& raw, engine::Rejection& why) { return capacity->apply(d, raw.number, why); };
  }
  engine::Tally tally(program);
  BlockFindings all;
  std::vector<bool> plan_overflow(plan.plan_outputs.size(), false);
  all.hits.assign(program.coverage_points.size(), 0);
  all.hits_all.assign(program.coverage_points.size(), 0);
  all.plan.resize(plan.plan_outputs.size());
  all.samples.resize(plan.grids.size());
  all.scores.resize(plan.scorecards.size());
  if (plan.previous) all.migration.assign((previous.labels.size() + 1) * (plan.current_labels.size() + 2), 0);
  engine::stream(rules, *reader, so, [&](engine::Block& b) {
    tally.add(b);
    auto* f = static_cast<BlockFindings*>(b.findings.get());
    if (!f) return;
    for (size_t i = 0; i < f->hits.size(); ++i) all.hits[i] += f->hits[i];
    for (size_t i = 0; i < f->hits_all.size(); ++i) all.hits_all[i] += f->hits_all[i];
    for (size_t k = 0; k < f->plan.size(); ++k) {
      if (plan_overflow[k]) continue;
      for (const auto& [v, n] : f->plan[k]) all.plan[k][v] += n;
      if (all.plan[k].size() > kPlanValuesKept) {
        plan_overflow[k] = true;  // a value per customer: too many to chart, and not kept
        std::map<std::string, uint64_t>().swap(all.plan[k]);
      }
    }
    for (size_t g = 0; g < f->samples.size(); ++g) {
      auto heap = std::move(f->samples[g].heap);
      while (!heap.empty()) {
        all.samples[g].add(heap.top(), options.grid_sample);
        heap.pop();
      }
    }
    for (size_t s = 0; s < f->scores.size(); ++s) {
      for (const auto& [v, n] : f->scores[s]) all.scores[s][v] += n;
    }
    for (size_t i = 0; i < f->migration.size(); ++i) all.migration[i] += f->migration[i];
    for (auto& [reason, r] : f->reasons) {
      auto it = all.reasons.find(reason);
      if (it == all.reasons.end() && all.reasons.size() >= kReasonsKept) it = all.reasons.try_emplace("(other reasons)").first;
      else if (it == all.reasons.end()) it = all.reasons.try_emplace(reason).first;
      if (it->second.count == 0) it->second.example = r.example;
      it->second.count += r.count;
      for (auto& k : r.samples) {
        if (it->second.samples.size() < options.rejection_samples) it->second.samples.push_back(k);
      }
    }
  });

  // The document.
  json doc;
  doc["header"] = {{"ruleset", program.ruleset.empty() ? json(nullptr) : json(program.ruleset)},
                   {"version", program.version.empty() ? json(nullptr) : json(program.version)},
                   {"hash", rules.hash()},
                   {"rules", rules.path()},
                   {"as_of", options.as_of ? json(format_date(*options.as_of)) : json(nullptr)},
                   {"input", options.input},
                   {"previous", options.previous.empty() ? json(nullptr) : json(options.previous)},
                   {"previous_rules", options.previous_rules.empty() ? json(nullptr) : json(options.previous_rules)},
                   {"read", tally.read},
                   {"decided", tally.decided},
                   {"rejected", tally.rejected}};

  json decisions = json::array();
  for (const auto& d : tally.decisions) {
    bool plan_item = false;
    for (const auto& o : program.outputs) plan_item = plan_item || (o.slot == d.slot && o.plan);
    if (plan_item) continue;  // shown with the plan
    json values = json::array();
    if (d.type.base == BaseType::enum_) {
      const auto& members = program.enums[d.type.enum_id].members;
      for (size_t c = 0; c < members.size(); ++c) {
        auto it = d.counts.find(static_cast<int64_t>(c));
        values.push_back({{"value", members[c]}, {"count", it == d.counts.end() ? 0 : it->second}});
      }
    } else {
      for (int64_t c : {1, 0}) {
        auto it = d.counts.find(c);
        values.push_back({{"value", c ? "true" : "false"}, {"count", it == d.counts.end() ? 0 : it->second}});
      }
    }
    if (auto it = d.counts.find(-1); it != d.counts.end() && it->second) values.push_back({{"value", "(none)"}, {"count", it->second}});
    decisions.push_back({{"name", d.name}, {"segment", d.slot == program.segment_slot}, {"values", values}});
  }
  doc["decisions"] = decisions;

  json plans = json::array();
  for (size_t k = 0; k < plan.plan_outputs.size(); ++k) {
    if (plan_overflow[k]) {
      plans.push_back({{"name", program.outputs[plan.plan_outputs[k]].name}, {"values", json::array()},
                       {"distinct", fmt::format("more than {}", kPlanValuesKept)}});
      continue;
    }
    std::vector<std::pair<std::string, uint64_t>> values(all.plan[k].begin(), all.plan[k].end());
    std::stable_sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    json list = json::array();
    uint64_t other = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i < options.plan_values) list.push_back({{"value", values[i].first}, {"count", values[i].second}});
      else other += values[i].second;
    }
    if (other) list.push_back({{"value", "(other)"}, {"count", other}});
    plans.push_back({{"name", program.outputs[plan.plan_outputs[k]].name}, {"values", list}});
  }
  doc["plan"] = plans;

  json grids = json::array();
  for (size_t g = 0; g < plan.grids.size(); ++g) {
    const Grid& grid = plan.grids[g];
    const eval::Table& table = program.tables[grid.table];
    json cells = json::array();
    for (const auto& row : table.rows) {
      Interval x = interval_of(program, row, 0, grid.x_type);
      Interval y = interval_of(program, row, 1, grid.y_type);
      cells.push_back({{"label", cell_result(row.text)},
                       {"x0", number_or_null(x.low)}, {"x1", number_or_null(x.high)},
                       {"y0", number_or_null(y.low)}, {"y1", number_or_null(y.high)},
                       {"count", row.cover >= 0 ? all.hits[row.cover] : 0}});
    }
    std::vector<Point> points;
    auto heap = all.samples[g].heap;
    while (!heap.empty()) {
      points.push_back(heap.top());
      heap.pop();
    }
    std::sort(points.begin(), points.end());
    json sample = json::array();
    for (const auto& p : points) sample.push_back({p.x, p.y, p.row});
    uint64_t reached = 0;
    for (const auto& row : table.rows) reached += row.cover >= 0 ? all.hits[row.cover] : 0;
    grids.push_back({{"name", table.name},
                     {"output", table.output_slots.empty() ? json(nullptr) : json(slot_name(program, table.output_slots[0]))},
                     {"x", slot_name(program, grid.x_slot)},
                     {"y", slot_name(program, grid.y_slot)},
                     {"x_kind", grid.x_type.base == BaseType::date ? "date" : "number"},
                     {"y_kind", grid.y_type.base == BaseType::date ? "date" : "number"},
                     {"customers", reached},
                     {"cells", cells},
                     {"sample", sample}});
  }
  doc["grids"] = grids;

  json cards = json::array();
  for (size_t s = 0; s < plan.scorecards.size(); ++s) {
    int32_t slot = plan.scorecards[s];
    const eval::Scorecard& card = program.scorecards[plan.scorecard_index[s]];
    json histogram = json::array();
    for (const auto& [score, n] : all.scores[s]) histogram.push_back({{"score", score}, {"count", n}});
    // Cut-offs: the tables and decisions that grade this score.
    json cutoffs = json::array();
    for (const auto& table : program.tables) {
      for (size_t c = 0; c < table.column_slots.size(); ++c) {
        if (table.column_slots[c] != slot) continue;
        for (const auto& row : table.rows) {
          Interval iv = interval_of(program, row, static_cast<int32_t>(c), slot_type(program, slot));
          if (iv.low) cutoffs.push_back({{"score", *iv.low}, {"grade", row.text}, {"by", table.name}});
        }
      }
    }
    for (const auto& d : program.derived) {
      if (d.kind != eval::DerivedKind::decide) continue;
      for (const auto& b : d.branches) {
        if (b.condition < 0) continue;
        const eval::Node& n = program.nodes[b.condition];
        if (n.op != eval::Op::cmp_num || n.a < 0 || n.b < 0) continue;
        const eval::Node& a = program.nodes[n.a];
        const eval::Node& k = program.nodes[n.b];
        if (a.op != eval::Op::derived || a.index != slot) continue;
        if (n.cmp != eval::Cmp::ge && n.cmp != eval::Cmp::gt) continue;
        auto bound = k.op == eval::Op::constant ? std::optional<eval::Value>(k.constant) : bound_value(program, n.b);
        if (!bound) continue;
        cutoffs.push_back({{"score", to_double(*bound, slot_type(program, slot))}, {"grade", b.origin.text}, {"by", d.name}});
      }
    }
    for (const auto& sn : program.segment_nodes) {
      for (const auto& [condition, child] : sn.branches) {
        if (condition < 0) continue;
        const eval::Node& n = program.nodes[condition];
        if (n.op != eval::Op::cmp_num || n.a < 0 || n.b < 0 || (n.cmp != eval::Cmp::ge && n.cmp != eval::Cmp::gt)) continue;
        const eval::Node& a = program.nodes[n.a];
        if (a.op != eval::Op::derived || a.index != slot) continue;
        const eval::Node& k = program.nodes[n.b];
        auto bound = k.op == eval::Op::constant ? std::optional<eval::Value>(k.constant) : bound_value(program, n.b);
        if (!bound || child < 0) continue;
        cutoffs.push_back({{"score", to_double(*bound, slot_type(program, slot))}, {"grade", program.segment_nodes[child].name},
                           {"by", sn.name}});
      }
    }
    // Reason codes: each factor's bins, by how many customers they scored.
    std::vector<std::tuple<uint64_t, std::string, std::string>> bins;
    for (int32_t fslot : card.factor_slots) {
      const eval::Derived& fd = program.derived[fslot - program.fields.size()];
      if (fd.index < 0) continue;
      const eval::ScoreFactor& factor = program.factors[fd.index];
      for (size_t b = 0; b < factor.bin_covers.size(); ++b) {
        int32_t point = factor.bin_covers[b];
        uint64_t n = point >= 0 ? all.hits[point] : 0;
        if (n) bins.emplace_back(n, factor.name, b < factor.bin_texts.size() ? factor.bin_texts[b] : "else");
      }
    }
    std::stable_sort(bins.begin(), bins.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
    json reasons = json::array();
    for (size_t i = 0; i < bins.size() && i < 10; ++i) {
      reasons.push_back({{"factor", std::get<1>(bins[i])}, {"bin", std::get<2>(bins[i])}, {"count", std::get<0>(bins[i])}});
    }
    cards.push_back({{"name", card.name}, {"histogram", histogram}, {"cutoffs", cutoffs}, {"reasons", reasons}});
  }
  doc["scorecards"] = cards;

  if (plan.previous) {
    json from = previous.labels;
    from.push_back("(new)");
    json to = plan.current_labels;
    to.push_back("(none)");
    to.push_back("(rejected)");
    to.push_back("(gone)");
    size_t width = plan.current_labels.size() + 2;
    json counts = json::array();
    for (size_t r = 0; r <= previous.labels.size(); ++r) {
      json row = json::array();
      for (size_t c = 0; c < width; ++c) row.push_back(all.migration[r * width + c]);
      row.push_back(0);  // (gone), below
      counts.push_back(row);
    }
    // Customers of the previous run not met again.
    for (const auto& [key, where] : previous.by_key) {
      if (!previous.seen[where.second].load()) counts[where.first][width] = counts[where.first][width].get<uint64_t>() + 1;
    }
    doc["migration"] = {{"decision", program.outputs[plan.migration_output].name},
                        {"against", options.previous.empty() ? "rules" : "run"},
                        {"from", from}, {"to", to}, {"counts", counts},
                        {"previous_records", previous.records}, {"previous_duplicate_keys", previous.duplicates},
                        {"previous_without_key", previous.without_key}};
  } else {
    doc["migration"] = nullptr;
  }
  if (capacity) {
    json places = json::array();
    for (const auto& use : capacity->usage()) {
      const auto& cap = program.capacities[use.capacity];
      places.push_back({{"capacity", cap.node}, {"per", cap.per_slot >= 0 ? json(cap.per_name) : json(nullptr)},
                        {"group", cap.per_slot >= 0 ? json(use.competing ? use.group : "-") : json(nullptr)},
                        {"places", cap.limit}, {"used", use.kept},
                        {"beyond", use.competing - use.kept},
                        {"overflow", cap.plan_only ? "the plan of " + cap.overflow_name : cap.overflow_name}});
    }
    doc["capacity"] = places;
  } else {
    doc["capacity"] = nullptr;
  }

  json unreached = json::array();
  uint64_t reached = 0;
  for (size_t i = 0; i < program.coverage_points.size(); ++i) {
    if (all.hits_all[i]) {
      ++reached;
      continue;
    }
    const auto& p = program.coverage_points[i];
    unreached.push_back({{"file", p.file}, {"line", p.line}, {"what", p.what}});
  }
  doc["coverage"] = {{"points", program.coverage_points.size()}, {"reached", reached}, {"unreached", unreached}};

  std::vector<std::pair<std::string, Reason>> reasons(all.reasons.begin(), all.reasons.end());
  std::stable_sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  json rejections = json::array();
  Reason rest;
  for (size_t i = 0; i < reasons.size(); ++i) {
    const auto& [reason, r] = reasons[i];
    if (i < options.rejection_reasons && reason != "(other reasons)") {
      rejections.push_back({{"reason", reason}, {"count", r.count}, {"example", r.example}, {"samples", r.samples}});
      continue;
    }
    rest.count += r.count;
    if (rest.example.empty()) rest.example = r.example;
    for (const auto& k : r.samples) {
      if (rest.samples.size() < options.rejection_samples) rest.samples.push_back(k);
    }
  }
  if (rest.count) {
    rejections.push_back({{"reason", "(other reasons)"}, {"count", rest.count}, {"example", rest.example}, {"samples", rest.samples}});
  }
  doc["rejections"] = rejections;
  return doc;
}

}  // namespace stratum::report
