// What the author hears when a required piece is missing: one message per
// req_… error point, in the terms of the rule file rather than the grammar.
// With RequireMessage on (see src/syntax/parser.cpp), an error point without
// a message here does not compile.
#pragma once

#include "decl.hpp"

namespace stratum::grammar {

template< typename Rule >
inline constexpr const char* error_message = nullptr;

// clang-format off
template<> inline constexpr auto error_message< req_string_end > = "unterminated text: expected a closing '\"' on the same line";
template<> inline constexpr auto error_message< req_expr > = "expected an expression (a value, a name or a condition)";
template<> inline constexpr auto error_message< req_rparen > = "expected ')'";
template<> inline constexpr auto error_message< req_rbrace_set > = "expected ',' or '}' to close the set";
template<> inline constexpr auto error_message< req_number_shape > = "not a number: write digits, an optional decimal point and a unit (300万, 1.5亿, 75%, 3 years); exponents such as 1e5 are not supported";
template<> inline constexpr auto error_message< req_operand > = "expected a value after the operator";
template<> inline constexpr auto error_message< req_term > = "expected a value after '+' or '-'";
template<> inline constexpr auto error_message< req_default > = "expected a default value after '?\?'";
template<> inline constexpr auto error_message< req_comparand > = "expected a value to compare with";
template<> inline constexpr auto error_message< req_presence > = "expected 'present', 'missing' or 'empty' after 'is'";
template<> inline constexpr auto error_message< req_operand_not > = "expected a condition after 'not'";
template<> inline constexpr auto error_message< req_conjunct > = "expected a condition after 'and'";
template<> inline constexpr auto error_message< req_disjunct > = "expected a condition after 'or'";

template<> inline constexpr auto error_message< req_ident > = "expected a name";
template<> inline constexpr auto error_message< req_colon > = "expected ':'";
template<> inline constexpr auto error_message< req_equals > = "expected '='";
template<> inline constexpr auto error_message< req_arrow > = "expected '->' before the result";
template<> inline constexpr auto error_message< req_lbrace > = "expected '{'";
template<> inline constexpr auto error_message< req_rbrace > = "expected '}'";
template<> inline constexpr auto error_message< req_string > = "expected text in double quotes";
template<> inline constexpr auto error_message< req_date > = "expected the date the version takes effect, YYYY-MM-DD (e.g. `effective 2027-01-01`)";
template<> inline constexpr auto error_message< req_type_name > = "expected a type name";
template<> inline constexpr auto error_message< req_rangle > = "expected '>' to close set<…> or list<…>";
template<> inline constexpr auto error_message< req_type > = "expected a type: bool, int, decimal, money, text, date, duration, an enum name, set<…> or list<…>";
template<> inline constexpr auto error_message< req_enum_member > = "expected an enum value name";
template<> inline constexpr auto error_message< req_enum_end > = "expected ',' or '}' in the enum's value list";
template<> inline constexpr auto error_message< req_field_end > = "expected a field (`name : type`) or '}' to close the input block";
template<> inline constexpr auto error_message< req_decide_end > = "expected `when … -> …`, `else -> …` or '}' (`else` must be the last row)";

template<> inline constexpr auto error_message< req_cell_value > = "expected a value in this cell";
template<> inline constexpr auto error_message< req_range_comma > = "expected ',' between the bounds of the range";
template<> inline constexpr auto error_message< req_range_close > = "expected ']' or ')' to close the range";
template<> inline constexpr auto error_message< req_set_end > = "expected ',' or '}' to close the set of values";
template<> inline constexpr auto error_message< req_cell_set > = "expected '{' after `not` (e.g. `not {工业, 建筑业}`)";
template<> inline constexpr auto error_message< req_input_cell > = "expected a test in this cell: '-', a comparison like `>= 300`, a range like `[300万, 2000万)`, a set like `{工业, 建筑业}` or a value";
template<> inline constexpr auto error_message< req_output_cell > = "expected a result value in this cell";
template<> inline constexpr auto error_message< req_io_sep > = "expected '|' between columns or '||' before the result columns";
template<> inline constexpr auto error_message< req_row_end > = "expected '|' or the end of the row (one row per line)";
template<> inline constexpr auto error_message< req_input_column > = "expected an input column name";
template<> inline constexpr auto error_message< req_output_column > = "expected a result column name";
template<> inline constexpr auto error_message< req_table_header > = "expected the table's header line, e.g. `industry | employees || 规模`";
template<> inline constexpr auto error_message< req_table_end > = "expected a table row or '}'";
template<> inline constexpr auto error_message< req_line_end_after_brace > = "expected a new line after '{': the header and each row of a table go on lines of their own";
template<> inline constexpr auto error_message< req_hit_policy > = "expected a hit policy: first, unique, priority, any, collect, rule order or output order";
template<> inline constexpr auto error_message< req_kw_order > = "expected `order` (`rule order`, `output order`)";
template<> inline constexpr auto error_message< req_list_end > = "expected ',' or ']' to close the list";

template<> inline constexpr auto error_message< req_bindings_end > = "expected `name: value`, ',' or '}'";
template<> inline constexpr auto error_message< req_given > = "expected `given { … }`";
template<> inline constexpr auto error_message< req_expect > = "expected `expect { … }`";
template<> inline constexpr auto error_message< req_test_end > = "expected '}' to close the test";

template<> inline constexpr auto error_message< req_kw_column > = "expected `column NAME` after the file name";
template<> inline constexpr auto error_message< req_kw_when > = "expected `when` and a condition";
template<> inline constexpr auto error_message< req_bins_end > = "expected a bin (`>= 300万 -> 100`, `else -> 60`) or '}'";
template<> inline constexpr auto error_message< req_factor_value > = "expected the name of the value this factor scores";
template<> inline constexpr auto error_message< req_scorecard_end > = "expected `factor`, `multiply`, `bonus` or '}'";
template<> inline constexpr auto error_message< req_grid_dimension > = "expected the name of a grid dimension";
template<> inline constexpr auto error_message< req_kw_by > = "expected `by ROW, COLUMN` naming the grid's two dimensions";
template<> inline constexpr auto error_message< req_comma > = "expected ','";
template<> inline constexpr auto error_message< req_grid_header > = "expected the grid's header line: '|' then a test per column, e.g. `| >= 60 | < 60`";
template<> inline constexpr auto error_message< req_column_sep > = "expected '|' after the row's test";
template<> inline constexpr auto error_message< req_grid_end > = "expected a grid row or '}'";
template<> inline constexpr auto error_message< req_segment_name > = "expected the name of a segment";
template<> inline constexpr auto error_message< req_segment_end > = "expected `when … -> 名称`, `else -> 名称` or '}'";
template<> inline constexpr auto error_message< req_plan_head > = "expected the segment the plan is for, or `when` and a condition";
template<> inline constexpr auto error_message< req_plan_end > = "expected a plan item (`名称 = 值`) or '}'";
template<> inline constexpr auto error_message< req_stability_value > = "expected a value of the decision (for `segment`, a segment's name)";
template<> inline constexpr auto error_message< req_after > = "expected `after N periods`: how many periods in a row the customer's value must be lower (higher) before it moves";
template<> inline constexpr auto error_message< req_stability_count > = "expected a whole number of periods";
template<> inline constexpr auto error_message< req_stability_end > = "expected `}` or a part of the stability rule: `order A < B < C`, `down after N periods`, `down from V after N periods`, `up after N periods`";
template<> inline constexpr auto error_message< req_fixed_field > = "expected an input field's name: `fixed FIELD, FIELD …`";
template<> inline constexpr auto error_message< req_kw_of > = "expected `of` and the table: `override rows of TABLE { … }`";
template<> inline constexpr auto error_message< req_rank_by > = "expected `by` and what ranks the customers: `rank by NAME`";
template<> inline constexpr auto error_message< req_capacity_count > = "expected how many places: a whole number";
template<> inline constexpr auto error_message< req_overflow_target > = "expected `-> SEGMENT` or `plan SEGMENT`";
template<> inline constexpr auto error_message< req_capacity_end > = "expected `limit N [per NAME]`, `rank by NAME [ascending]`, `overflow -> SEGMENT`, `overflow plan SEGMENT` or `}` in a capacity";
template<> inline constexpr auto error_message< req_override_decl > = "expected a declaration after `override`: let, decide, table, scorecard, grid, plan or `rows of TABLE`";
template<> inline constexpr auto error_message< req_private_decl > = "expected a decision after `private`: decide, table, scorecard or grid";
template<> inline constexpr auto error_message< req_declaration_or_end > = "expected a declaration: enum, input, let, decide, table, scorecard, grid, segments, plan, capacity, import or test (`private` before a decision; `override` before a let, decision or plan in a rule set that extends another)";
// clang-format on

struct error_messages {
  template< typename Rule >
  static constexpr auto message = error_message< Rule >;
};

}  // namespace stratum::grammar
