// AVX2 + FMA + F16C legacy kernels: the F32 / BF16 / Q8_0 activation quantizers and register-tiled
// F32, F16, BF16, Q8_0 and Q4_0 dot kernels (R weight rows x C activation columns per tile, each
// weight block unpacked once and reused across the columns). Built with -mavx2 -mfma -mf16c:
// everything but register_legacy_avx2 has internal linkage (see cpu_kernels.h).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/tile_drivers.h"
#include "kernels/cpu/vec_avx2_inl.h"
#include "quant/blocks.h"

namespace longctx::cpu {
namespace {

constexpr int kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ8_0 = 8, kBF16 = 30;  // GGUF type ids
constexpr size_t kQ8Bytes = sizeof(BlockQ8_0), kQ4Bytes = sizeof(BlockQ4_0);

static inline float h2f(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return _cvtsh_ss(v);
}

static inline float bf2f(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static inline float f32_at(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

// ---- Activation quantizers ----------------------------------------------------------------

void quantize_f32(const float* x, void* dst, int64_t n) {
  std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float));
}

// fp32 -> bf16 RNE in integers: bits + 0x7fff + (bit 16) carries into the kept half exactly when
// the dropped half is above 1/2 or a tie with an odd kept half; NaN is truncated and made quiet.
static inline __m128i bf16x8(__m256 x) {
  const __m256i bits = _mm256_castps_si256(x);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  const __m256i rne = _mm256_srli_epi32(
      _mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i nan = _mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x40));
  const __m256i is_nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  const __m256i h = _mm256_blendv_epi8(rne, nan, is_nan);
  return _mm_packus_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), bf16x8(_mm256_loadu_ps(x + i)));
  }
  if (i < n) {
    float tail[8] = {};
    uint16_t h[8];
    std::memcpy(tail, x + i, static_cast<size_t>(n - i) * 4);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h), bf16x8(_mm256_loadu_ps(tail)));
    std::memcpy(out + 2 * i, h, static_cast<size_t>(n - i) * 2);
  }
}

// round-half-away-from-zero of 8 floats, exactly: t - trunc(t) is exact, and a fraction of
// magnitude >= 1/2 steps one unit away from zero.
static inline __m256i round_away(__m256 t) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 tr = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(t, tr));
  const __m256 step = _mm256_or_ps(_mm256_and_ps(t, sign), _mm256_set1_ps(1.0f));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm256_cvttps_epi32(_mm256_add_ps(tr, _mm256_and_ps(up, step)));
}

// The reference Q8_0 arithmetic in the same float operations (amax, d = amax / 127, id = 1 / d,
// x * id), so the bytes are identical to quantize_row(Q8_0) for finite inputs.
void quantize_q8_0(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK, out += kQ8Bytes) {
    __m256 v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(x + 8 * k);
    __m256 m =
        _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                      _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t dh = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(out, &dh, 2);
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = round_away(_mm256_mul_ps(v[k], idv));
    // packs interleave 128-bit lanes: bytes end up in dword order 0,4,1,5,2,6,3,7.
    const __m256i p16a = _mm256_packs_epi32(q[0], q[1]);
    const __m256i p16b = _mm256_packs_epi32(q[2], q[3]);
    const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    const __m256i perm = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2), perm);
  }
}

// ---- Float weights x f32 activations --------------------------------------------------------

struct LoadF32 {
  static constexpr int kBytes = 4;
  static __m256 load8(const uint8_t* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
  static float get(const uint8_t* p) { return f32_at(p); }
};
struct LoadF16 {
  static constexpr int kBytes = 2;
  static __m256 load8(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float get(const uint8_t* p) { return h2f(p); }
};
// bf16 widens exactly by moving it into the top half of an fp32.
struct LoadBF16 {
  static constexpr int kBytes = 2;
  static __m256 load8(const uint8_t* p) {
    const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
  }
  static float get(const uint8_t* p) { return bf2f(p); }
};

// Each (row, column) pair accumulates 8 lanes with FMA; the n % 8 tail is added in scalar. L loads
// the weights, A the activations (f32, or bf16 for BF16 weights: the activation format is the
// weight type's on every path, see cpu_kernels.h).
template <class L, class A = LoadF32>
struct FloatKernel {
  static constexpr int kRows = 4, kCols = 2, kGemvRows = 4;
  template <int R, int C>
  static void tile(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                   size_t ldy) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 wv[R];
      for (int r = 0; r < R; ++r) wv[r] = L::load8(w + r * ws + i * L::kBytes);
      for (int c = 0; c < C; ++c) {
        const __m256 av = A::load8(a + c * as + i * A::kBytes);
        for (int r = 0; r < R; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], av, acc[r][c]);
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) {
        float s = F32x8::hsum(acc[r][c]);
        for (int64_t j = i; j < n; ++j) {
          s += L::get(w + r * ws + j * L::kBytes) * A::get(a + c * as + j * A::kBytes);
        }
        y[c * ldy + r] = s;
      }
    }
  }
};

