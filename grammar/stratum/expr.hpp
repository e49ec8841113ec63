// Expressions, from loosest to tightest binding:
//   or · and · not · comparison (== != < <= > >=, is present, is empty, in, contains)
//   · ?? · + - · * / · unary minus · primary (literal, name, call, (…), {…})
#pragma once

#include "lexical.hpp"

namespace stratum::grammar {

// clang-format off

struct expr;

struct req_expr : seq< expr > {};
struct req_rparen : one< ')' > {};
struct req_rbrace_set : one< '}' > {};

struct paren_expr : seq< one< '(' >, sp, req_expr, sp, req_rparen > {};
// {工业, 建筑业} or {"G001", "G002"}
struct set_lit : seq< one< '{' >, sp, opt< list< expr, seq< sp, one< ',' >, sp > >, sp, opt< one< ',' >, sp > >, req_rbrace_set > {};
struct call_args : opt< list< expr, seq< sp, one< ',' >, sp > > > {};
// `contains(text, part)` is a function as well as the `S contains x` operator.
struct contains_name : kw_contains {};
struct call : seq< sor< ident, contains_name >, one< '(' >, sp, call_args, sp, req_rparen > {};


struct primary
   : sor< paren_expr, set_lit, date_lit, number_lit, bad_number, string_lit, bool_lit, today_lit, call, qualified_name > {};

struct op_neg : seq< one< '-' >, not_at< one< '>' > > > {};
struct req_operand;
struct unary_expr : sor< seq< op_neg, sp, req_operand >, primary > {};
struct req_operand : seq< unary_expr > {};

struct op_mul : sor< one< '*' >, TAO_PEGTL_STRING( "×" ) > {};
struct op_div : sor< one< '/' >, TAO_PEGTL_STRING( "÷" ) > {};
struct mul_expr : seq< unary_expr, star< sp, sor< op_mul, op_div >, sp, req_operand > > {};

struct op_add : one< '+' > {};
struct op_sub : seq< one< '-' >, not_at< one< '>' > > > {};
struct req_term : seq< mul_expr > {};
struct add_expr : seq< mul_expr, star< sp, sor< op_add, op_sub >, sp, req_term > > {};

struct op_coalesce : TAO_PEGTL_STRING( "??" ) {};
struct req_default : seq< add_expr > {};
struct coalesce_expr : seq< add_expr, star< sp, op_coalesce, sp, req_default > > {};

struct op_eq : TAO_PEGTL_STRING( "==" ) {};
struct op_ne : TAO_PEGTL_STRING( "!=" ) {};
struct op_le : sor< TAO_PEGTL_STRING( "<=" ), TAO_PEGTL_STRING( "≤" ) > {};
struct op_ge : sor< TAO_PEGTL_STRING( ">=" ), TAO_PEGTL_STRING( "≥" ) > {};
struct op_lt : one< '<' > {};
struct op_gt : one< '>' > {};
struct cmp_op : sor< op_eq, op_ne, op_le, op_ge, op_lt, op_gt > {};

struct req_comparand : seq< coalesce_expr > {};
struct compare_tail : seq< cmp_op, sp, req_comparand > {};
// x is present · x is not present · x is missing · s is empty · s is not empty
struct is_not : kw_not_ {};
struct req_presence : sor< kw_present, kw_missing, kw_empty > {};
struct presence_test : seq< kw_is, sp, opt< is_not, sp >, req_presence > {};
struct not_in : seq< kw_not_, sp, kw_in > {};
struct in_tail : seq< sor< not_in, kw_in >, sp, req_comparand > {};
struct contains_tail : seq< kw_contains, sp, req_comparand > {};
struct compare_expr
   : seq< coalesce_expr, opt< sp, sor< compare_tail, presence_test, in_tail, contains_tail > > > {};

struct op_not : kw_not_ {};
struct req_operand_not;
struct not_expr : sor< seq< op_not, sp, req_operand_not >, compare_expr > {};
struct req_operand_not : seq< not_expr > {};

struct op_and : kw_and_ {};
struct req_conjunct : seq< not_expr > {};
struct and_expr : seq< not_expr, star< sp, op_and, sp, req_conjunct > > {};

struct op_or : kw_or_ {};
struct req_disjunct : seq< and_expr > {};
struct or_expr : seq< and_expr, star< sp, op_or, sp, req_disjunct > > {};

struct expr : seq< or_expr > {};

// clang-format on

}  // namespace stratum::grammar
