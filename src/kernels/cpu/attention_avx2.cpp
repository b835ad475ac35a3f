// AVX2 attention tile kernel: 16-key tiles, S = Q K^T as 2 rows x 4 keys of FMA chains over
// head_dim with a joint horizontal sum, online softmax with a polynomial exp2, then O += P V as
// 2 rows x 32 dims of accumulators. f16 / bf16 K and V are widened to f32 once per tile (or on
// the fly when a single row pair reads them).
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/attention_avx2_inl.h"
#include "kernels/cpu/attention_kernels.h"

namespace longctx::cpu {
namespace {

constexpr int64_t kTile = kAttnKeyTile;
// Prefetch distance in key tiles. Each tile prefetches the K / V rows of the tile this far on
// as it reads its own (scores: per block of 4 keys, O += P V: per key and chunk of dims, widen:
// per row), so the requests spread over the computation. One burst per head and tile (128
// lines for 4 kv heads of 128 f16 dims) filled the core's miss queue and stalled the loop until
// memory answered: decode from memory, f16, two threads, 16/8/128 heads 20 -> 28-31 GB/s,
// 32/8/128 10.8 -> 15.4 (with widen's prefetch into L2); 2 tiles did a little better than 4.
constexpr int64_t kPrefetchTiles = 2;

static inline float hsum1(__m256 a) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

static inline float hmax1(__m256 a) {
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

// [sum a, sum b, sum c, sum d].
static inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// Fetches (to L2) n_lines cache lines from p on.
static inline void prefetch_lines(const uint8_t* p, int64_t n_lines) {
  for (int64_t i = 0; i < n_lines; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(p + 64 * i), _MM_HINT_T1);
  }
}

// s[r * kTile + j] = q_r . k_j for rows r < nr, keys j < nk; K rows at kb with stride ks elements.
// With ahead > 0, each block of 4 keys first prefetches the same keys' rows `ahead` bytes on.
template <class L>
static void scores(const float* q, int64_t nr, int64_t hd, const void* kb, int64_t ks, int64_t nk,
                   float* s, int64_t ahead = 0) {
  const auto* k = static_cast<const uint8_t*>(kb);
  const int64_t kstep = ks * L::kBytes;
  const int64_t row_lines = ahead > 0 ? (hd * L::kBytes + 63) / 64 : 0;
  int64_t r = 0;
  for (; r + 2 <= nr; r += 2) {
    const float* q0 = q + r * hd;
    const float* q1 = q0 + hd;
    int64_t j = 0;
    for (; j + 4 <= nk; j += 4) {
      const uint8_t* k0 = k + j * kstep;
      if (r == 0) {
        for (int t = 0; t < 4; ++t) prefetch_lines(k0 + t * kstep + ahead, row_lines);
      }
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      for (int64_t d = 0; d < hd; d += 8) {
        const __m256 x0 = _mm256_loadu_ps(q0 + d), x1 = _mm256_loadu_ps(q1 + d);
        const int64_t o = d * L::kBytes;
        const __m256 y0 = L::load(k0 + o), y1 = L::load(k0 + kstep + o);
        const __m256 y2 = L::load(k0 + 2 * kstep + o), y3 = L::load(k0 + 3 * kstep + o);
        a0 = _mm256_fmadd_ps(x0, y0, a0);
        a1 = _mm256_fmadd_ps(x0, y1, a1);
        a2 = _mm256_fmadd_ps(x0, y2, a2);
        a3 = _mm256_fmadd_ps(x0, y3, a3);
        b0 = _mm256_fmadd_ps(x1, y0, b0);
        b1 = _mm256_fmadd_ps(x1, y1, b1);
        b2 = _mm256_fmadd_ps(x1, y2, b2);
        b3 = _mm256_fmadd_ps(x1, y3, b3);
      }
      _mm_storeu_ps(s + r * kTile + j, hsum4(a0, a1, a2, a3));
      _mm_storeu_ps(s + (r + 1) * kTile + j, hsum4(b0, b1, b2, b3));
    }
    for (; j < nk; ++j) {
      const uint8_t* kj = k + j * kstep;
      __m256 a = _mm256_setzero_ps(), b = a;
      for (int64_t d = 0; d < hd; d += 8) {
        const __m256 y = L::load(kj + d * L::kBytes);
        a = _mm256_fmadd_ps(_mm256_loadu_ps(q0 + d), y, a);
        b = _mm256_fmadd_ps(_mm256_loadu_ps(q1 + d), y, b);
      }
      s[r * kTile + j] = hsum1(a);
      s[(r + 1) * kTile + j] = hsum1(b);
    }
  }
  if (r < nr) {
    const float* q0 = q + r * hd;
    int64_t j = 0;
    for (; j + 4 <= nk; j += 4) {
      const uint8_t* k0 = k + j * kstep;
      if (r == 0) {
        for (int t = 0; t < 4; ++t) prefetch_lines(k0 + t * kstep + ahead, row_lines);
      }
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t d = 0; d < hd; d += 8) {
        const __m256 x0 = _mm256_loadu_ps(q0 + d);
        const int64_t o = d * L::kBytes;
        a0 = _mm256_fmadd_ps(x0, L::load(k0 + o), a0);
        a1 = _mm256_fmadd_ps(x0, L::load(k0 + kstep + o), a1);
        a2 = _mm256_fmadd_ps(x0, L::load(k0 + 2 * kstep + o), a2);
        a3 = _mm256_fmadd_ps(x0, L::load(k0 + 3 * kstep + o), a3);
      }
      _mm_storeu_ps(s + r * kTile + j, hsum4(a0, a1, a2, a3));
    }
    for (; j < nk; ++j) {
      const uint8_t* kj = k + j * kstep;
      __m256 a = _mm256_setzero_ps();
      for (int64_t d = 0; d < hd; d += 8) {
        a = _mm256_fmadd_ps(_mm256_loadu_ps(q0 + d), L::load(kj + d * L::kBytes), a);
      }
      s[r * kTile + j] = hsum1(a);
    }
  }
}

// acc[r][:] += sum_j p[r * kTile + j] * v_j over rows [r0, nr), keys j < nk; V rows at vb with
// stride vs elements. 2 rows x 4 chunks of 8 dims in registers per pass over the keys. With
// ahead > 0, the first pass over each chunk of 32 dims prefetches each key's chunk `ahead` bytes
// on.
template <class L>
static void mix(const float* p, int64_t r0, int64_t nr, int64_t hd, const void* vb, int64_t vs,
                int64_t nk, float* acc, int64_t ahead = 0) {
  const auto* v = static_cast<const uint8_t*>(vb);
  const int64_t vstep = vs * L::kBytes;
  const int64_t chunk_lines = ahead > 0 ? 32 * L::kBytes / 64 : 0;
  int64_t r = r0;
  for (; r + 2 <= nr; r += 2) {
    float* o0 = acc + r * hd;
    float* o1 = o0 + hd;
    const float* p0 = p + r * kTile;
    const float* p1 = p0 + kTile;
    int64_t d = 0;
    for (; d + 32 <= hd; d += 32) {
      __m256 a0 = _mm256_loadu_ps(o0 + d), a1 = _mm256_loadu_ps(o0 + d + 8);
      __m256 a2 = _mm256_loadu_ps(o0 + d + 16), a3 = _mm256_loadu_ps(o0 + d + 24);
      __m256 b0 = _mm256_loadu_ps(o1 + d), b1 = _mm256_loadu_ps(o1 + d + 8);
      __m256 b2 = _mm256_loadu_ps(o1 + d + 16), b3 = _mm256_loadu_ps(o1 + d + 24);
      const uint8_t* vd = v + d * L::kBytes;
      for (int64_t j = 0; j < nk; ++j) {
        const uint8_t* vj = vd + j * vstep;
        if (r == r0) prefetch_lines(vj + ahead, chunk_lines);
        const __m256 y0 = L::load(vj), y1 = L::load(vj + 8 * L::kBytes);
        const __m256 y2 = L::load(vj + 16 * L::kBytes), y3 = L::load(vj + 24 * L::kBytes);
        const __m256 x0 = _mm256_broadcast_ss(p0 + j), x1 = _mm256_broadcast_ss(p1 + j);
        a0 = _mm256_fmadd_ps(x0, y0, a0);
        a1 = _mm256_fmadd_ps(x0, y1, a1);
        a2 = _mm256_fmadd_ps(x0, y2, a2);
        a3 = _mm256_fmadd_ps(x0, y3, a3);
        b0 = _mm256_fmadd_ps(x1, y0, b0);
        b1 = _mm256_fmadd_ps(x1, y1, b1);
        b2 = _mm256_fmadd_ps(x1, y2, b2);
        b3 = _mm256_fmadd_ps(x1, y3, b3);
      }
      _mm256_storeu_ps(o0 + d, a0);
      _mm256_storeu_ps(o0 + d + 8, a1);
      _mm256_storeu_ps(o0 + d + 16, a2);
      _mm256_storeu_ps(o0 + d + 24, a3);
      _mm256_storeu_ps(o1 + d, b0);
      _mm256_storeu_ps(o1 + d + 8, b1);
      _mm256_storeu_ps(o1 + d + 16, b2);
      _mm256_storeu_ps(o1 + d + 24, b3);
    }
    for (; d < hd; d += 8) {
      __m256 a = _mm256_loadu_ps(o0 + d), b = _mm256_loadu_ps(o1 + d);
      for (int64_t j = 0; j < nk; ++j) {
        const __m256 y = L::load(v + j * vstep + d * L::kBytes);
        a = _mm256_fmadd_ps(_mm256_broadcast_ss(p0 + j), y, a);
        b = _mm256_fmadd_ps(_mm256_broadcast_ss(p1 + j), y, b);
      }
      _mm256_storeu_ps(o0 + d, a);
      _mm256_storeu_ps(o1 + d, b);
    }
  }
  if (r < nr) {
    float* o0 = acc + r * hd;
    const float* p0 = p + r * kTile;
    int64_t d = 0;
    for (; d + 32 <= hd; d += 32) {
      __m256 a0 = _mm256_loadu_ps(o0 + d), a1 = _mm256_loadu_ps(o0 + d + 8);
      __m256 a2 = _mm256_loadu_ps(o0 + d + 16), a3 = _mm256_loadu_ps(o0 + d + 24);
      const uint8_t* vd = v + d * L::kBytes;
      for (int64_t j = 0; j < nk; ++j) {
        const uint8_t* vj = vd + j * vstep;
        if (r == r0) prefetch_lines(vj + ahead, chunk_lines);
        const __m256 x0 = _mm256_broadcast_ss(p0 + j);
        a0 = _mm256_fmadd_ps(x0, L::load(vj), a0);
        a1 = _mm256_fmadd_ps(x0, L::load(vj + 8 * L::kBytes), a1);
        a2 = _mm256_fmadd_ps(x0, L::load(vj + 16 * L::kBytes), a2);
        a3 = _mm256_fmadd_ps(x0, L::load(vj + 24 * L::kBytes), a3);
      }
      _mm256_storeu_ps(o0 + d, a0);
      _mm256_storeu_ps(o0 + d + 8, a1);
      _mm256_storeu_ps(o0 + d + 16, a2);
      _mm256_storeu_ps(o0 + d + 24, a3);
    }
    for (; d < hd; d += 8) {
      __m256 a = _mm256_loadu_ps(o0 + d);
      for (int64_t j = 0; j < nk; ++j) {
        a = _mm256_fmadd_ps(_mm256_broadcast_ss(p0 + j), L::load(v + j * vstep + d * L::kBytes), a);
      }
      _mm256_storeu_ps(o0 + d, a);
    }
  }
}

// Online-softmax update of rows [r0, nr) for one tile whose first key is jt: masks keys past
// each row's causal limit (and past nk), turns scores into weights 2^(s - m_new) in place and
// rescales l and acc by 2^(m_old - m_new) when the max grows.
static void softmax_tile(const AttnTileJob& jb, float* m, float* l, float* acc, int64_t r0,
                         int64_t jt, int64_t nk, float* s) {
  const int64_t hd = jb.head_dim;
  const __m256i lane_lo = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i lane_hi = _mm256_add_epi32(lane_lo, _mm256_set1_epi32(8));
  const __m256 ninf = _mm256_set1_ps(-INFINITY);
  for (int64_t r = r0; r < jb.n_rows; ++r) {
    int64_t nv = jb.pos0 + r / jb.group + 1 - jt;  // visible keys of this row in the tile
    nv = nv < nk ? nv : nk;
    float* sr = s + r * kTile;
    if (nv <= 0) {
      _mm256_storeu_ps(sr, _mm256_setzero_ps());
      _mm256_storeu_ps(sr + 8, _mm256_setzero_ps());
      continue;
    }
    const __m256i vnv = _mm256_set1_epi32(static_cast<int>(nv));
    const __m256 vis0 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(vnv, lane_lo));
    const __m256 vis1 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(vnv, lane_hi));
    const __m256 x0 = _mm256_blendv_ps(ninf, _mm256_loadu_ps(sr), vis0);
    const __m256 x1 = _mm256_blendv_ps(ninf, _mm256_loadu_ps(sr + 8), vis1);
    const float mt = hmax1(_mm256_max_ps(x0, x1));
    const float m_old = m[r];
    const float m_new = mt > m_old ? mt : m_old;
    const __m256 vm = _mm256_set1_ps(m_new);
    const __m256 p0 = exp2v(_mm256_sub_ps(x0, vm));
    const __m256 p1 = exp2v(_mm256_sub_ps(x1, vm));
    _mm256_storeu_ps(sr, p0);
    _mm256_storeu_ps(sr + 8, p1);
    float lr = l[r];
    if (m_new > m_old) {
      const float alpha = exp2f(m_old - m_new);  // 0 on the first tile (m_old = -inf)
      const __m256 va = _mm256_set1_ps(alpha);
      float* o = acc + r * hd;
      for (int64_t d = 0; d < hd; d += 8) {
        _mm256_storeu_ps(o + d, _mm256_mul_ps(va, _mm256_loadu_ps(o + d)));
      }
      lr *= alpha;
      m[r] = m_new;
    }
    l[r] = lr + hsum1(_mm256_add_ps(p0, p1));
  }
}

