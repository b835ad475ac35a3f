// AVX2 Q6_K x Q8_K kernels. Each 32-element chunk of a weight block is rebuilt into unsigned
// bytes q in 0..63; vpmaddubsw pairs them with the signed activation bytes and vpmaddwd applies
// the two sub-block scales of the chunk, so the block sum is exact in int32; the q - 32 offset
// is applied through the activation's bsums. Built with AVX2 flags: internal linkage only.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/vec_avx2_inl.h"
#include "quant/blocks.h"

namespace longctx::cpu {
namespace {

// Byte offsets inside BlockQ6_K (210 bytes) and BlockQ8K (292 bytes).
constexpr size_t kWBytes = sizeof(BlockQ6_K);
constexpr size_t kWQh = 128, kWScales = 192, kWD = 208;
constexpr size_t kABytes = sizeof(BlockQ8K);
constexpr size_t kAQs = 4, kABsums = 260;

static inline float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

static inline float load_f32(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

static inline __m256i loadu(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Chunk j (elements 32j .. 32j + 31, h = j / 4, k = j % 4) of a block: the nibble k / 2 of
// ql[64h + 32 (k % 2) + l] plus bits 2k..2k+1 of qh[32h + l] moved to bits 4..5 (16-bit shifts;
// the 0x30 mask drops whatever crosses a byte boundary).
template <int J>
static inline __m256i chunk(const uint8_t* b) {
  constexpr int h = J / 4, k = J % 4;
  const __m256i m0f = _mm256_set1_epi8(0x0f);
  const __m256i m30 = _mm256_set1_epi8(0x30);
  const __m256i ql = loadu(b + 64 * h + 32 * (k % 2));
  const __m256i qh = loadu(b + kWQh + 32 * h);
  const __m256i lo =
      k < 2 ? _mm256_and_si256(ql, m0f) : _mm256_and_si256(_mm256_srli_epi16(ql, 4), m0f);
  const __m256i hi = k == 0   ? _mm256_slli_epi16(qh, 4)
                     : k == 1 ? _mm256_slli_epi16(qh, 2)
                     : k == 2 ? qh
                              : _mm256_srli_epi16(qh, 2);
  return _mm256_or_si256(lo, _mm256_and_si256(hi, m30));
}

// Scales of chunk j as int16: scale 2j in the low 128-bit lane, 2j + 1 in the high one.
template <int J>
static inline __m256i chunk_scales(__m128i sc8) {
  const __m128i idx =
      _mm_set_epi64x(0x0101010101010101LL * (2 * J + 1), 0x0101010101010101LL * (2 * J));
  return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, idx));
}

// acc[c] += the chunk-J products of one weight block with the C activation blocks.
template <int J, int C>
static inline void chunk_dot(const uint8_t* b, __m128i sc8, const uint8_t* const* a, __m256i* acc) {
  const __m256i q = chunk<J>(b);
  const __m256i s = chunk_scales<J>(sc8);
  for (int c = 0; c < C; ++c) {
    const __m256i p = _mm256_maddubs_epi16(q, loadu(a[c] + kAQs + 32 * J));
    acc[c] = _mm256_add_epi32(acc[c], _mm256_madd_epi16(p, s));
  }
}

// R weight rows x C activation columns over nb blocks. Per weight row and block, each chunk is
// rebuilt once and used for all C columns; the int32 sums of the block go to float once.
template <int R, int C>
void tile(int64_t nb, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
          size_t ldy) {
  __m256 facc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) facc[r][c] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* ab[C];
    float da[C];
    for (int c = 0; c < C; ++c) {
      ab[c] = a + c * as + i * kABytes;
      da[c] = load_f32(ab[c]);
    }
    for (int r = 0; r < R; ++r) {
      const uint8_t* b = w + r * ws + i * kWBytes;
      const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + kWScales));
      // The offset term: -32 * sum_s scales[s] * bsums[s], via vpmaddwd on the 16 bsums.
      const __m256i scm =
          _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(_mm256_cvtepi8_epi16(sc8), 5));
      __m256i acc[C];
      for (int c = 0; c < C; ++c) acc[c] = _mm256_madd_epi16(loadu(ab[c] + kABsums), scm);
      chunk_dot<0, C>(b, sc8, ab, acc);
      chunk_dot<1, C>(b, sc8, ab, acc);
      chunk_dot<2, C>(b, sc8, ab, acc);
      chunk_dot<3, C>(b, sc8, ab, acc);
      chunk_dot<4, C>(b, sc8, ab, acc);
      chunk_dot<5, C>(b, sc8, ab, acc);
      chunk_dot<6, C>(b, sc8, ab, acc);
      chunk_dot<7, C>(b, sc8, ab, acc);
      const float dw = load_f16(b + kWD);
      for (int c = 0; c < C; ++c) {
        facc[r][c] =
            _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[c]), _mm256_set1_ps(dw * da[c]), facc[r][c]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) y[c * ldy + r] = F32x8::hsum(facc[r][c]);
  }
}

