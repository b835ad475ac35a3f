// AVX-512 (F/BW/VL/DQ + VNNI + BF16) legacy kernels: F32 / BF16 / Q8_0 activation quantizers,
// F32 and F16 dots in 16-float FMAs, BF16 x BF16 with dpbf16_ps, and Q8_0 / Q4_0 block dots with
// VNNI dpbusd on 256-bit halves, register-tiled R weight rows x C activation columns. Built with
// -mavx512*: everything but register_legacy_avx512 has internal linkage (see cpu_kernels.h).
// GCC 12's AVX-512 intrinsics start from a self-initialised "undefined" vector, which its
// (maybe-)uninitialized analysis reports at every use (GCC bug 105593, fixed in GCC 13); the
// warnings point into the header, so silence them there only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/tile_drivers.h"
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

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// ---- Activation quantizers ----------------------------------------------------------------

void quantize_f32(const float* x, void* dst, int64_t n) {
  std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float));
}

// fp32 -> bf16 RNE in integers (vcvtneps2bf16 would flush subnormal inputs to zero): bits +
// 0x7fff + (bit 16) carries into the kept half exactly when the dropped half is above 1/2 or a
// tie with an odd kept half; NaN is truncated and made quiet. Masked load / store for the tail.
void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7fff);
  const __m512i quiet = _mm512_set1_epi32(0x40);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m =
        n - i >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i hi = _mm512_srli_epi32(bits, 16);
    const __m512i lsb = _mm512_and_si512(hi, one);
    __m512i h = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(bits, bias), lsb), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    h = _mm512_mask_or_epi32(h, nan, hi, quiet);
    _mm256_mask_storeu_epi16(out + 2 * i, m, _mm512_cvtepi32_epi16(h));
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
// x * id), so the bytes are identical to quantize_row(Q8_0) for finite inputs. 256-bit: the
// activation quantizer is a small part of a matmul, and GCC 12's 512-bit rounding and narrowing
// intrinsics raise false -Wmaybe-uninitialized warnings.
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

// ---- Float weights -----------------------------------------------------------------------

static inline __m512 load16_f32(const uint8_t* p) {
  return _mm512_loadu_ps(reinterpret_cast<const float*>(p));
}

struct LoadF32 {
  static constexpr int kBytes = 4;
  static __m512 load16(const uint8_t* p) { return load16_f32(p); }
  static float get(const uint8_t* p) { return f32_at(p); }
};
struct LoadF16 {
  static constexpr int kBytes = 2;
  static __m512 load16(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static float get(const uint8_t* p) { return h2f(p); }
};

// F32 / F16 weights x f32 activations: 16 lanes per (row, column) pair, scalar n % 16 tail.
template <class L>
struct FloatKernel {
  static constexpr int kRows = 4, kCols = 4, kGemvRows = 4;
  template <int R, int C>
  static void tile(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                   size_t ldy) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      __m512 wv[R];
      for (int r = 0; r < R; ++r) wv[r] = L::load16(w + r * ws + i * L::kBytes);
      for (int c = 0; c < C; ++c) {
        const __m512 av = load16_f32(a + c * as + 4 * i);
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(wv[r], av, acc[r][c]);
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) {
        float s = _mm512_reduce_add_ps(acc[r][c]);
        for (int64_t j = i; j < n; ++j) {
          s += L::get(w + r * ws + j * L::kBytes) * f32_at(a + c * as + 4 * j);
        }
        y[c * ldy + r] = s;
      }
    }
  }
};

// BF16 weights x BF16 activations: dpbf16_ps adds two exact bf16 products per fp32 lane, 32
// elements per instruction; scalar n % 32 tail.
struct BF16Kernel {
  static constexpr int kRows = 4, kCols = 4, kGemvRows = 4;
  template <int R, int C>
  static void tile(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                   size_t ldy) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      __m512bh wv[R];
      for (int r = 0; r < R; ++r) {
        wv[r] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(w + r * ws + 2 * i));
      }
      for (int c = 0; c < C; ++c) {
        const __m512bh av = reinterpret_cast<__m512bh>(_mm512_loadu_si512(a + c * as + 2 * i));
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv[r], av);
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) {
        float s = _mm512_reduce_add_ps(acc[r][c]);
        for (int64_t j = i; j < n; ++j) s += bf2f(w + r * ws + 2 * j) * bf2f(a + c * as + 2 * j);
        y[c * ldy + r] = s;
      }
    }
  }
};

