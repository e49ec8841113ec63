// Evaluation: rule text + one customer → the decided values.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdio>

#include "driver/stratum.hpp"
#include "driver/testing.hpp"
#include "value/date.hpp"

using namespace stratum;

namespace {

Compilation build(const std::string& text) {
  Compilation c = compile_text("t.strat", text);
  if (!c.ok()) FAIL(c.render());
  return c;
}

// Runs the rule text's own `test` blocks and requires each to pass.
void run_tests(const std::string& text, std::optional<int32_t> as_of = std::nullopt) {
  Compilation c = build(text);
  auto outcomes = run_test_blocks(c, as_of);
  REQUIRE_FALSE(outcomes.empty());
  for (const auto& o : outcomes) {
    std::string problems;
    for (const auto& p : o.problems) problems += p + "\n";
    INFO(o.name << ": " << problems);
    CHECK(o.passed);
  }
}

// Runs a YAML case file with `text` against `c`: one line per case,
// "name: passed" or "name: failed | problem | …".
std::vector<std::string> yaml_outcomes(const Compilation& c, const char* text, std::optional<int32_t> as_of = std::nullopt) {
  std::string path = fmt::format("/tmp/stratum-cases-{}.yaml", ::getpid());
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    std::fputs(text, f);
    std::fclose(f);
  }
  auto outcomes = run_yaml_cases(c, path, as_of, nullptr);
  std::remove(path.c_str());
  std::vector<std::string> got;
  for (const auto& o : outcomes) {
    std::string line = o.name + (o.passed ? ": passed" : ": failed");
    for (const auto& p : o.problems) line += " | " + p;
    got.push_back(line);
  }
  return got;
}

}  // namespace

TEST_CASE("0.1 + 0.2 == 0.3") {
  run_tests(R"(input c { a : decimal }
decide exact : bool { when 0.1 + 0.2 == 0.3 and a + 0.2 == 0.3 -> true  else -> false }
test "exact" { given { a: 0.1 } expect { exact: true } }
)");
}

TEST_CASE("scorecard arithmetic comes out exactly") {
  run_tests(R"(input c { history : decimal  forecast : decimal }
let score = (history * 50% + forecast * 50%) * 1.05
test "84" { given { history: 90, forecast: 70 } expect { score: 84 } }
)");
}

// A scorecard's sum overflowing rejects the customer (the sum is not a
// node: its overflow is turned into a rejection all the same), also when a
// compiled table computes the scorecard before its rows are tried.
TEST_CASE("a scorecard whose weighted sum overflows rejects the customer") {
  run_tests(R"(enum 档 { 甲, 乙 }
input c { x : decimal  y : int }
scorecard 分 {
  factor x weight 1000 { else -> x }
}
table 级 : 档 first {
  y      | 分     || 级
  >= 0   | -      || 甲
  < 0    | >= 0   || 乙
  < 0    | < 0    || 甲
  -1     | -      || 甲
  -2     | -      || 甲
  -3     | -      || 甲
  -4     | -      || 甲
  -5     | -      || 甲
  -6     | -      || 甲
  -7     | -      || 甲
  -8     | -      || 甲
  -9     | -      || 甲
  -10    | -      || 甲
  -11    | -      || 甲
  -12    | -      || 甲
  -13    | -      || 甲
}
test "sum overflows" { given { x: 1000000000000000000000, y: -1 } expect { 分: reject "arithmetic overflow", 级: reject "arithmetic overflow" } }
test "not needed by the row that matches" { given { x: 1000000000000000000000, y: 1 } expect { 级: 甲 } }
test "in range" { given { x: 2, y: -1 } expect { 分: 2000, 级: 乙 } }
)");
}

TEST_CASE("money in 万 and 亿, units kept apart") {
  run_tests(R"(input c { revenue : money  employees : int }
let 人均 = revenue / employees
let 占比 = revenue / 1亿
let 万元 = revenue / 1万元 * 1元
test "units" { given { revenue: 2000万, employees: 400 } expect { 人均: 50000元, 占比: 20%, 万元: 2000元 } }
)");
}

