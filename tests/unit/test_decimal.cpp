#include <catch2/catch.hpp>

#include "value/decimal.hpp"

using stratum::ArithmeticError;
using stratum::Decimal;

static Decimal D(const char* s) {
  auto d = Decimal::parse(s);
  if (!d) FAIL("cannot parse " << s);
  return *d;
}

TEST_CASE("decimal arithmetic is exact") {
  CHECK(D("0.1") + D("0.2") == D("0.3"));
  CHECK((D("0.1") + D("0.2")).to_string() == "0.3");
  CHECK((D("90") * D("0.5") + D("70") * D("0.5")) * D("1.05") == D("84"));
  CHECK((D("12345.67") * D("100")).to_string() == "1234567");
  CHECK((D("1") / D("4")).to_string() == "0.25");
  CHECK((D("-7.5") - D("2.5")).to_string() == "-10");
  CHECK(D("2000").shifted(4)->to_string() == "20000000");   // 2000万
  CHECK(D("75").shifted(-2)->to_string() == "0.75");        // 75%
}

TEST_CASE("decimal parsing") {
  CHECK(D("-3").to_string() == "-3");
  CHECK(D("1.5e8").to_string() == "150000000");
  CHECK(D("0012.500").to_string() == "12.5");
  CHECK(D("0.000000000001").to_string() == "0.000000000001");
  std::string why;
  CHECK_FALSE(Decimal::parse("0.0000000000001", &why));
  CHECK(why == "more than 12 decimal places");
  CHECK_FALSE(Decimal::parse("1,000", &why));
  CHECK(why == "not a number");
  CHECK_FALSE(Decimal::parse("", &why));
  CHECK_FALSE(Decimal::parse("abc", &why));
  CHECK_FALSE(Decimal::parse("1e", &why));
  CHECK_FALSE(Decimal::parse("99999999999999999999999999999999", &why));
  CHECK(why == "number out of range (the exact range is below 10^24 in absolute value)");
  // The exact range: below 10^24 in absolute value, to the last decimal.
  CHECK(D("999999999999999999999999.999999999999").raw() == Decimal::kMaxRaw);
  CHECK(D("-999999999999999999999999.999999999999").raw() == -Decimal::kMaxRaw);
  CHECK_FALSE(Decimal::parse("1000000000000000000000000", &why));
  CHECK_FALSE(Decimal::parse("1e24", &why));
}

TEST_CASE("decimal division rounds half-up at the 12th place") {
  CHECK((D("1") / D("3")).to_string() == "0.333333333333");
  CHECK((D("2") / D("3")).to_string() == "0.666666666667");
  CHECK((D("-2") / D("3")).to_string() == "-0.666666666667");
  // Large dividends take the long-division path and stay exact.
  CHECK((D("50000000000000000") / D("4")).to_string() == "12500000000000000");
  CHECK_THROWS_AS(D("1") / D("0"), ArithmeticError);
}

TEST_CASE("decimal overflow is an error, not a wrap-around") {
  Decimal big = D("900000000000000000000000");  // 9e23, near the top of the exact range
  CHECK_THROWS_AS(big * D("10"), ArithmeticError);
  CHECK_THROWS_AS(big + big, ArithmeticError);
  CHECK_THROWS_AS(-big - big, ArithmeticError);
  CHECK_THROWS_AS(big / D("0.1"), ArithmeticError);
  CHECK_THROWS_AS(Decimal::from_raw(Decimal::kMaxRaw).round_half_up(-1), ArithmeticError);
  CHECK((big + D("99999999999999999999999.999999999999")).raw() == Decimal::kMaxRaw);
  // A large amount times a ratio does not overflow in the intermediate.
  CHECK((D("40000000000000") * D("5")).to_string() == "200000000000000");
}

TEST_CASE("rounding as Chinese finance rounds (四舍五入)") {
  CHECK(D("2.345").round_half_up(2).to_string() == "2.35");
  CHECK(D("-2.345").round_half_up(2).to_string() == "-2.35");
  CHECK(D("2.344").round_half_up(2).to_string() == "2.34");
  CHECK(D("1234.5").round_half_up(0).to_string() == "1235");
  CHECK(D("1250").round_half_up(-2).to_string() == "1300");
  CHECK(D("-1.5").floor().to_string() == "-2");
  CHECK(D("-1.5").ceil().to_string() == "-1");
}

// Products of operands within 64 bits take a shorter path (one 128÷64
// division); it must round exactly as the general one: a·b/10^12, half away
// from zero.
TEST_CASE("decimal products of 64-bit operands round as the general path") {
  using stratum::int128;
  const int128 S = Decimal::kScale;
  auto reference = [&](int128 a, int128 b) {
    int128 p = a * b, q = p / S, r = p % S;  // |p| < 2^126
    if (r < 0) r = -r;
    if (r >= S - r) q += p < 0 ? -1 : 1;
    return q;
  };
  uint64_t state = 88172645463325252ULL;
  auto next = [&] { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; };
  const int64_t edges[] = {0, 1, -1, 500'000'000'000, -500'000'000'000, 999'999'999'999, 1'000'000'000'000,
                           INT64_MAX, INT64_MIN + 1, INT64_MIN, 4'611'686'018'427'387'904};
  for (int64_t a : edges) {
    for (int64_t b : edges) {
      INFO(static_cast<long long>(a) << " × " << static_cast<long long>(b));
      CHECK((Decimal::from_raw(a) * Decimal::from_raw(b)).raw() == reference(a, b));
    }
  }
  for (int i = 0; i < 200000; ++i) {
    // operands of every magnitude: 1 to 63 bits, either sign
    int64_t a = static_cast<int64_t>(next() >> (next() % 63)) * ((next() & 1) ? 1 : -1);
    int64_t b = static_cast<int64_t>(next() >> (next() % 63)) * ((next() & 1) ? 1 : -1);
    INFO(static_cast<long long>(a) << " × " << static_cast<long long>(b));
    REQUIRE((Decimal::from_raw(a) * Decimal::from_raw(b)).raw() == reference(a, b));
  }
  // exactly half a unit of the 12th place rounds away from zero, either sign
  CHECK((D("0.000001") * D("0.0000005")).to_string() == "0.000000000001");
  CHECK((D("-0.000001") * D("0.0000005")).to_string() == "-0.000000000001");
  CHECK((D("0.000001") * D("0.0000004")).to_string() == "0");
}
