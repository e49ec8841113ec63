// Model: what the checker knows about a rule file once its names are
// resolved and its types checked. Lowering (src/compile) reads it; the AST it
// points into stays alive beside it.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "syntax/ast.hpp"
#include "value/enum_info.hpp"

namespace stratum {

struct FieldInfo {
  std::string name;
  std::string column;  // name in the data (the `as` alias, else the name)
  Span span;
  Type type;
  ast::Cell* domain = nullptr;  // values outside it reject the record
  int data_scale = 0;           // `in 万`: plain numbers in the data are × 10^data_scale (万 4, 亿 8, % −2)
  bool optional = false;
  bool key = false;
  bool fixed = false;           // `fixed F`: no counterfactual moves it
};

struct LetInfo {
  std::string name;
  Span span;
  ast::Expr* value = nullptr;
  Type type;
  bool maybe_missing = false;
};

enum class DecisionSource { decide, table, scorecard };

struct DecisionInfo {
  std::string name;
  Span span;
  Type type;
  DecisionSource source = DecisionSource::decide;
  int32_t index = -1;   // into module.decides or module.tables
  int32_t column = 0;   // output column of a table
  bool imported = false;  // imported or private: usable, but not an output
  bool maybe_missing = false;  // a grid over a value that may be missing
};

struct ScorecardInfo {
  ast::ScorecardDecl* decl = nullptr;
  int32_t decision = -1;
  int32_t first_factor = 0;  // index into Model::factors
};

struct FactorInfo {
  std::string name;
  int32_t scorecard = -1;
  Type value_type;
};

// The segment tree, flattened in preorder; node 0 is the root.
struct SegmentInfo {
  std::string name;
  Span span;
  int32_t parent = -1;
  std::vector<std::pair<const ast::Expr*, int32_t>> branches;  // condition (null: else) → child
  int32_t leaf = -1;   // leaf ordinal (code of the segment enum), -1 for inner nodes
  std::string path;    // 对公客户/有贷户/…
};

struct PlanItemInfo {
  std::string name;
  Span span;
  Type type;
  // per segment node: the expression set there (null: inherited or none)
  std::vector<const ast::Expr*> values;
  // Settings by conditional plans, in file order: (conditional plan, expression).
  std::vector<std::pair<int32_t, const ast::Expr*>> conditional;
};

// `plan [NODE] when COND { … }`: applies where COND holds (at NODE or below it).
struct ConditionalPlanInfo {
  Span span;
  int32_t node = -1;             // segment node, -1: every customer
  const ast::Expr* condition = nullptr;
};

// `capacity NODE { … }`: at most `limit` customers at NODE or below it (per
// value of `per`), ranked by `rank`; the others go to `overflow`.
struct CapacityInfo {
  const ast::CapacityDecl* decl = nullptr;
  int32_t node = -1;      // segment node
  int64_t limit = 0;
  ast::RefKind per_kind = ast::RefKind::unresolved;  // field, let or decision; unresolved: one group
  int32_t per_index = -1;
  int32_t per_plan_item = -1;  // or a plan item (`per 服务团队`): its value before any move
  ast::RefKind rank_kind = ast::RefKind::unresolved;
  int32_t rank_index = -1;
  int32_t overflow = -1;  // segment node: a leaf outside NODE
};

// `stability NAME { … }`, resolved: per value of the decision (or of the
// segment: per leaf), its place in the order and the periods in a row it
// takes to move down or up out of it.
struct StabilityInfo {
  const ast::StabilityDecl* decl = nullptr;
  int32_t decision = -1;  // index into decisions; -1: the segment
  int32_t enum_id = -1;
  std::vector<int32_t> rank;      // per value: 0 the lowest in `order`; -1 not in it (moves at once)
  std::vector<int32_t> down, up;  // per value: periods in a row before leaving it downwards / upwards
};

struct TableInfo {
  ast::TableDecl* decl = nullptr;
  std::vector<Type> column_types;
  std::vector<int32_t> decisions;  // decision index per output column
  std::vector<Type> cell_types;    // the type of the result cells, per output column
  std::vector<uint32_t> row_lines; // source line of each row
};

struct Model {
  ast::Module module;
  std::string ruleset;
  std::string version;
  std::optional<int32_t> effective;  // days since 1970-01-01
  std::vector<EnumInfo> enums;
  std::vector<FieldInfo> fields;
  std::vector<LetInfo> lets;
  std::vector<DecisionInfo> decisions;  // in declaration order: the outputs
  std::vector<TableInfo> tables;
  std::vector<ScorecardInfo> scorecards;
  std::vector<FactorInfo> factors;
  std::vector<SegmentInfo> segments;  // empty: the rules have no segment tree
  int32_t segment_enum = -1;          // the enum whose values are the leaves' paths
  std::vector<PlanItemInfo> plan_items;
  std::vector<ConditionalPlanInfo> conditional_plans;  // in file order: the first that applies wins
  std::vector<CapacityInfo> capacities;
  std::vector<StabilityInfo> stabilities;
  int32_t key_field = -1;
  bool uses_today = false;

  std::string type_name(const Type& t) const;
};

}  // namespace stratum
