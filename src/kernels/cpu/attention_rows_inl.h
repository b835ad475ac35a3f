// The rows-as-lanes attention tile kernel, written once over a vector traits class V and
// instantiated by attention_rows_avx2.cpp (8 lanes) and attention_rows_avx512.cpp (16 lanes),
// each with its own instruction-set flags (everything here has internal linkage: the build rule
// in KERNELS.md).
//
// Q is transposed once per job to Qt[head][d][row]; then one vector holds one key's scores for
// V::kLanes rows: S^T[j][rows] = sum_d K[j][d] Qt[d][rows] is a rank-1 update per d with K[j][d]
// broadcast (no horizontal sums; KJ keys x RV row vectors of accumulators read KJ + RV values per
// KJ x RV FMAs). The online softmax (V::softmax_tile: masked max, exp2, running sum, rescale
// factor) runs across the rows of a vector at once, and O += P V keeps V::kMixRows rows x
// V::kMixVecs vectors of accumulators with P broadcast from the transposed score tile. f16 / bf16
// K and V are widened to f32 once per tile for all rows.
//
// V provides: Vec, kLanes, kMaxKeys (score pass width), kMaxRowVecs, kMixRows, kMixVecs, zero,
// load, store, bcast (from memory), fmadd, mul, softmax_tile and widen<L> (with prefetch).
#pragma once

#include <cstdint>

#include "kernels/cpu/attention_kernels.h"

