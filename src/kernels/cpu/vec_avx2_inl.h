// The AVX2 half of the width-generic vector layer: F32x8, eight f32 lanes with the operations
// the generic kernels are written against (attention_quant_inl.h, elementwise_inl.h); its AVX-512
// twin is F32x16 in vec_avx512_inl.h with the same names. A generic kernel is a template over
// such a class; each per-ISA file instantiates it with its own flags. Include only from files
// built with the AVX2 flags; everything here has internal linkage (the build rule in KERNELS.md).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace longctx::cpu {
namespace {

struct F32x8 {
  using Vec = __m256;
  static constexpr int64_t kLanes = 8;

  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec set1(float x) { return _mm256_set1_ps(x); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec div(Vec a, Vec b) { return _mm256_div_ps(a, b); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec fnmadd(Vec a, Vec b, Vec c) { return _mm256_fnmadd_ps(a, b, c); }
  static Vec min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  static Vec round(Vec x) {
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // x 2^n for integral n in [-126, 127] (the result's exponent field built directly).
  static Vec ldexp(Vec x, Vec n) {
    const __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(x, _mm256_castsi256_ps(e));
  }
  static float hsum(Vec v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(Vec v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }

  // The first n < kLanes lanes (a partial last vector): loaded with zeros above, stored without
  // touching memory past them (vmaskmov reads and writes only the enabled lanes).
  static __m256i first(int64_t n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)), lane);
  }
  static Vec load_part(const float* p, int64_t n) { return _mm256_maskload_ps(p, first(n)); }
  static void store_part(float* p, int64_t n, Vec v) { _mm256_maskstore_ps(p, first(n), v); }

  // fp16 by round to nearest even (F16C), whole and partial vectors.
  static void store_f16(uint16_t* p, Vec v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static void store_f16_part(uint16_t* p, int64_t n, Vec v) {
    alignas(16) uint16_t h[8];
    store_f16(h, v);
    for (int64_t i = 0; i < n; ++i) p[i] = h[i];
  }
};

}  // namespace
}  // namespace longctx::cpu
