// AVX-512 attention tile kernel: 16-key tiles, S = Q K^T as 2 rows x 4 keys of FMA chains over
// head_dim with a joint horizontal sum, online softmax with a polynomial exp2, then O += P V as
// 2 rows x 64 dims of accumulators. f16 / bf16 K and V are widened to f32 once per tile (or on
// the fly when a single row pair reads them).
// GCC 12 flags its own AVX-512 intrinsic headers with false -Wmaybe-uninitialized warnings
// (GCC bug 105593, the `__Y = __Y` undefined-vector idiom); the pragma must precede the include.
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

constexpr int64_t kTile = kAttnKeyTile;

// [sum a, sum b, sum c, sum d].
static inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m256 a2 = _mm256_add_ps(_mm512_extractf32x8_ps(a, 0), _mm512_extractf32x8_ps(a, 1));
  const __m256 b2 = _mm256_add_ps(_mm512_extractf32x8_ps(b, 0), _mm512_extractf32x8_ps(b, 1));
  const __m256 c2 = _mm256_add_ps(_mm512_extractf32x8_ps(c, 0), _mm512_extractf32x8_ps(c, 1));
  const __m256 d2 = _mm256_add_ps(_mm512_extractf32x8_ps(d, 0), _mm512_extractf32x8_ps(d, 1));
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a2, b2), _mm256_hadd_ps(c2, d2));
  return _mm_add_ps(_mm256_extractf128_ps(abcd, 0), _mm256_extractf128_ps(abcd, 1));
}

// s[r * kTile + j] = q_r . k_j for rows r < nr, keys j < nk; K rows at kb with stride ks elements.
template <class L>
static void scores(const float* q, int64_t nr, int64_t hd, const void* kb, int64_t ks, int64_t nk,
                   float* s) {
  const auto* k = static_cast<const uint8_t*>(kb);
  const int64_t kstep = ks * L::kBytes;
  int64_t r = 0;
  for (; r + 2 <= nr; r += 2) {
    const float* q0 = q + r * hd;
    const float* q1 = q0 + hd;
    int64_t j = 0;
    for (; j + 4 <= nk; j += 4) {
      const uint8_t* k0 = k + j * kstep;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      for (int64_t d = 0; d < hd; d += 16) {
        const __m512 x0 = _mm512_loadu_ps(q0 + d), x1 = _mm512_loadu_ps(q1 + d);
        const int64_t o = d * L::kBytes;
        const __m512 y0 = L::load(k0 + o), y1 = L::load(k0 + kstep + o);
        const __m512 y2 = L::load(k0 + 2 * kstep + o), y3 = L::load(k0 + 3 * kstep + o);
        a0 = _mm512_fmadd_ps(x0, y0, a0);
        a1 = _mm512_fmadd_ps(x0, y1, a1);
        a2 = _mm512_fmadd_ps(x0, y2, a2);
        a3 = _mm512_fmadd_ps(x0, y3, a3);
        b0 = _mm512_fmadd_ps(x1, y0, b0);
        b1 = _mm512_fmadd_ps(x1, y1, b1);
        b2 = _mm512_fmadd_ps(x1, y2, b2);
        b3 = _mm512_fmadd_ps(x1, y3, b3);
      }
      _mm_storeu_ps(s + r * kTile + j, hsum4(a0, a1, a2, a3));
      _mm_storeu_ps(s + (r + 1) * kTile + j, hsum4(b0, b1, b2, b3));
    }
    for (; j < nk; ++j) {
      const uint8_t* kj = k + j * kstep;
      __m512 a = _mm512_setzero_ps(), b = a;
      for (int64_t d = 0; d < hd; d += 16) {
        const __m512 y = L::load(kj + d * L::kBytes);
        a = _mm512_fmadd_ps(_mm512_loadu_ps(q0 + d), y, a);
        b = _mm512_fmadd_ps(_mm512_loadu_ps(q1 + d), y, b);
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
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t d = 0; d < hd; d += 16) {
        const __m512 x0 = _mm512_loadu_ps(q0 + d);
        const int64_t o = d * L::kBytes;
        a0 = _mm512_fmadd_ps(x0, L::load(k0 + o), a0);
        a1 = _mm512_fmadd_ps(x0, L::load(k0 + kstep + o), a1);
        a2 = _mm512_fmadd_ps(x0, L::load(k0 + 2 * kstep + o), a2);
        a3 = _mm512_fmadd_ps(x0, L::load(k0 + 3 * kstep + o), a3);
      }
      _mm_storeu_ps(s + r * kTile + j, hsum4(a0, a1, a2, a3));
    }
    for (; j < nk; ++j) {
      const uint8_t* kj = k + j * kstep;
      __m512 a = _mm512_setzero_ps();
      for (int64_t d = 0; d < hd; d += 16) {
        a = _mm512_fmadd_ps(_mm512_loadu_ps(q0 + d), L::load(kj + d * L::kBytes), a);
      }
      s[r * kTile + j] = hsum1(a);
    }
  }
}