// ---- Q8_0 / Q4_0 weights x Q8_0 activations ------------------------------------------------
// dpbusd multiplies unsigned x signed bytes, four per int32 lane, with no intermediate
// saturation. Q8_0 weights are made unsigned (w + 128, one xor) and the lane starts at
// -128 * (sum of its four a); Q4_0 nibbles are unsigned already and the lane starts at
// -8 * (sum of its four a). Either start depends on the activation block only, so it is computed
// once per column and shared by all rows of the tile. The eight int32 lanes are exact; they are
// converted to float and scaled by d_w * d_a with one FMA. 256-bit vectors: Zen 4 runs 512-bit
// integer ops at half rate, and one 32-element block fills a 256-bit vector.

// fp16 scale at p broadcast to 8 floats (a 16-bit broadcast load and one conversion).
static inline __m256 scale8(const uint8_t* p) {
  int16_t v;
  std::memcpy(&v, p, 2);
  return _mm256_cvtph_ps(_mm_set1_epi16(v));
}

// The fp16 scales at p and q as [d_p x 4, d_q x 4] floats.
static inline __m256 scale8x2(const uint8_t* p, const uint8_t* q) {
  int16_t u, v;
  std::memcpy(&u, p, 2);
  std::memcpy(&v, q, 2);
  return _mm256_cvtph_ps(_mm_unpacklo_epi64(_mm_set1_epi16(u), _mm_set1_epi16(v)));
}

// 16 bytes at p in the low half, 16 bytes at q in the high half.
static inline __m256i pair16(const uint8_t* p, const uint8_t* q) {
  return _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)), 1);
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
  static constexpr int kRows = 4, kCols = 4, kGemvRows = 4;
  template <int R, int C>
  static void tile(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                   size_t ldy) {
    const __m256i bias = _mm256_set1_epi8(static_cast<char>(kQ4 ? 8 : 0x80));
    const __m256i shift = _mm256_setr_epi64x(0, 0, 4, 4);
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    constexpr size_t kWBytes = kQ4 ? kQ4Bytes : kQ8Bytes;
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    }
    const int64_t nb = n / kQK;
    int64_t b = 0;
    // Block pairs: a vector holds the same 16 elements of blocks b and b + 1 (elements 0-15 in
    // `lo`, 16-31 in `hi`), so two dpbusd give 4 lanes per block and one convert, multiply and
    // FMA scale both blocks: 6 ops per (row, column) for two blocks instead of 10.
    for (; b + 2 <= nb; b += 2) {
      __m256i al[C], ah[C], start[C];
      __m256 da[C];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const uint8_t* q = a + c * as + b * kQ8Bytes;
        da[c] = scale8x2(q, q + kQ8Bytes);
        al[c] = pair16(q + 2, q + kQ8Bytes + 2);
        ah[c] = pair16(q + 18, q + kQ8Bytes + 18);
        start[c] = _mm256_sub_epi32(
            _mm256_setzero_si256(),
            _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), bias, al[c]), bias,
                                ah[c]));
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = w + r * ws + b * kWBytes;
        const __m256 dw = scale8x2(p, p + kWBytes);
        __m256i wl, wh;
        if (kQ4) {
          const __m256i x = pair16(p + 2, p + kWBytes + 2);
          wl = _mm256_and_si256(x, low4);
          wh = _mm256_and_si256(_mm256_srli_epi16(x, 4), low4);
        } else {
          wl = _mm256_xor_si256(pair16(p + 2, p + kWBytes + 2), bias);
          wh = _mm256_xor_si256(pair16(p + 18, p + kWBytes + 18), bias);
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          const __m256i dot =
              _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(start[c], wl, al[c]), wh, ah[c]);
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(dw, da[c]), acc[r][c]);
        }
      }
    }
    for (; b < nb; ++b) {
      __m256i aq[C], start[C];
      __m256 da[C];
      for (int c = 0; c < C; ++c) {
        const uint8_t* q = a + c * as + b * kQ8Bytes;
        da[c] = scale8(q);
        aq[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 2));
        start[c] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                    _mm256_dpbusd_epi32(_mm256_setzero_si256(), bias, aq[c]));
      }
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = w + r * ws + b * kWBytes;
        const __m256 dw = scale8(p);
        const __m256i wu =
            kQ4 ? nibbles(p, shift, low4)
                : _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2)),
                                   bias);
        for (int c = 0; c < C; ++c) {
          const __m256 s = _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(start[c], wu, aq[c]));
          acc[r][c] = _mm256_fmadd_ps(s, _mm256_mul_ps(dw, da[c]), acc[r][c]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) y[c * ldy + r] = hsum(acc[r][c]);
    }
  }
};

