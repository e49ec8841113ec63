#include "value/decimal.hpp"

#include "value/decimal_fast.hpp"

#include <algorithm>

namespace stratum {

static_assert(decimal_fast::kScale == Decimal::kScale && decimal_fast::kMaxRaw == Decimal::kMaxRaw);

namespace {

constexpr int128 kMax = ~(static_cast<int128>(1) << 127);

int128 pow10(int n) {
  int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

int128 checked_mul(int128 a, int128 b) {
  int128 r;
  if (__builtin_mul_overflow(a, b, &r)) throw ArithmeticError("arithmetic overflow");
  return r;
}

int128 checked_add(int128 a, int128 b) {
  int128 r;
  if (__builtin_add_overflow(a, b, &r)) throw ArithmeticError("arithmetic overflow");
  return r;
}

// A result inside the exact range, or an overflow.
int128 in_range(int128 r) {
  if (r > Decimal::kMaxRaw || r < -Decimal::kMaxRaw) throw ArithmeticError("arithmetic overflow");
  return r;
}

// Rounds n / d half away from zero; d > 0.
int128 div_round(int128 n, int128 d) {
  int128 q = n / d;
  int128 r = n % d;
  if (r < 0) r = -r;
  if (r >= d - r) q += n < 0 ? -1 : 1;
  return q;
}

}  // namespace

namespace {
// 10^k as int128 for k = 0..12, for the fast path below.
constexpr int128 kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
                             10000000000, 100000000000, 1000000000000};
}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view s, std::string* why) {
  // Fast path: [-]digits[.digits] with at most 18 digits and 12 decimals, the
  // shape of nearly every amount in a data file.
  {
    size_t i = 0;
    bool negative = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
    uint64_t acc = 0;
    int digits = 0, frac = -1;
    bool ok = i < s.size();
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c >= '0' && c <= '9') {
        acc = acc * 10 + static_cast<uint64_t>(c - '0');
        ++digits;
        if (frac >= 0) ++frac;
      } else if (c == '.' && frac < 0) {
        frac = 0;
      } else {
        ok = false;
        break;
      }
    }
    if (ok && digits > 0 && digits <= 18 && frac != 0 && frac <= kScaleDigits) {
      int128 raw = static_cast<int128>(acc) * kPow10[kScaleDigits - (frac < 0 ? 0 : frac)];
      return from_raw(negative ? -raw : raw);
    }
  }
  auto fail = [&](const char* reason) -> std::optional<Decimal> {
    if (why) *why = reason;
    return std::nullopt;
  };
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  int128 mantissa = 0;
  int digits = 0, frac_digits = 0;
  bool seen_point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      if (seen_point) ++frac_digits;
      if (mantissa == 0 && c == '0') { ++digits; continue; }
      if (mantissa > kMax / 100) return fail("number out of range (the exact range is below 10^24 in absolute value)");
      mantissa = mantissa * 10 + (c - '0');
      ++digits;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (digits == 0) return fail("not a number");
  int exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
    int e = 0, e_digits = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++e_digits) {
      if (e > 1000) return fail("number out of range");
      e = e * 10 + (s[i] - '0');
    }
    if (e_digits == 0) return fail("not a number");
    exponent = exp_negative ? -e : e;
  }
  if (i != s.size()) return fail("not a number");
  // value = mantissa × 10^(exponent − frac_digits); raw = value × 10^12.
  int shift = exponent - frac_digits + kScaleDigits;
  if (shift < 0) {
    int128 p = pow10(std::min(-shift, 38));
    if (-shift > 38 || mantissa % p != 0) {
      if (mantissa == 0) return Decimal{};
      return fail("more than 12 decimal places");
    }
    mantissa /= p;
  } else {
    for (int k = 0; k < shift; ++k) {
      if (mantissa > kMax / 10) return fail("number out of range (the exact range is below 10^24 in absolute value)");
      mantissa *= 10;
    }
  }
  if (mantissa > kMaxRaw) return fail("number out of range (the exact range is below 10^24 in absolute value)");
  return from_raw(negative ? -mantissa : mantissa);
}

