// AVX-512 (F/BW/VL/DQ + VNNI) K-quant kernels: the Q8_K quantizer and the Q4_K / Q5_K x Q8_K
// gemv / gemm. Compiled with -mavx512*: everything but register_kquant_avx512 has internal
// linkage and only intrinsics are called (see the build rule in cpu_kernels.h).
// GCC 12's AVX-512 headers build _mm512_undefined_* by self-initialization, which -Wall reports
// wherever an insert / cast / reduce intrinsic is inlined (GCC PR 105593); the values are never
// read uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "quant/blocks.h"

namespace longctx::cpu {
namespace {

constexpr int kTypeQ4K = 12;  // GGUF type ids (quant/types.h)
constexpr int kTypeQ5K = 13;
constexpr int kSB = 256;  // elements per super-block

// Q8_K with the scalar path's semantics (kquant_scalar.cpp): the same float products and the
// same round-half-to-even conversion (cvtps under the default MXCSR), so the bytes are equal.
void quantize_q8k(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < n / kSB; ++b, x += kSB, out += sizeof(BlockQ8K)) {
    __m512 am = _mm512_setzero_ps();
    for (int i = 0; i < 16; ++i) {
      am = _mm512_max_ps(am, _mm512_and_ps(_mm512_loadu_ps(x + 16 * i), abs_mask));
    }
    const float amax = _mm512_reduce_max_ps(am);
    if (amax == 0.0f) {
      std::memset(out, 0, sizeof(BlockQ8K));
      continue;
    }
    // The first element of magnitude amax decides the sign, as in the scalar loop's strict '>'.
    const __m512 amv = _mm512_set1_ps(amax);
    int first = 0;
    for (int i = 0; i < 16; ++i) {
      const __m512 ax = _mm512_and_ps(_mm512_loadu_ps(x + 16 * i), abs_mask);
      const __mmask16 k = _mm512_cmp_ps_mask(ax, amv, _CMP_EQ_OQ);
      if (k != 0) {
        first = 16 * i + __builtin_ctz(k);
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m512 is = _mm512_set1_ps(iscale);
    const __m512i q_max = _mm512_set1_epi32(127);
    int16_t bsums[16];
    for (int i = 0; i < 16; ++i) {
      __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * i), is));
      q = _mm512_min_epi32(q, q_max);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 + 16 * i), _mm512_cvtepi32_epi8(q));
      bsums[i] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
    const float d = 1.0f / iscale;
    std::memcpy(out, &d, 4);
    std::memcpy(out + 4 + kSB, bsums, sizeof(bsums));
  }
}

// The 12 packed scale bytes at p (16 bytes are read; the block continues past them) as
// [sc0..sc7, m0..m7]. In 32-bit words w0, w1, w2 of the packing (see unpack_scale_min_k4):
//   sc0..3 = w0 & 0x3f.., m0..3 = w1 & 0x3f..,
//   sc4..7 = (w2 & 0x0f..) | ((w0 >> 2) & 0x30..), m4..7 = ((w2 >> 4) & 0x0f..) | ((w1 >> 2) &
//   0x30..)
static inline __m128i unpack_scales(const uint8_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x3f));
  const __m128i w2 = _mm_shuffle_epi32(b, 0xaa);
  const __m128i hn =
      _mm_and_si128(_mm_srlv_epi32(w2, _mm_set_epi32(0, 0, 4, 0)), _mm_set1_epi8(0x0f));
  const __m128i top = _mm_and_si128(_mm_srli_epi32(b, 2), _mm_set1_epi8(0x30));
  return _mm_unpacklo_epi32(lo, _mm_or_si128(hn, top));
}

// Constants of the weight unpacking, hoisted out of the loops.
struct Consts {
  __m512i shift;    // per 16-bit lane: 0 in the low 256 bits, 4 in the high: low / high nibbles
  __m512i nib;      // 0x0f bytes
  __m512i sixteen;  // 0x10 bytes (the fifth bit of Q5_K)
  __m512i hbit[4];  // Q5_K: bit 2c in the low 32 bytes, bit 2c+1 in the high 32
  __m512i sel[4];   // int32 lane -> scale index: 2c in lanes 0..7, 2c+1 in lanes 8..15
};

