// The syntax tree of one rule file, as the author wrote it. The checker
// annotates expressions (type, what a name refers to) in place; lowering then
// turns the annotated tree into the evaluation tree (src/compile).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "source/source_file.hpp"
#include "value/decimal.hpp"
#include "value/type.hpp"

namespace stratum::ast {

// ---- types as written -------------------------------------------------------

struct TypeRef {
  Span span;
  std::string name;       // bool int decimal money text date duration, or an enum
  bool is_set = false;    // set<name>
  bool is_list = false;   // list<name>
  bool optional = false;  // trailing '?'
};

// ---- expressions ------------------------------------------------------------

enum class Unit { none, yuan, wan_yuan, yi_yuan, percent, count, years, months, weeks, days };

enum class ExprKind {
  number,    // number + unit
  text,      // "…"
  boolean,
  date,      // 2024-01-01
  today,
  name,      // a field, let, decision or enum value; qualifier for 行业.工业
  set,       // {a, b}
  call,      // f(a, b)
  negate,    // -a
  not_,      // not a
  binary,    // a op b (arithmetic, comparison, and/or, ??)
  presence,  // a is present / a is missing
  empty,     // s is empty / s is not empty
  in,        // a in S / a not in S
  contains,  // S contains a
  load,      // load "file.csv" column c (text: path, qualifier: column); replaced by a set when loaded
  missing,   // `missing` as a table's result: no value (set by the checker)
};

enum class BinaryOp { add, sub, mul, div, eq, ne, lt, le, gt, ge, and_, or_, coalesce };

const char* to_string(BinaryOp op);

// Filled in by the checker: what a name refers to.
enum class RefKind { unresolved, field, let, decision, enum_value, factor };

// Reference data read by `load`: distinct texts, sorted, viewing one buffer
// (a large file costs little more than its own size).
struct LoadedTexts {
  std::string blob;
  std::vector<std::string_view> values;
};

struct Expr {
  ExprKind kind = ExprKind::number;
  Span span;

  // literals
  Decimal number;
  Unit unit = Unit::none;
  std::string text;       // text literal; name; function name
  std::string qualifier;  // enum name in 行业.工业
  bool boolean = false;
  int32_t date_days = 0;  // days since 1970-01-01
  // operators
  BinaryOp op = BinaryOp::add;
  bool negated = false;   // `is missing`, `not in`
  std::vector<std::unique_ptr<Expr>> args;
  int32_t depth = 1;      // height of this expression tree (bounded by the parser)
  std::shared_ptr<const LoadedTexts> loaded;  // a set read by `load` (then `args` is empty)

