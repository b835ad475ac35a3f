// AVX-512 attention tile kernel for many query rows (prefill), with the rows as vector lanes.
// Q is transposed once per job to Qt[head][d][row]; then one vector holds one key's scores for 16
// rows, S^T[j][rows] = sum_d K[j][d] Qt[d][rows], a rank-1 update per d with K[j][d] broadcast:
// no horizontal sums, and 4 keys x 4 row vectors of accumulators read 8 values per 16 FMAs
// (the few-rows kernel reads 6 per 8). The online softmax (masked max, exp2, running sum,
// rescale factor) then runs across 16 rows per instruction, and O += P V keeps 6 rows x 64 dims of
// accumulators with P broadcast from the transposed score tile. f16 / bf16 K and V are widened to
// f32 once per tile for all rows.
// GCC 12 flags its own AVX-512 intrinsic headers with false -Wmaybe-uninitialized warnings
// (GCC bug 105593); the pragma must precede the include.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/attention_avx512_inl.h"
#include "kernels/cpu/attention_kernels.h"

namespace longctx::cpu {
namespace {

constexpr int kMixRows = 6;                   // rows per pass of the P V micro-kernel
constexpr int64_t kWTile = kAttnWideKeyTile;  // keys per tile

// st[j * rp + 16 i + lane] = sum_d kf[j * hd + d] * qt[d * rp + 16 i + lane] for j < KJ, i < RV.
template <int KJ, int RV>
static inline void scores_block(const float* qt, int64_t rp, const float* kf, int64_t hd,
                                float* st) {
  __m512 acc[KJ][RV];
#pragma GCC unroll 8
  for (int j = 0; j < KJ; ++j) {
#pragma GCC unroll 8
    for (int i = 0; i < RV; ++i) acc[j][i] = _mm512_setzero_ps();
  }
  for (int64_t d = 0; d < hd; ++d) {
    __m512 qv[RV];
#pragma GCC unroll 8
    for (int i = 0; i < RV; ++i) qv[i] = _mm512_loadu_ps(qt + d * rp + 16 * i);
#pragma GCC unroll 8
    for (int j = 0; j < KJ; ++j) {
      const __m512 kb = _mm512_set1_ps(kf[j * hd + d]);
#pragma GCC unroll 8
      for (int i = 0; i < RV; ++i) acc[j][i] = _mm512_fmadd_ps(kb, qv[i], acc[j][i]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < KJ; ++j) {
#pragma GCC unroll 8
    for (int i = 0; i < RV; ++i) _mm512_storeu_ps(st + j * rp + 16 * i, acc[j][i]);
  }
}

template <int KJ>
static void scores_keys(const float* qt, int64_t rp, int64_t v0, int64_t nv, const float* kf,
                        int64_t hd, float* st) {
  int64_t v = v0;
  for (; v + 4 <= nv; v += 4) scores_block<KJ, 4>(qt + 16 * v, rp, kf, hd, st + 16 * v);
  switch (nv - v) {
    case 3:
      scores_block<KJ, 3>(qt + 16 * v, rp, kf, hd, st + 16 * v);
      break;
    case 2:
      scores_block<KJ, 2>(qt + 16 * v, rp, kf, hd, st + 16 * v);
      break;
    case 1:
      scores_block<KJ, 1>(qt + 16 * v, rp, kf, hd, st + 16 * v);
      break;
    default:
      break;
  }
}

// Scores of keys [0, nkp) (nkp even, K rows past the tile zero) for row vectors [v0, nv): passes
// of 6 keys (24 accumulators), then 4, then 2.
static void scores_tile(const float* qt, int64_t rp, int64_t v0, int64_t nv, const float* kf,
                        int64_t hd, int64_t nkp, float* st) {
  int64_t j = 0;
  for (; j + 6 <= nkp; j += 6) scores_keys<6>(qt, rp, v0, nv, kf + j * hd, hd, st + j * rp);
  if (j + 4 <= nkp) {
    scores_keys<4>(qt, rp, v0, nv, kf + j * hd, hd, st + j * rp);
    j += 4;
  }
  if (j < nkp) scores_keys<2>(qt, rp, v0, nv, kf + j * hd, hd, st + j * rp);
}

// o[r][c0 + :16 DV] = alpha[r] o[r][..] + sum_j pt[j * rp + r] vf[j * hd + c0 + ..] for R rows
// starting at r (o rows hd apart, already offset to row r and column c0).
template <int R, int DV>
static inline void mix_block(const float* pt, int64_t rp, const float* alpha, const float* vf,
                             int64_t hd, int64_t nk, float* o) {
  __m512 acc[R][DV];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    const __m512 a = _mm512_set1_ps(alpha[i]);
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) acc[i][c] = _mm512_mul_ps(a, _mm512_loadu_ps(o + i * hd + 16 * c));
  }
  for (int64_t j = 0; j < nk; ++j) {
    __m512 vv[DV];
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) vv[c] = _mm512_loadu_ps(vf + j * hd + 16 * c);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m512 p = _mm512_set1_ps(pt[j * rp + i]);
#pragma GCC unroll 8
      for (int c = 0; c < DV; ++c) acc[i][c] = _mm512_fmadd_ps(p, vv[c], acc[i][c]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) _mm512_storeu_ps(o + i * hd + 16 * c, acc[i][c]);
  }
}

template <int DV>
static void mix_rows(int64_t n, const float* pt, int64_t rp, const float* alpha, const float* vf,
                     int64_t hd, int64_t nk, float* o) {
  switch (n) {
    case 6:
      mix_block<6, DV>(pt, rp, alpha, vf, hd, nk, o);
      break;
    case 5:
      mix_block<5, DV>(pt, rp, alpha, vf, hd, nk, o);
      break;
    case 4:
      mix_block<4, DV>(pt, rp, alpha, vf, hd, nk, o);
      break;
    case 3:
      mix_block<3, DV>(pt, rp, alpha, vf, hd, nk, o);
      break;
    case 2:
      mix_block<2, DV>(pt, rp, alpha, vf, hd, nk, o);
      break;
    case 1:
      mix_block<1, DV>(pt, rp, alpha, vf, hd, nk, o);
      break;
    default:
      break;
  }
}

// acc[r][:] = alpha[r] acc[r][:] + sum_j p[j][r] v_j for rows [r0, nr).
static void mix_tile(const float* pt, int64_t rp, const float* alpha, const float* vf, int64_t hd,
                     int64_t nk, int64_t r0, int64_t nr, float* acc) {
  for (int64_t r = r0; r < nr; r += kMixRows) {
    const int64_t n = nr - r < kMixRows ? nr - r : kMixRows;
    int64_t c = 0;
    for (; c + 64 <= hd; c += 64)
      mix_rows<4>(n, pt + r, rp, alpha + r, vf + c, hd, nk, acc + r * hd + c);
    for (; c < hd; c += 16) mix_rows<1>(n, pt + r, rp, alpha + r, vf + c, hd, nk, acc + r * hd + c);
  }
}

// Online-softmax update of row vectors [v0, nv) for a tile of nk keys starting at jt: scores
// st[j * rp + row] become weights 2^(s - m_new) (0 where a key is past the row's causal limit
// lim[row]; rows past n_rows have limit -1), alpha[row] = 2^(m_old - m_new) is the factor the
// row's acc needs, and m, l (n_rows floats) are updated.
static void softmax_tile(int64_t n_rows, int64_t rp, int64_t v0, int64_t nv, int64_t jt, int64_t nk,
                         const int32_t* lim, float* m, float* l, float* st, float* alpha) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  for (int64_t v = v0; v < nv; ++v) {
    const int64_t left = n_rows - 16 * v;
    const __mmask16 rm = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
    const __m512i limv = _mm512_loadu_si512(lim + 16 * v);
    const __m512 m_old = _mm512_mask_loadu_ps(ninf, rm, m + 16 * v);
    __m512 mx = ninf;
    for (int64_t j = 0; j < nk; ++j) {
      const __mmask16 vis = _mm512_cmple_epi32_mask(_mm512_set1_epi32(int32_t(jt + j)), limv);
      mx = _mm512_mask_max_ps(mx, vis, mx, _mm512_loadu_ps(st + j * rp + 16 * v));
    }
    const __m512 m_new = _mm512_max_ps(m_old, mx);
    // Rows that have seen no key yet keep m = -inf; 0 stands in for it in the subtractions.
    const __m512 m_use =
        _mm512_mask_mov_ps(m_new, _mm512_cmp_ps_mask(m_new, ninf, _CMP_EQ_OQ), _mm512_setzero_ps());
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j = 0; j < nk; ++j) {
      const __mmask16 vis = _mm512_cmple_epi32_mask(_mm512_set1_epi32(int32_t(jt + j)), limv);
      float* sj = st + j * rp + 16 * v;
      const __m512 p = _mm512_maskz_mov_ps(vis, exp2v(_mm512_sub_ps(_mm512_loadu_ps(sj), m_use)));
      _mm512_storeu_ps(sj, p);
      sum = _mm512_add_ps(sum, p);
    }
    const __m512 a = exp2v(_mm512_sub_ps(m_old, m_use));  // 0 while m_old = -inf
    const __m512 l_new = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(rm, l + 16 * v), a, sum);
    _mm512_storeu_ps(alpha + 16 * v, a);
    _mm512_mask_storeu_ps(m + 16 * v, rm, m_new);
    _mm512_mask_storeu_ps(l + 16 * v, rm, l_new);
  }
}