static inline Consts make_consts() {
  Consts k;
  k.shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
  k.nib = _mm512_set1_epi8(0x0f);
  k.sixteen = _mm512_set1_epi8(0x10);
  for (int c = 0; c < 4; ++c) {
    k.hbit[c] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8(char(1 << (2 * c)))),
                                   _mm256_set1_epi8(char(1 << (2 * c + 1))), 1);
    k.sel[c] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(2 * c)),
                                  _mm256_set1_epi32(2 * c + 1), 1);
  }
  return k;
}

// Register tile of R weight rows x C activation columns (gemv: C = 1). Each weight sub-block is
// unpacked once per tile and each activation vector loaded once, then the R x C int32 dot products
// (maddubs + dpwssd with the sub-block scale) accumulate per super-block. The float epilogue of
// a super-block per (row, column) is acc += sumi * (d * d_a) + mv_r * bv_c, where mv_r holds
// -dmin * m_s and bv_c holds d_a * (sum of a over sub-block s), both in lanes 8..15.
template <bool kQ5, int R, int C>
static inline void tile(int64_t nb, const uint8_t* w, size_t w_stride, const uint8_t* a,
                        size_t a_stride, float* y, size_t ldy, const Consts& k) {
  constexpr size_t kBB = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int j = 0; j < C; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* ab[C];
    __m512 da[C], bv[C];
    for (int j = 0; j < C; ++j) {
      ab[j] = a + j * a_stride + b * sizeof(BlockQ8K);
      float d;
      std::memcpy(&d, ab[j], 4);
      da[j] = _mm512_set1_ps(d);
      const __m256i bs16 = _mm256_loadu_si256((const __m256i*)(ab[j] + 4 + kSB));
      const __m256i bs8 = _mm256_madd_epi16(bs16, _mm256_set1_epi16(1));
      bv[j] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_inserti64x4(_mm512_setzero_si512(), bs8, 1)),
                            da[j]);
    }
    const uint8_t* qs[R];
    __m512i sc2[R], qh[R];
    __m512 dr[R], mv[R];
    for (int r = 0; r < R; ++r) {
      const uint8_t* wb = w + r * w_stride + b * kBB;
      if (C == 1) {
        // gemv streams the matrix once: fetch into L2 the same block 2R rows further on (the
        // hardware prefetchers alone left the loop waiting on memory: ~8 GB/s instead of ~20
        // from L3). Prefetches never fault, so running past the last row is harmless.
        const char* next = reinterpret_cast<const char*>(wb + 2 * R * w_stride);
        _mm_prefetch(next, _MM_HINT_T1);
        _mm_prefetch(next + 64, _MM_HINT_T1);
        _mm_prefetch(next + 128, _MM_HINT_T1);
      }
      const __m512i sm = _mm512_cvtepu8_epi32(unpack_scales(wb + 4));
      sc2[r] = _mm512_or_si512(sm, _mm512_slli_epi32(sm, 16));
      uint32_t dd;
      std::memcpy(&dd, wb, 4);
      const __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(dd)));
      dr[r] = _mm512_broadcastss_ps(dm);
      const __m512 ndmin = _mm512_broadcastss_ps(_mm_sub_ps(_mm_setzero_ps(), _mm_movehdup_ps(dm)));
      mv[r] = _mm512_maskz_mul_ps(0xff00, _mm512_cvtepi32_ps(sm), ndmin);
      qs[r] = wb + 4 + kKScaleBytes + (kQ5 ? kQKK / 8 : 0);
      if (kQ5) qh[r] = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)(wb + 16)));
    }
    __m512i sumi[R][C];
    for (int r = 0; r < R; ++r) {
      for (int j = 0; j < C; ++j) sumi[r][j] = _mm512_setzero_si512();
    }
    for (int c = 0; c < 4; ++c) {
      __m512i q[R], scv[R];
      for (int r = 0; r < R; ++r) {
        const __m512i raw =
            _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)(qs[r] + 32 * c)));
        q[r] = _mm512_and_si512(_mm512_srlv_epi16(raw, k.shift), k.nib);
        if (kQ5) {
          const __mmask64 h = _mm512_test_epi8_mask(qh[r], k.hbit[c]);
          q[r] = _mm512_mask_add_epi8(q[r], h, q[r], k.sixteen);
        }
        scv[r] = _mm512_permutexvar_epi32(k.sel[c], sc2[r]);
      }
      for (int j = 0; j < C; ++j) {
        const __m512i av = _mm512_loadu_si512(ab[j] + 4 + 64 * c);
        for (int r = 0; r < R; ++r) {
          sumi[r][j] = _mm512_dpwssd_epi32(sumi[r][j], _mm512_maddubs_epi16(q[r], av), scv[r]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int j = 0; j < C; ++j) {
        acc[r][j] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[r][j]), _mm512_mul_ps(dr[r], da[j]), acc[r][j]);
        acc[r][j] = _mm512_fmadd_ps(mv[r], bv[j], acc[r][j]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int j = 0; j < C; ++j) y[j * ldy + r] = _mm512_reduce_add_ps(acc[r][j]);
  }
}