  // checker annotations
  RefKind ref = RefKind::unresolved;
  int32_t ref_index = -1;  // field / let / decision index, or enum value code
  Type type;               // the checked type
};

using ExprPtr = std::unique_ptr<Expr>;

// A deep copy (grids repeat their row and column tests in every cell).
ExprPtr clone(const Expr& e);

// ---- declarations -----------------------------------------------------------

struct EnumMember {
  std::string name;
  Span span;
};

struct EnumDecl {
  std::string name;
  Span span;
  std::vector<EnumMember> members;
};

struct Cell;

struct FieldDecl {
  std::string name;
  Span span;
  TypeRef type;
  std::shared_ptr<Cell> domain;  // `>= 0`, `in [0, 1]`: values outside reject the record
  std::string data_unit;         // `in 万`: the unit its data arrives in (万元 亿元 万 亿 元 %); empty: plain
  Span data_unit_span;
  std::string column;  // `as "列名"`; empty: the field's name
  Span column_span;
  bool key = false;
  Span key_span;
};

struct InputDecl {
  std::string name;
  Span span;
  std::vector<FieldDecl> fields;
};

struct LetDecl {
  std::string name;
  Span span;
  ExprPtr value;
  bool override_ = false;  // `override let`: replaces the parent's (an extending file)
};

struct Branch {
  Span span;
  ExprPtr condition;  // null for `else`
  ExprPtr result;     // null for `reject "…"`
  std::string reject;  // the reason, for `reject "…"`
};

struct DecideDecl {
  std::string name;
  Span span;
  bool imported = false;
  bool is_private = false;
  TypeRef type;
  std::vector<Branch> branches;
  bool override_ = false;
};

enum class HitPolicy { first, unique, priority, any, collect, rule_order, output_order };
enum class CollectOp { list, sum, min, max, count };

enum class CellKind { any, compare, range, set, not_set, equals, missing };  // missing: set by the checker

struct Cell {
  CellKind kind = CellKind::any;
  Span span;
  BinaryOp op = BinaryOp::eq;        // for compare
  bool low_closed = true, high_closed = false;  // for range
  std::vector<ExprPtr> values;      // compare/equals: 1; range: 2; set: n
};

struct OutputColumn {
  std::string name;
  Span span;
  std::optional<TypeRef> type;
};

struct TableRow {
  Span span;
  std::string label;  // `[名称]`: the row's name, or empty
  Span label_span;
  std::vector<Cell> inputs;
  std::vector<ExprPtr> outputs;
};

struct TableDecl {
  std::string name;
  Span span;
  bool is_grid = false;  // written as a grid: rows × columns
  bool imported = false;
  bool is_private = false;
  std::optional<TypeRef> type;
  HitPolicy policy = HitPolicy::first;
  Span policy_span;
  CollectOp collect = CollectOp::list;
  std::vector<ExprPtr> columns;  // names (as expressions)
  std::vector<bool> column_may_be_missing;  // `name?`: missing matches only `-` and `missing` cells
  std::vector<OutputColumn> outputs;
  std::vector<TableRow> rows;
  std::optional<TableRow> else_row;  // `else || …`: no input cells
  bool override_ = false;
  bool rows_only = false;  // `override rows of NAME { … }`: named rows of the parent's table
};

inline bool column_may_be_missing(const TableDecl& t, size_t c) {
  return c < t.column_may_be_missing.size() && t.column_may_be_missing[c];
}

// `missing` written as a result cell: the row gives no value (a name the
// rules do not define; the checker then marks the expression ExprKind::missing).
inline bool is_missing_cell(const Expr& e) {
  return (e.kind == ExprKind::name && e.qualifier.empty() && e.text == "missing") || e.kind == ExprKind::missing;
}

struct ScoreBin {
  Span span;
  bool is_else = false;
  Cell test;
  ExprPtr points;
};

struct Factor {
  std::string name;
  Span span;
  ExprPtr value;   // the name scored
  ExprPtr weight;  // null: weight 1
  std::vector<ScoreBin> bins;
};

struct Adjustment {
  Span span;
  bool multiply = true;  // multiply or bonus
  ExprPtr amount;
  ExprPtr condition;
};

struct ScorecardDecl {
  std::string name;
  Span span;
  bool imported = false;
  bool is_private = false;
  std::optional<TypeRef> type;
  std::vector<Factor> factors;
  std::vector<Adjustment> adjustments;
  bool override_ = false;
};

struct SegmentNode;

struct SegmentBranch {
  Span span;
  ExprPtr condition;  // null for `else`
  std::unique_ptr<SegmentNode> node;
};

struct SegmentNode {
  std::string name;
  Span span;
  std::vector<SegmentBranch> branches;  // empty: a leaf
  // `-> N by X`: the checker gives N one child per value of enum X, named
  // N_value, each taken when X == value.
  std::string split_by;
  Span split_span;
};

struct PlanItem {
  std::string name;
  Span span;
  ExprPtr value;
};

// `plan NODE { … }`, `plan when COND { … }` or `plan NODE when COND { … }`.
struct PlanDecl {
  std::string node;    // empty: not tied to a segment (a conditional plan)
  Span span;           // the node's name, else the condition
  ExprPtr condition;   // null: a plan of the node itself
  std::vector<PlanItem> items;
  bool override_ = false;  // `override plan NODE`: its items replace the parent's on NODE
};

// `capacity NODE { limit N [per X]; rank by Y [ascending]; overflow -> LEAF | overflow plan LEAF }`
struct CapacityDecl {
  std::string node;
  Span span;
  ExprPtr limit;        // a whole number
  std::string per;      // empty: one group
  Span per_span;
  std::string rank;
  Span rank_span;
  bool ascending = false;
  std::string overflow;  // a leaf
  Span overflow_span;
  bool plan_only = false;  // `overflow plan LEAF`: the leaf's plan, the segment kept
};

// `fixed F1, F2`: one input field a counterfactual may not move.
struct FixedDecl {
  std::string field;
  Span span;
};

// `stability 客户等级 { order 普通 < 重要 < 核心; down after 3 periods; … }`:
// how many periods in a row a customer's value must be lower (higher) than
// the previous period's before it moves down (up); `from V`: out of V.
struct StabilityDecl {
  std::string target;  // a decision, or `segment`
  Span span;
  std::vector<std::pair<std::string, Span>> order;  // the lowest first
  Span order_span;
  struct Rule {
    bool down = true;
    std::string from;  // empty: every value
    Span from_span;
    ExprPtr periods;   // a whole number
    Span span;
  };
  std::vector<Rule> rules;
};

struct ImportDecl {
  std::string path;
  Span span;
};

struct Binding {
  std::string name;
  Span span;
  ExprPtr value;       // null for `reject "…"` and for a list
  std::string reject;  // expected rejection reason
  bool is_list = false;           // `[a, b]`: the items of an expected list
  std::vector<ExprPtr> items;
  Span list_span;
};

struct TestDecl {
  std::string name;
  Span span;
  std::vector<Binding> given;
  std::vector<Binding> expect;
};

struct Module {
  uint32_t file = 0;
  std::string ruleset;
  std::string version;
  std::optional<int32_t> effective;  // `effective 2027-01-01`: days since 1970-01-01
  Span effective_span;
  std::string extends;  // `extends "parent.strat"`: the parent file, as written
  Span extends_span;
  // Set by the loader when this module extends another: the parent file
  // (relative to the rules root), its rule set's name, and what this file
  // overrides or adds (kind: let, decision, plan, segments; name: the
  // declaration's, a plan's node, the leaf grown).
  std::string parent_path;
  std::string parent_ruleset;
  struct Change {
    std::string kind;
    std::string name;
    Span span;
  };
  std::vector<Change> changes;
  std::vector<EnumDecl> enums;
  std::vector<InputDecl> inputs;
  std::vector<LetDecl> lets;
  std::vector<DecideDecl> decides;
  std::vector<TableDecl> tables;
  std::vector<ScorecardDecl> scorecards;
  std::vector<std::unique_ptr<SegmentNode>> segments;  // at most one tree
  std::vector<PlanDecl> plans;
  std::vector<CapacityDecl> capacities;
  std::vector<ImportDecl> imports;
  std::vector<TestDecl> tests;
  std::vector<StabilityDecl> stabilities;
  std::vector<FixedDecl> fixed;  // the main file's (and the parents' it extends), not an import's
};

}  // namespace stratum::ast
