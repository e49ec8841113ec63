// Program: the evaluation tree a rule file compiles to.
//
// Everything is resolved to indexes before the first customer: fields,
// derived values and decisions are slots in a Frame, enum values are small
// integer codes, text constants and sets live in the Program. Evaluating a
// customer walks flat arrays of nodes with a switch; it looks up no names,
// touches no maps and allocates nothing. Derived values are computed on
// first use and at most once per customer, so a `let` that a customer never
// needs is never computed (and cannot fail for it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "source/source_file.hpp"
#include "value/decimal.hpp"
#include "value/enum_info.hpp"
#include "value/type.hpp"

namespace stratum::eval {

// A value in a slot. Numbers (int, decimal, money) are Decimal raw values;
// bool is 0/1; dates are days since 1970-01-01; durations are whole days or
// months; enums are codes; set<enum> is a bit mask of codes. Text and
// set<text> (elements separated by '\x1f') live in `s`.
struct Value {
  int128 n = 0;
  std::string_view s;
};

// The marker of a missing (optional, absent) value: `s` points here.
extern const char kMissingTag[1];
inline Value missing_value() { return {0, std::string_view(kMissingTag, 0)}; }
inline bool is_missing(const Value& v) { return v.s.data() == kMissingTag; }

constexpr char kSetSeparator = '\x1f';

// Raised for one customer: overflow, division by zero, no row matched, a test
// that did not give a field the rules needed.
struct EvalError : std::runtime_error {
  using std::runtime_error::runtime_error;
  std::string decision;  // the decision, `let` or plan item whose evaluation failed (innermost)
  const char* kind = "decision";  // which of them: "decision", "let", "plan item"
  std::string at;        // "file:line" of the rule that rejected, when one did (`reject "…"`)
};

enum class Op : uint8_t {
  constant, field, derived, today,
  add, sub, mul, div, neg,            // Decimal
  add_days, add_months, sub_days, sub_months, date_diff,  // dates
  iadd, isub, imul, ineg,             // whole durations (days / months)
  cmp_num, cmp_text,                  // compare; `cmp` says which comparison
  and_, or_, not_, present, coalesce,
  in_set,          // a in constant set
  set_has,         // set value (a) contains element (b)
  set_has_bit,     // set<text> field (a) holds the known text number `index`
  set_size,        // how many members set (a) has (a list: items); `text`: a set of texts
  text_contains, starts_with,
  min, max, abs, round, floor, ceil,
  years_between, months_between, days_between,
};

enum class Cmp : uint8_t { eq, ne, lt, le, gt, ge };

// Where a branch, row or factor was written, for explanations: its line, its
// text, and the slots whose values decided it.
struct Origin {
  Span span;
  uint32_t line = 0;
  std::string text;
  std::vector<int32_t> slots;
  int32_t cover = -1;  // coverage point, see Program::coverage_points
};

// Something a test should reach: a branch, a row, a grid cell, a bin, a plan item.
struct CoveragePoint {
  std::string file;
  uint32_t line = 0;
  std::string what;
};

struct Node {
  Op op = Op::constant;
  Cmp cmp = Cmp::eq;
  bool negated = false;   // `not in`, `is missing`
  bool text = false;      // min/max over... (unused); in_set over text
  int32_t a = -1, b = -1; // operands
  int32_t index = -1;     // slot, set, or first argument in Program::args
  int32_t count = 0;      // number of arguments
  Value constant;
};

struct ConstSet {
  bool text = false;
  int128 mask = 0;                      // enums
  std::vector<std::string_view> texts;  // sorted
  std::vector<int128> numbers;          // sorted
  bool contains(const Value& v) const {
    if (text) return std::binary_search(texts.begin(), texts.end(), v.s);
    if (!numbers.empty() || mask == 0) return std::binary_search(numbers.begin(), numbers.end(), v.n);
    return v.n >= 0 && v.n < 128 && ((mask >> static_cast<int>(v.n)) & 1);
  }
};

struct Branch {
  int32_t condition = -1;  // -1: else
  int32_t result = -1;     // -1: reject
  std::string reject;      // the reason of `reject "…"`
  Origin origin;
};

enum class TestKind : uint8_t { any, lt, le, gt, ge, eq, ne, range, in_set, not_in_set, missing };

struct CellTest {
  int32_t column = 0;
  int32_t slot = -1;  // the slot the column reads, when it names a value (read in place)
  TestKind kind = TestKind::any;
  bool text = false;
  bool low_closed = true, high_closed = false;
  int32_t low_node = -1, high_node = -1;  // non-constant bounds
  Value low, high;                        // constant bounds
  int32_t set = -1;
};

struct Row {
  std::vector<CellTest> tests;  // only the cells that test something
  std::vector<int32_t> outputs; // nodes
  std::string text;             // the row as written
  int32_t cover = -1;
  Span span;
};

enum class HitPolicy : uint8_t { first, unique, priority, any, collect, rule_order, output_order };
enum class CollectOp : uint8_t { list, sum, min, max, count };

// table_row's answer when no row matches and the table has an `else` row.
inline constexpr int32_t kElseRow = -3;

struct Table {
  std::string name;
  Span span;
  HitPolicy policy = HitPolicy::first;
  CollectOp collect = CollectOp::list;
  std::vector<int32_t> columns;  // nodes
  std::vector<Row> rows;
  std::vector<uint32_t> row_lines;  // source line of each row, for messages
  std::vector<int32_t> output_slots;
  std::vector<Type> output_types;   // the types of the row cells
  std::vector<std::string> column_names;
  std::vector<int32_t> column_slots;  // the slot a column reads, -1 when it is an expression
  bool propagate_missing = false;   // a grid over optional values: missing in, missing out
  std::vector<uint8_t> column_may_be_missing;  // per column written `x?`: a missing value is tested (see tests_match)
  bool grid = false;                // written as a grid: two columns, one output
  // `else || …`: the results when no row matches (table_row gives kElseRow).
  bool has_else = false;
  std::vector<int32_t> else_outputs;  // nodes
  uint32_t else_line = 0;
  std::string else_text;
  int32_t else_cover = -1;
  // Index on an enum column: for each code, the rows that can match it, in
  // order (the column's own test is then known to pass and is skipped).
  int32_t index_column = -1;
  std::vector<std::vector<int32_t>> rows_by_code;
  std::vector<std::vector<CellTest>> indexed_tests;  // per row: its tests without the indexed column's
  // The common case compacted: a row whose every remaining test compares a
  // field with a constant (>= 300, < 2000万, == 工业) is tried from these
  // 32-byte entries instead; `fast_rows[r]` is false where a test needs more.
  struct FastTest {
    int128 bound;
    int32_t slot;
    TestKind kind;
  };
  std::vector<std::vector<FastTest>> fast_tests;
  std::vector<uint8_t> fast_rows;
  // The table compiled to decision structures (Program::compile_rows), when
  // every column it tests reads a field or a computed value: the rows a
  // customer matches are found per column, not row by row. Used when every
  // field the table reads is present and every computed value it reads is
  // computed, not missing (then no cell can fail, and the rows found are
  // exactly the rows that match); otherwise the rows are tried in order as
  // above. See eval/row_sets.cpp.
  struct RowSets {
    std::vector<int32_t> fields;    // every field a cell reads
    std::vector<int32_t> computed;  // every computed value (let, decision) a cell reads
    // Small groups (every row after the enum index tests only numeric
    // fields against constant intervals, at most 64 rows per code): per code,
    // each row's interval tests flattened, one bit per candidate row; the
    // failing bits are or-ed without a branch, the first row left wins.
    struct Bound {
      int128 bound;   // a lower bound (x < bound fails) or an upper one (x > bound fails)
      int32_t slot;
      uint64_t bit;
    };
    bool small = false;
    int32_t group_slot = -1;  // the enum field choosing the group (-1: one group, every row)
    std::vector<std::vector<Bound>> group_lows, group_highs;
    std::vector<std::vector<int32_t>> group_rows;  // per group: the row of each bit
    // Large tables: per column, the rows each value passes, as bit sets
    // (one bit per row): numbers by elementary interval between the sorted
    // constant bounds (binary search), enums by code; a customer's rows are
    // the AND over the columns. Rows with a test no column decides
    // (`verify`) are then tried as written.
    struct Column {
      int32_t slot = -1;
      bool by_code = false;         // an enum column: one set per code
      std::vector<int128> bounds;   // sorted, distinct; interval 2k+1 is bounds[k] itself
      std::vector<uint64_t> sets;   // per interval (or code): `words` words
    };
    int32_t words = 0;
    std::vector<Column> columns;
    std::vector<uint64_t> verify;
    std::vector<uint64_t> all;      // every row
  };
  std::optional<RowSets> row_sets;
  // Every row's results, row after row, when every result cell is a
  // constant (read without following the row to its nodes).
  std::vector<Value> row_results;
};

// How many derived values may be computed one inside another (a `let` using a
// decision using a `let` …); beyond it the customer is rejected, never the
// stack overflowed. The checker limits chains of lets to fewer.
inline constexpr int32_t kMaxNesting = 2000;


// held: a stable value's candidate (`NAME@candidate`) or its periods in a row (`NAME@periods`).
enum class DerivedKind : uint8_t { let, decide, table, scorecard, factor, segment, plan_item, capacity, held };

struct ScoreAdjustment {
  bool multiply = true;
  int32_t amount = -1;     // node
  int32_t condition = -1;  // node
  Origin origin;
};

struct Scorecard {
  std::string name;
  std::vector<int32_t> factor_slots;
  std::vector<int32_t> weights;  // nodes; -1: weight 1
  std::vector<uint8_t> weight_percent;  // written as a percentage (`weight 50%`): explained as one
  std::vector<ScoreAdjustment> adjustments;
};

struct ScoreFactor {
  std::string name;
  std::vector<std::string> bin_texts;  // per bin, as written; then the else bin
  std::vector<int32_t> bin_covers;     // per bin; then the else bin
  int32_t value = -1;                                // node
  std::vector<std::pair<CellTest, int32_t>> bins;    // test → points node
  int32_t else_points = -1;                          // node, -1: none
};

struct SegmentNode {
  std::string name;
  std::vector<std::pair<int32_t, int32_t>> branches;  // condition node (-1: else) → child node
  std::vector<Origin> origins;                        // per branch
  int32_t leaf = -1;
  int32_t parent = -1;
};

// A conditional plan (`plan [NODE] when COND { … }`), for the plan items it sets.
struct PlanCondition {
  int32_t condition = -1;        // node
  std::vector<uint8_t> leaves;   // per leaf, 1 under the plan's segment; empty: every customer
  std::string text;              // "战略性客户 when 存量客户分群 == 重要", for explanations
  uint32_t line = 0;
};

// One conditional plan's value for a plan item.
struct ConditionalSetting {
  int32_t plan = -1;   // index into Program::plan_conditions
  int32_t value = -1;  // node
  int32_t cover = -1;  // coverage point
};

// `capacity NODE { … }`: at most `limit` customers at NODE or below it (per
// value of `per_slot`), the first by `rank_slot` (descending unless
// `ascending`; ties by key); the others go to `overflow_leaf` (its plan
// only, with `plan_only`). Applied over a whole portfolio (engine/capacity).
// `stability NAME { … }`: the value of `slot` a customer gets is the
// previous period's while the rules' value (the candidate) has not been
// lower (higher) for `down` (`up`) periods in a row, counted per value left.
struct Stability {
  std::string name;
  int32_t slot = -1;            // the decision or the segment
  int32_t candidate_slot = -1;  // `NAME@candidate`: the rules' value this period
  int32_t periods_slot = -1;    // `NAME@periods`: periods in a row the candidate has been on one side (0: not held)
  std::vector<int32_t> rank;    // per value: 0 the lowest; -1 not ordered (moves at once)
  std::vector<int32_t> down, up;
  uint32_t line = 0;
};

// The previous period's output for one stable value of one customer.
struct Previous {
  int32_t value = -1;      // the value decided then; -1: no previous period (a new customer)
  int32_t candidate = -1;  // the candidate then
  int64_t periods = 0;     // the periods in a row counted then
};

struct Capacity {
  std::string node;
  std::vector<uint8_t> leaves;  // per leaf: 1 when it is NODE or below it
  int64_t limit = 0;
  int32_t per_slot = -1;        // -1: one group
  std::string per_name;
  int32_t rank_slot = -1;
  std::string rank_name;
  bool ascending = false;
  int32_t overflow_leaf = -1;
  std::string overflow_name;
  bool plan_only = false;
};

struct Derived {
  DerivedKind kind = DerivedKind::let;
  std::string name;
  Span span;
  Type type;
  int32_t node = -1;      // let
  std::vector<Branch> branches;  // decide
  int32_t table = -1;     // table
  int32_t column = 0;     // table output column
  int32_t index = -1;     // scorecard / factor index
  std::vector<int32_t> by_leaf;  // plan item: value node per leaf (-1: not set)
  std::vector<int32_t> from_node;  // plan item: the segment node whose plan set it, per leaf
  std::vector<int32_t> leaf_covers;  // plan item: the coverage point of that setting, per leaf
  std::vector<ConditionalSetting> conditional;  // plan item: conditional plans first, in file order
  bool percent = false;   // written as a percentage (`30%`): explained as one
  int32_t stability = -1; // a decision or the segment held by Program::stabilities[stability]; held: whose
  // A bool `let` made of comparisons joined by and/or/not: each comparison's
  // node and where it is written, so an explanation breaks the value down.
  std::vector<std::pair<int32_t, Origin>> parts;
};

struct Field {
  std::string name;
  std::string column;
  Type type;
  bool optional = false;
  // set<text> fields: the texts the rules test membership of, in bit order.
  // The binder sets bit k of the value's `n` when the set holds text k, so a
  // test like `tags contains "互联网"` is one bit test.
  std::vector<std::string> known_members;
  // The known-member bits of a set<text> value (elements joined by kSetSeparator).
  int128 known_mask(std::string_view joined) const;
  // `in 万`, `in %`: a plain number in the data is × 10^data_scale.
  int data_scale = 0;
  // Compared with a percentage in the rules (`利用率 >= 90%`): explained as one.
  bool percent = false;
  // The field's range (`>= 0`, `in [0, 1]`), when it has one, and its text.
  std::optional<CellTest> domain;
  std::string domain_text;
  // `fixed F`: a counterfactual never moves it (analysis/nearest.hpp).
  bool fixed = false;
};

struct Output {
  std::string name;
  Type type;
  int32_t slot;
  bool plan = false;  // a plan item (JSON: inside "plan")
};

// Per-thread evaluation state, reused from customer to customer.
struct Frame {
  std::vector<Value> slots;
  std::vector<uint8_t> state;  // inputs: 0 missing / 1 present; derived: 0 todo, 1 busy, 2 done
  std::vector<int32_t> table_hit;
  // Scratch lists for hit policies that look at every row, reused from
  // customer to customer; a table evaluated inside another table's rows
  // takes a list of its own (see MatchList).
  std::vector<std::vector<int32_t>> match_pool;
  std::deque<std::string> collected;  // texts built by `collect list` tables, per customer
  int32_t today = 0;
  bool has_today = false;
  // Per stability rule, this customer's previous period (see Stability);
  // set by the engine before each customer when a previous run is given.
  std::vector<Previous> previous;
  bool previous_run = false;  // a previous run was given (a customer absent from it is new)
  int32_t nesting = 0;         // derived values being computed, one inside another
  // Per conditional plan, this customer's condition: -1 not yet evaluated,
  // else 0/1. Several plan items share one plan's condition.
  std::vector<int8_t> plan_conditions;
  bool test_mode = false;      // a missing required field means "not given"
  // Tables tried row by row even where compiled (Table::row_sets): the
  // semantics the compiled structures are tested against.
  bool row_by_row = false;
  std::vector<uint64_t> row_mask;  // scratch: a compiled table's candidate rows
  // Explanations: when set, evaluation appends what decided each value.
  std::vector<std::string>* trace = nullptr;
  int trace_depth = 0;
  // Explanations: what each plan item read (the private tables and lets
  // computed for it), by derived index; shown under the item's line.
  std::vector<std::vector<std::string>> plan_trace;
  // Coverage: when set, every branch, row, bin and plan item reached is
  // marked (`covered`), or listed for the customer at hand (`reached`, for
  // reports over a portfolio: counted once the customer is decided).
  std::vector<uint8_t>* covered = nullptr;
  std::vector<int32_t>* reached = nullptr;
  void cover(int32_t point) {
    if (point < 0) return;
    if (covered) (*covered)[point] = 1;
    if (reached) reached->push_back(point);
  }
};

struct TestCase {
  std::string name;
  Span span;
  std::optional<int32_t> today;  // `given { today: … }`
  std::vector<std::pair<int32_t, Value>> given;  // field slot → value
  struct Expectation {
    std::string name;
    Span span;
    int32_t slot;
    Type type;
    Value value;
    std::string reject;  // expected rejection reason (then `value` is unused)
  };
  std::vector<Expectation> expect;
};

class Program {
 public:
  std::string ruleset, version;
  std::optional<int32_t> effective;  // `effective DATE`: days since 1970-01-01
  std::vector<EnumInfo> enums;
  std::vector<Field> fields;     // slots [0, fields.size())
  std::vector<Derived> derived;  // slots [fields.size(), …)
  std::vector<Output> outputs;   // the decisions, in declaration order
  std::vector<Node> nodes;
  std::vector<int32_t> args;
  std::vector<ConstSet> sets;
  std::vector<Table> tables;
  std::vector<Scorecard> scorecards;
  std::vector<ScoreFactor> factors;
  std::vector<SegmentNode> segment_nodes;  // node 0 is the root
  int32_t segment_slot = -1;               // -1: the rules have no segment tree
  std::vector<PlanCondition> plan_conditions;  // conditional plans, in file order
  std::vector<Capacity> capacities;
  int32_t capacity_slot = -1;
  std::vector<Stability> stabilities;  // the `capacity` output: why a limit moved the customer (missing: it did not)
  std::vector<TestCase> tests;
  int32_t key_field = -1;
  bool uses_today = false;
  std::vector<CoveragePoint> coverage_points;

