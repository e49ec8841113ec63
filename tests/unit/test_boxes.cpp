// The analysis' boxes on their own (src/analysis/boxes.hpp): meets,
// complements, covers and subtractions over concrete intervals, enum codes,
// texts and optional values, each result written out in full.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "analysis/boxes.hpp"

using namespace stratum;
using namespace stratum::analysis;

namespace {

int128 N(int64_t whole) { return static_cast<int128>(whole) * kScale; }

Var interval_var(const char* name, bool whole, int64_t lo, int64_t hi, bool optional = false) {
  Var v;
  v.name = name;
  v.type = Type::of(whole ? BaseType::int_ : BaseType::decimal);
  v.kind = Kind::interval;
  v.whole = whole;
  v.universe.lo = N(lo);
  v.universe.hi = N(hi);
  v.universe.missing = optional;
  return v;
}

Var enum_var(const char* name, int32_t codes, bool optional = false) {
  Var v;
  v.name = name;
  v.type = Type::enum_of(0);
  v.kind = Kind::mask;
  v.codes = codes;
  v.universe.mask = (static_cast<unsigned __int128>(1) << codes) - 1;
  v.universe.missing = optional;
  return v;
}

Var text_var(const char* name) {
  Var v;
  v.name = name;
  v.type = Type::of(BaseType::text);
  v.kind = Kind::text;
  return v;
}

std::string number(int128 raw) {
  if (raw == kLow) return "min";
  if (raw == kHigh) return "max";
  return Decimal::from_raw(raw).to_string();
}

// A domain as text: "missing", "[1, 9.999999999999]", "{0,3}", "in {a}", "not in {a,b}",
// joined by " or "; "nothing" when it allows nothing.
std::string show(const Dom& d, const Var& v) {
  std::vector<std::string> parts;
  if (d.missing) parts.push_back("missing");
  if (d.present) {
    std::string s;
    switch (v.kind) {
      case Kind::interval: s = "[" + number(d.lo) + ", " + number(d.hi) + "]"; break;
      case Kind::mask:
        for (int code = 0; code < 128; ++code) {
          if ((d.mask >> code) & 1) s += (s.empty() ? "" : ",") + std::to_string(code);
        }
        s = "{" + s + "}";
        break;
      case Kind::text: {
        std::string texts;
        for (auto t : d.texts) texts += (texts.empty() ? "" : ",") + std::string(t);
        s = (d.text_in ? "in {" : "not in {") + texts + "}";
        break;
      }
      case Kind::opaque: s = "any"; break;
    }
    parts.push_back(s);
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " or ") + p;
  return out.empty() ? "nothing" : out;
}

std::string show(const Box& b, const std::vector<Var>& vars) {
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) out += (i ? "; " : "") + vars[i].name + " " + show(b[i], vars[i]);
  return out;
}

std::string show(const Boxes& boxes, const std::vector<Var>& vars) {
  std::string out;
  for (const Box& b : boxes) out += (out.empty() ? "" : " | ") + show(b, vars);
  return out.empty() ? "none" : out;
}

Dom interval(int128 lo, int128 hi) {
  Dom d;
  d.lo = lo;
  d.hi = hi;
  return d;
}

Dom codes(unsigned mask) {
  Dom d;
  d.mask = mask;
  return d;
}

Dom texts(bool in, std::vector<std::string_view> t) {
  Dom d;
  d.text_in = in;
  d.texts = std::move(t);
  return d;
}

}  // namespace

TEST_CASE("boxes: intervals meet, complement and cover") {
  Var x = interval_var("x", true, 0, 100);
  CHECK(show(meet(interval(N(10), N(50)), interval(N(30), N(80)), x), x) == "[30, 50]");
  CHECK(show(meet(interval(N(10), N(20)), interval(N(30), N(80)), x), x) == "[30, 20]");
  CHECK(empty(meet(interval(N(10), N(20)), interval(N(30), N(80)), x), x));

  auto outside = complement(interval(N(10), N(50)), x);
  REQUIRE(outside.size() == 2);
  CHECK(show(outside[0], x) == "[0, 9.999999999999]");
  CHECK(show(outside[1], x) == "[50.000000000001, 100]");
  CHECK(complement(x.universe, x).empty());
  // Only the part of the universe outside: [−5, 10] leaves (10, 100].
  auto right = complement(interval(-N(5), N(10)), x);
  REQUIRE(right.size() == 1);
  CHECK(show(right[0], x) == "[10.000000000001, 100]");

  CHECK(covers(interval(N(0), N(60)), interval(N(10), N(50)), x));
  CHECK_FALSE(covers(interval(N(10), N(50)), interval(N(0), N(60)), x));
  // Between 8 and 9 (both excluded) an int has no value; a decimal has.
  Dom between = interval(N(8) + 1, N(9) - 1);
  CHECK(values_empty(between, x));
  CHECK_FALSE(values_empty(between, interval_var("r", false, 0, 100)));
  // So an int range [0, 8.5] is covered by [0, 8] …
  CHECK(covers(interval(N(0), N(8)), interval(N(0), N(8) + kScale / 2), x));
  // … and a decimal one is not.
  Var r = interval_var("r", false, 0, 100);
  CHECK_FALSE(covers(interval(N(0), N(8)), interval(N(0), N(8) + kScale / 2), r));
}

