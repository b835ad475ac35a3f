// The blocks Qwen-family layers are built from: pre-norm attention (with per-head q/k RMSNorm for
// Qwen3, or q/k/v biases for Qwen2), the dense SwiGLU FFN and the Mixture-of-Experts FFN. Each
// adds its output to the residual stream ctx.s->x.
#pragma once

#include "model/forward.h"

namespace longctx::blocks {

struct AttentionVariant {
  bool qk_norm = false;   // Qwen3: RMSNorm each q and k head over head_dim before RoPE
  bool qkv_bias = false;  // Qwen2: biases on the q, k and v projections
};

// x += W_o · attention(rope(q), rope(k), v) with q, k, v projected from rms_norm(x); stores
// this chunk's k and v in the cache first.
void attention(ForwardContext& ctx, int64_t il, const AttentionVariant& variant);

// x += W_down · (silu(W_gate · h) * (W_up · h)), h = rms_norm(x).
void ffn_swiglu(ForwardContext& ctx, int64_t il);

// x += sum over the chosen experts e of w_e · expert_e(h), h = rms_norm(x): router softmax over
// all experts, top-k (k = ctx.n_expert_used), renormalised when norm_topk_prob. Tokens of the
// chunk are grouped by expert so each expert's weights are read once per chunk.
void ffn_moe(ForwardContext& ctx, int64_t il);

}  // namespace longctx::blocks