TEST_CASE("failing tests say expected and actual") {
  Compilation c = build(R"(enum 规模 { 大型, 小型 }
input c { revenue : money }
decide 规模 : 规模 { when revenue >= 1亿 -> 大型  else -> 小型 }
test "wrong" { given { revenue: 1亿 } expect { 规模: 小型 } }
)");
  auto outcomes = run_test_blocks(c, std::nullopt);
  REQUIRE(outcomes.size() == 1);
  CHECK_FALSE(outcomes[0].passed);
  REQUIRE(outcomes[0].problems.size() == 1);
  CHECK(outcomes[0].problems[0] == "规模: expected 小型, got 大型");
}

TEST_CASE("optional fields, presence and defaults") {
  run_tests(R"(input c { assets : money?  rate : decimal? }
let 资产 = assets ?? 0元
decide 有 : bool { when assets is present and assets > 0元 -> true  else -> false }
decide 缺 : bool { when assets is missing -> true  else -> false }
let 利率 = coalesce(rate, 3%)
test "absent" { given { } expect { 资产: 0元, 有: false, 缺: true, 利率: 0.03 } }
test "present" { given { assets: 5万, rate: 1.5% } expect { 资产: 50000元, 有: true, 缺: false, 利率: 0.015 } }
)");
}

TEST_CASE("dates and today") {
  auto as_of = parse_iso_date("2024-06-30");
  run_tests(R"(input c { established : date  last_visit : date }
let 经营年限 = years_between(established, today)
let 月数 = months_between(established, today)
let 未访天数 = days_between(last_visit, today)
decide 老客户 : bool { when established <= today - 3 years -> true  else -> false }
decide 近期 : bool { when today - last_visit <= 30 days -> true  else -> false }
test "2021-06-30 is 3 years" {
  given { established: 2021-06-30, last_visit: 2024-06-01 }
  expect { 经营年限: 3, 月数: 36, 未访天数: 29, 老客户: true, 近期: true }
}
test "2021-07-01 is not yet" {
  given { established: 2021-07-01, last_visit: 2024-05-30 }
  expect { 经营年限: 2, 月数: 35, 老客户: false, 近期: false }
}
)", as_of);
}

TEST_CASE("durations hold months and days: one type, compared, printed and expected alike") {
  // seed 006 (政府客户): 回访周期 "A级 每周一次 … C级 每月一次" — weeks and months in one plan item
  auto as_of = parse_iso_date("2024-06-30");
  Compilation c = build(R"(input c { 评分 : int  开户日期 : date }
segments 客户 { when 评分 >= 80 -> A级  when 评分 >= 60 -> C级  else -> D级 }
plan A级 { 回访周期 = 1 weeks }
plan C级 { 回访周期 = 1 months }
plan D级 { 回访周期 = 3 months }
let 宽限 = 1 month + 10 days
let 两倍 = 宽限 * 2
let 负 = -宽限
let 到期 = 开户日期 + 宽限
let 回退 = 开户日期 - 宽限
decide 同 : bool { when 12 months == 1 year and 1 month != 4 weeks and 宽限 == 1 month + 10 days -> true  else -> false }
test "A" { given { 评分: 90, 开户日期: 2024-01-31 } expect { plan.回访周期: 1 week, 宽限: 1 month + 10 days, 同: true,
           两倍: 2 months + 20 days, 负: -1 month - 10 days, 到期: 2024-03-10, 回退: 2023-12-21 } }
test "C" { given { 评分: 70, 开户日期: 2024-01-31 } expect { plan.回访周期: 1 month } }
test "D" { given { 评分: 10, 开户日期: 2024-01-31 } expect { plan.回访周期: 3 months } }
test "wrong" { given { 评分: 10, 开户日期: 2024-01-31 } expect { plan.回访周期: 12 weeks, 宽限: 40 days } }
)");
  auto outcomes = run_test_blocks(c, as_of);
  REQUIRE(outcomes.size() == 4);
  for (size_t i = 0; i < 3; ++i) {
    std::string problems;
    for (const auto& p : outcomes[i].problems) problems += p + "\n";
    INFO(outcomes[i].name << ": " << problems);
    CHECK(outcomes[i].passed);
  }
  CHECK(outcomes[3].problems == std::vector<std::string>{"plan.回访周期: expected 12 weeks, got 3 months",
                                                         "宽限: expected 40 days, got 1 month 10 days"});
  // the same words in a YAML case file, read by the record binder
  std::vector<std::string> got = yaml_outcomes(c, R"(- name: words
  given: { 评分: 90, 开户日期: 2024-01-31 }
  expect: { plan.回访周期: 1 week, 宽限: 1 month 10 days }
- name: chinese
  given: { 评分: 10, 开户日期: 2024-01-31 }
  expect: { plan.回访周期: 3个月 }
- name: wrong
  given: { 评分: 70, 开户日期: 2024-01-31 }
  expect: { plan.回访周期: 30 days, 宽限: a month }
)", as_of);
  CHECK(got == std::vector<std::string>{
                   "words: passed",
                   "chinese: passed",
                   "wrong: failed | expect: `宽限`: \"a month\" is not a duration (write e.g. `3 months`, `2 weeks`, `30 days`, "
                   "`1 year`, `6个月`, `1 month 2 weeks`)",
               });
}

