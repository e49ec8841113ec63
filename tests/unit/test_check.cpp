// The checker: each broken rule text → the diagnostic code at the right line.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "analysis/analyze.hpp"
#include "driver/stratum.hpp"
#include "driver/testing.hpp"

using namespace stratum;

namespace {

constexpr const char* kPrelude = R"(enum 行业 { 工业, 建筑业 }
enum 规模 { 大型, 中型, 小型 }
input 企业 {
  id : text key
  industry : 行业
  employees : int
  revenue : money
  total_assets : money?
  established : date?
}
)";  // 10 lines

struct Found {
  std::string code;
  uint32_t line;
};

std::vector<Found> diagnose(const std::string& body) {
  Compilation c = compile_text("t.strat", std::string(kPrelude) + body);
  std::vector<Found> out;
  for (const auto& d : c.diagnostics.items()) {
    out.push_back({d.code, c.sources.file(d.span.file).line_col(d.span.begin).line});
  }
  return out;
}

void expect_one(const std::string& body, const std::string& code, uint32_t line) {
  auto found = diagnose(body);
  INFO(body);
  REQUIRE(found.size() >= 1);
  CHECK(found[0].code == code);
  CHECK(found[0].line == line);
}

}  // namespace

TEST_CASE("clean rules have no diagnostics") {
  auto found = diagnose(R"(let 大型门槛 = 3亿
let 资产 = total_assets ?? 0元
decide 大客户 : bool { when revenue >= 大型门槛 and 资产 > 0元 -> true  else -> false }
decide 有资产 : bool { when total_assets is present and total_assets > 0元 -> true  else -> false }
decide 缺资产 : bool { when total_assets is missing -> true  when total_assets > 1亿 -> false  else -> false }
)");
  for (auto& f : found) INFO(f.code << " at " << f.line);
  CHECK(found.empty());
}

TEST_CASE("syntax errors stop at the first, with the author's terms") {
  expect_one("decide x : bool { when revenue > -> true }\n", "syntax", 11);
  expect_one("let a = \n\nlet b = 2\n", "syntax", 13);
  expect_one("enum 客户 { 甲 乙 }\n", "syntax", 11);
  CHECK(diagnose("let a = (1 + \nlet b = )\n").size() == 1);
}

TEST_CASE("unknown names, with a suggestion") {
  expect_one("let x = revenu + 1元\n", "unknown-name", 11);
  expect_one("let x = 行当.工业\n", "unknown-name", 11);
}

TEST_CASE("unknown enum values") {
  expect_one("decide x : bool { when industry == 工商 -> true else -> false }\n", "unknown-enum-value", 11);
  expect_one("decide x : 规模 { else -> 巨型 }\n", "unknown-enum-value", 11);
}

TEST_CASE("types and units") {
  expect_one("decide x : bool { when employees >= 2000万 -> true else -> false }\n", "type-mismatch", 11);
  expect_one("decide x : bool { when revenue >= 5000 -> true else -> false }\n", "type-mismatch", 11);
  expect_one("let x = revenue + 1\n", "type-mismatch", 11);
  expect_one("let x = revenue * revenue\n", "type-mismatch", 11);
  expect_one("decide x : 规模 { when revenue > 0元 -> 1 else -> 大型 }\n", "type-mismatch", 11);
  expect_one("decide x : bool { when industry > 0 -> true else -> false }\n", "type-mismatch", 11);
  expect_one("let x = min(revenue, employees)\n", "type-mismatch", 11);
  expect_one("decide x : bool { when revenue -> true else -> false }\n", "type-mismatch", 11);
}