template <class L>
static void run_tiles(const AttnTileJob& jb) {
  const int64_t hd = jb.head_dim, nr = jb.n_rows;
  float* kf = jb.work;
  float* vf = kf + kTile * hd;
  float* s = vf + kTile * hd;
  // One row pair reads each key once: widening to a buffer first would only add traffic.
  const bool direct = L::kBytes == 4 || nr <= 2;
  const int64_t tok = jb.kv_stride * L::kBytes;  // bytes per token (all kv heads)
  // Tiles outer, kv heads inner: the keys of all heads of a tile are adjacent in memory, so the
  // job streams K and V sequentially instead of striding through them once per head.
  for (int64_t jt = jb.j0; jt < jb.j1; jt += kTile) {
    const int64_t nk = jb.j1 - jt < kTile ? jb.j1 - jt : kTile;
    const int64_t r0 = first_live_row(jb, jt);
    if (r0 >= nr) break;
    // Keys from here to the tile kPrefetchTiles on, whose K / V rows this tile prefetches as it
    // reads its own (0: that tile is not whole in the job).
    const int64_t ahead = jt + (kPrefetchTiles + 1) * kTile <= jb.j1 ? kPrefetchTiles * kTile : 0;
    for (int64_t h = 0; h < jb.n_heads; ++h) {
      const uint8_t* kt = static_cast<const uint8_t*>(jb.k) + jt * tok + h * hd * L::kBytes;
      const uint8_t* vt = static_cast<const uint8_t*>(jb.v) + jt * tok + h * hd * L::kBytes;
      const float* q = jb.q + (h * nr + r0) * hd;
      float* m = jb.m + h * nr;
      float* l = jb.l + h * nr;
      float* acc = jb.acc + h * nr * hd;
      if (direct) {
        scores<L>(q, nr - r0, hd, kt, jb.kv_stride, nk, s + r0 * kTile, ahead * tok);
      } else {
        widen<L>(kt, jb.kv_stride, nk, hd, kf, ahead, ahead > 0 ? nk : 0);
        scores<LoadF32>(q, nr - r0, hd, kf, hd, nk, s + r0 * kTile);
      }
      softmax_tile(jb, m, l, acc, r0, jt, nk, s);
      if (direct) {
        mix<L>(s, r0, nr, hd, vt, jb.kv_stride, nk, acc, ahead * tok);
      } else {
        widen<L>(vt, jb.kv_stride, nk, hd, vf, ahead, ahead > 0 ? nk : 0);
        mix<LoadF32>(s, r0, nr, hd, vf, hd, nk, acc);
      }
    }
  }
}

}  // namespace

void attention_tile_avx2(const AttnTileJob& job) {
  if (job.n_rows >= kAttnWideRows) {
    attention_rows_avx2(job);
    return;
  }
  if (job.kv_type == 1) {
    run_tiles<LoadF16>(job);
  } else if (job.kv_type == 2) {
    run_tiles<LoadBF16>(job);
  } else {
    run_tiles<LoadF32>(job);
  }
}

}  // namespace longctx::cpu