  size_t slot_count() const { return fields.size() + derived.size(); }
  Frame make_frame() const;
  // Clears the derived values of the previous customer; inputs stay to be overwritten.
  void reset(Frame& f) const;
  // Computes every output. Throws EvalError.
  void evaluate(Frame& f) const;
  // Computes one slot (a field is read, a derived value computed on demand).
  // A present field or a value already computed is read here, inline.
  const Value& slot(Frame& f, int32_t s) const {
    if (f.state[s] == (static_cast<size_t>(s) < fields.size() ? 1 : 2)) return f.slots[s];
    return slot_slow(f, s);
  }
  // Whether a value lies in its field's range (true when it has none).
  bool in_domain(const Field& field, const Value& v) const;
  // Whether a present value passes a cell with constant bounds.
  bool passes(const CellTest& t, const Value& v) const;
  // Evaluates one node (lowering uses it to fold constants).
  Value evaluate_node(Frame& f, int32_t node) const { return eval(f, node); }

  // Compiles table t's decision structures (Table::row_sets) where it can.
  void compile_rows(int32_t t);
  // The rows of table t that match the customer in f, in order (compiled
  // structures where they apply, else row by row; see Frame::row_by_row).
  std::vector<int32_t> matching_rows(Frame& f, int32_t t) const {
    std::vector<int32_t> out;
    all_matches(f, tables[t], out);
    return out;
  }
  // The row a single-hit table gives (-2 none, kElseRow), not remembered.
  int32_t table_hit(Frame& f, int32_t t) const {
    f.table_hit[t] = -1;
    int32_t hit = table_row(f, t);
    f.table_hit[t] = -1;
    return hit;
  }

