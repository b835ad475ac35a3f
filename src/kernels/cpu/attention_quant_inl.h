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
// The online softmax runs on each row's vector of tile scores (masked max, exp2, sum).
//
// P V with a block-type V is integer too, dims as lanes. Per tile and row, with mt the tile's
// max score, u_j = 2^(s_j - mt) in (0, 1] and the tile's weights are p_j = 2^(mt - m) u_j. Value
// j of block b is |dv_jb| x w_jbd (w the int8, or nibble - 8, negated where dv < 0). With
// D_b = max_j |dv_jb| over the tile, the weights are quantized per block to
//   c_jb = round(u_j |dv_jb| / D_b x TOP)  in [0, TOP],  TOP = B^n - 1  (B = PMAX + 1: 256, or
//   128 where maddubs' 16-bit pairs need weights below 128),
// so sum_j p_j v_jbd ~ 2^(mt - m) D_b / TOP x sum_j c_jb w_jbd. The same dot instructions take
// each base-B digit of c as the unsigned operand (4 keys per dword) against the values transposed
// to 4 keys per dword of one dim (dims in the trait's order V::vt_dim, undone once per job); with
// two digits, the high digits' sums times B plus the low digits'. The error is at most half a
// step, 2^(mt - m) D_b / TOP, per weight. A Q8_0 V takes two digits (n = 2): one alone raised the
// q8_0 cache's KL by 10-20% in test_kv_quant. A Q4_0 V takes one: its values have 16 levels, and
// the 8-bit weights add about 1.5% to the 4-bit cache's own KL while the kernel ran 17-28% faster
// (the mix's dot products halve). l keeps the exact f32 weights. A float V keeps the f32 path: V
// converted per tile, then O += P V with P broadcast per key.
//
// V provides: Vec / IVec, kLanes, kMixRows, kMixVecs, kQ8Planes, kQ8Offset, kPMax, kPvRows (rows
// per block of the score and P V loops); float ops zero, set1, load, store, bcast, mul, fmadd, exp2
// (x <= 0), hsum, hmax, mask_keys (lanes >= n to -inf), zero_above (lanes >= n to 0), f16_to_f32
// (one value), abs; int ops iset1, iload, istore, ibcast32 (4 bytes from memory), load_tile16x4 (16
// bytes of each key, key j at p + off[j], transposed: out[i] lane j = dword i of key
// j), nib_lo / nib_hi, cvt, prep_q8 (a raw K dword vector into kQ8Planes vectors), dot_q8 / dot_u8
// (acc + 4-byte dot products); row loads load_f32, load_f16, load_bf16; for the integer P V: vt_q8
// / vt_q4 (4 keys' blocks to 32 dwords of 4 keys, negated per key by a sign dword), vt_dim
// (position to dim), sign_bytes (kLanes f16 to bytes, 0xFF where negative), pack_digits / pack_u8
// (kLanes floats rounded to two base-B digits / one), ishl_digit (x B), dot_pv (acc + weights u8 x
// values s8).
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
  // Integer P V (block-type V); the transposed value integers live in vf's area.
  uint8_t* pq;    // [n_rows][nb][2][kLanes] quantized weights c_jb, high and low digits
  float* psc;     // [n_rows][nb] their scales 2^(mt - m) D_b / TOP
  float* cv;      // [nb][kLanes] |dv_jb| TOP / D_b
  float* dsc;     // [nb] D_b / TOP
  uint16_t* kdh;  // [nb][kLanes] the key tile's block scales as stored (f16)
  uint16_t* vdh;  // [nb][kLanes] the value tile's
  // Byte offsets of the tile's keys from its first, key j at min(j, nk - 1) (rows past nk repeat
  // the last one, their scores masked), for K and V.
  int64_t* koff;
  int64_t* voff;
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
  s.pq = reinterpret_cast<uint8_t*>(quant_area(cur, nr * nb * lanes / 2));
  s.psc = quant_area(cur, nr * nb);
  s.cv = quant_area(cur, nb * lanes);
  s.dsc = quant_area(cur, nb);
  s.kdh = reinterpret_cast<uint16_t*>(quant_area(cur, nb * lanes / 2));
  s.vdh = reinterpret_cast<uint16_t*>(quant_area(cur, nb * lanes / 2));
  s.koff = reinterpret_cast<int64_t*>(quant_area(cur, 2 * lanes));
  s.voff = reinterpret_cast<int64_t*>(quant_area(cur, 2 * lanes));
  return s;
}

