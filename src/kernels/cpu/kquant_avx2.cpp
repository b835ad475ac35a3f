// AVX2 (+FMA, F16C) K-quant kernels: the Q8_K quantizer and the Q4_K / Q5_K x Q8_K gemv / gemm.
// Compiled with -mavx2: everything but register_kquant_avx2 has internal linkage and only
// intrinsics are called (see the build rule in cpu_kernels.h).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "quant/blocks.h"

namespace longctx::cpu {
namespace {

constexpr int kTypeQ4K = 12;  // GGUF type ids (quant/types.h)
constexpr int kTypeQ5K = 13;
constexpr int kSB = 256;  // elements per super-block

static inline float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline int hsum8i(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

// Q8_K with the scalar path's semantics (kquant_scalar.cpp): the same float products and the
// same round-half-to-even conversion (cvtps under the default MXCSR), so the bytes are equal.
void quantize_q8k(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < n / kSB; ++b, x += kSB, out += sizeof(BlockQ8K)) {
    __m256 am = _mm256_setzero_ps();
    for (int i = 0; i < 32; ++i) {
      am = _mm256_max_ps(am, _mm256_and_ps(_mm256_loadu_ps(x + 8 * i), abs_mask));
    }
    const float amax = hmax8(am);
    if (amax == 0.0f) {
      std::memset(out, 0, sizeof(BlockQ8K));
      continue;
    }
    // The first element of magnitude amax decides the sign, as in the scalar loop's strict '>'.
    const __m256 amv = _mm256_set1_ps(amax);
    int first = 0;
    for (int i = 0; i < 32; ++i) {
      const __m256 ax = _mm256_and_ps(_mm256_loadu_ps(x + 8 * i), abs_mask);
      const int m = _mm256_movemask_ps(_mm256_cmp_ps(ax, amv, _CMP_EQ_OQ));
      if (m != 0) {
        first = 8 * i + __builtin_ctz(static_cast<unsigned>(m));
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m256 is = _mm256_set1_ps(iscale);
    const __m256i q_max = _mm256_set1_epi32(127);
    // packs_epi32 / packs_epi16 interleave 128-bit lanes; this puts the dwords back in order.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int16_t bsums[16];
    for (int i = 0; i < 32; i += 4) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        q[k] = _mm256_min_epi32(
            _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * (i + k)), is)), q_max);
      }
      const __m256i bytes = _mm256_permutevar8x32_epi32(
          _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3])),
          order);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4 + 8 * i), bytes);
      bsums[i / 2] = static_cast<int16_t>(hsum8i(_mm256_add_epi32(q[0], q[1])));
      bsums[i / 2 + 1] = static_cast<int16_t>(hsum8i(_mm256_add_epi32(q[2], q[3])));
    }
    const float d = 1.0f / iscale;
    std::memcpy(out, &d, 4);
    std::memcpy(out + 4 + kSB, bsums, sizeof(bsums));
  }
}

// The 12 packed scale bytes at p (16 bytes are read; the block continues past them) as
// [sc0..sc7, m0..m7]. In 32-bit words w0, w1, w2 of the packing (see unpack_scale_min_k4):
//   sc0..3 = w0 & 0x3f.., m0..3 = w1 & 0x3f..,
//   sc4..7 = (w2 & 0x0f..) | ((w0 >> 2) & 0x30..), m4..7 = ((w2 >> 4) & 0x0f..) | ((w1 >> 2) &
//   0x30..)
static inline __m128i unpack_scales(const uint8_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x3f));
  const __m128i w2 = _mm_shuffle_epi32(b, 0xaa);
  const __m128i hn =
      _mm_and_si128(_mm_srlv_epi32(w2, _mm_set_epi32(0, 0, 4, 0)), _mm_set1_epi8(0x0f));
  const __m128i top = _mm_and_si128(_mm_srli_epi32(b, 2), _mm_set1_epi8(0x30));
  return _mm_unpacklo_epi32(lo, _mm_or_si128(hn, top));
}

// One Q8_K block as the dot loops want it: its q, the 8 sub-block sums of q (int16: |sum| <=
// 32 * 127) and [d_a x 4, -d_a x 4].
struct ActBlock {
  const uint8_t* q;
  __m128i bsum;
  __m256 dneg;
};

static inline ActBlock load_act(const uint8_t* ab) {
  ActBlock r;
  r.q = ab + 4;
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ab + 4 + kSB));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ab + 4 + kSB + 16));
  r.bsum = _mm_hadd_epi16(lo, hi);  // bsums[2s] + bsums[2s + 1]
  float d;
  std::memcpy(&d, ab, 4);
  r.dneg = _mm256_blend_ps(_mm256_set1_ps(d), _mm256_set1_ps(-d), 0xf0);
  return r;
}

