// Helpers shared by the AVX-512 attention tile kernels (attention_avx512.cpp for few query rows,
// attention_rows_avx512.cpp for many): element loaders for f32 / f16 / bf16 K and V, the vector
// exp2 of the online softmax, tile widening (with prefetching of the next tile). Include only from
// files built with the AVX-512 flags; everything here has internal linkage (the build rule in
// KERNELS.md).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace longctx::cpu {
namespace {

// Loads 16 elements at p (any alignment) as floats.
struct LoadF32 {
  static __m512 load(const void* p) { return _mm512_loadu_ps(static_cast<const float*>(p)); }
  static constexpr int64_t kBytes = 4;
};
struct LoadF16 {
  static __m512 load(const void* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(static_cast<const __m256i*>(p)));
  }
  static constexpr int64_t kBytes = 2;
};
struct LoadBF16 {
  // bf16 is the upper half of an f32: widen to 32 bits and shift into place (exact).
  static __m512 load(const void* p) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(static_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
  }
  static constexpr int64_t kBytes = 2;
};

// 2^x for x <= 0 (softmax inputs after the max is subtracted). x = n + f with n = round(x),
// |f| <= 1/2; 2^f = e^(f ln2) by its degree-7 Taylor polynomial (truncation <= 0.347^8/8! =
// 5e-9 relative), 2^n applied exactly by scalef. x below -150 (and -inf) gives 0.
static inline __m512 exp2v(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-150.0f));
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 t = _mm512_mul_ps(_mm512_sub_ps(x, n), _mm512_set1_ps(0.69314718055994531f));
  __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.0f / 720.0f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// Widens nk keys of head_dim elements (row stride `stride` elements) into dst[nk][hd]. With
// n_ahead > 0 it also prefetches, while it converts row j < n_ahead, row j of the same head
// `ahead` keys later: one row's lines per row converted, so the requests spread over the tile
// instead of arriving as a burst that fills the miss buffers.
template <class L>
static void widen(const void* src, int64_t stride, int64_t nk, int64_t hd, float* dst,
                  int64_t ahead = 0, int64_t n_ahead = 0) {
  const auto* s = static_cast<const uint8_t*>(src);
  const int64_t row_bytes = hd * L::kBytes;
  for (int64_t j = 0; j < nk; ++j) {
    const uint8_t* row = s + j * stride * L::kBytes;
    if (j < n_ahead) {
      const uint8_t* next = row + ahead * stride * L::kBytes;
      for (int64_t o = 0; o < row_bytes; o += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(next + o), _MM_HINT_T0);
      }
    }
    for (int64_t d = 0; d < hd; d += 16) {
      _mm512_storeu_ps(dst + j * hd + d, L::load(row + d * L::kBytes));
    }
  }
}

}  // namespace
}  // namespace longctx::cpu