// The block scales of the tile's keys (block-type K) and values (block-type V) as stored (keys
// at s.koff / s.voff). They go through memory (16-bit stores, later vector loads);
// gathering them before the transposes lets the stores retire before those loads (a load that
// spans several pending stores waits for all of them).
template <class V>
static inline void quant_gather_scales(const AttnTileJob& jb, const uint8_t* kh, const uint8_t* vh,
                                       const QuantScratch& s) {
  constexpr int64_t L = V::kLanes;
  const int64_t nb = jb.head_dim / kQkBlock;
  const auto gather = [&](const uint8_t* base, int type, const int64_t* off, uint16_t* out) {
    if (!kv_code_is_block(type)) return;
    const int64_t bb = type == kKvQ8_0 ? kQ8BlockBytes : kQ4BlockBytes;
    for (int64_t b = 0; b < nb; ++b) {
      for (int64_t j = 0; j < L; ++j) out[b * L + j] = quant_load_u16(base + b * bb + off[j]);
    }
  };
  gather(kh, jb.k_type, s.koff, s.kdh);
  gather(vh, jb.v_type, s.voff, s.vdh);
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
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = kh + b * bb;
      int32_t* kt = s.kt + b * 8 * P * L;
      typename V::IVec w[4];
      if (q8) {
        // Dwords 0-3 and 4-7 of each key's 32 int8, transposed to keys as lanes.
        for (int64_t half = 0; half < 2; ++half) {
          V::load_tile16x4(blk + 2 + 16 * half, s.koff, w);
          for (int64_t i = 0; i < 4; ++i) V::prep_q8(w[i], kt + (4 * half + i) * P * L);
        }
      } else {
        // Dword i of the nibbles holds elements 4i..4i+3 (low) and 16+4i..19+4i (high): vectors
        // i and 4 + i, each meeting the query's dword of the same index.
        V::load_tile16x4(blk + 2, s.koff, w);
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

// The key tile's block scales to f32 (after quant_prep_keys and the value transposes).
template <class V>
static inline void quant_keys_scales(const AttnTileJob& jb, const QuantScratch& s) {
  constexpr int64_t L = V::kLanes;
  if (!kv_code_is_block(jb.k_type)) return;
  for (int64_t b = 0; b < jb.head_dim / kQkBlock; ++b) {
    V::store(s.dk + b * L, V::load_f16(reinterpret_cast<const uint8_t*>(s.kdh + b * L)));
  }
}

// Scores of row r of head h against a float key tile (log2 domain, unmasked).
template <class V>
static inline typename V::Vec quant_scores(const AttnTileJob& jb, const QuantScratch& s, int64_t h,
                                           int64_t r, int64_t nk) {
  constexpr int64_t L = V::kLanes;
  const int64_t hd = jb.head_dim, nr = jb.n_rows;
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

// Scores of rows [r, r + R) of head h against a block-type key tile (log2 domain, unmasked):
// quant_scores for several rows at once, each key vector loaded once for all of them.
template <class V, int R>
static inline void quant_scores_block(const AttnTileJob& jb, const QuantScratch& s, int64_t h,
                                      int64_t r, typename V::Vec* out) {
  constexpr int64_t L = V::kLanes, P = V::kQ8Planes;
  const int64_t nb = jb.head_dim / kQkBlock, nr = jb.n_rows;
  const bool q8 = jb.k_type == kKvQ8_0;
  const uint8_t* qb[R];
  typename V::Vec acc[R];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    qb[i] = jb.q8 + (h * nr + r + i) * nb * kQ8BlockBytes + 2;  // the int8 of block 0
    acc[i] = V::zero();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const int32_t* kt = s.kt + b * 8 * P * L;
    typename V::IVec isum[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) isum[i] = V::iset1(s.qc[(h * nr + r + i) * nb + b]);
#pragma GCC unroll 8
    for (int64_t e = 0; e < 8; ++e) {
      if (q8) {
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
          isum[i] =
              V::dot_q8(isum[i], kt + e * P * L, V::ibcast32(qb[i] + b * kQ8BlockBytes + 4 * e));
        }
      } else {
        const typename V::IVec kv = V::iload(kt + e * P * L);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
          isum[i] = V::dot_u8(isum[i], kv, V::ibcast32(qb[i] + b * kQ8BlockBytes + 4 * e));
        }
      }
    }
    const typename V::Vec dk = V::load(s.dk + b * L);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      acc[i] =
          V::fmadd(V::cvt(isum[i]), V::mul(dk, V::set1(s.qd[(h * nr + r + i) * nb + b])), acc[i]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) out[i] = acc[i];
}

// The value tile of a float V: rows [0, nk) at vh (token stride tok bytes) in f32.
template <class V>
static inline void quant_prep_values(const AttnTileJob& jb, const uint8_t* vh, int64_t nk,
                                     float* vf) {
  constexpr int64_t L = V::kLanes;
  const int64_t hd = jb.head_dim, tok = jb.v_token_bytes;
  for (int64_t j = 0; j < nk; ++j) {
    const uint8_t* row = vh + j * tok;
    float* dst = vf + j * hd;
    for (int64_t d = 0; d < hd; d += L) {
      if (jb.v_type == kKvF16) {
        V::store(dst + d, V::load_f16(row + 2 * d));
      } else if (jb.v_type == kKvBF16) {
        V::store(dst + d, V::load_bf16(row + 2 * d));
      } else {
        V::store(dst + d, V::load_f32(row + 4 * d));
      }
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

// The value tile for the integer P V (block-type V, scales gathered): the integers of each group
// of 4 keys transposed to 4 keys per dword (V::vt_q8 / vt_q4), negated for keys whose scale is
// negative (Q4_0's d = max / -8 often is), into s.vf's area as [nb][kLanes / 4][32] dwords.
// Keys at s.voff (past nk, key nk - 1 again: their weights are 0).
template <class V>
static inline void quant_prep_values_int(const AttnTileJob& jb, const uint8_t* vh,
                                         const QuantScratch& s) {
  constexpr int64_t L = V::kLanes, G = V::kLanes / 4;
  const int64_t nb = jb.head_dim / kQkBlock;
  const bool q8 = jb.v_type == kKvQ8_0;
  const int64_t bb = q8 ? kQ8BlockBytes : kQ4BlockBytes;
  auto* vt = reinterpret_cast<int32_t*>(s.vf);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = vh + b * bb;
    // The scales' signs, one byte per key: group g's 4 keys in dword g.
    uint8_t sg[L];
    V::sign_bytes(s.vdh + b * L, sg);
    int32_t neg[G];
    __builtin_memcpy(neg, sg, sizeof neg);
    for (int64_t g = 0; g < G; ++g) {
      const uint8_t* rows[4];
      for (int64_t k = 0; k < 4; ++k) {
        const int64_t j = 4 * g + k;
        rows[k] = blk + s.voff[j] + 2;
      }
      int32_t* out = vt + (b * G + g) * 32;
      if (q8) {
        V::vt_q8(rows, neg[g], out);
      } else {
        V::vt_q4(rows, neg[g], out);
      }
    }
  }
}

// Digits of the weights: two for a Q8_0 V, one for a Q4_0 V, whose 16 levels per block dwarf an
// 8-bit weight's rounding (the header).
static inline int quant_digits(const AttnTileJob& jb) { return jb.v_type == kKvQ8_0 ? 2 : 1; }

// The weights' largest value: B^digits - 1.
template <class V>
static inline float quant_top(int digits) {
  return digits == 2 ? float((V::kPMax + 1) * (V::kPMax + 1) - 1) : float(V::kPMax);
}

// The value tile's scale magnitudes relative to their max per block (cv, dsc), after the
// transposes (as quant_keys_scales).
template <class V>
static inline void quant_values_scales(const AttnTileJob& jb, const QuantScratch& s) {
  constexpr int64_t L = V::kLanes;
  const float kTop = quant_top<V>(quant_digits(jb));
  for (int64_t b = 0; b < jb.head_dim / kQkBlock; ++b) {
    const typename V::Vec d = V::abs(V::load_f16(reinterpret_cast<const uint8_t*>(s.vdh + b * L)));
    const float dmax = V::hmax(d);
    V::store(s.cv + b * L, V::mul(d, V::set1(dmax > 0.0f ? kTop / dmax : 0.0f)));
    s.dsc[b] = dmax / kTop;
  }
}

// isum[r][:] += sum over the tile's key groups of one digit of row r's weights (pq rows
// row_stride bytes apart) x the transposed values vt.
template <class V, int R>
static inline void quant_mix_digit(const uint8_t* pq, int64_t row_stride, const int32_t* vt,
                                   typename V::IVec (&isum)[R][32 / V::kLanes]) {
  constexpr int64_t G = V::kLanes / 4, H = 32 / V::kLanes;
#pragma GCC unroll 8
  for (int64_t g = 0; g < G; ++g) {
    typename V::IVec pw[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) pw[r] = V::ibcast32(pq + r * row_stride + 4 * g);
#pragma GCC unroll 8
    for (int c = 0; c < H; ++c) {
      const typename V::IVec vv = V::iload(vt + g * 32 + c * V::kLanes);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) isum[r][c] = V::dot_pv(isum[r][c], pw[r], vv);
    }
  }
}

// Rows [r0, r0 + R) of one head, block b: acc = alpha acc + psc x sum_j c_jb w_jbd, the
// integer sums over the tile's L / 4 key groups (dims in V::vt_dim order).
template <class V, int D, int R>
static inline void quant_mix_int_block(const QuantScratch& s, const float* alpha, int64_t nb,
                                       int64_t b, int64_t r0, int64_t hd, float* acc) {
  constexpr int64_t L = V::kLanes, G = V::kLanes / 4, H = 32 / V::kLanes;
  const auto* vt = reinterpret_cast<const int32_t*>(s.vf) + b * G * 32;
  typename V::IVec isum[R][H];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int c = 0; c < H; ++c) isum[r][c] = V::iset1(0);
  }
  // D digits per weight (the header's c_jb): the high digits' sums, shifted, then the low
  // digits'.
  quant_mix_digit<V, R>(s.pq + ((r0 * nb + b) * 2) * L, nb * 2 * L, vt, isum);
  if constexpr (D == 2) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int c = 0; c < H; ++c) isum[r][c] = V::ishl_digit(isum[r][c]);
    }
    quant_mix_digit<V, R>(s.pq + ((r0 * nb + b) * 2 + 1) * L, nb * 2 * L, vt, isum);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* o = acc + (r0 + r) * hd + b * kQkBlock;
    const typename V::Vec a = V::set1(alpha[r0 + r]), sc = V::set1(s.psc[(r0 + r) * nb + b]);
