// Helpers shared by the AVX2 attention tile kernels (attention_avx2.cpp for few query rows,
// attention_rows_avx2.cpp for many): element loaders for f32 / f16 / bf16 K and V, the vector
// exp2 of the online softmax, tile widening (with prefetching of the next tile). Include only from
// files built with the AVX2 flags; everything here has internal linkage (the build rule in
// KERNELS.md).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace longctx::cpu {
namespace {

// Loads 8 elements at p (any alignment) as floats.
struct LoadF32 {
  static __m256 load(const void* p) { return _mm256_loadu_ps(static_cast<const float*>(p)); }
  static constexpr int64_t kBytes = 4;
};
struct LoadF16 {
  static __m256 load(const void* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(static_cast<const __m128i*>(p)));
  }
  static constexpr int64_t kBytes = 2;
};
struct LoadBF16 {
  // bf16 is the upper half of an f32: widen to 32 bits and shift into place (exact).
  static __m256 load(const void* p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(static_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
  }
  static constexpr int64_t kBytes = 2;
};

// 2^x for x <= 0 (softmax inputs after the max is subtracted). x = n + f with n = round(x),
// |f| <= 1/2; 2^f = e^(f ln2) by its degree-7 Taylor polynomial (truncation <= 0.347^8/8! =
// 5e-9 relative), 2^n built in the exponent field. x below -127 (and -inf) gives 0.
static inline __m256 exp2v(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-127.0f));
  const __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 t = _mm256_mul_ps(_mm256_sub_ps(x, n), _mm256_set1_ps(0.69314718055994531f));
  __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f));
  // n in [-127, 0]: biased exponent n + 127 in [0, 127]; 0 encodes +0.0.
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// Widens nk keys of head_dim elements (row stride `stride` elements) into dst[nk][hd]. With
// n_ahead > 0 it also prefetches (to L2), while it converts row j < n_ahead, row j of the same
// head `ahead` keys later: one row's lines per row converted, so the requests spread over the
// tile instead of arriving as a burst that fills the miss buffers. To L2, not L1: the decode
// kernel fetches whole tiles of every kv head ahead, more than L1 holds (32/4/128 heads, f16,
// from memory, one thread: 3.8 GB/s into L1, 5.1 into L2, its in-cache rate; the prefill rows
// kernel, one tile ahead, runs the same either way).
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
        _mm_prefetch(reinterpret_cast<const char*>(next + o), _MM_HINT_T1);
      }
    }
    for (int64_t d = 0; d < hd; d += 8) {
      _mm256_storeu_ps(dst + j * hd + d, L::load(row + d * L::kBytes));
    }
  }
}

}  // namespace
}  // namespace longctx::cpu
