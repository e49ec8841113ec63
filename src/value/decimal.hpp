// Decimal: exact decimal numbers as 128-bit integers scaled by 10^12.
//
// Every number the rules touch (counts, ratios, money in yuan) is one of
// these; there is no binary floating point anywhere in evaluation. Twelve
// fractional digits hold any input with up to 12 decimals exactly and leave a
// range of about ±1.7×10^26, far beyond any amount a bank books. Addition,
// subtraction and multiplication are exact whenever the exact result has at
// most 12 fractional digits (products of two inputs with up to 6 decimals
// each, for instance); a quotient is carried to 12 fractional digits and
// rounded half-up there. Overflow is an error, never a wrap-around.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace stratum {

using int128 = __int128;

struct ArithmeticError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Decimal {
 public:
  static constexpr int kScaleDigits = 12;
  static constexpr int128 kScale = 1'000'000'000'000;
  // The exact range: |value| < 10^24 (raw 10^36 − 1). Literals, data and
  // every result stay inside it (beyond: an error, never a wrapped value), and
  // the analysis reasons over exactly this range.
  static constexpr int128 kMaxRaw = static_cast<int128>(1'000'000'000'000'000'000) * 1'000'000'000'000'000'000 - 1;

  constexpr Decimal() = default;
  static constexpr Decimal from_raw(int128 raw) { Decimal d; d.raw_ = raw; return d; }
  static Decimal from_int(int64_t v) { return from_raw(static_cast<int128>(v) * kScale); }

  // Parses a plain decimal: optional sign, digits, optional fraction and an
  // optional exponent (`1.5e8`). Returns nullopt on anything else or on more
  // than 12 significant fractional digits, or out of range; `why` says which.
  static std::optional<Decimal> parse(std::string_view text, std::string* why = nullptr);

  constexpr int128 raw() const { return raw_; }
  bool is_integer() const { return raw_ % kScale == 0; }
  // Integer part when is_integer() and it fits in int64.
  std::optional<int64_t> to_int64() const;

  // Canonical text: no exponent, no trailing fractional zeros, "-" for negatives.
  std::string to_string() const;
  // Appends the canonical text to `out` (no allocation beyond out's growth).
  void append_to(std::string& out) const;

  friend constexpr bool operator==(Decimal a, Decimal b) { return a.raw_ == b.raw_; }
  friend constexpr auto operator<=>(Decimal a, Decimal b) { return a.raw_ <=> b.raw_; }

  // Checked arithmetic: throw ArithmeticError on overflow or division by zero.
  friend Decimal operator+(Decimal a, Decimal b);
  friend Decimal operator-(Decimal a, Decimal b);
  friend Decimal operator*(Decimal a, Decimal b);
  friend Decimal operator/(Decimal a, Decimal b);
  Decimal operator-() const;

  // Multiplies by 10^exp exactly (exp may be negative only when exact).
  std::optional<Decimal> shifted(int exp) const;

  Decimal abs() const { return raw_ < 0 ? -*this : *this; }
  Decimal round_half_up(int places) const;  // 四舍五入, away from zero at .5
  Decimal floor() const;
  Decimal ceil() const;

 private:
  int128 raw_ = 0;
};

}  // namespace stratum