// ---- Q8_0 / Q4_0 weights x Q8_0 activations ------------------------------------------------
// Block dot in integers: maddubs multiplies unsigned x signed bytes into int16 pairs, so Q8_0 uses
// the sign trick (|w| x sign(w) * a, max pair 2 * 128 * 127 < 2^15); madd with ones widens to
// eight int32 partial sums, converted exactly to float and scaled by d_w * d_a with one FMA.
// Q4_0 nibbles q in 0..15 are the unsigned operand directly; the -8 offset is removed in int16 as
// maddubs(8, a), once per activation block (pairs: 2 * 15 * 127 fits in int16).

// fp16 scale at p broadcast to 8 floats (a 16-bit broadcast load and one conversion).
static inline __m256 scale8(const uint8_t* p) {
  int16_t v;
  std::memcpy(&v, p, 2);
  return _mm256_cvtph_ps(_mm_set1_epi16(v));
}

// Q4_0 block at p (fp16 d, 16 bytes of nibbles) as 32 unsigned bytes in element order: the
// 16 bytes are broadcast to both halves, the upper half shifted right by 4, then masked.
static inline __m256i nibbles(const uint8_t* p, __m256i shift, __m256i low4) {
  const __m256i x =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2)));
  return _mm256_and_si256(_mm256_srlv_epi64(x, shift), low4);
}

template <bool kQ4>
struct QuantKernel {
  static constexpr int kRows = 4, kCols = 2, kGemvRows = 4;
  template <int R, int C>
  static void tile(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                   size_t ldy) {
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i eights = _mm256_set1_epi8(8);
    const __m256i shift = _mm256_setr_epi64x(0, 0, 4, 4);
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    constexpr size_t kWBytes = kQ4 ? kQ4Bytes : kQ8Bytes;
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    }
    const int64_t nb = n / kQK;
    for (int64_t b = 0; b < nb; ++b) {
      __m256i aq[C], off[C];
      __m256 da[C];
      for (int c = 0; c < C; ++c) {
        const uint8_t* q = a + c * as + b * kQ8Bytes;
        da[c] = scale8(q);
        aq[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 2));
        if (kQ4) off[c] = _mm256_maddubs_epi16(eights, aq[c]);
      }
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = w + r * ws + b * kWBytes;
        const __m256 dw = scale8(p);
        const __m256i wq = kQ4 ? nibbles(p, shift, low4)
                               : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2));
        const __m256i wu = kQ4 ? wq : _mm256_sign_epi8(wq, wq);
        for (int c = 0; c < C; ++c) {
          const __m256i p16 = kQ4 ? _mm256_sub_epi16(_mm256_maddubs_epi16(wu, aq[c]), off[c])
                                  : _mm256_maddubs_epi16(wu, _mm256_sign_epi8(aq[c], wq));
          const __m256 s = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
          acc[r][c] = _mm256_fmadd_ps(s, _mm256_mul_ps(dw, da[c]), acc[r][c]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) y[c * ldy + r] = F32x8::hsum(acc[r][c]);
    }
  }
};

}  // namespace

void register_legacy_avx2(KernelTable* t) {
  t->quantize[static_cast<int>(ActType::kF32)] = quantize_f32;
  t->quantize[static_cast<int>(ActType::kBF16)] = quantize_bf16;
  t->quantize[static_cast<int>(ActType::kQ8_0)] = quantize_q8_0;
  t->matmul[kF32] = kernel<FloatKernel<LoadF32>>(ActType::kF32);
  t->matmul[kF16] = kernel<FloatKernel<LoadF16>>(ActType::kF32);
  t->matmul[kBF16] = kernel<FloatKernel<LoadBF16, LoadBF16>>(ActType::kBF16);
  t->matmul[kQ8_0] = kernel<QuantKernel<false>>(ActType::kQ8_0);
  t->matmul[kQ4_0] = kernel<QuantKernel<true>>(ActType::kQ8_0);
}

}  // namespace longctx::cpu
