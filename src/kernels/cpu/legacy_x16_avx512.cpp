// AVX-512 VNNI kernels for Q8_0 in the interleaved x16 layout (x16_repack.cpp) x Q8_0
// activations. Compiled with -mavx512*: everything but register_legacy_x16_avx512 has internal
// linkage and only intrinsics are called (see the build rule in cpu_kernels.h).
//
// Every int32 lane belongs to one of the 16 rows of a group. dpbusd multiplies unsigned by signed
// bytes; the layout stores every weight with 128 added (its sign bit flipped: w + 128 as an
// unsigned byte, exact for every int8 w), so the signed activation bytes go in as they are,
// broadcast straight from memory into the instruction, and per block
//   sum_l w_l a_l = sum_l (w_l + 128) a_l - 128 sum_l a_l.
// The correction depends on the activation block alone: it is computed once per call for every
// column and block, with the block's scale as a float (ActInfo), not once per group of rows.
// Both sums are exact in int32; then y += (d_w d_a) * isum in float, as the row kernels do.
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

constexpr int kTypeQ8_0 = 8;              // GGUF type id (quant/types.h)
constexpr size_t kGroupBlockBytes = 544;  // one block of 16 rows
constexpr size_t kActBlockBytes = 34;     // Q8_0 activation block: fp16 d, 32 int8
constexpr int kBlock = 32;

// What the tiles need of an activation block: 128 * (sum of its 32 quants), and its scale.
struct ActInfo {
  int32_t corr;
  float d;
};
// ActInfo entries a call keeps on its stack (128 KiB; the pool's and the scheduler's threads
// have the default 8 MiB stacks): 32 columns (the backend's column block) of rows up to 16,384
// elements; more goes in pieces.
constexpr int64_t kMaxInfo = 16384;

// Not std::min / std::max: no inline library templates in a per-ISA object (the build rule).
static inline int64_t lesser(int64_t a, int64_t b) { return a < b ? a : b; }

static inline ActInfo act_info(const uint8_t* blk) {
  uint16_t h;
  std::memcpy(&h, blk, 2);
  // maddubs(1, q): pairs of signed bytes as int16; madd(., 1): groups of 4 as int32.
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
  const __m256i s32 =
      _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
  __m128i x = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4E));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xB1));
  return ActInfo{128 * _mm_cvtsi128_si32(x), _cvtsh_ss(h)};
}

// info[j * nb + b] for columns [0, nc) and blocks [b0, b0 + nb) of the activations at a.
static inline void fill_info(const uint8_t* a, size_t a_stride, int64_t nc, int64_t b0, int64_t nb,
                             ActInfo* info) {
  for (int64_t j = 0; j < nc; ++j) {
    const uint8_t* aj = a + j * a_stride + b0 * kActBlockBytes;
    for (int64_t b = 0; b < nb; ++b) info[j * nb + b] = act_info(aj + b * kActBlockBytes);
  }
}

// The 4 activation bytes at p in every lane (the compiler folds it into dpbusd's broadcast
// operand).
static inline __m512i bcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// One group of 16 rows x C columns over nb blocks (two dpbusd chains per column), starting at
// group block g and activation block a (column j at a + j * a_stride), with the columns' ActInfo
// at info + j * info_stride. kFetch: this pass is the first over the group's blocks, so it
// streams them from memory and fetches ahead (the gemv, and the first column tile of a gemm; a
// batch of a few decode rows is bandwidth-bound just as one row is). add: y += instead of y =.
template <int C, bool kFetch = (C == 1)>
static inline void tile(int64_t nb, const uint8_t* g, const uint8_t* a, size_t a_stride,
                        const ActInfo* info, int64_t info_stride, bool add, float* y, size_t ldy) {
  __m512 acc[C];
  for (int j = 0; j < C; ++j) acc[j] = add ? _mm512_loadu_ps(y + j * ldy) : _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, g += kGroupBlockBytes) {
    if (kFetch) prefetch_x16_block<kGroupBlockBytes>(g);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g)));
    __m512i w[8];
    for (int k = 0; k < 8; ++k) w[k] = _mm512_loadu_si512(g + 32 + 64 * k);
    for (int j = 0; j < C; ++j) {
      const uint8_t* ab = a + j * a_stride + b * kActBlockBytes + 2;
      __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
      for (int k = 0; k < 8; k += 2) {
        s0 = _mm512_dpbusd_epi32(s0, w[k], bcast4(ab + 4 * k));
        s1 = _mm512_dpbusd_epi32(s1, w[k + 1], bcast4(ab + 4 * (k + 1)));
      }
      const ActInfo& ai = info[j * info_stride + b];
      const __m512i isum = _mm512_sub_epi32(_mm512_add_epi32(s0, s1), _mm512_set1_epi32(ai.corr));
      acc[j] =
          _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(d, _mm512_set1_ps(ai.d)), acc[j]);
    }
  }
  for (int j = 0; j < C; ++j) _mm512_storeu_ps(y + j * ldy, acc[j]);
}