TEST_CASE("durations beyond about 8,000 years reject the customer, months and days each") {
  run_tests(R"(input c { n : int  d : duration }
let big = d * n
test "months" { given { n: 2, d: 50000 months } expect { big: reject "duration out of range" } }
test "days" { given { n: 2, d: 2000000 days } expect { big: reject "duration out of range" } }
test "both" { given { n: 2, d: 40000 months + 1000000 days } expect { big: 80000 months + 2000000 days } }
test "negative" { given { n: -2, d: 40000 months + 1000000 days } expect { big: -80000 months - 2000000 days } }
)");
}

TEST_CASE("sets of durations mix months and days, compared as equality does") {
  run_tests(R"(input c { dur : duration }
decide z : bool { when dur in {1 month, 2 weeks} -> true  else -> false }
decide y : bool { when dur in {1 month} -> true  else -> false }
test "m" { given { dur: 1 month } expect { z: true, y: true } }
test "w" { given { dur: 2 weeks } expect { z: true, y: false } }
test "30 days is not 1 month" { given { dur: 30 days } expect { z: false, y: false } }
)");
}

TEST_CASE("date arithmetic stays within years 0000 to 9999, by days or by months") {
  run_tests(R"(input c { d : date  dur : duration }
let 前一天 = d - 1 day
let 后一天 = d + 1 day
let 三个月前 = d - 3 months
let 加 = d + dur
test "9999-12-31, a bank's no-maturity date" {
  given { d: 9999-12-31, dur: -1 day }
  expect { 前一天: 9999-12-30, 三个月前: 9999-09-30, 加: 9999-12-30, 后一天: reject "date out of range" }
}
test "9999-12-15 + 1 month" { given { d: 9999-11-15, dur: 1 month } expect { 加: 9999-12-15 } }
test "past 9999 by months" { given { d: 9999-12-15, dur: 1 month } expect { 加: reject "date out of range" } }
test "before 0000" { given { d: 0000-01-01, dur: 0 days } expect { 前一天: reject "date out of range", 加: 0000-01-01 } }
)");
}

TEST_CASE("decision tables: first hit, ranges, sets, negation") {
  run_tests(R"(enum 行业 { 工业, 建筑业, 零售业 }
enum 档 { 甲, 乙, 丙, 丁 }
input c { industry : 行业  revenue : money  name : text }
table 档 : 档 first {
  industry       | revenue            | name   || 档
  {工业, 建筑业}   | [1亿, 3亿)          | -      || 甲
  工业           | >= 3亿             | -      || 乙
  not {零售业}    | -                  | "特殊"  || 丙
  -              | -                  | -      || 丁
}
test "range low end is closed" { given { industry: 建筑业, revenue: 1亿, name: "x" } expect { 档: 甲 } }
test "range high end is open" { given { industry: 工业, revenue: 3亿, name: "x" } expect { 档: 乙 } }
test "text equality" { given { industry: 建筑业, revenue: 5亿, name: "特殊" } expect { 档: 丙 } }
test "negated set" { given { industry: 零售业, revenue: 5亿, name: "特殊" } expect { 档: 丁 } }
)");
}