template <bool kQ5, int R>
static inline void tile_cols(int64_t nb, const uint8_t* w, size_t w_stride, const uint8_t* a,
                             size_t a_stride, int64_t nc, float* y, size_t ldy, const Consts& k) {
  int64_t c = 0;
  for (; c + 4 <= nc; c += 4) {
    tile<kQ5, R, 4>(nb, w, w_stride, a + c * a_stride, a_stride, y + c * ldy, ldy, k);
  }
  switch (nc - c) {
    case 3:
      tile<kQ5, R, 3>(nb, w, w_stride, a + c * a_stride, a_stride, y + c * ldy, ldy, k);
      break;
    case 2:
      tile<kQ5, R, 2>(nb, w, w_stride, a + c * a_stride, a_stride, y + c * ldy, ldy, k);
      break;
    case 1:
      tile<kQ5, R, 1>(nb, w, w_stride, a + c * a_stride, a_stride, y + c * ldy, ldy, k);
      break;
    default:
      break;
  }
}

template <bool kQ5>
void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  const Consts k = make_consts();
  const auto* w8 = static_cast<const uint8_t*>(w);
  const auto* a8 = static_cast<const uint8_t*>(a);
  // Four rows per pass over the activation; the rest one by one.
  int64_t r = 0;
  for (; r + 4 <= nr; r += 4) {
    tile<kQ5, 4, 1>(n / kSB, w8 + r * w_stride, w_stride, a8, 0, y + r, 1, k);
  }
  for (; r < nr; ++r) tile<kQ5, 1, 1>(n / kSB, w8 + r * w_stride, w_stride, a8, 0, y + r, 1, k);
}

// ---- gemm on prepared super-blocks ----
// In a gemm call every weight row meets all nc columns and every column all nr rows, so the
// unpacking the register tile above repeats per tile (nibbles to bytes, 6-bit scales to the
// int16 pairs dpwssd takes, the epilogue's float factors on both sides) is done once per call
// into scratch, and the tile below only loads it. Measured (ops_harness --perf, one thread,
// 4096 x 256 x 512): Q5_K 114 -> 133-135 GOP/s, Q4_K 130 -> 131-135 (its maddubs + dpwssd pairs,
// ~107 GMAC/s per core when nothing else runs, are the limit there).

// One weight row's super-block, unpacked.
struct PrepRow {
  __m512i q[4];    // chunk c: the 0..15 (Q5_K: 0..31) values of sub-blocks 2c (low 32 bytes), 2c+1
  __m512i scv[4];  // chunk c: the sub-block scales as int16 pairs (lanes 0..7: 2c, 8..15: 2c+1)
  __m512 dr;       // d
  __m512 mv;       // -dmin * m_s in lanes 8..15
};
// One activation column's super-block factors.
struct PrepCol {
  __m512 da;  // d_a
  __m512 bv;  // d_a * (sum of a over sub-block s) in lanes 8..15
};