// acc[r][:] += sum_j p[r * kTile + j] * v_j over rows [r0, nr), keys j < nk; V rows at vb with
// stride vs elements. 2 rows x 4 chunks of 16 dims in registers per pass over the keys.
template <class L>
static void mix(const float* p, int64_t r0, int64_t nr, int64_t hd, const void* vb, int64_t vs,
                int64_t nk, float* acc) {
  const auto* v = static_cast<const uint8_t*>(vb);
  const int64_t vstep = vs * L::kBytes;
  int64_t r = r0;
  for (; r + 2 <= nr; r += 2) {
    float* o0 = acc + r * hd;
    float* o1 = o0 + hd;
    const float* p0 = p + r * kTile;
    const float* p1 = p0 + kTile;
    int64_t d = 0;
    for (; d + 64 <= hd; d += 64) {
      __m512 a0 = _mm512_loadu_ps(o0 + d), a1 = _mm512_loadu_ps(o0 + d + 16);
      __m512 a2 = _mm512_loadu_ps(o0 + d + 32), a3 = _mm512_loadu_ps(o0 + d + 48);
      __m512 b0 = _mm512_loadu_ps(o1 + d), b1 = _mm512_loadu_ps(o1 + d + 16);
      __m512 b2 = _mm512_loadu_ps(o1 + d + 32), b3 = _mm512_loadu_ps(o1 + d + 48);
      const uint8_t* vd = v + d * L::kBytes;
      for (int64_t j = 0; j < nk; ++j) {
        const uint8_t* vj = vd + j * vstep;
        const __m512 y0 = L::load(vj), y1 = L::load(vj + 16 * L::kBytes);
        const __m512 y2 = L::load(vj + 32 * L::kBytes), y3 = L::load(vj + 48 * L::kBytes);
        const __m512 x0 = _mm512_set1_ps(p0[j]), x1 = _mm512_set1_ps(p1[j]);
        a0 = _mm512_fmadd_ps(x0, y0, a0);
        a1 = _mm512_fmadd_ps(x0, y1, a1);
        a2 = _mm512_fmadd_ps(x0, y2, a2);
        a3 = _mm512_fmadd_ps(x0, y3, a3);
        b0 = _mm512_fmadd_ps(x1, y0, b0);
        b1 = _mm512_fmadd_ps(x1, y1, b1);
        b2 = _mm512_fmadd_ps(x1, y2, b2);
        b3 = _mm512_fmadd_ps(x1, y3, b3);
      }
      _mm512_storeu_ps(o0 + d, a0);
      _mm512_storeu_ps(o0 + d + 16, a1);
      _mm512_storeu_ps(o0 + d + 32, a2);
      _mm512_storeu_ps(o0 + d + 48, a3);
      _mm512_storeu_ps(o1 + d, b0);
      _mm512_storeu_ps(o1 + d + 16, b1);
      _mm512_storeu_ps(o1 + d + 32, b2);
      _mm512_storeu_ps(o1 + d + 48, b3);
    }
    for (; d < hd; d += 16) {
      __m512 a = _mm512_loadu_ps(o0 + d), b = _mm512_loadu_ps(o1 + d);
      for (int64_t j = 0; j < nk; ++j) {
        const __m512 y = L::load(v + j * vstep + d * L::kBytes);
        a = _mm512_fmadd_ps(_mm512_set1_ps(p0[j]), y, a);
        b = _mm512_fmadd_ps(_mm512_set1_ps(p1[j]), y, b);
      }
      _mm512_storeu_ps(o0 + d, a);
      _mm512_storeu_ps(o1 + d, b);
    }
  }
  if (r < nr) {
    float* o0 = acc + r * hd;
    const float* p0 = p + r * kTile;
    int64_t d = 0;
    for (; d + 64 <= hd; d += 64) {
      __m512 a0 = _mm512_loadu_ps(o0 + d), a1 = _mm512_loadu_ps(o0 + d + 16);
      __m512 a2 = _mm512_loadu_ps(o0 + d + 32), a3 = _mm512_loadu_ps(o0 + d + 48);
      const uint8_t* vd = v + d * L::kBytes;
      for (int64_t j = 0; j < nk; ++j) {
        const uint8_t* vj = vd + j * vstep;
        const __m512 x0 = _mm512_set1_ps(p0[j]);
        a0 = _mm512_fmadd_ps(x0, L::load(vj), a0);
        a1 = _mm512_fmadd_ps(x0, L::load(vj + 16 * L::kBytes), a1);
        a2 = _mm512_fmadd_ps(x0, L::load(vj + 32 * L::kBytes), a2);
        a3 = _mm512_fmadd_ps(x0, L::load(vj + 48 * L::kBytes), a3);
      }
      _mm512_storeu_ps(o0 + d, a0);
      _mm512_storeu_ps(o0 + d + 16, a1);
      _mm512_storeu_ps(o0 + d + 32, a2);
      _mm512_storeu_ps(o0 + d + 48, a3);
    }
    for (; d < hd; d += 16) {
      __m512 a = _mm512_loadu_ps(o0 + d);
      for (int64_t j = 0; j < nk; ++j) {
        a = _mm512_fmadd_ps(_mm512_set1_ps(p0[j]), L::load(v + j * vstep + d * L::kBytes), a);
      }
      _mm512_storeu_ps(o0 + d, a);
    }
  }
}

