// AVX2 instantiation of the quantized-KV attention (attention_quant_inl.h has the scheme): 8 keys
// per tile as lanes; without VNNI the 4-byte dot products are maddubs + madd, which need the
// unsigned operand small enough not to saturate 16 bits: Q8_0 keys keep their sign in q
// (|k| x sign(q, k)), Q4_0 nibbles (0..15) multiply as they are.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/cpu/attention_avx2_inl.h"
#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/attention_quant_inl.h"
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
  // Keys p + j * stride (j past nk - 1 repeat key nk - 1): key j's 16 bytes go to 128-bit lane
  // j / 4 of z[j % 4], then a 4 x 4 dword transpose inside each 128-bit lane: lanes are keys.
  static void load_tile16x4(const uint8_t* p, int64_t stride, int64_t nk, IVec* out) {
    __m256i z[4];
    for (int64_t r = 0; r < 4; ++r) {
      const int64_t j0 = r < nk ? r : nk - 1, j1 = r + 4 < nk ? r + 4 : nk - 1;
      z[r] = _mm256_inserti128_si256(
          _mm256_castsi128_si256(
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j0 * stride))),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j1 * stride)), 1);
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
  static Vec load_i8(const uint8_t* p) {
    return _mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static Vec q4(__m128i b) {
    const __m256i w = _mm256_and_si256(_mm256_cvtepu8_epi32(b), _mm256_set1_epi32(0x0F));
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(w, _mm256_set1_epi32(8)));
  }
  static Vec load_q4lo(const uint8_t* p) {
    return q4(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static Vec load_q4hi(const uint8_t* p) {
    return q4(_mm_srli_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), 4));
  }
};

}  // namespace

void attention_quant_avx2(const AttnTileJob& job) { quant_run<QVec256>(job); }

}  // namespace longctx::cpu
