// Scalar reference attention for a block of queries over a KV sequence: grouped-query heads,
// causal mask, scale 1/sqrt(head_dim), K and V stored as f32, f16, bf16 or in the Q8_0 / Q4_0
// blocks of a quantized KV cache. Scores are materialised per (query, head): this is the oracle,
// not the fast path.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "quant/types.h"

namespace longctx::ref {

struct AttentionShape {
  int64_t n_head = 0;     // query heads
  int64_t n_head_kv = 0;  // key/value heads; n_head % n_head_kv == 0 (GQA group n_head/n_head_kv)
  int64_t head_dim = 0;
};

// K or V of n_kv tokens at positions 0..n_kv-1: [n_kv][n_head_kv][head_dim] elements of `type`
// (F32, F16, BF16, or Q8_0 / Q4_0: each head's row of head_dim elements is head_dim / 32 blocks),
// contiguous, any alignment.
struct KvView {
  TensorType type = TensorType::F32;
  const void* data = nullptr;
  int64_t n_kv = 0;
};

struct AttentionParams {
  AttentionShape shape;
  int64_t q_pos0 = 0;  // position of query 0 in the KV sequence; query t sits at q_pos0 + t
  float scale = 0.0f;  // score scale; 0 = 1/sqrt(head_dim)
};

// For each query t and head h, with kv head g = h / (n_head / n_head_kv) (HF's repeat_kv order)
// and visible keys j <= q_pos0 + t (causal):
//   p_j = softmax_j(scale * q[t][h] . k[j][g]),   out[t][h] = sum_j p_j * v[j][g].
// q[n_q][n_head][head_dim], out[n_q][n_head][head_dim]. Needs q_pos0 + n_q <= n_kv.
// With K in a block type (Q8_0, Q4_0) the product q . k_j is that of the integer kernels: each
// head's q row is quantized to Q8_0 blocks (d_q, q8) first, and
//   q . k_j = sum over blocks b of d_q[b] d_k[b] sum_{i in b} q8_i k_i   (k_i the block's integers),
// exact in double; V in a block type is dequantized exactly (d * q is exact in fp32).
Status attention(const AttentionParams& params, const float* q, int64_t n_q, const KvView& k,
                 const KvView& v, float* out);

// True for the K/V element types attention reads: F32, F16, BF16, Q8_0, Q4_0.
bool is_kv_type(TensorType t);
// True for the block types among them (Q8_0, Q4_0): head_dim must be a multiple of 32.
bool is_quantized_kv_type(TensorType t);

}  // namespace longctx::ref