struct Consts {
  __m256i nib;      // 0x0f bytes
  __m256i sixteen;  // 0x10 bytes (the fifth bit of Q5_K)
  __m256i sel[8];   // vpshufb patterns broadcasting 16-bit scale s to every lane
  __m256i sel_dm;   // lane -> 0 (d) in lanes 0..3, 1 (dmin) in lanes 4..7
};

static inline Consts make_consts() {
  Consts k;
  k.nib = _mm256_set1_epi8(0x0f);
  k.sixteen = _mm256_set1_epi8(0x10);
  for (int s = 0; s < 8; ++s)
    k.sel[s] = _mm256_set1_epi16(static_cast<short>(0x0100 * (2 * s + 1) + 2 * s));
  k.sel_dm = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
  return k;
}

// Adds one weight super-block (Q4_K or Q5_K at wb) times activation block a to acc, whose lanes
// sum to the dot product: lanes 0..3 carry d * d_a * (sum_s sc_s * sum_l q_l a_l) split over
// lanes, lanes 4..7 carry -dmin * d_a * sum_s m_s * (sum of a over sub-block s).
template <bool kQ5>
static inline __m256 dot_block(const uint8_t* wb, const ActBlock& a, const Consts& k, __m256 acc) {
  const __m128i sm = unpack_scales(wb + 4);
  const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
  const __m128i m16 = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
  const uint8_t* qs = wb + 4 + kKScaleBytes + (kQ5 ? kQKK / 8 : 0);
  __m256i qh = _mm256_setzero_si256();
  if (kQ5) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + 16));
  __m256i sumi = _mm256_setzero_si256();
  for (int c = 0; c < 4; ++c) {
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
    __m256i lo = _mm256_and_si256(raw, k.nib);                        // sub-block 2c
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), k.nib);  // sub-block 2c + 1
    if (kQ5) {
      // Bits 0 and 1 of each qh byte hold bit 4 of sub-blocks 2c and 2c+1 (qh shifts right by 2
      // per chunk; the 16-bit shift only pulls the neighbour byte's bits into bits 6..7).
      lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(qh, 4), k.sixteen));
      hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(qh, 3), k.sixteen));
      qh = _mm256_srli_epi16(qh, 2);
    }
    // q <= 31 and |a| <= 127: the pair sums of maddubs stay far below the int16 limit, and the
    // scaled pair sums (<= 63 * 2 * 31 * 127) fit in int32.
    const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + 64 * c));
    const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + 64 * c + 32));
    const __m256i p0 = _mm256_maddubs_epi16(lo, a0);
    const __m256i p1 = _mm256_maddubs_epi16(hi, a1);
    sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p0, _mm256_shuffle_epi8(sc, k.sel[2 * c])));
    sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p1, _mm256_shuffle_epi8(sc, k.sel[2 * c + 1])));
  }
  const __m128i fold =
      _mm_add_epi32(_mm256_castsi256_si128(sumi), _mm256_extracti128_si256(sumi, 1));
  const __m128i mins = _mm_madd_epi16(m16, a.bsum);
  const __m256i comb = _mm256_set_m128i(mins, fold);
  uint32_t dd;
  std::memcpy(&dd, wb, 4);
  const __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(dd)));  // [d, dmin, 0, 0]
  const __m256 scale =
      _mm256_mul_ps(_mm256_permutevar8x32_ps(_mm256_zextps128_ps256(dm), k.sel_dm), a.dneg);
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(comb), scale, acc);
}

// y[r] for R consecutive rows against one activation row; each activation block's sums and
// scale are prepared once for the R rows.
template <bool kQ5, int R>
static inline void rows(int64_t nb, const uint8_t* w, size_t w_stride, const uint8_t* a,
                        const Consts& k, float* y) {
  constexpr size_t kBB = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const ActBlock ab = load_act(a + b * sizeof(BlockQ8K));
    for (int r = 0; r < R; ++r) {
      const uint8_t* wb = w + r * w_stride + b * kBB;
      // Fetch into L2 the same block 2R rows further on, so memory latency overlaps the
      // arithmetic (see kquant_avx512.cpp). Prefetches never fault past the last row.
      const char* next = reinterpret_cast<const char*>(wb + 2 * R * w_stride);
      _mm_prefetch(next, _MM_HINT_T1);
      _mm_prefetch(next + 64, _MM_HINT_T1);
      _mm_prefetch(next + 128, _MM_HINT_T1);
      acc[r] = dot_block<kQ5>(wb, ab, k, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]);
}

template <bool kQ5>
static inline void rows_any(int64_t nb, const uint8_t* w, size_t w_stride, int64_t nr,
                            const uint8_t* a, const Consts& k, float* y) {
  int64_t r = 0;
  for (; r + 2 <= nr; r += 2) rows<kQ5, 2>(nb, w + r * w_stride, w_stride, a, k, y + r);
  if (r < nr) rows<kQ5, 1>(nb, w + r * w_stride, w_stride, a, k, y + r);
}

