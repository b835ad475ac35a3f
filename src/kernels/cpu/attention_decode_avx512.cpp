// AVX-512 attention for jobs whose rows all see every key of the job's range (decode: one query
// per GQA group) with 2 to 8 rows per kv head, run in blocks of RB = 2, 4 or 8 rows (a job of 3
// rows as 4, of 5-7 as 8: the extra rows repeat the last one and are not stored). Per tile of 16
// keys and kv head:
//  - scores: RB rows x KB = 16 / RB keys of FMA chains over head_dim (16 accumulators; each K
//    element is loaded, and widened from f16 / bf16, once per tile for all rows), each block's 16
//    dot products folded into one vector by a tree of shuffles and adds (45 operations for 16
//    sums, where one horizontal sum per product costs 8-10), then a register transpose gives one
//    vector of the tile's 16 scores per row;
//  - the online softmax runs on those vectors (masked max, exp2, sum) without touching memory;
//  - O += P V: RB rows x 256 / RB dims of accumulators per pass over the keys, each V element
//    loaded and widened once per tile, the rescale factor of the softmax folded into the load of
//    the accumulators.
// The f32 FMA rate bounds it: RB x head_dim x 2 FMA lanes per K/V element pair.
// GCC 12 flags its own AVX-512 intrinsic headers with false -Wmaybe-uninitialized warnings
// (GCC bug 105593; here -Wuninitialized too, from the shuffle intrinsics); the pragmas must precede
// the include.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/cpu/attention_avx512_inl.h"
#include "kernels/cpu/attention_kernels.h"