TEST_CASE("boxes: comparisons as intervals; whole numbers up and down") {
  auto ge = interval_of(eval::TestKind::ge, N(5), 0, true, true);
  REQUIRE(ge);
  CHECK(number(ge->first) == "5");
  CHECK(number(ge->second) == "max");
  auto lt = interval_of(eval::TestKind::lt, N(5), 0, true, true);
  CHECK(number(lt->first) == "min");
  CHECK(number(lt->second) == "4.999999999999");
  auto range = interval_of(eval::TestKind::range, N(1), N(3), false, true);  // (1, 3]
  CHECK(number(range->first) == "1.000000000001");
  CHECK(number(range->second) == "3");
  CHECK_FALSE(interval_of(eval::TestKind::in_set, 0, 0, true, true));

  CHECK(number(ceil_to(N(1) + 1, kScale)) == "2");
  CHECK(number(floor_to(N(1) + 1, kScale)) == "1");
  CHECK(number(ceil_to(-N(1) - 1, kScale)) == "-1");
  CHECK(number(floor_to(-N(1) - 1, kScale)) == "-2");
  CHECK(number(ceil_to(-N(3), kScale)) == "-3");
}

TEST_CASE("boxes: enum members as code sets") {
  Var e = enum_var("e", 4);
  CHECK(show(e.universe, e) == "{0,1,2,3}");
  CHECK(show(meet(codes(0b0110), codes(0b0011), e), e) == "{1}");
  auto rest = complement(codes(0b0110), e);
  REQUIRE(rest.size() == 1);
  CHECK(show(rest[0], e) == "{0,3}");
  CHECK(complement(codes(0b1111), e).empty());
  CHECK(covers(codes(0b0111), codes(0b0011), e));
  CHECK_FALSE(covers(codes(0b0011), codes(0b0111), e));
  CHECK(empty(codes(0), e));
}

TEST_CASE("boxes: texts in and not in a list") {
  Var t = text_var("t");
  CHECK(show(t.universe, t) == "not in {}");
  CHECK(show(meet(texts(true, {"a", "b"}), texts(true, {"b", "c"}), t), t) == "in {b}");
  CHECK(show(meet(texts(true, {"a", "b"}), texts(false, {"a"}), t), t) == "in {b}");
  CHECK(show(meet(texts(false, {"a"}), texts(true, {"a", "b"}), t), t) == "in {b}");
  CHECK(show(meet(texts(false, {"a"}), texts(false, {"b", "a"}), t), t) == "not in {a,b}");
  auto rest = complement(texts(true, {"a"}), t);
  REQUIRE(rest.size() == 1);
  CHECK(show(rest[0], t) == "not in {a}");
  rest = complement(texts(false, {"a", "b"}), t);
  REQUIRE(rest.size() == 1);
  CHECK(show(rest[0], t) == "in {a,b}");
  CHECK(values_empty(texts(true, {}), t));
  CHECK(covers(texts(false, {"a"}), texts(true, {"b"}), t));
  CHECK_FALSE(covers(texts(false, {"a"}), texts(true, {"a", "b"}), t));
}