TEST_CASE("sets of text and enums from data") {
  run_tests(R"(enum 标签 { 互联网, 物联网, 移动支付, 制造 }
input c { tags : set<标签>  groups : set<text>  group_id : text }
let 战略集团 = {"G001", "G002"}
decide 新兴 : bool { when tags contains 互联网 or 物联网 in tags -> true  else -> false }
decide 战略 : bool { when group_id in 战略集团 -> true  else -> false }
decide 集团 : bool { when groups contains "G9" -> true  else -> false }
test "yes" { given { tags: {物联网, 制造}, groups: {"G1", "G9"}, group_id: "G002" } expect { 新兴: true, 战略: true, 集团: true } }
test "no" { given { tags: {制造}, groups: {"G1"}, group_id: "G003" } expect { 新兴: false, 战略: false, 集团: false } }
)");
}

TEST_CASE("evaluation errors are per customer") {
  Compilation c = build(R"(input c { a : decimal  b : decimal }
let q = a / b
decide big : bool { when q > 1 -> true }
test "div0" { given { a: 1, b: 0 } expect { q: 0 } }
test "gap" { given { a: 1, b: 2 } expect { big: true } }
test "missing field" { given { a: 1 } expect { q: 1 } }
)");
  auto outcomes = run_test_blocks(c, std::nullopt);
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].problems.at(0) == "q: expected 0, but evaluation failed: division by zero");
  CHECK(outcomes[1].problems.at(0) == "big: expected true, but evaluation failed: no branch of `big` applies and it has no `else`");
  CHECK(outcomes[2].problems.at(0) == "q: expected 1, but evaluation failed: the test does not give `b`, which the rules need here");
}

TEST_CASE("round, floor, ceil, min, max, abs") {
  run_tests(R"(input c { x : decimal  m : money }
let r = round(x, 2)
let f = floor(x)
let k = ceil(x)
let lo = min(x, 1, 2.5)
let hi = max(m, 100元)
let a = abs(0 - x)
test "fns" { given { x: 2.345, m: 50元 } expect { r: 2.35, f: 2, k: 3, lo: 1, hi: 100元, a: 2.345 } }
)");
}

TEST_CASE("hit policies: unique, any, priority, collect") {
  run_tests(R"(enum 等级 { A, B, C, D }
enum 标签 { 高净值, 活跃, 新客 }
input c { assets : money  trades : int >= 0;  months : int }
table 唯一 : 等级 unique {
  assets       || 唯一
  >= 100万     || A
  [10万, 100万) || B
  < 10万       || C
}
table 一致 : 等级 any {
  assets   | trades || 一致
  >= 100万 | -      || A
  -        | >= 50  || A
  < 100万  | < 50   || D
}
table 优先 : 等级 priority {
  assets   | trades || 优先
  >= 10万  | -      || C
  -        | >= 50  || B
  >= 100万 | -      || A
  -        | -      || D
}
table 标签 : set<标签> collect list {
  assets   | trades | months || 标签
  >= 100万 | -      | -      || 高净值
  -        | >= 50  | -      || 活跃
  -        | -      | < 6    || 新客
}
table 积分 : int collect sum {
  assets   | trades || 积分
  >= 100万 | -      || 30
  -        | >= 50  || 20
  -        | -      || 1
}
table 命中数 : int collect count {
  assets   | trades || 命中数
  >= 100万 | -      || 0
  -        | >= 50  || 0
}
table 最高 : int collect max {
  trades || 最高
  >= 0   || 1
  >= 50  || 5
}
test "rich and active" {
  given { assets: 200万, trades: 60, months: 3 }
  expect { 唯一: A, 一致: A, 优先: A, 标签: {高净值, 活跃, 新客}, 积分: 51, 命中数: 2, 最高: 5 }
}
test "modest" {
  given { assets: 50万, trades: 1, months: 12 }
  expect { 唯一: B, 一致: D, 优先: C, 标签: {}, 积分: 1, 命中数: 0, 最高: 1 }
}
)");
}