namespace longctx::cpu {
namespace {

constexpr int64_t kRowsTile = kAttnWideKeyTile;  // keys per tile

// st[j * rp + kLanes i + lane] = sum_d kf[j * hd + d] * qt[d * rp + kLanes i + lane], j < KJ, i <
// RV.
template <class V, int KJ, int RV>
static inline void rows_scores_block(const float* qt, int64_t rp, const float* kf, int64_t hd,
                                     float* st) {
  typename V::Vec acc[KJ][RV];
#pragma GCC unroll 8
  for (int j = 0; j < KJ; ++j) {
#pragma GCC unroll 8
    for (int i = 0; i < RV; ++i) acc[j][i] = V::zero();
  }
  for (int64_t d = 0; d < hd; ++d) {
    typename V::Vec qv[RV];
#pragma GCC unroll 8
    for (int i = 0; i < RV; ++i) qv[i] = V::load(qt + d * rp + V::kLanes * i);
#pragma GCC unroll 8
    for (int j = 0; j < KJ; ++j) {
      const typename V::Vec kb = V::bcast(kf + j * hd + d);
#pragma GCC unroll 8
      for (int i = 0; i < RV; ++i) acc[j][i] = V::fmadd(kb, qv[i], acc[j][i]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < KJ; ++j) {
#pragma GCC unroll 8
    for (int i = 0; i < RV; ++i) V::store(st + j * rp + V::kLanes * i, acc[j][i]);
  }
}

// KJ keys against row vectors [v0, nv), V::kMaxRowVecs at a time.
template <class V, int KJ, int RV = V::kMaxRowVecs>
static void rows_scores_keys(const float* qt, int64_t rp, int64_t v0, int64_t nv, const float* kf,
                             int64_t hd, float* st) {
  int64_t v = v0;
  for (; v + RV <= nv; v += RV) {
    rows_scores_block<V, KJ, RV>(qt + V::kLanes * v, rp, kf, hd, st + V::kLanes * v);
  }
  if constexpr (RV > 1) {
    if (v < nv) rows_scores_keys<V, KJ, RV - 1>(qt, rp, v, nv, kf, hd, st);
  }
}

// Scores of keys [0, nkp) (nkp even, K rows past the tile zero) for row vectors [v0, nv): passes
// of KJ keys, then narrower ones for the rest.
template <class V, int KJ = V::kMaxKeys>
static void rows_scores_tile(const float* qt, int64_t rp, int64_t v0, int64_t nv, const float* kf,
                             int64_t hd, int64_t nkp, float* st) {
  int64_t j = 0;
  for (; j + KJ <= nkp; j += KJ) {
    rows_scores_keys<V, KJ>(qt, rp, v0, nv, kf + j * hd, hd, st + j * rp);
  }
  if constexpr (KJ > 2) {
    if (j < nkp) rows_scores_tile<V, KJ - 2>(qt, rp, v0, nv, kf + j * hd, hd, nkp - j, st + j * rp);
  }
}

// o[r][:kLanes DV] = alpha[r] o[r][..] + sum_j pt[j * rp + r] vf[j * hd + ..] for R rows (o and vf
// already offset to the first row / column, o rows hd apart).
template <class V, int R, int DV>
static inline void rows_mix_block(const float* pt, int64_t rp, const float* alpha, const float* vf,
                                  int64_t hd, int64_t nk, float* o) {
  typename V::Vec acc[R][DV];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    const typename V::Vec a = V::bcast(alpha + i);
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) acc[i][c] = V::mul(a, V::load(o + i * hd + V::kLanes * c));
  }
  for (int64_t j = 0; j < nk; ++j) {
    typename V::Vec vv[DV];
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) vv[c] = V::load(vf + j * hd + V::kLanes * c);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const typename V::Vec p = V::bcast(pt + j * rp + i);
#pragma GCC unroll 8
      for (int c = 0; c < DV; ++c) acc[i][c] = V::fmadd(p, vv[c], acc[i][c]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) V::store(o + i * hd + V::kLanes * c, acc[i][c]);
  }
}

// rows_mix_block for n <= R rows.
template <class V, int DV, int R = V::kMixRows>
static void rows_mix_rows(int64_t n, const float* pt, int64_t rp, const float* alpha,
                          const float* vf, int64_t hd, int64_t nk, float* o) {
  if (n == R) {
    rows_mix_block<V, R, DV>(pt, rp, alpha, vf, hd, nk, o);
  } else if constexpr (R > 1) {
    rows_mix_rows<V, DV, R - 1>(n, pt, rp, alpha, vf, hd, nk, o);
  }
}

// acc[r][:] = alpha[r] acc[r][:] + sum_j p[j][r] v_j for rows [r0, nr).
template <class V>
static void rows_mix_tile(const float* pt, int64_t rp, const float* alpha, const float* vf,
                          int64_t hd, int64_t nk, int64_t r0, int64_t nr, float* acc) {
  constexpr int64_t kWide = V::kLanes * V::kMixVecs;
  for (int64_t r = r0; r < nr; r += V::kMixRows) {
    const int64_t n = nr - r < V::kMixRows ? nr - r : V::kMixRows;
    int64_t c = 0;
    for (; c + kWide <= hd; c += kWide) {
      rows_mix_rows<V, V::kMixVecs>(n, pt + r, rp, alpha + r, vf + c, hd, nk, acc + r * hd + c);
    }
    for (; c < hd; c += V::kLanes) {
      rows_mix_rows<V, 1>(n, pt + r, rp, alpha + r, vf + c, hd, nk, acc + r * hd + c);
    }
  }
}

// The whole job (see AttnTileJob); head_dim a multiple of V::kLanes.
template <class V, class L>
static void rows_run(const AttnTileJob& jb) {
  constexpr int64_t kL = V::kLanes;
  const int64_t hd = jb.head_dim, nr = jb.n_rows, nh = jb.n_heads;
  const int64_t rp = (nr + kL - 1) / kL * kL, nv = rp / kL;
  // Scratch, cache-line aligned: Qt of every head, K and V tiles in f32, the score tile, the
  // rescale factors, the causal limits (attn_work_floats sizes it).
  float* qt =
      reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(jb.work) + 63) & ~uintptr_t(63));
  float* kf = qt + nh * hd * rp;
  float* vf = kf + kRowsTile * hd;
  float* st = vf + kRowsTile * hd;
  float* alpha = st + kRowsTile * rp;
  auto* lim = reinterpret_cast<int32_t*>(alpha + rp);
  for (int64_t h = 0; h < nh; ++h) {
    float* dst = qt + h * hd * rp;
    const float* src = jb.q + h * nr * hd;
    for (int64_t d = 0; d < hd; ++d) {
      for (int64_t r = 0; r < nr; ++r) dst[d * rp + r] = src[r * hd + d];
      for (int64_t r = nr; r < rp; ++r) dst[d * rp + r] = 0.0f;
    }
  }
  // Row r sees keys j <= lim[r]; padding rows see none.
  for (int64_t r = 0; r < rp; ++r) lim[r] = r < nr ? int32_t(jb.pos0 + r / jb.group) : -1;

  const int64_t tok = jb.kv_stride * L::kBytes;  // bytes per token (all kv heads)
  const int64_t row_bytes = hd * L::kBytes;
  // One kv head h against the tile of keys starting at jt whose first live row is r0; converting
  // the tile's K and V rows also prefetches the same head's rows of the next tile (they are
  // kv_stride apart, which the hardware prefetchers do not follow).
  auto step = [&](int64_t h, int64_t jt, int64_t r0) {
    const int64_t nk = jb.j1 - jt < kRowsTile ? jb.j1 - jt : kRowsTile;
    const int64_t nkp = (nk + 1) / 2 * 2;
    const int64_t v0 = r0 / kL;
    const int64_t n_next = jb.j1 - (jt + kRowsTile);  // rows of the next tile (<= 0: none)
    const uint8_t* kh = static_cast<const uint8_t*>(jb.k) + h * row_bytes;
    const uint8_t* vh = static_cast<const uint8_t*>(jb.v) + h * row_bytes;
    V::template widen<L>(kh + jt * tok, jb.kv_stride, nk, hd, kf, kRowsTile, n_next);
    for (int64_t x = nk * hd; x < nkp * hd; ++x) kf[x] = 0.0f;
    rows_scores_tile<V>(qt + h * hd * rp, rp, v0, nv, kf, hd, nkp, st);
    V::softmax_tile(nr, rp, v0, nv, jt, nk, lim, jb.m + h * nr, jb.l + h * nr, st, alpha);
    V::template widen<L>(vh + jt * tok, jb.kv_stride, nk, hd, vf, kRowsTile, n_next);
    rows_mix_tile<V>(st, rp, alpha, vf, hd, nk, r0, nr, jb.acc + h * nr * hd);
  };
  if (nr < kAttnWideRows) {
    // Few rows (decode): little arithmetic per byte of K and V, so the order follows memory:
    // tiles outer, heads inner (the keys of all heads of a tile are adjacent).
    for (int64_t jt = jb.j0; jt < jb.j1; jt += kRowsTile) {
      const int64_t r0 = first_live_row(jb, jt);
      if (r0 >= nr) break;
      for (int64_t h = 0; h < nh; ++h) step(h, jt, r0);
    }
    return;
  }
  // Many rows (prefill): heads outer, tiles inner, so a head's Qt and acc (2 x rows x head_dim
  // floats) stay in L2 while its keys stream past.
  for (int64_t h = 0; h < nh; ++h) {
    for (int64_t jt = jb.j0; jt < jb.j1; jt += kRowsTile) {
      const int64_t r0 = first_live_row(jb, jt);
      if (r0 >= nr) break;
      step(h, jt, r0);
    }
  }
}

}  // namespace
}  // namespace longctx::cpu