  // The rows of table `t` that can match a customer row `r` matches, as far
  // as each column's own tests tell (two rows over columns computed from
  // the same value may still never meet): for editors, what may shadow a row.
  std::vector<int32_t> rows_meeting(int32_t t, int32_t r) const;

  // The plan items' explanation for the customer's leaf ("服务团队 from 战略性客户").
  void explain_plan(Frame& f, std::vector<std::string>& out) const;
  // Marks the plan items of the customer's leaf as reached (for coverage).
  void cover_plan(Frame& f) const;
  // Which setting gives plan item d to this customer: the index of the
  // conditional setting that applies, or -1 for the tree's plans.
  int32_t plan_setting(Frame& f, const Derived& d, int32_t leaf) const;

  // Text storage for constants: addresses stay valid.
  std::string_view intern(std::string text);
  std::string format(const Value& v, const Type& t) const;  // for messages and outputs
  std::string shown(const Value& v, const Type& t, bool percent) const;  // for explanations: 2.6亿, 150万, 12%
  bool percent_slot(int32_t s) const;
  // Appends the value's text to `out`; for the output writers (no temporaries).
  void append_text(std::string& out, const Value& v, const Type& t) const;

 private:
  std::deque<std::string> strings_;
  const Value& slot_slow(Frame& f, int32_t s) const;
  Value eval(Frame& f, int32_t node) const;
  // A node's number: constants and slots read in place, other nodes evaluated.
  int128 number(Frame& f, int32_t node) const {
    const Node& n = nodes[node];
    if (n.op == Op::constant) return n.constant.n;
    if (n.op == Op::field || n.op == Op::derived) return slot(f, n.index).n;
    return eval(f, node).n;
  }
  int32_t table_row(Frame& f, int32_t table) const;
  bool row_matches(Frame& f, const Table& table, const Row& row) const;
 public:
  // Whether row r of table t applies to the customer in f (analysis uses it
  // to confirm a counter-example before reporting it).
  bool row_applies(Frame& f, int32_t table, int32_t row) const { return row_matches(f, tables[table], tables[table].rows[row]); }
 private:
  void passed_over(Frame& f, const Table& t, int32_t taken) const;
  bool tests_match(Frame& f, const Table& table, const std::vector<CellTest>& tests) const;
  // Row r (its indexed tests when the table is indexed), by the fast path when it can.
  bool row_passes(Frame& f, const Table& table, int32_t r, bool indexed) const;
  // The rows worth trying for this customer: all of them, or the index's candidates.
  const std::vector<int32_t>* candidates(Frame& f, const Table& table) const;
  void all_matches(Frame& f, const Table& table, std::vector<int32_t>& out) const;
  // Compiled structures: whether they apply to this customer; the first
  // matching row (-2: none), and every matching row into `all` when given.
  bool compiled_applies(Frame& f, const Table& table) const;
  int32_t compiled_rows(Frame& f, const Table& table, std::vector<int32_t>* all) const;
  // The rows whose compiled column tests pass, as `words` words in `mask`.
  void compiled_mask(const Frame& f, const Table& table, uint64_t* mask) const;
  Value collect(Frame& f, const Table& table, const Type& result) const;
  Value ordered(Frame& f, const Table& table, int32_t column) const;
  int compare_priority(Frame& f, const Table& table, int32_t a, int32_t b) const;
  // `f` is needed only for a bound computed per customer; null for constant bounds.
  [[gnu::always_inline]] inline bool test_cell(Frame* f, const CellTest& t, const Value& v) const;
  void compute(Frame& f, int32_t s) const;
  void compute_value(Frame& f, int32_t s) const;
  void compute_kind(Frame& f, int32_t s) const;
  void hold(Frame& f, int32_t s, const Derived& d) const;
  // A node's value, constants and slots read directly.
  Value value(Frame& f, int32_t node) const {
    const Node& n = nodes[node];
    if (n.op == Op::constant) return n.constant;
    if (n.op == Op::field || n.op == Op::derived) return slot(f, n.index);
    return eval(f, node);
  }
  void note(Frame& f, std::string line) const;
  void explain_parts(Frame& f, const Derived& d, int32_t node, bool needed) const;
  std::string values_of(Frame& f, const std::vector<int32_t>& slots) const;
  const std::string& slot_name(int32_t s) const;
  std::string value_text(Frame& f, int32_t node) const;
};

// A duration's parts (see kDurationMonth): months × kDurationMonth + days,
// the days part within ±kDurationMonth / 2.
inline int128 make_duration(int128 months, int128 days) { return months * kDurationMonth + days; }
inline int128 duration_months(int128 n) {
  int128 shifted = n + kDurationMonth / 2, q = shifted / kDurationMonth;
  return shifted % kDurationMonth != 0 && shifted < 0 ? q - 1 : q;
}
inline int128 duration_days(int128 n) { return n - duration_months(n) * kDurationMonth; }
// "3 months", "2 weeks", "1 year 10 days"; a zero as "0 months" when the
// duration is in months alone, "0 days" otherwise.
std::string format_duration(int128 n, BaseType base);

}  // namespace stratum::eval
