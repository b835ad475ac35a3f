// AVX2 attention tile kernel for many query rows, with the rows as vector lanes: the 8-lane
// counterpart of attention_rows_avx512.cpp (its header comment has the scheme). Q transposed once
// per job to Qt[head][d][row]; S^T[j][rows] built by rank-1 updates with K[j][d] broadcast (6 keys
// x 2 row vectors of accumulators, 15 of the 16 ymm registers); the online softmax runs across 8
// rows per instruction (vector compares stand in for AVX-512 masks); O += P V as 6 rows x 16 dims.
// The AVX-512 path also calls it for decode with 4..15 rows (a GQA group of one query), where
// 8-lane vectors waste fewer lanes than 16-lane ones.
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/attention_avx2_inl.h"
#include "kernels/cpu/attention_kernels.h"

namespace longctx::cpu {
namespace {

constexpr int kMixRows = 4;                   // rows per pass of the P V micro-kernel
constexpr int64_t kWTile = kAttnWideKeyTile;  // keys per tile

// st[j * rp + 8 i + lane] = sum_d kf[j * hd + d] * qt[d * rp + 8 i + lane] for j < KJ, i < RV.
template <int KJ, int RV>
static inline void scores_block(const float* qt, int64_t rp, const float* kf, int64_t hd,
                                float* st) {
  __m256 acc[KJ][RV];
#pragma GCC unroll 8
  for (int j = 0; j < KJ; ++j) {
#pragma GCC unroll 8
    for (int i = 0; i < RV; ++i) acc[j][i] = _mm256_setzero_ps();
  }
  for (int64_t d = 0; d < hd; ++d) {
    __m256 qv[RV];
#pragma GCC unroll 8
    for (int i = 0; i < RV; ++i) qv[i] = _mm256_loadu_ps(qt + d * rp + 8 * i);
#pragma GCC unroll 8
    for (int j = 0; j < KJ; ++j) {
      const __m256 kb = _mm256_broadcast_ss(kf + j * hd + d);
#pragma GCC unroll 8
      for (int i = 0; i < RV; ++i) acc[j][i] = _mm256_fmadd_ps(kb, qv[i], acc[j][i]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < KJ; ++j) {
#pragma GCC unroll 8
    for (int i = 0; i < RV; ++i) _mm256_storeu_ps(st + j * rp + 8 * i, acc[j][i]);
  }
}

template <int KJ>
static void scores_keys(const float* qt, int64_t rp, int64_t v0, int64_t nv, const float* kf,
                        int64_t hd, float* st) {
  int64_t v = v0;
  for (; v + 2 <= nv; v += 2) scores_block<KJ, 2>(qt + 8 * v, rp, kf, hd, st + 8 * v);
  if (v < nv) scores_block<KJ, 1>(qt + 8 * v, rp, kf, hd, st + 8 * v);
}

// Scores of keys [0, nkp) (nkp even, K rows past the tile zero) for row vectors [v0, nv).
static void scores_tile(const float* qt, int64_t rp, int64_t v0, int64_t nv, const float* kf,
                        int64_t hd, int64_t nkp, float* st) {
  int64_t j = 0;
  for (; j + 4 <= nkp; j += 4) scores_keys<4>(qt, rp, v0, nv, kf + j * hd, hd, st + j * rp);
  if (j < nkp) scores_keys<2>(qt, rp, v0, nv, kf + j * hd, hd, st + j * rp);
}

// o[r][c0 + :8 DV] = alpha[r] o[r][..] + sum_j pt[j * rp + r] vf[j * hd + c0 + ..] for R rows.
template <int R, int DV>
static inline void mix_block(const float* pt, int64_t rp, const float* alpha, const float* vf,
                             int64_t hd, int64_t nk, float* o) {
  __m256 acc[R][DV];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    const __m256 a = _mm256_broadcast_ss(alpha + i);
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) acc[i][c] = _mm256_mul_ps(a, _mm256_loadu_ps(o + i * hd + 8 * c));
  }
  for (int64_t j = 0; j < nk; ++j) {
    __m256 vv[DV];
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) vv[c] = _mm256_loadu_ps(vf + j * hd + 8 * c);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m256 p = _mm256_broadcast_ss(pt + j * rp + i);
#pragma GCC unroll 8
      for (int c = 0; c < DV; ++c) acc[i][c] = _mm256_fmadd_ps(p, vv[c], acc[i][c]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) _mm256_storeu_ps(o + i * hd + 8 * c, acc[i][c]);
  }
}

template <int DV>
static void mix_rows(int64_t n, const float* pt, int64_t rp, const float* alpha, const float* vf,
                     int64_t hd, int64_t nk, float* o) {
  switch (n) {
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
    for (; c + 16 <= hd; c += 16) {
      mix_rows<2>(n, pt + r, rp, alpha + r, vf + c, hd, nk, acc + r * hd + c);
    }
    if (c < hd) mix_rows<1>(n, pt + r, rp, alpha + r, vf + c, hd, nk, acc + r * hd + c);
  }
}

// Online-softmax update of row vectors [v0, nv) for a tile of nk keys starting at jt (see
// attention_rows_avx512.cpp): weights in place of the scores, alpha = 2^(m_old - m_new), m and l
// (n_rows floats) updated. Lanes where key j is past the row's limit are zeroed.
static void softmax_tile(int64_t n_rows, int64_t rp, int64_t v0, int64_t nv, int64_t jt, int64_t nk,
                         const int32_t* lim, float* m, float* l, float* st, float* alpha) {
  const __m256 ninf = _mm256_set1_ps(-INFINITY);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t v = v0; v < nv; ++v) {
    // Lanes of rows that exist (maskload / maskstore read the sign bit).
    const __m256i rm = _mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(n_rows - 8 * v)), lane);
    const __m256i limv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lim + 8 * v));
    const __m256 m_old =
        _mm256_blendv_ps(ninf, _mm256_maskload_ps(m + 8 * v, rm), _mm256_castsi256_ps(rm));
    __m256 mx = ninf;
    for (int64_t j = 0; j < nk; ++j) {
      const __m256 hid =
          _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(jt + j)), limv));
      mx = _mm256_max_ps(mx, _mm256_blendv_ps(_mm256_loadu_ps(st + j * rp + 8 * v), ninf, hid));
    }
    const __m256 m_new = _mm256_max_ps(m_old, mx);
    // Rows that have seen no key yet keep m = -inf; 0 stands in for it in the subtractions.
    const __m256 m_use = _mm256_andnot_ps(_mm256_cmp_ps(m_new, ninf, _CMP_EQ_OQ), m_new);
    __m256 sum = _mm256_setzero_ps();
    for (int64_t j = 0; j < nk; ++j) {
      const __m256 hid =
          _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(jt + j)), limv));
      float* sj = st + j * rp + 8 * v;
      const __m256 p = _mm256_andnot_ps(hid, exp2v(_mm256_sub_ps(_mm256_loadu_ps(sj), m_use)));
      _mm256_storeu_ps(sj, p);
      sum = _mm256_add_ps(sum, p);
    }
    const __m256 a = exp2v(_mm256_sub_ps(m_old, m_use));  // 0 while m_old = -inf
    const __m256 l_new = _mm256_fmadd_ps(_mm256_maskload_ps(l + 8 * v, rm), a, sum);
    _mm256_storeu_ps(alpha + 8 * v, a);
    _mm256_maskstore_ps(m + 8 * v, rm, m_new);
    _mm256_maskstore_ps(l + 8 * v, rm, l_new);
  }
}

