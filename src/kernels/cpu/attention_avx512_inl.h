// Helpers shared by the AVX-512 attention tile kernels (attention_avx512.cpp for few query rows,
// attention_rows_avx512.cpp for many, attention_decode_avx512.cpp for decode groups of 2 to 8):
// element loaders for f32 / f16 / bf16 K and V, the vector exp2 of the online softmax, horizontal
// sum / max, tile widening (with prefetching of the next tile) and prefetches of tiles ahead.
// Include only from files built with the AVX-512 flags; everything here has internal linkage (the
// build rule in KERNELS.md).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/attention_kernels.h"

namespace longctx::cpu {
namespace {

// Prefetch distance in key tiles (all kv heads of a tile are fetched while one tile computes).
constexpr int64_t kPrefetchTiles = 4;

// Horizontal sum / max (own helpers: GCC 12's reduce intrinsics trip -Wmaybe-uninitialized).
static inline float hsum1(__m512 a) {
  const __m256 h = _mm256_add_ps(_mm512_extractf32x8_ps(a, 0), _mm512_extractf32x8_ps(a, 1));
  __m128 x = _mm_add_ps(_mm256_extractf128_ps(h, 0), _mm256_extractf128_ps(h, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

static inline float hmax1(__m512 a) {
  const __m256 h = _mm256_max_ps(_mm512_extractf32x8_ps(a, 0), _mm512_extractf32x8_ps(a, 1));
  __m128 x = _mm_max_ps(_mm256_extractf128_ps(h, 0), _mm256_extractf128_ps(h, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

// Prefetch of the line at p into L2 (prefetcht1) as a volatile asm statement: GCC 12 deleted the
// loops made only of _mm_prefetch calls in these kernels as dead code (the AVX-512 attention
// objects held no prefetch instruction at all).
static inline void prefetch_l2(const void* p) {
  __asm__ volatile("prefetcht1 %0" : : "m"(*static_cast<const char*>(p)));
}

// Fetches (to L2) the K and V bytes of the tile kPrefetchTiles ahead of the one starting at jt
// while it computes, one contiguous 1/n_heads slice per head h: sequential requests keep many
// lines in flight, where the per-head rows (kv_stride apart) defeat the hardware prefetchers.
// tok = bytes per token of all kv heads.
static inline void prefetch_tile_slice(const AttnTileJob& jb, int64_t jt, int64_t h, int64_t tok) {
  constexpr int64_t kTile = kAttnKeyTile;
  if (jt + (kPrefetchTiles + 1) * kTile > jb.j1) return;
  const int64_t slice = (kTile * tok / jb.n_heads + 63) / 64 * 64;
  const auto* pk = static_cast<const uint8_t*>(jb.k) + (jt + kPrefetchTiles * kTile) * tok;
  const auto* pv = static_cast<const uint8_t*>(jb.v) + (jt + kPrefetchTiles * kTile) * tok;
  for (int64_t o = h * slice; o < (h + 1) * slice; o += 64) {
    prefetch_l2(pk + o);
    prefetch_l2(pv + o);
  }
}

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