template <bool kQ5>
void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  const Consts k = make_consts();
  rows_any<kQ5>(n / kSB, static_cast<const uint8_t*>(w), w_stride, nr,
                static_cast<const uint8_t*>(a), k, y);
}

// gemm register tile: one weight row x C activation columns. Each weight chunk is unpacked once
// per tile and dotted with the C columns (maddubs, madd with the sub-block scale); the float
// epilogue of a super-block per column is acc += sumi * (d * d_a) + mv * bv_c, with
// mv = -dmin * m_s and bv_c = d_a * (sum of a over sub-block s).
template <bool kQ5, int C>
static inline void tile(int64_t nb, const uint8_t* w, const uint8_t* a, size_t a_stride, float* y,
                        size_t ldy, const Consts& k) {
  constexpr size_t kBB = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  __m256 acc[C];
  for (int j = 0; j < C; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* wb = w + b * kBB;
    const __m128i sm = unpack_scales(wb + 4);
    const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
    uint32_t dd;
    std::memcpy(&dd, wb, 4);
    const __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(dd)));
    const __m256 dr = _mm256_broadcastss_ps(dm);
    const __m256 ndmin = _mm256_broadcastss_ps(_mm_sub_ps(_mm_setzero_ps(), _mm_movehdup_ps(dm)));
    const __m256 mv =
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8))), ndmin);
    const uint8_t* qs = wb + 4 + kKScaleBytes + (kQ5 ? kQKK / 8 : 0);
    __m256i qh = _mm256_setzero_si256();
    if (kQ5) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + 16));
    const uint8_t* aq = a + b * sizeof(BlockQ8K) + 4;
    __m256i sumi[C];
    for (int j = 0; j < C; ++j) sumi[j] = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
      __m256i lo = _mm256_and_si256(raw, k.nib);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), k.nib);
      if (kQ5) {
        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(qh, 4), k.sixteen));
        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(qh, 3), k.sixteen));
        qh = _mm256_srli_epi16(qh, 2);
      }
      const __m256i s0 = _mm256_shuffle_epi8(sc, k.sel[2 * c]);
      const __m256i s1 = _mm256_shuffle_epi8(sc, k.sel[2 * c + 1]);
      for (int j = 0; j < C; ++j) {
        const uint8_t* ap = aq + j * a_stride + 64 * c;
        const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ap));
        const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ap + 32));
        const __m256i t0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a0), s0);
        const __m256i t1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a1), s1);
        sumi[j] = _mm256_add_epi32(sumi[j], _mm256_add_epi32(t0, t1));
      }
    }
    for (int j = 0; j < C; ++j) {
      const uint8_t* ab = a + j * a_stride + b * sizeof(BlockQ8K);
      float d;
      std::memcpy(&d, ab, 4);
      const __m256 da = _mm256_set1_ps(d);
      const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ab + 4 + kSB));
      const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ab + 4 + kSB + 16));
      const __m256 bv =
          _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_hadd_epi16(lo, hi))), da);
      acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[j]), _mm256_mul_ps(dr, da), acc[j]);
      acc[j] = _mm256_fmadd_ps(mv, bv, acc[j]);
    }
  }
  for (int j = 0; j < C; ++j) y[j * ldy] = hsum8(acc[j]);
}

template <bool kQ5>
void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  const Consts k = make_consts();
  const auto* w8 = static_cast<const uint8_t*>(w);
  const auto* a8 = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kSB;
  // One weight row stays in L1 while all the columns pass over it in tiles of 4.
  for (int64_t r = 0; r < nr; ++r) {
    const uint8_t* wr = w8 + r * w_stride;
    int64_t c = 0;
    for (; c + 4 <= nc; c += 4)
      tile<kQ5, 4>(nb, wr, a8 + c * a_stride, a_stride, y + c * ldy + r, ldy, k);
    switch (nc - c) {
      case 3:
        tile<kQ5, 3>(nb, wr, a8 + c * a_stride, a_stride, y + c * ldy + r, ldy, k);
        break;
      case 2:
        tile<kQ5, 2>(nb, wr, a8 + c * a_stride, a_stride, y + c * ldy + r, ldy, k);
        break;
      case 1:
        tile<kQ5, 1>(nb, wr, a8 + c * a_stride, a_stride, y + c * ldy + r, ldy, k);
        break;
      default:
        break;
    }
  }
}

}  // namespace

void register_kquant_avx2(KernelTable* t) {
  t->quantize[static_cast<int>(ActType::kQ8_K)] = quantize_q8k;
  t->matmul[kTypeQ4K] = {ActType::kQ8_K, gemv<false>, gemm<false>};
  t->matmul[kTypeQ5K] = {ActType::kQ8_K, gemv<true>, gemm<true>};
}

}  // namespace longctx::cpu