template <class L>
static void run_rows(const AttnTileJob& jb) {
  const int64_t hd = jb.head_dim, nr = jb.n_rows, nh = jb.n_heads;
  const int64_t rp = (nr + 7) / 8 * 8, nv = rp / 8;
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

  const int64_t tok = jb.kv_stride * L::kBytes;  // bytes per token (all kv heads)
  const int64_t row_bytes = hd * L::kBytes;
  // One kv head h against the tile of keys starting at jt whose first live row is r0; converting
  // the tile's K and V rows also prefetches the same head's rows of the next tile.
  auto step = [&](int64_t h, int64_t jt, int64_t r0) {
    const int64_t nk = jb.j1 - jt < kWTile ? jb.j1 - jt : kWTile;
    const int64_t nkp = (nk + 1) / 2 * 2;
    const int64_t v0 = r0 / 8;
    const int64_t n_next = jb.j1 - (jt + kWTile);  // rows of the next tile (<= 0: none)
    const uint8_t* kh = static_cast<const uint8_t*>(jb.k) + h * row_bytes;
    const uint8_t* vh = static_cast<const uint8_t*>(jb.v) + h * row_bytes;
    widen_ahead<L>(kh + jt * tok, jb.kv_stride, nk, hd, kf, kWTile, n_next);
    for (int64_t x = nk * hd; x < nkp * hd; ++x) kf[x] = 0.0f;
    scores_tile(qt + h * hd * rp, rp, v0, nv, kf, hd, nkp, st);
    softmax_tile(nr, rp, v0, nv, jt, nk, lim, jb.m + h * nr, jb.l + h * nr, st, alpha);
    widen_ahead<L>(vh + jt * tok, jb.kv_stride, nk, hd, vf, kWTile, n_next);
    mix_tile(st, rp, alpha, vf, hd, nk, r0, nr, jb.acc + h * nr * hd);
  };
  if (nr < kAttnWideRows) {
    // Few rows (decode): little arithmetic per byte of K and V, so the order follows memory:
    // tiles outer, heads inner (the keys of all heads of a tile are adjacent).
    for (int64_t jt = jb.j0; jt < jb.j1; jt += kWTile) {
      const int64_t r0 = first_live_row(jb, jt);
      if (r0 >= nr) break;
      for (int64_t h = 0; h < nh; ++h) step(h, jt, r0);
    }
    return;
  }
  // Many rows (prefill): heads outer, tiles inner, so a head's Qt and acc (2 x rows x head_dim
  // floats) stay in L2 while its keys stream past.
  for (int64_t h = 0; h < nh; ++h) {
    for (int64_t jt = jb.j0; jt < jb.j1; jt += kWTile) {
      const int64_t r0 = first_live_row(jb, jt);
      if (r0 >= nr) break;
      step(h, jt, r0);
    }
  }
}

}  // namespace

void attention_rows_avx2(const AttnTileJob& job) {
  if (job.kv_type == 1) {
    run_rows<LoadF16>(job);
  } else if (job.kv_type == 2) {
    run_rows<LoadBF16>(job);
  } else {
    run_rows<LoadF32>(job);
  }
}

}  // namespace longctx::cpu
