// AVX-512 VNNI kernels for Q8_0 in the interleaved x16 layout (x16_repack.cpp) x Q8_0
// activations. Compiled with -mavx512*: everything but register_legacy_x16_avx512 has internal
// linkage and only intrinsics are called (see the build rule in cpu_kernels.h).
//
// Every int32 lane belongs to one of the 16 rows of a group. dpbusd multiplies unsigned by signed
// bytes, so the activation's 4 bytes are broadcast with 128 added (a xor 0x80 is a + 128 as an
// unsigned byte, exact for every int8 a) against the signed weights, and per block
//   sum_l w_l a_l = sum_l w_l (a_l + 128) - 128 sum_l w_l
// where sum_l w_l comes from dpbusd with a vector of ones, once per group block for all columns.
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

// The 4 activation bytes at p, + 128 each, in every lane. Broadcast from memory and flipped in
// the vector unit: a broadcast from a general register (what set1 of the xor-ed word compiles
// to) goes through the one port that moves data between the register files, and that left the
// 4-column tile compute-bound at up to twice the time of a streamed gemv (ops_harness --cols 4).
static inline __m512i bcast_act(const uint8_t* p, __m512i flip) {
  return _mm512_xor_si512(_mm512_broadcastd_epi32(_mm_loadu_si32(p)), flip);
}

static inline float act_scale(const uint8_t* blk) {
  uint16_t h;
  std::memcpy(&h, blk, 2);
  return _cvtsh_ss(h);
}

// Where a tile gets each block's 128 * sum_l w_l: computing it (8 dpbusd per block), computing
// and storing it for the group's later tiles, or loading what the first tile stored. A gemm of
// many columns passes over each group nc / 4 times; the stored sums save a fifth of its dpbusd.
enum WeightSums { kComputeSums, kStoreSums, kLoadSums };
constexpr int64_t kMaxSumBlocks = 512;  // rows of up to 16,384 elements

// One group of 16 rows x C columns over nb blocks (two dpbusd chains per column). kFetch: this
// pass is the first over the group's blocks, so it streams them from memory and fetches ahead
// (the gemv, and the first column tile of a gemm; a batch of a few decode rows is bandwidth-bound
// just as one row is). sums: nb x 16 int32 (kStoreSums / kLoadSums).
template <int C, bool kFetch = (C == 1), int kSums = kComputeSums>
static inline void tile(int64_t nb, const uint8_t* g, const uint8_t* a, size_t a_stride, float* y,
                        size_t ldy, int32_t* sums = nullptr) {
  const __m512i ones = _mm512_set1_epi8(1);
  const __m512i flip = _mm512_set1_epi32(static_cast<int32_t>(0x80808080u));
  __m512 acc[C];
  for (int j = 0; j < C; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, g += kGroupBlockBytes) {
    if (kFetch) prefetch_x16_block<kGroupBlockBytes>(g);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g)));
    __m512i w[8];
    __m512i corr;  // 128 sum w, per row
    if (kSums == kLoadSums) {
      for (int k = 0; k < 8; ++k) w[k] = _mm512_loadu_si512(g + 32 + 64 * k);
      corr = _mm512_loadu_si512(sums + 16 * b);
    } else {
      __m512i sw0 = _mm512_setzero_si512(), sw1 = _mm512_setzero_si512();
      for (int k = 0; k < 8; k += 2) {
        w[k] = _mm512_loadu_si512(g + 32 + 64 * k);
        w[k + 1] = _mm512_loadu_si512(g + 32 + 64 * (k + 1));
        sw0 = _mm512_dpbusd_epi32(sw0, ones, w[k]);
        sw1 = _mm512_dpbusd_epi32(sw1, ones, w[k + 1]);
      }
      corr = _mm512_slli_epi32(_mm512_add_epi32(sw0, sw1), 7);
      if (kSums == kStoreSums) _mm512_storeu_si512(sums + 16 * b, corr);
    }
    for (int j = 0; j < C; ++j) {
      const uint8_t* ab = a + j * a_stride + b * kActBlockBytes;
      __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
      for (int k = 0; k < 8; k += 2) {
        s0 = _mm512_dpbusd_epi32(s0, bcast_act(ab + 2 + 4 * k, flip), w[k]);
        s1 = _mm512_dpbusd_epi32(s1, bcast_act(ab + 2 + 4 * (k + 1), flip), w[k + 1]);
      }
      const __m512i isum = _mm512_sub_epi32(_mm512_add_epi32(s0, s1), corr);
      const __m512 dd = _mm512_mul_ps(d, _mm512_set1_ps(act_scale(ab)));
      acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dd, acc[j]);
    }
  }
  for (int j = 0; j < C; ++j) _mm512_storeu_ps(y + j * ldy, acc[j]);
}

