// AVX-512 VNNI kernels for Q4_K in the interleaved x16 layout (x16_repack.cpp) x Q8_K activations.
// Compiled with -mavx512*: everything but register_kquant_x16_avx512 has internal linkage and
// only intrinsics are called (see the build rule in cpu_kernels.h).
//
// Every int32 lane of a vector belongs to one of the 16 rows of a group. Per super-block and
// activation column, for each sub-block s (32 elements):
//   dot_s   = sum_l q_l a_l             one dpbusd per 4 elements of all 16 rows (a broadcast)
//   isc     = sum_s sc_s * dot_s        int32 multiply by the row's 6-bit scale, exact
//   imin    = sum_s m_s * bsum_s        dpwssd of (m_2t, m_2t+1) pairs with the column's sums
//   y      += d_a * (d * isc - dmin * imin)
// which is the scalar kernel's formula (kquant_scalar.cpp), integer part for integer part; all
// the sums fit int32 (|isc| <= 8 * 63 * 32 * 15 * 127). The 16 results of a group leave in one
// store: no horizontal sums.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/x16_avx512_inl.h"

namespace longctx::cpu {
namespace {

constexpr int kTypeQ4K = 12;               // GGUF type id (quant/types.h)
constexpr size_t kGroupBlockBytes = 2304;  // one super-block of 16 rows
constexpr int kSB = 256;

// The unpacked per-group super-block values shared by every column.
struct GroupBlock {
  __m512 d, dmin;     // per row
  __m512i sc_lo;      // bytes 0..3 of each lane: sc_0..sc_3
  __m512i sc_hi;      // sc_4..sc_7
  __m512i m_pair[4];  // int16 pairs (m_2t, m_2t+1) per lane
};

// pshufb tables (they index within each 128-bit lane; 0x80 writes zero): sc[s] takes byte s of
// each 32-bit lane, zero-extended to 32 bits; pair[t] takes bytes 2t and 2t + 1 as two
// zero-extended int16.
struct ShuffleTables {
  alignas(64) uint8_t sc[4][64];
  alignas(64) uint8_t pair[2][64];
  constexpr ShuffleTables() : sc{}, pair{} {
    for (int i = 0; i < 64; ++i) {
      const int lane = 4 * ((i % 16) / 4), b = i % 4;
      for (int s = 0; s < 4; ++s) sc[s][i] = b == 0 ? static_cast<uint8_t>(lane + s) : 0x80;
      for (int t = 0; t < 2; ++t) {
        pair[t][i] = b == 0   ? static_cast<uint8_t>(lane + 2 * t)
                     : b == 2 ? static_cast<uint8_t>(lane + 2 * t + 1)
                              : 0x80;
      }
    }
  }
};
constexpr ShuffleTables kShuffle{};

struct Consts {
  __m512i nib;          // 0x0f bytes
  __m512i sel_sc[4];    // kShuffle.sc
  __m512i sel_pair[2];  // kShuffle.pair
};

static inline Consts make_consts() {
  Consts k;
  k.nib = _mm512_set1_epi8(0x0f);
  for (int s = 0; s < 4; ++s) k.sel_sc[s] = _mm512_load_si512(kShuffle.sc[s]);
  for (int t = 0; t < 2; ++t) k.sel_pair[t] = _mm512_load_si512(kShuffle.pair[t]);
  return k;
}

// Scales and mins of 16 rows. The 12 packed bytes of a row are the words w0, w1, w2:
//   sc_0..3 = w0 & 0x3f,  sc_4..7 = (w2 & 0x0f) | ((w0 >> 2) & 0x30)
//   m_0..3  = w1 & 0x3f,  m_4..7  = ((w2 >> 4) & 0x0f) | ((w1 >> 2) & 0x30)   (per byte)
static inline void load_group(const uint8_t* g, const Consts& k, GroupBlock* out) {
  out->d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g)));
  out->dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + 32)));
  const __m512i w0 = _mm512_loadu_si512(g + 64);
  const __m512i w1 = _mm512_loadu_si512(g + 128);
  const __m512i w2 = _mm512_loadu_si512(g + 192);
  const __m512i m6 = _mm512_set1_epi8(0x3f);
  const __m512i top = _mm512_set1_epi8(0x30);
  out->sc_lo = _mm512_and_si512(w0, m6);
  out->sc_hi = _mm512_ternarylogic_epi32(_mm512_and_si512(w2, k.nib), _mm512_srli_epi32(w0, 2), top,
                                         0xf8);  // a | (b & c)
  const __m512i m_lo = _mm512_and_si512(w1, m6);
  const __m512i m_hi = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi32(w2, 4), k.nib),
                                                 _mm512_srli_epi32(w1, 2), top, 0xf8);
  out->m_pair[0] = _mm512_shuffle_epi8(m_lo, k.sel_pair[0]);
  out->m_pair[1] = _mm512_shuffle_epi8(m_lo, k.sel_pair[1]);
  out->m_pair[2] = _mm512_shuffle_epi8(m_hi, k.sel_pair[0]);
  out->m_pair[3] = _mm512_shuffle_epi8(m_hi, k.sel_pair[1]);
}