using TileFn = void (*)(int64_t, const uint8_t*, size_t, const uint8_t*, size_t, float*, size_t);

// Measured on Zen 4 (4096 x 4096 x 64): one weight row per tile with 6 columns beats 2..4 rows
// (more rows interleave more weight streams and, on AVX2, spill registers).
constexpr int kTileR = 1, kTileC = 6;
constexpr size_t kPanelBytes = 256 * 1024;

// kTiles.f[r - 1][c - 1] = tile<r, c> for every r <= kTileR, c <= kTileC.
struct TileTable {
  TileFn f[kTileR][kTileC];
  template <int R, int C>
  constexpr void fill() {
    f[R - 1][C - 1] = tile<R, C>;
    if constexpr (C > 1) {
      fill<R, C - 1>();
    } else if constexpr (R > 1) {
      fill<R - 1, kTileC>();
    }
  }
  constexpr TileTable() : f() { fill<kTileR, kTileC>(); }
};
constexpr TileTable kTiles;

// One row per pass: the kernel keeps up with memory on one stream, and interleaving several
// weight rows (3.4 KB apart at n = 4096) measured 2-4x slower out of L3 on Zen 4.
void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  const int64_t nb = n / kQKK;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int64_t r = 0; r < nr; ++r) tile<1, 1>(nb, wb + r * w_stride, w_stride, ab, 0, y + r, 0);
}

void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  const int64_t nb = n / kQKK;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  if (nb == 0) {  // empty rows: every product is 0 (and there is no row size to divide by)
    for (int64_t c = 0; c < nc; ++c) {
      for (int64_t r = 0; r < nr; ++r) y[c * ldy + r] = 0.0f;
    }
    return;
  }
  // Panels of weight rows of about kPanelBytes (L2-resident), each swept once per column tile
  // so that the tile's few activation rows stay cache-hot across the panel's rows instead of
  // all nc activation rows streaming from L2 per weight row (+9% at n = 16384, nc = 64).
  const size_t row_bytes = static_cast<size_t>(nb) * kWBytes;
  const int64_t panel =
      row_bytes >= kPanelBytes ? 1 : static_cast<int64_t>(kPanelBytes / row_bytes);
  for (int64_t r0 = 0; r0 < nr; r0 += panel) {
    const int64_t r1 = nr - r0 < panel ? nr : r0 + panel;
    for (int64_t c = 0; c < nc; c += kTileC) {
      const int64_t cc = nc - c < kTileC ? nc - c : kTileC;
      for (int64_t r = r0; r < r1; r += kTileR) {
        const int64_t rr = r1 - r < kTileR ? r1 - r : kTileR;
        kTiles.f[rr - 1][cc - 1](nb, wb + r * w_stride, w_stride, ab + c * a_stride, a_stride,
                                 y + c * ldy + r, ldy);
      }
    }
  }
}

}  // namespace

void register_q6k_avx2(KernelTable* t) { t->matmul[14] = {ActType::kQ8_K, gemv, gemm}; }

}  // namespace longctx::cpu
