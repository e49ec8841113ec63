// Grammar tests as tables: input, expected outcome, what is left over.
#include <catch2/catch.hpp>

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/analyze.hpp>

#include "grammar/stratum/errors.hpp"

namespace g = stratum::grammar;
namespace pegtl = tao::pegtl;

enum class Outcome { match, local_failure, global_failure };

template <typename Rule>
using control = pegtl::must_if<g::error_messages, pegtl::normal, true>::control<Rule>;

template <typename Rule>
static void verify(const std::string& input, Outcome expected, size_t remaining = 0) {
  pegtl::memory_input in(input, "test");
  Outcome got;
  try {
    got = pegtl::parse<Rule, pegtl::nothing, control>(in) ? Outcome::match : Outcome::local_failure;
  } catch (const pegtl::parse_error&) {
    got = Outcome::global_failure;
  }
  INFO("input: " << input);
  CHECK(static_cast<int>(got) == static_cast<int>(expected));
  if (got == Outcome::match) CHECK(in.size() == remaining);
}

TEST_CASE("the grammar has no loops that consume nothing") {
  CHECK(pegtl::analyze<g::file>(1) == 0);
}

TEST_CASE("number literals with units") {
  struct Row { const char* in; Outcome out; size_t rest; };
  const Row rows[] = {
      {"300", Outcome::match, 0},        {"1.05", Outcome::match, 0},     {"75%", Outcome::match, 0},
      {"50万", Outcome::match, 0},       {"1.5亿", Outcome::match, 0},    {"2000万元", Outcome::match, 0},
      {"100元", Outcome::match, 0},      {"1000人", Outcome::match, 0},   {"3 years", Outcome::match, 0},
      {"1 month", Outcome::match, 0},    {"3年", Outcome::match, 0},      {"6个月", Outcome::match, 0},
      {"2周", Outcome::match, 0},        {"30天", Outcome::match, 0},     {"3 apples", Outcome::match, 7},
      {"300人及以上", Outcome::local_failure, 0},  {"abc", Outcome::local_failure, 0},
  };
  for (const auto& r : rows) verify<g::number_lit>(r.in, r.out, r.rest);
}

TEST_CASE("identifiers are Chinese or ASCII, never punctuation or keywords") {
  verify<g::ident>("营业收入", Outcome::match);
  verify<g::ident>("total_assets", Outcome::match);
  verify<g::ident>("客户2", Outcome::match);
  verify<g::ident>("2客户", Outcome::local_failure);
  verify<g::ident>("：", Outcome::local_failure);
  verify<g::ident>("and", Outcome::local_failure);
  verify<g::ident>("android", Outcome::match);
  verify<g::ident>("规模，", Outcome::match, 3);  // the fullwidth comma is left over
}

TEST_CASE("expressions") {
  verify<g::expr>("loan_balance > 0元", Outcome::match);
  verify<g::expr>("a and b or not c", Outcome::match);
  verify<g::expr>("x is present and x >= 5", Outcome::match);
  verify<g::expr>("x is not present", Outcome::match);
  verify<g::expr>("industry not in {工业, 建筑业}", Outcome::match);
  verify<g::expr>("tags contains \"互联网\"", Outcome::match);
  verify<g::expr>("round(a / b, 2) ?? 0", Outcome::match);
  verify<g::expr>("行业.工业", Outcome::match);
  verify<g::expr>("a -> b", Outcome::match, 5);     // stops before the arrow
  verify<g::expr>("a +", Outcome::global_failure);  // expected a value after '+'
  verify<g::expr>("(a", Outcome::global_failure);
  verify<g::expr>("x is", Outcome::global_failure);
  verify<g::expr>("\"open", Outcome::global_failure);
}

TEST_CASE("declarations") {
  verify<g::file>("ruleset \"x\" version \"1\"\nenum 规模 { 大型, 中型 }\n", Outcome::match);
  verify<g::file>("input 企业 { id : text key  revenue : money? as \"营业收入\" }", Outcome::match);
  verify<g::file>("decide 贷款户 : bool { when loan_balance > 0元 -> true   else -> false }", Outcome::match);
  verify<g::file>("table t : 规模 first {\n  a | b || 规模\n  1 | - || 大型\n}\n", Outcome::match);
  verify<g::file>("table t : 规模 first {\n  a | b || 规模\n  [1, 2) | not {x, y} || 大型\n  - | >= -3 || 中型\n}", Outcome::match);
  verify<g::file>("test \"t\" { given { a: 1, b: 工业 } expect { c: 中型 } }", Outcome::match);
  verify<g::file>("enum 规模 { 大型 中型 }", Outcome::global_failure);
  verify<g::file>("decide x : bool { when a -> true else -> false when b -> true }", Outcome::global_failure);
  verify<g::file>("table t : 规模 first { a || 规模 }", Outcome::global_failure);  // header on its own line
  verify<g::file>("table t : 规模 first {\n  a || 规模\n  1 | 2 || 大型\n}", Outcome::match);  // shape is checked later
  verify<g::file>("segments 对公客户 { when a -> 甲 { when b -> 乙; else -> 丙 } else -> 丁 }", Outcome::match);
  verify<g::file>("segments 对公客户 { when a -> }", Outcome::global_failure);
  verify<g::file>("plan 甲 { 周期 = 1 months;  渠道 = \"网点\" }", Outcome::match);
  verify<g::file>("scorecard s { factor a weight 50% { >= 300万 -> 100;  [100万, 300万) -> 90;  else -> 60 }\n"
                  "  multiply 1.05 when b >= 200万 }", Outcome::match);
  verify<g::file>("scorecard s { factor a { >= 1 60 } }", Outcome::global_failure);
  verify<g::file>("grid g : 群 by a, b {\n        | >= 60 | < 60\n  >= 100万 | 重要 | 优质\n  < 100万 | 普通 | 退出\n}\n", Outcome::match);
  verify<g::file>("grid g : 群 by a {\n}", Outcome::global_failure);
  verify<g::file>("import \"sme_size.strat\"\nlet x = load \"data/g.csv\" column id", Outcome::match);
  verify<g::file>("lett x = 1", Outcome::global_failure);
}
