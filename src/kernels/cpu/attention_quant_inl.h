// Attention over a quantized KV cache (K and/or V in Q8_0 / Q4_0 blocks), written once over a
// vector traits class V and instantiated by attention_quant_{scalar,avx2,avx512}.cpp, each with
// its own instruction-set flags (everything here has internal linkage: the build rule in
// KERNELS.md). One job (AttnTileJob) is a query block of every kv head against a key range.
//
// Scores without horizontal sums, keys as lanes. A tile is V::kLanes keys. Per block b of 32 dims
// the tile's K integers are transposed (loads and in-register shuffles; gathers measured 2.5x
// slower than the f16 kernel) so that lane j of vector i holds dword i (4 int8, or 8 nibbles
// split into two vectors) of key j's block: then one broadcast of the query's matching 4
// int8 and one u8 x s8 dot instruction (VNNI dpbusd, or maddubs + madd) adds 4 products to every
// key's block sum at once. With d_q, d_k the block scales and I_jb the integer sum,
//   s_j = qscale * sum_b d_q[b] d_k[j][b] I_jb,
// applied as one convert + multiply + FMA per block and 16 (8) keys. Unsigned operands carry
// an offset that a per-row constant removes: on AVX-512 the int8 K is flipped to u8 (k + 128),
// so I_jb = sum (k + 128) q - 128 sum q; Q4_0's nibbles are k + 8, so minus 8 sum q; the AVX2
// path keeps int8 K and moves the sign onto q (|k| x sign(q, k), no offset).
//
// The online softmax runs on each row's vector of tile scores (masked max, exp2, sum). V is
// dequantized once per tile into f32 (d * q is exact in f32), then O += P V keeps
// V::kMixRows rows x V::kMixVecs vectors of accumulators with P broadcast per key.
//
// V provides: Vec / IVec, kLanes, kMixRows, kMixVecs, kQ8Planes, kQ8Offset; float ops zero,
// set1, load, store, bcast, mul, fmadd, exp2 (x <= 0), hsum, hmax, mask_keys (lanes >= n to
// -inf), zero_above (lanes >= n to 0), f16_to_f32 (one value); int ops iset1, iload, istore,
// ibcast32 (4 bytes from memory), load_tile16x4 (16 bytes of each key, keys p + min(j, nk - 1)
// * stride, transposed: out[i] lane j = dword i of key j), nib_lo / nib_hi, cvt, prep_q8 (a raw
// K dword vector
// into kQ8Planes vectors), dot_q8 / dot_u8 (acc + 4-byte dot products); row loads load_f32,
// load_f16, load_bf16, load_i8 (kLanes int8 as floats), load_q4lo / load_q4hi (kLanes bytes'
// low / high nibbles minus 8 as floats).
#pragma once

#include <cstdint>

#include "kernels/cpu/attention_kernels.h"