constexpr int64_t kPrepMaxBlocks = 48;  // rows up to 12288 elements take this path
constexpr int64_t kPrepCols = 32;       // columns prepared at a time (the backend's column block)

// The prepared blocks of one call (257 KiB): per thread, in static TLS rather than on the stack,
// whose size is the platform's choice for pool threads (musl: 128 KiB). Trivially constructible,
// so no TLS guard or wrapper function is emitted.
thread_local PrepRow t_prep_rows[2 * kPrepMaxBlocks];
thread_local PrepCol t_prep_cols[kPrepCols * kPrepMaxBlocks];

template <bool kQ5>
static inline void prep_row(const uint8_t* wb, const Consts& k, PrepRow* out) {
  const __m512i sm = _mm512_cvtepu8_epi32(unpack_scales(wb + 4));
  const __m512i sc2 = _mm512_or_si512(sm, _mm512_slli_epi32(sm, 16));
  uint32_t dd;
  std::memcpy(&dd, wb, 4);
  const __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(dd)));
  out->dr = _mm512_broadcastss_ps(dm);
  const __m512 ndmin = _mm512_broadcastss_ps(_mm_sub_ps(_mm_setzero_ps(), _mm_movehdup_ps(dm)));
  out->mv = _mm512_maskz_mul_ps(0xff00, _mm512_cvtepi32_ps(sm), ndmin);
  const uint8_t* qs = wb + 4 + kKScaleBytes + (kQ5 ? kQKK / 8 : 0);
  __m512i qh = _mm512_setzero_si512();
  if (kQ5) qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)(wb + 16)));
  for (int c = 0; c < 4; ++c) {
    const __m512i raw = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)(qs + 32 * c)));
    __m512i q = _mm512_and_si512(_mm512_srlv_epi16(raw, k.shift), k.nib);
    if (kQ5) q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(qh, k.hbit[c]), q, k.sixteen);
    out->q[c] = q;
    out->scv[c] = _mm512_permutexvar_epi32(k.sel[c], sc2);
  }
}

static inline void prep_col(const uint8_t* ab, PrepCol* out) {
  float d;
  std::memcpy(&d, ab, 4);
  out->da = _mm512_set1_ps(d);
  const __m256i bs16 = _mm256_loadu_si256((const __m256i*)(ab + 4 + kSB));
  const __m256i bs8 = _mm256_madd_epi16(bs16, _mm256_set1_epi16(1));
  out->bv = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_inserti64x4(_mm512_setzero_si512(), bs8, 1)),
                          out->da);
}

// R prepared rows (row r's super-blocks at rows + r * nb) x C columns (column j's factors at
// cols + j * nb, its quants at a + j * a_stride): the same arithmetic as tile() in the same order.
template <int R, int C>
static void tile_prep(int64_t nb, const PrepRow* rows, const PrepCol* cols, const uint8_t* a,
                      size_t a_stride, float* y, size_t ldy) {
  __m512 acc[R][C];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < C; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    __m512i sumi[R][C];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int j = 0; j < C; ++j) sumi[r][j] = _mm512_setzero_si512();
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      __m512i q[R], scv[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        q[r] = rows[r * nb + b].q[c];
        scv[r] = rows[r * nb + b].scv[c];
      }
#pragma GCC unroll 8
      for (int j = 0; j < C; ++j) {
        const __m512i av = _mm512_loadu_si512(a + j * a_stride + b * sizeof(BlockQ8K) + 4 + 64 * c);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          sumi[r][j] = _mm512_dpwssd_epi32(sumi[r][j], _mm512_maddubs_epi16(q[r], av), scv[r]);
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int j = 0; j < C; ++j) {
        const PrepRow& pr = rows[r * nb + b];
        const PrepCol& pc = cols[j * nb + b];
        acc[r][j] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[r][j]), _mm512_mul_ps(pr.dr, pc.da), acc[r][j]);
        acc[r][j] = _mm512_fmadd_ps(pr.mv, pc.bv, acc[r][j]);
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < C; ++j) y[j * ldy + r] = _mm512_reduce_add_ps(acc[r][j]);
  }
}

