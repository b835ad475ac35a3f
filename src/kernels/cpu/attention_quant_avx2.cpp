// AVX2 instantiation of the quantized-KV attention (attention_quant_inl.h has the scheme): 8 keys
// per tile as lanes; without VNNI the 4-byte dot products are maddubs + madd, which need the
// unsigned operand small enough not to saturate 16 bits: Q8_0 keys keep their sign in q
// (|k| x sign(q, k)), Q4_0 nibbles (0..15) multiply as they are; P V's weights stay below 128.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/cpu/attention_avx2_inl.h"
#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/attention_quant_inl.h"
#include "kernels/cpu/attention_quant_x86_inl.h"
#include "kernels/cpu/vec_avx2_inl.h"

namespace longctx::cpu {
namespace {

struct QVec256 : F32x8 {
  using IVec = __m256i;
  static constexpr int kMixRows = 3, kMixVecs = 4;
  static constexpr int64_t kQ8Planes = 2;  // k, |k|
  static void prefetch(const void* p) {
    __asm__ volatile("prefetcht1 %0" : : "m"(*static_cast<const char*>(p)));
  }
  static constexpr int32_t kQ8Offset = 0;

  static Vec exp2(Vec x) { return exp2v(x); }
  static float exp2_1(float x) { return exp2f(x); }
  // All-ones in lanes >= n.
  static Vec above(int64_t n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(int32_t(n - 1))));
  }
  static Vec mask_keys(Vec s, int64_t n) {
    return _mm256_blendv_ps(s, _mm256_set1_ps(-INFINITY), above(n));
  }
  static Vec zero_above(Vec p, int64_t n) { return _mm256_andnot_ps(above(n), p); }
  static float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

  static IVec iset1(int32_t x) { return _mm256_set1_epi32(x); }
  static IVec iload(const int32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static void istore(int32_t* p, IVec v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static IVec ibcast32(const uint8_t* p) {
    int32_t x;
    __builtin_memcpy(&x, p, 4);
    return _mm256_set1_epi32(x);
  }
  // Key j at p + off[j]: key j's 16 bytes go to 128-bit lane
  // j / 4 of z[j % 4], then a 4 x 4 dword transpose inside each 128-bit lane: lanes are keys.
  static void load_tile16x4(const uint8_t* p, const int64_t* off, IVec* out) {
    __m256i z[4];
    for (int64_t r = 0; r < 4; ++r) {
      const int64_t j0 = off[r], j1 = off[r + 4];
      z[r] = _mm256_inserti128_si256(
          _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j0))),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j1)), 1);
    }
    const __m256i t0 = _mm256_unpacklo_epi32(z[0], z[1]), t1 = _mm256_unpackhi_epi32(z[0], z[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(z[2], z[3]), t3 = _mm256_unpackhi_epi32(z[2], z[3]);
    out[0] = _mm256_unpacklo_epi64(t0, t2);
    out[1] = _mm256_unpackhi_epi64(t0, t2);
    out[2] = _mm256_unpacklo_epi64(t1, t3);
    out[3] = _mm256_unpackhi_epi64(t1, t3);
  }
  static IVec nib_lo(IVec x) { return _mm256_and_si256(x, _mm256_set1_epi8(0x0F)); }
  static IVec nib_hi(IVec x) {
    return _mm256_and_si256(_mm256_srli_epi32(x, 4), _mm256_set1_epi8(0x0F));
  }
  static Vec cvt(IVec x) { return _mm256_cvtepi32_ps(x); }
  static void prep_q8(IVec raw, int32_t* dst) {
    istore(dst, raw);
    istore(dst + kLanes, _mm256_abs_epi8(raw));
  }
  // sum |k| (q sign(k)) = sum k q; pairs of products <= 2 x 128 x 127 fit maddubs' int16.
  static IVec dot_q8(IVec acc, const int32_t* k, IVec q) {
    const __m256i s = _mm256_sign_epi8(q, iload(k));
    const __m256i p16 = _mm256_maddubs_epi16(iload(k + kLanes), s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
  }
  static IVec dot_u8(IVec acc, IVec k, IVec q) {
    const __m256i p16 = _mm256_maddubs_epi16(k, q);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
  }

  static Vec load_f32(const uint8_t* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
  static Vec load_f16(const uint8_t* p) { return LoadF16::load(p); }
  static Vec load_bf16(const uint8_t* p) { return LoadBF16::load(p); }
  static Vec abs(Vec x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

  // Integer P V (attention_quant_inl.h): weights up to 127, so that maddubs' pairs (2 x 127 x
  // 128) fit its int16.
  static constexpr int kPMax = 127, kPvRows = 2;
  static void sign_bytes(const uint16_t* dh, uint8_t* out) {
    const __m128i s = _mm_srai_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(dh)), 15);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packs_epi16(s, s));
  }
  // Keys a, b, c, d (32 int8 each) to 32 dwords (a_i, b_i, c_i, d_i): bytes interleaved within
  // 128-bit lanes, then words; vt_dim gives the dim at each position.
  static void vt_rows(__m256i a, __m256i b, __m256i c, __m256i d, int32_t neg, int32_t* out) {
    const __m256i t0 = _mm256_unpacklo_epi8(a, b), t1 = _mm256_unpackhi_epi8(a, b);
    const __m256i t2 = _mm256_unpacklo_epi8(c, d), t3 = _mm256_unpackhi_epi8(c, d);
    __m256i u[4] = {_mm256_unpacklo_epi16(t0, t2), _mm256_unpackhi_epi16(t0, t2),
                    _mm256_unpacklo_epi16(t1, t3), _mm256_unpackhi_epi16(t1, t3)};
    const __m256i m = _mm256_set1_epi32(neg);
    for (int i = 0; i < 4; ++i) {
      // -w as (w ^ m) - m per key byte, saturating (-(-128) to 127).
      if (neg != 0) u[i] = _mm256_subs_epi8(_mm256_xor_si256(u[i], m), m);
      istore(out + 8 * i, u[i]);
    }
  }
  static void vt_q8(const uint8_t* const* r, int32_t neg, int32_t* out) {
    quant_vt_q8<QVec256>(r, neg, out);
  }
  static void vt_q4(const uint8_t* const* r, int32_t neg, int32_t* out) {
    quant_vt_q4<QVec256>(r, neg, out);
  }
  // Position p of vt_rows' 32 dwords: vector p / 8, its high 128-bit lane 16 dims on.
  static constexpr int64_t vt_dim(int64_t p) { return 4 * (p / 8) + (p % 8 >= 4 ? 16 : 0) + p % 4; }
  // w rounded (0..16383) to its base-128 digits.
  static void pack8(__m256i i, uint8_t* out) {
    const __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(h, h));
  }
  static void pack_digits(Vec w, uint8_t* hi, uint8_t* lo) {
    const __m256i c = _mm256_cvtps_epi32(w);
    pack8(_mm256_srli_epi32(c, 7), hi);
    pack8(_mm256_and_si256(c, _mm256_set1_epi32(127)), lo);
  }
  static void pack_u8(Vec w, uint8_t* out) { pack8(_mm256_cvtps_epi32(w), out); }
  static IVec ishl_digit(IVec x) { return _mm256_slli_epi32(x, 7); }
  static IVec dot_pv(IVec acc, IVec w, IVec v) {
    return _mm256_add_epi32(acc,
                            _mm256_madd_epi16(_mm256_maddubs_epi16(w, v), _mm256_set1_epi16(1)));
  }
};

}  // namespace

void attention_quant_avx2(const AttnTileJob& job) { quant_run<QVec256>(job); }

}  // namespace longctx::cpu
