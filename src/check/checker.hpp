// Checker: the checker's passes over one rule file, one file per phase
// (internal to src/check; check() in check.cpp is the entry point):
//   check.cpp          the order of the passes; the shared helpers
//   declarations.cpp   enums, types, input fields, lets and decisions: the names
//   constructs.cpp     decision lists, field ranges, tables, scorecards, the
//                      segment tree, plans, cycles
//   tests.cpp          `test` blocks
//   expressions.cpp    expressions: names, types and units, optional values
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "check/check.hpp"

namespace stratum::checking {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;
using ast::RefKind;

// The candidate `name` most likely meant, if any is close enough: first one
// `name` abbreviates (its start and end, the middle left out: `紧密线` for
// `紧密合作线`) or that starts it (`max` for `maximum`), then one that `fits` where the name stands (a threshold
// where an amount is compared), then the fewest edits, then the longest
// shared start and end.
std::string closest(std::string_view name, const std::vector<std::string>& candidates,
                    const std::function<bool(const std::string&)>& fits = nullptr);

// Names known to be present (not missing) at a point of an expression.
struct Facts {
  std::vector<std::pair<RefKind, int32_t>> present;
  bool has(RefKind k, int32_t i) const {
    return std::find(present.begin(), present.end(), std::make_pair(k, i)) != present.end();
  }
  void add(const Facts& o) { present.insert(present.end(), o.present.begin(), o.present.end()); }
};

struct Typed {
  Type type;
  bool maybe_missing = false;
};

enum class SymbolKind { field, let, decision };
struct Symbol {
  SymbolKind kind;
  int32_t index;
};

class Checker {
 public:
  Checker(Model& model, Diagnostics& diags) : m_(model), diags_(diags) {}

  void run();

  const SourceSet* sources_ = nullptr;

 private:
  Model& m_;
  Diagnostics& diags_;
  std::unordered_map<std::string, int32_t> enum_index_;
  std::unordered_map<std::string, Symbol> symbols_;
  std::unordered_map<std::string, std::vector<int32_t>> enum_members_;  // value name → enums
  std::unordered_map<std::string, int32_t> scorecard_index_;
  std::unordered_map<std::string, int32_t> segment_index_;
  std::vector<Facts> node_facts_;  // per segment node: what its branch conditions establish
  std::vector<int> let_state_;  // 0 unchecked, 1 checking, 2 done
  // Dependency graph over derived values: node = let i or decision (lets.size() + d).
  std::vector<std::vector<std::pair<int32_t, Span>>> deps_;
  int32_t current_node_ = -1;

  // A `let` computed from a `let` computed from … : checking and evaluating
  // follow such chains, so their length is limited (docs/limits.md). Found
  // without recursion, before anything follows them.
  static constexpr int32_t kMaxLetChain = 1000;

  // ---- declarations.cpp -----------------------------------------------------
  static bool is_builtin_type(std::string_view n);
  void collect_enums();
  Type resolve_type(const ast::TypeRef& t);
  bool declare(const std::string& name, Span span, Symbol sym);
  Span symbol_span(Symbol s) const;
  void collect_fields();
  void collect_derived();
  int32_t add_decision(const std::string& name, Span span, Type type, DecisionSource src, int32_t index, int32_t column);

  static void lets_named(const Expr& e, const std::unordered_map<std::string, Symbol>& symbols, std::vector<int32_t>& out);
  bool lets_shallow_enough();
  void check_let(int32_t i);
  int32_t decision_node(int32_t d) const;

  // ---- constructs.cpp -------------------------------------------------------
  void check_decide(int32_t index);
  void check_domains();
  void mark_optional_grids();
  void check_table(int32_t index);
  void result_cells(ast::TableDecl& t, TableInfo& info, ast::TableRow& row, bool is_else);
  void cell(ast::Cell& c, const Type& column, const Expr& head);

  void check_scorecard(int32_t index);

  void check_segments();
  void flatten(const ast::SegmentNode& n, int32_t parent, const std::string& prefix, int32_t& leaves);
  Facts check_when(Expr& condition, const Facts& facts);
  void check_segment_node(ast::SegmentNode& n, const Facts& inherited);
  void check_plans();
  void check_capacities();
  void check_fixed();
  void check_stabilities();
  void expand_splits(ast::SegmentNode& n);
  void overridden_plan_items();

  std::string node_name(int32_t n) const;
  Span node_span(int32_t n) const;
  void find_cycles();

  // ---- tests.cpp ------------------------------------------------------------
  void check_test(ast::TestDecl& t);
  void expect_special(ast::Binding& b);

  // ---- expressions.cpp ------------------------------------------------------
  static bool is_constant(const Expr& e);
  void require_value(Typed& t, const Expr& e);
  bool compatible(const Type& got, const Type& want) const;
  void expect_type(const Type& got, const Type& want, const Expr& e, const std::string& where);
  void unit_hint(Diagnostic& d, const Type& got, const Type& want, const Expr& e) const;
  void compare_types(const Type& left, const Type& right, const Expr& at, const std::string& what, BinaryOp op);
  std::string source_text(const Expr& e) const;
  uint32_t line_of(Span span) const;
  Facts facts_when(const Expr& e, bool truth) const;
  Typed error_typed();
  bool is_enum_candidate(const Expr& e) const;
  bool is_enum_set_candidate(const Expr& e) const;
  void depend_on(int32_t node, Span at);
  Typed name(Expr& e, const Type* expected, const Facts& facts);
  Typed enum_value(Expr& e, int32_t enum_id);
  Typed unknown_enum_value(Expr& e, int32_t enum_id);
  Typed number(Expr& e);
  Typed expr(Expr& e, const Type* expected, const Facts& facts);
  Typed value(Expr& e, const Type* expected, const Facts& facts);
  Typed expr_inner(Expr& e, const Type* expected, const Facts& facts);
  void membership(const Type& item, const Type& set, const Expr& e, const Expr& set_expr);
  Typed set(Expr& e, const Type* expected, const Facts& facts);
  Typed call(Expr& e, const Facts& facts);
  Typed binary(Expr& e, const Type* expected, const Facts& facts);
  static Type arithmetic(BinaryOp op, Type a, Type b);
};

}  // namespace stratum::checking
