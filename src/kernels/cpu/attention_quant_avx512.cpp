// AVX-512 instantiation of the quantized-KV attention (attention_quant_inl.h has the scheme): 16
// keys per tile as lanes, VNNI dpbusd for the 4-byte dot products (Q8_0 keys flipped to u8,
// Q4_0 nibbles as they are, both against int8 queries; u8 weights against int8 values in P V),
// mask registers for the causal limit.
// GCC 12 flags its own AVX-512 intrinsic headers with false -Wmaybe-uninitialized warnings
// (GCC bug 105593); the pragmas must precede the include.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/cpu/attention_avx512_inl.h"
#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/attention_quant_inl.h"
#include "kernels/cpu/attention_quant_x86_inl.h"
#include "kernels/cpu/vec_avx512_inl.h"

namespace longctx::cpu {
namespace {

struct QVec512 : F32x16 {
  using IVec = __m512i;
  static constexpr int kMixRows = 4, kMixVecs = 4;
  static constexpr int64_t kQ8Planes = 1;
  static void prefetch(const void* p) { prefetch_l2(p); }
  static constexpr int32_t kQ8Offset = 128;

  static Vec exp2(Vec x) { return exp2v(x); }
  static float exp2_1(float x) { return exp2f(x); }
  static Vec mask_keys(Vec s, int64_t n) {
    return _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), first(n), s);
  }
  static Vec zero_above(Vec p, int64_t n) { return _mm512_maskz_mov_ps(first(n), p); }
  static float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

  static IVec iset1(int32_t x) { return _mm512_set1_epi32(x); }
  static IVec iload(const int32_t* p) { return _mm512_loadu_si512(p); }
  static void istore(int32_t* p, IVec v) { _mm512_storeu_si512(p, v); }
  static IVec ibcast32(const uint8_t* p) {
    int32_t x;
    __builtin_memcpy(&x, p, 4);
    return _mm512_set1_epi32(x);
  }
  // Key j at p + off[j]: key j's 16 bytes go to 128-bit lane
  // j / 4 of z[j % 4], then a 4 x 4 dword transpose inside each 128-bit lane leaves dword i of
  // key 4L + r in lane 4L + r of out[i]: lanes are keys.
  static void load_tile16x4(const uint8_t* p, const int64_t* off, IVec* out) {
    __m512i z[4];
    for (int64_t r = 0; r < 4; ++r) {
      const __m128i* row[4];
      for (int64_t l = 0; l < 4; ++l) {
        const int64_t j = 4 * l + r;
        row[l] = reinterpret_cast<const __m128i*>(p + off[j]);
      }
      const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(row[0])),
                                                 _mm_loadu_si128(row[1]), 1);
      const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(row[2])),
                                                 _mm_loadu_si128(row[3]), 1);
      z[r] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    out[0] = _mm512_unpacklo_epi64(t0, t2);
    out[1] = _mm512_unpackhi_epi64(t0, t2);
    out[2] = _mm512_unpacklo_epi64(t1, t3);
    out[3] = _mm512_unpackhi_epi64(t1, t3);
  }
  static IVec nib_lo(IVec x) { return _mm512_and_si512(x, _mm512_set1_epi8(0x0F)); }
  static IVec nib_hi(IVec x) {
    return _mm512_and_si512(_mm512_srli_epi32(x, 4), _mm512_set1_epi8(0x0F));
  }
  static Vec cvt(IVec x) { return _mm512_cvtepi32_ps(x); }
  // int8 k + 128 as u8 (the dpbusd unsigned operand): flipping the sign bit.
  static void prep_q8(IVec raw, int32_t* dst) {
    istore(dst, _mm512_xor_si512(raw, _mm512_set1_epi8(static_cast<char>(0x80))));
  }
  static IVec dot_q8(IVec acc, const int32_t* k, IVec q) {
    return _mm512_dpbusd_epi32(acc, iload(k), q);
  }
  static IVec dot_u8(IVec acc, IVec k, IVec q) { return _mm512_dpbusd_epi32(acc, k, q); }

  static Vec load_f32(const uint8_t* p) { return _mm512_loadu_ps(p); }
  static Vec load_f16(const uint8_t* p) { return LoadF16::load(p); }
  static Vec load_bf16(const uint8_t* p) { return LoadBF16::load(p); }
  static Vec abs(Vec x) { return _mm512_abs_ps(x); }

  // Integer P V (attention_quant_inl.h): weights u8 up to 255 (dpbusd has no 16-bit step).
  static constexpr int kPMax = 255, kPvRows = 4;
  static void sign_bytes(const uint16_t* dh, uint8_t* out) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(dh));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                     _mm256_cvtepi16_epi8(_mm256_srai_epi16(h, 15)));
  }
  // Keys a, b, c, d (32 int8 each) to 32 dwords (a_i, b_i, c_i, d_i): bytes interleaved within
  // 128-bit lanes, then words; vt_dim gives the dim at each position.
  static void vt_rows(__m256i a, __m256i b, __m256i c, __m256i d, int32_t neg, int32_t* out) {
    const __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(a), c, 1);
    const __m512i y = _mm512_inserti64x4(_mm512_castsi256_si512(b), d, 1);
    const __m512i t0 = _mm512_unpacklo_epi8(x, y), t1 = _mm512_unpackhi_epi8(x, y);
    const __m512i ab = _mm512_shuffle_i64x2(t0, t1, 0x44), cd = _mm512_shuffle_i64x2(t0, t1, 0xEE);
    __m512i u0 = _mm512_unpacklo_epi16(ab, cd), u1 = _mm512_unpackhi_epi16(ab, cd);
    if (neg != 0) {  // -w as (w ^ m) - m per key byte, saturating (-(-128) to 127)
      const __m512i m = _mm512_set1_epi32(neg);
      u0 = _mm512_subs_epi8(_mm512_xor_si512(u0, m), m);
      u1 = _mm512_subs_epi8(_mm512_xor_si512(u1, m), m);
    }
    _mm512_storeu_si512(out, u0);
    _mm512_storeu_si512(out + 16, u1);
  }
  static void vt_q8(const uint8_t* const* r, int32_t neg, int32_t* out) {
    quant_vt_q8<QVec512>(r, neg, out);
  }
  static void vt_q4(const uint8_t* const* r, int32_t neg, int32_t* out) {
    quant_vt_q4<QVec512>(r, neg, out);
  }
  // Position p of vt_rows' 32 dwords: vector p / 16, 128-bit lane (p / 4) % 4 holding dims
  // {0, 16, 8, 24} + 4 (p / 16) onward.
  static constexpr int64_t vt_dim(int64_t p) {
    constexpr int64_t kLaneDim[4] = {0, 16, 8, 24};
    return 4 * (p / 16) + kLaneDim[(p / 4) % 4] + p % 4;
  }
  // w rounded (0..65535) to its base-256 digits.
  static void pack_digits(Vec w, uint8_t* hi, uint8_t* lo) {
    const __m512i c = _mm512_cvtps_epi32(w);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(hi), _mm512_cvtepi32_epi8(_mm512_srli_epi32(c, 8)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lo), _mm512_cvtepi32_epi8(c));
  }
  static void pack_u8(Vec w, uint8_t* out) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(w)));
  }
  static IVec ishl_digit(IVec x) { return _mm512_slli_epi32(x, 8); }
  static IVec dot_pv(IVec acc, IVec w, IVec v) { return _mm512_dpbusd_epi32(acc, w, v); }
};

}  // namespace

void attention_quant_avx512(const AttnTileJob& job) { quant_run<QVec512>(job); }

}  // namespace longctx::cpu