TEST_CASE("optional fields must be guarded") {
  expect_one("decide x : bool { when total_assets > 0元 -> true else -> false }\n", "unguarded-optional", 11);
  expect_one("decide x : bool { when total_assets is present or total_assets > 0元 -> true else -> false }\n",
             "unguarded-optional", 11);
  expect_one("let a = total_assets\nlet b = a * 2\n", "unguarded-optional", 12);
  expect_one("table t : 规模 first {\n  total_assets || t\n  >= 1元 || 大型\n}\ndecide u : bool { when t == 大型 -> true  else -> false }\n", "unguarded-optional", 15);
}

TEST_CASE("cycles among derived values") {
  auto found = diagnose("let a = b + 1\nlet b = c + 1\nlet c = a + 1\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "cycle");
  expect_one("decide x : bool { when y -> true else -> false }\ndecide y : bool { when x -> true else -> false }\n", "cycle", 11);
}

TEST_CASE("duplicate names") {
  expect_one("let revenue = 1\n", "duplicate-name", 11);
  expect_one("let a = 1\nlet a = 2\n", "duplicate-name", 12);
  expect_one("enum 规模 { 甲 }\n", "duplicate-name", 11);
  expect_one("enum 等级 { 甲, 甲 }\n", "duplicate-name", 11);
}

TEST_CASE("tables") {
  expect_one("table t : 规模 first {\n  industry | employees || t\n  工业 || 大型\n}\n", "table-shape", 13);
  expect_one("table t : int collect sum {\n  industry || t | u : int\n  工业 || 1 | 2\n}\n", "table-shape", 11);
  // priority over several results ranks by the enum ones; none is an error
  expect_one("table t : text priority {\n  industry || t | u\n  工业 || \"a\" | \"b\"\n  else || missing | missing\n}\n", "type-mismatch", 11);
  // rule order / output order give lists
  expect_one("table t : 规模 rule order {\n  industry || t\n  工业 || 大型\n}\n", "type-mismatch", 11);
  expect_one("table t : list<text> output order {\n  industry || t\n  工业 || \"a\"\n}\n", "type-mismatch", 11);
  expect_one("table t : list<规模> first {\n  industry || t\n  工业 || 大型\n}\n", "type-mismatch", 11);
  // `else` rows: only where no row matching leaves no result
  expect_one("table t : int collect count {\n  industry || t\n  工业 || 1\n  else || 0\n}\n", "table-shape", 14);
  expect_one("table t : list<规模> rule order {\n  industry || t\n  工业 || 大型\n  else || missing\n}\n", "type-mismatch", 14);
  expect_one("table t : 规模 first {\n  industry || t\n  else || 小型\n  工业 || 大型\n}\n", "syntax", 14);
  expect_one("table t : 规模 first {\n  industry || t\n  工业 || 大型\n  else || 小型 | 中型\n}\n", "table-shape", 14);
  // `missing` as a result: not in a list or a collected table
  expect_one("table t : list<规模> rule order {\n  industry || t\n  工业 || missing\n}\n", "type-mismatch", 13);
  // lists are outputs: no field, no decision list, no expression
  {
    auto found = diagnose("input x { y : list<text> }\n");
    REQUIRE(found.size() == 2);
    CHECK(found[0].code == "duplicate-input");
    CHECK(found[1].code == "unsupported-type");
    CHECK(found[1].line == 11);
  }
  expect_one("decide x : list<规模> { else -> 大型 }\n", "unsupported-type", 11);
  expect_one("table t : list<规模> rule order {\n  industry || t\n  工业 || 大型\n}\ndecide x : bool { when t == 大型 -> true  else -> false }\n", "unsupported-type", 15);
  expect_one("table t : 规模 collect list {\n  industry || t\n  工业 || 大型\n}\n", "type-mismatch", 11);
  expect_one("table t : int collect sum {\n  industry || t\n  工业 || 大型\n}\n", "type-mismatch", 13);
  expect_one("table t first {\n  industry || t\n  工业 || 大型\n}\n", "missing-type", 12);
}

TEST_CASE("tests beside rules") {
  const char* lists = "table t : list<规模> rule order {\n  industry || t\n  工业 || 大型\n}\n";  // lines 11-14
  expect_one(std::string(lists) + "test \"t\" { given { industry: 工业 } expect { t: 大型 } }\n", "type-mismatch", 15);
  expect_one(std::string(lists) + "test \"t\" { given { industry: 工业 } expect { t: [大型, 1] } }\n", "type-mismatch", 15);
  expect_one(std::string(lists) + "test \"t\" { given { industry: [工业] } expect { t: [] } }\n", "not-constant", 15);
  expect_one("decide x : bool { else -> true }\ntest \"t\" { given { revenue: 1元 } expect { x: [true] } }\n", "type-mismatch", 12);
  expect_one("decide x : bool { else -> true }\ntest \"t\" { given { revnue: 1元 } expect { x: true } }\n",
             "unknown-name", 12);
  expect_one("decide x : bool { else -> true }\ntest \"t\" { given { revenue: 1 } expect { x: true } }\n",
             "type-mismatch", 12);
}

TEST_CASE("ambiguous enum values need their enum's name") {
  auto found = diagnose("enum 层级 { 大型, 小微 }\nlet x = 大型\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "ambiguous-name");
  CHECK(diagnose("enum 层级 { 大型, 小微 }\nlet x = 层级.大型\ndecide d : bool { when x == 层级.大型 -> true  else -> false }\n").empty());
}

TEST_CASE("hostile input gets a diagnostic, never a crash") {
  std::string deep_parens = "let x = " + std::string(100000, '(') + "1" + std::string(100000, ')') + "\n";
  auto found = diagnose(deep_parens);
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "syntax");

  std::string minus_run = "let x = ";
  for (int i = 0; i < 50000; ++i) minus_run += "- ";
  found = diagnose(minus_run + "1\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "syntax");

  std::string nots = "decide x : bool { when ";
  for (int i = 0; i < 50000; ++i) nots += "not ";
  found = diagnose(nots + "true -> true else -> false }\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "syntax");

  std::string long_sum = "let x = 1";
  for (int i = 0; i < 100000; ++i) long_sum += " + 1";
  found = diagnose(long_sum + "\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "syntax");

  // A long but reasonable expression is fine.
  std::string sum = "let x = 1";
  for (int i = 0; i < 1000; ++i) sum += " + 1";
  CHECK(diagnose(sum + "\ndecide d : bool { when x > 0 -> true  else -> false }\n").empty());
}

TEST_CASE("every prefix and many mutations of a real rule file compile or report, never throw") {
  std::string text = std::string(kPrelude) + R"(let 门槛 = 3亿
decide 大 : bool { when revenue >= 门槛 and total_assets is present and total_assets > 1元 -> true  else -> false }
table 规模 : 规模 first {
  industry     | employees | revenue          || 规模
  {工业, 建筑业} | >= 1000   | [4亿, 10亿]       || 大型
  not {工业}    | -         | -                || 中型
  -            | -         | -                || 小型
}
test "t" { given { industry: 工业, employees: 1000, revenue: 4亿 } expect { 规模: 大型 } }
)";
  size_t compiled = 0;
  for (size_t n = 0; n <= text.size(); ++n) {
    Compilation c = compile_text("prefix.strat", text.substr(0, n));
    compiled += c.ok();
  }
  CHECK(compiled > 0);
  uint32_t seed = 20111;
  auto next = [&]() { seed = seed * 1103515245u + 12345u; return seed >> 8; };
  const char pieces[] = "(){}[]|-+*/<>=!?\"#,;:\n 0123456789万亿元%";
  for (int round = 0; round < 2000; ++round) {
    std::string m = text;
    for (int k = 0; k < 3; ++k) {
      size_t at = next() % m.size();
      switch (next() % 3) {
        case 0: m.erase(at, 1 + next() % 4); break;
        case 1: m.insert(at, 1, pieces[next() % (sizeof(pieces) - 1)]); break;
        default: m[at] = pieces[next() % (sizeof(pieces) - 1)]; break;
      }
    }
    CHECK_NOTHROW(compile_text("mutated.strat", m));
  }
}

TEST_CASE("chains of lets longer than the limit are refused, without recursion, forwards or backwards") {
  std::string backward = "input c { x : int }\nlet l0 = x\n";
  for (int i = 1; i <= 1000; ++i) backward += fmt::format("let l{} = l{} + 1\n", i, i - 1);
  Compilation b = compile_text("b.strat", backward);
  REQUIRE(b.render() ==
          "b.strat:1002:5: error: `l1000` is computed through a chain of 1001 `let`s, each using the next; at most 1000 are allowed [too-deep]\n"
          "     |\n"
          "1002 | let l1000 = l999 + 1\n"
          "     |     ^^^^^\n"
          "  = note: compute intermediate values in fewer steps, or give them as inputs (see docs/limits.md)\n");
  std::string forward = "input c { x : int }\n";
  for (int i = 0; i < 20000; ++i) forward += fmt::format("let l{} = l{} + 1\n", i, i + 1);
  forward += "let l20000 = x\n";
  Compilation f = compile_text("f.strat", forward);
  REQUIRE(f.diagnostics.items().size() == 1);
  CHECK(f.diagnostics.items()[0].code == "too-deep");
  std::string fine = "input c { x : int }\nlet l0 = x\n";
  for (int i = 1; i < 1000; ++i) fine += fmt::format("let l{} = l{} + 1\n", i, i - 1);
  CHECK(compile_text("ok.strat", fine).ok());
}

TEST_CASE("the analysis stops at its time budget and says what it could not prove") {
  std::string text = "enum R { A, B }\ninput c { x : int  y : int }\ntable t : R unique {\n  x | y || t\n";
  for (int i = 0; i < 3000; ++i) text += fmt::format("  [{}, {}) | - || A\n", i * 10, i * 10 + 10);
  text += "  < 0 | - || B\n  >= 30000 | - || B\n}\n";
  Compilation c = compile_text("t.strat", text, false);
  REQUIRE(c.ok());
  Diagnostics diags;
  analyse(*c.program, diags, std::chrono::milliseconds(0));
  std::vector<std::string> found;
  for (const auto& d : diags.items()) {
    std::string notes;
    for (const auto& n : d.notes) notes += " / " + n.message;
    found.push_back(d.code + ": " + d.message + notes);
  }
  CHECK(found == std::vector<std::string>{
                     "not-proven: could not prove that a row of table `t` applies to every customer / because the analysis ran past its "
                     "time budget (0 s for a rule file); add an `else` (or a catch-all row) to make it total"});
  // With the default budget the same table is proven, quickly (rows sorted along `x`).
  Diagnostics full;
  analyse(*c.program, full);
  CHECK(full.items().empty());
}

TEST_CASE("a catch-all last row settles a first table too large to track row by row") {
  // 500 rows over four columns leave more pieces than the analysis tracks;
  // the catch-all row still proves the table total (no not-proven warning).
  std::string text = "enum R { A, B }\ninput c { a : int  b : int  c : int  d : int }\ntable t : R first {\n  a | b | c | d || t\n";
  for (int i = 0; i < 500; ++i) {
    text += fmt::format("  >= {} | < {} | [{}, {}) | >= {} || A\n", (i * 37) % 101, (i * 53) % 97, i, i + 50, i % 10);
  }
  text += "  - | - | - | - || B\n}\n";
  Compilation c = compile_text("t.strat", text);
  CHECK(c.render() == "");
}

TEST_CASE("a long source line is shown around the mistake") {
  // 300 characters of name before the error: the excerpt starts with '…'
  // 60 characters before it, and the caret stays under it.
  std::string padding(300, 'a');
  Compilation c = compile_text("t.strat", "let " + padding + " = 1 + \"x\"\n");
  REQUIRE(c.diagnostics.items().size() == 1);
  std::string text = render_text(c.diagnostics.items()[0], c.sources);
  // The span `1 + "x"` starts at column 308; the window 60 characters before.
  std::string expected = "t.strat:1:308: error: " + c.diagnostics.items()[0].message + " [type-mismatch]\n"
                         "  |\n"
                         "1 | …" + std::string(57, 'a') + " = 1 + \"x\"\n"
                         "  | " + std::string(1 + 60, ' ') + "^^^^^^^\n";
  CHECK(text == expected);
}

TEST_CASE("columns that may be missing") {
  // `missing` as a cell needs a column written `x?`; `x?` on a value that is never missing is said
  expect_one("table t : 规模 first {\n  total_assets || t\n  missing || 大型\n  else || 小型\n}\n", "type-mismatch", 13);
  CHECK(diagnose("table t : 规模 first {\n  total_assets? || t\n  missing || 大型\n  else || 小型\n}\n").empty());
  {
    auto found = diagnose("table t : 规模 first {\n  revenue? || t\n  missing || 大型\n  else || 小型\n}\n");
    REQUIRE(found.size() == 2);
    CHECK((found[0].code == "never-missing" && found[0].line == 12));
    CHECK((found[1].code == "unreachable" && found[1].line == 13));  // the row can never apply
  }
  // a test gives `missing` only to an optional field
  expect_one("decide x : bool { else -> true }\ntest \"t\" { given { revenue: missing } expect { x: true } }\n", "not-optional", 12);
}

namespace {

// Every diagnostic of a rule text: "code line: message / note …".
std::vector<std::string> findings(const std::string& text) {
  Compilation c = compile_text("t.strat", text);
  std::vector<std::string> out;
  for (const auto& d : c.diagnostics.items()) {
    std::string line = fmt::format("{} {}: {}", d.code, c.sources.file(d.span.file).line_col(d.span.begin).line, d.message);
    for (const auto& n : d.notes) line += " / " + n.message;
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("sets of booleans, numbers and dates in cells are proved like any other cell") {
  std::string head = "enum R { A, B }\ninput c { id : text key  vip : bool  n : int  d : date }\n";  // 2 lines
  // `not {true}` leaves out the customers with `vip` true: a gap, not a total table.
  CHECK(findings(head + "table t : R unique {\n  vip || t\n  not {true} || A\n}\n") ==
        std::vector<std::string>{"gap 3: no row of table `t` applies to some customers, and there is no `else` or catch-all row"});
  // `{true}` and `not {true}` part the customers: nothing to say.
  CHECK(findings(head + "table t : R unique {\n  vip || t\n  {true} || A\n  not {true} || B\n}\n").empty());
  // `{true, false}` and `{true}` both hold for `vip` true.
  CHECK(findings(head + "table t : R unique {\n  vip || t\n  {true, false} || A\n  {true} || B\n}\n") ==
        std::vector<std::string>{"overlap 6: rows at lines 5 and 6 of table `t` both apply to some customers, and its hit policy is unique / the other row"});
  // Numbers: 3 is in `{1, 2, 3}` and in `[3, 5]`, though an `else` row follows.
  CHECK(findings(head + "table t : R unique {\n  n || t\n  {1, 2, 3} || A\n  [3, 5] || B\n  else || B\n}\n") ==
        std::vector<std::string>{"overlap 6: rows at lines 5 and 6 of table `t` both apply to some customers, and its hit policy is unique / the other row"});
  CHECK(findings(head + "table t : R unique {\n  n || t\n  {1, 2} || A\n  not {1, 2} || B\n}\n").empty());
  // Dates: 2026-02-01 is in the first set and not the second.
  CHECK(findings(head + "table t : R unique {\n  d || t\n  {2026-01-01, 2026-02-01} || A\n  not {2026-01-01} || B\n}\n") ==
        std::vector<std::string>{"overlap 6: rows at lines 5 and 6 of table `t` both apply to some customers, and its hit policy is unique / the other row"});
  // Unless the row is an unanalysable one, which is said (with an `else`, of its rows only).
  CHECK(findings(head + "table t : R unique {\n  n || t\n  >= n || A\n  < 5 || B\n  else || B\n}\n") ==
        std::vector<std::string>{"not-proven 3: could not prove that no two rows of table `t` both apply / because a cell's bound is computed"});
}

TEST_CASE("a computed column written `x?` may be missing in the proofs") {
  std::string head = "enum R { A, B }\ninput c { id : text key  n : int?  m : int }\nlet z = n\n";  // 3 lines
  // The `missing` row holds for some customers; with it the table is total.
  CHECK(findings(head + "table t : R unique {\n  z? || t\n  missing || A\n  >= 0 || B\n  < 0 || A\n}\n").empty());
  // Without it, the customers without `n` are not proved taken.
  CHECK(findings(head + "table t : R unique {\n  z? || t\n  >= 0 || B\n  < 0 || A\n}\n") ==
        std::vector<std::string>{"not-proven 4: could not prove that a row of table `t` applies to every customer / because the customers it "
                                 "leaves out depend on computed values; add an `else` (or a catch-all row) to make it total"});
}

TEST_CASE("in a priority table a missing result ranks after every value") {
  Compilation c = compile_text("t.strat", "enum R { A, B }\ninput c { id : text key  n : int }\n"
                                          "table t : R priority {\n  n || t\n  >= 0 || missing\n  >= 5 || B\n  else || A\n}\n"
                                          "test \"a value outranks no value\" { given { n: 7 } expect { t: B } }\n"
                                          "test \"no value when no other row\" { given { n: 2 } expect { t: missing } }\n");
  REQUIRE(c.ok());
  auto outcomes = run_test_blocks(c, std::nullopt);
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].problems == std::vector<std::string>{});
  CHECK(outcomes[1].problems == std::vector<std::string>{});
}

TEST_CASE("`is empty` and `size` over sets and lists: evaluated, typed and proved") {
  std::string head = "enum 标签 { 甲, 乙, 丙 }\nenum R { A, B, C }\ninput c { id : text key  tags : set<标签>  names : set<text>  n : int }\n";  // 3 lines
  {
    Compilation c = compile_text("t.strat", head +
        "decide d : R {\n  when tags is empty -> A\n  when size(tags) >= 2 -> B\n  else -> C\n}\n"
        "decide k : int { else -> size(names) + size(tags) }\n"
        "decide e : bool { when names is not empty -> true  else -> false }\n"
        "test \"none\" { given { tags: {}, names: {}, n: 0 } expect { d: A, k: 0, e: false } }\n"
        "test \"one\" { given { tags: {乙}, names: {\"x\"}, n: 0 } expect { d: C, k: 2, e: true } }\n"
        "test \"three\" { given { tags: {甲, 乙, 丙}, names: {\"x\", \"y\"}, n: 0 } expect { d: B, k: 5, e: true } }\n");
    REQUIRE(c.ok());
    CHECK(c.render() == "");
    for (const auto& o : run_test_blocks(c, std::nullopt)) CHECK(o.problems == std::vector<std::string>{});
  }
  // Over a set of enum values the analysis sees who is empty: a gap and a dead branch, each with its customer.
  CHECK(findings(head + "decide d : R {\n  when size(tags) > 0 -> A\n}\n") ==
        std::vector<std::string>{"gap 4: no branch of `d` applies to some customers, and there is no `else` or catch-all row"});
  CHECK(findings(head + "decide d : R {\n  when tags is not empty -> A\n  when size(tags) == 0 -> B\n  when 甲 in tags -> C\n}\n") ==
        std::vector<std::string>{"unreachable 7: this branch can never apply: earlier ones take every customer it would / "
                                 "for this customer the branch at line 5 applies first"});
  // Counts in between, and sets of texts (which may hold texts the rules never name), are not modelled: said so.
  CHECK(findings(head + "decide d : R {\n  when size(tags) == 2 -> A\n  when names is empty -> B\n}\n") ==
        std::vector<std::string>{"not-proven 4: could not prove that a branch of `d` applies to every customer / because it counts the members of "
                                 "a set: the analysis models whether a set of enum values is empty, not how many it holds; add an `else` "
                                 "(or a catch-all row) to make it total"});
  // Only sets and lists have members.
  CHECK(findings(head + "decide d : bool { when n is empty -> true  when size(n) > 1 -> false  else -> false }\n") ==
        std::vector<std::string>{"type-mismatch 4: `is empty` tests a set or a list, this is int (a text: `== \"\"`)",
                                 "type-mismatch 4: `size` counts the members of a set or the items of a list, this is int"});
}

TEST_CASE("a match naming every value of an enum decision is total, whatever computed it") {
  std::string head = "enum 风险等级 { 低, 中, 高 }\nenum 类型 { 大企业, 国际 }\nenum 服务 { 甲, 乙, 丙 }\n"
                     "input c { id : text key  类型 : 类型  评分 : int  tags : set<text> }\n"
                     "table 类型风险 : 风险等级 first {\n  类型 || 类型风险\n  国际 || 高\n  - || 低\n}\n"
                     "decide 评分风险 : 风险等级 {\n  when 评分 >= 80 -> 低\n  when 评分 >= 60 -> 中\n  else -> 高\n}\n";  // 14 lines
  // `max` of two decisions, region by region: every value named, no `else` needed.
  CHECK(findings(head + "let 风险 = max(类型风险, 评分风险)\n"
                        "decide 服务 : 服务 {\n  when 风险 == 低 -> 甲\n  when 风险 == 中 -> 乙\n  when 风险 == 高 -> 丙\n}\n")
            .empty());
  // A value it cannot take where the customer is: 国际 is always 高, never 低.
  CHECK(findings(head + "let 风险 = max(类型风险, 评分风险)\n"
                        "segments 客户 {\n  when 类型 == 国际 -> 国际客户 {\n    when 风险 == 低 -> 国际低\n    else -> 国际其他\n  }\n  else -> 其他\n}\n") ==
        std::vector<std::string>{"unreachable 18: the branch to `国际低` can never apply: earlier ones take every customer it would"});
  // Computed beyond what regions describe (a text set's size): its value is one of those its results give.
  std::string computed = "decide 标签风险 : 风险等级 {\n  when size(tags) > 3 -> 高\n  when size(tags) > 1 -> 中\n  else -> 低\n}\n";  // 5 lines
  CHECK(findings(head + computed + "decide 服务 : 服务 {\n  when 标签风险 == 低 -> 甲\n  when 标签风险 == 中 -> 乙\n  when 标签风险 == 高 -> 丙\n}\n") ==
        std::vector<std::string>{});
  CHECK(findings(head + "decide 只高 : 风险等级 {\n  when size(tags) > 3 -> 高\n  else -> 高\n}\n"
                        "decide 服务 : 服务 {\n  when 只高 == 低 -> 甲\n  else -> 丙\n}\n") ==
        std::vector<std::string>{"unreachable 20: this branch can never apply: its condition never holds for inputs in their domains"});
  // Naming only some of its values leaves the others, which cannot be shown with a customer: not proven.
  CHECK(findings(head + computed + "decide 服务 : 服务 {\n  when 标签风险 == 低 -> 甲\n  when 标签风险 == 中 -> 乙\n}\n") ==
        std::vector<std::string>{"not-proven 20: could not prove that a branch of `服务` applies to every customer / because the customers it "
                                 "leaves out depend on computed values; add an `else` (or a catch-all row) to make it total"});
}