namespace longctx::cpu {
namespace {

constexpr int64_t kTile = kAttnKeyTile;  // 16 keys: one vector of scores per row

// Returns z with z[L] = sum of the 16 lanes of b[L], L < 16. The tree pairs vectors and halves
// the lanes per level: 512 -> 256 -> 128 bits by 128-bit lane shuffles, then 64 and 32 bits within
// the 128-bit lanes. Traced through, the lane order it produces is z[4k + m] = sum a[4m + k], so
// the inputs enter transposed: a[i] = b[4 (i % 4) + i / 4].
static inline __m512 sum16(const __m512* b) {
  __m512 a[16];
  for (int i = 0; i < 16; ++i) a[i] = b[4 * (i % 4) + i / 4];
  __m512 v[8];
  for (int i = 0; i < 8; ++i) {  // v[i]: a[2i]'s 8 partial sums, then a[2i+1]'s
    const __m512 x = a[2 * i], y = a[2 * i + 1];
    v[i] = _mm512_add_ps(_mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  __m512 w[4];
  for (int i = 0; i < 4; ++i) {  // 128-bit lane k of w[i]: 4 partial sums of a[4i + k]
    const __m512 p = v[2 * i], q = v[2 * i + 1];
    w[i] = _mm512_add_ps(_mm512_shuffle_f32x4(p, q, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(p, q, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  __m512 x[2];
  for (int i = 0; i < 2; ++i) {  // lane k: 2 partials of a[8i + k], then 2 of a[8i + 4 + k]
    const __m512d r = _mm512_castps_pd(w[2 * i]), s = _mm512_castps_pd(w[2 * i + 1]);
    x[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(r, s)),
                         _mm512_castpd_ps(_mm512_unpackhi_pd(r, s)));
  }
  return _mm512_add_ps(_mm512_shuffle_ps(x[0], x[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_ps(x[0], x[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// z[kb] holds, in its lanes RB x KB, the scores of rows r < RB for keys kb KB + t, t < KB (row
// r's run of KB lanes is element r of width KB); s[r] gets row r's 16 scores in key order. That is
// the transpose of an RB x RB matrix of KB-lane elements.
template <int RB>
static inline void transpose_scores(const __m512* z, __m512* s) {
  if constexpr (RB == 2) {  // 256-bit elements
    s[0] = _mm512_shuffle_f32x4(z[0], z[1], _MM_SHUFFLE(1, 0, 1, 0));
    s[1] = _mm512_shuffle_f32x4(z[0], z[1], _MM_SHUFFLE(3, 2, 3, 2));
  } else if constexpr (RB == 4) {  // 128-bit elements
    const __m512 t0 = _mm512_shuffle_f32x4(z[0], z[1], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 t1 = _mm512_shuffle_f32x4(z[0], z[1], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 t2 = _mm512_shuffle_f32x4(z[2], z[3], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 t3 = _mm512_shuffle_f32x4(z[2], z[3], _MM_SHUFFLE(3, 2, 3, 2));
    s[0] = _mm512_shuffle_f32x4(t0, t2, _MM_SHUFFLE(2, 0, 2, 0));
    s[1] = _mm512_shuffle_f32x4(t0, t2, _MM_SHUFFLE(3, 1, 3, 1));
    s[2] = _mm512_shuffle_f32x4(t1, t3, _MM_SHUFFLE(2, 0, 2, 0));
    s[3] = _mm512_shuffle_f32x4(t1, t3, _MM_SHUFFLE(3, 1, 3, 1));
  } else {  // RB == 8: 64-bit elements
    __m512d t[8], u[8];
    for (int i = 0; i < 4;
         ++i) {  // t[2i]: even elements of z[2i], z[2i+1] interleaved; t[2i+1]: odd
      const __m512d a = _mm512_castps_pd(z[2 * i]), b = _mm512_castps_pd(z[2 * i + 1]);
      t[2 * i] = _mm512_unpacklo_pd(a, b);
      t[2 * i + 1] = _mm512_unpackhi_pd(a, b);
    }
    for (int h = 0; h < 2; ++h) {  // rows 4h..4h+3 of the element matrix
      const __m512d* th = t + 4 * h;
      u[4 * h + 0] = _mm512_shuffle_f64x2(th[0], th[2], _MM_SHUFFLE(2, 0, 2, 0));
      u[4 * h + 1] = _mm512_shuffle_f64x2(th[1], th[3], _MM_SHUFFLE(2, 0, 2, 0));
      u[4 * h + 2] = _mm512_shuffle_f64x2(th[0], th[2], _MM_SHUFFLE(3, 1, 3, 1));
      u[4 * h + 3] = _mm512_shuffle_f64x2(th[1], th[3], _MM_SHUFFLE(3, 1, 3, 1));
    }
    for (int c = 0; c < 4; ++c) {
      s[c] = _mm512_castpd_ps(_mm512_shuffle_f64x2(u[c], u[4 + c], _MM_SHUFFLE(2, 0, 2, 0)));
      s[c + 4] = _mm512_castpd_ps(_mm512_shuffle_f64x2(u[c], u[4 + c], _MM_SHUFFLE(3, 1, 3, 1)));
    }
  }
}

// Prefetch distance in tiles. Each block of the scores and each key of O += P V first prefetches
// (to L2) the bytes it is about to read, this many tiles ahead, so the requests spread evenly over
// the computation. Issued as one burst per head and tile instead (the 16 rows' K and V, 128 lines
// for head_dim 128 in f16), they filled the core's queue of outstanding misses and stalled the
// loop until memory answered: 32/4/128 heads over 16 x 4096 f16 positions from memory, one
// thread, 6.2-6.5 GB/s burst, 8.2-8.6 spread 1-3 tiles ahead (9.5 in cache); two threads
// 11.5-11.9 -> 14.5-16.1; 32/8/128 17.9-18.6 -> 21-28; 16/8/128 18.4-20.3 -> 27.5-30.3.
constexpr int64_t kDecodePrefetchTiles = 2;

// s[r] = the scores q_r . k_j of keys j < 16 of the tile at kt (row stride kstep bytes) for the
// job's nr <= RB rows of q (rows past nr repeat row nr - 1); keys at or past nk read key nk - 1
// (their scores are masked later), whole blocks past nk are skipped. Each block prefetches its
// rows `ahead` bytes further on (none when ahead is 0).
template <class L, int RB>
static inline void decode_scores(const float* q, int64_t nr, int64_t hd, const uint8_t* kt,
                                 int64_t kstep, int64_t nk, int64_t ahead, __m512* s) {
  constexpr int KB = 16 / RB;
  const float* qr[RB];
  for (int r = 0; r < RB; ++r) qr[r] = q + (r < nr ? r : nr - 1) * hd;
  __m512 z[RB];
  for (int kb = 0; kb < RB; ++kb) {
    if (kb * KB >= nk) {
      z[kb] = _mm512_setzero_ps();
      continue;
    }
    const uint8_t* kp[KB];
    for (int t = 0; t < KB; ++t) {
      const int64_t j = kb * KB + t < nk ? kb * KB + t : nk - 1;
      kp[t] = kt + j * kstep;
    }
    if (ahead > 0) {
      for (int t = 0; t < KB; ++t) {
        for (int64_t o = 0; o < hd * L::kBytes; o += 64) prefetch_l2(kp[t] + ahead + o);
      }
    }
    __m512 acc[16];
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_ps();
    for (int64_t d = 0; d < hd; d += 16) {
      __m512 kv[KB];
#pragma GCC unroll 8
      for (int t = 0; t < KB; ++t) kv[t] = L::load(kp[t] + d * L::kBytes);
#pragma GCC unroll 8
      for (int r = 0; r < RB; ++r) {
        __m512 qv = _mm512_loadu_ps(qr[r] + d);
        // Keep q in a register: GCC would otherwise fold the load into each of the KB FMAs,
        // and the loads, not the FMAs, would bound the loop.
        __asm__("" : "+v"(qv));
#pragma GCC unroll 8
        for (int t = 0; t < KB; ++t) acc[r * KB + t] = _mm512_fmadd_ps(qv, kv[t], acc[r * KB + t]);
      }
    }
    z[kb] = sum16(acc);
  }
  transpose_scores<RB>(z, s);
}

// acc[r][:] = alpha[r] acc[r][:] + sum_{j < nk} p[r][j] v_j for rows r < nr <= RB (p rows 16
// floats apart); V rows at vt, vstep bytes apart. Rows past nr compute row nr - 1 again and are
// not stored. Each key prefetches its slice `ahead` bytes further on.
template <class L, int RB>
static inline void decode_mix(const float* p, const float* alpha, int64_t nr, int64_t hd,
                              const uint8_t* vt, int64_t vstep, int64_t nk, int64_t ahead,
                              float* acc) {
  constexpr int DC = 16 / RB;  // vectors of dims per row and pass
  int64_t rr[RB];              // the row each register row computes
  for (int r = 0; r < RB; ++r) rr[r] = r < nr ? r : nr - 1;
  for (int64_t d = 0; d < hd; d += 16 * DC) {
    __m512 o[RB * DC];
#pragma GCC unroll 8
    for (int r = 0; r < RB; ++r) {
      const __m512 a = _mm512_set1_ps(alpha[rr[r]]);
#pragma GCC unroll 8
      for (int c = 0; c < DC; ++c) {
        o[r * DC + c] = _mm512_mul_ps(a, _mm512_loadu_ps(acc + rr[r] * hd + d + 16 * c));
      }
    }
    const uint8_t* vd = vt + d * L::kBytes;
    for (int64_t j = 0; j < nk; ++j) {
      __m512 vv[DC];
      if (ahead > 0) {
        for (int o = 0; o < DC * 16 * L::kBytes; o += 64) prefetch_l2(vd + j * vstep + ahead + o);
      }
#pragma GCC unroll 8
      for (int c = 0; c < DC; ++c) vv[c] = L::load(vd + j * vstep + 16 * c * L::kBytes);
#pragma GCC unroll 8
      for (int r = 0; r < RB; ++r) {
        const __m512 pb = _mm512_set1_ps(p[rr[r] * kTile + j]);
#pragma GCC unroll 8
        for (int c = 0; c < DC; ++c) o[r * DC + c] = _mm512_fmadd_ps(pb, vv[c], o[r * DC + c]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < RB; ++r) {
      if (r >= nr) break;
#pragma GCC unroll 8
      for (int c = 0; c < DC; ++c) _mm512_storeu_ps(acc + r * hd + d + 16 * c, o[r * DC + c]);
    }
  }
}

template <class L, int RB>
static void decode_tiles(const AttnTileJob& jb) {
  const int64_t hd = jb.head_dim, nr = jb.n_rows;
  const int64_t tok = jb.kv_stride * L::kBytes;  // bytes per token (all kv heads)
  float* p = jb.work;                            // [RB][16] softmax weights of the tile
  float* alpha = p + RB * kTile;                 // [RB] rescale factors of acc
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  // Tiles outer, kv heads inner: the keys of all heads of a tile are adjacent in memory.
  for (int64_t jt = jb.j0; jt < jb.j1; jt += kTile) {
    const int64_t nk = jb.j1 - jt < kTile ? jb.j1 - jt : kTile;
    // Prefetch offset in bytes, 0 (none) where the tile that far ahead is not whole in the job.
    const int64_t ahead =
        jt + (kDecodePrefetchTiles + 1) * kTile <= jb.j1 ? kDecodePrefetchTiles * kTile * tok : 0;
    const __mmask16 vis = static_cast<__mmask16>((1u << nk) - 1u);
    for (int64_t h = 0; h < jb.n_heads; ++h) {
      const uint8_t* kt = static_cast<const uint8_t*>(jb.k) + jt * tok + h * hd * L::kBytes;
      const uint8_t* vt = static_cast<const uint8_t*>(jb.v) + jt * tok + h * hd * L::kBytes;
      float* m = jb.m + h * nr;
      float* l = jb.l + h * nr;
      __m512 s[RB];
      decode_scores<L, RB>(jb.q + h * nr * hd, nr, hd, kt, tok, nk, ahead, s);
      // Online softmax per row: m_new = max(m, tile max), weights 2^(s - m_new) (0 past nk),
      // acc and l scaled by 2^(m - m_new) (0 on the first tile, where m = -inf and acc = 0).
      for (int r = 0; r < nr; ++r) {
        const __m512 x = _mm512_mask_mov_ps(ninf, vis, s[r]);
        const float mt = hmax1(x);
        const float m_new = mt > m[r] ? mt : m[r];
        const __m512 w = _mm512_maskz_mov_ps(vis, exp2v(_mm512_sub_ps(x, _mm512_set1_ps(m_new))));
        _mm512_storeu_ps(p + r * kTile, w);
        const float a = m_new > m[r] ? exp2f(m[r] - m_new) : 1.0f;
        alpha[r] = a;
        l[r] = l[r] * a + hsum1(w);
        m[r] = m_new;
      }
      decode_mix<L, RB>(p, alpha, nr, hd, vt, tok, nk, ahead, jb.acc + h * nr * hd);
    }
  }
}

template <int RB>
static void decode_typed(const AttnTileJob& jb) {
  if (jb.kv_type == 1) {
    decode_tiles<LoadF16, RB>(jb);
  } else if (jb.kv_type == 2) {
    decode_tiles<LoadBF16, RB>(jb);
  } else {
    decode_tiles<LoadF32, RB>(jb);
  }
}

}  // namespace

// The kernel's rows per block for a job of nr rows: 2, 4 or 8 (3 runs as 4, 5-7 as 8; the
// padding rows cost FMAs but no memory traffic, and decode from memory is bound by the traffic).
static int64_t block_rows(int64_t nr) { return nr <= 2 ? 2 : nr <= 4 ? 4 : 8; }

bool attention_decode_avx512_fits(const AttnTileJob& job) {
  const int64_t nr = job.n_rows;
  if (nr < 2 || nr > 8) return false;
  // Every row sees every key: the first row's causal limit (pos0) is at or past the last key.
  return job.pos0 + 1 >= job.j1 && job.head_dim % (256 / block_rows(nr)) == 0;
}

void attention_decode_avx512(const AttnTileJob& job) {
  const int64_t rb = block_rows(job.n_rows);
  if (rb == 2) {
    decode_typed<2>(job);
  } else if (rb == 4) {
    decode_typed<4>(job);
  } else {
    decode_typed<8>(job);
  }
}

}  // namespace longctx::cpu