template <int R>
static void tile_prep_cols(int64_t nb, const PrepRow* rows, const PrepCol* cols, const uint8_t* a,
                           size_t a_stride, int64_t nc, float* y, size_t ldy) {
  int64_t j = 0;
  for (; j + 4 <= nc; j += 4) {
    tile_prep<R, 4>(nb, rows, cols + j * nb, a + j * a_stride, a_stride, y + j * ldy, ldy);
  }
  const PrepCol* c = cols + j * nb;
  const uint8_t* aj = a + j * a_stride;
  switch (nc - j) {
    case 3:
      tile_prep<R, 3>(nb, rows, c, aj, a_stride, y + j * ldy, ldy);
      break;
    case 2:
      tile_prep<R, 2>(nb, rows, c, aj, a_stride, y + j * ldy, ldy);
      break;
    case 1:
      tile_prep<R, 1>(nb, rows, c, aj, a_stride, y + j * ldy, ldy);
      break;
    default:
      break;
  }
}

template <bool kQ5>
static void gemm_prep(int64_t nb, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* a,
                      size_t a_stride, int64_t nc, float* y, size_t ldy, const Consts& k) {
  constexpr size_t kBB = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  PrepRow* rows = t_prep_rows;
  PrepCol* cols = t_prep_cols;
  for (int64_t j0 = 0; j0 < nc; j0 += kPrepCols) {
    const int64_t ncb = nc - j0 < kPrepCols ? nc - j0 : kPrepCols;
    const uint8_t* aj = a + j0 * a_stride;
    for (int64_t j = 0; j < ncb; ++j) {
      for (int64_t b = 0; b < nb; ++b) {
        prep_col(aj + j * a_stride + b * sizeof(BlockQ8K), &cols[j * nb + b]);
      }
    }
    for (int64_t r = 0; r < nr; r += 2) {
      const int64_t n_r = nr - r < 2 ? nr - r : 2;
      for (int64_t i = 0; i < n_r; ++i) {
        for (int64_t b = 0; b < nb; ++b) {
          prep_row<kQ5>(w + (r + i) * w_stride + b * kBB, k, &rows[i * nb + b]);
        }
      }
      if (n_r == 2) {
        tile_prep_cols<2>(nb, rows, cols, aj, a_stride, ncb, y + j0 * ldy + r, ldy);
      } else {
        tile_prep_cols<1>(nb, rows, cols, aj, a_stride, ncb, y + j0 * ldy + r, ldy);
      }
    }
  }
}

template <bool kQ5>
void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  const Consts k = make_consts();
  if (n / kSB <= kPrepMaxBlocks && nc > 1) {
    gemm_prep<kQ5>(n / kSB, static_cast<const uint8_t*>(w), w_stride, nr,
                   static_cast<const uint8_t*>(a), a_stride, nc, y, ldy, k);
    return;
  }
  const auto* w8 = static_cast<const uint8_t*>(w);
  const auto* a8 = static_cast<const uint8_t*>(a);
  // Two weight rows stay in L1 while all the columns pass over them in tiles of 4.
  int64_t r = 0;
  for (; r + 2 <= nr; r += 2) {
    tile_cols<kQ5, 2>(n / kSB, w8 + r * w_stride, w_stride, a8, a_stride, nc, y + r, ldy, k);
  }
  if (r < nr) {
    tile_cols<kQ5, 1>(n / kSB, w8 + r * w_stride, w_stride, a8, a_stride, nc, y + r, ldy, k);
  }
}

}  // namespace

void register_kquant_avx512(KernelTable* t) {
  t->quantize[static_cast<int>(ActType::kQ8_K)] = quantize_q8k;
  t->matmul[kTypeQ4K] = {ActType::kQ8_K, gemv<false>, gemm<false>};
  t->matmul[kTypeQ5K] = {ActType::kQ8_K, gemv<true>, gemm<true>};
}

}  // namespace longctx::cpu