TEST_CASE("hit policy violations are evaluation errors naming the rows") {
  // The check-time analysis rejects these tables (tests/golden/check/error-analysis-*);
  // compiled without it, evaluation still catches the violation for each customer.
  Compilation c = compile_text("t.strat", R"(enum 等级 { A, B }
input c { x : int }
table u : 等级 unique {
  x    || u
  >= 1 || A
  >= 5 || B
}
table y : 等级 any {
  x    || y
  >= 1 || A
  >= 5 || B
}
test "u" { given { x: 7 } expect { u: A } }
test "y" { given { x: 7 } expect { y: A } }
)", false);
  REQUIRE(c.ok());
  auto outcomes = run_test_blocks(c, std::nullopt);
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].problems.at(0) == "u: expected A, but evaluation failed: rows at lines 5 and 6 of table `u` both match, and its hit policy is unique");
  CHECK(outcomes[1].problems.at(0) == "y: expected A, but evaluation failed: rows at lines 10 and 11 of table `y` both match with different results, and its hit policy is any");
}

TEST_CASE("a unique table over another unique table keeps its own matching rows") {
  // Regression: both tables shared one scratch list, so the inner table's
  // rows were taken for the outer one's ("rows at lines 13 and 13 … both match").
  run_tests(R"(input c { a : int }
enum K { X, Y }
enum R { P, Q }
scorecard s { factor a { < 5 -> 1; else -> 10 } }
table k : K unique {
  s    || k
  < 5  || X
  >= 5 || Y
}
table r : R unique {
  k || r
  X || P
  Y || Q
}
table n : int collect sum {
  r || n
  P || 1
  Q || 2
  - || 10
}
test "7" { given { a: 7 } expect { r: Q, k: Y, n: 12 } }
test "1" { given { a: 1 } expect { r: P, n: 11 } }
)");
}

TEST_CASE("collect tables over a missing value have no result, as every table") {
  run_tests(R"(input c { x : money? >= 1元 }
table t : int collect min {
  x      || t
  >= 1元 || 1
}
table u : int collect max {
  x      || u
  >= 5元 || 5
  -      || 2
}
table n : int collect count {
  x      || n
  >= 5元 || 1
}
test "no x" { given { } expect { t: missing, u: missing, n: missing } }
test "x" { given { x: 6元 } expect { t: 1, u: 5, n: 1 } }
)");
}

TEST_CASE("a value that failed for a customer fails again with its reason, not as a cycle") {
  Compilation c = build(R"(enum 等 { a, b }
input c { x : int }
decide 级 : 等 { when x > 0 -> a  else -> reject "x 须为正" }
decide 再 : bool { when 级 == a -> true  else -> false }
plan when 级 == a { 项 = "A" }
test "t" { given { x: 0 } expect { 级: reject "x 须为正", 再: true } }
)");
  auto outcomes = run_test_blocks(c, std::nullopt);
  REQUIRE(outcomes.size() == 1);
  REQUIRE(outcomes[0].problems == std::vector<std::string>{"再: expected true, but evaluation failed: x 须为正"});
}