#pragma GCC unroll 8
    for (int c = 0; c < H; ++c) {
      V::store(o + c * L, V::fmadd(V::cvt(isum[r][c]), sc, V::mul(a, V::load(o + c * L))));
    }
  }
}

// Rows [r0, nr) of one head through quant_mix_int_block, V::kPvRows rows at a time.
template <class V, int D, int R = V::kPvRows>
static inline void quant_mix_int_rows(const QuantScratch& s, const float* alpha, int64_t nb,
                                      int64_t b, int64_t r, int64_t n, int64_t hd, float* acc) {
  for (; n >= R; n -= R, r += R) quant_mix_int_block<V, D, R>(s, alpha, nb, b, r, hd, acc);
  if constexpr (R > 1) {
    if (n > 0) quant_mix_int_rows<V, D, R - 1>(s, alpha, nb, b, r, n, hd, acc);
  }
}

// acc rows of the job back from V::vt_dim's order to dims in order.
template <class V>
static inline void quant_unpermute(float* acc, int64_t rows, int64_t hd) {
  float tmp[kQkBlock];
  for (int64_t i = 0; i < rows * hd; i += kQkBlock) {
    for (int64_t p = 0; p < kQkBlock; ++p) tmp[V::vt_dim(p)] = acc[i + p];
    for (int64_t p = 0; p < kQkBlock; ++p) acc[i + p] = tmp[p];
  }
}