TEST_CASE("boxes: optional values and missing") {
  Var x = interval_var("x", true, 0, 100, true);
  CHECK(show(x.universe, x) == "missing or [0, 100]");
  Dom at_least_50 = x.universe;
  at_least_50.missing = false;
  at_least_50.lo = N(50);
  // Outside `x >= 50`: the customers without x, then those below 50.
  auto rest = complement(at_least_50, x);
  REQUIRE(rest.size() == 2);
  CHECK(show(rest[0], x) == "missing");
  CHECK(show(rest[1], x) == "[0, 49.999999999999]");
  CHECK(covers(x.universe, at_least_50, x));
  CHECK_FALSE(covers(at_least_50, x.universe, x));

  // `x is missing`: no present value, but not empty.
  Dom absent = x.universe;
  absent.present = false;
  CHECK(show(absent, x) == "missing");
  CHECK(values_empty(absent, x));
  CHECK_FALSE(empty(absent, x));
  rest = complement(absent, x);
  REQUIRE(rest.size() == 1);
  CHECK(show(rest[0], x) == "[0, 100]");
  CHECK(show(meet(absent, at_least_50, x), x) == "nothing");
  CHECK(empty(meet(absent, at_least_50, x), x));
}

TEST_CASE("boxes: subtraction gives disjoint boxes, in order") {
  std::vector<Var> vars{interval_var("x", true, 0, 100), enum_var("e", 3)};
  int ticks = 0;
  BoxAlgebra boxes(vars, [&] { ++ticks; });
  Box all = boxes.universe();
  CHECK(show(all, vars) == "x [0, 100]; e {0,1,2}");

  Box x_10_20 = boxes.with(0, interval(N(10), N(20)));
  CHECK(show(x_10_20, vars) == "x [10, 20]; e {0,1,2}");
  CHECK(show(boxes.subtract(all, x_10_20), vars) ==
        "x [0, 9.999999999999]; e {0,1,2} | x [20.000000000001, 100]; e {0,1,2}");
  CHECK(ticks == 1);

  // x in [10, 20] and e == 1: what is left is x outside, then e other than 1 inside.
  Box corner = *boxes.meet(x_10_20, boxes.with(1, codes(0b010)));
  CHECK(show(corner, vars) == "x [10, 20]; e {1}");
  CHECK(show(boxes.subtract(all, corner), vars) ==
        "x [0, 9.999999999999]; e {0,1,2} | x [20.000000000001, 100]; e {0,1,2} | x [10, 20]; e {0,2}");
  // A box that misses the other is left whole.
  Box x_50_60 = boxes.with(0, interval(N(50), N(60)));
  CHECK(show(boxes.subtract(x_10_20, x_50_60), vars) == "x [10, 20]; e {0,1,2}");
  CHECK(show(boxes.subtract(corner, x_10_20), vars) == "none");
  CHECK_FALSE(boxes.meet(x_10_20, x_50_60).has_value());

  // Several at once: box by box, in order.
  CHECK(show(boxes.subtract(Boxes{all}, Boxes{x_10_20, boxes.with(1, codes(0b001))}), vars) ==
        "x [0, 9.999999999999]; e {1,2} | x [20.000000000001, 100]; e {1,2}");
  CHECK(show(boxes.intersect(Boxes{boxes.with(0, interval(0, N(50)))}, Boxes{boxes.with(0, interval(N(30), N(100))), x_50_60}), vars) ==
        "x [30, 50]; e {0,1,2} | x [50, 50]; e {0,1,2}");
  CHECK(show(boxes.intersect(Boxes{x_10_20}, Boxes{x_50_60}), vars) == "none");
}

TEST_CASE("boxes: the variables are read at every call") {
  std::vector<Var> vars{interval_var("x", true, 0, 100)};
  BoxAlgebra boxes(vars, [] {});
  CHECK(boxes.universe().size() == 1);
  vars.push_back(enum_var("column", 2, true));
  CHECK(show(boxes.universe(), vars) == "x [0, 100]; column missing or {0,1}");
  vars.pop_back();
  CHECK(boxes.universe().size() == 1);
}

TEST_CASE("boxes: giving up") {
  std::vector<Var> vars{interval_var("x", true, 0, 100)};
  BoxAlgebra out_of_time(vars, [] { throw Unknown{"out of time"}; });
  Box all = out_of_time.universe();
  try {
    out_of_time.subtract(all, all);
    FAIL("no Unknown");
  } catch (const Unknown& u) {
    CHECK(u.reason == "out of time");
  }
  // Beyond kMaxBoxes boxes the analysis does not go on.
  BoxAlgebra boxes(vars, [] {});
  Boxes many(150, all);
  try {
    boxes.intersect(many, many);
    FAIL("no Unknown");
  } catch (const Unknown& u) {
    CHECK(u.reason == "the conditions are too many to analyse");
  }
  CHECK(boxes.intersect(Boxes(100, all), Boxes(100, all)).size() == 10000);
}