void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  const auto* w8 = static_cast<const uint8_t*>(w);
  for (int64_t r = 0; r < nr; r += 16) {
    tile<1>(n / kBlock, w8 + r * w_stride, static_cast<const uint8_t*>(a), 0, y + r, 1);
  }
}

void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  const auto* w8 = static_cast<const uint8_t*>(w);
  const auto* a8 = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kBlock;
  // The group's weight sums on the stack (32 KiB; no std::vector in a per-ISA object, see the
  // build rule): rows of up to kMaxSumBlocks blocks store them, longer ones recompute.
  alignas(64) int32_t sums[16 * kMaxSumBlocks];
  const bool store = nc > 4 && nb <= kMaxSumBlocks;
  for (int64_t r = 0; r < nr; r += 16) {
    const uint8_t* g = w8 + r * w_stride;
    float* yr = y + r;
    int64_t j = 0;
    if (store) {
      // Several passes over the group: the first stores the weight sums the others load.
      tile<4, true, kStoreSums>(nb, g, a8, a_stride, yr, ldy, sums);
      for (j = 4; j + 4 <= nc; j += 4) {
        tile<4, false, kLoadSums>(nb, g, a8 + j * a_stride, a_stride, yr + j * ldy, ldy, sums);
      }
    } else if (nc >= 4) {
      tile<4, true>(nb, g, a8, a_stride, yr, ldy);
      for (j = 4; j + 4 <= nc; j += 4) {
        tile<4, false>(nb, g, a8 + j * a_stride, a_stride, yr + j * ldy, ldy);
      }
    }
    const uint8_t* aj = a8 + j * a_stride;
    const bool first = j == 0;  // the remainder is the group's only pass
    switch (nc - j) {
      case 3:
        first   ? tile<3, true>(nb, g, aj, a_stride, yr + j * ldy, ldy)
        : store ? tile<3, false, kLoadSums>(nb, g, aj, a_stride, yr + j * ldy, ldy, sums)
                : tile<3, false>(nb, g, aj, a_stride, yr + j * ldy, ldy);
        break;
      case 2:
        first   ? tile<2, true>(nb, g, aj, a_stride, yr + j * ldy, ldy)
        : store ? tile<2, false, kLoadSums>(nb, g, aj, a_stride, yr + j * ldy, ldy, sums)
                : tile<2, false>(nb, g, aj, a_stride, yr + j * ldy, ldy);
        break;
      case 1:
        first   ? tile<1, true>(nb, g, aj, a_stride, yr + j * ldy, ldy)
        : store ? tile<1, false, kLoadSums>(nb, g, aj, a_stride, yr + j * ldy, ldy, sums)
                : tile<1, false>(nb, g, aj, a_stride, yr + j * ldy, ldy);
        break;
      default:
        break;
    }
  }
}

}  // namespace

void register_legacy_x16_avx512(KernelTable* t) {
  t->matmul_x16[kTypeQ8_0] = {ActType::kQ8_0, gemv, gemm};
  t->repack_x16[kTypeQ8_0] = repack_q8_0_x16;
}

}  // namespace longctx::cpu