static inline __m512i bcast32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// One group of 16 rows x C columns over nb super-blocks. kCI chunks (sub-block pairs) are in
// flight at once: the gemv (C = 1) takes all four so that eight dpbusd chains hide the
// instruction's latency; the gemm has 2 * C chains per chunk already.
template <int C, int kCI>
static inline void tile(int64_t nb, const uint8_t* g, const uint8_t* a, size_t a_stride, float* y,
                        size_t ldy, const Consts& k) {
  __m512 acc[C];
  for (int j = 0; j < C; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, g += kGroupBlockBytes) {
    if (C == 1) prefetch_x16_block<kGroupBlockBytes>(g);
    GroupBlock gb;
    load_group(g, k, &gb);
    const uint8_t* qs = g + 256;
    const uint8_t* ab[C];
    __m512i isc[C];
    for (int j = 0; j < C; ++j) {
      ab[j] = a + j * a_stride + b * sizeof(BlockQ8K) + 4;  // the column's quants
      isc[j] = _mm512_setzero_si512();
    }
    for (int c0 = 0; c0 < 4; c0 += kCI) {
      __m512i lo_acc[kCI][C], hi_acc[kCI][C];
      for (int cc = 0; cc < kCI; ++cc) {
        for (int j = 0; j < C; ++j) lo_acc[cc][j] = hi_acc[cc][j] = _mm512_setzero_si512();
      }
      for (int i = 0; i < 8; ++i) {
        for (int cc = 0; cc < kCI; ++cc) {
          const int c = c0 + cc;
          // Word 8c + i: elements 64c + 4i.. (low nibbles, sub-block 2c) and 64c + 32 + 4i..
          // (high nibbles, sub-block 2c + 1) of each row.
          const __m512i x = _mm512_loadu_si512(qs + 64 * (8 * c + i));
          const __m512i lo = _mm512_and_si512(x, k.nib);
          const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(x, 4), k.nib);
          for (int j = 0; j < C; ++j) {
            lo_acc[cc][j] = _mm512_dpbusd_epi32(lo_acc[cc][j], lo, bcast32(ab[j] + 64 * c + 4 * i));
            hi_acc[cc][j] =
                _mm512_dpbusd_epi32(hi_acc[cc][j], hi, bcast32(ab[j] + 64 * c + 32 + 4 * i));
          }
        }
      }
      for (int cc = 0; cc < kCI; ++cc) {
        const int c = c0 + cc;
        // Sub-blocks 2c and 2c + 1: bytes (2c) % 4 and (2c + 1) % 4 of sc_lo (c < 2) or sc_hi.
        const __m512i src = c < 2 ? gb.sc_lo : gb.sc_hi;
        const __m512i s_lo = _mm512_shuffle_epi8(src, k.sel_sc[(2 * c) % 4]);
        const __m512i s_hi = _mm512_shuffle_epi8(src, k.sel_sc[(2 * c + 1) % 4]);
        for (int j = 0; j < C; ++j) {
          isc[j] = _mm512_add_epi32(isc[j], _mm512_mullo_epi32(lo_acc[cc][j], s_lo));
          isc[j] = _mm512_add_epi32(isc[j], _mm512_mullo_epi32(hi_acc[cc][j], s_hi));
        }
      }
    }
    for (int j = 0; j < C; ++j) {
      // The column's sums per sub-block as int16 pairs: bsums are per 16 elements.
      const uint8_t* blk = ab[j] - 4;
      const __m128i s16a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4 + kSB));
      const __m128i s16b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4 + kSB + 16));
      const __m128i pairs = _mm_hadd_epi16(s16a, s16b);  // bsum_0..bsum_7 (int16)
      __m512i imin = _mm512_setzero_si512();
      imin = _mm512_dpwssd_epi32(imin, gb.m_pair[0], _mm512_broadcastd_epi32(pairs));
      imin = _mm512_dpwssd_epi32(imin, gb.m_pair[1],
                                 _mm512_broadcastd_epi32(_mm_shuffle_epi32(pairs, 0x55)));
      imin = _mm512_dpwssd_epi32(imin, gb.m_pair[2],
                                 _mm512_broadcastd_epi32(_mm_shuffle_epi32(pairs, 0xaa)));
      imin = _mm512_dpwssd_epi32(imin, gb.m_pair[3],
                                 _mm512_broadcastd_epi32(_mm_shuffle_epi32(pairs, 0xff)));
      float da;
      std::memcpy(&da, blk, 4);
      __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(isc[j]), gb.d);
      t = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(imin), gb.dmin, t);
      acc[j] = _mm512_fmadd_ps(t, _mm512_set1_ps(da), acc[j]);
    }
  }
  for (int j = 0; j < C; ++j) _mm512_storeu_ps(y + j * ldy, acc[j]);
}

void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  const Consts k = make_consts();
  const auto* w8 = static_cast<const uint8_t*>(w);
  for (int64_t r = 0; r < nr; r += 16) {
    tile<1, 4>(n / kSB, w8 + r * w_stride, static_cast<const uint8_t*>(a), 0, y + r, 1, k);
  }
}

void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  const Consts k = make_consts();
  const auto* w8 = static_cast<const uint8_t*>(w);
  const auto* a8 = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kSB;
  for (int64_t r = 0; r < nr; r += 16) {
    const uint8_t* g = w8 + r * w_stride;
    int64_t j = 0;
    for (; j + 4 <= nc; j += 4)
      tile<4, 1>(nb, g, a8 + j * a_stride, a_stride, y + j * ldy + r, ldy, k);
    switch (nc - j) {
      case 3:
        tile<3, 1>(nb, g, a8 + j * a_stride, a_stride, y + j * ldy + r, ldy, k);
        break;
      case 2:
        tile<2, 1>(nb, g, a8 + j * a_stride, a_stride, y + j * ldy + r, ldy, k);
        break;
      case 1:
        tile<1, 4>(nb, g, a8 + j * a_stride, a_stride, y + j * ldy + r, ldy, k);
        break;
      default:
        break;
    }
  }
}

}  // namespace

void register_kquant_x16_avx512(KernelTable* t) {
  t->matmul_x16[kTypeQ4K] = {ActType::kQ8_K, gemv, gemm};
  t->repack_x16[kTypeQ4K] = repack_q4k_x16;
}

}  // namespace longctx::cpu