namespace longctx::cpu {
namespace {

constexpr int64_t kQkBlock = 32;       // elements per Q8_0 / Q4_0 block
constexpr int64_t kQ8BlockBytes = 34;  // fp16 d + 32 int8
constexpr int64_t kQ4BlockBytes = 18;  // fp16 d + 16 bytes of nibbles

static inline uint16_t quant_load_u16(const uint8_t* p) {
  uint16_t v;
  __builtin_memcpy(&v, p, 2);
  return v;
}

// Scratch areas of one job, carved from jb.work (attn_quant_work_floats sizes them).
struct QuantScratch {
  float* qd;     // [n_heads][n_rows][nb] query block scale x qscale
  int32_t* qc;   // [n_heads][n_rows][nb] the offset correction (the int accumulator's start)
  int32_t* kt;   // [nb][8][kQ8Planes][kLanes] the key tile's integers, keys as lanes
  float* dk;     // [nb][kLanes] the key tile's block scales
  float* kf;     // [kLanes][head_dim] the key tile in f32 (float K)
  float* vf;     // [kLanes][head_dim] the value tile in f32
  float* p;      // [n_rows][kLanes] softmax weights of the tile
  float* alpha;  // [n_rows] rescale factors of the accumulators
  float* sbuf;   // [kLanes] scores of one row (float K)
};

static inline float* quant_area(float*& cur, int64_t n) {
  float* a = cur;
  cur += (n + 15) / 16 * 16;
  return a;
}

static inline QuantScratch quant_scratch(const AttnTileJob& jb) {
  const int64_t nb = jb.head_dim / kQkBlock, nr = jb.n_rows, nh = jb.n_heads, hd = jb.head_dim;
  const int64_t lanes = 16;  // the widest path's; narrower ones use a prefix
  float* cur =
      reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(jb.work) + 63) & ~uintptr_t(63));
  QuantScratch s;
  s.qd = quant_area(cur, nh * nr * nb);
  s.qc = reinterpret_cast<int32_t*>(quant_area(cur, nh * nr * nb));
  s.kt = reinterpret_cast<int32_t*>(quant_area(cur, nb * 8 * 2 * lanes));
  s.dk = quant_area(cur, nb * lanes);
  s.kf = quant_area(cur, lanes * hd);
  s.vf = quant_area(cur, lanes * hd);
  s.p = quant_area(cur, nr * lanes);
  s.alpha = quant_area(cur, nr);
  s.sbuf = quant_area(cur, lanes);
  return s;
}

// The key tile of one head: keys [0, nk) of the tile at kh (token stride tok bytes), keys past
// nk repeat key nk - 1 (their scores are masked). Block-type K: integers transposed to keys as
// lanes and block scales; float K: rows widened to f32.
template <class V>
static inline void quant_prep_keys(const AttnTileJob& jb, const uint8_t* kh, int64_t nk,
                                   const QuantScratch& s) {
  constexpr int64_t L = V::kLanes, P = V::kQ8Planes;
  const int64_t hd = jb.head_dim, nb = hd / kQkBlock, tok = jb.k_token_bytes;
  if (kv_code_is_block(jb.k_type)) {
    const bool q8 = jb.k_type == kKvQ8_0;
    const int64_t bb = q8 ? kQ8BlockBytes : kQ4BlockBytes;
    uint16_t dh[L];
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = kh + b * bb;
      for (int64_t j = 0; j < L; ++j) dh[j] = quant_load_u16(blk + (j < nk ? j : nk - 1) * tok);
      V::store(s.dk + b * L, V::load_f16(reinterpret_cast<const uint8_t*>(dh)));
      int32_t* kt = s.kt + b * 8 * P * L;
      typename V::IVec w[4];
      if (q8) {
        // Dwords 0-3 and 4-7 of each key's 32 int8, transposed to keys as lanes.
        for (int64_t half = 0; half < 2; ++half) {
          V::load_tile16x4(blk + 2 + 16 * half, tok, nk, w);
          for (int64_t i = 0; i < 4; ++i) V::prep_q8(w[i], kt + (4 * half + i) * P * L);
        }
      } else {
        // Dword i of the nibbles holds elements 4i..4i+3 (low) and 16+4i..19+4i (high): vectors
        // i and 4 + i, each meeting the query's dword of the same index.
        V::load_tile16x4(blk + 2, tok, nk, w);
        for (int64_t i = 0; i < 4; ++i) {
          V::istore(kt + i * P * L, V::nib_lo(w[i]));
          V::istore(kt + (4 + i) * P * L, V::nib_hi(w[i]));
        }
      }
    }
    return;
  }
  for (int64_t j = 0; j < nk; ++j) {
    const uint8_t* row = kh + j * tok;
    float* dst = s.kf + j * hd;
    for (int64_t d = 0; d < hd; d += L) {
      if (jb.k_type == kKvF16) {
        V::store(dst + d, V::load_f16(row + 2 * d));
      } else if (jb.k_type == kKvBF16) {
        V::store(dst + d, V::load_bf16(row + 2 * d));
      } else {
        V::store(dst + d, V::load_f32(row + 4 * d));
      }
    }
  }
}

