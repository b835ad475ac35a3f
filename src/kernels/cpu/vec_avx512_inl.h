// The AVX-512 half of the width-generic vector layer: F32x16, sixteen f32 lanes with the same
// operations and names as F32x8 (vec_avx2_inl.h has the contract). Partial vectors use mask
// registers. Include only from files built with the AVX-512 flags; everything here has internal
// linkage (the build rule in KERNELS.md).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace longctx::cpu {
namespace {

struct F32x16 {
  using Vec = __m512;
  static constexpr int64_t kLanes = 16;

  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec set1(float x) { return _mm512_set1_ps(x); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec bcast(const float* p) { return _mm512_set1_ps(*p); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec div(Vec a, Vec b) { return _mm512_div_ps(a, b); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec fnmadd(Vec a, Vec b, Vec c) { return _mm512_fnmadd_ps(a, b, c); }
  static Vec min(Vec a, Vec b) { return _mm512_min_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
  static Vec round(Vec x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // x 2^n for integral n (vscalefps: exact, no exponent-field arithmetic).
  static Vec ldexp(Vec x, Vec n) { return _mm512_scalef_ps(x, n); }
  // Horizontal sum / max by halving (own code: GCC 12's reduce intrinsics trip
  // -Wmaybe-uninitialized; the masked extracts avoid _mm512_undefined_* for the same reason).
  static float hsum(Vec v) {
    const __m256 h = _mm256_add_ps(_mm512_maskz_extractf32x8_ps(0xff, v, 0),
                                   _mm512_maskz_extractf32x8_ps(0xff, v, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(Vec v) {
    const __m256 h = _mm256_max_ps(_mm512_maskz_extractf32x8_ps(0xff, v, 0),
                                   _mm512_maskz_extractf32x8_ps(0xff, v, 1));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }

  // The first n < kLanes lanes (a partial last vector), through a mask register.
  static __mmask16 first(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static Vec load_part(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(first(n), p); }
  static void store_part(float* p, int64_t n, Vec v) { _mm512_mask_storeu_ps(p, first(n), v); }

  // fp16 by round to nearest even (vcvtps2ph), whole and partial vectors.
  static void store_f16(uint16_t* p, Vec v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                        _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static void store_f16_part(uint16_t* p, int64_t n, Vec v) {
    _mm256_mask_storeu_epi16(p, first(n), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
};

}  // namespace
}  // namespace longctx::cpu