// Online-softmax update of rows [r0, nr) for one tile whose first key is jt: masks keys past
// each row's causal limit (and past nk), turns scores into weights 2^(s - m_new) in place and
// rescales l and acc by 2^(m_old - m_new) when the max grows.
static void softmax_tile(const AttnTileJob& jb, float* m, float* l, float* acc, int64_t r0,
                         int64_t jt, int64_t nk, float* s) {
  const int64_t hd = jb.head_dim;
  for (int64_t r = r0; r < jb.n_rows; ++r) {
    int64_t nv = jb.pos0 + r / jb.group + 1 - jt;  // visible keys of this row in the tile
    nv = nv < nk ? nv : nk;
    float* sr = s + r * kTile;
    if (nv <= 0) {
      _mm512_storeu_ps(sr, _mm512_setzero_ps());
      continue;
    }
    const __mmask16 vis = static_cast<__mmask16>((1u << nv) - 1u);
    const __m512 x = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), vis, sr);
    const float mt = hmax1(x);
    const float m_old = m[r];
    const float m_new = mt > m_old ? mt : m_old;
    const __m512 p = exp2v(_mm512_sub_ps(x, _mm512_set1_ps(m_new)));
    _mm512_storeu_ps(sr, p);
    float lr = l[r];
    if (m_new > m_old) {
      const float alpha = exp2f(m_old - m_new);  // 0 on the first tile (m_old = -inf)
      const __m512 va = _mm512_set1_ps(alpha);
      float* o = acc + r * hd;
      for (int64_t d = 0; d < hd; d += 16) {
        _mm512_storeu_ps(o + d, _mm512_mul_ps(va, _mm512_loadu_ps(o + d)));
      }
      lr *= alpha;
      m[r] = m_new;
    }
    l[r] = lr + hsum1(p);
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
    for (int64_t h = 0; h < jb.n_heads; ++h) {
      const uint8_t* kt = static_cast<const uint8_t*>(jb.k) + jt * tok + h * hd * L::kBytes;
      const uint8_t* vt = static_cast<const uint8_t*>(jb.v) + jt * tok + h * hd * L::kBytes;
      const float* q = jb.q + (h * nr + r0) * hd;
      float* m = jb.m + h * nr;
      float* l = jb.l + h * nr;
      float* acc = jb.acc + h * nr * hd;
      prefetch_tile_slice(jb, jt, h, tok);
      if (direct) {
        scores<L>(q, nr - r0, hd, kt, jb.kv_stride, nk, s + r0 * kTile);
      } else {
        widen<L>(kt, jb.kv_stride, nk, hd, kf);
        scores<LoadF32>(q, nr - r0, hd, kf, hd, nk, s + r0 * kTile);
      }
      softmax_tile(jb, m, l, acc, r0, jt, nk, s);
      if (direct) {
        mix<L>(s, r0, nr, hd, vt, jb.kv_stride, nk, acc);
      } else {
        widen<L>(vt, jb.kv_stride, nk, hd, vf);
        mix<LoadF32>(s, r0, nr, hd, vf, hd, nk, acc);
      }
    }
  }
}

}  // namespace

void attention_tile_avx512(const AttnTileJob& job) {
  // Decode jobs of 2 to 8 rows: attention_decode_avx512.cpp.
  if (attention_decode_avx512_fits(job)) {
    attention_decode_avx512(job);
    return;
  }
  if (job.n_rows >= kAttnWideRows) {
    attention_rows_avx512(job);
    return;
  }
  // Other jobs of 5..15 rows (prefill blocks, decode groups of 9-15) take the 8-lane rows kernel:
  // measured faster than this file's kernels for 8 rows before the decode kernel existed (32
  // heads / 4 kv heads over 4096 f16 positions).
  if (job.n_rows >= 5) {
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
