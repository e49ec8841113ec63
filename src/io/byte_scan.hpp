// Finding bytes 16 at a time: SSE2 (part of every x86-64), a byte loop on
// other machines. The readers and writers scan plain stretches with it and
// handle each byte found one by one.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace stratum::io {

// Bit k is set when byte k of the 16 bytes at p is one of `Bytes` or, with
// `Controls`, a control byte (below 0x20). All 16 bytes must be readable.
template <bool Controls, char... Bytes>
inline unsigned match16(const char* p) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i hit = _mm_setzero_si128();
  ((hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8(Bytes)))), ...);
  if constexpr (Controls) hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v));
  return static_cast<unsigned>(_mm_movemask_epi8(hit));
#else
  unsigned hits = 0;
  for (unsigned k = 0; k < 16; ++k) {
    char c = p[k];
    if (((c == Bytes) || ...) || (Controls && static_cast<unsigned char>(c) < 0x20)) hits |= 1u << k;
  }
  return hits;
#endif
}

}  // namespace stratum::io