std::optional<int64_t> Decimal::to_int64() const {
  if (!is_integer()) return std::nullopt;
  int128 v = raw_ / kScale;
  if (v > INT64_MAX || v < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::string Decimal::to_string() const {
  std::string out;
  append_to(out);
  return out;
}

void Decimal::append_to(std::string& out) const {
  int128 v = raw_;
  bool negative = v < 0;
  // |INT128_MIN| is not representable; it never arises from checked ops.
  unsigned __int128 u = negative ? static_cast<unsigned __int128>(-(v + 1)) + 1
                                 : static_cast<unsigned __int128>(v);
  unsigned __int128 scale = static_cast<unsigned __int128>(kScale);
  unsigned __int128 whole = u / scale, frac = u % scale;
  char digits[48];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(whole % 10));
    whole /= 10;
  } while (whole);
  if (negative) out += '-';
  while (n > 0) out += digits[--n];
  if (frac) {
    char f[kScaleDigits];
    for (int k = kScaleDigits - 1; k >= 0; --k) {
      f[k] = static_cast<char>('0' + static_cast<int>(frac % 10));
      frac /= 10;
    }
    int len = kScaleDigits;
    while (len > 0 && f[len - 1] == '0') --len;
    out += '.';
    out.append(f, len);
  }
}

Decimal operator+(Decimal a, Decimal b) { return Decimal::from_raw(in_range(checked_add(a.raw_, b.raw_))); }

Decimal operator-(Decimal a, Decimal b) {
  int128 r;
  if (__builtin_sub_overflow(a.raw_, b.raw_, &r)) throw ArithmeticError("arithmetic overflow");
  return Decimal::from_raw(in_range(r));
}

Decimal Decimal::operator-() const {
  if (raw_ == -kMax - 1) throw ArithmeticError("arithmetic overflow");
  return from_raw(-raw_);
}

// a·b / S, split so no intermediate overflows unless the result does:
// with b = bq·S + br and a = aq·S + ar,
// a·b/S = a·bq + aq·br + ar·br/S  (the last term rounded half-up).
Decimal operator*(Decimal a, Decimal b) {
  constexpr int128 S = Decimal::kScale;
  if (int128 r; decimal_fast::multiply(a.raw_, b.raw_, r)) return Decimal::from_raw(r);
  int128 bq = b.raw_ / S, br = b.raw_ % S;
  int128 aq = a.raw_ / S, ar = a.raw_ % S;
  int128 r = checked_mul(a.raw_, bq);
  r = checked_add(r, checked_mul(aq, br));
  r = checked_add(r, div_round(ar * br, S));  // |ar·br| < 10^24: no overflow
  return Decimal::from_raw(in_range(r));
}

Decimal operator/(Decimal a, Decimal b) {
  if (b.raw_ == 0) throw ArithmeticError("division by zero");
  constexpr int128 S = Decimal::kScale;
  int128 scaled;
  if (!__builtin_mul_overflow(a.raw_, S, &scaled)) {
    int128 d = b.raw_;
    if (d < 0) { d = -d; scaled = -scaled; }
    return Decimal::from_raw(in_range(div_round(scaled, d)));
  }
  // Long division, one decimal digit at a time, for dividends beyond ~10^14.
  bool negative = (a.raw_ < 0) != (b.raw_ < 0);
  int128 n = a.raw_ < 0 ? -a.raw_ : a.raw_;
  int128 d = b.raw_ < 0 ? -b.raw_ : b.raw_;
  int128 q = n / d, r = n % d;
  for (int k = 0; k < Decimal::kScaleDigits; ++k) {
    int128 r10;
    if (__builtin_mul_overflow(r, 10, &r10)) throw ArithmeticError("arithmetic overflow");
    q = checked_add(checked_mul(q, 10), r10 / d);
    r = r10 % d;
  }
  int128 r2;
  if (__builtin_mul_overflow(r, 2, &r2)) throw ArithmeticError("arithmetic overflow");
  if (r2 >= d) q = checked_add(q, 1);
  return Decimal::from_raw(in_range(negative ? -q : q));
}

std::optional<Decimal> Decimal::shifted(int exp) const {
  int128 r = raw_;
  if (exp >= 0) {
    for (int k = 0; k < exp; ++k) {
      if (__builtin_mul_overflow(r, 10, &r)) return std::nullopt;
    }
  } else {
    int128 p = pow10(std::min(-exp, 38));
    if (r % p != 0) return std::nullopt;
    r /= p;
  }
  if (r > kMaxRaw || r < -kMaxRaw) return std::nullopt;
  return from_raw(r);
}

Decimal Decimal::round_half_up(int places) const {
  if (places >= kScaleDigits) return *this;
  if (places < -20) places = -20;
  int128 unit = pow10(kScaleDigits - places);
  return from_raw(in_range(checked_mul(div_round(raw_, unit), unit)));
}

Decimal Decimal::floor() const {
  int128 q = raw_ / kScale;
  if (raw_ % kScale < 0) --q;
  return from_raw(q * kScale);
}

Decimal Decimal::ceil() const {
  int128 q = raw_ / kScale;
  if (raw_ % kScale > 0) ++q;
  return from_raw(q * kScale);
}

}  // namespace stratum