TEST_CASE("values nested deeper than the evaluator's limit reject the customer, never the stack") {
  // d0 uses d1 uses … d4999: asked first, d0 would nest 5000 computations.
  std::string text = "input c { x : int }\n";
  for (int i = 0; i < 4999; ++i) text += fmt::format("private decide d{} : int {{ else -> d{} + 1 }}\n", i, i + 1);
  text += "private decide d4999 : int { else -> x }\ndecide top : int { else -> d0 }\n";
  text += "test \"deep\" { given { x: 1 } expect { top: 5000 } }\n";
  Compilation c = compile_text("t.strat", text, false);
  REQUIRE(c.ok());
  // The runner's thread has a 256 MiB stack, as the stratum command's threads do.
  auto outcomes = run_test_blocks(c, std::nullopt);
  REQUIRE(outcomes.size() == 1);
  REQUIRE(outcomes[0].problems ==
          std::vector<std::string>{"top: expected 5000, but evaluation failed: the rules compute values through more than 2000 levels"});
}

TEST_CASE("YAML cases give their values through the record binder, ranges and sets included") {
  Compilation c = build(R"(enum 标签 { 甲, 乙 }
input c { id : text key  n : int >= 0  tags : set<标签>  names : set<text>  d : date? }
decide big : bool { when n >= 10 and 甲 in tags and names contains "x" -> true  else -> false }
)");
  std::vector<std::string> got = yaml_outcomes(c, R"(- name: lists and a scalar set
  given: { id: A, n: 10, tags: [甲, 乙], names: "x;y" }
  expect: { big: true }
- name: out of range
  given: { id: B, n: -1, tags: [], names: [] }
  expect: { big: false }
- name: not a member
  given: { id: C, n: 1, tags: [丙], names: [] }
  expect: { big: false }
- name: a map is not a value
  given: { id: D, n: 1, tags: [], names: { a: 1 } }
  expect: { big: false }
- name: not a date
  given: { id: E, n: 1, tags: [], names: [], d: 2026-02-30 }
  expect: { big: false }
)");
  CHECK(got == std::vector<std::string>{
                   "lists and a scalar set: passed",
                   "out of range: failed | given: `n`: -1 is outside the field's range `>= 0`",
                   "not a member: failed | given: `tags`: \"丙\" is not a value of 标签 (甲, 乙)",
                   "a map is not a value: failed | given: `names` must be a value or a list",
                   "not a date: failed | given: `d`: \"2026-02-30\" is not a date (write YYYY-MM-DD)",
               });
}

TEST_CASE("YAML cases expect lists in order and sets in any order") {
  Compilation c = build(R"(enum 标签 { 甲, 乙, 丙 }
input c { id : text key  n : int }
let m = n + 1
table 顺序 rule order {
  n || 顺序 : list<标签>
  >= 1 || 乙
  >= 2 || 甲
}
table 集合 collect list {
  n || 集合 : set<标签>
  >= 1 || 乙
  >= 2 || 甲
}
table 名字 collect list {
  n || 名字 : set<text>
  >= 1 || "y"
  >= 2 || "x"
}
)");
  std::vector<std::string> got = yaml_outcomes(c, R"(- name: two of each
  given: { id: A, n: 2 }
  expect: { 顺序: [乙, 甲], 集合: [甲, 乙], 名字: [x, y] }
- name: none
  given: { id: B, n: 0 }
  expect: { 顺序: [], 集合: [], 名字: [] }
- name: the order of a list counts
  given: { id: C, n: 2 }
  expect: { 顺序: [甲, 乙] }
- name: a list is not one value
  given: { id: D, n: 2 }
  expect: { 顺序: 乙 }
- name: an item not of the type
  given: { id: E, n: 2 }
  expect: { 集合: [甲, 丁] }
- name: one value is not a list
  given: { id: F, n: 2 }
  expect: { m: [3] }
)");
  CHECK(got == std::vector<std::string>{
                   "two of each: passed",
                   "none: passed",
                   "the order of a list counts: failed | 顺序: expected 甲;乙, got 乙;甲",
                   "a list is not one value: failed | expect: `顺序` is a list: write its items in order as `[a, b]` (`[]` when empty)",
                   "an item not of the type: failed | expect: `集合`, item 2: \"丁\" is not a value of 标签 (甲, 乙, 丙)",
                   "one value is not a list: failed | expect: `m` is one value, not a list: write it without `[ ]`",
               });
}