// Row r of head h, tile at key jt (nk keys): mask the scores x to the keys the row sees, then
// the online softmax: m_new = max(m, tile max mt), acc and l scaled by alpha = 2^(m - m_new) (0
// on the first tile, where m = -inf and acc = 0), weights 2^(s - m_new). Integer P V: the
// weights relative to the tile's largest, quantized per block (the header's c_jb), with their
// scales.
template <class V>
static inline void quant_softmax_row(const AttnTileJob& jb, const QuantScratch& s, int64_t h,
                                     int64_t r, int64_t jt, int64_t nk, typename V::Vec x,
                                     bool vint) {
  constexpr int64_t L = V::kLanes;
  const int64_t nb = jb.head_dim / kQkBlock;
  float* m = jb.m + h * jb.n_rows + r;
  float* l = jb.l + h * jb.n_rows + r;
  int64_t nv = jb.pos0 + r / jb.group + 1 - jt;  // >= 1 for a live row
  nv = nv < nk ? nv : nk;
  x = V::mask_keys(x, nv);
  const float mt = V::hmax(x);
  const float m_new = mt > *m ? mt : *m;  // alpha's exp2 only when the max moves (rarely)
  const float a = m_new > *m ? V::exp2_1(*m - m_new) : 1.0f;
  s.alpha[r] = a;
  *m = m_new;
  const typename V::Vec w = V::zero_above(V::exp2(V::sub(x, V::set1(m_new))), nv);
  *l = *l * a + V::hsum(w);
  if (vint) {
    // The largest weight 2^(mt - m_new) is w's max lane (the same exp2 of the same argument);
    // u = w / pt meets the per-block factors cv. A tile whose weights are all below 1e-30 of
    // the row's largest so far adds nothing visible and is skipped (1 / pt stays finite).
    const float pt = V::hmax(w);
    const bool two = quant_digits(jb) == 2;
    const typename V::Vec u = V::mul(w, V::set1(pt > 1e-30f ? 1.0f / pt : 0.0f));
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* pq = s.pq + (r * nb + b) * 2 * L;
      const typename V::Vec c = V::mul(u, V::load(s.cv + b * L));
      if (two) {
        V::pack_digits(c, pq, pq + L);
      } else {
        V::pack_u8(c, pq);
      }
      s.psc[r * nb + b] = pt * s.dsc[b];
    }
    return;
  }
  V::store(s.p + r * L, w);
}