void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  const auto* w8 = static_cast<const uint8_t*>(w);
  const auto* a8 = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kBlock;
  if (nb <= 0) {
    for (int64_t r = 0; r < nr; ++r) y[r] = 0.0f;
    return;
  }
  ActInfo info[kMaxInfo];
  // Rows of more than kMaxInfo blocks (none of a real model) go in pieces along the row.
  for (int64_t b0 = 0; b0 < nb; b0 += kMaxInfo) {
    const int64_t kb = lesser(kMaxInfo, nb - b0);
    fill_info(a8, 0, 1, b0, kb, info);
    for (int64_t r = 0; r < nr; r += 16) {
      tile<1>(kb, w8 + r * w_stride + b0 * kGroupBlockBytes, a8 + b0 * kActBlockBytes, 0, info, kb,
              b0 > 0, y + r, 1);
    }
  }
}

// Columns [c0, c0 + nc) over blocks [b0, b0 + kb) of every group, info filled for them.
void gemm_piece(int64_t kb, const uint8_t* w8, size_t w_stride, int64_t nr, const uint8_t* a8,
                size_t a_stride, int64_t nc, const ActInfo* info, bool add, float* y, size_t ldy) {
  for (int64_t r = 0; r < nr; r += 16) {
    const uint8_t* g = w8 + r * w_stride;
    float* yr = y + r;
    int64_t j = 0;
    for (; j + 4 <= nc; j += 4) {
      const uint8_t* aj = a8 + j * a_stride;
      j == 0 ? tile<4, true>(kb, g, aj, a_stride, info, kb, add, yr, ldy)
             : tile<4, false>(kb, g, aj, a_stride, info + j * kb, kb, add, yr + j * ldy, ldy);
    }
    const uint8_t* aj = a8 + j * a_stride;
    const ActInfo* ij = info + j * kb;
    float* yj = yr + j * ldy;
    const bool first = j == 0;  // the remainder is the group's only pass
    switch (nc - j) {
      case 3:
        first ? tile<3, true>(kb, g, aj, a_stride, ij, kb, add, yj, ldy)
              : tile<3, false>(kb, g, aj, a_stride, ij, kb, add, yj, ldy);
        break;
      case 2:
        first ? tile<2, true>(kb, g, aj, a_stride, ij, kb, add, yj, ldy)
              : tile<2, false>(kb, g, aj, a_stride, ij, kb, add, yj, ldy);
        break;
      case 1:
        first ? tile<1, true>(kb, g, aj, a_stride, ij, kb, add, yj, ldy)
              : tile<1, false>(kb, g, aj, a_stride, ij, kb, add, yj, ldy);
        break;
      default:
        break;
    }
  }
}

void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  const auto* w8 = static_cast<const uint8_t*>(w);
  const auto* a8 = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kBlock;
  if (nb <= 0) {
    for (int64_t j = 0; j < nc; ++j) {
      for (int64_t r = 0; r < nr; ++r) y[j * ldy + r] = 0.0f;
    }
    return;
  }
  ActInfo info[kMaxInfo];
  // The ActInfo of as many columns as fit (the backend passes at most 32), each over as many
  // blocks as fit; the weights of a group stay hot in L1/L2 across its column tiles.
  const int64_t kb_max = lesser(nb, kMaxInfo);
  // Whole 4-column tiles per piece where more than 4 fit (no ragged 1- and 3-column tiles).
  const int64_t fit = kMaxInfo / kb_max;
  const int64_t cols = fit > 4 ? fit / 4 * 4 : fit;
  for (int64_t c0 = 0; c0 < nc; c0 += cols) {
    const int64_t cn = lesser(cols, nc - c0);
    for (int64_t b0 = 0; b0 < nb; b0 += kb_max) {
      const int64_t kb = lesser(kb_max, nb - b0);
      const uint8_t* ac = a8 + c0 * a_stride + b0 * kActBlockBytes;
      fill_info(ac, a_stride, cn, 0, kb, info);
      gemm_piece(kb, w8 + b0 * kGroupBlockBytes, w_stride, nr, ac, a_stride, cn, info, b0 > 0,
                 y + c0 * ldy, ldy);
    }
  }
}

}  // namespace

void register_legacy_x16_avx512(KernelTable* t) {
  t->matmul_x16[kTypeQ8_0] = {ActType::kQ8_0, gemv, gemm};
  t->repack_x16[kTypeQ8_0] = repack_q8_0_x16;
}

}  // namespace longctx::cpu