// Matrix x vector for Q8_0, one weight row at a time: the rows stream through memory in order,
// which the hardware prefetchers follow best (reading several rows side by side measured up to
// 2x slower in a decoding model). Per block: |w| (unsigned) times a with w's sign moved onto it
// (vpsignb), so dpbusd needs no offset correction (exact while a > -128, which the Q8_0
// activation quantizer guarantees: |q| <= 127); four float accumulators over consecutive blocks
// hide the FMA latency.
void gemv_q8_0_rows(int64_t n, const void* wv, size_t ws, int64_t nr, const void* av, float* y) {
  const auto* a = static_cast<const uint8_t*>(av);
  const int64_t nb = n / kQK;
  for (int64_t r = 0; r < nr; ++r) {
    const uint8_t* w = static_cast<const uint8_t*>(wv) + r * ws;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
      for (int u = 0; u < 4; ++u) {
        const uint8_t* p = w + (b + u) * kQ8Bytes;
        const uint8_t* q = a + (b + u) * kQ8Bytes;
        const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2));
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 2));
        const __m256i dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(wq),
                                                _mm256_sign_epi8(aq, wq));
        acc[u] =
            _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(scale8(p), scale8(q)), acc[u]);
      }
    }
    for (; b < nb; ++b) {
      const uint8_t* p = w + b * kQ8Bytes;
      const uint8_t* q = a + b * kQ8Bytes;
      const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2));
      const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 2));
      const __m256i dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(wq),
                                              _mm256_sign_epi8(aq, wq));
      acc[0] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(scale8(p), scale8(q)), acc[0]);
    }
    y[r] = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  }
}

// Q4_0 likewise one row at a time (the 1 x 1 tile).
template <class K>
void gemv_rows(int64_t n, const void* wv, size_t ws, int64_t nr, const void* av, float* y) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(av);
  for (int64_t r = 0; r < nr; ++r) K::template tile<1, 1>(n, w + r * ws, ws, a, 0, y + r, 1);
}

}  // namespace

void register_legacy_avx512(KernelTable* t) {
  t->quantize[static_cast<int>(ActType::kF32)] = quantize_f32;
  t->quantize[static_cast<int>(ActType::kBF16)] = quantize_bf16;
  t->quantize[static_cast<int>(ActType::kQ8_0)] = quantize_q8_0;
  t->matmul[kF32] = kernel<FloatKernel<LoadF32>>(ActType::kF32);
  t->matmul[kF16] = kernel<FloatKernel<LoadF16>>(ActType::kF32);
  t->matmul[kBF16] = kernel<BF16Kernel>(ActType::kBF16);
  t->matmul[kQ8_0] = {ActType::kQ8_0, &gemv_q8_0_rows, &gemm<QuantKernel<false>>};
  t->matmul[kQ4_0] = {ActType::kQ8_0, &gemv_rows<QuantKernel<true>>, &gemm<QuantKernel<true>>};
}

}  // namespace longctx::cpu