template <class L>
static void run_rows(const AttnTileJob& jb) {
  const int64_t hd = jb.head_dim, nr = jb.n_rows, nh = jb.n_heads;
  const int64_t rp = (nr + 15) / 16 * 16, nv = rp / 16;
  // Scratch, cache-line aligned: Qt of every head, K and V tiles in f32, the score tile, the
  // rescale factors, the causal limits.
  float* qt =
      reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(jb.work) + 63) & ~uintptr_t(63));
  float* kf = qt + nh * hd * rp;
  float* vf = kf + kWTile * hd;
  float* st = vf + kWTile * hd;
  float* alpha = st + kWTile * rp;
  auto* lim = reinterpret_cast<int32_t*>(alpha + rp);
  for (int64_t h = 0; h < nh; ++h) {
    float* dst = qt + h * hd * rp;
    const float* src = jb.q + h * nr * hd;
    for (int64_t d = 0; d < hd; ++d) {
      for (int64_t r = 0; r < nr; ++r) dst[d * rp + r] = src[r * hd + d];
      for (int64_t r = nr; r < rp; ++r) dst[d * rp + r] = 0.0f;
    }
  }
  for (int64_t r = 0; r < rp; ++r) lim[r] = r < nr ? int32_t(jb.pos0 + r / jb.group) : -1;

  // Heads outer, tiles inner: a head's working set (its Qt and acc, 2 x rows x head_dim floats,
  // plus the f32 tiles) stays in L2 while its keys stream past. Converting a tile's K and V rows
  // also prefetches the head's rows of the next tile (they are kv_stride apart, which the
  // hardware prefetchers do not follow).
  const int64_t tok = jb.kv_stride * L::kBytes;  // bytes per token (all kv heads)
  const int64_t row_bytes = hd * L::kBytes;
  for (int64_t h = 0; h < nh; ++h) {
    const uint8_t* kh = static_cast<const uint8_t*>(jb.k) + h * row_bytes;
    const uint8_t* vh = static_cast<const uint8_t*>(jb.v) + h * row_bytes;
    for (int64_t jt = jb.j0; jt < jb.j1; jt += kWTile) {
      const int64_t nk = jb.j1 - jt < kWTile ? jb.j1 - jt : kWTile;
      const int64_t nkp = (nk + 1) / 2 * 2;
      const int64_t r0 = first_live_row(jb, jt);
      if (r0 >= nr) break;
      const int64_t v0 = r0 / 16;
      const int64_t n_next = jb.j1 - (jt + kWTile);
      widen_ahead<L>(kh + jt * tok, jb.kv_stride, nk, hd, kf, kWTile, n_next);
      for (int64_t x = nk * hd; x < nkp * hd; ++x) kf[x] = 0.0f;
      scores_tile(qt + h * hd * rp, rp, v0, nv, kf, hd, nkp, st);
      softmax_tile(nr, rp, v0, nv, jt, nk, lim, jb.m + h * nr, jb.l + h * nr, st, alpha);
      widen_ahead<L>(vh + jt * tok, jb.kv_stride, nk, hd, vf, kWTile, n_next);
      mix_tile(st, rp, alpha, vf, hd, nk, r0, nr, jb.acc + h * nr * hd);
    }
  }
}

}  // namespace

void attention_rows_avx512(const AttnTileJob& job) {
  if (job.kv_type == 1) {
    run_rows<LoadF16>(job);
  } else if (job.kv_type == 2) {
    run_rows<LoadBF16>(job);
  } else {
    run_rows<LoadF32>(job);
  }
}

}  // namespace longctx::cpu