// Scores of row r of head h against the prepared key tile (log2 domain, unmasked).
template <class V>
static inline typename V::Vec quant_scores(const AttnTileJob& jb, const QuantScratch& s, int64_t h,
                                           int64_t r, int64_t nk) {
  constexpr int64_t L = V::kLanes, P = V::kQ8Planes;
  const int64_t hd = jb.head_dim, nb = hd / kQkBlock, nr = jb.n_rows;
  if (kv_code_is_block(jb.k_type)) {
    const int64_t row = h * nr + r;
    const uint8_t* qb = jb.q8 + row * nb * kQ8BlockBytes + 2;  // the int8 of block 0
    const float* qd = s.qd + row * nb;
    const int32_t* qc = s.qc + row * nb;
    typename V::Vec acc = V::zero();
    const bool q8 = jb.k_type == kKvQ8_0;
    for (int64_t b = 0; b < nb; ++b, qb += kQ8BlockBytes) {
      const int32_t* kt = s.kt + b * 8 * P * L;
      typename V::IVec isum = V::iset1(qc[b]);
      if (q8) {
#pragma GCC unroll 8
        for (int64_t i = 0; i < 8; ++i)
          isum = V::dot_q8(isum, kt + i * P * L, V::ibcast32(qb + 4 * i));
      } else {
#pragma GCC unroll 8
        for (int64_t i = 0; i < 8; ++i) {
          isum = V::dot_u8(isum, V::iload(kt + i * P * L), V::ibcast32(qb + 4 * i));
        }
      }
      acc = V::fmadd(V::cvt(isum), V::mul(V::load(s.dk + b * L), V::set1(qd[b])), acc);
    }
    return acc;
  }
  const float* q = jb.q + (h * nr + r) * hd;
  for (int64_t j = 0; j < L; ++j) {
    if (j >= nk) {
      s.sbuf[j] = 0.0f;
      continue;
    }
    typename V::Vec a = V::zero();
    const float* kj = s.kf + j * hd;
    for (int64_t d = 0; d < hd; d += L) a = V::fmadd(V::load(q + d), V::load(kj + d), a);
    s.sbuf[j] = V::hsum(a);
  }
  return V::load(s.sbuf);
}

// The value tile: rows [0, nk) at vh (token stride tok bytes) in f32.
template <class V>
static inline void quant_prep_values(const AttnTileJob& jb, const uint8_t* vh, int64_t nk,
                                     float* vf) {
  constexpr int64_t L = V::kLanes;
  const int64_t hd = jb.head_dim, nb = hd / kQkBlock, tok = jb.v_token_bytes;
  for (int64_t j = 0; j < nk; ++j) {
    const uint8_t* row = vh + j * tok;
    float* dst = vf + j * hd;
    switch (jb.v_type) {
      case kKvQ8_0:
        for (int64_t b = 0; b < nb; ++b, row += kQ8BlockBytes, dst += kQkBlock) {
          const typename V::Vec d = V::set1(V::f16_to_f32(quant_load_u16(row)));
          for (int64_t c = 0; c < kQkBlock; c += L) {
            V::store(dst + c, V::mul(d, V::load_i8(row + 2 + c)));
          }
        }
        break;
      case kKvQ4_0:
        for (int64_t b = 0; b < nb; ++b, row += kQ4BlockBytes, dst += kQkBlock) {
          const typename V::Vec d = V::set1(V::f16_to_f32(quant_load_u16(row)));
          for (int64_t c = 0; c < kQkBlock / 2; c += L) {
            V::store(dst + c, V::mul(d, V::load_q4lo(row + 2 + c)));
            V::store(dst + kQkBlock / 2 + c, V::mul(d, V::load_q4hi(row + 2 + c)));
          }
        }
        break;
      case kKvF16:
        for (int64_t d = 0; d < hd; d += L) V::store(dst + d, V::load_f16(row + 2 * d));
        break;
      case kKvBF16:
        for (int64_t d = 0; d < hd; d += L) V::store(dst + d, V::load_bf16(row + 2 * d));
        break;
      default:
        for (int64_t d = 0; d < hd; d += L) V::store(dst + d, V::load_f32(row + 4 * d));
        break;
    }
  }
}

