// Lexical rules of Stratum: whitespace, comments, identifiers, keywords and
// literals. Rules only; no actions. Messages for the req_… error points live
// in errors.hpp.
#pragma once

#include <tao/pegtl.hpp>

namespace stratum::grammar {

namespace pegtl = tao::pegtl;
using namespace tao::pegtl;

// clang-format off

// A comment runs from '#' to the end of the line (the line end is not part of it).
struct comment : seq< one< '#' >, star< not_one< '\n' > > > {};
// Whitespace that may span lines.
struct ws : sor< one< ' ', '\t', '\r', '\n' >, comment > {};
struct sp : star< ws > {};
// Whitespace inside one line (tables are line-based).
struct isp : star< one< ' ', '\t' > > {};
struct line_end : seq< isp, opt< comment >, opt< one< '\r' > >, one< '\n' > > {};

struct bom : pegtl::utf8::one< 0xFEFF > {};

// Identifier characters: ASCII letters, digits and '_', and Unicode letters
// (CJK ideographs, kana, Hangul, Latin/Greek/Cyrillic letters). CJK and
// fullwidth punctuation is excluded, so a stray `：` or `，` is an error.
struct ident_letter
   : sor< ranges< 'a', 'z', 'A', 'Z', '_' >,
          pegtl::utf8::ranges< 0x00C0, 0x00D6, 0x00D8, 0x00F6, 0x00F8, 0x1FFF,
                               0x2E80, 0x2FDF, 0x3005, 0x3007, 0x3040, 0x9FFF,
                               0xAC00, 0xD7AF, 0xF900, 0xFAFF,
                               0xFF21, 0xFF3A, 0xFF41, 0xFF5A, 0x20000, 0x3FFFF > > {};
struct ident_char : sor< ident_letter, digit > {};

template< typename Key >
struct keyword : seq< Key, not_at< ident_char > > {};

#define STRATUM_KEYWORD( name, text ) \
   struct kw_##name : keyword< TAO_PEGTL_STRING( text ) > {}

STRATUM_KEYWORD( and_, "and" );
STRATUM_KEYWORD( or_, "or" );
STRATUM_KEYWORD( not_, "not" );
STRATUM_KEYWORD( in, "in" );
STRATUM_KEYWORD( contains, "contains" );
STRATUM_KEYWORD( is, "is" );
STRATUM_KEYWORD( present, "present" );
STRATUM_KEYWORD( missing, "missing" );
STRATUM_KEYWORD( empty, "empty" );
STRATUM_KEYWORD( when, "when" );
STRATUM_KEYWORD( else_, "else" );
STRATUM_KEYWORD( true_, "true" );
STRATUM_KEYWORD( false_, "false" );
STRATUM_KEYWORD( today, "today" );
STRATUM_KEYWORD( ruleset, "ruleset" );
STRATUM_KEYWORD( version, "version" );
STRATUM_KEYWORD( effective, "effective" );
STRATUM_KEYWORD( enum_, "enum" );
STRATUM_KEYWORD( input, "input" );
STRATUM_KEYWORD( let, "let" );
STRATUM_KEYWORD( decide, "decide" );
STRATUM_KEYWORD( table, "table" );
STRATUM_KEYWORD( test, "test" );
STRATUM_KEYWORD( given, "given" );
STRATUM_KEYWORD( expect, "expect" );
STRATUM_KEYWORD( as, "as" );
STRATUM_KEYWORD( key, "key" );
STRATUM_KEYWORD( set, "set" );
STRATUM_KEYWORD( first, "first" );
STRATUM_KEYWORD( unique, "unique" );
STRATUM_KEYWORD( priority, "priority" );
STRATUM_KEYWORD( any, "any" );
STRATUM_KEYWORD( collect, "collect" );
STRATUM_KEYWORD( rule, "rule" );
STRATUM_KEYWORD( output, "output" );
STRATUM_KEYWORD( order, "order" );
STRATUM_KEYWORD( list_, "list" );
STRATUM_KEYWORD( segments, "segments" );
STRATUM_KEYWORD( plan, "plan" );
STRATUM_KEYWORD( scorecard, "scorecard" );
STRATUM_KEYWORD( grid, "grid" );
STRATUM_KEYWORD( import, "import" );
STRATUM_KEYWORD( load, "load" );
STRATUM_KEYWORD( column, "column" );
STRATUM_KEYWORD( factor, "factor" );
STRATUM_KEYWORD( weight, "weight" );
STRATUM_KEYWORD( multiply, "multiply" );
STRATUM_KEYWORD( bonus, "bonus" );
STRATUM_KEYWORD( by, "by" );
STRATUM_KEYWORD( private_, "private" );
STRATUM_KEYWORD( reject, "reject" );
STRATUM_KEYWORD( extends, "extends" );
STRATUM_KEYWORD( override_, "override" );
STRATUM_KEYWORD( capacity, "capacity" );
STRATUM_KEYWORD( limit, "limit" );
STRATUM_KEYWORD( per, "per" );
STRATUM_KEYWORD( rank, "rank" );
STRATUM_KEYWORD( overflow, "overflow" );
STRATUM_KEYWORD( ascending, "ascending" );
STRATUM_KEYWORD( rows, "rows" );
STRATUM_KEYWORD( of, "of" );
STRATUM_KEYWORD( fixed, "fixed" );
STRATUM_KEYWORD( stability, "stability" );
STRATUM_KEYWORD( down, "down" );
STRATUM_KEYWORD( up, "up" );
STRATUM_KEYWORD( from, "from" );
STRATUM_KEYWORD( after, "after" );
STRATUM_KEYWORD( period, "period" );
STRATUM_KEYWORD( periods, "periods" );

#undef STRATUM_KEYWORD

// Words that cannot be names because expressions use them.
struct reserved
   : sor< kw_and_, kw_or_, kw_not_, kw_in, kw_contains, kw_is, kw_when, kw_else_,
          kw_true_, kw_false_, kw_today > {};

struct ident : seq< not_at< reserved >, ident_letter, star< ident_char > > {};
// `行业.工业`: an enum value spelled with its enum's name.
struct qualified_name : seq< ident, opt< one< '.' >, ident > > {};

// "text" with \" \\ \n \t escapes; one line.
struct string_char : sor< seq< one< '\\' >, one< '"', '\\', 'n', 't' > >, not_one< '"', '\\', '\n' > > {};
struct req_string_end : one< '"' > {};
struct string_lit : seq< one< '"' >, star< string_char >, req_string_end > {};

// 2024-01-01
struct date_lit : seq< rep< 4, digit >, one< '-' >, rep< 2, digit >, one< '-' >, rep< 2, digit >, not_at< ident_char > > {};

struct number : seq< plus< digit >, opt< one< '.' >, plus< digit > > > {};

// Units written right after a number: money (万/亿/元), percent, count words
// (ignored), and Chinese duration words.
struct unit_word
   : sor< TAO_PEGTL_STRING( "万元" ), TAO_PEGTL_STRING( "亿元" ), TAO_PEGTL_STRING( "万" ),
          TAO_PEGTL_STRING( "亿" ), TAO_PEGTL_STRING( "元" ), TAO_PEGTL_STRING( "个月" ),
          TAO_PEGTL_STRING( "人" ), TAO_PEGTL_STRING( "户" ), TAO_PEGTL_STRING( "家" ),
          TAO_PEGTL_STRING( "个" ), TAO_PEGTL_STRING( "年" ), TAO_PEGTL_STRING( "周" ),
          TAO_PEGTL_STRING( "天" ) > {};
struct percent : one< '%' > {};
// English duration words after a space: `3 years`, `1 month`.
struct duration_word
   : seq< sor< TAO_PEGTL_STRING( "years" ), TAO_PEGTL_STRING( "year" ),
               TAO_PEGTL_STRING( "months" ), TAO_PEGTL_STRING( "month" ),
               TAO_PEGTL_STRING( "weeks" ), TAO_PEGTL_STRING( "week" ),
               TAO_PEGTL_STRING( "days" ), TAO_PEGTL_STRING( "day" ) >,
          not_at< ident_char > > {};
struct unit : sor< percent, seq< unit_word, not_at< ident_char > >, seq< plus< blank >, duration_word > > {};
struct number_lit : seq< number, opt< unit >, not_at< ident_char > > {};
// Digits run into letters (`1e400`, `5k`, `3万块`): not a number this
// language writes; reported as such rather than as a missing operator.
struct req_number_shape : failure {};
struct bad_number : seq< at< number, plus< ident_char > >, req_number_shape > {};

struct bool_lit : sor< kw_true_, kw_false_ > {};
struct today_lit : kw_today {};

// clang-format on

}  // namespace stratum::grammar
