// AVX2 instantiation of the rows-as-lanes attention kernel (attention_rows_inl.h has the
// scheme): 8 rows per vector, score passes of 4 keys x 2 row vectors, P V in 4 rows x 16 dims
// (both fit the 16 ymm registers), the online softmax with vector compares for masks. Used for
// jobs of kAttnWideRows rows or more on the AVX2 path, and by the AVX-512 path for decode jobs of
// 5..15 rows (a GQA group of one query), where 8-lane vectors waste fewer lanes than 16-lane ones.
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/attention_avx2_inl.h"
#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/attention_rows_inl.h"
#include "kernels/cpu/vec_avx2_inl.h"

namespace longctx::cpu {
namespace {

// Online-softmax update of row vectors [v0, nv) for a tile of nk keys starting at jt (see
// attention_rows_avx512.cpp): weights in place of the scores, alpha = 2^(m_old - m_new), m and l
// (n_rows floats) updated. Lanes where key j is past the row's limit are zeroed.
static void softmax_rows(int64_t n_rows, int64_t rp, int64_t v0, int64_t nv, int64_t jt, int64_t nk,
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

struct Vec256 : F32x8 {
  static constexpr int kMaxKeys = 4, kMaxRowVecs = 2, kMixRows = 4, kMixVecs = 2;
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

void attention_rows_avx2(const AttnTileJob& job) {
  if (job.kv_type == 1) {
    rows_run<Vec256, LoadF16>(job);
  } else if (job.kv_type == 2) {
    rows_run<Vec256, LoadBF16>(job);
  } else {
    rows_run<Vec256, LoadF32>(job);
  }
}

}  // namespace longctx::cpu