// o[i][:DV kLanes] = alpha[i] o[i][..] + sum_{j < nk} p[i][j] vf[j][..] for R rows (o rows hd
// apart, p rows kLanes apart; o, vf offset to the first dim).
template <class V, int R, int DV>
static inline void quant_mix_block(const float* p, const float* alpha, const float* vf, int64_t hd,
                                   int64_t nk, float* o) {
  constexpr int64_t L = V::kLanes;
  typename V::Vec acc[R][DV];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    const typename V::Vec a = V::bcast(alpha + i);
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) acc[i][c] = V::mul(a, V::load(o + i * hd + L * c));
  }
  for (int64_t j = 0; j < nk; ++j) {
    typename V::Vec vv[DV];
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) vv[c] = V::load(vf + j * hd + L * c);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const typename V::Vec pb = V::bcast(p + i * L + j);
#pragma GCC unroll 8
      for (int c = 0; c < DV; ++c) acc[i][c] = V::fmadd(pb, vv[c], acc[i][c]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 8
    for (int c = 0; c < DV; ++c) V::store(o + i * hd + L * c, acc[i][c]);
  }
}

// quant_mix_block for n <= R rows.
template <class V, int DV, int R = V::kMixRows>
static inline void quant_mix_rows(int64_t n, const float* p, const float* alpha, const float* vf,
                                  int64_t hd, int64_t nk, float* o) {
  if (n == R) {
    quant_mix_block<V, R, DV>(p, alpha, vf, hd, nk, o);
  } else if constexpr (R > 1) {
    quant_mix_rows<V, DV, R - 1>(n, p, alpha, vf, hd, nk, o);
  }
}

// Rows [r0, nr) of one head: acc = alpha acc + P V.
template <class V>
static inline void quant_mix(const float* p, const float* alpha, const float* vf, int64_t hd,
                             int64_t nk, int64_t r0, int64_t nr, float* acc) {
  constexpr int64_t L = V::kLanes, kWide = V::kLanes * V::kMixVecs;
  for (int64_t r = r0; r < nr; r += V::kMixRows) {
    const int64_t n = nr - r < V::kMixRows ? nr - r : V::kMixRows;
    int64_t c = 0;
    for (; c + kWide <= hd; c += kWide) {
      quant_mix_rows<V, V::kMixVecs>(n, p + r * L, alpha + r, vf + c, hd, nk, acc + r * hd + c);
    }
    for (; c < hd; c += L) {
      quant_mix_rows<V, 1>(n, p + r * L, alpha + r, vf + c, hd, nk, acc + r * hd + c);
    }
  }
}

// Prefetch distance in tiles. The K and V of a tile are contiguous across heads (tokens
// [jt, jt + kLanes) x all kv heads); while head h of tile jt computes, it prefetches its 1 /
// n_heads share of tile jt + kQuantAhead's bytes, so requests spread over the computation. Without
// it the first reads of each value row stalled on memory (a third of the kernel's samples).
constexpr int64_t kQuantAhead = 2;

static inline void quant_prefetch_slice(const uint8_t* base, int64_t bytes, int64_t h, int64_t nh,
                                        void (*fetch)(const void*)) {
  const int64_t slice = (bytes / nh + 63) / 64 * 64;
  const int64_t end = (h + 1) * slice < bytes ? (h + 1) * slice : bytes;
  for (int64_t o = h * slice; o < end; o += 64) fetch(base + o);
}

