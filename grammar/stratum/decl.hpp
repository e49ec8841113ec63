// Declarations: ruleset header, enum, input, let, decide, table, test.
// A file is an optional `ruleset` line followed by declarations in any order.
#pragma once

#include "expr.hpp"

namespace stratum::grammar {

// clang-format off

struct req_ident : seq< ident > {};
struct req_colon : one< ':' > {};
struct req_equals : one< '=' > {};
struct req_arrow : TAO_PEGTL_STRING( "->" ) {};
struct req_lbrace : one< '{' > {};
struct req_rbrace : one< '}' > {};
struct req_string : seq< string_lit > {};

// ruleset "中小企业划型标准" version "2011"
struct ruleset_version : seq< kw_version, sp, req_string > {};
// ruleset "上海分行对公分层" version "2027.1" extends "corporate_segments.strat":
// every declaration of the parent file, overridden and extended by this one.
struct ruleset_extends : seq< kw_extends, sp, req_string > {};
// ruleset "对公客户分层细分" version "2027.1" effective 2027-01-01: the day this
// version takes effect (a rules folder may hold several versions of one rule set).
struct req_date : seq< date_lit > {};
struct ruleset_effective : seq< kw_effective, sp, req_date > {};
struct ruleset_decl : seq< kw_ruleset, sp, req_string, opt< sp, ruleset_version >, opt< sp, ruleset_effective >,
                           opt< sp, ruleset_extends > > {};

// Types: bool int decimal money text date duration, an enum's name, set<T>,
// list<T> (the result of a `rule order` or `output order` table).
struct type_name : ident {};
struct req_type_name : seq< type_name > {};
struct req_rangle : one< '>' > {};
struct set_type : seq< kw_set, one< '<' >, sp, req_type_name, sp, req_rangle > {};
struct list_type : seq< kw_list_, one< '<' >, sp, req_type_name, sp, req_rangle > {};
struct optional_mark : one< '?' > {};
struct type_ref : seq< sor< set_type, list_type, type_name >, opt< optional_mark > > {};
struct req_type : seq< type_ref > {};

// enum 规模 { 大型, 中型, 小型, 微型 }
struct enum_member : ident {};
struct req_enum_member : seq< enum_member > {};
struct enum_members : opt< list< enum_member, seq< sp, one< ',' >, sp > >, sp, opt< one< ',' >, sp > > {};
struct req_enum_end : one< '}' > {};
struct enum_decl : seq< kw_enum_, sp, req_ident, sp, req_lbrace, sp, enum_members, req_enum_end > {};

// input 企业 { id : text key;  total_assets : money? as "资产总额" }
struct column_alias : seq< kw_as, sp, req_string > {};
struct key_mark : seq< kw_key, not_at< sp, one< ':' > > > {};
struct field_modifiers : star< sp, sor< column_alias, key_mark > > {};
// A field's domain: `employees : int >= 0`, `ratio : decimal in [0, 1]`.
struct cell_compare;
struct cell_range;
struct field_domain : sor< cell_compare, seq< kw_in, isp, cell_range > > {};
// The unit the field's data arrives in: `revenue : money in 万`, `rate : decimal in %`.
struct data_unit_word
   : sor< seq< sor< TAO_PEGTL_STRING( "万元" ), TAO_PEGTL_STRING( "亿元" ), TAO_PEGTL_STRING( "万" ),
                    TAO_PEGTL_STRING( "亿" ), TAO_PEGTL_STRING( "元" ) >, not_at< ident_char > >,
          percent > {};
struct data_unit : seq< kw_in, isp, data_unit_word > {};
struct field_decl
   : seq< ident, sp, req_colon, sp, req_type, opt< isp, data_unit >, opt< isp, field_domain >, field_modifiers,
          opt< sp, one< ',', ';' > > > {};
struct record_name : ident {};
struct req_field_end : one< '}' > {};
struct input_decl : seq< kw_input, sp, opt< record_name, sp >, req_lbrace, sp, star< field_decl, sp >, req_field_end > {};

// let 大型门槛 = 3亿
// let 战略集团 = load "data/strategic_groups.csv" column group_id
struct req_kw_column : kw_column {};
struct load_expr : seq< kw_load, sp, req_string, sp, req_kw_column, sp, req_ident > {};
struct let_decl : seq< kw_let, sp, req_ident, sp, req_equals, sp, sor< load_expr, req_expr > > {};

// import "sme_size.strat"
struct import_decl : seq< kw_import, sp, req_string > {};

// decide 贷款户 : bool { when loan_balance > 0元 -> true  else -> false }
// `reject "…"`: the customer cannot be decided, for the reason given.
struct reject_result : seq< kw_reject, sp, req_string > {};
struct branch_result : sor< reject_result, req_expr > {};
struct when_row : seq< kw_when, sp, req_expr, sp, req_arrow, sp, branch_result, opt< sp, one< ';' > > > {};
struct else_row : seq< kw_else_, sp, req_arrow, sp, branch_result, opt< sp, one< ';' > > > {};
struct req_decide_end : one< '}' > {};
struct decide_decl
   : seq< kw_decide, sp, req_ident, sp, req_colon, sp, req_type, sp, req_lbrace, sp,
          star< when_row, sp >, opt< else_row, sp >, req_decide_end > {};

// Decision tables are line-based: a header line, then one row per line.
//   industry | employees | revenue   || 规模
//   工业      | >= 1000   | >= 4亿     || 大型
struct cell_negative : seq< one< '-' >, number_lit > {};
struct cell_value : sor< date_lit, number_lit, bad_number, cell_negative, string_lit, bool_lit, qualified_name > {};
struct req_cell_value : seq< cell_value > {};
struct cell_any : seq< one< '-' >, not_at< digit > > {};
struct cell_compare : seq< cmp_op, isp, req_cell_value > {};
struct range_open : one< '[', '(' > {};
struct range_close : one< ']', ')' > {};
struct req_range_comma : one< ',' > {};
struct req_range_close : seq< range_close > {};
struct cell_range : seq< range_open, isp, req_cell_value, isp, req_range_comma, isp, req_cell_value, isp, req_range_close > {};
struct req_set_end : one< '}' > {};
struct cell_set : seq< one< '{' >, isp, list< req_cell_value, seq< isp, one< ',' >, isp > >, isp, req_set_end > {};
struct cell_not : kw_not_ {};
struct req_cell_set : seq< cell_set > {};
struct cell_not_set : seq< cell_not, isp, req_cell_set > {};
struct input_cell : sor< cell_any, cell_compare, cell_range, cell_set, cell_not_set, cell_value > {};
struct req_input_cell : seq< input_cell > {};
struct output_cell : cell_value {};
struct req_output_cell : seq< output_cell > {};

struct column_sep : seq< isp, one< '|' >, not_at< one< '|' > >, isp > {};
struct io_sep : seq< isp, TAO_PEGTL_STRING( "||" ), isp > {};
struct req_io_sep : seq< io_sep > {};
struct req_row_end : sor< line_end, at< isp, one< '}' > > > {};

// `收入?`: a column that may be missing — a customer without it matches
// only `-` and `missing` cells (as DMN tests null), instead of the table
// having no result for them.
struct column_may_be_missing : one< '?' > {};
struct input_column : seq< qualified_name, opt< column_may_be_missing > > {};
struct req_input_column : seq< input_column > {};
struct output_column : seq< ident, opt< isp, one< ':' >, isp, req_type > > {};
struct req_output_column : seq< output_column > {};
struct table_header
   : seq< list< req_input_column, column_sep >, req_io_sep, list< req_output_column, column_sep >, req_row_end > {};
// `[工业大型] 工业 | >= 1000 | >= 4亿 || 大型`: a row may carry a name, by which a
// rule set that extends this one replaces it (`override rows of …`).
struct row_label_name : ident {};
// (Not a range cell: `[低, 高)` has a comma where a name has its `]`.)
struct row_label : seq< one< '[' >, isp, row_label_name, isp, one< ']' > > {};
struct table_row
   : seq< not_at< one< '}' > >, opt< row_label, isp >, list< req_input_cell, column_sep >, req_io_sep,
          list< req_output_cell, column_sep >, req_row_end > {};
// `else || 丁 | "每季"`: the results when no row matches (last).
struct table_else : seq< kw_else_, req_io_sep, list< req_output_cell, column_sep >, req_row_end > {};
struct blank_line : line_end {};
struct req_table_header : seq< table_header > {};
struct req_table_end : one< '}' > {};
struct req_line_end_after_brace : seq< line_end > {};
struct table_body
   : seq< req_line_end_after_brace, star< blank_line >, isp, req_table_header,
          star< sor< blank_line, seq< isp, table_else >, seq< isp, table_row > > >, isp, req_table_end > {};

struct collect_op : sor< keyword< TAO_PEGTL_STRING( "list" ) >, keyword< TAO_PEGTL_STRING( "sum" ) >,
                         keyword< TAO_PEGTL_STRING( "min" ) >, keyword< TAO_PEGTL_STRING( "max" ) >,
                         keyword< TAO_PEGTL_STRING( "count" ) > > {};
struct req_kw_order : kw_order {};
struct hit_policy
   : sor< kw_first, kw_unique, kw_priority, kw_any, seq< kw_collect, opt< isp, collect_op > >,
          seq< kw_rule, isp, req_kw_order >, seq< kw_output, isp, req_kw_order > > {};
struct req_hit_policy : seq< hit_policy > {};
struct table_type : seq< one< ':' >, sp, req_type > {};
struct table_decl
   : seq< kw_table, sp, req_ident, sp, opt< table_type, sp >, req_hit_policy, isp, req_lbrace, table_body > {};

// scorecard 政府客户评分 {
//   factor 历史销售额 weight 50% { >= 300万 -> 100;  [100万, 300万) -> 90;  else -> 60 }
//   multiply 1.05 when 近两年累计销售额 >= 200万
//   bonus 5 when 立项 }
struct req_kw_when : kw_when {};
struct bin_else : kw_else_ {};
struct score_bin : seq< sor< bin_else, input_cell >, sp, req_arrow, sp, req_expr > {};
struct req_bins_end : one< '}' > {};
struct factor_weight : seq< kw_weight, sp, req_expr > {};
struct factor_value : seq< qualified_name > {};
struct req_factor_value : seq< factor_value > {};
struct factor_decl
   : seq< kw_factor, sp, req_factor_value, opt< sp, factor_weight >, sp, req_lbrace, sp,
          star< score_bin, sp, opt< one< ';' >, sp > >, req_bins_end > {};
struct multiply_decl : seq< kw_multiply, sp, req_expr, sp, req_kw_when, sp, req_expr > {};
struct bonus_decl : seq< kw_bonus, sp, req_expr, sp, req_kw_when, sp, req_expr > {};
struct req_scorecard_end : one< '}' > {};
struct scorecard_decl
   : seq< kw_scorecard, sp, req_ident, sp, opt< table_type, sp >, req_lbrace, sp,
          star< sor< factor_decl, multiply_decl, bonus_decl >, sp, opt< one< ';' >, sp > >, req_scorecard_end > {};

// grid 存量客户分群 : 客户群 by 利润贡献度, 银行对客户价值 {
//               | >= 60   | < 60
//   >= 100万    | 重要    | 优质
//   < 100万     | 普通    | 退出
// }
struct grid_dimension : seq< qualified_name > {};
struct req_grid_dimension : seq< grid_dimension > {};
struct req_kw_by : kw_by {};
struct req_comma : one< ',' > {};
struct grid_header : seq< one< '|' >, isp, list< req_input_cell, column_sep >, req_row_end > {};
struct req_grid_header : seq< grid_header > {};
struct req_column_sep : seq< column_sep > {};
struct grid_row
   : seq< not_at< one< '}' > >, req_input_cell, req_column_sep, list< req_output_cell, column_sep >, req_row_end > {};
struct req_grid_end : one< '}' > {};
struct grid_body
   : seq< req_line_end_after_brace, star< blank_line >, isp, req_grid_header,
          star< sor< blank_line, seq< isp, grid_row > > >, isp, req_grid_end > {};
struct grid_decl
   : seq< kw_grid, sp, req_ident, sp, req_colon, sp, req_type, sp, req_kw_by, sp, req_grid_dimension, sp,
          req_comma, sp, req_grid_dimension, isp, req_lbrace, grid_body > {};

// segments 对公客户 { when 贷款户 -> 有贷户 { … }  else -> 无贷户 { … } }
struct segment_branch;
struct segment_name : ident {};
struct req_segment_name : seq< segment_name > {};
struct req_segment_end : one< '}' > {};
struct segment_children : seq< one< '{' >, sp, star< segment_branch, sp, opt< one< ';' >, sp > >, req_segment_end > {};
// `-> 大企业 by 风险等级`: one child per value of an enum (大企业_低, 大企业_中, …).
struct segment_split_value : ident {};
struct segment_split : seq< kw_by, isp, segment_split_value > {};
struct segment_rest : sor< segment_split, segment_children > {};
struct segment_when : seq< kw_when, sp, req_expr, sp, req_arrow, sp, req_segment_name, opt< sp, segment_rest > > {};
struct segment_else : seq< kw_else_, sp, req_arrow, sp, req_segment_name, opt< sp, segment_rest > > {};
struct segment_branch : sor< segment_when, segment_else > {};
struct segments_decl : seq< kw_segments, sp, req_ident, sp, req_lbrace, sp, star< segment_branch, sp, opt< one< ';' >, sp > >, req_segment_end > {};

// plan 战略性客户 { 服务团队 = "总行专属团队";  回访周期 = 1 weeks }
// plan when 存量客户分群 == 退出 { 利率浮动 = 0% }          (a conditional plan)
// plan 战略性客户 when 存量客户分群 == 重要 { 回访周期 = 1 weeks }
struct plan_item : seq< ident, sp, req_equals, sp, req_expr > {};
struct req_plan_end : one< '}' > {};
struct plan_node : ident {};
struct plan_condition : seq< kw_when, sp, req_expr > {};
struct req_plan_head : sor< plan_condition, seq< plan_node, opt< sp, plan_condition > > > {};
struct plan_decl : seq< kw_plan, sp, req_plan_head, sp, req_lbrace, sp, star< plan_item, sp, opt< one< ';' >, sp > >, req_plan_end > {};

// test "工业 300人 2000万元 为中型" { given { … } expect { … } }
// Expectations may name a decision, a `let`, `segment`, `plan.项目` or `评分卡.因子`.
struct binding_today : kw_today {};  // `today: 2024-06-30` fixes the test's evaluation date
// An expectation may be `层级: reject "reason"`: the customer is rejected with that reason.
// A list (of a `rule order` or `output order` table) is expected as `[a, b]`.
struct req_list_end : one< ']' > {};
struct list_value : seq< one< '[' >, sp, opt< list< expr, seq< sp, one< ',' >, sp > >, sp, opt< one< ',' >, sp > >, req_list_end > {};
struct binding : seq< sor< binding_today, qualified_name >, sp, req_colon, sp, sor< reject_result, list_value, req_expr > > {};
struct bindings : opt< list< binding, seq< sp, one< ',', ';' >, sp > >, sp, opt< one< ',', ';' >, sp > > {};
struct req_bindings_end : one< '}' > {};
struct given_block : seq< kw_given, sp, req_lbrace, sp, bindings, req_bindings_end > {};
struct expect_block : seq< kw_expect, sp, req_lbrace, sp, bindings, req_bindings_end > {};
struct req_given : seq< given_block > {};
struct req_expect : seq< expect_block > {};
struct req_test_end : one< '}' > {};
struct test_decl
   : seq< kw_test, sp, req_string, sp, req_lbrace, sp, req_given, sp, req_expect, sp, req_test_end > {};

// `private decide …`: computed when something needs it, but not an output.
struct private_mark : kw_private_ {};
struct req_private_decl : sor< decide_decl, table_decl, scorecard_decl, grid_decl > {};
struct private_decl : seq< private_mark, sp, req_private_decl > {};

// override rows of 规模 {          the parent's rows named here, replaced one by one
//   industry | employees | revenue || 规模
//   [工业大型] 工业 | >= 1000 | >= 3亿 || 大型
// }
struct req_kw_of : kw_of {};
struct rows_decl : seq< kw_rows, sp, req_kw_of, sp, req_ident, isp, req_lbrace, table_body > {};

// `override let 规模以上日均存款 = 100万`: in a file that extends another, replaces the
// parent's declaration of that name (a plan: the items it sets, on that node).
struct override_mark : kw_override_ {};
struct req_override_decl : sor< let_decl, decide_decl, table_decl, scorecard_decl, grid_decl, plan_decl, private_decl, rows_decl > {};
struct override_decl : seq< override_mark, sp, req_override_decl > {};

// capacity 战略性客户 {            at most 30 customers at this node (and below it),
//   limit 30 per 所属分行         each value of 所属分行 its own 30 places
//   rank by 信贷余额              the largest keep them (ties: the smaller key)
//   overflow plan 大型客户        the others get 大型客户's plan (`overflow -> 大型客户`: its segment too)
// }
struct capacity_count : seq< number_lit > {};
struct req_capacity_count : capacity_count {};
struct capacity_per : seq< kw_per, sp, req_ident > {};
struct capacity_limit : seq< kw_limit, sp, req_capacity_count, opt< sp, capacity_per > > {};
struct capacity_ascending : kw_ascending {};
struct req_rank_by : kw_by {};
struct capacity_rank : seq< kw_rank, sp, req_rank_by, sp, req_ident, opt< sp, capacity_ascending > > {};
struct overflow_segment : seq< req_arrow, sp, req_ident > {};
struct overflow_plan : seq< kw_plan, sp, req_ident > {};
struct req_overflow_target : sor< overflow_plan, overflow_segment > {};
struct capacity_overflow : seq< kw_overflow, sp, req_overflow_target > {};
// The three parts in any order; the checker says which is missing or repeated.
struct req_capacity_end : one< '}' > {};
struct capacity_decl
   : seq< kw_capacity, sp, req_ident, sp, req_lbrace, sp,
          star< sor< capacity_limit, capacity_rank, capacity_overflow >, sp, opt< one< ';' >, sp > >, req_capacity_end > {};

// fixed industry, 所属市场        input fields no counterfactual may move
// (`stratum explain --nearest`): a customer's industry is not a lever.
struct fixed_field : ident {};
struct req_fixed_field : seq< fixed_field > {};
struct fixed_decl : seq< kw_fixed, sp, req_fixed_field, star< sp, one< ',' >, sp, req_fixed_field > > {};

// stability 客户等级 {               a customer does not move on one period's noise
//   order 普通 < 潜力 < 重要 < 核心     which values are higher (the lowest first)
//   down after 3 periods              降级须连续3期满足较低条件
//   down from 核心 after 6 periods     leaving 核心 takes 6
//   up after 1 period                 升级即时 (the default)
// }
struct stability_value : ident {};
struct req_stability_value : seq< stability_value > {};
struct stability_order : seq< kw_order, sp, req_stability_value, plus< sp, one< '<' >, sp, req_stability_value > > {};
struct stability_down : kw_down {};
struct stability_up : kw_up {};
struct stability_from : seq< kw_from, sp, req_stability_value > {};
struct stability_count : seq< number_lit > {};
struct req_stability_count : stability_count {};
struct req_after : seq< kw_after > {};
struct stability_rule
   : seq< sor< stability_down, stability_up >, sp, opt< stability_from, sp >, req_after, sp, req_stability_count,
          opt< sp, sor< kw_periods, kw_period > > > {};
struct req_stability_end : one< '}' > {};
struct stability_decl
   : seq< kw_stability, sp, req_ident, sp, req_lbrace, sp,
          star< sor< stability_order, stability_rule >, sp, opt< one< ';' >, sp > >, req_stability_end > {};

struct declaration
   : sor< enum_decl, input_decl, let_decl, decide_decl, table_decl, scorecard_decl, grid_decl,
          segments_decl, plan_decl, import_decl, test_decl, private_decl, override_decl, capacity_decl,
          fixed_decl, stability_decl > {};
struct req_declaration_or_end : seq< eof > {};

struct file
   : seq< opt< bom >, sp, opt< ruleset_decl, sp >, star< declaration, sp >, req_declaration_or_end > {};

// clang-format on

}  // namespace stratum::grammar
