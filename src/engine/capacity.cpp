#include "engine/capacity.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>

#include <fmt/format.h>

namespace stratum::engine {

namespace {

// A customer a limit concerns: what ranks it, nothing else.
struct Competitor {
  uint64_t record = 0;
  int32_t capacity = -1;
  bool grouped = true;  // false: no value of `per` (missing, or it could not be computed)
  std::string group;
  std::string key;      // a text key as bound
  int128 key_number = 0;  // a numeric or date key as bound (compared as a number)
  bool ranked = false;  // false: no rank value (missing, or it could not be computed): last
  int128 rank = 0;
};

constexpr const char* kNoGroup = "(no value)";

struct Competitors : Findings {
  std::vector<Competitor> list;
};

class Collector : public Observer {
 public:
  explicit Collector(Decider& decider) : program_(decider.program()) {}

  void decided(const Decider& decider, const io::RawRecord& raw) override {
    const eval::Program& p = program_;
    // The worker's own decider: what ranks the customer may not be computed
    // yet (a private `let`), and computing it fills the frame's slot.
    eval::Frame& f = const_cast<Decider&>(decider).frame();
    if (p.segment_slot < 0) return;
    int64_t leaf = static_cast<int64_t>(f.slots[p.segment_slot].n);
    for (size_t c = 0; c < p.capacities.size(); ++c) {
      const auto& cap = p.capacities[c];
      if (leaf < 0 || static_cast<size_t>(leaf) >= cap.leaves.size() || !cap.leaves[leaf]) continue;
      Competitor x;
      x.record = raw.number;
      x.capacity = static_cast<int32_t>(c);
      // The key as bound, so that `09` and `9` are one number.
      const eval::Value& key = f.slots[p.key_field];
      if (p.fields[p.key_field].type.base == BaseType::text) x.key = std::string(key.s);
      else x.key_number = key.n;
      if (cap.per_slot >= 0) {
        try {
          const eval::Value& v = p.slot(f, cap.per_slot);
          x.grouped = !eval::is_missing(v);
          if (x.grouped) x.group = p.format(v, type_of(cap.per_slot));
        } catch (const eval::EvalError&) {
          x.grouped = false;  // the customers without a value compete together
        }
      }
      try {
        const eval::Value& r = p.slot(f, cap.rank_slot);
        x.ranked = !eval::is_missing(r);
        x.rank = r.n;
      } catch (const eval::EvalError&) {
        x.ranked = false;  // ranked last, as a missing value is
      }
      found_->list.push_back(std::move(x));
      break;  // one capacity per customer (the checker sees to it)
    }
  }
  void rejected(const RejectedRecord&) override {}
  std::unique_ptr<Findings> take() override {
    auto out = std::move(found_);
    found_ = std::make_unique<Competitors>();
    return out;
  }

 private:
  const eval::Program& program_;
  std::unique_ptr<Competitors> found_ = std::make_unique<Competitors>();

