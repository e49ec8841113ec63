#include "eval/program.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "diag/diagnostic.hpp"
#include "value/date.hpp"

namespace stratum::eval {

const char kMissingTag[1] = {0};

namespace {

Decimal dec(const Value& v) { return Decimal::from_raw(v.n); }
Value num(Decimal d) { return {d.raw(), {}}; }
Value whole(int128 n) { return {n, {}}; }

bool compare(Cmp c, int order) {
  switch (c) {
    case Cmp::eq: return order == 0;
    case Cmp::ne: return order != 0;
    case Cmp::lt: return order < 0;
    case Cmp::le: return order <= 0;
    case Cmp::gt: return order > 0;
    case Cmp::ge: return order >= 0;
  }
  return false;
}

int order_of(int128 a, int128 b) { return a < b ? -1 : a > b ? 1 : 0; }
int order_of(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

// Sums and multiples of durations stay within the calendar's range, months
// and days each.
int128 duration_parts_in_range(int128 months, int128 days) {
  if (months > kMaxDurationMonths || months < -kMaxDurationMonths || days > kMaxDurationDays || days < -kMaxDurationDays) {
    throw EvalError("duration out of range");
  }
  return make_duration(months, days);
}
int128 duration_in_range(int128 d) { return duration_parts_in_range(duration_months(d), duration_days(d)); }

int32_t checked_days(int128 d) {
  // A date is written YYYY-MM-DD: years 0000 to 9999, as data and outputs read it.
  static const int32_t first = days_from_civil(0, 1, 1), last = days_from_civil(9999, 12, 31);
  if (d > last || d < first) throw EvalError("date out of range");
  return static_cast<int32_t>(d);
}

int32_t add_months(int32_t days, int128 months) {
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  int128 total = static_cast<int128>(y) * 12 + (m - 1) + months;
  if (total > 12 * 9999 + 11 || total < 0) throw EvalError("date out of range");
  int ny = static_cast<int>(total / 12);
  unsigned nm = static_cast<unsigned>(total % 12) + 1;
  static const unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0;
  unsigned last = month_days[nm - 1] + (nm == 2 && leap ? 1 : 0);
  return days_from_civil(ny, nm, std::min(d, last));
}

// Whole months from a to b (b later gives a positive count), counting a month
// only once its day of month is reached: 2020-01-31 → 2020-02-29 is 0 months.
int128 months_between(int32_t a, int32_t b) {
  if (b < a) return -months_between(b, a);
  int ya, yb;
  unsigned ma, mb, da, db;
  civil_from_days(a, ya, ma, da);
  civil_from_days(b, yb, mb, db);
  int128 months = (static_cast<int128>(yb) - ya) * 12 + (static_cast<int>(mb) - static_cast<int>(ma));
  if (months > 0 && add_months(a, months) > b) --months;
  return months;
}

bool set_text_has(std::string_view set, std::string_view item) {
  size_t start = 0;
  while (start <= set.size()) {
    size_t end = set.find(kSetSeparator, start);
    if (end == std::string_view::npos) end = set.size();
    if (set.substr(start, end - start) == item) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::string format_duration(int128 n, BaseType base) {
  int64_t months = static_cast<int64_t>(duration_months(n)), days = static_cast<int64_t>(duration_days(n));
  auto unit = [&](int64_t count, const char* one, const char* many) {
    return fmt::format("{} {}", count, count == 1 || count == -1 ? one : many);
  };
  std::string m = months % 12 == 0 ? unit(months / 12, "year", "years") : unit(months, "month", "months");
  std::string d = days % 7 == 0 ? unit(days / 7, "week", "weeks") : unit(days, "day", "days");
  if (months == 0 && days == 0) return base == BaseType::months ? "0 months" : "0 days";
  if (days == 0) return m;
  if (months == 0) return d;
  return m + " " + d;
}

int128 Field::known_mask(std::string_view joined) const {
  int128 mask = 0;
  size_t start = 0;
  while (!joined.empty() && start <= joined.size()) {
    size_t end = joined.find(kSetSeparator, start);
    if (end == std::string_view::npos) end = joined.size();
    std::string_view item = joined.substr(start, end - start);
    for (size_t m = 0; m < known_members.size(); ++m) {
      if (known_members[m] == item) mask |= static_cast<int128>(1) << m;
    }
    start = end + 1;
  }
  return mask;
}

std::string_view Program::intern(std::string text) {
  strings_.push_back(std::move(text));
  return strings_.back();
}

std::string Program::format(const Value& v, const Type& t) const {
  if (is_missing(v)) return "missing";
  if (t.is_set) {
    std::string out;
    if (t.base == BaseType::enum_ && !t.is_list) {
      for (size_t i = 0; i < enums[t.enum_id].members.size(); ++i) {
        if (v.n & (static_cast<int128>(1) << i)) out += (out.empty() ? "" : ";") + enums[t.enum_id].members[i];
      }
    } else {
      for (char c : v.s) out += c == kSetSeparator ? ';' : c;
    }
    return out;
  }
  switch (t.base) {
    case BaseType::boolean: return v.n ? "true" : "false";
    case BaseType::int_: case BaseType::decimal: case BaseType::money: return dec(v).to_string();
    case BaseType::text: return std::string(v.s);
    case BaseType::date: return format_date(static_cast<int32_t>(v.n));
    case BaseType::days: case BaseType::months: case BaseType::duration: return format_duration(v.n, t.base);
    case BaseType::enum_:
      if (t.enum_id >= 0 && v.n >= 0 && v.n < static_cast<int128>(enums[t.enum_id].members.size()))
        return enums[t.enum_id].members[static_cast<size_t>(v.n)];
      return "?";
    case BaseType::error: return "?";
  }
  return "?";
}

void Program::append_text(std::string& out, const Value& v, const Type& t) const {
  if (!is_missing(v) && !t.is_set) {
    switch (t.base) {
      case BaseType::boolean: out += v.n ? "true" : "false"; return;
      case BaseType::int_: case BaseType::decimal: case BaseType::money: dec(v).append_to(out); return;
      case BaseType::text: out.append(v.s); return;
      case BaseType::enum_:
        if (t.enum_id >= 0 && v.n >= 0 && v.n < static_cast<int128>(enums[t.enum_id].members.size())) {
          out += enums[t.enum_id].members[static_cast<size_t>(v.n)];
          return;
        }
        break;
      default: break;
    }
  }
  out += format(v, t);
}

// A value as the rules write it, for explanations: an amount in 亿 or 万
// where that shows it exactly in fewer digits than 元 (3.2亿, 150万; but
// 264763873.78元, 1200.5元), a rate written with % as a percentage.
// Outputs use format().
std::string Program::shown(const Value& v, const Type& t, bool percent) const {
  if (is_missing(v)) return format(v, t);
  if (t.is_set) {
    std::string members = format(v, t);
    return members.empty() ? "{}" : members;  // an empty set is shown, not left blank
  }
  if (t.base == BaseType::money) {
    Decimal d = dec(v);
    std::string best = d.to_string(), unit = "元";
    for (auto [name, scale] : {std::pair<const char*, int64_t>{"亿", 100000000}, {"万", 10000}}) {
      if (d.abs() < Decimal::from_int(scale)) continue;
      Decimal in = d / Decimal::from_int(scale);
      std::string text = in.to_string();
      if (in * Decimal::from_int(scale) == d && text.size() < best.size()) { best = text; unit = name; }
    }
    return best + unit;
  }
  if (percent && t.base == BaseType::decimal) {
    Decimal in = dec(v) * Decimal::from_int(100);
    if (in / Decimal::from_int(100) == dec(v)) return in.to_string() + "%";
  }
  return format(v, t);
}

bool Program::percent_slot(int32_t s) const {
  return static_cast<size_t>(s) < fields.size() ? (fields[s].data_scale == -2 || fields[s].percent) : derived[s - fields.size()].percent;
}

std::string Program::value_text(Frame& f, int32_t node) const {
  const Node& n = nodes[node];
  if (n.op == Op::field || n.op == Op::derived) return values_of(f, {n.index});
  return "";
}

const std::string& Program::slot_name(int32_t s) const {
  return static_cast<size_t>(s) < fields.size() ? fields[s].name : derived[s - fields.size()].name;
}

// A bool `let`'s comparisons, as evaluation took them: ✓ true, ✗ false,
// `·` not needed (the other side of an `and` already false, of an `or`
// already true).
void Program::explain_parts(Frame& f, const Derived& d, int32_t node, bool needed) const {
  for (const auto& [at, o] : d.parts) {
    if (at != node) continue;
    if (!needed) {
      note(f, fmt::format("· line {}: {}   (not needed)", o.line, o.text));
      return;
    }
    bool holds = eval(f, node).n != 0;
    std::string values = values_of(f, o.slots);
    note(f, fmt::format("{} line {}: {}{}", holds ? "✓" : "✗", o.line, o.text, values.empty() ? "" : "   [" + values + "]"));
    return;
  }
  const Node& n = nodes[node];
  if (n.op == Op::and_ || n.op == Op::or_) {
    explain_parts(f, d, n.a, needed);
    bool left = needed && eval(f, n.a).n != 0;
    explain_parts(f, d, n.b, needed && (n.op == Op::and_ ? left : !left));
  } else if (n.op == Op::not_) {
    explain_parts(f, d, n.a, needed);
  }
}

void Program::note(Frame& f, std::string line) const {
  f.trace->push_back(std::string(static_cast<size_t>(f.trace_depth) * 2, ' ') + std::move(line));
}

// "a = 1, b = 工业" for the slots already known (never computes anything new).
std::string Program::values_of(Frame& f, const std::vector<int32_t>& slots) const {
  std::string out;
  for (int32_t s : slots) {
    bool is_field = static_cast<size_t>(s) < fields.size();
    // A constant `let` (a threshold) is shown even though it is never computed.
    const Derived* let = is_field ? nullptr : &derived[s - fields.size()];
    bool constant_let = let && let->kind == DerivedKind::let && !let->type.is_set && let->node >= 0 &&
                        nodes[let->node].op == Op::constant;
    if (!is_field && f.state[s] != 2 && !constant_let) continue;
    if (is_field && f.state[s] == 0 && !fields[s].optional) continue;  // a test that did not give it
    const Value& v = is_field && f.state[s] == 0 ? missing_value()
                     : constant_let && f.state[s] != 2 ? nodes[let->node].constant
                                                       : f.slots[s];
    const Type& t = is_field ? fields[s].type : derived[s - fields.size()].type;
    out += fmt::format("{}{} = {}", out.empty() ? "" : ", ", slot_name(s), shown(v, t, percent_slot(s)));
  }
  return out;
}

bool Program::in_domain(const Field& field, const Value& v) const {
  if (!field.domain) return true;
  return test_cell(nullptr, *field.domain, v);  // a field's range has constant bounds
}

bool Program::passes(const CellTest& t, const Value& v) const { return test_cell(nullptr, t, v); }

int32_t Program::plan_setting(Frame& f, const Derived& d, int32_t leaf) const {
  for (size_t i = 0; i < d.conditional.size(); ++i) {
    const PlanCondition& c = plan_conditions[d.conditional[i].plan];
    if (!c.leaves.empty() && (leaf < 0 || !c.leaves[leaf])) continue;
    int8_t& holds = f.plan_conditions[d.conditional[i].plan];
    if (holds < 0) holds = number(f, c.condition) ? 1 : 0;
    if (holds) return static_cast<int32_t>(i);
  }
  return -1;
}

void Program::cover_plan(Frame& f) const {
  if (!f.covered) return;
  int32_t leaf = -1;
  if (segment_slot >= 0) {
    if (f.state[segment_slot] != 2) return;
    leaf = static_cast<int32_t>(f.slots[segment_slot].n);
  }
  for (const Derived& d : derived) {
    if (d.kind != DerivedKind::plan_item) continue;
    int32_t setting = -1;
    if (!d.conditional.empty()) {
      // A test gives only the fields it needs: a condition it cannot
      // evaluate leaves this item uncovered by this test.
      std::vector<uint8_t> saved = f.state;
      try {
        setting = plan_setting(f, d, leaf);
      } catch (const EvalError&) {
        f.state = std::move(saved);
        continue;
      }
    }
    if (setting >= 0) f.cover(d.conditional[setting].cover);
    else if (leaf >= 0 && leaf < static_cast<int32_t>(d.leaf_covers.size())) f.cover(d.leaf_covers[leaf]);
  }
}

void Program::explain_plan(Frame& f, std::vector<std::string>& out) const {
  int32_t leaf = segment_slot >= 0 ? static_cast<int32_t>(f.slots[segment_slot].n) : -1;
  for (const Derived& d : derived) {
    if (d.kind != DerivedKind::plan_item) continue;
    const Value& v = f.slots[fields.size() + (&d - derived.data())];
    int32_t setting = plan_setting(f, d, leaf);
    if (setting >= 0) {
      const PlanCondition& c = plan_conditions[d.conditional[setting].plan];
      out.push_back(fmt::format("{} = {}   (plan {}, line {})", d.name, shown(v, d.type, d.percent), c.text, c.line));
    } else {
      int32_t from = d.from_node.empty() || leaf < 0 ? -1 : d.from_node[leaf];
      if (from < 0) {
        out.push_back(d.conditional.empty() || segment_slot >= 0
                          ? fmt::format("{}: not set for this {}", d.name, segment_slot >= 0 ? "segment" : "customer")
                          : fmt::format("{}: not set (none of the plans that set it applies)", d.name));
      } else {
        out.push_back(fmt::format("{} = {}   (plan of {})", d.name, shown(v, d.type, d.percent), segment_nodes[from].name));
      }
    }
    // what the item's value read: the private tables, decisions and lets computed for it
    size_t index = static_cast<size_t>(&d - derived.data());
    if (index < f.plan_trace.size()) {
      for (const auto& line : f.plan_trace[index]) out.push_back("  " + line);
    }
  }
}

// The stable value of slot `s`, just computed (the candidate): kept at the
// previous period's while the candidate has been on one side of it for fewer
// periods in a row than the rule asks, else the candidate.
void Program::hold(Frame& f, int32_t s, const Derived& d) const {
  const Stability& st = stabilities[d.stability];
  const Value candidate = f.slots[s];
  f.slots[st.candidate_slot] = candidate;
  f.state[st.candidate_slot] = 2;
  int64_t periods = 0;
  const Previous prev = static_cast<size_t>(d.stability) < f.previous.size() ? f.previous[d.stability] : Previous{};
  std::string why;
  if (is_missing(candidate)) {
    why = "no value: nothing to hold";
  } else if (prev.value < 0) {
    why = f.previous_run ? "not in the previous period: a new customer" : "no previous period given: decided as a new customer";
  } else if (prev.value == candidate.n) {
    why = "as the previous period";
  } else {
    auto c = static_cast<size_t>(candidate.n), p = static_cast<size_t>(prev.value);
    const auto& names = enums[d.type.enum_id].members;
    if (p >= st.rank.size() || st.rank[p] < 0 || st.rank[c] < 0) {
      why = fmt::format("moved to {} at once: not both it and the previous value are in the order", names[c]);
    } else {
      bool down = st.rank[c] < st.rank[p];
      int32_t need = down ? st.down[p] : st.up[p];
      // the previous period's candidate on the same side of the value held: the run goes on
      bool same_side = prev.periods > 0 && prev.candidate >= 0 && static_cast<size_t>(prev.candidate) < st.rank.size() &&
                       st.rank[prev.candidate] >= 0 && prev.candidate != prev.value &&
                       (st.rank[prev.candidate] < st.rank[p]) == down;
      // (a count beyond any rule's 1000 periods counts as 1000: no overflow)
      int64_t run = same_side ? std::min<int64_t>(prev.periods, 1000) + 1 : 1;
      if (run < need) {
        f.slots[s] = {prev.value, {}};
        periods = run;
        why = fmt::format("held at {}: {} is {}, {} of {} periods in a row", names[p], names[c], down ? "lower" : "higher", run, need);
      } else {
        why = fmt::format("moved {} from {}: {} period{} in a row {}", down ? "down" : "up", names[p], run, run == 1 ? "" : "s",
                          down ? "lower" : "higher");
      }
    }
  }
  f.slots[st.periods_slot] = num(Decimal::from_int(periods));
  f.state[st.periods_slot] = 2;
  if (f.trace) note(f, fmt::format("stability (line {}): {}", st.line, why));
}

Frame Program::make_frame() const {
  Frame f;
  f.slots.assign(slot_count(), Value{});
  f.state.assign(slot_count(), 0);
  f.table_hit.assign(tables.size(), -1);
  f.plan_conditions.assign(plan_conditions.size(), -1);
  f.previous.assign(stabilities.size(), Previous{});
  return f;
}

namespace {
// Sets n bytes to `byte`: the few dozen bytes a frame clears per customer,
// with a handful of (overlapping) stores in place rather than a call to
// memset, which the compiler would otherwise make of a loop.
inline void fill_bytes(uint8_t* p, size_t n, uint8_t byte) {
  uint64_t word = 0x0101010101010101ULL * byte;
  if (n >= 8) {
    size_t i = 0;
    for (; i + 16 < n; i += 16) {
      std::memcpy(p + i, &word, 8);
      std::memcpy(p + i + 8, &word, 8);
      __asm__("" : "+r"(i));  // (not a memset idiom)
    }
    if (i + 8 < n) std::memcpy(p + i, &word, 8);
    std::memcpy(p + n - 8, &word, 8);
  } else if (n >= 4) {
    std::memcpy(p, &word, 4);
    std::memcpy(p + n - 4, &word, 4);
  } else if (n >= 2) {
    std::memcpy(p, &word, 2);
    std::memcpy(p + n - 2, &word, 2);
  } else if (n == 1) {
    *p = byte;
  }
}
}  // namespace

namespace {
// The texts of the last customer's `collect` tables and explanation: kept
// out of line, so that clearing a frame without any stays a few stores.
[[gnu::noinline]] void clear_texts(Frame& f) {
  f.collected.clear();
  for (auto& lines : f.plan_trace) lines.clear();
}
}  // namespace

void Program::reset(Frame& f) const {
  fill_bytes(f.state.data() + fields.size(), derived.size(), 0);
  // every table's hit -1 (all bytes 0xff), every plan condition -1
  fill_bytes(reinterpret_cast<uint8_t*>(f.table_hit.data()), f.table_hit.size() * sizeof(int32_t), 0xff);
  fill_bytes(reinterpret_cast<uint8_t*>(f.plan_conditions.data()), f.plan_conditions.size(), 0xff);
  if (!f.collected.empty() || !f.plan_trace.empty()) clear_texts(f);
}

void Program::evaluate(Frame& f) const {
  for (const Output& o : outputs) slot(f, o.slot);
}

const Value& Program::slot_slow(Frame& f, int32_t s) const {
  if (static_cast<size_t>(s) < fields.size()) {
    if (f.state[s] == 0 && !fields[s].optional) {
      // Readers reject such records; only a test can leave a field out.
      throw EvalError(fmt::format("the test does not give `{}`, which the rules need here", fields[s].name));
    }
    if (f.state[s] == 0) f.slots[s] = missing_value();
    return f.slots[s];
  }
  if (f.state[s] != 2) compute(f, s);
  return f.slots[s];
}

namespace {
void name_failure(EvalError& e, const Derived& d) {
  if (!e.decision.empty()) return;
  e.decision = d.name;
  e.kind = d.kind == DerivedKind::let ? "let" : d.kind == DerivedKind::plan_item ? "plan item" : "decision";
}
}  // namespace

void Program::compute(Frame& f, int32_t s) const {
  if (f.state[s] == 1) throw InternalError("cycle in derived values");
  // Values computed from values computed from …: bounded, so the stack is.
  struct Nesting {
    Frame& f;
    explicit Nesting(Frame& frame) : f(frame) {
      if (++f.nesting > kMaxNesting) {
        --f.nesting;
        throw EvalError(fmt::format("the rules compute values through more than {} levels", kMaxNesting));
      }
    }
    ~Nesting() { --f.nesting; }
  } nesting(f);
  f.state[s] = 1;
  const Derived& d = derived[s - fields.size()];
  // Constants (`let 门槛 = 3亿`) are not traced; plan items are explained
  // with the plan, what they read kept for that (see explain_plan); a
  // capacity's note is set over a portfolio, and explained there.
  bool tracing = f.trace && d.kind != DerivedKind::plan_item && d.kind != DerivedKind::capacity &&
                 !(d.kind == DerivedKind::let && nodes[d.node].op == Op::constant);
  if (f.trace && d.kind == DerivedKind::plan_item) {
    size_t mark = f.trace->size();
    int depth = f.trace_depth;
    f.trace_depth = 0;
    try {
      compute_value(f, s);
    } catch (EvalError& e) {
      name_failure(e, d);
      // what it read stays in the trace, under the item, before the rejection
      for (size_t i = mark; i < f.trace->size(); ++i) (*f.trace)[i].insert(0, "    ");
      std::vector<std::string> head = {"", "service plan", "  " + d.name + ": not decided"};
      f.trace->insert(f.trace->begin() + static_cast<std::ptrdiff_t>(mark), head.begin(), head.end());
      f.trace_depth = depth;
      f.state[s] = 0;
      throw;
    } catch (...) {
      f.trace_depth = depth;
      f.state[s] = 0;
      throw;
    }
    f.trace_depth = depth;
    f.plan_trace.resize(derived.size());
    auto& lines = f.plan_trace[s - fields.size()];
    lines.assign(std::make_move_iterator(f.trace->begin() + static_cast<std::ptrdiff_t>(mark)), std::make_move_iterator(f.trace->end()));
    f.trace->resize(mark);
    f.state[s] = 2;
    return;
  }
  if (!tracing) {
    try {
      compute_value(f, s);
      if (d.stability >= 0 && d.kind != DerivedKind::held) hold(f, s, d);
    } catch (EvalError& e) {
      name_failure(e, d);  // the innermost value that failed
      f.state[s] = 0;
      throw;
    } catch (...) {
      f.state[s] = 0;  // not busy any more: asked again, it fails again with its reason
      throw;
    }
    f.state[s] = 2;
    return;
  }
  // The headline, replaced by `name = value` once the value is known.
  size_t mark = f.trace->size();
  f.trace->push_back(std::string(static_cast<size_t>(f.trace_depth) * 2, ' ') + d.name + ": not decided");
  ++f.trace_depth;
  try {
    compute_value(f, s);
    if (!d.parts.empty()) explain_parts(f, d, d.node, true);
    if (d.stability >= 0 && d.kind != DerivedKind::held) hold(f, s, d);
  } catch (EvalError& e) {
    name_failure(e, d);
    --f.trace_depth;
    f.state[s] = 0;
    throw;
  } catch (...) {
    --f.trace_depth;
    f.state[s] = 0;
    throw;
  }
  --f.trace_depth;
  f.state[s] = 2;
  (*f.trace)[mark] = std::string(static_cast<size_t>(f.trace_depth) * 2, ' ') +
                     fmt::format("{} = {}", d.name, shown(f.slots[s], d.type, percent_slot(s)));
}

// Computes derived slot s into f.slots[s]. An overflow outside a node (a
// scorecard's sum, a `collect sum`) rejects the customer, as one inside a
// node does.
void Program::compute_value(Frame& f, int32_t s) const {
  try {
    compute_kind(f, s);
  } catch (const ArithmeticError& e) {
    throw EvalError(e.what());
  }
}

// One implementation for every kind; explanation and coverage hooks cost a
// test of a null pointer when off.
void Program::compute_kind(Frame& f, int32_t s) const {
  const Derived& d = derived[s - fields.size()];
  switch (d.kind) {
    case DerivedKind::capacity:  // set over the whole portfolio (engine/capacity), when a limit moves the customer
      f.slots[s] = missing_value();
      break;
    case DerivedKind::held: {  // set when the stable value is (see hold)
      const Stability& st = stabilities[d.stability];
      if (f.state[st.slot] != 2) slot(f, st.slot);
      break;
    }
    case DerivedKind::let:
      f.slots[s] = eval(f, d.node);
      break;
    case DerivedKind::decide: {
      bool decided = false;
      for (const Branch& b : d.branches) {
        bool taken = b.condition < 0 || number(f, b.condition);
        if (f.trace) {
          std::string values = values_of(f, b.origin.slots);
          note(f, fmt::format("{} line {}: {}{}", taken ? "✓" : "✗", b.origin.line, b.origin.text,
                              values.empty() ? "" : "   [" + values + "]"));
        }
        if (taken) {
          f.cover(b.origin.cover);
          if (b.result < 0) {
            EvalError e(b.reject);
            std::string file = b.origin.cover >= 0 ? coverage_points[b.origin.cover].file : "";
            if (b.origin.line) e.at = file.empty() ? fmt::format("line {}", b.origin.line) : fmt::format("{}:{}", file, b.origin.line);
            throw e;
          }
          f.slots[s] = value(f, b.result);
          decided = true;
          break;
        }
      }
      if (!decided) throw EvalError(fmt::format("no branch of `{}` applies and it has no `else`", d.name));
      break;
    }
    case DerivedKind::factor: {
      const ScoreFactor& factor = factors[d.index];
      Value v = eval(f, factor.value);
      int32_t points = factor.else_points;
      for (const auto& [test, node] : factor.bins) {
        if (test_cell(&f, test, v)) { points = node; break; }
      }
      if (points < 0) throw EvalError(fmt::format("no bin of factor `{}` applies and it has no `else`", factor.name));
      f.slots[s] = eval(f, points);
      if (f.covered || f.reached) {
        size_t bin = 0;
        while (bin < factor.bins.size() && factor.bins[bin].second != points) ++bin;
        if (bin < factor.bin_covers.size()) f.cover(factor.bin_covers[bin]);
      }
      if (f.trace) {
        size_t bin = 0;
        while (bin < factor.bins.size() && factor.bins[bin].second != points) ++bin;
        std::string which = bin < factor.bin_texts.size() ? factor.bin_texts[bin] : "else";
        std::string value = value_text(f, factor.value);
        note(f, fmt::format("{}bin `{}`", value.empty() ? "" : value + " falls in ", which));
      }
      break;
    }
    case DerivedKind::scorecard: {
      // Σ points × weight, then every applying `multiply`, then every applying `bonus`.
      const Scorecard& sc = scorecards[d.index];
      Decimal total;
      for (size_t k = 0; k < sc.factor_slots.size(); ++k) {
        Decimal points = dec(slot(f, sc.factor_slots[k]));
        total = total + (sc.weights[k] < 0 ? points : points * dec(eval(f, sc.weights[k])));
      }
      if (f.trace) {
        std::string sum;
        for (size_t k = 0; k < sc.factor_slots.size(); ++k) {
          sum += fmt::format("{}{} {}", k ? " + " : "", slot_name(sc.factor_slots[k]),
                             format(f.slots[sc.factor_slots[k]], Type::of(BaseType::decimal)));
          if (sc.weights[k] >= 0) {
            bool percent = k < sc.weight_percent.size() && sc.weight_percent[k];
            sum += " × " + shown(eval(f, sc.weights[k]), Type::of(BaseType::decimal), percent);
          }
        }
        note(f, fmt::format("weighted sum: {} = {}", sum, total.to_string()));
      }
      for (int pass = 0; pass < 2; ++pass) {  // every multiply, then every bonus
        for (const auto& a : sc.adjustments) {
          if (a.multiply != (pass == 0)) continue;
          bool applies = eval(f, a.condition).n != 0;
          if (applies) {
            total = a.multiply ? total * dec(eval(f, a.amount)) : total + dec(eval(f, a.amount));
            f.cover(a.origin.cover);
          }
          if (f.trace) {
            std::string values = values_of(f, a.origin.slots);
            note(f, fmt::format("{} line {}: {}{}", applies ? "✓" : "✗", a.origin.line, a.origin.text,
                                values.empty() ? "" : "   [" + values + "]"));
          }
        }
      }
      f.slots[s] = num(total);
      break;
    }
    case DerivedKind::segment: {
      int32_t node = 0;
      while (segment_nodes[node].leaf < 0) {
        int32_t next = -1;
        const SegmentNode& sn = segment_nodes[node];
        for (size_t k = 0; k < sn.branches.size(); ++k) {
          auto [condition, child] = sn.branches[k];
          bool taken = condition < 0 || number(f, condition);
          if (f.trace && k < sn.origins.size()) {
            std::string values = values_of(f, sn.origins[k].slots);
            note(f, fmt::format("{} {} → {}   line {}: {}{}", taken ? "✓" : "✗", sn.name, segment_nodes[child].name,
                                sn.origins[k].line, sn.origins[k].text, values.empty() ? "" : "   [" + values + "]"));
          }
          if (taken) {
            if (k < sn.origins.size()) f.cover(sn.origins[k].cover);
            next = child;
            break;
          }
        }
        if (next < 0) {
          throw EvalError(fmt::format("no branch under segment `{}` applies and it has no `else`", segment_nodes[node].name));
        }
        node = next;
      }
      f.slots[s] = {segment_nodes[node].leaf, {}};
      break;
    }
    case DerivedKind::plan_item: {
      // Conditional plans first, in file order; then the tree's plans.
      int32_t leaf = segment_slot >= 0 ? static_cast<int32_t>(slot(f, segment_slot).n) : -1;
      if (!d.conditional.empty()) {
        int32_t setting = plan_setting(f, d, leaf);
        if (setting >= 0) {
          f.slots[s] = value(f, d.conditional[setting].value);
          f.cover(d.conditional[setting].cover);
          break;
        }
      }
      int32_t node = leaf >= 0 && leaf < static_cast<int32_t>(d.by_leaf.size()) ? d.by_leaf[leaf] : -1;
      f.slots[s] = node < 0 ? missing_value() : value(f, node);
      if (node >= 0 && leaf < static_cast<int32_t>(d.leaf_covers.size())) f.cover(d.leaf_covers[leaf]);
      break;
    }
    case DerivedKind::table: {
      if (tables[d.table].propagate_missing) {
        // Fields first: a missing field spares computing the other columns.
        bool any_missing = false;
        const Table& t = tables[d.table];
        for (int32_t c : t.columns) {
          if (nodes[c].op == Op::field && is_missing(slot(f, nodes[c].index))) { any_missing = true; break; }
        }
        for (int32_t c : t.columns) {
          if (!any_missing && nodes[c].op != Op::field) any_missing = is_missing(eval(f, c));
        }
        if (any_missing) {
          f.slots[s] = missing_value();
          break;
        }
      }
      // Every policy, collect included: a missing column value means no result.
      const Table& t = tables[d.table];
      if (t.policy == HitPolicy::collect) {
        f.slots[s] = collect(f, t, d.type);
        break;
      }
      if (t.policy == HitPolicy::rule_order || t.policy == HitPolicy::output_order) {
        f.slots[s] = ordered(f, t, d.column);
        break;
      }
      int32_t row = table_row(f, d.table);
      if (f.trace) passed_over(f, t, row);
      if (row == kElseRow) {
        f.slots[s] = value(f, t.else_outputs[d.column]);
        f.cover(t.else_cover);
        if (f.trace) {
          std::vector<int32_t> cols;
          for (int32_t c : t.column_slots) if (c >= 0) cols.push_back(c);
          std::string values = values_of(f, cols);
          note(f, fmt::format("✓ line {} of `{}`: {} (no row matches){}", t.else_line, t.name, t.else_text,
                              values.empty() ? "" : "   [" + values + "]"));
        }
        break;
      }
      if (row < 0) throw EvalError(fmt::format("no row of table `{}` matches", t.name));
      f.slots[s] = t.row_results.empty() ? value(f, t.rows[row].outputs[d.column])
                                         : t.row_results[static_cast<size_t>(row) * t.output_slots.size() + static_cast<size_t>(d.column)];
      if (f.covered || f.reached) f.cover(t.rows[row].cover);
      if (f.trace) {
        std::vector<int32_t> cols;
        for (int32_t c : t.column_slots) if (c >= 0) cols.push_back(c);
        std::string values = values_of(f, cols);
        note(f, fmt::format("✓ line {} of `{}`: {}{}", t.row_lines[row], t.name, t.rows[row].text,
                            values.empty() ? "" : "   [" + values + "]"));
      }
      break;
    }
  }
}

// Explanations: the rows before the one taken (a `first` table), or every
// other row, each with the cell that failed and its value ("✗ line 12 of
// `档`: >= 3亿 | … → 大   [revenue = 2.6亿]"); at most eight, then a count.
void Program::passed_over(Frame& f, const Table& t, int32_t taken) const {
  size_t end = t.policy == HitPolicy::first && taken >= 0 ? static_cast<size_t>(taken) : t.rows.size();
  size_t shown = 0, more = 0;
  for (size_t r = 0; r < end; ++r) {
    if (static_cast<int32_t>(r) == taken) continue;
    const Row& row = t.rows[r];
    int32_t failed = -1;
    try {
      for (size_t k = 0; k < row.tests.size() && failed < 0; ++k) {
        std::vector<CellTest> one{row.tests[k]};
        if (!tests_match(f, t, one)) failed = static_cast<int32_t>(k);
      }
    } catch (const EvalError&) {
      continue;  // a column that cannot be computed: evaluation never needed it
    }
    if (failed < 0) continue;  // it matches too (a unique table's other match is an error, said elsewhere)
    if (shown == 8) { ++more; continue; }
    ++shown;
    const CellTest& c = row.tests[failed];
    std::string value = c.slot >= 0 ? values_of(f, {c.slot}) : "";
    if (value.empty() && c.column < static_cast<int32_t>(t.column_names.size())) value = t.column_names[c.column];
    note(f, fmt::format("✗ line {} of `{}`: {}   [{}]", t.row_lines[r], t.name, row.text, value));
  }
  if (more) note(f, fmt::format("✗ {} more row{} of `{}` do not match", more, more == 1 ? "" : "s", t.name));
}

bool Program::tests_match(Frame& f, const Table& table, const std::vector<CellTest>& tests) const {
  const int32_t n_fields = static_cast<int32_t>(fields.size());
  for (const CellTest& c : tests) {
    // Columns that name a value are read in place (a present field directly);
    // others are computed.
    // A missing value (only a column written `x?` lets one here) passes
    // `missing`, and `not {…}` and `!=` cells: it is none of their values.
    auto missing_passes = [](const CellTest& t) {
      return t.kind == TestKind::missing || t.kind == TestKind::not_in_set || t.kind == TestKind::ne;
    };
    if (c.slot >= 0) {
      const Value& v = c.slot < n_fields && f.state[c.slot] ? f.slots[c.slot] : slot(f, c.slot);
      if (is_missing(v) ? !missing_passes(c) : !test_cell(&f, c, v)) return false;
    } else {
      Value v = eval(f, table.columns[c.column]);
      if (is_missing(v) ? !missing_passes(c) : !test_cell(&f, c, v)) return false;
    }
  }
  return true;
}

bool Program::row_passes(Frame& f, const Table& table, int32_t r, bool indexed) const {
  if (table.fast_rows[r]) {
    const int32_t n_fields = static_cast<int32_t>(fields.size());
    bool all_present = true;
    for (const Table::FastTest& t : table.fast_tests[r]) {
      if (t.slot >= n_fields || !f.state[t.slot]) { all_present = false; break; }
      int128 x = f.slots[t.slot].n;
      bool ok;
      switch (t.kind) {
        case TestKind::ge: ok = x >= t.bound; break;
        case TestKind::gt: ok = x > t.bound; break;
        case TestKind::le: ok = x <= t.bound; break;
        case TestKind::lt: ok = x < t.bound; break;
        case TestKind::eq: ok = x == t.bound; break;
        default: ok = x != t.bound; break;
      }
      if (!ok) return false;
    }
    if (all_present) return true;
  }
  return tests_match(f, table, indexed ? table.indexed_tests[r] : table.rows[r].tests);
}

bool Program::row_matches(Frame& f, const Table& table, const Row& row) const {
  return tests_match(f, table, row.tests);
}

const std::vector<int32_t>* Program::candidates(Frame& f, const Table& table) const {
  if (table.index_column < 0) return nullptr;
  const Node& column = nodes[table.columns[table.index_column]];
  int128 code = column.op == Op::field || column.op == Op::derived ? slot(f, column.index).n
                                                                   : eval(f, table.columns[table.index_column]).n;
  if (code < 0 || code >= static_cast<int128>(table.rows_by_code.size())) throw InternalError("enum code out of range");
  return &table.rows_by_code[static_cast<size_t>(code)];
}

namespace {

// A frame's scratch list of matching rows, taken from its pool for as long
// as one table needs it: evaluating a row's cells or results may evaluate
// another table, which takes a list of its own.
class MatchList {
 public:
  explicit MatchList(Frame& f) : f_(f) {
    if (!f_.match_pool.empty()) {
      rows_ = std::move(f_.match_pool.back());
      f_.match_pool.pop_back();
    }
    rows_.clear();
  }
  ~MatchList() { f_.match_pool.push_back(std::move(rows_)); }
  MatchList(const MatchList&) = delete;
  MatchList& operator=(const MatchList&) = delete;
  std::vector<int32_t>& rows() { return rows_; }

 private:
  Frame& f_;
  std::vector<int32_t> rows_;
};

}  // namespace

void Program::all_matches(Frame& f, const Table& table, std::vector<int32_t>& out) const {
  if (compiled_applies(f, table)) {
    compiled_rows(f, table, &out);
    return;
  }
  out.clear();
  if (const auto* rows = candidates(f, table)) {
    for (int32_t r : *rows) {
      if (row_passes(f, table, r, true)) out.push_back(r);
    }
    return;
  }
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (row_passes(f, table, static_cast<int32_t>(r), false)) out.push_back(static_cast<int32_t>(r));
  }
}

// The row a table's outputs come from (first, unique, any, priority), or -2
// when no row matches. Column values are read lazily: a column no row reaches
// is never computed.
int32_t Program::table_row(Frame& f, int32_t t) const {
  if (f.table_hit[t] != -1) return f.table_hit[t];
  const Table& table = tables[t];
  int32_t hit = -2;
  auto line = [&](int32_t r) { return table.row_lines[r]; };
  switch (table.policy) {
    case HitPolicy::first:
      if (compiled_applies(f, table)) {
        hit = compiled_rows(f, table, nullptr);
        break;
      }
      if (const auto* rows = candidates(f, table)) {
        for (int32_t r : *rows) {
          if (row_passes(f, table, r, true)) { hit = r; break; }
        }
        break;
      }
      for (size_t r = 0; r < table.rows.size(); ++r) {
        if (row_passes(f, table, static_cast<int32_t>(r), false)) { hit = static_cast<int32_t>(r); break; }
      }
      break;
    case HitPolicy::unique: {
      MatchList list(f);
      std::vector<int32_t>& matches = list.rows();
      all_matches(f, table, matches);
      if (matches.size() > 1) {
        throw EvalError(fmt::format("rows at lines {} and {} of table `{}` both match, and its hit policy is unique",
                                    line(matches[0]), line(matches[1]), table.name));
      }
      if (!matches.empty()) hit = matches[0];
      break;
    }
    case HitPolicy::any: {
      MatchList list(f);
      std::vector<int32_t>& matches = list.rows();
      all_matches(f, table, matches);
      for (size_t k = 1; k < matches.size(); ++k) {
        for (size_t o = 0; o < table.output_slots.size(); ++o) {
          Value a = eval(f, table.rows[matches[0]].outputs[o]);
          Value b = eval(f, table.rows[matches[k]].outputs[o]);
          bool same = table.output_types[o].base == BaseType::text ? a.s == b.s : a.n == b.n;
          if (!same) {
            throw EvalError(fmt::format("rows at lines {} and {} of table `{}` both match with different results, and its hit policy is any",
                                        line(matches[0]), line(matches[k]), table.name));
          }
        }
      }
      if (!matches.empty()) hit = matches[0];
      break;
    }
    case HitPolicy::priority: {
      // The matching row whose results come first in their enums' order
      // wins: the first enum column decides, the next breaks its ties.
      MatchList list(f);
      std::vector<int32_t>& matches = list.rows();
      all_matches(f, table, matches);
      for (int32_t r : matches) {
        if (hit < 0 || compare_priority(f, table, r, hit) < 0) hit = r;
      }
      break;
    }
    case HitPolicy::collect:
    case HitPolicy::rule_order:
    case HitPolicy::output_order:
      throw InternalError("collect tables have no single row");
  }
  if (hit == -2 && table.has_else) hit = kElseRow;
  f.table_hit[t] = hit;
  return hit;
}

// Negative when row a's results come before row b's in their enums' order;
// a missing result (`missing`) comes after every value.
int Program::compare_priority(Frame& f, const Table& table, int32_t a, int32_t b) const {
  for (size_t o = 0; o < table.output_types.size(); ++o) {
    if (table.output_types[o].base != BaseType::enum_ || table.output_types[o].is_set) continue;
    Value x = eval(f, table.rows[a].outputs[o]), y = eval(f, table.rows[b].outputs[o]);
    if (is_missing(x) != is_missing(y)) return is_missing(x) ? 1 : -1;
    if (x.n != y.n) return x.n < y.n ? -1 : 1;
  }
  return 0;
}

// `rule order`: the results of every matching row, in the rows' order;
// `output order`: sorted by the enum columns (as priority), ties in rows'
// order. Duplicates are kept. One list per result column.
Value Program::ordered(Frame& f, const Table& table, int32_t column) const {
  MatchList list(f);
  std::vector<int32_t>& matches = list.rows();
  all_matches(f, table, matches);
  if (table.policy == HitPolicy::output_order) {
    std::stable_sort(matches.begin(), matches.end(),
                     [&](int32_t a, int32_t b) { return compare_priority(f, table, a, b) < 0; });
  }
  std::string joined;
  if (matches.empty() && table.has_else) {
    // No row matches: the `else` row's results, as the one item.
    f.cover(table.else_cover);
    append_text(joined, value(f, table.else_outputs[column]), table.output_types[column]);
    if (f.trace) note(f, fmt::format("✓ line {} of `{}`: {} (no row matches)", table.else_line, table.name, table.else_text));
    f.collected.push_back(std::move(joined));
    return {0, f.collected.back()};
  }
  for (size_t k = 0; k < matches.size(); ++k) {
    f.cover(table.rows[matches[k]].cover);
    if (k) joined += kSetSeparator;
    Value v = eval(f, table.rows[matches[k]].outputs[column]);
    append_text(joined, v, table.output_types[column]);
  }
  if (f.trace) {
    std::string lines;
    for (int32_t r : matches) lines += (lines.empty() ? "" : ", ") + std::to_string(table.row_lines[r]);
    note(f, fmt::format("✓ `{}` ({}): {}", table.name, table.policy == HitPolicy::rule_order ? "rule order" : "output order",
                        matches.empty() ? std::string("no row matches") : "rows at lines " + lines));
  }
  f.collected.push_back(std::move(joined));
  return {0, f.collected.back()};
}

Value Program::collect(Frame& f, const Table& table, const Type& result) const {
  MatchList list(f);
  std::vector<int32_t>& matches = list.rows();
  all_matches(f, table, matches);
  for (int32_t r : matches) f.cover(table.rows[r].cover);
  if (matches.empty() && table.has_else) {
    f.cover(table.else_cover);
    return value(f, table.else_outputs[0]);
  }
  const Type& cell = table.output_types[0];
  switch (table.collect) {
    case CollectOp::count:
      return num(Decimal::from_int(static_cast<int64_t>(matches.size())));
    case CollectOp::sum: {
      Decimal sum;
      for (int32_t r : matches) sum = sum + dec(eval(f, table.rows[r].outputs[0]));
      return num(sum);
    }
    case CollectOp::min:
    case CollectOp::max: {
      if (matches.empty()) throw EvalError(fmt::format("no row of table `{}` matches", table.name));
      Value best = eval(f, table.rows[matches[0]].outputs[0]);
      for (size_t k = 1; k < matches.size(); ++k) {
        Value v = eval(f, table.rows[matches[k]].outputs[0]);
        if (table.collect == CollectOp::min ? v.n < best.n : v.n > best.n) best = v;
      }
      return best;
    }
    case CollectOp::list: {
      if (cell.base == BaseType::enum_) {
        int128 mask = 0;
        for (int32_t r : matches) mask |= static_cast<int128>(1) << static_cast<int>(eval(f, table.rows[r].outputs[0]).n);
        return {mask, {}};
      }
      // set<text>: the texts are constants of the program, joined once per
      // distinct combination would be ideal; keep the order of the rows.
      std::string joined;
      for (int32_t r : matches) {
        if (!joined.empty()) joined += kSetSeparator;
        joined.append(eval(f, table.rows[r].outputs[0]).s);
      }
      (void)result;
      f.collected.push_back(std::move(joined));
      return {0, f.collected.back()};
    }
  }
  return {};
}

inline bool Program::test_cell(Frame* f, const CellTest& c, const Value& v) const {
  auto bound = [&](int32_t node, const Value& k) { return node >= 0 && f ? eval(*f, node) : k; };
  auto ord = [&](const Value& k) { return c.text ? order_of(v.s, k.s) : order_of(v.n, k.n); };
  switch (c.kind) {
    case TestKind::any: return true;
    case TestKind::missing: return false;  // a present value (missing ones are tested before)
    case TestKind::lt: return ord(bound(c.low_node, c.low)) < 0;
    case TestKind::le: return ord(bound(c.low_node, c.low)) <= 0;
    case TestKind::gt: return ord(bound(c.low_node, c.low)) > 0;
    case TestKind::ge: return ord(bound(c.low_node, c.low)) >= 0;
    case TestKind::eq: return ord(bound(c.low_node, c.low)) == 0;
    case TestKind::ne: return ord(bound(c.low_node, c.low)) != 0;
    case TestKind::range: {
      int lo = ord(bound(c.low_node, c.low));
      if (c.low_closed ? lo < 0 : lo <= 0) return false;
      int hi = ord(bound(c.high_node, c.high));
      return c.high_closed ? hi <= 0 : hi < 0;
    }
    case TestKind::in_set:
    case TestKind::not_in_set:
      return sets[c.set].contains(v) == (c.kind == TestKind::in_set);
  }
  return false;
}

namespace {
// Values worth trying to find one that two tests of a column both pass: the
// tests' bounds, a step either side of each (the smallest step and a whole
// unit), the sets' members, small codes (enums), and texts beside the bounds.
void candidates_of(const CellTest& t, const std::vector<ConstSet>& sets, std::vector<Value>& out) {
  auto around = [&](const Value& v) {
    out.push_back(v);
    if (t.text) return;
    for (int128 step : {int128{1}, static_cast<int128>(Decimal::kScale), int128{kDurationMonth}}) {
      out.push_back({v.n - step, {}});
      out.push_back({v.n + step, {}});
    }
  };
  if (t.kind != TestKind::any && t.kind != TestKind::missing && t.kind != TestKind::in_set && t.kind != TestKind::not_in_set) {
    around(t.low);
    if (t.kind == TestKind::range) around(t.high);
  }
  if ((t.kind == TestKind::in_set || t.kind == TestKind::not_in_set) && t.set >= 0) {
    const ConstSet& s = sets[t.set];
    for (auto text : s.texts) out.push_back({0, text});
    for (int128 n : s.numbers) around({n, {}});
    for (int i = 0; i < 128; ++i) {
      if ((s.mask >> i) & 1) out.push_back({i, {}});
    }
  }
}
}  // namespace

std::vector<int32_t> Program::rows_meeting(int32_t t, int32_t r) const {
  std::vector<int32_t> out;
  const Table& table = tables[t];
  const Row& row = table.rows[r];
  static const std::string_view kTexts[] = {"", "\x7f", "\xef\xbf\xbf"};
  for (size_t other = 0; other < table.rows.size(); ++other) {
    if (static_cast<int32_t>(other) == r) continue;
    bool meet = true;
    for (size_t column = 0; meet && column < table.columns.size(); ++column) {
      const CellTest* a = nullptr;
      const CellTest* b = nullptr;
      for (const auto& c : row.tests) if (c.column == static_cast<int32_t>(column)) a = &c;
      for (const auto& c : table.rows[other].tests) if (c.column == static_cast<int32_t>(column)) b = &c;
      if (!a || !b || a->kind == TestKind::any || b->kind == TestKind::any) continue;
      if (a->low_node >= 0 || a->high_node >= 0 || b->low_node >= 0 || b->high_node >= 0) continue;  // bounds computed per customer
      if (a->kind == TestKind::missing || b->kind == TestKind::missing) {
        meet = a->kind == b->kind;
        continue;
      }
      std::vector<Value> tries;
      candidates_of(*a, sets, tries);
      candidates_of(*b, sets, tries);
      if (a->text || b->text) {
        for (auto s : kTexts) tries.push_back({0, s});
      } else {
        for (int i = 0; i < 128; ++i) tries.push_back({i, {}});
      }
      meet = std::any_of(tries.begin(), tries.end(), [&](const Value& v) {
        return test_cell(nullptr, *a, v) && test_cell(nullptr, *b, v);
      });
    }
    if (meet) out.push_back(static_cast<int32_t>(other));
  }
  return out;
}

Value Program::eval(Frame& f, int32_t index) const {
  const Node& n = nodes[index];
  // Operands that are constants or slots are read in place, not evaluated.
  auto A = [&]() { return value(f, n.a); };
  auto B = [&]() { return value(f, n.b); };
  auto NA = [&]() { return Decimal::from_raw(number(f, n.a)); };
  auto NB = [&]() { return Decimal::from_raw(number(f, n.b)); };
  try {
    switch (n.op) {
      case Op::constant: return n.constant;
      case Op::field:
      case Op::derived: return slot(f, n.index);
      case Op::today:
        if (!f.has_today) throw EvalError("the rules use `today`: give the evaluation date (--as-of YYYY-MM-DD)");
        return whole(f.today);
      case Op::add: return num(NA() + NB());
      case Op::sub: return num(NA() - NB());
      case Op::mul: return num(NA() * NB());
      case Op::div: {
        Value a = A(), b = B();
        if (b.n == 0) throw EvalError("division by zero");
        return num(dec(a) / dec(b));
      }
      case Op::neg: return num(-dec(A()));
      case Op::add_days: return whole(checked_days(A().n + B().n));
      case Op::sub_days: return whole(checked_days(A().n - B().n));
      // months by the calendar (31 January + 1 month = 28 or 29 February), then days
      case Op::add_months: {
        int128 d = B().n;
        return whole(checked_days(add_months(static_cast<int32_t>(A().n), duration_months(d)) + duration_days(d)));
      }
      case Op::sub_months: {
        int128 d = B().n;
        return whole(checked_days(add_months(static_cast<int32_t>(A().n), -duration_months(d)) - duration_days(d)));
      }
      case Op::date_diff: return whole(A().n - B().n);
      case Op::iadd: return whole(duration_in_range(A().n + B().n));
      case Op::isub: return whole(duration_in_range(A().n - B().n));
      case Op::imul: {
        // a whole duration times an int (a Decimal raw value)
        Value a = A(), b = B();
        Decimal k = dec(b);
        auto w = k.to_int64();
        if (!w) throw EvalError("a duration is multiplied by whole numbers only");
        if (*w > kMaxDurationDays || *w < -kMaxDurationDays) throw EvalError("duration out of range");
        return whole(duration_parts_in_range(duration_months(a.n) * *w, duration_days(a.n) * *w));
      }
      case Op::ineg: return whole(-A().n);
      case Op::cmp_num: {
        int128 a = number(f, n.a);
        return whole(compare(n.cmp, order_of(a, number(f, n.b))) ? 1 : 0);
      }
      case Op::cmp_text: {
        Value a = A(), b = B();
        return whole(compare(n.cmp, order_of(a.s, b.s)) ? 1 : 0);
      }
      case Op::and_: return whole(number(f, n.a) && number(f, n.b) ? 1 : 0);
      case Op::or_: return whole(number(f, n.a) || number(f, n.b) ? 1 : 0);
      case Op::not_: return whole(number(f, n.a) ? 0 : 1);
      case Op::present: {
        bool present = !is_missing(A());
        return whole(present != n.negated ? 1 : 0);
      }
      case Op::coalesce: {
        Value a = A();
        return is_missing(a) ? B() : a;
      }
      case Op::in_set: {
        bool in = sets[n.index].contains(A());
        return whole(in != n.negated ? 1 : 0);
      }
      case Op::set_has: {
        Value s = A(), x = B();
        bool in = n.text ? set_text_has(s.s, x.s) : (x.n >= 0 && x.n < 128 && ((s.n >> static_cast<int>(x.n)) & 1));
        return whole(in != n.negated ? 1 : 0);
      }
      case Op::set_has_bit: {
        Value s = A();
        bool in = (s.n >> n.index) & 1;
        return whole(in != n.negated ? 1 : 0);
      }
      case Op::set_size: {
        Value s = A();
        int64_t count = 0;
        if (!n.text) {
          for (unsigned __int128 m = static_cast<unsigned __int128>(s.n); m; m &= m - 1) ++count;
        } else if (!s.s.empty()) {
          count = 1 + std::count(s.s.begin(), s.s.end(), kSetSeparator);
        }
        return num(Decimal::from_int(count));
      }
      case Op::text_contains: {
        Value a = A(), b = B();
        return whole(a.s.find(b.s) != std::string_view::npos ? 1 : 0);
      }
      case Op::starts_with: {
        Value a = A(), b = B();
        return whole(a.s.starts_with(b.s) ? 1 : 0);
      }
      case Op::min:
      case Op::max: {
        Value best = eval(f, args[n.index]);
        for (int32_t i = 1; i < n.count; ++i) {
          Value v = eval(f, args[n.index + i]);
          if (n.op == Op::min ? v.n < best.n : v.n > best.n) best = v;
        }
        return best;
      }
      case Op::abs: return num(dec(A()).abs());
      case Op::round: return num(dec(A()).round_half_up(n.count));
      case Op::floor: return num(dec(A()).floor());
      case Op::ceil: return num(dec(A()).ceil());
      case Op::years_between: {
        int128 m = months_between(static_cast<int32_t>(A().n), static_cast<int32_t>(B().n));
        return num(Decimal::from_int(static_cast<int64_t>(m / 12)));
      }
      case Op::months_between:
        return num(Decimal::from_int(static_cast<int64_t>(
            months_between(static_cast<int32_t>(A().n), static_cast<int32_t>(B().n)))));
      case Op::days_between: return num(Decimal::from_int(static_cast<int64_t>(B().n - A().n)));
    }
  } catch (const ArithmeticError& e) {
    throw EvalError(e.what());
  }
  throw InternalError("unknown node");
}

}  // namespace stratum::eval
