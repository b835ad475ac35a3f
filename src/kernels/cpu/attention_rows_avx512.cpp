// AVX-512 instantiation of the rows-as-lanes attention kernel (attention_rows_inl.h has the
// scheme): 16 rows per vector, score passes of 6 keys x 4 row vectors (24 accumulators), P V in
// 6 rows x 64 dims, the online softmax with mask registers. Used for jobs of kAttnWideRows rows
// or more (prefill).
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
#include "kernels/cpu/attention_rows_inl.h"
#include "kernels/cpu/vec_avx512_inl.h"

namespace longctx::cpu {
namespace {

// Online-softmax update of row vectors [v0, nv) for a tile of nk keys starting at jt: scores
// st[j * rp + row] become weights 2^(s - m_new) (0 where a key is past the row's causal limit
// lim[row]; rows past n_rows have limit -1), alpha[row] = 2^(m_old - m_new) is the factor the
// row's acc needs, and m, l (n_rows floats) are updated.
static void softmax_rows(int64_t n_rows, int64_t rp, int64_t v0, int64_t nv, int64_t jt, int64_t nk,
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

struct Vec512 : F32x16 {
  static constexpr int kMaxKeys = 6, kMaxRowVecs = 4, kMixRows = 6, kMixVecs = 4;
  static void softmax_tile(int64_t n_rows, int64_t rp, int64_t v0, int64_t nv, int64_t jt,
                           int64_t nk, const int32_t* lim, float* m, float* l, float* st,
                           float* alpha) {
    softmax_rows(n_rows, rp, v0, nv, jt, nk, lim, m, l, st, alpha);
  }
  template <class L>
  static void widen(const void* src, int64_t stride, int64_t nk, int64_t hd, float* dst,
                    int64_t ahead, int64_t n_ahead) {
    longctx::cpu::widen<L>(src, stride, nk, hd, dst, ahead, n_ahead);
  }
};

}  // namespace

void attention_rows_avx512(const AttnTileJob& job) {
  if (job.kv_type == 1) {
    rows_run<Vec512, LoadF16>(job);
  } else if (job.kv_type == 2) {
    rows_run<Vec512, LoadBF16>(job);
  } else {
    rows_run<Vec512, LoadF32>(job);
  }
}

}  // namespace longctx::cpu