  const Type& type_of(int32_t slot) const {
    return static_cast<size_t>(slot) < program_.fields.size() ? program_.fields[slot].type : program_.derived[slot - program_.fields.size()].type;
  }
};

}  // namespace

CapacityPlan CapacityPlan::make(const RuleSet& rules, io::Reader& reader, const StreamOptions& options) {
  const eval::Program& p = rules.program();
  StreamOptions first = options;
  first.write = false;
  first.decide.explain = false;
  first.adjust = nullptr;
  first.observe = [](Decider& d) { return std::make_unique<Collector>(d); };
  std::vector<Competitor> all;
  stream(rules, reader, first, [&](Block& b) {
    if (auto* c = dynamic_cast<Competitors*>(b.findings.get())) {
      all.insert(all.end(), std::make_move_iterator(c->list.begin()), std::make_move_iterator(c->list.end()));
    }
  });
  // The groups, per capacity in declaration order, each by its text (the
  // customers without a value of `per` last, apart).
  std::map<std::tuple<int32_t, bool, std::string>, std::vector<size_t>> groups;
  for (size_t i = 0; i < all.size(); ++i) groups[{all[i].capacity, !all[i].grouped, all[i].group}].push_back(i);
  for (size_t c = 0; c < p.capacities.size(); ++c) {
    // A capacity nobody competed for still shows its places.
    auto first = groups.lower_bound({static_cast<int32_t>(c), false, std::string()});
    if (first == groups.end() || std::get<0>(first->first) != static_cast<int32_t>(c)) groups[{static_cast<int32_t>(c), false, std::string()}];
  }
  CapacityPlan plan;
  for (auto& [id, members] : groups) {
    const auto& cap = p.capacities[std::get<0>(id)];
    std::stable_sort(members.begin(), members.end(), [&](size_t a, size_t b) {
      const Competitor& x = all[a];
      const Competitor& y = all[b];
      if (x.ranked != y.ranked) return x.ranked;
      if (x.ranked && x.rank != y.rank) return cap.ascending ? x.rank < y.rank : x.rank > y.rank;
      if (x.key_number != y.key_number) return x.key_number < y.key_number;
      if (x.key != y.key) return x.key < y.key;
      return x.record < y.record;
    });
    CapacityUse use{std::get<0>(id), std::get<1>(id) ? kNoGroup : std::get<2>(id), members.size(),
                    std::min<uint64_t>(members.size(), static_cast<uint64_t>(cap.limit))};
    use.grouped = !std::get<1>(id);
    int32_t index = static_cast<int32_t>(plan.usage_.size());
    for (size_t k = use.kept; k < members.size(); ++k) plan.moved_[all[members[k]].record] = {index, k + 1};
    plan.usage_.push_back(std::move(use));
  }
  return plan;
}

bool CapacityPlan::apply(Decider& decider, uint64_t record, Rejection& why) const {
  auto it = moved_.find(record);
  if (it == moved_.end()) return true;
  const eval::Program& p = decider.program();
  eval::Frame& f = decider.frame();
  const CapacityUse& use = usage_[it->second.use];
  const eval::Capacity& cap = p.capacities[use.capacity];
  std::string reason = fmt::format("容量已满: {} {}/{}{}, 排名 {}, {}", cap.node, use.kept, cap.limit,
                                   cap.per_slot >= 0 ? fmt::format(" ({} {})", cap.per_name, use.group) : "", it->second.position,
                                   cap.plan_only ? fmt::format("按{}的服务方案", cap.overflow_name) : fmt::format("转入{}", cap.overflow_name));
  eval::Value original = f.slots[p.segment_slot];
  // The plan again, as at the overflow's leaf.
  f.slots[p.segment_slot] = {cap.overflow_leaf, {}};
  for (const auto& o : p.outputs) {
    if (o.plan) f.state[o.slot] = 0;
  }
  std::fill(f.plan_conditions.begin(), f.plan_conditions.end(), static_cast<int8_t>(-1));
  for (const auto& o : p.outputs) {
    if (!o.plan) continue;
    try {
      p.slot(f, o.slot);
    } catch (const eval::EvalError& e) {
      why = {e.decision.empty() ? o.name : e.decision, fmt::format("{} ({})", e.what(), reason), e.at, e.decision.empty() ? "plan item" : e.kind};
      return false;
    }
  }
  if (decider.options().explain) {
    auto& trace = decider.explanation();
    trace.push_back(fmt::format("capacity: {}; the service plan is then:", reason));
    try {
      p.explain_plan(f, trace);
    } catch (const eval::EvalError&) {
    }
  }
  if (cap.plan_only) f.slots[p.segment_slot] = original;
  f.collected.push_back(std::move(reason));
  f.slots[p.capacity_slot] = {0, f.collected.back()};
  f.state[p.capacity_slot] = 2;
  return true;
}

std::string CapacityPlan::summary(const eval::Program& p) const {
  if (usage_.empty()) return {};
  std::vector<std::string> names;
  size_t width = utf8::cell_width("capacity");
  for (const auto& use : usage_) {
    const auto& cap = p.capacities[use.capacity];
    names.push_back(cap.node + (cap.per_slot >= 0 ? fmt::format(" ({} {})", cap.per_name, use.competing ? use.group : "-") : ""));
    width = std::max(width, utf8::cell_width(names.back()));
  }
  std::string out = fmt::format("\ncapacity{}  {:>10}  {:>10}  {:>10}  beyond the limit go to\n", std::string(width - utf8::cell_width("capacity"), ' '),
                                "places", "used", "beyond");
  for (size_t k = 0; k < usage_.size(); ++k) {
    const auto& use = usage_[k];
    const auto& cap = p.capacities[use.capacity];
    out += fmt::format("{}{}  {:>10}  {:>10}  {:>10}  {}\n", names[k], std::string(width - utf8::cell_width(names[k]), ' '), cap.limit, use.kept,
                       use.competing - use.kept, cap.plan_only ? "the plan of " + cap.overflow_name : cap.overflow_name);
  }
  return out;
}

}  // namespace stratum::engine
