// AVX-512 (BW + VNNI) Q6_K x Q8_K kernels. Per super-block and weight row, the 256 6-bit values
// are rebuilt once into four 64-byte vectors of unsigned q in 0..63; vpmaddubsw pairs them with
// the signed activation bytes and vpdpwssd applies the sub-block scales (16-bit lanes) while
// accumulating in int32, so the whole block sum is exact; the q - 32 offset is applied through
// the activation's bsums. Built with AVX-512 flags: internal linkage only (cpu_kernels.h).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/vec_avx512_inl.h"
#include "quant/blocks.h"

namespace longctx::cpu {
namespace {

// Byte offsets inside BlockQ6_K (210 bytes) and BlockQ8K (292 bytes).
constexpr size_t kWBytes = sizeof(BlockQ6_K);
constexpr size_t kWQh = 128, kWScales = 192, kWD = 208;
constexpr size_t kABytes = sizeof(BlockQ8K);
constexpr size_t kAQs = 4, kABsums = 260;
// (The full-mask maskz forms below avoid the intrinsics built on _mm512_undefined_*, which GCC
// 12 reports as uninitialized under -Wall.)

// One weight super-block, ready for the dot products.
struct Unpacked {
  __m512i q[4];   // q[j] = elements 64j .. 64j + 63 as unsigned bytes 0..63
  __m512i sc[4];  // sub-block scales of q[j] as int16, one 128-bit lane (8 pairs) per sub-block
  __m512i scm;    // -32 * scales[s] in int16 lanes 0..15, zero above: the offset term via bsums
  float d;
};

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

// Rebuilds the 6-bit values of one block. In half h (elements 128h..128h+127), the 64 bytes of
// ql hold elements 128h + t (low nibble) and 128h + 64 + t (high nibble), and qh[32h + l] holds
// the top bits of element 128h + 32k + l at bits 2k..2k+1. With qh broadcast to both 256-bit
// halves, shifting the low half left by 4 and the high half by 2 (16-bit lanes, masked with 0x30
// so bits crossing bytes drop out) lines up k = 0, 1 with the low nibbles; shifting right by 0
// and 2 lines up k = 2, 3 with the high nibbles.
static inline void unpack(const uint8_t* b, Unpacked* u) {
  const __m512i m0f = _mm512_set1_epi8(0x0f);
  const __m512i m30 = _mm512_set1_epi8(0x30);
  const long long c4 = 0x0004000400040004LL, c2 = 0x0002000200020002LL;
  const __m512i shl = _mm512_set_epi64(c2, c2, c2, c2, c4, c4, c4, c4);
  const __m512i shr = _mm512_set_epi64(c2, c2, c2, c2, 0, 0, 0, 0);
  for (int h = 0; h < 2; ++h) {
    const __m512i ql = _mm512_loadu_si512(b + 64 * h);
    const __m512i qh = _mm512_maskz_broadcast_i64x4(
        0xff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + kWQh + 32 * h)));
    const __m512i lo = _mm512_and_si512(ql, m0f);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(ql, 4), m0f);
    // 0xF8 = A | (B & C).
    u->q[2 * h] = _mm512_ternarylogic_epi32(lo, _mm512_sllv_epi16(qh, shl), m30, 0xF8);
    u->q[2 * h + 1] = _mm512_ternarylogic_epi32(hi, _mm512_srlv_epi16(qh, shr), m30, 0xF8);
  }
  // The 16 scales as int16 in lanes 0..15, zeros above (a 16-byte masked load).
  const __m512i scz = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(0xffff, b + kWScales));
  // 16-bit lane i of q[j]'s scale vector takes scale 4j + i / 8 (vpermw reads lanes 0..15 only).
  const long long i1 = 0x0001000100010001LL;
  const __m512i base = _mm512_set_epi64(3 * i1, 3 * i1, 2 * i1, 2 * i1, i1, i1, 0, 0);
  for (int j = 0; j < 4; ++j) {
    u->sc[j] = _mm512_permutexvar_epi16(_mm512_add_epi16(base, _mm512_set1_epi16(4 * j)), scz);
  }
  u->scm = _mm512_sub_epi16(_mm512_setzero_si512(), _mm512_slli_epi16(scz, 5));
  u->d = load_f16(b + kWD);
}

// Exact int32 dot of an unpacked weight block with the activation block at a, in 16 lanes.
static inline __m512i block_dot(const Unpacked& u, const uint8_t* a) {
  const __m512i bs = _mm512_maskz_loadu_epi16(0xffff, a + kABsums);  // 16 bsums, zeros above
  __m512i acc = _mm512_dpwssd_epi32(_mm512_setzero_si512(), bs, u.scm);
  for (int j = 0; j < 4; ++j) {
    const __m512i p = _mm512_maddubs_epi16(u.q[j], _mm512_loadu_si512(a + kAQs + 64 * j));
    acc = _mm512_dpwssd_epi32(acc, p, u.sc[j]);
  }
  return acc;
}

// R weight rows x C activation columns over nb blocks: each weight block is unpacked once and
// used for all C columns; the float accumulators stay in registers (R * C <= 16).
template <int R, int C>
void tile(int64_t nb, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
          size_t ldy) {
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i) {
    float da[C];
    for (int c = 0; c < C; ++c) da[c] = load_f32(a + c * as + i * kABytes);
    for (int r = 0; r < R; ++r) {
      Unpacked u;
      unpack(w + r * ws + i * kWBytes, &u);
      for (int c = 0; c < C; ++c) {
        const __m512i s = block_dot(u, a + c * as + i * kABytes);
        acc[r][c] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xffff, s),
                                    _mm512_set1_ps(u.d * da[c]), acc[r][c]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) y[c * ldy + r] = F32x16::hsum(acc[r][c]);
  }
}

using TileFn = void (*)(int64_t, const uint8_t*, size_t, const uint8_t*, size_t, float*, size_t);

// Measured on Zen 4 (4096 x 4096 x 64): one weight row per tile with 8 columns beats 2..4 rows
// (more rows interleave more weight streams and, on AVX2, spill registers).
constexpr int kTileR = 1, kTileC = 8;
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

void register_q6k_avx512(KernelTable* t) { t->matmul[14] = {ActType::kQ8_K, gemv, gemm}; }

}  // namespace longctx::cpu