template <class V>
static void quant_run(const AttnTileJob& jb) {
  constexpr int64_t L = V::kLanes;
  const int64_t hd = jb.head_dim, nr = jb.n_rows, nh = jb.n_heads, nb = hd / kQkBlock;
  const QuantScratch s = quant_scratch(jb);
  // 1. Per query row and block: d_q x qscale, and the integer start that cancels the offset of
  //    the unsigned operand (sum q times 128 for flipped Q8_0 keys, times 8 for Q4_0 nibbles).
  if (kv_code_is_block(jb.k_type)) {
    const int32_t offset = jb.k_type == kKvQ4_0 ? 8 : V::kQ8Offset;
    for (int64_t i = 0; i < nh * nr * nb; ++i) {
      const uint8_t* blk = jb.q8 + i * kQ8BlockBytes;
      s.qd[i] = V::f16_to_f32(quant_load_u16(blk)) * jb.qscale;
      int32_t sum = 0;
      for (int64_t e = 0; e < kQkBlock; ++e) sum += static_cast<int8_t>(blk[2 + e]);
      s.qc[i] = -offset * sum;
    }
  }
  for (int64_t jt = jb.j0; jt < jb.j1; jt += L) {
    const int64_t nk = jb.j1 - jt < L ? jb.j1 - jt : L;
    const int64_t r0 = first_live_row(jb, jt);
    if (r0 >= nr) break;
    for (int64_t h = 0; h < nh; ++h) {
      const uint8_t* kh =
          static_cast<const uint8_t*>(jb.k) + jt * jb.k_token_bytes + h * jb.k_head_bytes;
      const uint8_t* vh =
          static_cast<const uint8_t*>(jb.v) + jt * jb.v_token_bytes + h * jb.v_head_bytes;
      if (jt + (kQuantAhead + 1) * L <= jb.j1) {
        const int64_t ahead = kQuantAhead * L;
        quant_prefetch_slice(static_cast<const uint8_t*>(jb.k) + (jt + ahead) * jb.k_token_bytes,
                             L * jb.k_token_bytes, h, nh, V::prefetch);
        quant_prefetch_slice(static_cast<const uint8_t*>(jb.v) + (jt + ahead) * jb.v_token_bytes,
                             L * jb.v_token_bytes, h, nh, V::prefetch);
      }
      float* m = jb.m + h * nr;
      float* l = jb.l + h * nr;
      // 2. Key tile, then per live row: scores, masked to the keys it sees, and the online
      //    softmax: m_new = max(m, tile max), weights 2^(s - m_new), acc and l scaled by
      //    2^(m - m_new) (0 on the first tile, where m = -inf and acc = 0).
      quant_prep_keys<V>(jb, kh, nk, s);
      for (int64_t r = r0; r < nr; ++r) {
        int64_t nv = jb.pos0 + r / jb.group + 1 - jt;  // >= 1 for a live row
        nv = nv < nk ? nv : nk;
        const typename V::Vec x = V::mask_keys(quant_scores<V>(jb, s, h, r, nk), nv);
        const float mt = V::hmax(x);
        const float m_new = mt > m[r] ? mt : m[r];
        const typename V::Vec w = V::zero_above(V::exp2(V::sub(x, V::set1(m_new))), nv);
        V::store(s.p + r * L, w);
        const float a = m_new > m[r] ? V::exp2_1(m[r] - m_new) : 1.0f;
        s.alpha[r] = a;
        l[r] = l[r] * a + V::hsum(w);
        m[r] = m_new;
      }
      // 3. Value tile in f32, then acc = alpha acc + P V for the live rows.
      quant_prep_values<V>(jb, vh, nk, s.vf);
      quant_mix<V>(s.p, s.alpha, s.vf, hd, nk, r0, nr, jb.acc + h * nr * hd);
    }
  }
}

}  // namespace
}  // namespace longctx::cpu
