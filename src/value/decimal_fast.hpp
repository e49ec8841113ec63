// The common cases of Decimal arithmetic (see decimal.hpp), inline and
// self-contained (no other header): decimal.cpp uses them, and
// `stratum build --native` writes this text into every generated source, so a
// rule set compiled ahead of time computes exactly as the interpreter does.
// Each returns false where it does not apply; the caller then takes the
// general path (Decimal's operators), which also reports any overflow.
#pragma once

#include <cstdint>

namespace stratum::decimal_fast {

inline constexpr __int128 kScale = 1'000'000'000'000;  // Decimal::kScale
inline constexpr __int128 kMaxRaw = static_cast<__int128>(1'000'000'000'000'000'000) * 1'000'000'000'000'000'000 - 1;

// a + b, a − b, inside the exact range.
// (|r| ≤ kMaxRaw as one unsigned comparison: r + kMaxRaw in [0, 2·kMaxRaw])
inline bool in_range(__int128 r) {
  return static_cast<unsigned __int128>(r) + static_cast<unsigned __int128>(kMaxRaw) <= 2 * static_cast<unsigned __int128>(kMaxRaw);
}
inline bool add(__int128 a, __int128 b, __int128& out) { return !__builtin_add_overflow(a, b, &out) && in_range(out); }
inline bool sub(__int128 a, __int128 b, __int128& out) { return !__builtin_sub_overflow(a, b, &out) && in_range(out); }

// a·b / S rounded half away from zero, for operands within 64 bits (|value|
// < 9.2 million: every score, rate and weight): one 64×64 product and one
// 128÷64 division (`div`), when the quotient fits in 64 bits.
inline bool multiply(__int128 a, __int128 b, __int128& out) {
#if defined(__x86_64__)
  if (a != static_cast<int64_t>(a) || b != static_cast<int64_t>(b)) return false;
  __int128 p = a * b;  // |p| < 2^126: exact
  unsigned __int128 u = static_cast<unsigned __int128>(p < 0 ? -p : p);
  uint64_t hi = static_cast<uint64_t>(u >> 64), lo = static_cast<uint64_t>(u), s = static_cast<uint64_t>(kScale);
  if (hi >= s) return false;  // the quotient would not fit: `div` would fault
  uint64_t q, r;
  __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "r"(s));
  __int128 m = static_cast<__int128>(q) + (r >= s - r ? 1 : 0);
  out = p < 0 ? -m : m;
  return true;
#else
  (void)a, (void)b, (void)out;
  return false;
#endif
}

}  // namespace stratum::decimal_fast