// Rows [r, r + n) of head h against the prepared tile: scores (a block-type K R rows at a time)
// and the softmax of each.
template <class V, int R = V::kPvRows>
static inline void quant_rows(const AttnTileJob& jb, const QuantScratch& s, int64_t h, int64_t r,
                              int64_t n, int64_t jt, int64_t nk, bool vint) {
  const bool kblock = kv_code_is_block(jb.k_type);
  for (; n >= R; n -= R, r += R) {
    typename V::Vec x[R];
    if (kblock) {
      quant_scores_block<V, R>(jb, s, h, r, x);
    } else {
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) x[i] = quant_scores<V>(jb, s, h, r + i, nk);
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) quant_softmax_row<V>(jb, s, h, r + i, jt, nk, x[i], vint);
  }
  if constexpr (R > 1) {
    if (n > 0) quant_rows<V, R - 1>(jb, s, h, r, n, jt, nk, vint);
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
  const bool vint = kv_code_is_block(jb.v_type), two_digits = quant_digits(jb) == 2;
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
    for (int64_t j = 0; j < L; ++j) {
      s.koff[j] = (j < nk ? j : nk - 1) * jb.k_token_bytes;
      s.voff[j] = (j < nk ? j : nk - 1) * jb.v_token_bytes;
    }
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
      // 2. Key (and block-type value) tile, then per live row: scores and the online softmax.
      quant_gather_scales<V>(jb, kh, vh, s);
      quant_prep_keys<V>(jb, kh, nk, s);
      if (vint) quant_prep_values_int<V>(jb, vh, s);
      quant_keys_scales<V>(jb, s);
      if (vint) quant_values_scales<V>(jb, s);
      quant_rows<V>(jb, s, h, r0, nr - r0, jt, nk, vint);
      // 3. acc = alpha acc + P V for the live rows: integer (block-type V) or the value tile in
      //    f32.
      float* acc = jb.acc + h * nr * hd;
      if (vint) {
        for (int64_t b = 0; b < nb; ++b) {
          if (two_digits) {
            quant_mix_int_rows<V, 2>(s, s.alpha, nb, b, r0, nr - r0, hd, acc);
          } else {
            quant_mix_int_rows<V, 1>(s, s.alpha, nb, b, r0, nr - r0, hd, acc);
          }
        }
        continue;
      }
      quant_prep_values<V>(jb, vh, nk, s.vf);
      quant_mix<V>(s.p, s.alpha, s.vf, hd, nk, r0, nr, acc);
    }
  }
  if (vint) quant_unpermute<V>(jb.acc, nh * nr, hd);
}

}  // namespace
}  // namespace longctx::cpu
